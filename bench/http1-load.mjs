// Loopback load with wrk: hello world (200, "Hello, World!", text/plain), keep-alive, -c64, server pinned
// to CPU 0 and wrk to CPU 1; then the same with 16-deep pipelining. Contenders: ours, node:http, fastify,
// and uWebSockets.js (C++) as the reference. Also RSS per idle keep-alive connection with 10,000
// connections, ours vs node:http.
import net from 'node:net';
import { quantile as q } from './compare-verdict.mjs';
import { pairedRounds, roundRatios, userSystem } from './paired.mjs';
import { cpuDuring, ensureCommand, fmt, log, recordRatios, rss, startServer, table, uwsError, wrk, writeSection } from './lib.mjs';

const SERVERS = {
  'covet http1': 'http1-hello.mjs',
  'node:http': 'node-http-hello.mjs',
  fastify: 'fastify-hello.mjs',
  ...(uwsError === null ? { 'uWebSockets.js (C++)': 'uws-hello.mjs' } : {}),
};
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

/** A wrk run against server `s`, with the server's CPU time per request in it (`cpuUs`). */
async function wrkWithCpu(s, opts) {
  const { result, cpu, user, sys } = await cpuDuring(s.pid, () => wrk(s.port, opts));
  return { ...result, cpuUs: (cpu * 1e6) / result.requests, userUs: (user * 1e6) / result.requests, sysUs: (sys * 1e6) / result.requests };
}

async function loadRuns() {
  ensureCommand('wrk');
  const res = {};
  for (const [name, script] of Object.entries(SERVERS)) {
    const s = await startServer(script);
    try {
      wrk(s.port, { seconds: 2 }); // warm-up
      // The server's CPU time per request as well: where wrk on its one core is the limit, requests/s no
      // longer tell the servers apart, and what each spends on a request still does.
      const ka = await wrkWithCpu(s, { seconds: SECONDS });
      const pl = await wrkWithCpu(s, { seconds: SECONDS, pipeline: 16 });
      res[name] = { ka, pl };
      log(`  ${name}: keep-alive ${fmt(ka.rps)} req/s (${ka.cpuUs.toFixed(2)} µs CPU each), pipelined×16 ${fmt(pl.rps)} req/s (${pl.cpuUs.toFixed(2)} µs) ${ka.errors} ${pl.errors}`);
    } finally {
      await s.stop();
    }
  }
  return res;
}

/**
 * Opens `count` keep-alive connections, each doing one request, and returns the server's RSS growth per
 * connection, and (Node servers) its JS heap growth per connection after a full GC. `nodeArgs` go to the
 * server's Node (the same for every Node server measured in a row).
 */
async function idleMemory(script, count, nodeArgs = [], restMs = 0) {
  const s = await startServer(script, { KEEPALIVE_MS: '600000' }, nodeArgs);
  const sockets = [];
  const js = !script.startsWith('uws');
  try {
    // Warm the server up so its baseline includes the JIT and buffers of a serving process.
    for (let i = 0; i < 200; i++) await oneRequest(s.port, sockets, true);
    await new Promise((r) => setTimeout(r, 500));
    await s.gc();
    const before = rss(s.pid);
    const heapBefore = js ? await s.usage() : null;
    const batch = 250;
    // Half the connections, measured, then the other half: what the second half adds is the cost of one more
    // connection, without what a server pays once while connections arrive (its young generation grown,
    // its own executable's code paged in).
    const half = Math.floor(count / 2 / batch) * batch;
    let mid = NaN;
    for (let i = 0; i < count; i += batch) {
      if (i === half) {
        await new Promise((r) => setTimeout(r, 1000));
        await s.gc();
        mid = rss(s.pid);
      }
      await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => oneRequest(s.port, sockets, false)));
    }
    await new Promise((r) => setTimeout(r, 1000));
    await s.gc();
    const after = rss(s.pid);
    const heapAfter = js ? await s.usage() : null;
    const heap = js ? (heapAfter.heapUsed + heapAfter.external - heapBefore.heapUsed - heapBefore.external) / count : NaN;
    // At rest: the same connections after `restMs` with no traffic, when V8's memory reducer has had time to
    // shrink the young generation grown while they were made (it did after ~20 s here, on Node 20 and 24).
    let atRest = NaN;
    if (restMs > 0) {
      await new Promise((r) => setTimeout(r, restMs));
      await s.gc();
      atRest = (rss(s.pid) - before) / count;
    }
    return { perConn: (after - before) / count, marginal: (after - mid) / (count - half), heap, before, after, atRest };
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

