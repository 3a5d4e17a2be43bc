// The framework under wrk: the same app in covet/app and Fastify (hello, a JSON route with a typed param
// + query validation + one middleware, a 404), covet/app's hello world against the bare covet http1
// server (what the app layer costs), and uWebSockets.js's hello world as the ceiling of this machine.
// Two load shapes, server on CPU 0, wrk -t1 on CPU 1:
// - keep-alive: 64 connections, one request in flight on each (what browsers and most clients do);
// - pipelined: 100 connections, 10 requests in flight on each — Fastify's own benchmark method
//   (github.com/fastify/benchmarks: autocannon -c 100 -p 10), where the server's CPU, not loopback
//   latency and the kernel, sets the figure.
import { fmt, log, startServer, table, wrk, writeSection, ensureCommand } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5); // this VM's run-to-run spread is ±15 %: five rounds steady the median
const ROUTES = { hello: '/', 'JSON route': '/users/42?limit=5&fields=name', 'not found (404)': '/no/such/route' };
const SHAPES = { 'keep-alive': { connections: 64 }, pipelined: { connections: 100, pipeline: 10 } };

async function measure(script, paths) {
  const s = await startServer(script);
  try {
    const out = {};
    for (const [shape, opts] of Object.entries(SHAPES)) {
      for (const [name, path] of Object.entries(paths)) {
        wrk(s.port, { seconds: 1, path, ...opts }); // warm-up
        const r = wrk(s.port, { seconds: SECONDS, path, ...opts });
        out[`${shape} ${name}`] = r;
        log(`  ${script} ${shape} ${name}: ${fmt(r.rps)} req/s ${r.errors}`);
      }
    }
    return out;
  } finally {
    await s.stop();
  }
}

/** Median per route over rounds; servers alternate within each round so drift on a shared VM hits all alike. */
function median(runs) {
  const out = {};
  for (const key of Object.keys(runs[0])) {
    const xs = runs.map((r) => r[key].rps).sort((a, b) => a - b);
    out[key] = xs[Math.floor(xs.length / 2)];
  }
  return out;
}

export async function runAppBench() {
  ensureCommand('wrk');
  const runs = { ours: [], fastify: [], bare: [], uws: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    log(`  round ${round}/${ROUNDS}`);
    runs.ours.push(await measure('app-covet.mjs', ROUTES));
    runs.fastify.push(await measure('app-fastify.mjs', ROUTES));
    runs.bare.push(await measure('http1-hello.mjs', { hello: '/' }));
    runs.uws.push(await measure('uws-hello.mjs', { hello: '/' }));
  }
  const ours = median(runs.ours);
  const fastify = median(runs.fastify);
  const bare = median(runs.bare);
  const uws = median(runs.uws);
  const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
  const share = (a, b) => `${((a / b) * 100).toFixed(0)}%`;
  let md =
    `## covet/app vs Fastify (requests/s; server on CPU 0, wrk -t1 on CPU 1, ${SECONDS} s each, median of ${ROUNDS} interleaved rounds)\n\n` +
    `Same routes in both (bench/servers/app-*.mjs): a middleware/onRequest hook setting a header on every request; ` +
    `\`GET /users/{id:int}?limit&fields\` with params + query validation returning JSON (no response schema in either); a 404. ` +
    `404 answers differ in body (ours: problem+json) but not in work. Two load shapes: **keep-alive** (64 connections, one request ` +
    `in flight on each) and **pipelined** (100 connections, 10 requests in flight on each: Fastify's own benchmark method, ` +
    `autocannon -c 100 -p 10). uWebSockets.js (C++) answering a hello world is the ceiling of this machine in the same run.\n\n`;
  for (const shape of Object.keys(SHAPES)) {
    const k = (r) => `${shape} ${r}`;
    md +=
      `### ${shape}\n\n` +
      table(
        ['route', 'covet/app', 'fastify', 'ratio'],
        Object.keys(ROUTES).map((r) => [r, fmt(ours[k(r)]), fmt(fastify[k(r)]), ratio(ours[k(r)], fastify[k(r)])]),
      ) +
      `\n\nHello world: covet http1 (bare) ${fmt(bare[k('hello')])}, covet/app ${fmt(ours[k('hello')])} = **${share(ours[k('hello')], bare[k('hello')])} of bare**; ` +
      `uWebSockets.js ${fmt(uws[k('hello')])} (${ratio(uws[k('hello')], fastify[k('JSON route')])} Fastify's JSON route: no server with any work per request can exceed that ratio here).\n\n`;
  }
  md += `Targets: ≥ 1.5× Fastify on the JSON route; the app layer keeps ≥ 80% of the bare server's hello-world throughput.`;
  writeSection('70-app', md);
}

if (import.meta.url === `file://${process.argv[1]}`) await runAppBench();
