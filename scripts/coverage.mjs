#!/usr/bin/env node
// `npm run coverage`: line and branch coverage of lib/ by the whole suite, child processes included (#28).
//
// Vitest measures the code its workers run (the TypeScript sources). Some behaviour is only exercised in
// child processes that tests start from the build — the `covet` command, workers, clustered servers, the
// example app, the starter app on the packed tarball — and Vitest cannot see those. So the suite runs with NODE_V8_COVERAGE set, every child
// writes its V8 coverage on exit, and the children's coverage of dist/lib/**.js is mapped back to
// lib/**.ts through source maps (a second build of the same sources, with maps, into coverage/build): an
// item Vitest saw unrun counts as run when a child ran the JavaScript its position maps to.
// Vitest's item maps stay the skeleton, so the totals are the same either way; only hits are added.
// Then the per-layer table (scripts/coverage-table.mjs; `--check` fails under #28's bar).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generatedPositionFor, LEAST_UPPER_BOUND, TraceMap } from '@jridgewell/trace-mapping';
import libCoverage from 'istanbul-lib-coverage';

const root = join(import.meta.dirname, '..');
const out = join(root, 'coverage');
const raw = join(out, 'v8-children');
const build = join(out, 'build');
const passThrough = process.argv.slice(2).filter((a) => a !== '--check' && a !== '--merge-only');
// --merge-only: redo the mapping and the table from the last run's files (for work on this script).
const mergeOnly = process.argv.includes('--merge-only');

if (!mergeOnly) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(raw, { recursive: true });
}

const vitest = mergeOnly ? { status: 0 } : spawnSync(
  join(root, 'node_modules/.bin/vitest'),
  ['run', '--coverage.enabled', '--coverage.provider=v8', "--coverage.include=lib/**/*.ts", '--coverage.reporter=json', '--coverage.reporter=text-summary', '--coverage.reportOnFailure', ...passThrough],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_V8_COVERAGE: raw } },
);
// A failing suite still gets its table (what ran is counted), and the script still fails.
const suiteFailed = vitest.status !== 0;

// The same build as dist/ (same compiler, same options) with source maps, so positions in dist/ map back.
const tsc = mergeOnly ? { status: 0 } : spawnSync(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--sourceMap', '--outDir', build], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const distLib = join(root, 'dist', 'lib') + '/';
// Every child's V8 ranges per built file, kept per child: V8 leaves out a block whose count equals its
// parent's, so counts are read in each child's own ranges (innermost range holding an offset), never in
// ranges merged across children.
/** dist/lib/**.js → one array of ranges (startOffset, endOffset, count) per child that loaded it. */
const ranges = new Map();
let dumps = 0;
for (const name of readdirSync(raw)) {
  let dump;
  try {
    dump = JSON.parse(readFileSync(join(raw, name), 'utf8'));
  } catch {
    continue; // a child killed while writing
  }
  let used = false;
  for (const script of dump.result) {
    if (!script.url.startsWith('file://')) continue;
    const file = fileURLToPath(script.url);
    // dist/lib/**.js, or the same file in a package installed from this build's tarball (the starter's tests
    // run `covet` from my-app/node_modules/covet).
    const rel = file.startsWith(distLib) ? file.slice(distLib.length) : /\/node_modules\/covet\/dist\/lib\/(.+)$/.exec(file)?.[1];
    if (rel === undefined || !rel.endsWith('.js')) continue;
    const path = join(distLib, rel);
    const flat = [];
    for (const fn of script.functions) for (const r of fn.ranges) flat.push(r.startOffset, r.endOffset, r.count);
    if (!ranges.has(path)) ranges.set(path, []);
    ranges.get(path).push(Int32Array.from(flat));
    used = true;
  }
  if (used) dumps++;
}

/** The count at a JavaScript offset in one child: that of the innermost range holding it. */
function countAt(flat, offset) {
  let best = -1;
  let size = Infinity;
  for (let i = 0; i < flat.length; i += 3) {
    if (flat[i] <= offset && offset < flat[i + 1] && flat[i + 1] - flat[i] < size) {
      size = flat[i + 1] - flat[i];
      best = flat[i + 2];
    }
  }
  return best;
}

const vitestMap = libCoverage.createCoverageMap(JSON.parse(readFileSync(join(out, 'coverage-final.json'), 'utf8')));
let added = 0;
for (const file of vitestMap.files()) {
  const rel = relative(root, file);
  if (!rel.startsWith('lib/') || !rel.endsWith('.ts')) continue;
  const js = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
  const runs = ranges.get(js);
  if (runs === undefined) continue;
  const mapFile = join(build, `${rel.replace(/\.ts$/, '.js')}.map`);
  const map = new TraceMap(JSON.parse(readFileSync(mapFile, 'utf8')), pathToFileURL(mapFile).href);
  const source = map.resolvedSources.find((s) => s.startsWith('file:') && fileURLToPath(s) === file);
  if (source === undefined) continue;
  const lineStarts = [0];
  const code = readFileSync(js, 'utf8');
  for (let i = 0; i < code.length; i++) if (code.charCodeAt(i) === 10) lineStarts.push(i + 1);
  /** Whether some child ran the code at a TypeScript position. */
  const ran = (pos) => {
    const g = generatedPositionFor(map, { source, line: pos.line, column: pos.column ?? 0, bias: LEAST_UPPER_BOUND });
    if (g.line === null) return false;
    const offset = lineStarts[g.line - 1] + g.column;
    return runs.some((flat) => countAt(flat, offset) > 0);
  };
  const own = vitestMap.fileCoverageFor(file).data;
  for (const [k, loc] of Object.entries(own.statementMap)) {
    if (own.s[k] === 0 && ran(loc.start)) (own.s[k] = 1), added++;
  }
  for (const [k, fn] of Object.entries(own.fnMap)) {
    // Just inside the function's end: the innermost range there is the function's own.
    if (own.f[k] === 0 && ran({ line: fn.loc.end.line, column: Math.max(0, (fn.loc.end.column ?? 1) - 1) })) (own.f[k] = 1), added++;
  }
  for (const [k, br] of Object.entries(own.branchMap)) {
    br.locations.forEach((loc, i) => {
      if (own.b[k][i] === 0 && loc.start.line !== undefined && ran(loc.start)) (own.b[k][i] = 1), added++;
    });
  }
}
writeFileSync(join(out, 'coverage-final.json'), JSON.stringify(vitestMap.toJSON()));

// The summary the table reads, in the json-summary reporter's shape.
const summary = { total: vitestMap.getCoverageSummary().toJSON() };
for (const file of vitestMap.files()) summary[file] = vitestMap.fileCoverageFor(file).toSummary().toJSON();
writeFileSync(join(out, 'coverage-summary.json'), JSON.stringify(summary));
console.log(`\ncoverage: ${dumps} child processes ran dist/lib (${ranges.size} files); they ran ${added} items Vitest saw unrun`);
const table = spawnSync(process.execPath, [join(root, 'scripts/coverage-table.mjs'), ...(process.argv.includes('--check') ? ['--check'] : [])], { cwd: root, stdio: 'inherit' });
if (suiteFailed) console.error('coverage: the suite failed (above); the table counts what ran');
process.exit(suiteFailed ? (vitest.status ?? 1) : (table.status ?? 1));
