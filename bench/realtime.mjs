// Realtime bench: a room broadcast to 10,000 WebSocket clients, time until the last client has it —
// the app on one process, then on two (app.listen({ workers: 2 }), the room shared through the local
// Redis). The clients run in this process (one core: see the note in the table).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { connectWebSocket } from '../dist/lib/ws/index.js';
import { benchDir, log, table, writeSection } from './lib.mjs';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 10_000);

async function measure(workers, rounds) {
  const prefix = `covet-bench-rt:${process.pid}:${workers}:`;
  const child = spawn(process.execPath, [join(benchDir, '../test/fixtures/realtime-cluster.mjs')], {
    env: { ...process.env, PORT: '0', REDIS_URL: 'redis://127.0.0.1:6379', PREFIX: prefix, WORKERS: String(workers) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const sockets = [];
  try {
    const port = await new Promise((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /ready (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
    });
    let joined = 0;
    let received = 0;
    const connect = async () => {
      const ws = await connectWebSocket(`ws://127.0.0.1:${port}/room`);
      ws.on('message', (d) => {
        if (d.length === 6 && d.toString() === 'joined') joined++;
        else received++;
      });
      return ws;
    };
    for (let i = 0; i < CLIENTS; i += 500) sockets.push(...(await Promise.all(Array.from({ length: Math.min(500, CLIENTS - i) }, connect))));
    while (joined < CLIENTS) await new Promise((r) => setTimeout(r, 10));
    const times = [];
    for (let r = 0; r < rounds; r++) {
      received = 0;
      const t0 = process.hrtime.bigint();
      await fetch(`http://127.0.0.1:${port}/broadcast`, { method: 'POST' });
      while (received < CLIENTS) await new Promise((res) => setImmediate(res));
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      log(`  ${workers} process(es), round ${r + 1}: last of ${CLIENTS} receipts after ${times.at(-1).toFixed(0)} ms`);
      await new Promise((res) => setTimeout(res, 200));
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  } finally {
    for (const ws of sockets) ws.close();
    child.kill('SIGTERM');
    await new Promise((res) => child.once('exit', res));
  }
}

export async function runRealtimeBench() {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const one = await measure(1, rounds);
  const two = await measure(2, rounds);
  writeSection(
    '95-realtime',
    `## Realtime: room broadcast to ${CLIENTS.toLocaleString('en')} WebSocket clients (median of ${rounds}, time from the POST to the last receipt)\n\n` +
      `One message framed once per process; with two processes the other half arrives through Redis pub/sub. The ${CLIENTS.toLocaleString('en')} clients share this process's one core, so they bound both figures.\n\n` +
      table(['', '1 process', '2 processes'], [['time to last receipt', `${one.toFixed(0)} ms`, `${two.toFixed(0)} ms`]]),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runRealtimeBench();
