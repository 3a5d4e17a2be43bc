import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { computeEtag, createApp, etagMatches } from '../../lib/app/index.js';

describe('ETag and 304', () => {
  it('compares If-None-Match weakly, with lists and *', () => {
    expect(etagMatches('"a", W/"b"', '"b"')).toBe(true);
    expect(etagMatches('W/"a"', '"a"')).toBe(true);
    expect(etagMatches('*', '"x"')).toBe(true);
    expect(etagMatches('"a"', '"b"')).toBe(false);
    expect(computeEtag('hello')).toBe(computeEtag(Buffer.from('hello')));
    expect(computeEtag('hello')).not.toBe(computeEtag('hellp'));
  });

  it('answers 304 without a body to a matching GET (computed tag), and 200 otherwise', async () => {
    const app = createApp({ etag: true });
    app.get('/doc', () => ({ v: 1 }));
    app.post('/doc', () => ({ v: 1 }));
    const first = await app.inject({ url: '/doc' });
    const tag = first.headers.etag!;
    expect(tag).toMatch(/^"[0-9a-f]+-[\w-]{27}"$/);
    const again = await app.inject({ url: '/doc', headers: { 'if-none-match': `"zzz", ${tag}` } });
    expect([again.status, again.body.length, again.headers.etag]).toEqual([304, 0, tag]);
    expect((await app.inject({ url: '/doc', headers: { 'if-none-match': '"other"' } })).status).toBe(200);
    // Only safe methods revalidate.
    expect((await app.inject({ method: 'POST', url: '/doc', headers: { 'if-none-match': tag } })).status).toBe(200);
  });

  it('honours a handler-set ETag without etag: true, and keeps the connection usable after a 304', async () => {
    const app = createApp();
    app.get('/v', (ctx) => {
      ctx.res.setHeader('etag', 'W/"rev-9"');
      ctx.res.setHeader('cache-control', 'no-cache');
      return 'content at rev 9';
    });
    app.get('/plain', () => 'no tag here');
    expect((await app.inject({ url: '/plain' })).headers.etag).toBeUndefined();
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (server.address() as net.AddressInfo).port;
      const so = net.connect(port, '127.0.0.1');
      so.write('GET /v HTTP/1.1\r\nHost: a\r\nIf-None-Match: "rev-9"\r\n\r\nGET /v HTTP/1.1\r\nHost: a\r\n\r\n');
      let text = '';
      so.setEncoding('latin1');
      await new Promise<void>((resolve) => so.on('data', (d: string) => ((text += d), text.endsWith('content at rev 9') && resolve())));
      so.destroy();
      const [notModified, full] = text.split(/(?=HTTP\/1\.1 )/);
      expect(notModified).toMatch(/^HTTP\/1\.1 304 Not Modified\r\n/);
      expect(notModified).toMatch(/\r\netag: W\/"rev-9"\r\n/i);
      expect(notModified).toMatch(/\r\ncache-control: no-cache\r\n/i);
      expect(notModified!.endsWith('\r\n\r\n')).toBe(true); // no body
      expect(full).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      await app.close(100);
    }
  });
});
