/**
 * covet/grpc on the wire, driven by node:http2 as a raw client: what the server sends byte by byte
 * (Trailers-Only, compression flags, status trailers), hostile inputs (limits at and one past, truncated
 * bodies, compressed flags without an encoding, unknown encodings, a zip bomb, bad grpc-timeout, wrong
 * method or content type), deadlines and cancellation seen by the handler, and backpressure both ways.
 */
import diagnostics from 'node:diagnostics_channel';
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, encodeEnvelope, GrpcError, method, Status, type GrpcServer, type ServerCall } from '../../lib/grpc/index.js';

const json = <T>() => ({ serialize: (v: T) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as T });
const raw = { serialize: (v: Buffer) => v, deserialize: (b: Buffer) => b };

const Demo = {
  Echo: method('/demo.Demo/Echo', 'unary', json<unknown>(), json<unknown>()),
  Bytes: method('/demo.Demo/Bytes', 'unary', raw, raw),
  Count: method('/demo.Demo/Count', 'server-streaming', json<{ n: number }>(), json<{ i: number }>()),
  Sum: method('/demo.Demo/Sum', 'client-streaming', raw, json<{ bytes: number }>()),
  Wait: method('/demo.Demo/Wait', 'unary', json<unknown>(), json<unknown>()),
  Grow: method('/demo.Demo/Grow', 'unary', json<{ n: number }>(), raw),
};

/** What the handlers saw, for the tests to read. */
const seen = { waitAbort: null as unknown, generated: 0, sumStarted: 0, readGate: null as null | (() => void) };

const impl = {
  Echo: (v: unknown) => v,
  Bytes: (b: Buffer) => b,
  Grow: (req: { n: number }) => Buffer.alloc(req.n),
  async *Count(req: { n: number }) {
    for (let i = 0; i < req.n; i++) {
      seen.generated = i + 1;
      yield { i };
    }
  },
  async Sum(reqs: AsyncIterable<Buffer>) {
    seen.sumStarted++;
    await new Promise<void>((resolve) => (seen.readGate = resolve)); // not reading until the test says so
    let bytes = 0;
    for await (const b of reqs) bytes += b.length;
    return { bytes };
  },
  Wait: (_: unknown, call: ServerCall) =>
    new Promise((_resolve, reject) =>
      call.signal.addEventListener('abort', () => {
        seen.waitAbort = call.signal.reason;
        reject(call.signal.reason as Error);
      }),
    ),
};

interface Answer {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | null;
  body: Buffer;
  /** Whether the response ended with the HEADERS frame (Trailers-Only). */
  headersOnly: boolean;
}

let server: GrpcServer;
let session: http2.ClientHttp2Session;
beforeAll(async () => {
  server = await createGrpcServer({ maxReceiveMessageLength: 1000, maxSendMessageLength: 2000, compression: 'gzip', compressMinBytes: 10 }).add(Demo, impl).listen({ host: '127.0.0.1' });
  session = http2.connect(`http://127.0.0.1:${server.port}`);
});
afterAll(async () => {
  session?.close();
  await server?.close(0);
});

function call(path: string, chunks: Buffer[], headers: http2.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | null = null;
    let headersOnly = false;
    const body: Buffer[] = [];
    s.on('response', (h, flags) => {
      head = h;
      headersOnly = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    s.on('trailers', (t) => (trailers = t));
    s.on('data', (d: Buffer) => body.push(d));
    s.on('end', () => resolve({ headers: head, trailers, body: Buffer.concat(body), headersOnly }));
    s.on('error', reject);
    for (const c of chunks) s.write(c);
    s.end();
  });
}

const status = (a: Answer) => ({ code: Number((a.trailers ?? a.headers)['grpc-status']), message: decodeURIComponent(String((a.trailers ?? a.headers)['grpc-message'] ?? '')) });
const msg = (v: unknown) => encodeEnvelope(Buffer.from(JSON.stringify(v)));

