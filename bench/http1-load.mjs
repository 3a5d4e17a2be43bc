// Loopback load with wrk: hello world (200, "Hello, World!", text/plain), keep-alive, -c64, server pinned
// to CPU 0 and wrk to CPU 1; then the same with 16-deep pipelining. Contenders: ours, node:http, fastify,
// and uWebSockets.js (C++) as the reference. Also RSS per idle keep-alive connection with 10,000
// connections, ours vs node:http.
import net from 'node:net';
import { ensureCommand, fmt, log, recordRatios, rss, startServer, table, uwsError, wrk, writeSection } from './lib.mjs';

const SERVERS = {
  'covet http1': 'http1-hello.mjs',
  'node:http': 'node-http-hello.mjs',
  fastify: 'fastify-hello.mjs',
  ...(uwsError === null ? { 'uWebSockets.js (C++)': 'uws-hello.mjs' } : {}),
};
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

async function loadRuns() {
  ensureCommand('wrk');
  const res = {};
  for (const [name, script] of Object.entries(SERVERS)) {
    const s = await startServer(script);
    try {
      wrk(s.port, { seconds: 2 }); // warm-up
      const ka = wrk(s.port, { seconds: SECONDS });
      const pl = wrk(s.port, { seconds: SECONDS, pipeline: 16 });
      res[name] = { ka, pl };
      log(`  ${name}: keep-alive ${fmt(ka.rps)} req/s, pipelined×16 ${fmt(pl.rps)} req/s ${ka.errors} ${pl.errors}`);
    } finally {
      await s.stop();
    }
  }
  return res;
}

/** Opens `count` keep-alive connections, each doing one request, and returns the server's RSS growth per connection. */
async function idleMemory(script, count) {
  const s = await startServer(script, { KEEPALIVE_MS: '600000' });
  const sockets = [];
  try {
    // Warm the server up so its baseline includes the JIT and buffers of a serving process.
    for (let i = 0; i < 200; i++) await oneRequest(s.port, sockets, true);
    await new Promise((r) => setTimeout(r, 500));
    await s.gc();
    const before = rss(s.pid);
    const batch = 250;
    for (let i = 0; i < count; i += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => oneRequest(s.port, sockets, false)));
    }
    await new Promise((r) => setTimeout(r, 1000));
    await s.gc();
    const after = rss(s.pid);
    return { perConn: (after - before) / count, before, after };
  } finally {
    for (const so of sockets) so.destroy();
    await s.stop();
  }
}

function oneRequest(port, keep, close) {
  return new Promise((resolve, reject) => {
    const so = net.connect(port, '127.0.0.1');
    so.on('error', reject);
    so.once('connect', () => so.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    so.once('data', () => {
      if (close) so.destroy();
      else keep.push(so);
      resolve();
    });
  });
}

export async function runHttp1LoadBench() {
  const r = await loadRuns();
  const base = r['node:http'];
  const rows = Object.entries(r).map(([name, x]) => [
    name,
    `${fmt(x.ka.rps)}`,
    `${(x.ka.rps / base.ka.rps).toFixed(2)}×`,
    `${fmt(x.pl.rps)}`,
    `${(x.pl.rps / base.pl.rps).toFixed(2)}×`,
  ]);
  const N = Number(process.env.IDLE_CONNECTIONS ?? 10000);
  log(`  idle memory: ${N} keep-alive connections each`);
  const ours_ = await idleMemory('http1-hello.mjs', N);
  const node = await idleMemory('node-http-hello.mjs', N);
  const kib = (b) => `${(b / 1024).toFixed(2)} KiB`;
  const ours = r['covet http1'];
  const uws = r['uWebSockets.js (C++)'];
  recordRatios('http1-load', {
    'http1 hello keep-alive ÷ node:http': ours.ka.rps / base.ka.rps,
    'http1 hello pipelined ×16 ÷ node:http': ours.pl.rps / base.pl.rps,
    'http1 hello keep-alive ÷ fastify': ours.ka.rps / r.fastify.ka.rps,
    ...(uws ? { 'http1 hello keep-alive ÷ uWebSockets.js': ours.ka.rps / uws.ka.rps, 'http1 hello pipelined ×16 ÷ uWebSockets.js': ours.pl.rps / uws.pl.rps } : {}),
    'http1 idle memory per connection ÷ node:http (lower is better)': ours_.perConn / node.perConn,
  });
  writeSection(
    '20-http1-load',
    `## HTTP/1.1 hello world under wrk (requests/s; server on CPU 0, wrk -t1 -c64 on CPU 1, ${SECONDS} s each)\n\n` +
      `Ratio: ÷ node:http. Targets: keep-alive ≥ 2×, pipelined ×16 ≥ 4×. wrk on one core can itself be the limit (see uWebSockets.js).\n\n` +
      (uwsError === null ? '' : `uWebSockets.js left out on Node ${process.version}: ${uwsError}\n\n`) +
      table(['server', 'keep-alive', 'ratio', 'pipelined ×16', 'ratio'], rows) +
      `\n\n### Memory per idle keep-alive connection (${N} connections, server RSS growth ÷ ${N})\n\n` +
      table(
        ['server', 'per connection', 'ratio'],
        [
          ['covet http1', kib(ours_.perConn), `${(ours_.perConn / node.perConn).toFixed(2)}×`],
          ['node:http', kib(node.perConn), '1.00×'],
        ],
      ) +
      `\n\nTarget: ≤ 0.5× node:http.`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runHttp1LoadBench();
