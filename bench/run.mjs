#!/usr/bin/env node
// `npm run bench`: runs every bench (BENCH=name1,name2 to choose) and assembles bench/RESULTS.md from
// the sections in bench/results/ (sections of benches not run this time are kept from earlier runs).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, log, machine } from './lib.mjs';

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
  auth: async () => (await import('./auth.mjs')).runAuthBench(),
  cache: async () => (await import('./cache.mjs')).runCacheBench(),
  realtime: async () => (await import('./realtime.mjs')).runRealtimeBench(),
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
    `${sections.join('\n\n')}\n`,
);
log('wrote bench/RESULTS.md');
