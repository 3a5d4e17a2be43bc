#!/usr/bin/env node
// The gate against regressions (#34): the hot paths of this working tree (B) against a git ref (A), each
// side in a process of its own (bench/tools/compare-side.mjs), warmed, then paired and interleaved: each
// round times A, B, B, A back to back (B A A B in the next), and the verdict reads the per-round ratios
// B/A, so the machine's drift and the order cancel; the rounds are spread over fresh pairs of processes. A
// case is slower when B/A is above 1 + band in most rounds (bench/compare-verdict.mjs), and again in a
// second measure over more fresh pairs, judged by each pair's median; the script then exits 1. Measured noise and sensitivity: bench/results/98-compare.md.
//
//   node bench/compare.mjs                 # the work in progress against HEAD, or else HEAD's change to lib/
//                                          # (the newest commit that changed lib/ or wasm/) against its parent
//   node bench/compare.mjs --ref v0.3.0 --rounds 21 --band 0.1 --only router
//   node bench/compare.mjs --ref HEAD --control   # A against A: what the noise looks like
//   node bench/compare.mjs --pairs 3 --confirm-pairs 10   # the defaults: pairs of processes per measure
//
// Both sides are compiled from their sources into node_modules/.cache/covet-compare (dist/ is never
// touched, so a suite running from it is safe); a ref's build is kept by commit. Pin it to one core for
// steadier numbers: `taskset -c 1 node bench/compare.mjs`.
import { execFileSync, fork } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HOT_PATHS } from './tools/hot-paths.mjs';
import { DEFAULT_BAND, judge, quantile } from './compare-verdict.mjs';

const root = join(import.meta.dirname, '..');
const cache = join(root, 'node_modules/.cache/covet-compare');
const { values: opts } = parseArgs({
  options: {
    ref: { type: 'string' },
    rounds: { type: 'string', default: process.env.COMPARE_ROUNDS ?? '30' },
    pairs: { type: 'string', default: '3' },
    'confirm-pairs': { type: 'string', default: '10' },
    band: { type: 'string', default: String(DEFAULT_BAND) },
    'segment-ms': { type: 'string', default: '10' },
    'warm-ms': { type: 'string', default: '1500' },
    only: { type: 'string' },
    control: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const rounds = Number(opts.rounds);
const band = Number(opts.band);
const segmentMs = Number(opts['segment-ms']);
const warmMs = Number(opts['warm-ms']);
if (!(rounds >= 3) || !(band > 0) || !(segmentMs > 0)) throw new Error('--rounds ≥ 3, --band > 0 and --segment-ms > 0, please');

const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
const tsc = join(root, 'node_modules/.bin/tsc');

/**
 * The ref to compare against: HEAD while lib/ or wasm/ has uncommitted changes; else the parent of the
 * newest commit that changed them (in CI, the last change to the code the hot paths run).
 */
function defaultRef() {
  if (git('status', '--porcelain', '--', 'lib', 'wasm').length > 0) return 'HEAD';
  const last = git('log', '-1', '--format=%H', '--', 'lib', 'wasm');
  return `${last}~1`;
}

/**
 * Compiles lib/ and wasm/ under `srcRoot` into `out` (type checking off: the ref compiled when it was
 * committed, and the tree is checked by `tsc --noEmit`). The folder gets its own package.json, since
 * Node does not look past node_modules for a package's module type.
 */
function build(srcRoot, out) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const config = join(out, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(srcRoot, 'tsconfig.json'),
      compilerOptions: { noEmit: false, noCheck: true, declaration: false, sourceMap: false, rootDir: srcRoot, outDir: out, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] },
      include: [join(srcRoot, 'lib/**/*.ts'), join(srcRoot, 'wasm/**/*.ts')],
      exclude: ['**/*.test.ts'],
    }),
  );
  execFileSync(tsc, ['-p', config], { cwd: root, stdio: 'inherit' });
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
}

/** The ref's build, made once per commit: its sources from `git archive`, compiled like the tree. */
function buildRef(ref) {
  const sha = git('rev-parse', '--verify', `${ref}^{commit}`);
  const dir = join(cache, sha);
  const out = join(dir, 'dist');
  if (existsSync(join(out, '.complete'))) return { sha, out };
  rmSync(dir, { recursive: true, force: true });
  const src = join(dir, 'src');
  mkdirSync(src, { recursive: true });
  const paths = git('ls-tree', '--name-only', sha, '--', 'lib', 'wasm', 'tsconfig.json').split('\n').filter(Boolean);
  execFileSync('sh', ['-c', `git archive ${sha} ${paths.join(' ')} | tar -x -C "${src}"`], { cwd: root });
  build(src, out);
  writeFileSync(join(out, '.complete'), sha);
  return { sha, out };
}

const ref = opts.ref ?? defaultRef();
const a = buildRef(ref);
// The control is a second copy of A's build: separate modules, as two builds are.
const bOut = join(cache, opts.control ? 'control' : 'work');
if (opts.control) {
  rmSync(bOut, { recursive: true, force: true });
  cpSync(a.out, bOut, { recursive: true });
} else build(root, bOut);
const bName = opts.control ? `${ref} again (control)` : 'working tree';
console.log(`compare: A = ${ref} (${a.sha.slice(0, 10)}), B = ${bName}; ${rounds} rounds per case, band ±${(band * 100).toFixed(0)} %, Node ${process.version}`);