describe('what the server sends', () => {
  it('a unary answer: headers, one message, the status in trailers', async () => {
    const a = await call('/demo.Demo/Echo', [msg({ hi: 1 })]);
    expect(a.headers[':status']).toBe(200);
    expect(a.headers['content-type']).toBe('application/grpc');
    expect(a.headers['grpc-accept-encoding']).toBe('identity,gzip,deflate');
    expect(a.body.equals(msg({ hi: 1 }))).toBe(true); // under compressMinBytes: flag 0
    expect(a.trailers).toMatchObject({ 'grpc-status': '0' });
    expect(a.headersOnly).toBe(false);
  });

  it('compresses when the client accepts it: grpc-encoding gzip and the flag set on messages past compressMinBytes', async () => {
    const big = Buffer.alloc(500, 1);
    const a = await call('/demo.Demo/Bytes', [encodeEnvelope(big)], { 'grpc-accept-encoding': 'gzip' });
    expect(a.headers['grpc-encoding']).toBe('gzip');
    expect(a.body[0]).toBe(1);
    expect(a.body.readUInt32BE(1)).toBe(a.body.length - 5);
    expect((await import('node:zlib')).gunzipSync(a.body.subarray(5)).equals(big)).toBe(true);
    const plain = await call('/demo.Demo/Bytes', [encodeEnvelope(big)]); // accepts nothing: identity
    expect([plain.headers['grpc-encoding'], plain.body[0]]).toEqual([undefined, 0]);
  });

  it('a failure before any message: the status alone in the response headers (Trailers-Only)', async () => {
    const a = await call('/demo.Demo/Nope', [msg({})]);
    expect(a.headersOnly).toBe(true);
    expect(a.trailers).toBeNull();
    expect(a.headers[':status']).toBe(200);
    expect(status(a)).toEqual({ code: Status.UNIMPLEMENTED, message: 'method not found: /demo.Demo/Nope' });
  });

  it('a server stream sends each message, then the status', async () => {
    const a = await call('/demo.Demo/Count', [msg({ n: 3 })]);
    expect(a.body.equals(Buffer.concat([msg({ i: 0 }), msg({ i: 1 }), msg({ i: 2 })]))).toBe(true);
    expect(status(a).code).toBe(0);
  });
});

describe('hostile and malformed calls', () => {
  it('a message at the receive limit passes; one byte past is RESOURCE_EXHAUSTED, compressed or not', async () => {
    expect(status(await call('/demo.Demo/Bytes', [encodeEnvelope(Buffer.alloc(1000))])).code).toBe(0);
    expect(status(await call('/demo.Demo/Bytes', [encodeEnvelope(Buffer.alloc(1001))]))).toEqual({ code: Status.RESOURCE_EXHAUSTED, message: 'received message larger than max (1001 vs. 1000)' });
    const gz = (n: number) => encodeEnvelope(gzipSync(Buffer.alloc(n)), 1);
    expect(status(await call('/demo.Demo/Bytes', [gz(1000)], { 'grpc-encoding': 'gzip' })).code).toBe(0);
    expect(status(await call('/demo.Demo/Bytes', [gz(1001)], { 'grpc-encoding': 'gzip' })).code).toBe(Status.RESOURCE_EXHAUSTED);
  });

  it('an answer at maxSendMessageLength is sent; one byte past is RESOURCE_EXHAUSTED', async () => {
    const ok = await call('/demo.Demo/Grow', [msg({ n: 2000 })]);
    expect([status(ok).code, ok.body.length]).toEqual([0, 2005]);
    expect(status(await call('/demo.Demo/Grow', [msg({ n: 2001 })]))).toEqual({ code: Status.RESOURCE_EXHAUSTED, message: 'sent message larger than max (2001 vs. 2000)' });
  });

  it('a zip bomb, a compressed flag without an encoding, an unknown encoding, a truncated body', async () => {
    const bomb = gzipSync(Buffer.alloc(500_000)); // ~500 bytes on the wire, 500 kB inflated
    expect(bomb.length).toBeLessThan(1000);
    const b = await call('/demo.Demo/Bytes', [encodeEnvelope(bomb, 1)], { 'grpc-encoding': 'gzip' });
    expect(status(b)).toEqual({ code: Status.RESOURCE_EXHAUSTED, message: 'received message larger than max after decompression (more than 1000 bytes)' });
    const flag = await call('/demo.Demo/Bytes', [encodeEnvelope(Buffer.from('x'), 1)]);
    expect(status(flag)).toEqual({ code: Status.INTERNAL, message: 'a compressed message on a call without grpc-encoding' });
    const unknown = await call('/demo.Demo/Bytes', [encodeEnvelope(Buffer.from('x'), 1)], { 'grpc-encoding': 'snappy' });
    expect(status(unknown)).toEqual({ code: Status.UNIMPLEMENTED, message: 'message encoding "snappy" is not supported' });
    expect(unknown.headers['grpc-accept-encoding']).toBe('identity,gzip,deflate');
    const cut = await call('/demo.Demo/Bytes', [encodeEnvelope(Buffer.from('hello')).subarray(0, 7)]);
    expect(status(cut)).toEqual({ code: Status.INTERNAL, message: 'the stream ended inside a message (truncated length-prefixed message)' });
  });

  it('a unary call with no message or two: UNIMPLEMENTED (cardinality violation, statuscodes.md)', async () => {
    expect(status(await call('/demo.Demo/Echo', [])).code).toBe(Status.UNIMPLEMENTED);
    expect(status(await call('/demo.Demo/Echo', [msg(1), msg(2)])).code).toBe(Status.UNIMPLEMENTED);
  });

  it('a message that does not parse is INTERNAL, with no parser text', async () => {
    const a = await call('/demo.Demo/Echo', [encodeEnvelope(Buffer.from('{not json'))]);
    expect(status(a)).toEqual({ code: Status.INTERNAL, message: 'the request message could not be parsed' });
  });

  it('an invalid grpc-timeout is INTERNAL; wrong method 405, wrong content type 415', async () => {
    expect(status(await call('/demo.Demo/Echo', [msg(1)], { 'grpc-timeout': '1.5S' }))).toEqual({ code: Status.INTERNAL, message: 'invalid grpc-timeout: "1.5S"' });
    const get = await call('/demo.Demo/Echo', [], { ':method': 'PUT' });
    expect([get.headers[':status'], get.headers.allow]).toEqual([405, 'POST']);
    const ct = await call('/demo.Demo/Echo', [msg(1)], { 'content-type': 'application/grpc-webby' });
    expect(ct.headers[':status']).toBe(415);
    expect((await call('/demo.Demo/Echo', [msg(1)], { 'content-type': 'application/grpcx' })).headers[':status']).toBe(415);
    expect(status(await call('/demo.Demo/Echo', [msg(1)], { 'content-type': 'application/grpc+proto' })).code).toBe(0);
  });
});