/**
 * Throughput (section 20-http1-load) and memory per idle connection (21-http1-idle-memory), each its own
 * section and line ratios. `HTTP1_LOAD_PARTS=memory` (or `throughput`) runs one and leaves the other's
 * results as they were.
 */
export async function runHttp1LoadBench() {
  const parts = (process.env.HTTP1_LOAD_PARTS ?? 'throughput,parity,memory').split(',');
  if (parts.includes('throughput')) await throughputBench();
  if (parts.includes('parity') && uwsError === null) await parityBench();
  if (parts.includes('memory')) await idleMemoryBench();
}

/**
 * Against uWebSockets.js in paired rounds (#34: keep-alive and pipelined ≥ 0.95× uWS). This machine's speed
 * moves by a third from minute to minute, and one 10 s run of each server, a minute apart, gave ratios from
 * 0.8× to 1.4×. Here both servers run at once (each on CPU 0, one loaded at a time) and wrk alternates between
 * them in short runs, A B B A then B A A B, so each round's ratio compares runs seconds apart; the verdict is
 * the median of the rounds' ratios, with their spread.
 */
async function parityBench() {
  const ROUNDS = Number(process.env.PARITY_ROUNDS ?? 8);
  const RUN_S = Number(process.env.PARITY_SECONDS ?? 2);
  const ours = await startServer('http1-hello.mjs');
  const uws = await startServer('uws-hello.mjs');
  const rows = [];
  const ratios = {};
  try {
    for (const [label, pipeline] of [['keep-alive', 0], ['pipelined ×16', 16]]) {
      const run = (srv) => wrkWithCpu(srv, { seconds: RUN_S, pipeline });
      await run(ours);
      await run(uws); // warm-up, both
      const rounds = await pairedRounds(ROUNDS, () => run(ours), () => run(uws));
      const rps = roundRatios(rounds, 'rps');
      const cpu = roundRatios(rounds, 'cpuUs', true);
      log(`  ${label} ÷ uWebSockets.js, paired: requests/s ${q(rps, 0.5).toFixed(2)}× (${q(rps, 0).toFixed(2)}–${q(rps, 1).toFixed(2)}), CPU per request ${q(cpu, 0.5).toFixed(2)}×`);
      rows.push([label, `${q(rps, 0.5).toFixed(2)}×`, `${q(rps, 0.25).toFixed(2)}–${q(rps, 0.75).toFixed(2)}`, `${q(rps, 0).toFixed(2)}–${q(rps, 1).toFixed(2)}`, `${q(cpu, 0.5).toFixed(2)}×`, `${q(cpu, 0.25).toFixed(2)}–${q(cpu, 0.75).toFixed(2)}`, userSystem(rounds, 'a', 2), userSystem(rounds, 'b', 2)]);
      ratios[`http1 hello ${label} ÷ uWebSockets.js, paired rounds`] = q(rps, 0.5);
      ratios[`http1 hello ${label}, uWebSockets.js's CPU per request ÷ ours, paired rounds`] = q(cpu, 0.5);
    }
  } finally {
    await ours.stop();
    await uws.stop();
  }
  recordRatios('http1-uws-parity', ratios);
  writeSection(
    '22-http1-uws-parity',
    `## HTTP/1.1 hello against uWebSockets.js, paired rounds (${ROUNDS} rounds of A B B A / B A A B, wrk -t1 -c64 ${RUN_S} s per run; both servers on CPU 0, wrk on CPU 1)\n\n` +
      `Requests/s: ours ÷ uWebSockets.js per round (≥ 1 means ours is faster); CPU per request: uWebSockets.js's server CPU time per request ÷ ours ` +
      `(≥ 1 means ours spends less), from /proc in the same runs. Target (#34): ≥ 0.95× in keep-alive and pipelined. ` +
      `Three runs on 2026-12-07 (session 23): keep-alive requests/s 0.93×, 1.03×, 0.90× and CPU per request 0.88×, 0.87×, 0.87×; pipelined 1.07×, 1.02×, ` +
      `1.07× and 1.05×, 1.03×, 1.07× — the CPU ratio is the steadier reading (with -c64 on one core wrk sets much of the pace). ` +
      `Session 24, after write requests were reused and the queue size read only when it matters (paired A/B against the build before: ` +
      `−2 % CPU per request on Node 20, −4 % on Node 24): keep-alive 1.02×, 0.95×, 1.02× and CPU 0.91×, 0.88×, 0.88×; pipelined 0.98×, 1.06×, 0.96× ` +
      `and CPU 1.00×, 1.04×, 0.97×. The kernel's share per request is the same for both servers (the system column); the gap is in user time. ` +
      `A native profile (perf, cpu-clock, both servers started under it; the figures inflated by perf alike): kernel 13.8 vs 12.2 µs per request, ` +
      `Node's runtime and V8 builtins 7.1 vs 2.4 µs, our JavaScript 2.0 µs vs uWS's C++ 1.2 µs — the runtime part is spread thin: calling into ` +
      `JavaScript for each read and the turn's flush (Invoke, Context::Enter, HandleScope, TryCatch, CallJSOnreadMethod ≈ 13 % of it), flattening ` +
      `and copying the response string (String::WriteToFlat, WriteString ≈ 13 %), the read's Buffer (CreateTypedArray, a class construction ≈ 4 %).\n\n` +
      table(['load', 'requests/s, median', 'p25–p75', 'lowest–highest', 'CPU per request, median', 'p25–p75', 'ours: user / system µs per request', 'uWS: user / system µs'], rows),
  );
}

