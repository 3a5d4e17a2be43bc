// Dev-loop bench: time from saving a file to the changed route answering, as the user sees it (a client
// polls the route every 5 ms). The starter app (`covet new`, installed from the packed tarball) under
// `covet dev`, `node --watch` and `tsx watch`, each keeping its data on disk (PGlite in a folder, so a
// reload keeps data as `covet dev` does); and the repository's example app under `covet dev`.
// TypeScript needs Node ≥ 22.15: on an older Node the runs use Node 24 (scripts/node-line.sh).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, cpSync, symlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, log, root, table, writeSection, median } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const tsNode = (() => {
  const [maj, min] = process.versions.node.split('.').map(Number);
  if (maj > 22 || (maj === 22 && min >= 15)) return process.execPath;
  return execFileSync(join(root, 'scripts', 'node-line.sh'), ['24'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
})();
const nodeVersion = execFileSync(tsNode, ['--version'], { encoding: 'utf8' }).trim();
const env = { ...process.env, PATH: `${join(tsNode, '..')}:${process.env.PATH}`, NODE_ENV: 'development' };
delete env.DATABASE_URL;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))];

/** Starts `cmd`, waits until GET /__v answers, then edits the file `ROUNDS` times and times each change. */
async function measure(label, cmd, args, cwd, file, marker, extraEnv = {}) {
  const port = 21_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(cmd, args, { cwd, env: { ...env, PORT: String(port), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const original = readFileSync(file, 'utf8');
  const withRoute = (v) => original.replace(marker, `app.get('/__v', () => ({ v: ${v} }));\n${marker}`);
  const version = async () => {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/__v`);
      return r.status === 200 ? (await r.json()).v : null;
    } catch {
      return null;
    }
  };
  const times = [];
  try {
    writeFileSync(file, withRoute(0));
    const t0 = Date.now();
    while ((await version()) !== 0) {
      if (Date.now() - t0 > 90_000) throw new Error(`${label}: did not start within 90 s:\n${out}`);
      await sleep(20);
    }
    await sleep(500);
    for (let i = 1; i <= ROUNDS; i++) {
      const t = performance.now();
      writeFileSync(file, withRoute(i));
      while ((await version()) !== i) {
        if (performance.now() - t > 30_000) throw new Error(`${label}: change ${i} not served within 30 s:\n${out.slice(-2000)}`);
        await sleep(5);
      }
      times.push(performance.now() - t);
      await sleep(300); // let the old generation go before the next save
    }
  } finally {
    writeFileSync(file, original);
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }
  log(`${label}: median ${median(times).toFixed(0)} ms, p90 ${p90(times).toFixed(0)} ms`);
  return times;
}

export async function runDevReloadBench() {
  const work = join(benchDir, '.tmp', 'dev-reload');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  log('packing covet and installing the starter (covet new)');
  const tgz = JSON.parse(execFileSync('npm', ['pack', '--pack-destination', work, '--json'], { cwd: root, encoding: 'utf8' }))[0].filename;
  execFileSync(process.execPath, [join(root, 'dist/lib/cli/main.js'), 'new', 'starter'], { cwd: work });
  const starter = join(work, 'starter');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', join(work, tgz)], { cwd: starter, env, stdio: 'ignore' });
  const cli = join(starter, 'node_modules/covet/dist/lib/cli/main.js');
  const tsx = join(benchDir, 'node_modules/tsx/dist/cli.mjs');
  const appFile = join(starter, 'src/app.ts');
  const marker = 'export default app;';
  const rows = [];
  const run = async (label, cmd, args, extraEnv) => {
    const t = await measure(label, cmd, args, starter, appFile, marker, extraEnv);
    rows.push([label, `${median(t).toFixed(0)} ms`, `${p90(t).toFixed(0)} ms`]);
    return median(t);
  };
  const ours = await run('covet dev', tsNode, [cli, 'dev']);
  // The same under the load of one other process: a busy loop on the bench's core (it inherits the
  // affinity `npm run bench` gives), as a build or a browser tab would compete on a newcomer's machine.
  const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  let loaded;
  try {
    loaded = await run('covet dev, one busy process beside it', tsNode, [cli, 'dev']);
  } finally {
    busy.kill('SIGKILL');
  }
  const nodeWatch = await run('node --watch (Node type stripping)', tsNode, ['--watch', 'src/server.ts'], { DATABASE_URL: `pglite://${join(starter, '.covet', 'watch-db')}` });
  const tsxWatch = existsSync(tsx) ? await run('tsx watch', tsNode, [tsx, 'watch', 'src/server.ts'], { DATABASE_URL: `pglite://${join(starter, '.covet', 'tsx-db')}` }) : null;

  // The repository's example (examples/notes.ts), its imports the TypeScript sources of lib/: copied, so the
  // bench never edits the checkout.
  const repo = join(work, 'repo');
  cpSync(join(root, 'lib'), join(repo, 'lib'), { recursive: true });
  cpSync(join(root, 'examples'), join(repo, 'examples'), { recursive: true });
  writeFileSync(join(repo, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(root, 'node_modules'), join(repo, 'node_modules'));
  const example = await measure('covet dev, examples/notes.ts', tsNode, [join(root, 'dist/lib/cli/main.js'), 'dev', 'examples/notes.ts'], repo, join(repo, 'examples/notes.ts'), 'export { app };');
  rows.push(['covet dev, the example app (examples/notes.ts, 130 TypeScript modules of lib/)', `${median(example).toFixed(0)} ms`, `${p90(example).toFixed(0)} ms`]);

  writeSection(
    '97-dev-reload',
    `## Dev loop: save → the changed route answers (${ROUNDS} saves each, ${nodeVersion})\n\n` +
      'The starter app (`covet new`: PGlite, one table, CRUD routes), data kept on disk by each runner. `covet dev` keeps the port and the database in its own process and has the next generation loaded before the save; `node --watch` and `tsx watch` restart the whole process (opening PGlite again each time).\n\n' +
      table(['runner', 'median', 'p90'], rows) +
      `\n\ncovet dev is ${(nodeWatch / ours).toFixed(1)}× faster than node --watch${tsxWatch === null ? '' : ` and ${(tsxWatch / ours).toFixed(1)}× faster than tsx watch`} here; with one busy process beside it a reload takes ${(loaded / ours).toFixed(1)}× as long (${loaded.toFixed(0)} ms).`,
  );
  rmSync(work, { recursive: true, force: true });
}

if (import.meta.url === `file://${process.argv[1]}`) await runDevReloadBench();