describe('deadlines and cancellation reach the handler', () => {
  it('grpc-timeout: DEADLINE_EXCEEDED to the client, and the handler signal aborts with the same', async () => {
    seen.waitAbort = null;
    const a = await call('/demo.Demo/Wait', [msg(1)], { 'grpc-timeout': '20m' });
    expect(status(a)).toEqual({ code: Status.DEADLINE_EXCEEDED, message: 'deadline exceeded' });
    expect(seen.waitAbort).toEqual(new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded'));
    expect(server.router.calls).toBe(0);
  });

  it('RST_STREAM from the client: the handler signal aborts with CANCELLED', async () => {
    seen.waitAbort = null;
    const s = session.request({ ':method': 'POST', ':path': '/demo.Demo/Wait', 'content-type': 'application/grpc' });
    s.end(msg(1));
    await expect.poll(() => server.router.calls).toBe(1);
    s.close(http2.constants.NGHTTP2_CANCEL);
    await expect.poll(() => seen.waitAbort).toEqual(new GrpcError(Status.CANCELLED, 'the client cancelled the call'));
    expect(server.router.calls).toBe(0);
  });
});

describe('backpressure', () => {
  it('a reader that stops reading stops the server stream: the generator runs no further than the buffers allow', async () => {
    seen.generated = 0;
    const s = session.request({ ':method': 'POST', ':path': '/demo.Demo/Count', 'content-type': 'application/grpc' });
    s.pause(); // read nothing
    s.end(msg({ n: 1_000_000 })); // ~16 MB of messages if nothing held the generator back
    // Wait until the generator stops: sampled twice in a row at the same count.
    let last = -1;
    await expect.poll(() => {
      const same = seen.generated > 0 && seen.generated === last;
      last = seen.generated;
      return same;
    }, { timeout: 10_000, interval: 100 }).toBe(true);
    // What may be ahead of the reader: the client's stream window (64 KiB) and read buffer, and our send
    // queue, which stops taking data at our stream window (1 MiB) — about 1.2 MB, not 16 MB.
    const bytes = seen.generated * msg({ i: 999_999 }).length;
    expect(bytes).toBeLessThan(2 * 1024 * 1024);
    expect(seen.generated).toBeLessThan(1_000_000);
    s.close(http2.constants.NGHTTP2_CANCEL);
    await expect.poll(() => server.router.calls).toBe(0);
  });

  it('a client flood is bounded by the window: a handler that does not read stops the sender', async () => {
    seen.sumStarted = 0;
    const s = session.request({ ':method': 'POST', ':path': '/demo.Demo/Sum', 'content-type': 'application/grpc' });
    const chunk = encodeEnvelope(Buffer.alloc(900));
    const total = 8 * 1024 * 1024;
    for (let written = 0; written < total; written += chunk.length) s.write(chunk);
    await expect.poll(() => seen.sumStarted).toBe(1);
    // The server grants no more window than its stream window (1 MiB) and what it buffers (64 KiB) while
    // nothing is read: the rest stays queued at the sender.
    await new Promise((r) => setTimeout(r, 200));
    expect(s.bufferSize).toBeGreaterThan(total - 2 * 1024 * 1024);
    const queued = s.bufferSize;
    await new Promise((r) => setTimeout(r, 100));
    expect(s.bufferSize).toBe(queued);
    const answer = new Promise<http2.IncomingHttpHeaders>((resolve) => s.on('trailers', resolve));
    s.resume();
    s.end();
    seen.readGate!();
    const t = await answer;
    expect(t['grpc-status']).toBe('0');
  }, 20_000);
});

describe('keepalive enforcement', () => {
  it('a client that PINGs too often gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings"; by default a PING with no call in flight counts', async () => {
    const own = await createGrpcServer().add(Demo, impl).listen({ host: '127.0.0.1' });
    const c = http2.connect(`http://127.0.0.1:${own.port}`);
    try {
      const goaway = new Promise<[number, string]>((resolve) => c.on('goaway', (code, _last, data) => resolve([code, data?.toString() ?? ''])));
      c.on('error', () => {});
      await new Promise((r) => c.on('connect', r));
      // Each PING waits for its ACK (or the GOAWAY, which ends the session before the last is answered).
      for (let i = 0; i < 4; i++) await Promise.race([new Promise((r) => c.ping(Buffer.alloc(8), r)), goaway]);
      expect(await goaway).toEqual([http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 'too_many_pings']);
    } finally {
      c.destroy();
      await own.close(0);
    }
  });
});

describe('graceful shutdown', () => {
  it('close(grace): the call in flight finishes with its answer; the server then stops', async () => {
    let release: (() => void) | null = null;
    const Slow = { Hold: method('/demo.Slow/Hold', 'unary', json<unknown>(), json<unknown>()) };
    const own = await createGrpcServer().add(Slow, { Hold: (v: unknown) => new Promise((r) => (release = () => r(v))) }).listen({ host: '127.0.0.1' });
    const c = http2.connect(`http://127.0.0.1:${own.port}`);
    try {
      const s = c.request({ ':method': 'POST', ':path': '/demo.Slow/Hold', 'content-type': 'application/grpc' });
      const body: Buffer[] = [];
      s.on('data', (d: Buffer) => body.push(d));
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => s.on('trailers', resolve));
      const goaway = new Promise<number>((resolve) => c.on('goaway', resolve));
      c.on('error', () => {});
      s.end(msg('kept'));
      await expect.poll(() => own.router.calls).toBe(1);
      const closed = own.close(10_000);
      expect(await goaway).toBe(http2.constants.NGHTTP2_NO_ERROR); // told to go away, the call still running
      release!();
      expect((await trailers)['grpc-status']).toBe('0');
      expect(Buffer.concat(body).equals(msg('kept'))).toBe(true);
      await closed;
    } finally {
      c.destroy();
    }
  });
});

