// Paired A/B of one server between this checkout's build and another's (#34): both servers up at once on
// CPU 0, wrk alternating 2 s runs A B B A / B A A B; prints this build's requests/s over the other's and the
// other's server CPU per request over this one's (> 1: this build spends less). The CPU ratio is the one to
// read on this machine: two A/A runs gave 1.003 (p25–p75 1.000–1.006) and 0.996 (0.970–0.997) while
// requests/s moved ±10–20 % round to round; so read a difference under ~2 % from several runs.
//   git worktree add /tmp/base HEAD~1 && (cd /tmp/base && ln -s $PWD/node_modules && npm run build)
//   taskset -c 1 node bench/tools/ab-server.mjs /tmp/base [server script, default http1-hello.mjs]
// PIPE=16 pipelines, ROUNDS=8. LOAD=ws: a WebSocket echo server (default ws-echo.mjs) under bench/ws.mjs's
// echo load instead of wrk, WS_SIZE bytes (16384) with WS_INFLIGHT (16) in flight per connection: per message.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { quantile as q } from '../compare-verdict.mjs';
import { cpuDuring, startServer, wrk } from '../lib.mjs';
import { pairedRounds, roundRatios } from '../paired.mjs';

const base = process.argv[2];
if (base === undefined) throw new Error('usage: node bench/tools/ab-server.mjs <other checkout, built> [server script]');
const ws = process.env.LOAD === 'ws';
const script = process.argv[3] ?? (ws ? 'ws-echo.mjs' : 'http1-hello.mjs');
// The other build's copy of the server script, importing that build's dist/.
const dir = join(resolve(base), 'bench', '.ab');
mkdirSync(dir, { recursive: true });
const other = join(dir, script);
writeFileSync(other, readFileSync(join(import.meta.dirname, '..', 'servers', script), 'utf8').replaceAll('../../dist/', `${resolve(base)}/dist/`));
const a = await startServer(script, { COMPRESS: '0' });
const b = await startServer(other, { COMPRESS: '0' });
const pipeline = Number(process.env.PIPE ?? 0);
const { echoLoad } = ws ? await import('../ws.mjs') : {};
const echo = { size: Number(process.env.WS_SIZE ?? 16384), inflight: Number(process.env.WS_INFLIGHT ?? 16), deflate: false, seconds: 2 };
const run = async (s) => {
  if (ws) {
    const { result, cpu } = await cpuDuring(s.pid, () => echoLoad(s.port, echo));
    return { rps: result.rate, cpuUs: (cpu * 1e6) / result.messages };
  }
  const { result, cpu } = await cpuDuring(s.pid, () => wrk(s.port, { seconds: 2, pipeline }));
  return { rps: result.requests / 2, cpuUs: (cpu * 1e6) / result.requests };
};
try {
  await run(a);
  await run(b); // warm-up, both
  const rounds = await pairedRounds(Number(process.env.ROUNDS ?? 8), () => run(a), () => run(b));
  const rps = roundRatios(rounds, 'rps');
  const cpu = roundRatios(rounds, 'cpuUs', true);
  console.log(`this ÷ other: ${ws ? 'messages' : 'requests'}/s ${q(rps, 0.5).toFixed(3)} (${q(rps, 0).toFixed(2)}–${q(rps, 1).toFixed(2)}); other's CPU per ${ws ? 'message' : 'request'} ÷ this ${q(cpu, 0.5).toFixed(3)} (p25–p75 ${q(cpu, 0.25).toFixed(3)}–${q(cpu, 0.75).toFixed(3)})`);
} finally {
  await a.stop();
  await b.stop();
}