async function throughputBench() {
  const r = await loadRuns();
  const base = r['node:http'];
  const rows = Object.entries(r).map(([name, x]) => [
    name,
    `${fmt(x.ka.rps)}`,
    `${(x.ka.rps / base.ka.rps).toFixed(2)}×`,
    `${fmt(x.pl.rps)}`,
    `${(x.pl.rps / base.pl.rps).toFixed(2)}×`,
    `${x.ka.cpuUs.toFixed(2)} µs`,
    `${x.pl.cpuUs.toFixed(2)} µs`,
  ]);
  const ours = r['covet http1'];
  const uws = r['uWebSockets.js (C++)'];
  recordRatios('http1-load', {
    'http1 hello keep-alive ÷ node:http': ours.ka.rps / base.ka.rps,
    'http1 hello pipelined ×16 ÷ node:http': ours.pl.rps / base.pl.rps,
    'http1 hello keep-alive ÷ fastify': ours.ka.rps / r.fastify.ka.rps,
    ...(uws
      ? {
          'http1 hello keep-alive ÷ uWebSockets.js': ours.ka.rps / uws.ka.rps,
          'http1 hello pipelined ×16 ÷ uWebSockets.js': ours.pl.rps / uws.pl.rps,
          'http1 hello keep-alive, server CPU per request: uWebSockets.js ÷ ours': uws.ka.cpuUs / ours.ka.cpuUs,
        }
      : {}),
  });
  writeSection(
    '20-http1-load',
    `## HTTP/1.1 hello world under wrk (requests/s; server on CPU 0, wrk -t1 -c64 on CPU 1, ${SECONDS} s each)\n\n` +
      `Ratio: ÷ node:http. Targets: keep-alive ≥ 2×, pipelined ×16 ≥ 4×. wrk on one core can itself be the limit (see uWebSockets.js); ` +
      `the CPU columns are the server's own CPU time (user + system, /proc) per request in the same runs, which still tell servers apart there.\n\n` +
      (uwsError === null ? '' : `uWebSockets.js left out on Node ${process.version}: ${uwsError}\n\n`) +
      table(['server', 'keep-alive', 'ratio', 'pipelined ×16', 'ratio', 'CPU per request, keep-alive', 'CPU per request, pipelined'], rows),
  );
}

