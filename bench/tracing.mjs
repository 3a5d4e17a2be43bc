// What tracing costs the JSON route of the app bench (bench/servers/app-covet.mjs): the app without
// tracing, with `tracing(app)` and no OpenTelemetry SDK registered (the API's no-op tracer: the case
// where the cost must stay under 2 %), and with an SDK recording every span (into a processor that
// drops them). The servers are up at once, pinned to CPU 0; short wrk runs (CPU 1) alternate between
// them so each comparison sees the same machine speed; the ratio is the median over the alternations.
import { fmt, log, recordRatios, startServer, table, wrk, writeSection, ensureCommand } from './lib.mjs';

const ALTERNATIONS = Number(process.env.BENCH_ALTERNATIONS ?? 12);
const SECONDS = 2;
const PATH = '/users/42?limit=5&fields=name';
const SHAPES = { 'keep-alive': { connections: 64 }, pipelined: { connections: 100, pipeline: 10 } };
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runTracingBench() {
  ensureCommand('wrk');
  const variants = { off: {}, 'api, no SDK': { TRACING: 'api' }, 'SDK recording': { TRACING: 'sdk' }, 'SDK, server span only': { TRACING: 'sdk-server-span' } };
  const rows = [];
  const ratios = {};
  for (const [shape, opts] of Object.entries(SHAPES)) {
    const servers = {};
    for (const [name, env] of Object.entries(variants)) servers[name] = await startServer('app-covet.mjs', env);
    try {
      for (const s of Object.values(servers)) wrk(s.port, { seconds: 1, path: PATH, ...opts });
      const rps = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
      const share = { 'api, no SDK': [], 'SDK recording': [], 'SDK, server span only': [] };
      for (let i = 0; i < ALTERNATIONS; i++) {
        const order = i % 2 === 0 ? Object.keys(variants) : Object.keys(variants).reverse();
        const got = {};
        for (const name of order) got[name] = wrk(servers[name].port, { seconds: SECONDS, path: PATH, ...opts }).rps;
        for (const name of Object.keys(variants)) rps[name].push(got[name]);
        for (const name of Object.keys(share)) share[name].push(got[name] / got.off);
      }
      const noSdk = med(share['api, no SDK']);
      const sdk = med(share['SDK recording']);
      const one = med(share['SDK, server span only']);
      log(`  ${shape}: api/no SDK ${(noSdk * 100).toFixed(1)} %, SDK ${(sdk * 100).toFixed(1)} %, server span only ${(one * 100).toFixed(1)} % of untraced`);
      const cost = (x) => `${((1 - x) * 100).toFixed(1)} %`;
      rows.push([shape, fmt(med(rps.off)), fmt(med(rps['api, no SDK'])), cost(noSdk), fmt(med(rps['SDK recording'])), cost(sdk), fmt(med(rps['SDK, server span only'])), cost(one)]);
      ratios[`tracing api/no SDK share (${shape})`] = noSdk;
    } finally {
      for (const s of Object.values(servers)) await s.stop();
    }
  }
  recordRatios('tracing', ratios);
  writeSection(
    'tracing',
    `## Tracing cost on the JSON route (requests/s; servers on CPU 0, wrk -t1 on CPU 1; median of ${ALTERNATIONS} alternations of ${SECONDS} s)\n\n` +
      `${table(['shape', 'untraced', 'tracing(app), no SDK', 'cost', 'SDK recording', 'cost', 'SDK, routeSpans: false', 'cost'], rows)}\n\n` +
      '"No SDK": `tracing(app)` with `@opentelemetry/api` installed and no tracer provider registered — a server span is asked of the ' +
      'API\'s no-op tracer per request and nothing else happens (the bar: under 2 %). "SDK recording": a BasicTracerProvider and ' +
      'AsyncLocalStorage context manager recording the server span and the route span of every request into a processor that drops them ' +
      '(an exporter\'s own cost comes on top); `routeSpans: false` records the server span alone. The SDK\'s share of the recording ' +
      'cost (span objects, ids, attribute checks, AsyncLocalStorage) dominates a --cpu-prof of it.',
  );
}
