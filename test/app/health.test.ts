import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createApp, health } from '../../lib/app/index.js';

/** A real dependency check: PING the local Redis over RESP. */
function redisPing(port = 6379): Promise<void> {
  return new Promise((resolve, reject) => {
    const so = net.connect(port, '127.0.0.1');
    so.once('error', reject);
    so.once('connect', () => so.write('*1\r\n$4\r\nPING\r\n'));
    so.once('data', (d) => {
      so.destroy();
      if (d.toString() === '+PONG\r\n') resolve();
      else reject(new Error(`unexpected reply ${JSON.stringify(d.toString())}`));
    });
  });
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('health and readiness', () => {
  it('answers liveness, and readiness 200 when every real dependency answers', async () => {
    const app = createApp();
    health(app, { checks: { redis: () => redisPing() } });
    const live = await app.inject({ url: '/health' });
    expect([live.status, live.json<{ status: string }>().status]).toEqual([200, 'ok']);
    const ready = await app.inject({ url: '/ready' });
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', checks: { redis: { status: 'ok' } } });
    expect(ready.headers['cache-control']).toBe('no-store');
  });

  it('answers 503 naming the failed and the timed-out dependency, the others still ok', async () => {
    const app = createApp();
    const port = await closedPort();
    health(app, {
      timeoutMs: 100,
      checks: { redis: () => redisPing(), cache: () => redisPing(port), slow: () => new Promise(() => {}) },
    });
    const r = await app.inject({ url: '/ready' });
    expect(r.status).toBe(503);
    const body = r.json<{ status: string; checks: Record<string, { status: string; error?: string }> }>();
    expect(body.status).toBe('fail');
    expect(body.checks.redis!.status).toBe('ok');
    expect(body.checks.cache).toMatchObject({ status: 'fail', error: expect.stringContaining('ECONNREFUSED') });
    expect(body.checks.slow).toMatchObject({ status: 'fail', error: 'no answer within 100 ms' });
  });

  it('fails readiness once shutdown begins, while liveness holds', async () => {
    const app = createApp();
    health(app);
    expect((await app.inject({ url: '/ready' })).status).toBe(200);
    await app.close(10);
    const r = await app.inject({ url: '/ready' });
    expect([r.status, r.json<{ shuttingDown?: boolean }>().shuttingDown]).toEqual([503, true]);
    expect((await app.inject({ url: '/health' })).status).toBe(200);
  });
});