async function idleMemoryBench() {
  const N = Number(process.env.IDLE_CONNECTIONS ?? 10000);
  log(`  idle memory: ${N} keep-alive connections each`);
  const REST_MS = Number(process.env.IDLE_REST_MS ?? 40_000);
  const ours_ = await idleMemory('http1-hello.mjs', N, [], REST_MS);
  const node = await idleMemory('node-http-hello.mjs', N, [], REST_MS);
  // V8 sizes its young generation up (to tens of MiB) while 10,000 connections are made — memory that is
  // not any connection's. Held at 1 MiB for both Node servers, RSS growth is what the connections keep.
  const SMALL_YOUNG = ['--max-semi-space-size=1'];
  const oursFixed = await idleMemory('http1-hello.mjs', N, SMALL_YOUNG);
  const nodeFixed = await idleMemory('node-http-hello.mjs', N, SMALL_YOUNG);
  const uwsMem = uwsError === null ? await idleMemory('uws-hello.mjs', N, [], REST_MS) : null;
  const kib = (b) => `${(b / 1024).toFixed(2)} KiB`;
  recordRatios('http1-idle-memory', {
    'http1 idle memory per connection ÷ node:http (lower is better)': ours_.perConn / node.perConn,
    'http1 idle memory per connection, young generation 1 MiB ÷ node:http (lower is better)': oursFixed.perConn / nodeFixed.perConn,
    'http1 idle memory per connection at rest ÷ node:http (lower is better)': ours_.atRest / node.atRest,
    'http1 idle memory, one more connection ÷ node:http (lower is better)': ours_.marginal / node.marginal,
  });
  writeSection(
    '21-http1-idle-memory',
    `## HTTP/1.1: memory per idle keep-alive connection (${N} connections, server RSS growth ÷ ${N}; server on CPU 0)\n\n` +
      table(
        ['server', 'RSS per connection', 'ratio', `at rest (${REST_MS / 1000} s later)`, 'ratio', 'young generation held at 1 MiB', 'ratio', `one more (the second ${N - Math.floor(N / 2 / 250) * 250})`, 'ratio', 'JS heap per connection'],
        [
          ['covet http1', kib(ours_.perConn), `${(ours_.perConn / node.perConn).toFixed(2)}×`, kib(ours_.atRest), `${(ours_.atRest / node.atRest).toFixed(2)}×`, kib(oursFixed.perConn), `${(oursFixed.perConn / nodeFixed.perConn).toFixed(2)}×`, kib(ours_.marginal), `${(ours_.marginal / node.marginal).toFixed(2)}×`, `${ours_.heap.toFixed(0)} B`],
          ['node:http', kib(node.perConn), '1.00×', kib(node.atRest), '1.00×', kib(nodeFixed.perConn), '1.00×', kib(node.marginal), '1.00×', `${node.heap.toFixed(0)} B`],
          ...(uwsMem === null ? [] : [['uWebSockets.js (C++)', kib(uwsMem.perConn), `${(uwsMem.perConn / node.perConn).toFixed(2)}×`, kib(uwsMem.atRest), `${(uwsMem.atRest / node.atRest).toFixed(2)}×`, '–', '–', kib(uwsMem.marginal), `${(uwsMem.marginal / node.marginal).toFixed(2)}×`, '–']]),
        ],
      ) +
      `\n\nTargets: ≤ 0.5× node:http; ≤ 2 KiB (#34). The first column is the server's RSS growth as it is; V8 grows its young ` +
      `generation to tens of MiB while the connections are made (not memory any connection holds: about 1.6–3 KiB per ` +
      `connection at 10,000). "At rest" is the same connections ${REST_MS / 1000} s later with no traffic: V8's memory reducer ` +
      `has shrunk the young generation by then (after ~20 s here) — on Node 20 its pages go back to the system; Node 24 keeps ` +
      `them in V8's pool of free pages, mapped and resident (by /proc/<pid>/smaps and \`v8.getHeapSpaceStatistics\`, 2026-12-07: ` +
      `the new space holds 0.3 MiB of pages while 125 V8 page mappings hold 26 MiB; a memory-reducing collection (V8 makes one on ` +
      `a low-memory notification; here \`gc({ flavor: 'last-resort' })\`) gives them back: the anonymous memory the 10,000 connections added fell from 19 to 10.7 MiB). ` +
      `Node 24 also pages in ~5.8 MiB of its own executable while the connections arrive (0.25 MiB on Node 20): shared, ` +
      `file-backed, once. "One more" is the RSS the second half of the connections added, per connection: once-only costs ` +
      `are out of it, but not the young generation, which goes on growing while connections arrive; that it comes close to the ` +
      `first column says the once-only costs are a small part of it. The young-generation column holds it at 1 MiB from the start ` +
      `(\`--max-semi-space-size=1\`, both Node servers alike). ` +
      `JS heap: growth of used heap and external memory after a full GC. Plain TCP connections run on the bare libuv ` +
      `handle, with no \`net.Socket\` (lib/net/handle-io.ts).`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runHttp1LoadBench();
