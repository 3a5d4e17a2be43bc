// HTTP/2 load with h2load (-c16 -m32; server pinned to CPU 0, h2load to CPU 1): hello world and a 64 KiB
// response, ours vs node:http2's stream API, same run; and ours over HTTP/2 vs ours over HTTP/1.1
// (h2load --h1, same tool, same connection count, 32 requests pipelined per connection).
import { execFileSync } from 'node:child_process';
import { ensureCommand, fmt, log, recordRatios, startServer, table, writeSection } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

function h2load(port, extra = []) {
  const out = execFileSync('taskset', ['-c', '1', 'h2load', '-c16', '-m32', `-D${SECONDS}`, '--warm-up-time=1', ...extra, `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const m = out.match(/finished in [\d.]+\w+, ([\d.]+) req\/s/);
  const ok = out.match(/requests: .* (\d+) succeeded, (\d+) failed/);
  if (!m) throw new Error(`h2load output not understood:\n${out}`);
  return { rps: Number(m[1]), failed: ok ? Number(ok[2]) : -1 };
}

export async function runHttp2Bench() {
  ensureCommand('h2load', 'nghttp2-client');
  const rows = [];
  const res = {};
  for (const [label, body] of [['hello', ''], ['64 KiB', '65536']]) {
    for (const [name, script] of [['covet http2', 'http2-hello.mjs'], ['node:http2 (stream API)', 'node-http2-hello.mjs']]) {
      const s = await startServer(script, body ? { BODY: body } : {});
      try {
        (res[label] ??= {})[name] = h2load(s.port);
      } finally {
        await s.stop();
      }
      log(`  ${label}: ${name} ${fmt(res[label][name].rps)} req/s (failed ${res[label][name].failed})`);
    }
    const ours = res[label]['covet http2'].rps;
    const node = res[label]['node:http2 (stream API)'].rps;
    rows.push([label, fmt(ours), fmt(node), `${(ours / node).toFixed(2)}×`]);
  }
  const s = await startServer('http2-hello.mjs');
  let h1;
  try {
    h1 = h2load(s.port, ['--h1']);
  } finally {
    await s.stop();
  }
  const h2 = res.hello['covet http2'].rps;
  log(`  covet HTTP/1.1 (h2load --h1): ${fmt(h1.rps)} req/s`);
  recordRatios('http2', {
    'http2 hello ÷ node:http2': h2 / res.hello['node:http2 (stream API)'].rps,
    'http2 64 KiB ÷ node:http2': res['64 KiB']['covet http2'].rps / res['64 KiB']['node:http2 (stream API)'].rps,
  });
  writeSection(
    '60-http2',
    `## HTTP/2 under h2load (-c16 -m32, ${SECONDS} s; server on CPU 0, h2load on CPU 1)\n\n` +
      `Target: ≥ 2× node:http2's stream API; HTTP/2 multiplexed ≥ our HTTP/1.1.\n\n` +
      table(['response', 'covet http2', 'node:http2', 'ratio'], rows) +
      `\n\n` +
      table(['covet, hello', 'req/s', 'ratio'], [
        ['HTTP/2, 32 streams per connection', fmt(h2), `${(h2 / h1.rps).toFixed(2)}×`],
        ['HTTP/1.1, 32 pipelined per connection (h2load --h1)', fmt(h1.rps), '1.00×'],
      ]),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runHttp2Bench();
