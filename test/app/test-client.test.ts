import { describe, expect, it } from 'vitest';
import { createApp, testClient } from '../../lib/app/index.js';

describe('testClient', () => {
  // node:http2's client only completes a request against a real HTTP/2 server, so h2() proves the protocol.
  it('speaks HTTP/1.1, HTTP/2 and WebSocket to the app over real sockets', async () => {
    const app = createApp();
    app.get('/who', (ctx) => ({ ua: ctx.req.get('x-test') ?? null }));
    app.post('/echo', async (ctx) => ctx.req.json());
    app.ws('/echo', { open: (ws) => ws.on('message', (d: Buffer) => ws.send(`echo:${d.toString()}`)) });
    const client = await testClient(app);
    try {
      const h1 = await client.request('/who', { headers: { 'x-test': 'one' } });
      expect(h1.status).toBe(200);
      expect(h1.json()).toEqual({ ua: 'one' });
      const h2 = await client.h2('/who', { headers: { 'x-test': 'two' } });
      expect([h2.status, h2.json<{ ua: string }>().ua]).toEqual([200, 'two']);
      expect((await client.h2('/echo', { method: 'POST', body: { a: 1 } })).json()).toEqual({ a: 1 });
      expect((await client.request('/echo', { method: 'POST', body: { b: 2 } })).json()).toEqual({ b: 2 });
      const ws = await client.ws('/echo');
      const reply = new Promise<string>((resolve) => ws.on('message', (d: Buffer) => resolve(d.toString())));
      ws.send('hi');
      expect(await reply).toBe('echo:hi');
    } finally {
      await client.close();
    }
  });
});
