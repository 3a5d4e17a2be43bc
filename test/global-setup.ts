/**
 * Tests run the sources. Test files import `lib/` directly; the few that start child processes (workers,
 * clustered servers, the CLI, the example app) run the JavaScript build, so before any test runs, `dist/`
 * is rebuilt when a source is newer than it — a change to `lib/` is seen by every test without a manual
 * build, whether the suite runs through `npm test` (which builds first) or `npx vitest run <file>`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
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
  // Mutation runs (scripts/mutate.mjs) test sources only, in a sandbox whose instrumented code does not compile.
  if (process.env.COVET_MUTATE_GROUP !== undefined) return;
  const built = join(root, 'dist', 'lib', 'index.js');
  const sources = Math.max(newest(join(root, 'lib')), newest(join(root, 'examples')), statSync(join(root, 'tsconfig.build.json')).mtimeMs);
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  process.stdout.write('test setup: sources changed since the last build — building dist/ for the tests that run child processes\n');
  // Built beside dist/ and swapped in: another test run in this checkout may have children running the
  // current dist/ (npm run build empties it first, and their imports failed for the seconds tsc takes).
  const next = join(root, `.dist-next-${process.pid}`);
  const old = join(root, `.dist-old-${process.pid}`);
  rmSync(next, { recursive: true, force: true });
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', next], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    execFileSync(process.execPath, [join(root, 'scripts', 'vendor-assets.mjs'), next], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (existsSync(join(root, 'dist'))) renameSync(join(root, 'dist'), old);
    renameSync(next, join(root, 'dist'));
  } finally {
    rmSync(next, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}