describe('the diagnostics channel', () => {
  it('covet:grpc.server.call.end tells each call: method, status (by number and name), protocol, duration', async () => {
    const seenCalls: Array<{ method: string; code: number; codeName: string; protocol: string; durationMs: number }> = [];
    const listen = (m: unknown) => void seenCalls.push(m as (typeof seenCalls)[number]);
    diagnostics.subscribe('covet:grpc.server.call.end', listen);
    try {
      await call('/demo.Demo/Echo', [msg(1)]);
      await call('/demo.Demo/Nope', [msg(1)]); // refused before a call exists: not a call
      await call('/demo.Demo/Echo', []);
      await call('/demo.Demo/Echo', [msg(1)], { 'content-type': 'application/grpc-web' });
    } finally {
      diagnostics.unsubscribe('covet:grpc.server.call.end', listen);
    }
    expect(seenCalls.map(({ method, code, codeName, protocol }) => [method, code, codeName, protocol])).toEqual([
      ['/demo.Demo/Echo', 0, 'OK', 'grpc'],
      ['/demo.Demo/Echo', 12, 'UNIMPLEMENTED', 'grpc'],
      ['/demo.Demo/Echo', 0, 'OK', 'grpc-web'],
    ]);
    expect(seenCalls.every((c) => c.durationMs >= 0)).toBe(true);
  });
});
