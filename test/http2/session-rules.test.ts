/**
 * The HTTP/2 session's request rules at their edges (#28, from session.ts's mutants), on raw frames: each
 * malformed request is reset with PROTOCOL_ERROR and the reason told to `onStreamError` (RFC 9113 §8.1.1,
 * §8.2, §8.3), the connection going on; each well-formed variant is served, with what the handler sees.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttp2Server, dataFrame, H2, headersFrames, pingFrame, PREFACE, rawFrame, settingsFrame, T_HEADERS, windowUpdateFrame, type Http2ProtocolError } from '../../lib/http2/index.js';
import type { Server } from '../../lib/net/index.js';
import { rawClient } from './raw-client.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

/** A server that answers with what it saw, and the stream errors it reported. */
async function serve() {
  const reasons: string[] = [];
  const server = createHttp2Server(
    (req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.method} ${req.url} host=${req.get('host') ?? ''} te=${req.get('te') ?? ''} cl=${req.get('content-length') ?? ''}`);
    },
    { onStreamError: (e: Http2ProtocolError) => void reasons.push(e.message) },
  );
  servers.push(server);
  const { port } = (await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo;
  const c = await rawClient(port);
  c.open();
  return { c, reasons };
}

/** Sends one request of these fields on stream `id`: the RST code, or the :status and the body. */
async function send(c: Awaited<ReturnType<typeof rawClient>>, id: number, fields: Array<[string, string]>, endStream = true): Promise<string> {
  c.write(...headersFrames(id, c.enc.encode(fields), { endStream }));
  await c.until(() => c.frames.some((f) => (f.type === 3 || f.type === T_HEADERS) && 'streamId' in f && f.streamId === id));
  const rst = c.frames.find((f) => f.type === 3 && f.streamId === id) as { code: number } | undefined;
  if (rst !== undefined) return `RST ${rst.code}`;
  await c.until(() => c.frames.some((f) => f.type === 0 && f.streamId === id && f.endStream));
  const body = Buffer.concat(c.frames.filter((f): f is Extract<typeof f, { type: 0 }> => f.type === 0 && f.streamId === id).map((f) => f.data)).toString();
  return `200 ${body}`;
}

const base: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'http'], [':path', '/p'], [':authority', 'example.com']];

describe('malformed requests: reset, and why', () => {
  it.each([
    ['a pseudo-header after a regular field', [[':method', 'GET'], [':scheme', 'http'], ['x-a', '1'], [':path', '/']], 'pseudo-header after a regular field'],
    ['an unknown pseudo-header', [...base, [':status', '200']], 'unknown pseudo-header :status'],
    ['a repeated :method', [...base, [':method', 'GET']], ':method repeated'],
    ['a repeated :path', [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':path', '/x']], ':path repeated'],
    ['a repeated :scheme', [[':method', 'GET'], [':scheme', 'http'], [':scheme', 'https'], [':path', '/']], ':scheme repeated'],
    ['a repeated :authority', [...base, [':authority', 'b']], ':authority repeated'],
    ['a repeated empty :protocol', [...base, [':protocol', ''], [':protocol', '']], ':protocol repeated'],
    ['connection', [...base, ['connection', 'close']], 'connection-specific field connection'],
    ['keep-alive', [...base, ['keep-alive', '5']], 'connection-specific field keep-alive'],
    ['proxy-connection', [...base, ['proxy-connection', 'x']], 'connection-specific field proxy-connection'],
    ['transfer-encoding', [...base, ['transfer-encoding', 'chunked']], 'connection-specific field transfer-encoding'],
    ['upgrade', [...base, ['upgrade', 'h2c']], 'connection-specific field upgrade'],
    ['te: gzip', [...base, ['te', 'gzip']], 'te other than "trailers"'],
    ['content-length not digits', [...base, ['content-length', '1e3']], 'invalid content-length'],
    ['content-length of 16 digits', [...base, ['content-length', '1000000000000000']], 'invalid content-length'],
    ['two different content-lengths', [...base, ['content-length', '1'], ['content-length', '2']], 'invalid content-length'],
    ['no :method', [[':scheme', 'http'], [':path', '/']], ':method missing'],
    ['no :path', [[':method', 'GET'], [':scheme', 'http']], ':path or :scheme missing'],
    ['no :scheme', [[':method', 'GET'], [':path', '/']], ':path or :scheme missing'],
    ['an empty :path', [[':method', 'GET'], [':scheme', 'http'], [':path', '']], ':path or :scheme missing'],
    ['a relative :path', [[':method', 'GET'], [':scheme', 'http'], [':path', 'p']], ':path is neither /... nor * (OPTIONS)'],
    ['* on GET', [[':method', 'GET'], [':scheme', 'http'], [':path', '*']], ':path is neither /... nor * (OPTIONS)'],
    ['CONNECT with :path', [[':method', 'CONNECT'], [':authority', 'a:443'], [':path', '/']], 'CONNECT needs :authority only (§8.5)'],
    ['CONNECT with :scheme', [[':method', 'CONNECT'], [':authority', 'a:443'], [':scheme', 'https']], 'CONNECT needs :authority only (§8.5)'],
    ['CONNECT without :authority', [[':method', 'CONNECT']], 'CONNECT needs :authority only (§8.5)'],
    [':protocol without extended CONNECT', [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'http'], [':path', '/'], [':authority', 'a']], ':protocol without extended CONNECT'],
    ['an empty :protocol', [[':method', 'CONNECT'], [':protocol', ''], [':scheme', 'http'], [':path', '/'], [':authority', 'a']], 'empty :protocol'],
    [':protocol on GET', [...base, [':protocol', 'websocket']], ':protocol without extended CONNECT'],
  ] as Array<[string, Array<[string, string]>, string]>)('%s', async (_name, fields, why) => {
    const { c, reasons } = await serve();
    expect(await send(c, 1, fields)).toBe(`RST ${H2.PROTOCOL_ERROR}`);
    expect(reasons).toEqual([`PROTOCOL_ERROR: malformed request: ${why} (§8.1.1)`]);
    // The connection goes on.
    expect(await send(c, 3, base)).toMatch(/^200 GET \/p/);
    c.sock.destroy();
  });

  it('content-length with END_STREAM on the HEADERS (no body can follow) is reset', async () => {
    const { c, reasons } = await serve();
    expect(await send(c, 1, [...base, ['content-length', '5']])).toBe(`RST ${H2.PROTOCOL_ERROR}`);
    expect(reasons).toEqual(['PROTOCOL_ERROR: content-length with no body (§8.1.1)']);
    c.sock.destroy();
  });
});

describe('well-formed variants are served', () => {
  it('te: trailers; 15-digit and repeated equal content-lengths; OPTIONS *; :authority as host unless host is given', async () => {
    const { c, reasons } = await serve();
    expect(await send(c, 1, [...base, ['te', 'trailers']])).toBe('200 GET /p host=example.com te=trailers cl=');
    expect(await send(c, 3, [...base, ['content-length', '0'], ['content-length', '0']])).toBe('200 GET /p host=example.com te= cl=0, 0');
    expect(await send(c, 5, [[':method', 'OPTIONS'], [':scheme', 'http'], [':path', '*'], [':authority', 'a']])).toBe('200 OPTIONS * host=a te= cl=');
    expect(await send(c, 7, [[':method', 'GET'], [':scheme', 'http'], [':path', '/h'], [':authority', 'auth'], ['host', 'given']])).toBe('200 GET /h host=given te= cl=');
    expect(await send(c, 9, [[':method', 'GET'], [':scheme', 'http'], [':path', '/n']])).toBe('200 GET /n host= te= cl=');
    expect(reasons).toEqual([]);
    c.sock.destroy();
  });
});

describe('connection rules', () => {
  async function serveWith(options: Record<string, unknown>) {
    const server = createHttp2Server((_req, res) => res.end('ok'), options);
    servers.push(server);
    const { port } = (await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo;
    const c = await rawClient(port);
    c.open();
    return c;
  }
  const goawayDebug = (c: Awaited<ReturnType<typeof rawClient>>) => {
    const g = c.frames.find((f) => f.type === 7) as { code: number; debug: Buffer } | undefined;
    return g === undefined ? null : `${g.code} ${g.debug.toString()}`;
  };

  it.each([
    ['PING', () => pingFrame(Buffer.alloc(8))],
    ['SETTINGS', () => settingsFrame([])],
    ['empty DATA', null],
    ['WINDOW_UPDATE', () => windowUpdateFrame(1, 1)], // stream 1 is closed by then
  ] as Array<[string, (() => Buffer) | null]>)('a flood of %s frames beyond the glitch budget ends the connection, naming them', async (kind, make) => {
    const c = await serveWith({ glitchBurst: 3, glitchRate: 1 });
    if (kind === 'WINDOW_UPDATE') expect(await send(c, 1, base)).toBe('200 ok');
    if (make === null) {
      c.write(...headersFrames(3, c.enc.encode(base), { endStream: false }));
      for (let i = 0; i < 20; i++) c.write(dataFrame(3, Buffer.alloc(0)));
    } else for (let i = 0; i < 20; i++) c.write(make());
    expect(await c.goaway()).toBe(H2.ENHANCE_YOUR_CALM);
    expect(goawayDebug(c)).toBe(`${H2.ENHANCE_YOUR_CALM} ENHANCE_YOUR_CALM: too many ${kind} frames`);
  });

  it('frames within the budget are answered (the client’s SETTINGS is one of them)', async () => {
    const c = await serveWith({ glitchBurst: 3, glitchRate: 1 });
    for (let i = 0; i < 2; i++) c.write(pingFrame(Buffer.alloc(8, i)));
    await c.until(() => c.frames.filter((f) => f.type === 6 && f.ack).length === 2);
    expect(await send(c, 1, base)).toBe('200 ok');
    expect(goawayDebug(c)).toBeNull();
    c.sock.destroy();
  });

  it('DATA on an idle stream is a connection error; on a closed one, a stream error', async () => {
    const c = await serveWith({});
    expect(await send(c, 1, base)).toBe('200 ok');
    c.write(dataFrame(1, Buffer.from('late')));
    expect(await c.rst(1)).toBe(H2.STREAM_CLOSED);
    c.write(dataFrame(5, Buffer.from('x')));
    expect(await c.goaway()).toBe(H2.PROTOCOL_ERROR);
    expect(goawayDebug(c)).toBe(`${H2.PROTOCOL_ERROR} PROTOCOL_ERROR: DATA on idle stream 5 (§5.1)`);
  });

  it('the first frame must be SETTINGS', async () => {
    const server = createHttp2Server((_req, res) => res.end('ok'));
    servers.push(server);
    const { port } = (await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo;
    const c = await rawClient(port);
    c.write(PREFACE, pingFrame(Buffer.alloc(8)));
    expect(await c.goaway()).toBe(H2.PROTOCOL_ERROR);
    expect(goawayDebug(c)).toBe(`${H2.PROTOCOL_ERROR} PROTOCOL_ERROR: the first frame must be SETTINGS (§3.4)`);
  });
});

describe('request bodies', () => {
  async function serveBodies(options: Record<string, unknown> = {}) {
    const reasons: string[] = [];
    const server = createHttp2Server(
      async (req, res) => {
        if (req.path === '/hold') return; // never reads, never answers
        let n = 0;
        for await (const chunk of req) n += (chunk as Buffer).length;
        res.end(`read ${n}`);
      },
      { ...options, onStreamError: (e: Http2ProtocolError) => void reasons.push(e.message) },
    );
    servers.push(server);
    const { port } = (await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo;
    const c = await rawClient(port);
    c.open();
    return { c, reasons };
  }
  /** Writes `frames`, then a PING, and waits for its ACK: everything the server wrote for them came before. */
  async function fenced(c: Awaited<ReturnType<typeof rawClient>>, ...frames: Buffer[]) {
    const tag = Buffer.alloc(8, c.frames.length % 256);
    c.write(...frames, pingFrame(tag));
    await c.until(() => c.frames.some((f) => f.type === 6 && f.ack && f.data.equals(tag)));
  }
  const updates = (c: Awaited<ReturnType<typeof rawClient>>, id: number) => c.frames.filter((f): f is Extract<typeof f, { type: 8 }> => f.type === 8 && f.streamId === id).map((f) => f.increment);

  it('a body stream’s window is given back once half of it is used, not a byte before', async () => {
    const { c } = await serveBodies({ initialWindowSize: 1000 });
    const hold: Array<[string, string]> = [[':method', 'POST'], [':scheme', 'http'], [':path', '/hold'], [':authority', 'a']];
    await fenced(c, ...headersFrames(1, c.enc.encode(hold), { endStream: false }), dataFrame(1, Buffer.alloc(499)));
    expect(updates(c, 1)).toEqual([]);
    await fenced(c, dataFrame(1, Buffer.alloc(1)));
    expect(updates(c, 1)).toEqual([500]);
    c.sock.destroy();
  });

  it('content-length is held to: more data, or less at END_STREAM, resets the stream', async () => {
    const { c, reasons } = await serveBodies();
    const post = (cl: string): Array<[string, string]> => [[':method', 'POST'], [':scheme', 'http'], [':path', '/'], [':authority', 'a'], ['content-length', cl]];
    c.write(...headersFrames(1, c.enc.encode(post('3')), { endStream: false }), dataFrame(1, Buffer.from('abcd')));
    expect(await c.rst(1)).toBe(H2.PROTOCOL_ERROR);
    c.write(...headersFrames(3, c.enc.encode(post('3')), { endStream: false }), dataFrame(3, Buffer.from('ab'), true));
    expect(await c.rst(3)).toBe(H2.PROTOCOL_ERROR);
    expect(reasons).toEqual(['PROTOCOL_ERROR: more data than content-length (§8.1.1)', 'PROTOCOL_ERROR: less data than content-length (§8.1.1)']);
    expect(await send(c, 5, [[':method', 'POST'], [':scheme', 'http'], [':path', '/'], [':authority', 'a'], ['content-length', '0']], true)).toBe('200 read 0');
    c.write(...headersFrames(7, c.enc.encode(post('3')), { endStream: false }), dataFrame(7, Buffer.from('abc'), true));
    await c.until(() => c.frames.some((f) => f.type === 0 && f.streamId === 7 && f.endStream));
    expect(Buffer.concat(c.frames.filter((f): f is Extract<typeof f, { type: 0 }> => f.type === 0 && f.streamId === 7).map((f) => f.data)).toString()).toBe('read 3');
    c.sock.destroy();
  });
});

describe('streams and trailers', () => {
  async function serveHolding(options: Record<string, unknown> = {}) {
    const reasons: string[] = [];
    const trailersSeen: string[] = [];
    const server = createHttp2Server(
      async (req, res) => {
        for await (const _ of req);
        trailersSeen.push(JSON.stringify(req.trailers ?? null));
        if (req.path === '/hold') return;
        res.end('ok');
      },
      { ...options, onStreamError: (e: Http2ProtocolError) => void reasons.push(e.message) },
    );
    servers.push(server);
    const { port } = (await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo;
    const c = await rawClient(port);
    c.open();
    return { c, reasons, trailersSeen };
  }
  const post: Array<[string, string]> = [[':method', 'POST'], [':scheme', 'http'], [':path', '/'], [':authority', 'a']];

  it('trailers: taken with END_STREAM; refused without it, with a pseudo-header, or malformed', async () => {
    const { c, reasons, trailersSeen } = await serveHolding();
    c.write(...headersFrames(1, c.enc.encode(post), { endStream: false }), dataFrame(1, Buffer.from('x')), ...headersFrames(1, c.enc.encode([['x-sum', '1']]), { endStream: true }));
    await c.until(() => c.frames.some((f) => f.type === 0 && f.streamId === 1 && f.endStream));
    expect(trailersSeen).toEqual([JSON.stringify(['x-sum', '1'])]);
    c.write(...headersFrames(3, c.enc.encode(post), { endStream: false }), ...headersFrames(3, c.enc.encode([['x-sum', '1']]), { endStream: false }));
    expect(await c.rst(3)).toBe(H2.PROTOCOL_ERROR);
    c.write(...headersFrames(5, c.enc.encode(post), { endStream: false }), ...headersFrames(5, c.enc.encode([[':path', '/x']]), { endStream: true }));
    expect(await c.rst(5)).toBe(H2.PROTOCOL_ERROR);
    c.write(...headersFrames(7, c.enc.encode(post), { endStream: false }), ...headersFrames(7, c.enc.encode([['x-bad', 'a\nb']]), { endStream: true }));
    expect(await c.rst(7)).toBe(H2.PROTOCOL_ERROR);
    expect(reasons).toEqual(['PROTOCOL_ERROR: trailers without END_STREAM (§8.1)', 'PROTOCOL_ERROR: pseudo-header in trailers (§8.1)', 'PROTOCOL_ERROR: malformed trailers: NUL, CR or LF in the value of x-bad (§8.2.1)']);
    c.sock.destroy();
  });

  it('HEADERS on a stream the client already ended is STREAM_CLOSED', async () => {
    const { c, reasons } = await serveHolding();
    c.write(...headersFrames(1, c.enc.encode([[':method', 'GET'], [':scheme', 'http'], [':path', '/hold'], [':authority', 'a']]), { endStream: true }));
    c.write(...headersFrames(1, c.enc.encode([['x-late', '1']]), { endStream: true }));
    expect(await c.rst(1)).toBe(H2.STREAM_CLOSED);
    expect(reasons).toEqual(['STREAM_CLOSED: HEADERS on a half-closed stream']);
    c.sock.destroy();
  });

  it('stream ids: an even one, or one not above the last, ends the connection', async () => {
    const even = await serveHolding();
    even.c.write(...headersFrames(2, even.c.enc.encode(base), { endStream: true }));
    expect(await even.c.goaway()).toBe(H2.PROTOCOL_ERROR);
    const debug = (c: Awaited<ReturnType<typeof rawClient>>) => (c.frames.find((f) => f.type === 7) as { debug: Buffer }).debug.toString();
    expect(debug(even.c)).toBe('PROTOCOL_ERROR: client stream id 2 is even (§5.1.1)');
    const back = await serveHolding();
    expect(await send(back.c, 5, base)).toBe('200 ok');
    back.c.write(...headersFrames(3, back.c.enc.encode(base), { endStream: true }));
    expect(await back.c.goaway()).toBe(H2.STREAM_CLOSED);
    expect(debug(back.c)).toBe('STREAM_CLOSED: stream 3 is closed (§5.1)');
  });

  it('maxConcurrentStreams: at the limit served, one past refused with REFUSED_STREAM', async () => {
    const { c, reasons } = await serveHolding({ maxConcurrentStreams: 2 });
    const hold: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'http'], [':path', '/hold'], [':authority', 'a']];
    c.write(...headersFrames(1, c.enc.encode(hold), { endStream: true }), ...headersFrames(3, c.enc.encode(hold), { endStream: true }), ...headersFrames(5, c.enc.encode(hold), { endStream: true }));
    expect(await c.rst(5)).toBe(H2.REFUSED_STREAM);
    expect(c.frames.some((f) => f.type === 3 && (f.streamId === 1 || f.streamId === 3))).toBe(false);
    expect(reasons).toEqual(['REFUSED_STREAM: too many concurrent streams (§5.1.2)']);
    c.sock.destroy();
  });
});

describe('windows and settings', () => {
  async function plain(options: Record<string, unknown> = {}) {
    const reasons: string[] = [];
    const server = createHttp2Server((req, res) => (req.path === '/hold' ? undefined : res.end('ok')), { ...options, onStreamError: (e: Http2ProtocolError) => void reasons.push(e.message) });
    servers.push(server);
    const { port } = (await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo;
    const c = await rawClient(port);
    c.open();
    return { c, reasons };
  }
  const debug = (c: Awaited<ReturnType<typeof rawClient>>) => (c.frames.find((f) => f.type === 7) as { debug: Buffer }).debug.toString();
  const hold: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'http'], [':path', '/hold'], [':authority', 'a']];
  const MAX = 2 ** 31 - 1;

  it('the connection window: up to 2^31-1 taken, one more ends the connection', async () => {
    const { c } = await plain();
    c.write(windowUpdateFrame(0, MAX - 65535));
    expect(await send(c, 1, base)).toBe('200 ok'); // its 2 bytes of DATA used 2 of the window
    c.write(windowUpdateFrame(0, 2)); // back at 2^31-1 exactly
    expect(await send(c, 3, base)).toBe('200 ok');
    c.write(windowUpdateFrame(0, 3));
    expect(await c.goaway()).toBe(H2.FLOW_CONTROL_ERROR);
    expect(debug(c)).toBe('FLOW_CONTROL_ERROR: connection window exceeds 2^31-1 (§6.9.1)');
  });

  it('a stream window: up to 2^31-1 taken, one more resets the stream; on an idle stream a connection error', async () => {
    const { c, reasons } = await plain();
    c.write(...headersFrames(1, c.enc.encode(hold), { endStream: true }), windowUpdateFrame(1, MAX - 65535));
    await send(c, 3, base);
    expect(c.frames.some((f) => f.type === 3 && f.streamId === 1)).toBe(false);
    c.write(windowUpdateFrame(1, 1));
    expect(await c.rst(1)).toBe(H2.FLOW_CONTROL_ERROR);
    expect(reasons).toEqual(['FLOW_CONTROL_ERROR: stream window exceeds 2^31-1 (§6.9.1)']);
    c.write(windowUpdateFrame(9, 1));
    expect(await c.goaway()).toBe(H2.PROTOCOL_ERROR);
    expect(debug(c)).toBe('PROTOCOL_ERROR: WINDOW_UPDATE on idle stream 9 (§5.1)');
  });

  it('SETTINGS_INITIAL_WINDOW_SIZE moves every open stream’s window; past 2^31-1 it ends the connection', async () => {
    const { c } = await plain();
    c.write(...headersFrames(1, c.enc.encode(hold), { endStream: true }), windowUpdateFrame(1, MAX - 65535 - 10));
    c.write(settingsFrame([[4, 65535 + 10]])); // the stream's window reaches 2^31-1 exactly
    await send(c, 3, base);
    expect(c.frames.some((f) => f.type === 7)).toBe(false);
    c.write(settingsFrame([[4, 65535 + 11]]));
    expect(await c.goaway()).toBe(H2.FLOW_CONTROL_ERROR);
    expect(debug(c)).toBe('FLOW_CONTROL_ERROR: a stream window exceeds 2^31-1 after SETTINGS_INITIAL_WINDOW_SIZE');
  });

  it('a client cannot push', async () => {
    const { c } = await plain();
    c.write(rawFrame(5, 4, 1, Buffer.from([0, 0, 0, 2, 0x82])));
    expect(await c.goaway()).toBe(H2.PROTOCOL_ERROR);
    expect(debug(c)).toBe('PROTOCOL_ERROR: a client cannot push (§8.4)');
  });
});
