import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createApp, testClient, timeout } from '../../lib/app/index.js';

describe('timeout and ctx.signal', () => {
  it('answers 503 with Retry-After past the deadline and aborts the work in flight', async () => {
    const app = createApp();
    const reasons: string[] = [];
    app.use(timeout(50, { retryAfter: 2 }));
    app.get('/slow', async (ctx) => {
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      reasons.push((ctx.signal.reason as Error).message);
      ctx.json({ late: true }); // dropped: the answer has gone
      return 'too late';
    });
    app.get('/fast', () => 'quick');
    const r = await app.inject({ url: '/slow' });
    expect([r.status, r.headers['retry-after'], r.json<{ detail: string }>().detail]).toEqual([503, '2', 'no answer within 50 ms']);
    await new Promise((res) => setTimeout(res, 10));
    expect(reasons).toEqual(['no answer within 50 ms']);
    expect((await app.inject({ url: '/fast' })).text()).toBe('quick');
  });

  // A FIN alone is a half-close: RFC 9112 §9.6 lets such a client still read its answer, so only a
  // connection that is really gone (here: reset) aborts the signal.
  it('aborts ctx.signal when the connection is gone before the answer', async () => {
    const app = createApp();
    let aborted: Promise<string> | null = null;
    app.get('/wait', (ctx) => {
      aborted = new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve((ctx.signal.reason as Error).message)));
      return new Promise(() => {}); // never answers by itself
    });
    const client = await testClient(app);
    try {
      const so = net.connect(Number(new URL(client.url).port), '127.0.0.1', () => so.write('GET /wait HTTP/1.1\r\nHost: a\r\n\r\n'));
      so.on('error', () => {});
      for (let i = 0; i < 100 && aborted === null; i++) await new Promise((r) => setTimeout(r, 5));
      so.resetAndDestroy();
      expect(await aborted).toBe('the client went away');
    } finally {
      await client.close();
    }
  });
});
