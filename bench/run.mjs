#!/usr/bin/env node
// `npm run bench`: runs every bench (BENCH=name1,name2 to choose) and assembles bench/RESULTS.md from
// the sections in bench/results/ (sections of benches not run this time are kept from earlier runs).
// BENCH_NODE=24 (a release line, installed by scripts/node-line.sh) or BENCH_NODE=/path/to/node runs the
// benches on that Node: its sections go to bench/results/node-<line>/, its ratios join the table by Node
// line. (Not NODE=: npm sets NODE to the node running npm itself, for every script it runs.)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, log, machine, root } from './lib.mjs';

const asked = process.env.BENCH_NODE;
const other = asked && !process.env.BENCH_LINE ? (/^\d+$/.test(asked) ? execFileSync(join(root, 'scripts', 'node-line.sh'), [asked], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim() : asked) : null;
if (other !== null && realpathSync(other) !== realpathSync(process.execPath)) {
  const bin = other;
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  log(`running the benches on Node ${version} (${bin})`);
  // --expose-internals: the parser bench's llhttp baseline is an internal binding on Node 22 and later.
  const r = spawnSync(bin, ['--expose-internals', process.argv[1], ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, BENCH_LINE: version } });
  process.exit(r.status ?? 1);
}

const BENCHES = {
  'http1-parser': async () => (await import('./http1-parser.mjs')).runParserBench(),
  'http1-load': async () => (await import('./http1-load.mjs')).runHttp1LoadBench(),
  router: async () => (await import('./router.mjs')).runRouterBench(),
  ws: async () => (await import('./ws.mjs')).runWsBench(),
  hpack: async () => (await import('./hpack.mjs')).runHpackBench(),
  http2: async () => (await import('./http2.mjs')).runHttp2Bench(),
  app: async () => (await import('./app.mjs')).runAppBench(),
  serializer: async () => (await import('./serializer.mjs')).runSerializerBench(),
  db: async () => (await import('./db.mjs')).runDbBench(),
  orm: async () => (await import('./orm.mjs')).runOrmBench(),
  'pglite-start': async () => (await import('./pglite-start.mjs')).runPgliteStartBench(),
  totp: async () => (await import('./totp.mjs')).runTotpBench(),
  sanitize: async () => (await import('./sanitize.mjs')).runSanitizeBench(),
  grpc: async () => (await import('./grpc.mjs')).runGrpcBench(),
  h3: async () => (await import('./h3.mjs')).runH3Bench(),
  'h3-cc': async () => (await import('./h3-cc.mjs')).runH3CongestionBench(),
  auth: async () => (await import('./auth.mjs')).runAuthBench(),
  cache: async () => (await import('./cache.mjs')).runCacheBench(),
  realtime: async () => (await import('./realtime.mjs')).runRealtimeBench(),
  'dev-reload': async () => (await import('./dev-reload.mjs')).runDevReloadBench(),
  jobs: async () => (await import('./jobs.mjs')).runJobsBench(),
  tracing: async () => (await import('./tracing.mjs')).runTracingBench(),
  graphql: async () => (await import('./graphql.mjs')).runGraphqlBench(),
  seams: async () => (await import('./seams.mjs')).runSeamsBench(),
};
const only = process.env.BENCH?.split(',');
for (const [name, run] of Object.entries(BENCHES)) {
  if (only && !only.includes(name)) continue;
  log(`== ${name}`);
  await run();
}
const dir = join(benchDir, 'results');
const sections = readdirSync(dir)
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => readFileSync(join(dir, f), 'utf8').trim());
writeFileSync(
  join(benchDir, 'RESULTS.md'),
  `# Benchmark results\n\nLast run: ${new Date().toISOString().slice(0, 10)} on ${machine()}.\n` +
    `Produced by \`npm run bench\` (sections: bench/results/*.md). Numbers are from one run on a shared VM and move by ±10%; compare ratios within a table, not across runs.\n\n` +
    `${linesTable()}${sections.join('\n\n')}\n`,
);
log('wrote bench/RESULTS.md');

/** Ratios by Node line, side by side, from bench/results/lines/node-<line>.json (see recordRatios). */
function linesTable() {
  const ldir = join(dir, 'lines');
  if (!existsSync(ldir)) return '';
  const lines = readdirSync(ldir)
    .filter((f) => /^node-\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(ldir, f), 'utf8')))
    .sort((a, b) => parseInt(a.node.slice(1)) - parseInt(b.node.slice(1)));
  if (lines.length === 0) return '';
  const labels = [];
  for (const l of lines) for (const [k, v] of Object.entries(l)) if (k !== 'node') for (const label of Object.keys(v.ratios)) if (!labels.includes(label)) labels.push(label);
  const get = (l, label) => {
    for (const [k, v] of Object.entries(l)) if (k !== 'node' && label in v.ratios) return v.ratios[label];
    return undefined;
  };
  const first = lines[0];
  const head = ['ours ÷ peer', ...lines.map((l) => `Node ${l.node}`), ...(lines.length > 1 ? ['change'] : [])];
  const rows = labels.map((label) => {
    const vals = lines.map((l) => get(l, label));
    const cells = vals.map((v) => (v === undefined ? '–' : label.includes('share') ? `${(v * 100).toFixed(0)}%` : `${v.toFixed(2)}×`));
    if (lines.length > 1) {
      const a = vals[0];
      const b = vals[vals.length - 1];
      const change = a === undefined || b === undefined ? '–' : `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(0)}%`;
      cells.push(a !== undefined && b !== undefined && Math.abs(b - a) / a > 0.1 ? `**${change}**` : change);
    }
    return [label, ...cells];
  });
  const dates = lines.map((l) => `Node ${l.node}: ${[...new Set(Object.entries(l).filter(([k]) => k !== 'node').map(([, v]) => v.date))].join(', ')}`).join('; ');
  return (
    `## Ratios by Node line\n\n` +
    `The headline ratios of the load benches, each measured against its peers in the same run on that Node (\`BENCH_NODE=24 npm run bench\`; ` +
    `full tables of a line other than ${first.node}'s: bench/results/node-<line>/). "change" compares the last line with the first; ` +
    `changes over 10% are in bold and discussed below the table when known. Runs: ${dates}.\n\n` +
    `| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n\n` +
    (existsSync(join(ldir, 'NOTES.md')) ? `${readFileSync(join(ldir, 'NOTES.md'), 'utf8').trim()}\n\n` : '')
  );
}
