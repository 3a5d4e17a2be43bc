/**
 * System programs some tests talk to (Chromium, nghttp, h2load). On a fresh machine they may be absent:
 * there the test says so loudly — what is missing and the one command that installs it — and is not run,
 * so `npm install && npm test` passes. Under CI (`CI=true`, as `.ci/run` sets) they are mandatory: `.ci/run`
 * installs them, and a missing one fails the test.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'vitest';

export interface Peer {
  /** What the tests call it. */
  name: string;
  /** Absolute path, or a command looked up on PATH. */
  command: string;
  /** The command that installs it (Debian). */
  install: string;
  /** Beyond the command being there: whether it has what the tests need (a Python module, say). */
  probe?: () => boolean;
}

export const CHROMIUM: Peer = { name: 'Chromium', command: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', install: 'apt-get install -y chromium' };
export const NGHTTP: Peer = { name: 'nghttp', command: 'nghttp', install: 'apt-get install -y nghttp2-client' };
export const H2LOAD: Peer = { name: 'h2load', command: 'h2load', install: 'apt-get install -y nghttp2-client' };
export const NGTCP2_CLIENT: Peer = { name: 'ngtcp2 client (gtlsclient)', command: 'gtlsclient', install: 'apt-get install -y ngtcp2-client' };
/** Debian's Python with grpcio and grpc_tools (the system interpreter: a pyenv one would not see them). */
export const PYTHON_GRPC: Peer = {
  name: 'Python grpcio',
  command: '/usr/bin/python3',
  install: 'apt-get install -y python3-grpcio python3-grpc-tools',
  probe: () => spawnSync('/usr/bin/python3', ['-c', 'import grpc, grpc_tools.protoc'], { stdio: 'ignore' }).status === 0,
};

function found(command: string): boolean {
  const candidates = command.includes('/') ? [command] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, command));
  return candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Call first in a test that needs `peers`: returns when they are all there; otherwise fails under CI, or
 * prints what is missing and skips the test (vitest reports it as skipped).
 */
export function needPeers(ctx: TestContext, ...peers: Peer[]): void {
  const missing = peers.filter((p) => !found(p.command) || (p.probe !== undefined && !p.probe()));
  if (missing.length === 0) return;
  const what = missing.map((p) => `${p.name} (${p.command}): ${p.install}`).join('; ');
  if (process.env.CI === 'true') throw new Error(`missing system peer under CI — ${what}`);
  const note = `NOT RUN: "${ctx.task.name}" needs ${what}`;
  console.warn(`\n*** ${note} ***\n`);
  ctx.skip(note);
}