/** Rounds per pair of processes: a case runs in `pairs` fresh pairs, `rounds` rounds in all. */
const pairs = Math.min(rounds, Number(opts.pairs));
const confirmPairs = Math.min(rounds, Number(opts['confirm-pairs']));
if (!(pairs >= 1) || !(confirmPairs >= 3)) throw new Error('--pairs ≥ 1 and --confirm-pairs ≥ 3, please');

/**
 * Every side's young generation at one fixed size: V8 sizes it as a process runs, so two processes of one build
 * collected garbage at different rates — the serializer (~12 MB of garbage per segment) ran at ~245 ns per value
 * in one process and ~330 in the next, with spikes to 600; fixed, processes agree within a few %.
 */
const SIDE_FLAGS = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

/**
 * One side of a case in a process of its own: its own heap, JIT state and inline caches, so what one
 * build leaves behind (garbage, type feedback in shared built-ins) never lands on the other — measured:
 * two copies of one build in one process differed by up to 40 % on some cases. The parent pairs the two
 * processes' segments; each times its own.
 */
function sideProcess(dist, name) {
  const child = fork(join(import.meta.dirname, 'tools/compare-side.mjs'), [dist, name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: SIDE_FLAGS });
  const replies = [];
  const waiting = [];
  child.on('message', (m) => (waiting.length > 0 ? waiting.shift()(m) : replies.push(m)));
  const failed = new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`the ${name} process of ${dist} exited with ${code}`))));
  const next = () => Promise.race([new Promise((resolve) => (replies.length > 0 ? resolve(replies.shift()) : waiting.push(resolve))), failed]);
  return {
    async ask(msg) {
      child.send(msg);
      const m = await next();
      if (m.error !== undefined) throw new Error(m.error);
      return m;
    },
    close() {
      failed.catch(() => {});
      child.kill();
    },
  };
}

/**
 * One measure of a case in `pairs` fresh pairs of processes: `rounds` paired ratios B/A, the median ratio of
 * each pair, and each round's ns per operation of A and B.
 */
async function measure(name, pairs) {
  const ratios = [];
  const pairMedians = [];
  const ta = [];
  const tb = [];
  for (let p = 0; p < pairs; p++) {
    const A = sideProcess(a.out, name);
    const B = sideProcess(bOut, name);
    try {
      // One after the other: the two share the core they are pinned to.
      await A.ask({ cmd: 'ready', warmMs });
      await B.ask({ cmd: 'ready', warmMs });
      // Warm both, then size a segment to ~segmentMs on A.
      const { n } = await A.ask({ cmd: 'size', ms: segmentMs });
      await B.ask({ cmd: 'run', n });
      await A.ask({ cmd: 'run', n });
      const share = Math.floor(rounds / pairs) + (p < rounds % pairs ? 1 : 0);
      for (let r = 0; r < share; r++) {
        // A round is A B B A (B A A B in the next): going second costs something (the other process's
        // cache footprint), each side goes second once, so it cancels in the ratio.
        const [first, second] = r % 2 === 0 ? [A, B] : [B, A];
        const t1 = (await first.ask({ cmd: 'run', n })).ms;
        const t2 = (await second.ask({ cmd: 'run', n })).ms;
        const t3 = (await second.ask({ cmd: 'run', n })).ms;
        const t4 = (await first.ask({ cmd: 'run', n })).ms;
        const tA = r % 2 === 0 ? t1 + t4 : t2 + t3;
        const tB = r % 2 === 0 ? t2 + t3 : t1 + t4;
        ta.push((tA * 1e6) / (2 * n));
        tb.push((tB * 1e6) / (2 * n));
        ratios.push(tB / tA);
      }
      pairMedians.push(quantile(ratios.slice(-share), 0.5));
    } finally {
      A.close();
      B.close();
    }
  }
  return { ratios, pairMedians, ta, tb };
}

const rows = [];
let slower = 0;
for (const name of Object.keys(HOT_PATHS)) {
  if (opts.only !== undefined && !name.toLowerCase().includes(opts.only.toLowerCase())) continue;
  const { ratios, ta, tb } = await measure(name, pairs);
  const v = await judge(ratios, async () => (await measure(name, confirmPairs)).pairMedians, band);
  if (v.result === 'slower') slower++;
  const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  rows.push([name, med(ta).toFixed(0), med(tb).toFixed(0), v.median.toFixed(3), `${v.p25.toFixed(3)}–${v.p75.toFixed(3)}`, `${v.over}/${v.rounds}`, v.said]);
  console.log(`  ${name}: A ${med(ta).toFixed(0)} ns, B ${med(tb).toFixed(0)} ns per op; B/A median ${v.median.toFixed(3)} (p25–p75 ${v.p25.toFixed(3)}–${v.p75.toFixed(3)}), over the band in ${v.over}/${v.rounds} rounds: ${v.said}`);
}

const table = [
  '| hot path | A ns/op | B ns/op | B/A median | p25–p75 | rounds over band | verdict |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
if (opts.out !== undefined) writeFileSync(opts.out, `${table}\n`);
console.log(`\n${table}\n`);
if (slower > 0) {
  console.log(`compare: ${slower} hot path(s) slower than ${ref} beyond the ±${(band * 100).toFixed(0)} % band in most rounds`);
  process.exit(1);
}
console.log(`compare: no hot path slower than ${ref} beyond the band`);
