// The framework under wrk: the same app in covet/app and Fastify (hello, a JSON route with a typed param
// + query validation + one middleware, a 404); covet/app's hello world against the bare covet http1
// server answering the same bytes (what the app layer costs: the smallest app, and the bench app with its
// async middleware); and uWebSockets.js's hello world as the ceiling of this machine.
// Two load shapes, server on CPU 0, wrk -t1 on CPU 1:
// - keep-alive: 64 connections, one request in flight on each (what browsers and most clients do);
// - pipelined: 100 connections, 10 requests in flight on each — Fastify's own benchmark method
//   (github.com/fastify/benchmarks: autocannon -c 100 -p 10), where the server's CPU, not loopback
//   latency and the kernel, sets the figure.
import net from 'node:net';
import { fmt, log, recordRatios, startServer, table, uwsError, wrk, writeSection, ensureCommand } from './lib.mjs';
import { pairedRounds } from './paired.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5); // this VM's run-to-run spread is ±15 %: five rounds steady the median
const ROUTES = { hello: '/', 'JSON route': '/users/42?limit=5&fields=name', 'not found (404)': '/no/such/route' };
const SHAPES = { 'keep-alive': { connections: 64 }, pipelined: { connections: 100, pipeline: 10 } };

/** One server, one load shape: warm-up then a measured wrk run per path. */
async function measure(script, shape, paths, env = {}) {
  const s = await startServer(script, env);
  try {
    const out = {};
    for (const [name, path] of Object.entries(paths)) {
      wrk(s.port, { seconds: 1, path, ...SHAPES[shape] }); // warm-up
      const r = wrk(s.port, { seconds: SECONDS, path, ...SHAPES[shape] });
      out[name] = r.rps;
      log(`  ${script} ${shape} ${name}: ${fmt(r.rps)} req/s ${r.errors}`);
    }
    return out;
  } finally {
    await s.stop();
  }
}

const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const q = (xs, f) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * f)];

const ALTERNATIONS = Number(process.env.BENCH_ALTERNATIONS ?? 10);
const ALT_SECONDS = 2;

/**
 * The app layer's cost on hello world: each app and a bare server answering the same bytes are up at
 * once (both pinned to CPU 0, only the one under load busy), and short runs alternate between them, so
 * each pair of runs sees the same machine speed.
 */
async function appLayerCost(shape) {
  const pairs = [
    { label: 'smallest app (one route)', app: ['app-hello.mjs', {}], bare: ['http1-app-hello.mjs', {}] },
    { label: 'bench app (one async middleware + the route)', app: ['app-covet.mjs', {}], bare: ['http1-app-hello.mjs', { SERVED_BY: '1' }] },
  ];
  const out = [];
  for (const p of pairs) {
    const app = await startServer(...p.app);
    const bare = await startServer(...p.bare);
    try {
      for (const s of [app, bare]) wrk(s.port, { seconds: 1, ...SHAPES[shape] });
      const o = { label: p.label, app: [], bare: [], shares: [] };
      const run = (s) => wrk(s.port, { seconds: ALT_SECONDS, ...SHAPES[shape] }).rps;
      // B A A B rounds: each bare run has an app run beside it, and each goes first as often.
      const rounds = await pairedRounds(Math.ceil(ALTERNATIONS / 2), () => run(bare), () => run(app));
      for (const { a, b } of rounds) {
        for (const k of [0, 1]) {
          o.bare.push(a[k]);
          o.app.push(b[k]);
          o.shares.push(b[k] / a[k]);
        }
      }
      log(`  ${shape} ${p.label}: shares ${o.shares.map((x) => (x * 100).toFixed(0)).join(' ')} %`);
      out.push(o);
    } finally {
      await app.stop();
      await bare.stop();
    }
  }
  return out;
}

/** The raw response to `GET /` without its Date line: the app and its bare baseline must send the same bytes. */
async function rawHello(script, env) {
  const s = await startServer(script, env);
  try {
    const sock = net.connect(s.port, '127.0.0.1');
    sock.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    let out = '';
    for await (const d of sock) out += d.toString('latin1');
    return out.replace(/^Date: .*\r\n/m, '');
  } finally {
    await s.stop();
  }
}

