// HTTP/3 congestion control (#32: "NewReno; CUBIC if measured better"): covet/http3 serving an 8 MiB
// response under NewReno and under CUBIC, downloaded by gtlsclient with its own random packet loss in both
// directions (-r/-t: 0, 1 % and 5 %). Server on CPU 0, client on CPU 1, both servers running, rounds
// interleaved (which goes first alternates), medians; ratio = median of per-round ratios.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCommand, log, median, recordRatios, startServer, table, writeSection } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SIZE = 8 * 1024 * 1024;
const LOSSES = [0, 0.01, 0.05];

/** One download through gtlsclient dropping `loss` of the packets each way; seconds. */
function download(port, loss, dl) {
  const t0 = performance.now();
  execFileSync('taskset', ['-c', '1', 'gtlsclient', '-q', '--no-quic-dump', '--no-http-dump', '--exit-on-all-streams-close', '--timeout=60s', '-r', String(loss), '-t', String(loss), `--download=${dl}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/big`], { stdio: 'ignore' });
  const secs = (performance.now() - t0) / 1000;
  if (statSync(join(dl, 'big')).size !== SIZE) throw new Error('the download is short');
  rmSync(join(dl, 'big'));
  return secs;
}

export async function runH3CongestionBench() {
  ensureCommand('gtlsclient', 'ngtcp2-client');
  const dir = mkdtempSync(join(tmpdir(), 'covet-h3-cc-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const dl = join(dir, 'dl');
  mkdirSync(dl);
  const servers = {};
  const mbps = {};
  try {
    for (const cc of ['newreno', 'cubic']) servers[cc] = await startServer('h3-hello.mjs', { CERT: cert, KEY: key, BODY: String(SIZE), CC: cc });
    for (const cc of ['newreno', 'cubic']) for (let i = 0; i < 3; i++) download(servers[cc].port, 0, dl); // warm-up
    for (const loss of LOSSES) {
      mbps[loss] = { newreno: [], cubic: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const cc of round % 2 === 0 ? ['newreno', 'cubic'] : ['cubic', 'newreno']) mbps[loss][cc].push(SIZE / 1e6 / download(servers[cc].port, loss, dl));
      }
      log(`loss ${loss * 100} %: NewReno ${mbps[loss].newreno.map((v) => v.toFixed(1)).join(' ')} MB/s; CUBIC ${mbps[loss].cubic.map((v) => v.toFixed(1)).join(' ')}`);
    }
  } finally {
    for (const s of Object.values(servers)) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const ratio = (l) => median(mbps[l].cubic.map((v, i) => v / mbps[l].newreno[i]));
  const r = Object.fromEntries(LOSSES.map((l) => [`h3 CUBIC ÷ NewReno, ${l * 100} % loss`, ratio(l)]));
  recordRatios('h3-cc', r);
  const rows = LOSSES.map((l) => [`${l * 100} %`, median(mbps[l].newreno).toFixed(1), median(mbps[l].cubic).toFixed(1), `${ratio(l).toFixed(2)}×`, `${Math.min(...mbps[l].cubic.map((v, i) => v / mbps[l].newreno[i])).toFixed(2)}–${Math.max(...mbps[l].cubic.map((v, i) => v / mbps[l].newreno[i])).toFixed(2)}×`]);
  writeSection(
    '65-h3-cc',
    `## HTTP/3 congestion control (#32): NewReno and CUBIC under loss\n\n` +
      `covet/http3 serving an 8 MiB response, once with \`congestionControl: 'newreno'\` and once with \`'cubic'\` (RFC 9438; the default since 2026-12-07, from this table), both running; gtlsclient drops the given share of packets in each direction (its -r/-t). ${process.version}, server on CPU 0, client on CPU 1, ${ROUNDS} interleaved rounds per loss rate, medians of MB/s; ratios are medians of per-round ratios, with their range.\n\n` +
      table(['loss each way', 'NewReno MB/s', 'CUBIC MB/s', 'CUBIC ÷ NewReno', 'rounds'], rows) +
      `\n\nOn loopback the round trip is a fraction of a millisecond: after a loss either window is back within a few milliseconds, and CUBIC's gentler cut (0.7, not 0.5) and its curve matter less than they would on a long path. Without loss both are in slow start, the same code: that row's spread is the machine's noise, and what the other rows' ratios must be read against.\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runH3CongestionBench();
