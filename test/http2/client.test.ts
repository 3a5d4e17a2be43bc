/**
 * The HTTP/2 client (lib/http2/client.ts) against node:http2's server and our own: requests and
 * responses with bodies and trailers, flow control both ways (large bodies, a reader that stops), the
 * server's concurrency limit, RST_STREAM, GOAWAY (retryable streams), PING, and a body split anyhow.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttp2Server, FrameParser, goawayFrame, H2, headersFrames, HpackEncoder, Http2ClientSession, Http2StreamError, settingsFrame } from '../../lib/http2/index.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function nodeServer(handler: (s: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders) => void, settings: http2.Settings = {}): Promise<string> {
  const server = http2.createServer({ settings });
  server.on('stream', handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise((r) => server.close(r)));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => sessions.add(s));
  cleanups.push(() => sessions.forEach((s) => s.destroy()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function client(url: string): Promise<Http2ClientSession> {
  const c = await Http2ClientSession.connect(url);
  cleanups.push(() => c.destroy());
  return c;
}

const readAll = async (s: AsyncIterable<Buffer>) => {
  const parts: Buffer[] = [];
  for await (const p of s) parts.push(p);
  return Buffer.concat(parts);
};

describe('HTTP/2 client', () => {
  it('GET and POST against node:http2: status, headers, body, trailers', async () => {
    const url = await nodeServer((s, h) => {
      if (h[':method'] === 'GET') {
        s.respond({ ':status': 200, 'x-path': h[':path'] as string });
        s.end('hello');
        return;
      }
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('end', () => {
        s.respond({ ':status': 201 }, { waitForTrailers: true });
        s.on('wantTrailers', () => s.sendTrailers({ 'x-sum': String(Buffer.concat(chunks).length) }));
        s.end(Buffer.concat(chunks));
      });
    });
    const c = await client(url);
    const get = c.request({ ':method': 'GET', ':path': '/a?b' }, true);
    const head = await get.response;
    expect([head.status, head.headers]).toEqual([200, expect.arrayContaining([['x-path', '/a?b']])]);
    expect((await readAll(get)).toString()).toBe('hello');
    expect(await get.trailers).toBeNull();
    const post = c.request({ ':method': 'POST', ':path': '/echo' });
    post.write('abc');
    post.end('def');
    expect((await post.response).status).toBe(201);
    expect((await readAll(post)).toString()).toBe('abcdef');
    expect(await post.trailers).toEqual([['x-sum', '6']]);
  });

  it('large bodies both ways, within the windows (8 MiB up, 8 MiB down, node default 64 KiB windows)', async () => {
    const url = await nodeServer((s) => {
      let n = 0;
      s.on('data', (d: Buffer) => (n += d.length));
      s.on('end', () => {
        s.respond({ ':status': 200, 'x-got': String(n) });
        s.end(Buffer.alloc(8 * 1024 * 1024, 7));
      });
    });
    const c = await client(url);
    const s = c.request({ ':method': 'POST', ':path': '/' });
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 128; i++) if (!s.write(chunk)) await s.drained();
    s.end();
    const head = await s.response;
    expect(head.headers).toContainEqual(['x-got', String(8 * 1024 * 1024)]);
    const body = await readAll(s);
    expect(body.length).toBe(8 * 1024 * 1024);
    expect(body.every((b) => b === 7)).toBe(true);
  });

  it('a reader that stops reading stops the server: window given back only as the body is read', async () => {
    let written = 0;
    let blocked = false;
    const url = await nodeServer((s) => {
      s.respond({ ':status': 200 });
      const pump = () => {
        while (written < 64 * 1024 * 1024) {
          written += 16 * 1024;
          if (!s.write(Buffer.alloc(16 * 1024))) {
            blocked = true;
            s.once('drain', pump);
            return;
          }
        }
        s.end();
      };
      pump();
    });
    const c = await Http2ClientSession.connect(url, { initialWindowSize: 256 * 1024 });
    cleanups.push(() => c.destroy());
    const s = c.request({ ':method': 'GET', ':path': '/' }, true);
    await s.response;
    await expect.poll(() => blocked).toBe(true);
    // Not read: what the server got out is our stream window plus its own buffers — nowhere near 64 MiB.
    expect(written).toBeLessThan(4 * 1024 * 1024);
    s.reset();
  });

  it("waits for a slot when the server's SETTINGS_MAX_CONCURRENT_STREAMS is reached", async () => {
    let open = 0;
    let most = 0;
    const url = await nodeServer(
      (s) => {
        most = Math.max(most, ++open);
        setTimeout(() => {
          open--;
          s.respond({ ':status': 200 });
          s.end();
        }, 5);
      },
      { maxConcurrentStreams: 2 },
    );
    const c = await client(url);
    await c.ping(); // the server's SETTINGS are in
    const all = Array.from({ length: 8 }, () => c.request({ ':method': 'GET', ':path': '/' }, true));
    expect((await Promise.all(all.map((s) => s.response))).map((h) => h.status)).toEqual(Array(8).fill(200));
    expect(most).toBe(2);
  });

  it('RST_STREAM from the server fails the stream with its code', async () => {
    const url = await nodeServer((s) => {
      s.on('error', () => {});
      s.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    });
    const c = await client(url);
    const err = (await c.request({ ':method': 'GET', ':path': '/reset' }, true).response.catch((e: unknown) => e)) as Http2StreamError;
    expect([err.message, err.code, err.retryable]).toEqual(['the server reset the stream (REFUSED_STREAM)', H2.REFUSED_STREAM, true]);
  });

  it('GOAWAY: streams past its last stream id fail as retryable (not processed); the one before it completes', async () => {
    // A scripted server: once two requests are in, GOAWAY(last = 1), then answer stream 1.
    const server = net.createServer((sock) => {
      sock.write(settingsFrame([]));
      let headers = 0;
      const parser = new FrameParser({
        onFrame: (f) => {
          if (f.type !== 1 || ++headers < 2) return;
          sock.write(goawayFrame(1, H2.NO_ERROR));
          sock.write(Buffer.concat(headersFrames(1, new HpackEncoder().encode([[':status', '200']]), { endStream: true })));
        },
        onStreamError: () => {},
      });
      let preface = false;
      sock.on('data', (d: Buffer) => {
        if (!preface) {
          preface = true;
          d = d.subarray(24);
        }
        parser.push(d);
      });
      sock.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((r) => server.close(r)));
    const c = await client(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    const one = c.request({ ':method': 'GET', ':path': '/1' }, true);
    const three = c.request({ ':method': 'GET', ':path': '/3' }, true);
    expect((await one.response).status).toBe(200);
    const err = (await three.response.catch((e: unknown) => e)) as Http2StreamError;
    expect([err.retryable, err.message]).toEqual([true, 'the server is going away (GOAWAY NO_ERROR) and did not process the request']);
    expect(c.closed).toBe(true);
    const after = (await c.request({ ':method': 'GET', ':path': '/' }, true).response.catch((e: unknown) => e)) as Http2StreamError;
    expect(after.retryable).toBe(true);
  });

  it('against our own server too, and a PING measures the round trip', async () => {
    const server = createHttp2Server(async (req, res) => {
      const body = await req.buffer();
      res.setHeader('x-len', String(body.length));
      res.addTrailers({ 'x-done': 'yes' });
      res.end(body);
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => server.close({ graceMs: 0 }));
    const c = await client(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    expect(await c.ping()).toBeGreaterThanOrEqual(0);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 70_000 }), { maxLength: 5 }), async (pieces) => {
        const s = c.request({ ':method': 'POST', ':path': '/' });
        for (const p of pieces) if (!s.write(p)) await s.drained();
        s.end();
        const all = Buffer.concat(pieces.map((p) => Buffer.from(p)));
        expect((await s.response).headers).toContainEqual(['x-len', String(all.length)]);
        expect((await readAll(s)).equals(all)).toBe(true);
        expect(await s.trailers).toEqual([['x-done', 'yes']]);
      }),
      { numRuns: 30 },
    );
    await c.close();
    expect(c.closed).toBe(true);
  });
});
