import http from 'node:http';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createApp, negotiateEncoding } from '../../lib/app/index.js';

describe('Accept-Encoding negotiation', () => {
  it('picks the first offered encoding the client accepts, honouring q=0 and *', () => {
    const offered = ['br', 'gzip'] as const;
    expect(negotiateEncoding('gzip, deflate, br', offered)).toBe('br');
    expect(negotiateEncoding('gzip', offered)).toBe('gzip');
    expect(negotiateEncoding('br;q=0, gzip;q=0.5', offered)).toBe('gzip');
    expect(negotiateEncoding('*', offered)).toBe('br');
    expect(negotiateEncoding('*, br;q=0', offered)).toBe('gzip');
    expect(negotiateEncoding('identity', offered)).toBeUndefined();
    expect(negotiateEncoding('gzip;q=0, br;q=0.000', offered)).toBeUndefined();
    expect(negotiateEncoding(undefined, offered)).toBeUndefined();
    expect(negotiateEncoding('x-gzip', offered)).toBe('gzip');
  });
});

describe('compression', () => {
  const big = { items: Array.from({ length: 200 }, (_, i) => ({ id: i, text: `note number ${i}` })) };
  function app() {
    const a = createApp({ compression: true, etag: true });
    a.get('/big', () => big);
    a.get('/small', () => ({ ok: true }));
    a.get('/png', (ctx) => {
      ctx.res.setHeader('content-type', 'image/png');
      return Buffer.alloc(4096, 1);
    });
    a.get('/pre', (ctx) => {
      ctx.res.setHeader('content-encoding', 'gzip');
      ctx.res.setHeader('content-type', 'application/json');
      return zlib.gzipSync(JSON.stringify(big));
    });
    a.get('/huge', () => 'x'.repeat(300 * 1024));
    return a;
  }

  it('compresses by negotiation, varies on Accept-Encoding, and weakens the ETag', async () => {
    const a = app();
    const br = await a.inject({ url: '/big', headers: { 'accept-encoding': 'gzip, br' } });
    expect([br.headers['content-encoding'], br.headers.vary]).toEqual(['br', 'Accept-Encoding']);
    expect(JSON.parse(zlib.brotliDecompressSync(br.body).toString())).toEqual(big);
    expect(br.body.length).toBeLessThan(JSON.stringify(big).length / 3);
    expect(br.headers.etag).toMatch(/^W\/"/);
    const gz = await a.inject({ url: '/big', headers: { 'accept-encoding': 'gzip' } });
    expect(JSON.parse(zlib.gunzipSync(gz.body).toString())).toEqual(big);
    const plain = await a.inject({ url: '/big' });
    expect([plain.headers['content-encoding'], plain.headers.vary, plain.json()]).toEqual([undefined, 'Accept-Encoding', big]);
    // The weak tag still revalidates.
    expect((await a.inject({ url: '/big', headers: { 'accept-encoding': 'br', 'if-none-match': br.headers.etag! } })).status).toBe(304);
  });

  it('leaves small bodies, incompressible types and already-encoded bodies alone', async () => {
    const a = app();
    const small = await a.inject({ url: '/small', headers: { 'accept-encoding': 'br' } });
    expect([small.headers['content-encoding'], small.json()]).toEqual([undefined, { ok: true }]);
    const png = await a.inject({ url: '/png', headers: { 'accept-encoding': 'br' } });
    expect([png.headers['content-encoding'], png.body.length]).toEqual([undefined, 4096]);
    const pre = await a.inject({ url: '/pre', headers: { 'accept-encoding': 'gzip, br' } });
    expect(pre.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(zlib.gunzipSync(pre.body).toString())).toEqual(big);
  });

  it('compresses a large body off the event loop, decoded by a real client', async () => {
    const a = app();
    const server = await a.listen({ port: 0, host: '127.0.0.1' });
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/huge`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.headers.get('content-encoding')).toBe('gzip');
      expect(Number(res.headers.get('content-length'))).toBeLessThan(4096);
      expect(await res.text()).toBe('x'.repeat(300 * 1024));
    } finally {
      await a.close(100);
    }
  });
});

describe('compression and a handler-set Content-Length', () => {
  it('drops the length of the identity body when it encodes', async () => {
    const a = createApp({ compression: true });
    const text = 'abc'.repeat(1000);
    a.get('/t', (ctx) => {
      ctx.res.setHeader('content-length', String(text.length));
      return text;
    });
    const r = await a.inject({ url: '/t', headers: { 'accept-encoding': 'gzip' } });
    expect([r.status, r.headers['content-encoding'], zlib.gunzipSync(r.body).toString()]).toEqual([200, 'gzip', text]);
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
  });
});

describe('compression of stream bodies', () => {
  it('compresses a streamed body as it is produced (each chunk flushed), decoded by a real client', async () => {
    const a = createApp({ compression: true });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    a.get('/events', (ctx) => {
      ctx.res.setHeader('content-type', 'text/plain; charset=utf-8');
      return (async function* () {
        yield 'first line\n';
        await released; // only after the client has decoded the first line: proves per-chunk flushing
        yield 'second line\n';
      })();
    });
    a.get('/bin', (ctx) => {
      ctx.res.setHeader('content-type', 'image/png');
      return (async function* () {
        yield Buffer.alloc(10, 7);
      })();
    });
    const server = await a.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (server.address() as { port: number }).port;
      const { encoding, text } = await new Promise<{ encoding: string | undefined; text: string }>((resolve, reject) => {
        http.get({ port, host: '127.0.0.1', path: '/events', headers: { 'accept-encoding': 'gzip' } }, (res) => {
          const gunzip = zlib.createGunzip();
          let text = '';
          gunzip.on('data', (d: Buffer) => {
            text += d.toString();
            if (text.includes('first line')) release();
          });
          gunzip.on('end', () => resolve({ encoding: res.headers['content-encoding'], text }));
          gunzip.on('error', reject);
          res.pipe(gunzip);
        }).on('error', reject);
      });
      expect([encoding, text]).toEqual(['gzip', 'first line\nsecond line\n']);
      const br = await fetch(`http://127.0.0.1:${port}/events`, { headers: { 'accept-encoding': 'br' } });
      expect(br.headers.get('content-encoding')).toBe('br');
      expect(await br.text()).toBe('first line\nsecond line\n');
      const bin = await fetch(`http://127.0.0.1:${port}/bin`, { headers: { 'accept-encoding': 'br' } });
      expect([bin.headers.get('content-encoding'), (await bin.arrayBuffer()).byteLength]).toEqual([null, 10]);
    } finally {
      await a.close(100);
    }
  });
});
