import http from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createApp, testClient } from '../../lib/app/index.js';

describe('stream bodies', () => {
  it('streams a Readable, an async generator and a web ReadableStream over HTTP/1.1 and HTTP/2', async () => {
    const app = createApp();
    const chunk = 'x'.repeat(64 * 1024);
    app.get('/readable', () => Readable.from((function* () { for (let i = 0; i < 64; i++) yield chunk; })())); // 4 MiB: backpressure engages
    app.get('/gen', (ctx) => {
      ctx.res.setHeader('content-type', 'text/plain; charset=utf-8');
      return (async function* () {
        yield 'a';
        yield Buffer.from('b');
        yield 'c';
      })();
    });
    app.get('/web', () => new Blob(['web ', 'stream']).stream());
    const client = await testClient(app);
    try {
      const big = await client.request('/readable');
      expect([big.status, big.headers['transfer-encoding'], big.body.length]).toEqual([200, 'chunked', 64 * chunk.length]);
      const gen = await client.request('/gen');
      expect([gen.text(), gen.headers['content-type']]).toEqual(['abc', 'text/plain; charset=utf-8']);
      expect((await client.h2('/gen')).text()).toBe('abc');
      expect((await client.h2('/readable')).body.length).toBe(64 * chunk.length);
      expect((await client.request('/web')).text()).toBe('web stream');
    } finally {
      await client.close();
    }
  });

  it('cuts the connection when the source fails mid-body, and destroys the source when the client leaves', async () => {
    const app = createApp();
    app.config.onError = () => {};
    let destroyed = false;
    app.get('/fails', () =>
      (async function* () {
        yield 'partial';
        throw new Error('source broke');
      })(),
    );
    app.get('/gen', () => (async function* () { yield 'abc'; })());
    app.get('/endless', () => {
      const r = new Readable({ read() { this.push(Buffer.alloc(16 * 1024)); } });
      r.on('close', () => (destroyed = true));
      return r;
    });
    const client = await testClient(app);
    try {
      // The body must not look complete: the chunked stream is cut without its last chunk.
      await expect((async () => (await fetch(`${client.url}/fails`)).text())()).rejects.toThrow();
      // Over HTTP/2 the stream is reset (INTERNAL_ERROR) and the connection serves on.
      await expect(client.h2('/fails')).rejects.toThrow(/INTERNAL_ERROR/);
      expect((await client.h2('/gen')).text()).toBe('abc');
      await new Promise<void>((resolve) => {
        const req = http.get(`${client.url}/endless`, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
      });
      for (let i = 0; i < 50 && !destroyed; i++) await new Promise((r) => setTimeout(r, 10));
      expect(destroyed).toBe(true);
    } finally {
      await client.close();
    }
  });
});