export async function runAppBench() {
  ensureCommand('wrk');
  for (const [app, env] of [['app-hello.mjs', {}], ['app-covet.mjs', { SERVED_BY: '1' }]]) {
    const [a, b] = [await rawHello(app, {}), await rawHello('http1-app-hello.mjs', env)];
    if (a !== b) throw new Error(`${app} and its bare baseline answer different bytes:\n${a}\n---\n${b}`);
  }
  // Per round and shape, the servers compared run back to back, and ratios are taken within the round
  // (then the median over rounds): this VM's speed drifts between two levels over minutes, which a ratio
  // of separately taken medians would mix into the result.
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    log(`  round ${round}/${ROUNDS}`);
    const r = {};
    for (const shape of Object.keys(SHAPES)) {
      r[shape] = {
        ours: await measure('app-covet.mjs', shape, ROUTES),
        fastify: await measure('app-fastify.mjs', shape, ROUTES),
        uws: uwsError === null ? await measure('uws-hello.mjs', shape, { hello: '/' }) : null,
      };
    }
    rounds.push(r);
  }
  const overhead = {};
  for (const shape of Object.keys(SHAPES)) overhead[shape] = await appLayerCost(shape);
  const ratio = (x) => `${x.toFixed(2)}×`;
  const share = (x) => `${(x * 100).toFixed(0)}%`;
  const range = (xs, f) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
  let md =
    `## covet/app vs Fastify (requests/s; server on CPU 0, wrk -t1 on CPU 1, ${SECONDS} s each, ${ROUNDS} rounds)\n\n` +
    `Same routes in both (bench/servers/app-*.mjs): a middleware/onRequest hook setting a header on every request; ` +
    `\`GET /users/{id:int}?limit&fields\` with params + query validation returning JSON (no response schema in either); a 404. ` +
    `404 answers differ in body (ours: problem+json) but not in work. Two load shapes: **keep-alive** (64 connections, one request ` +
    `in flight on each) and **pipelined** (100 connections, 10 requests in flight on each: Fastify's own benchmark method, ` +
    `autocannon -c 100 -p 10). Within each round and shape the servers compared run back to back; a ratio is taken per round ` +
    `and the table gives its median over rounds (and its range): this VM's speed drifts between two levels over minutes, so ` +
    `ratios of separately taken medians would compare different speeds. req/s columns are medians. uWebSockets.js (C++) ` +
    `answering a hello world is the ceiling of this machine in the same run.\n\n`;
  for (const shape of Object.keys(SHAPES)) {
    const col = (who, name) => rounds.map((r) => r[shape][who][name]);
    const per = (a, an, b, bn) => rounds.map((r) => r[shape][a][an] / r[shape][b][bn]);
    md +=
      `### ${shape}\n\n` +
      table(
        ['route', 'covet/app', 'fastify', 'ratio (median of rounds)', 'range'],
        Object.keys(ROUTES).map((n) => {
          const x = per('ours', n, 'fastify', n);
          return [n, fmt(med(col('ours', n))), fmt(med(col('fastify', n))), `**${ratio(med(x))}**`, range(x, ratio)];
        }),
      ) +
      `\n\nWhat the app layer costs on hello world: each app against the bare covet http1 server answering the same bytes, ` +
      `both servers up at once and ${ALTERNATIONS} runs of ${ALT_SECONDS} s alternating between them (a ratio per pair, median of pairs):\n\n` +
      table(
        ['app', 'bare http1', 'covet/app', 'share of bare (median of pairs)', 'interquartile range'],
        overhead[shape].map((o) => [o.label, fmt(med(o.bare)), fmt(med(o.app)), `**${share(med(o.shares))}**`, `${share(q(o.shares, 0.25))}–${share(q(o.shares, 0.75))}`]),
      ) +
      (uwsError === null
        ? `\n\nuWebSockets.js hello world: ${fmt(med(col('uws', 'hello')))} (${ratio(med(per('uws', 'hello', 'fastify', 'JSON route')))} Fastify's JSON route: ` +
          `no server with any work per request can exceed that ratio here).\n\n`
        : `\n\nuWebSockets.js left out on Node ${process.version}: ${uwsError}\n\n`);
  }
  md += `Targets: ≥ 1.5× Fastify on the JSON route; the app layer keeps ≥ 80% of the bare server's hello-world throughput.`;
  writeSection('70-app', md);
  const lines = {};
  for (const shape of Object.keys(SHAPES)) {
    const per = (a, an, b, bn) => med(rounds.map((r) => r[shape][a][an] / r[shape][b][bn]));
    lines[`app JSON route ${shape} ÷ fastify`] = per('ours', 'JSON route', 'fastify', 'JSON route');
    lines[`app hello ${shape} ÷ fastify`] = per('ours', 'hello', 'fastify', 'hello');
    if (uwsError === null) lines[`app hello ${shape} ÷ uWebSockets.js`] = per('ours', 'hello', 'uws', 'hello');
    lines[`smallest app ${shape}, share of bare http1`] = med(overhead[shape][0].shares);
  }
  recordRatios('app', lines);
}

if (import.meta.url === `file://${process.argv[1]}`) await runAppBench();
