/**
 * Tests run the sources. Test files import `lib/` directly; the few that start child processes (workers,
 * clustered servers, the CLI, the example app) run the JavaScript build, so before any test runs, `dist/`
 * is rebuilt when a source is newer than it — a change to `lib/` is seen by every test without a manual
 * build, whether the suite runs through `npm test` (which builds first) or `npx vitest run <file>`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (/\.(ts|mjs|json)$/.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

export default function setup(): void {
  const built = join(root, 'dist', 'lib', 'index.js');
  const sources = Math.max(newest(join(root, 'lib')), newest(join(root, 'examples')), statSync(join(root, 'tsconfig.build.json')).mtimeMs);
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  process.stdout.write('test setup: sources changed since the last build — building dist/ for the tests that run child processes\n');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}
