// The framework under wrk: the same app in covet/app and Fastify (hello, a JSON route with a typed param
// + query validation + one middleware, a 404), and covet/app's hello world against the bare covet http1
// server to show what the app layer costs. Server on CPU 0, wrk -t1 -c64 on CPU 1.
import { fmt, log, startServer, table, wrk, writeSection, ensureCommand } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUTES = { hello: '/', 'JSON route': '/users/42?limit=5&fields=name', 'not found (404)': '/no/such/route' };

async function measure(script, paths) {
  const s = await startServer(script);
  try {
    const out = {};
    for (const [name, path] of Object.entries(paths)) {
      wrk(s.port, { seconds: 2, path }); // warm-up
      out[name] = wrk(s.port, { seconds: SECONDS, path });
      log(`  ${script} ${name}: ${fmt(out[name].rps)} req/s ${out[name].errors}`);
    }
    return out;
  } finally {
    await s.stop();
  }
}

/** Median per route over rounds; servers alternate within each round so drift on a shared VM hits all alike. */
function median(runs) {
  const out = {};
  for (const route of Object.keys(runs[0])) {
    const xs = runs.map((r) => r[route].rps).sort((a, b) => a - b);
    out[route] = { rps: xs[Math.floor(xs.length / 2)] };
  }
  return out;
}

export async function runAppBench() {
  ensureCommand('wrk');
  const runs = { ours: [], fastify: [], bare: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    log(`  round ${round}/${ROUNDS}`);
    runs.ours.push(await measure('app-covet.mjs', ROUTES));
    runs.fastify.push(await measure('app-fastify.mjs', ROUTES));
    runs.bare.push(await measure('http1-hello.mjs', { hello: '/' }));
  }
  const ours = median(runs.ours);
  const fastify = median(runs.fastify);
  const bare = median(runs.bare);
  const rows = Object.keys(ROUTES).map((r) => [r, fmt(ours[r].rps), fmt(fastify[r].rps), `${(ours[r].rps / fastify[r].rps).toFixed(2)}×`]);
  writeSection(
    '70-app',
    `## covet/app vs Fastify (requests/s; server on CPU 0, wrk -t1 -c64 on CPU 1, ${SECONDS} s each, median of ${ROUNDS} interleaved rounds)\n\n` +
      `Same routes in both (bench/servers/app-*.mjs): a middleware/onRequest hook setting a header on every request; ` +
      `\`GET /users/{id:int}?limit&fields\` with params + query validation returning JSON (no response schema in either); a 404. ` +
      `404 answers differ in body (ours: problem+json) but not in work.\n\n` +
      table(['route', 'covet/app', 'fastify', 'ratio'], rows) +
      `\n\nTarget: ≥ 1.5× Fastify on the JSON route.\n\n` +
      `### App-layer overhead (hello world)\n\n` +
      table(
        ['server', 'req/s', 'share of bare'],
        [
          ['covet http1 (bare)', fmt(bare.hello.rps), '100%'],
          ['covet/app (router + middleware + send)', fmt(ours.hello.rps), `${((ours.hello.rps / bare.hello.rps) * 100).toFixed(0)}%`],
        ],
      ) +
      `\n\nTarget: ≥ 80% of the bare server.`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runAppBench();
