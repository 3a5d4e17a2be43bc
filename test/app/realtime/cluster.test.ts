/**
 * 10,000 WebSocket clients on an app running as two processes (`app.listen({ workers: 2 })`): one room
 * message reaches every one of them — half through the other process, via Redis. Heavy (10,000 sockets),
 * so it runs in the serial group after the other tests.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectWebSocket, type WebSocket } from '../../../lib/ws/index.js';
import { REDIS_URL, testRedis } from '../auth/helpers.js';

const CLIENTS = 10_000;

describe('rooms across a two-process cluster', () => {
  it(`a room broadcast reaches all ${CLIENTS} clients on both processes`, async () => {
    const r = testRedis();
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../fixtures/realtime-cluster.mjs')], {
      env: { ...process.env, PORT: '0', REDIS_URL, PREFIX: r.prefix },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const sockets: WebSocket[] = [];
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          const m = /ready (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`cluster exited with ${code}`)));
      });
      let received = 0;
      let joined = 0;
      const connect = async (): Promise<WebSocket> => {
        const ws = await connectWebSocket(`ws://127.0.0.1:${port}/room`);
        ws.on('message', (d: Buffer) => {
          if (d.toString() === 'joined') joined++;
          else if (d.toString() === '{"hello":"everyone"}') received++;
        });
        return ws;
      };
      for (let i = 0; i < CLIENTS; i += 500) sockets.push(...(await Promise.all(Array.from({ length: Math.min(500, CLIENTS - i) }, connect))));
      const until = async (cond: () => boolean, ms = 30_000) => {
        const end = Date.now() + ms;
        while (!cond()) {
          if (Date.now() > end) throw new Error(`timed out (joined ${joined}, received ${received})`);
          await new Promise((res) => setTimeout(res, 20));
        }
      };
      await until(() => joined === CLIENTS);
      // Both processes hold members (round-robin), so the message must cross Redis to reach them all.
      const pids = new Map<number, number>();
      for (let i = 0; i < 20; i++) {
        const p = (await (await fetch(`http://127.0.0.1:${port}/pid`, { headers: { connection: 'close' } })).json()) as { pid: number; members: number };
        pids.set(p.pid, p.members);
      }
      expect(pids.size).toBe(2);
      expect([...pids.values()].reduce((a, b) => a + b, 0)).toBe(CLIENTS);
      expect(((await (await fetch(`http://127.0.0.1:${port}/presence`)).json()) as { count: number }).count).toBe(CLIENTS);
      const t0 = Date.now();
      const res = (await (await fetch(`http://127.0.0.1:${port}/broadcast`, { method: 'POST' })).json()) as { local: number };
      await until(() => received === CLIENTS);
      expect(res.local).toBeLessThan(CLIENTS); // the rest came through the other process
      console.log(`broadcast to ${CLIENTS} clients on 2 processes: last receipt after ${Date.now() - t0} ms`);
    } finally {
      for (const ws of sockets) ws.close();
      child.kill('SIGTERM');
      await new Promise((res) => child.once('exit', res));
      await r.cleanup();
    }
  }, 120_000);
});
