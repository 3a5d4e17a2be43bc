/**
 * The HTTP/2 session as a state machine (#28, from session.ts's mutants): driven in process through
 * test/http2/session-harness.ts, every frame it writes read back, the clock faked where time matters. Each
 * block pins one part of RFC 9113 as session.ts implements it — the preface and SETTINGS (§3.4, §6.5),
 * flow control both ways (§5.2, §6.9), stream states (§5.1), trailers (§8.1), extended CONNECT (RFC 8441),
 * handler failures, stalls, idle and graceful shutdown (§6.8).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  H2, PREFACE, dataFrame, goawayFrame, headersFrames, parseSettingsPayload, pingFrame, priorityFrame, pushPromiseFrame,
  rawFrame, rstStreamFrame, settingsFrame, windowUpdateFrame, type Http2ProtocolError, type Http2Response, type Http2SessionOptions, type Http2Tunnel,
} from '../../lib/http2/index.js';
import { Http1Request, type MessageHead } from '../../lib/http1/index.js';
import { GET, harness, type Seen } from './session-harness.js';

const S_HEADER_TABLE_SIZE = 1;
const S_INITIAL_WINDOW_SIZE = 4;
const S_MAX_FRAME_SIZE = 5;
const MAX = 0x7fffffff;

const POST: Array<[string, string]> = [[':method', 'POST'], [':scheme', 'http'], [':path', '/up'], [':authority', 'a']];
const debug = (f: { debug: Buffer } | undefined) => f?.debug.toString();
const types = (fs: Seen[]) => fs.map((f) => f.type);

/** A handler that keeps each request and response for the test to drive. */
function held() {
  const streams: Array<{ req: Http1Request; res: Http2Response }> = [];
  return { streams, handler: (req: Http1Request, res: Http2Response) => void streams.push({ req, res }) };
}

afterEach(() => {
  vi.useRealTimers();
});

/** An open session with request 1 (these fields, ending or not) held by the handler, the frames so far read. */
function oneRequest(options: Http2SessionOptions = {}, fields: Array<[string, string]> = GET, endStream = true) {
  const { streams, handler } = held();
  const h = harness(handler, options);
  h.open();
  h.request(1, fields, endStream);
  h.fresh();
  return { h, streams };
}

describe('preface and SETTINGS (§3.4, §6.5)', () => {
  it('opens with its SETTINGS, the larger connection window and the settings timer', () => {
    const h = harness();
    expect(h.fresh()).toEqual([
      { type: 4, ack: false, settings: [[3, 100], [4, 1 << 20], [5, 16384], [6, 65536], [2, 0]] },
      { type: 8, streamId: 0, increment: 16 * 1024 * 1024 - 65535 },
    ]);
    expect(h.conn.timeout).toEqual({ kind: 'headers', ms: 10_000 });
  });

  it('advertises its options, ENABLE_CONNECT_PROTOCOL only with onConnect, no WINDOW_UPDATE at 65 535', () => {
    const o = { maxConcurrentStreams: 7, initialWindowSize: 1000, maxFrameSize: 20000, maxHeaderListSize: 999, connectionWindowSize: 65535, settingsTimeout: 50 };
    const h = harness(undefined, { ...o, onConnect: () => false });
    expect(h.fresh()).toEqual([{ type: 4, ack: false, settings: [[3, 7], [4, 1000], [5, 20000], [6, 999], [2, 0], [8, 1]] }]);
    expect(h.conn.timeout).toEqual({ kind: 'headers', ms: 50 });
    expect(harness(undefined, { connectionWindowSize: 65536 }).fresh()[1]).toEqual({ type: 8, streamId: 0, increment: 1 });
  });

  it('takes the preface in any split, and frames after it in the same chunk', () => {
    const h = harness();
    const bytes = Buffer.concat([PREFACE, settingsFrame([]), pingFrame(Buffer.from('abcdefgh'))]);
    for (let i = 0; i < PREFACE.length; i++) h.send(bytes.subarray(i, i + 1));
    h.fresh();
    h.send(bytes.subarray(PREFACE.length));
    expect(h.fresh()).toEqual([{ type: 4, ack: true, settings: [] }, { type: 6, ack: true, data: Buffer.from('abcdefgh') }]);
    const one = harness();
    one.fresh();
    one.send(bytes);
    expect(types(one.fresh())).toEqual([4, 6]);
  });

  it.each([
    ['a wrong first byte', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
    ['a wrong last byte', Buffer.concat([PREFACE.subarray(0, PREFACE.length - 1), Buffer.from('X')])],
    ['the preface and then more than it', Buffer.concat([PREFACE.subarray(0, 10), Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')])],
  ])('refuses %s with GOAWAY(PROTOCOL_ERROR)', (_name, bytes) => {
    const errors: Error[] = [];
    const h = harness(undefined, { onError: (e) => void errors.push(e) });
    h.send(bytes.subarray(0, 10));
    h.send(bytes.subarray(10));
    expect(h.goaway()).toMatchObject({ lastStreamId: 0, code: H2.PROTOCOL_ERROR });
    expect(debug(h.goaway())).toBe('PROTOCOL_ERROR: invalid connection preface (§3.4)');
    expect(h.conn.ended).toBe(true);
    // Told once: what arrives after the GOAWAY is not read (§5.4.1), and no shutdown follows it.
    expect(errors.map((e) => e.message)).toEqual(['PROTOCOL_ERROR: invalid connection preface (§3.4)']);
    h.fresh();
    h.send(PREFACE, settingsFrame([]), pingFrame(Buffer.alloc(8)));
    h.session.onShutdown();
    expect(h.fresh()).toEqual([]);
  });

  it.each([
    ['PING', pingFrame(Buffer.alloc(8))],
    ['a SETTINGS ACK', settingsFrame([], true)],
  ])('refuses %s as the first frame', (_name, frame) => {
    const h = harness();
    h.send(PREFACE, frame);
    expect(h.goaway()?.code).toBe(H2.PROTOCOL_ERROR);
    expect(debug(h.goaway())).toBe('PROTOCOL_ERROR: the first frame must be SETTINGS (§3.4)');
  });

  it('answers SETTINGS with an ACK, each time', () => {
    const h = harness();
    h.open([], false);
    h.send(settingsFrame([[S_MAX_FRAME_SIZE, 16384]]));
    expect(h.frames.filter((f) => f.type === 4 && f.ack)).toHaveLength(2);
  });

  it('a preface or SETTINGS ACK that never comes: GOAWAY(SETTINGS_TIMEOUT)', () => {
    const h = harness();
    h.session.onTimeout('headers');
    expect(h.goaway()).toMatchObject({ code: H2.SETTINGS_TIMEOUT });
    expect(debug(h.goaway())).toBe('SETTINGS_TIMEOUT: no preface or SETTINGS in time');
    expect(h.conn.ended).toBe(true);
  });

  it('the settings timer runs until our SETTINGS are acknowledged, then the idle timer while no stream is open', () => {
    const { streams, handler } = held();
    const h = harness(handler, { idleTimeout: 777 });
    h.open([], false);
    h.request(1);
    expect(h.conn.timeout?.kind).toBe('headers'); // a stream does not stop the settings timer (§6.5.3)
    streams[0]!.res.end('x');
    expect(h.conn.timeout?.kind).toBe('headers'); // nor does the end of the last stream
    h.send(settingsFrame([], true));
    expect(h.conn.timeout).toEqual({ kind: 'idle', ms: 777 });
    h.request(3);
    expect(h.conn.timeout).toBeNull();
    const g = harness(held().handler);
    g.open([], false);
    g.request(1);
    g.send(settingsFrame([], true)); // acknowledged with a stream open: no timer at all
    expect(g.conn.timeout).toBeNull();
  });

  it('parseSettingsPayload reads an HTTP2-Settings payload as a SETTINGS frame', () => {
    const p = settingsFrame([[3, 10], [4, 65535]]).subarray(9);
    expect(parseSettingsPayload(p)).toEqual([[3, 10], [4, 65535]]);
    expect(parseSettingsPayload(Buffer.alloc(0))).toEqual([]);
    expect(() => parseSettingsPayload(Buffer.alloc(5))).toThrow(/FRAME_SIZE_ERROR/);
  });
});

describe("the peer's settings", () => {
  it('SETTINGS_HEADER_TABLE_SIZE shrinks our encoder table (a size update opens the next block); larger values stay 4096', () => {
    const h = harness();
    h.open([[S_HEADER_TABLE_SIZE, 0]]);
    h.request(1);
    const hs = h.frames.find((f) => f.type === 1) as Extract<Seen, { type: 1 }>;
    expect(hs.block[0]).toBe(0x20); // dynamic table size update to 0 (RFC 7541 §6.3)
    const big = harness();
    big.open([[S_HEADER_TABLE_SIZE, 65536]]);
    big.request(1);
    // A size update to 4096 (0x20 | 31, then 4065 as a varint), not to 65 536.
    expect([...(big.frames.find((f) => f.type === 1) as Extract<Seen, { type: 1 }>).block.subarray(0, 3)]).toEqual([0x3f, 0xe1, 0x1f]);
  });

  it('SETTINGS_MAX_FRAME_SIZE: DATA frames up to it', () => {
    const h = harness((_req, res) => res.end(Buffer.alloc(20000, 97)));
    h.open([[S_MAX_FRAME_SIZE, 20000]]);
    h.request(1);
    expect(h.frames.filter((f) => f.type === 0).map((f) => (f as { data: Buffer }).data.length)).toEqual([20000]);
    const d = harness((_req, res) => res.end(Buffer.alloc(20000, 97)));
    d.open();
    d.request(1);
    expect(d.frames.filter((f) => f.type === 0).map((f) => (f as { data: Buffer }).data.length)).toEqual([16384, 3616]);
  });

  it('SETTINGS_INITIAL_WINDOW_SIZE applies its change to open streams (§6.9.2), and past 2^31-1 is FLOW_CONTROL_ERROR', () => {
    const h = harness((_req, res) => res.end(Buffer.alloc(100, 97)));
    h.open([[S_INITIAL_WINDOW_SIZE, 10]]);
    h.request(1);
    expect(h.stream(1).body).toHaveLength(10);
    h.send(settingsFrame([[S_INITIAL_WINDOW_SIZE, 30]]));
    expect(h.stream(1).body).toHaveLength(30);
    h.send(settingsFrame([[S_INITIAL_WINDOW_SIZE, 25]])); // shrinks: window -5, nothing sent
    h.send(windowUpdateFrame(1, 5));
    expect(h.stream(1).body).toHaveLength(30);
    h.send(windowUpdateFrame(1, 1));
    expect(h.stream(1).body).toHaveLength(31);
    // Window now 0 with 25 as the initial value: 2^31-1-25 more is the most it may take.
    h.send(windowUpdateFrame(1, MAX - 31 - 25));
    expect(h.goaway()).toBeUndefined();
    const o = harness(held().handler);
    o.open([[S_INITIAL_WINDOW_SIZE, 0]]);
    o.request(1);
    o.send(windowUpdateFrame(1, MAX));
    o.send(settingsFrame([[S_INITIAL_WINDOW_SIZE, 0]]));
    expect(o.goaway()).toBeUndefined();
    o.send(settingsFrame([[S_INITIAL_WINDOW_SIZE, 1]]));
    expect(o.goaway()?.code).toBe(H2.FLOW_CONTROL_ERROR);
    expect(debug(o.goaway())).toBe('FLOW_CONTROL_ERROR: a stream window exceeds 2^31-1 after SETTINGS_INITIAL_WINDOW_SIZE');
  });
});

describe('frames that cost work without a request: the glitch budget', () => {
  const make = {
    PING: () => pingFrame(Buffer.alloc(8)),
    SETTINGS: () => settingsFrame([]),
    'empty DATA': () => dataFrame(1, Buffer.alloc(0)),
    WINDOW_UPDATE: () => windowUpdateFrame(3, 1),
  };
  it.each(Object.keys(make) as Array<keyof typeof make>)('%s: the burst is allowed, one past it is ENHANCE_YOUR_CALM', (kind) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const h = harness(held().handler, { glitchBurst: 4, glitchRate: 1 });
    h.open(); // the client's SETTINGS is the first glitch
    h.request(1, POST, false);
    h.request(3);
    h.send(rstStreamFrame(3, H2.CANCEL)); // stream 3 closed: a WINDOW_UPDATE on it is a glitch
    for (let i = 0; i < 3; i++) h.send(make[kind]());
    expect(h.goaway()).toBeUndefined();
    h.send(make[kind]());
    expect(h.goaway()?.code).toBe(H2.ENHANCE_YOUR_CALM);
    expect(debug(h.goaway())).toBe(`ENHANCE_YOUR_CALM: too many ${kind} frames`);
  });

  it('frames that carry work cost nothing: ACKs, DATA with bytes or END_STREAM, WINDOW_UPDATE on the connection or an open stream', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const h = harness(held().handler, { glitchBurst: 1, glitchRate: 1 });
    h.open();
    h.request(1, POST, false);
    for (let i = 0; i < 20; i++) {
      h.send(pingFrame(Buffer.alloc(8), true), settingsFrame([], true), dataFrame(1, Buffer.from('x')), windowUpdateFrame(0, 1), windowUpdateFrame(1, 1));
    }
    h.send(dataFrame(1, Buffer.alloc(0), true));
    expect(h.goaway()).toBeUndefined();
  });

  it('refills at its rate per second', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const h = harness(undefined, { glitchBurst: 2, glitchRate: 10 });
    h.open(); // 1 left
    h.send(pingFrame(Buffer.alloc(8))); // 0 left
    vi.advanceTimersByTime(99); // 0.99 of a token
    h.send(pingFrame(Buffer.alloc(8), true));
    vi.advanceTimersByTime(1); // 1 token
    h.send(pingFrame(Buffer.alloc(8)));
    expect(h.goaway()).toBeUndefined();
    h.send(pingFrame(Buffer.alloc(8)));
    expect(h.goaway()?.code).toBe(H2.ENHANCE_YOUR_CALM);
    const w = harness(undefined, { glitchBurst: 2, glitchRate: 10 });
    w.open();
    w.send(pingFrame(Buffer.alloc(8)));
    vi.advanceTimersByTime(99);
    w.send(pingFrame(Buffer.alloc(8)));
    expect(w.goaway()?.code).toBe(H2.ENHANCE_YOUR_CALM);
  });

  it('rapid reset: the reset burst is allowed, one past it is ENHANCE_YOUR_CALM', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const h = harness(held().handler, { resetBurst: 3, resetRate: 1 });
    h.open();
    for (let id = 1; id <= 7; id += 2) {
      h.request(id);
      h.send(rstStreamFrame(id, H2.CANCEL));
      if (id <= 5) expect(h.goaway()).toBeUndefined();
    }
    expect(h.goaway()?.code).toBe(H2.ENHANCE_YOUR_CALM);
    expect(debug(h.goaway())).toBe('ENHANCE_YOUR_CALM: too many stream resets');
  });
});

describe('connection-level frames', () => {
  it('PING is answered with its data; an ACK is not answered', () => {
    const h = harness();
    h.open();
    h.fresh();
    h.send(pingFrame(Buffer.from('12345678')), pingFrame(Buffer.from('abcdefgh'), true));
    expect(h.fresh()).toEqual([{ type: 6, ack: true, data: Buffer.from('12345678') }]);
  });

  it('PRIORITY is ignored (§5.3.2); PUSH_PROMISE from a client is PROTOCOL_ERROR (§8.4)', () => {
    const h = harness();
    h.open();
    h.fresh();
    h.send(priorityFrame(1, { exclusive: false, dependency: 0, weight: 16 }));
    expect(h.fresh()).toEqual([]);
    h.send(pushPromiseFrame(1, 2, Buffer.alloc(0)));
    expect(h.goaway()?.code).toBe(H2.PROTOCOL_ERROR);
    expect(debug(h.goaway())).toBe('PROTOCOL_ERROR: a client cannot push (§8.4)');
  });

  it("the client's GOAWAY: streams in flight finish, new ones are refused, then the connection ends", () => {
    const { streams, handler } = held();
    const reasons: string[] = [];
    const h = harness(handler, { onStreamError: (e) => void reasons.push(e.message) });
    h.open();
    h.request(1);
    h.send(goawayFrame(1, H2.NO_ERROR));
    expect(h.conn.ended).toBe(false);
    h.request(3);
    expect(h.stream(3).rst).toBe(H2.REFUSED_STREAM);
    expect(reasons).toEqual(['REFUSED_STREAM: going away']);
    streams[0]!.res.end('done');
    expect(h.stream(1).body).toBe('done');
    expect(h.conn.ended).toBe(true);
    const idle = harness();
    idle.open();
    idle.send(goawayFrame(0, H2.NO_ERROR));
    expect(idle.conn.ended).toBe(true);
  });

  it('WINDOW_UPDATE: the connection window up to 2^31-1, one past is FLOW_CONTROL_ERROR (§6.9.1)', () => {
    const h = harness();
    h.open();
    h.send(windowUpdateFrame(0, MAX - 65535));
    expect(h.goaway()).toBeUndefined();
    h.send(windowUpdateFrame(0, 1));
    expect(h.goaway()?.code).toBe(H2.FLOW_CONTROL_ERROR);
    expect(debug(h.goaway())).toBe('FLOW_CONTROL_ERROR: connection window exceeds 2^31-1 (§6.9.1)');
  });

  it('WINDOW_UPDATE: a stream window up to 2^31-1, one past resets the stream only', () => {
    const reasons: string[] = [];
    const h = harness(held().handler, { onStreamError: (e) => void reasons.push(e.message) });
    h.open();
    h.request(1);
    h.send(windowUpdateFrame(1, MAX - 65535));
    expect(h.stream(1).rst).toBeNull();
    h.send(windowUpdateFrame(1, 1));
    expect(h.stream(1).rst).toBe(H2.FLOW_CONTROL_ERROR);
    expect(reasons).toEqual(['FLOW_CONTROL_ERROR: stream window exceeds 2^31-1 (§6.9.1)']);
    expect(h.goaway()).toBeUndefined();
  });

  it.each([
    ['WINDOW_UPDATE', () => windowUpdateFrame(5, 1), 'WINDOW_UPDATE on idle stream 5 (§5.1)'],
    ['RST_STREAM', () => rstStreamFrame(5, H2.CANCEL), 'RST_STREAM on idle stream 5 (§5.1)'],
    ['DATA', () => dataFrame(5, Buffer.from('x')), 'DATA on idle stream 5 (§5.1)'],
  ])('%s on an idle stream is PROTOCOL_ERROR; on a closed one it is not', (_name, frame, why) => {
    const h = harness();
    h.open();
    h.request(3);
    h.send(rstStreamFrame(3, H2.CANCEL), windowUpdateFrame(3, 1), rstStreamFrame(1, H2.CANCEL));
    expect(h.goaway()).toBeUndefined();
    h.send(frame());
    expect(h.goaway()?.code).toBe(H2.PROTOCOL_ERROR);
    expect(debug(h.goaway())).toBe(`PROTOCOL_ERROR: ${why}`);
  });

  it('a failure inside a callback is not a protocol error: it is thrown to the connection', () => {
    const h = harness(undefined, {
      onStreamError: () => {
        throw new Error('logger down');
      },
    });
    h.open();
    expect(() => h.request(2 + 1, [[':method', 'GET']])).toThrow('logger down');
    expect(h.goaway()).toBeUndefined();
  });
});

describe('streams (§5.1)', () => {
  it.each([
    ['even', [2], H2.PROTOCOL_ERROR, 'PROTOCOL_ERROR: client stream id 2 is even (§5.1.1)', 0],
    ['reused', [1, 1], H2.STREAM_CLOSED, 'STREAM_CLOSED: stream 1 is closed (§5.1)', 1],
    ['lower than the last', [5, 3], H2.STREAM_CLOSED, 'STREAM_CLOSED: stream 3 is closed (§5.1)', 5],
  ] as Array<[string, number[], number, string, number]>)('a stream id %s ends the connection (§5.1.1)', (_name, ids, code, why, last) => {
    const h = harness();
    h.open();
    for (const id of ids) h.request(id);
    expect(h.goaway()).toMatchObject({ code, lastStreamId: last });
    expect(debug(h.goaway())).toBe(why);
  });

  it('maxConcurrentStreams: that many open, one more refused; a slot freed is usable', () => {
    const { streams, handler } = held();
    const reasons: string[] = [];
    const h = harness(handler, { maxConcurrentStreams: 2, onStreamError: (e) => void reasons.push(e.message) });
    h.open();
    h.request(1);
    h.request(3);
    h.request(5);
    expect([h.stream(1).rst, h.stream(3).rst, h.stream(5).rst]).toEqual([null, null, H2.REFUSED_STREAM]);
    expect(reasons).toEqual(['REFUSED_STREAM: too many concurrent streams (§5.1.2)']);
    streams[0]!.res.end();
    h.request(7);
    expect(h.stream(7).rst).toBeNull();
    expect(streams).toHaveLength(3);
  });

  it('the request the handler sees: method, url, headers, address, body flags', () => {
    const { streams, handler } = held();
    const h = harness(handler);
    h.open();
    h.request(1, [[':method', 'GET'], [':scheme', 'https'], [':path', '/a?b=1'], [':authority', 'ex.org'], ['accept', '*/*']]);
    h.request(3, [...POST, ['content-length', '12']], false);
    h.request(5, POST, false);
    h.request(7, [[':method', 'CONNECT'], [':authority', 'ex.org:443']], false);
    const [get, cl, chunked, connect] = streams.map((s) => s.req);
    expect(get).toMatchObject({ method: 'GET', url: '/a?b=1', httpVersion: '2.0', rawHeaders: ['host', 'ex.org', 'accept', '*/*'], remoteAddress: '192.0.2.7' });
    expect(get).toMatchObject({ keepAlive: true, upgrade: false, contentLength: -1, chunked: false, expectContinue: false, complete: true });
    expect(cl).toMatchObject({ contentLength: 12, chunked: false, complete: false });
    expect(chunked).toMatchObject({ contentLength: -1, chunked: true, complete: false });
    expect(connect).toMatchObject({ method: 'CONNECT', url: 'ex.org:443', rawHeaders: ['host', 'ex.org:443'] });
  });

  it('requests that are well formed at the edges: 12-digit content-length, OPTIONS *, a host field beside :authority, no :authority', () => {
    const { streams, handler } = held();
    const h = harness(handler);
    h.open();
    h.request(1, [...POST, ['content-length', '123456789012']], false);
    h.request(3, [[':method', 'OPTIONS'], [':scheme', 'http'], [':path', '*'], [':authority', 'a']]);
    h.request(5, [...GET, ['host', 'given']]);
    h.request(7, [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], ['host', 'h']]);
    expect(streams.map((s) => [s.req.url, s.req.rawHeaders.join(' ')])).toEqual([
      ['/up', 'host a content-length 123456789012'],
      ['*', 'host a'],
      ['/', 'host given'],
      ['/', 'host h'],
    ]);
  });

  it.each([
    ['two content-lengths, 0 then 5', [...POST, ['content-length', '0'], ['content-length', '5']], 'invalid content-length'],
    ['OPTIONS with a relative path', [[':method', 'OPTIONS'], [':scheme', 'http'], [':path', 'x'], [':authority', 'a']], ':path is neither /... nor * (OPTIONS)'],
    [':protocol on GET with onConnect', [...GET, [':protocol', 'websocket']], ':protocol without extended CONNECT'],
    ['extended CONNECT without :path', [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'http'], [':authority', 'a']], 'extended CONNECT needs :scheme, :path and :authority'],
    ['extended CONNECT without :scheme', [[':method', 'CONNECT'], [':protocol', 'websocket'], [':path', '/'], [':authority', 'a']], 'extended CONNECT needs :scheme, :path and :authority'],
    ['extended CONNECT without :authority', [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'http'], [':path', '/']], 'extended CONNECT needs :scheme, :path and :authority'],
  ] as Array<[string, Array<[string, string]>, string]>)('malformed: %s', (_name, fields, why) => {
    const reasons: string[] = [];
    const h = harness(undefined, { onConnect: () => true, onStreamError: (e) => void reasons.push(e.message) });
    h.open();
    h.request(1, fields, false);
    expect(h.stream(1).rst).toBe(H2.PROTOCOL_ERROR);
    expect(reasons).toEqual([`PROTOCOL_ERROR: malformed request: ${why} (§8.1.1)`]);
  });

  it('HPACK failures end the connection: COMPRESSION_ERROR, or ENHANCE_YOUR_CALM for a header list too large', () => {
    const bad = harness();
    bad.open();
    bad.send(rawFrame(1, 0x4 | 0x1, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]))); // index far past both tables
    expect(bad.goaway()?.code).toBe(H2.COMPRESSION_ERROR);
    const big = harness(undefined, { maxHeaderListSize: 100 });
    big.open();
    big.request(1, [...GET, ['x-big', 'v'.repeat(100)]]);
    expect(big.goaway()?.code).toBe(H2.ENHANCE_YOUR_CALM);
  });

  it('a RST_STREAM from the client aborts the body reader and closes the response', async () => {
    const { streams, handler } = held();
    const h = harness(handler);
    h.open();
    h.request(1, POST, false);
    const { req, res } = streams[0]!;
    const closed = vi.fn();
    res.on('close', closed);
    const reading = req.buffer();
    h.send(rstStreamFrame(1, H2.CANCEL));
    await expect(reading).rejects.toThrow(/before the request body was complete/);
    expect(closed).toHaveBeenCalledTimes(1);
    h.fresh();
    expect(res.write('more')).toBe(false);
    res.end('late');
    expect(h.fresh()).toEqual([]); // nothing is written on a closed stream
  });

  it('nothing is written once the connection is closed', () => {
    const { h, streams } = oneRequest();
    h.conn.closed = true;
    streams[0]!.res.end('x');
    expect(h.fresh()).toEqual([]);
  });

  it('closing one of two streams does not arm the idle timer; closing the last does', () => {
    const { streams, handler } = held();
    const h = harness(handler, { idleTimeout: 5 });
    h.open();
    h.request(1);
    h.request(3);
    streams[0]!.res.end();
    expect(h.conn.timeout).toBeNull();
    streams[1]!.res.end();
    expect(h.conn.timeout).toEqual({ kind: 'idle', ms: 5 });
  });

  it('a response with END_STREAM on its HEADERS (204, HEAD) closes the stream', () => {
    const h = harness((req, res) => {
      res.statusCode = req.method === 'HEAD' ? 200 : 204;
      res.end(req.method === 'HEAD' ? 'body not sent' : undefined);
    });
    h.open();
    h.request(1, [[':method', 'HEAD'], [':scheme', 'http'], [':path', '/'], [':authority', 'a']]);
    h.request(3);
    expect(h.stream(1)).toMatchObject({ status: '200', body: '', ended: true });
    expect(h.stream(1).headers).toContainEqual(['content-length', '13']);
    expect(h.stream(3)).toMatchObject({ status: '204', body: '', ended: true });
    expect(h.frames.filter((f) => f.type === 0)).toEqual([]);
    expect(h.conn.timeout?.kind).toBe('idle');
  });
});

describe('request bodies and the receive windows (§6.9)', () => {
  it('the connection window: its size is accepted, one octet more is FLOW_CONTROL_ERROR', () => {
    const o = { maxFrameSize: 100_000, initialWindowSize: 1 << 20, connectionWindowSize: 65535 };
    const h = harness(held().handler, o);
    h.open();
    h.request(1, POST, false);
    h.send(dataFrame(1, Buffer.alloc(65535)));
    expect(h.goaway()).toBeUndefined();
    const over = harness(held().handler, o);
    over.open();
    over.request(1, POST, false);
    over.send(dataFrame(1, Buffer.alloc(65536)));
    expect(over.goaway()?.code).toBe(H2.FLOW_CONTROL_ERROR);
    expect(debug(over.goaway())).toBe('FLOW_CONTROL_ERROR: connection receive window exceeded (§6.9.1)');
  });

  it('the connection window is given back when half of it has arrived, at once and exactly', () => {
    const h = harness(held().handler, { connectionWindowSize: 131072, initialWindowSize: 1 << 20 });
    h.open();
    h.request(1, POST, false);
    h.fresh();
    for (let i = 0; i < 3; i++) h.send(dataFrame(1, Buffer.alloc(16384)));
    expect(h.fresh().filter((f) => f.type === 8)).toEqual([]);
    h.send(dataFrame(1, Buffer.alloc(16384)));
    expect(h.fresh()).toEqual([{ type: 8, streamId: 0, increment: 65536 }]);
    // The window given back counts: another 131 072 octets fit.
    for (let i = 0; i < 8; i++) h.send(dataFrame(1, Buffer.alloc(16384)));
    expect(h.goaway()).toBeUndefined();
  });

  it('the stream window: its size is accepted, one octet more resets the stream', () => {
    const reasons: string[] = [];
    const h = harness(held().handler, { initialWindowSize: 100, onStreamError: (e) => void reasons.push(e.message) });
    h.open();
    h.request(1, POST, false);
    h.send(dataFrame(1, Buffer.alloc(100)));
    expect(h.stream(1).rst).toBeNull();
    h.request(3, POST, false);
    h.send(dataFrame(3, Buffer.alloc(101)));
    expect(h.stream(3).rst).toBe(H2.FLOW_CONTROL_ERROR);
    expect(reasons).toEqual(['FLOW_CONTROL_ERROR: stream receive window exceeded (§6.9.1)']);
  });

  it('the stream window is given back as the body is read, padding with it, and never while the reader is full', async () => {
    const { h, streams } = oneRequest({ initialWindowSize: 200_000 }, POST, false);
    h.send(dataFrame(1, Buffer.alloc(5, 97), false, 10)); // 16 octets of window: 1 + 10 padding + 5
    for (let i = 0; i < 6; i++) h.send(dataFrame(1, Buffer.alloc(16384, 98))); // 98 309 in all: past 64 KiB, the reader is full
    h.send(dataFrame(1, Buffer.alloc(1700, 99))); // 100 009: half the window, but the reader is full
    expect(h.fresh().filter((f) => f.type === 8)).toEqual([]);
    const flushes = h.conn.flushes;
    const body = streams[0]!.req.buffer(1 << 20);
    await new Promise((r) => setImmediate(r));
    const credits = h.fresh().filter((f) => f.type === 8);
    expect(credits).toEqual([{ type: 8, streamId: 1, increment: 100_020 }]); // the body and the 11 octets of padding
    expect(h.conn.flushes).toBeGreaterThan(flushes);
    h.send(dataFrame(1, Buffer.alloc(0), true));
    expect((await body).length).toBe(5 + 6 * 16384 + 1700);
  });

  it('a small window is given back at half without reading; empty DATA adds no chunk', async () => {
    const { h, streams } = oneRequest({ initialWindowSize: 1000 }, POST, false);
    h.send(dataFrame(1, Buffer.alloc(499)));
    expect(h.fresh()).toEqual([]);
    h.send(dataFrame(1, Buffer.alloc(1)));
    expect(h.fresh()).toEqual([{ type: 8, streamId: 1, increment: 500 }]);
    h.send(dataFrame(1, Buffer.alloc(0)), dataFrame(1, Buffer.from('z'), true));
    const chunks: number[] = [];
    for await (const c of streams[0]!.req) chunks.push(c.length);
    expect(chunks).toEqual([499, 1, 1]);
  });

  it('content-length: more DATA than declared, or less at END_STREAM, or none with END_STREAM on HEADERS, is PROTOCOL_ERROR', () => {
    const reasons: string[] = [];
    const h = harness(held().handler, { onStreamError: (e) => void reasons.push(e.message) });
    h.open();
    h.request(1, [...POST, ['content-length', '0']], false);
    h.send(dataFrame(1, Buffer.from('x')));
    h.request(3, [...POST, ['content-length', '3']], false);
    h.send(dataFrame(3, Buffer.from('ab'), true));
    h.request(5, [...POST, ['content-length', '3']], true);
    h.request(7, [...POST, ['content-length', '0']], true);
    h.request(9, [...POST, ['content-length', '3']], false);
    h.send(dataFrame(9, Buffer.from('abc'), true));
    expect([1, 3, 5, 7, 9].map((id) => h.stream(id).rst)).toEqual([H2.PROTOCOL_ERROR, H2.PROTOCOL_ERROR, H2.PROTOCOL_ERROR, null, null]);
    expect(reasons).toEqual([
      'PROTOCOL_ERROR: more data than content-length (§8.1.1)',
      'PROTOCOL_ERROR: less data than content-length (§8.1.1)',
      'PROTOCOL_ERROR: content-length with no body (§8.1.1)',
    ]);
  });

  it('DATA on a half-closed (remote) or closed stream is STREAM_CLOSED; the connection goes on', () => {
    const reasons: string[] = [];
    const h = harness(held().handler, { onStreamError: (e) => void reasons.push(e.message) });
    h.open();
    h.request(1);
    h.send(dataFrame(1, Buffer.from('x')));
    expect(h.stream(1).rst).toBe(H2.STREAM_CLOSED);
    h.send(dataFrame(1, Buffer.from('y')));
    expect(reasons).toEqual(['STREAM_CLOSED: DATA on a closed stream (§5.1)', 'STREAM_CLOSED: DATA on a closed stream (§5.1)']);
    expect(h.goaway()).toBeUndefined();
  });

  it('a response that ends before its request body: the body is still taken, END_STREAM closes the stream', () => {
    const h = harness((_req, res) => res.end('early'));
    h.open();
    h.request(1, POST, false);
    expect(h.stream(1)).toMatchObject({ body: 'early', ended: true });
    h.send(dataFrame(1, Buffer.from('late body')));
    expect(h.stream(1).rst).toBeNull();
    expect(h.conn.timeout).toBeNull();
    h.send(dataFrame(1, Buffer.alloc(0), true));
    expect(h.conn.timeout?.kind).toBe('idle'); // closed: no stream left
    h.send(dataFrame(1, Buffer.from('x')));
    expect(h.stream(1).rst).toBe(H2.STREAM_CLOSED);
  });
});

describe('trailers (§8.1)', () => {
  it('request trailers reach the handler; on a stream whose response has ended they close it', async () => {
    const { streams, handler } = held();
    const h = harness(handler);
    h.open();
    h.request(1, POST, false);
    h.send(dataFrame(1, Buffer.from('b')));
    h.send(...headersFrames(1, h.enc.encode([['x-sum', '1'], ['x-b', '2']]), { endStream: true }));
    await streams[0]!.req.buffer();
    expect(streams[0]!.req.trailers).toEqual(['x-sum', '1', 'x-b', '2']);
    const e = harness((_req, res) => res.end());
    e.open();
    e.request(1, POST, false);
    e.send(...headersFrames(1, e.enc.encode([['x-t', '1']]), { endStream: true }));
    expect(e.stream(1).rst).toBeNull();
    expect(e.conn.timeout?.kind).toBe('idle');
  });

  it.each([
    ['on a half-closed (remote) stream', true, [['x-t', '1']], true, H2.STREAM_CLOSED, 'STREAM_CLOSED: HEADERS on a half-closed stream'],
    ['without END_STREAM', false, [['x-t', '1']], false, H2.PROTOCOL_ERROR, 'PROTOCOL_ERROR: trailers without END_STREAM (§8.1)'],
    ['with a pseudo-header after a field', false, [['x-t', '1'], [':status', '200']], true, H2.PROTOCOL_ERROR, 'PROTOCOL_ERROR: pseudo-header in trailers (§8.1)'],
    ['with an uppercase name', false, [['X-T', '1']], true, H2.PROTOCOL_ERROR, 'PROTOCOL_ERROR: malformed trailers: '],
  ] as Array<[string, boolean, Array<[string, string]>, boolean, number, string]>)('trailers %s are refused', (_name, requestEnds, fields, end, code, why) => {
    const reasons: string[] = [];
    const h = harness(held().handler, { onStreamError: (e) => void reasons.push(e.message) });
    h.open();
    h.request(1, POST, requestEnds);
    h.send(...headersFrames(1, h.enc.encode(fields), { endStream: end }));
    expect(h.stream(1).rst).toBe(code);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]!.startsWith(why)).toBe(true);
    expect(h.goaway()).toBeUndefined();
  });

  it('response trailers follow the body, after DATA still waiting for window', () => {
    const h = harness((_req, res) => {
      res.addTrailers({ 'x-check': 'ok' });
      res.end(Buffer.alloc(30, 97));
    });
    h.open([[S_INITIAL_WINDOW_SIZE, 10]]);
    h.request(1);
    expect(h.stream(1)).toMatchObject({ body: 'a'.repeat(10), ended: false, trailers: undefined });
    h.send(windowUpdateFrame(1, 20));
    expect(h.stream(1)).toMatchObject({ body: 'a'.repeat(30), ended: true, trailers: [['x-check', 'ok']] });
    const last = h.frames.filter((f) => 'streamId' in f && f.streamId === 1).at(-1)!;
    expect(last).toMatchObject({ type: 1, endStream: true });
    const now = harness((_req, res) => {
      res.addTrailers({ 'x-check': 'now' });
      res.end('abc');
    });
    now.open();
    now.request(1);
    expect(now.stream(1)).toMatchObject({ body: 'abc', ended: true, trailers: [['x-check', 'now']] });
  });
});

describe('sending within the windows (§6.9)', () => {
  it('DATA never passes the stream window or the connection window; WINDOW_UPDATEs let it on', () => {
    const h = harness((_req, res) => res.end(Buffer.alloc(70000, 97)));
    h.open([[S_INITIAL_WINDOW_SIZE, 100_000]]);
    h.request(1);
    expect(h.stream(1).body).toHaveLength(65535); // the connection's initial window
    h.send(windowUpdateFrame(0, 4464));
    expect(h.stream(1)).toMatchObject({ ended: false });
    expect(h.stream(1).body).toHaveLength(69999);
    h.send(windowUpdateFrame(0, 1));
    expect(h.stream(1).body).toHaveLength(70000);
    expect(h.stream(1).ended).toBe(true);
  });

  it("write() says to wait at our window's size of queued data, or while the connection is blocked", () => {
    const { streams, handler } = held();
    const h = harness(handler, { initialWindowSize: 100 });
    h.open([[S_INITIAL_WINDOW_SIZE, 0]]);
    h.request(1);
    const res = streams[0]!.res;
    expect(res.write(Buffer.alloc(99))).toBe(true);
    expect(res.write(Buffer.alloc(1))).toBe(false);
    h.request(3);
    h.conn.writeBlocked = true;
    expect(streams[1]!.res.write(Buffer.alloc(1))).toBe(false);
  });

  it("'drain' when the queue empties, not on frames that change nothing; onDrain for streams with nothing queued", () => {
    const { streams, handler } = held();
    const h = harness(handler);
    h.open([[S_INITIAL_WINDOW_SIZE, 5]]);
    h.request(1);
    h.request(3);
    const [a, b] = streams.map((s) => s.res);
    const drains = { a: 0, b: 0 };
    a!.on('drain', () => void drains.a++);
    b!.on('drain', () => void drains.b++);
    a!.write('hello, world'); // 5 go, 7 wait
    b!.write('hi');
    expect(drains).toEqual({ a: 0, b: 1 });
    h.send(pingFrame(Buffer.alloc(8)));
    expect(drains).toEqual({ a: 0, b: 1 });
    h.session.onDrain();
    expect(drains).toEqual({ a: 0, b: 2 });
    h.send(windowUpdateFrame(1, 7));
    expect(drains).toEqual({ a: 1, b: 2 });
    expect(h.stream(1).body).toBe('hello, world');
  });

  it('an empty end after the body: END_STREAM on an empty DATA frame', () => {
    const { streams, handler } = held();
    const h = harness(handler);
    h.open();
    h.request(1);
    streams[0]!.res.write('part');
    streams[0]!.res.end();
    const data = h.frames.filter((f) => f.type === 0);
    expect(data).toEqual([
      { type: 0, streamId: 1, endStream: false, data: Buffer.from('part'), flowLength: 4 },
      { type: 0, streamId: 1, endStream: true, data: Buffer.alloc(0), flowLength: 0 },
    ]);
  });
});

describe('a response that cannot advance (sendTimeout)', () => {
  it('is reset with CANCEL after sendTimeout without window; a stream that moved meanwhile waits its own time', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    vi.advanceTimersByTime(5000); // performance.now() is never 0 in a real process
    const { streams, handler } = held();
    const h = harness(handler, { sendTimeout: 1000 });
    h.open([[S_INITIAL_WINDOW_SIZE, 0]]);
    h.request(1);
    h.request(3);
    const closed = { a: 0, b: 0 };
    streams[0]!.res.on('close', () => void closed.a++);
    streams[1]!.res.on('close', () => void closed.b++);
    streams[0]!.res.write('stalled');
    streams[1]!.res.write('stalled too');
    vi.advanceTimersByTime(900);
    h.send(windowUpdateFrame(3, 3)); // stream 3 moves, then waits again from t=900
    vi.advanceTimersByTime(99);
    expect([h.stream(1).rst, h.stream(3).rst]).toEqual([null, null]);
    vi.advanceTimersByTime(1);
    expect([h.stream(1).rst, h.stream(3).rst]).toEqual([H2.CANCEL, null]);
    expect(closed).toEqual({ a: 1, b: 0 });
    vi.advanceTimersByTime(899);
    expect(h.stream(3).rst).toBeNull();
    vi.advanceTimersByTime(1000);
    expect(h.stream(3).rst).toBe(H2.CANCEL);
    expect(closed).toEqual({ a: 1, b: 1 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a closed connection stops the timer and closes its streams', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { streams, handler } = held();
    const h = harness(handler, { sendTimeout: 1000 });
    h.open([[S_INITIAL_WINDOW_SIZE, 0]]);
    h.request(1);
    const closed = vi.fn();
    streams[0]!.res.on('close', closed);
    streams[0]!.res.write('x');
    expect(vi.getTimerCount()).toBe(1);
    h.session.onClose();
    expect(vi.getTimerCount()).toBe(0);
    expect(closed).toHaveBeenCalledTimes(1);
  });
});

describe('handler failures', () => {
  it.each([
    ['a throw', 500, () => { throw new Error('boom'); }],
    ['a rejection', 500, () => Promise.reject(new Error('boom'))],
    ['a thrown status 404', 404, () => { throw Object.assign(new Error('nf'), { status: 404 }); }],
    ['status 400', 400, () => { throw Object.assign(new Error('x'), { status: 400 }); }],
    ['status 599', 599, () => { throw Object.assign(new Error('x'), { status: 599 }); }],
    ['status 399 (not an error status)', 500, () => { throw Object.assign(new Error('x'), { status: 399 }); }],
    ['status 600', 500, () => { throw Object.assign(new Error('x'), { status: 600 }); }],
    ['status "404" (not a number)', 500, () => { throw Object.assign(new Error('x'), { status: '404' }); }],
  ] as Array<[string, number, () => unknown]>)('%s before the response: %d, plain text, told to onError', async (_name, status, fail) => {
    const errors: Error[] = [];
    const h = harness(
      (_req, res) => {
        res.setHeader('x-before', 'dropped');
        return fail() as void;
      },
      { onError: (e) => void errors.push(e) },
    );
    h.open();
    h.request(1);
    await new Promise((r) => setImmediate(r));
    expect(h.stream(1)).toMatchObject({ status: String(status), body: `${status}\n`, ended: true });
    expect(h.stream(1).headers).toContainEqual(['content-type', 'text/plain; charset=utf-8']);
    expect(h.stream(1).headers.map(([n]) => n)).not.toContain('x-before');
    expect(errors).toHaveLength(1);
  });

  it('a thrown non-Error becomes an Error for onError', () => {
    const errors: Error[] = [];
    const h = harness(() => {
      throw 'plain string'; // eslint-disable-line @typescript-eslint/only-throw-error
    }, { onError: (e) => void errors.push(e) });
    h.open();
    h.request(1);
    expect(errors.map((e) => [e instanceof Error, e.message])).toEqual([[true, 'plain string']]);
    expect(h.stream(1).status).toBe('500');
  });

  it('after the headers went out, a failure resets the stream (INTERNAL_ERROR)', async () => {
    const errors: Error[] = [];
    const h = harness(async (_req, res) => {
      res.write('half');
      throw new Error('late');
    }, { onError: (e) => void errors.push(e) });
    h.open();
    h.request(1);
    await new Promise((r) => setImmediate(r));
    expect(h.stream(1)).toMatchObject({ status: '200', body: 'half', rst: H2.INTERNAL_ERROR });
    expect(errors.map((e) => e.message)).toEqual(['late']);
  });

  it('a failure after the client reset the stream is told, and nothing is written', async () => {
    const errors: Error[] = [];
    let fail: (e: Error) => void = () => {};
    const h = harness(() => new Promise((_r, reject) => void (fail = reject)), { onError: (e) => void errors.push(e) });
    h.open();
    h.request(1);
    h.send(rstStreamFrame(1, H2.CANCEL));
    h.fresh();
    fail(new Error('after reset'));
    await new Promise((r) => setImmediate(r));
    expect(h.fresh()).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['after reset']);
  });

  it('res.destroy(err): RST_STREAM(INTERNAL_ERROR), the error told; on a closed stream only told', () => {
    const { streams, handler } = held();
    const errors: Error[] = [];
    const reasons: string[] = [];
    const h = harness(handler, { onError: (e) => void errors.push(e), onStreamError: (e) => void reasons.push(e.message) });
    h.open();
    h.request(1);
    h.request(3);
    streams[0]!.res.destroy(new Error('source failed'));
    expect(h.stream(1).rst).toBe(H2.INTERNAL_ERROR);
    expect(reasons).toEqual(['INTERNAL_ERROR: response destroyed']);
    h.send(rstStreamFrame(3, H2.CANCEL));
    h.fresh();
    streams[1]!.res.destroy(new Error('again'));
    expect(h.fresh()).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['source failed', 'again']);
  });

  it('a connection error aborts every open stream', async () => {
    const { streams, handler } = held();
    const h = harness(handler);
    h.open();
    h.request(1, POST, false);
    h.request(3, POST, false);
    const reads = streams.map((s) => s.req.buffer());
    const closes = streams.map((s) => {
      const f = vi.fn();
      s.res.on('close', f);
      return f;
    });
    h.send(pushPromiseFrame(1, 2, Buffer.alloc(0)));
    expect(h.goaway()).toMatchObject({ lastStreamId: 3, code: H2.PROTOCOL_ERROR });
    for (const r of reads) await expect(r).rejects.toThrow(/before the request body was complete/);
    for (const c of closes) expect(c).toHaveBeenCalledTimes(1);
  });
});

describe('extended CONNECT tunnels (RFC 8441)', () => {
  const CONNECT: Array<[string, string]> = [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'http'], [':path', '/chat'], [':authority', 'a']];

  function tunnelled() {
    const got: { protocol?: string; url?: string; tunnel?: Http2Tunnel; data: string[]; ended: number; closed: number } = { data: [], ended: 0, closed: 0 };
    const h = harness(undefined, {
      onConnect: (req, protocol, tunnel) => {
        got.protocol = protocol;
        got.url = req.url;
        got.tunnel = tunnel;
        tunnel.handler = {
          onData: (b: Buffer) => void got.data.push(b.toString()),
          onEnd: () => void got.ended++,
          onClose: () => void got.closed++,
        };
        tunnel.respond(200, { 'Sec-WebSocket-Protocol': 'chat' });
        return true;
      },
    });
    h.open();
    h.request(1, CONNECT, false);
    return { h, got };
  }

  it('hands the stream to onConnect: 200 without END_STREAM, bytes both ways, the window given back at once', () => {
    const { h, got } = tunnelled();
    expect(got).toMatchObject({ protocol: 'websocket', url: '/chat' });
    expect(h.stream(1)).toMatchObject({ status: '200', ended: false, headers: [[':status', '200'], ['sec-websocket-protocol', 'chat']] });
    h.fresh();
    h.send(dataFrame(1, Buffer.from('ping'), false, 3));
    expect(got.data).toEqual(['ping']);
    expect(h.fresh()).toEqual([{ type: 8, streamId: 1, increment: 8 }]);
    expect(got.tunnel!.write(Buffer.from('pong'))).toBe(true);
    const flushes = h.conn.flushes;
    got.tunnel!.flush();
    expect(h.conn.flushes).toBe(flushes + 1);
    expect(h.stream(1).body).toBe('pong');
  });

  it('its queued amount is the stream queue plus the connection buffer', () => {
    const { h, got } = tunnelled();
    h.send(settingsFrame([[S_INITIAL_WINDOW_SIZE, 0]]));
    got.tunnel!.write(Buffer.from('waiting'));
    h.conn.bufferedAmount = 5;
    expect(got.tunnel!.bufferedAmount).toBe(12);
  });

  it('the client ends first, then the tunnel: both ends seen, then closed', () => {
    const { h, got } = tunnelled();
    h.send(dataFrame(1, Buffer.alloc(0), true));
    expect(got).toMatchObject({ data: [], ended: 1, closed: 0 });
    got.tunnel!.end();
    expect(h.stream(1).ended).toBe(true);
    expect(got.closed).toBe(1);
    expect(h.conn.timeout?.kind).toBe('idle');
  });

  it('the tunnel ends first, then the client', () => {
    const { h, got } = tunnelled();
    got.tunnel!.end();
    expect(got.closed).toBe(0);
    h.send(dataFrame(1, Buffer.from('last'), true));
    expect(got).toMatchObject({ data: ['last'], ended: 1, closed: 1 });
    expect(h.conn.timeout?.kind).toBe('idle');
  });

  it('destroy() resets the stream with CANCEL', () => {
    const reasons: string[] = [];
    let t: Http2Tunnel | undefined;
    const h = harness(undefined, {
      onConnect: (_req, _p, tunnel) => {
        t = tunnel;
        tunnel.respond(200);
        return true;
      },
      onStreamError: (e: Http2ProtocolError) => void reasons.push(e.message),
    });
    h.open();
    h.request(1, CONNECT, false);
    t!.destroy();
    expect(h.stream(1).rst).toBe(H2.CANCEL);
    expect(reasons).toEqual(['CANCEL: tunnel reset']);
    expect(t!.closed).toBe(true);
  });

  it.each([
    ['refuses it', () => false],
    ['throws', () => { throw new Error('connect handler failed'); }],
  ] as Array<[string, () => boolean]>)('when onConnect %s: 501, END_STREAM', (_name, onConnect) => {
    const errors: Error[] = [];
    const h = harness(undefined, { onConnect, onError: (e) => void errors.push(e) });
    h.open();
    h.request(1, CONNECT, false);
    expect(h.stream(1)).toMatchObject({ status: '501', ended: true });
    expect(errors.map((e) => e.message)).toEqual(onConnect.length === 0 && _name === 'throws' ? ['connect handler failed'] : []);
    h.send(dataFrame(1, Buffer.from('x')));
    expect(h.stream(1).rst).toBeNull(); // the request side is still open: its bytes are taken and dropped
  });
});

describe('idle, timeouts and graceful shutdown (§6.8)', () => {
  it('idle with no stream: GOAWAY(NO_ERROR, "idle") and the end', () => {
    const h = harness();
    h.open();
    h.request(1);
    h.session.onTimeout('idle');
    expect(h.goaway()).toMatchObject({ lastStreamId: 1, code: H2.NO_ERROR });
    expect(debug(h.goaway())).toBe('idle');
    expect(h.conn.ended).toBe(true);
  });

  it('any other timeout destroys the connection', () => {
    for (const kind of ['send', 'custom', 'request'] as const) {
      const h = harness();
      h.open();
      h.session.onTimeout(kind);
      expect([h.conn.destroyed, h.goaway()]).toEqual([true, undefined]);
    }
    const busy = harness(held().handler);
    busy.open();
    busy.request(1);
    busy.session.onTimeout('idle');
    expect([busy.conn.destroyed, busy.goaway()]).toEqual([true, undefined]);
  });

  it('shutdown: GOAWAY(2^31-1) and a PING; requests still in flight are served; the PING back sends the real last id', () => {
    const { h, streams } = oneRequest();
    h.session.onShutdown();
    h.session.onShutdown(); // once
    expect(h.fresh()).toEqual([
      { type: 7, lastStreamId: MAX, code: H2.NO_ERROR, debug: Buffer.from('shutting down') },
      { type: 6, ack: false, data: Buffer.from('covet-go') },
    ]);
    expect(h.conn.timeout).toEqual({ kind: 'custom', ms: 1000 });
    h.request(3); // sent before the client saw the GOAWAY: served
    expect(streams).toHaveLength(2);
    h.send(pingFrame(Buffer.from('other..!'), true)); // not ours
    expect(h.fresh().filter((f) => f.type === 7)).toEqual([]);
    h.send(pingFrame(Buffer.from('covet-go'), true));
    expect(h.fresh()).toEqual([{ type: 7, lastStreamId: 3, code: H2.NO_ERROR, debug: Buffer.from('shutting down') }]);
    h.session.onTimeout('custom'); // the cap passes too: no second GOAWAY
    expect(h.fresh()).toEqual([]);
    h.request(5);
    expect(h.stream(5).rst).toBe(H2.REFUSED_STREAM);
    streams[0]!.res.end('a');
    expect(h.conn.ended).toBe(false);
    streams[1]!.res.end('b');
    expect(h.conn.ended).toBe(true);
  });

  it('shutdown with no PING back: the final GOAWAY after the cap; with no stream the connection ends', () => {
    const h = harness();
    h.open();
    h.session.onShutdown();
    h.fresh();
    h.session.onTimeout('custom');
    expect(h.fresh()).toEqual([{ type: 7, lastStreamId: 0, code: H2.NO_ERROR, debug: Buffer.from('shutting down') }]);
    expect(h.conn.ended).toBe(true);
  });

  it('a PING ACK with our data is nothing when not shutting down; shutdown after a GOAWAY is nothing', () => {
    const h = harness();
    h.open();
    h.fresh();
    h.send(pingFrame(Buffer.from('covet-go'), true));
    expect(h.fresh()).toEqual([]);
    const g = harness(held().handler);
    g.open();
    g.request(1);
    g.send(goawayFrame(1, H2.NO_ERROR));
    g.fresh();
    g.session.onShutdown();
    expect(g.fresh()).toEqual([]);
  });
});

describe('h2c upgrade (RFC 7540 §3.2)', () => {
  const head = (method: string): MessageHead => ({
    method, url: '/up', versionMajor: 1, versionMinor: 1, statusCode: 0, statusMessage: '', headers: ['host', 'a'],
    keepAlive: true, upgrade: true, contentLength: -1, chunked: false, expectContinue: false,
  });

  it('the upgrade request is stream 1, half-closed; HTTP2-Settings apply without an ACK', () => {
    const h = harness((_req, res) => res.end('x'.repeat(25)));
    const req = new Http1Request(head('GET'), { bodyWanted() {}, bodyFull() {} }, '192.0.2.7');
    h.session.adoptUpgrade(req, settingsFrame([[S_INITIAL_WINDOW_SIZE, 10]]).subarray(9));
    expect(h.frames.filter((f) => f.type === 4 && f.ack)).toEqual([]);
    expect(h.stream(1)).toMatchObject({ status: '200', body: 'x'.repeat(10), ended: false });
    h.send(PREFACE, settingsFrame([]), windowUpdateFrame(1, 15));
    expect(h.stream(1)).toMatchObject({ body: 'x'.repeat(25), ended: true });
    h.request(1);
    expect(h.goaway()?.code).toBe(H2.STREAM_CLOSED); // stream 1 is taken
  });

  it('a HEAD upgrade gets no body', () => {
    const h = harness((_req, res) => res.end('body'));
    h.session.adoptUpgrade(new Http1Request(head('HEAD'), { bodyWanted() {}, bodyFull() {} }, undefined), Buffer.alloc(0));
    expect(h.stream(1)).toMatchObject({ status: '200', body: '', ended: true });
  });
});

describe('keepalive enforcement (pingPolicy, gRFC A8)', () => {
  const ping = () => pingFrame(Buffer.alloc(8));
  const tooMany = (g: ReturnType<ReturnType<typeof harness>['goaway']>) => [g?.code, g?.debug.toString()];

  it('PINGs closer than minIntervalMs: two strikes are forgiven, the third ends the connection with too_many_pings', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const h = harness(() => {}, { pingPolicy: { minIntervalMs: 1000, permitWithoutStreams: true } });
    h.open();
    h.send(ping()); // the first: no previous one
    vi.advanceTimersByTime(999);
    h.send(ping()); // strike 1 (999 < 1000)
    h.send(ping()); // strike 2
    expect(h.goaway()).toBeUndefined();
    h.send(ping()); // strike 3: one past maxStrikes
    expect(tooMany(h.goaway())).toEqual([H2.ENHANCE_YOUR_CALM, 'too_many_pings']);
  });

  it('a PING exactly minIntervalMs after the last is no strike; sending headers or data forgives the strikes', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let answer: (() => void) | null = null;
    const h = harness((_req, res) => void (answer = () => res.end('x')), { pingPolicy: { minIntervalMs: 1000, permitWithoutStreams: true, maxStrikes: 1 } });
    h.open();
    for (let i = 0; i < 5; i++) {
      h.send(ping());
      vi.advanceTimersByTime(1000);
    }
    expect(h.goaway()).toBeUndefined();
    h.send(ping()); // strike 1 (0 ms after)
    h.request(1);
    answer!(); // we send headers and data: strikes back to 0
    h.send(ping()); // strike 1 again, not 2
    expect(h.goaway()).toBeUndefined();
    h.send(ping()); // strike 2 > maxStrikes 1
    expect(tooMany(h.goaway())).toEqual([H2.ENHANCE_YOUR_CALM, 'too_many_pings']);
  });

  it('with no stream open and no permission, a PING within two hours of the last is a strike; with a stream open, minIntervalMs applies', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const idle = harness(() => {}, { pingPolicy: { minIntervalMs: 1000, maxStrikes: 0 } });
    idle.open();
    idle.send(ping());
    vi.advanceTimersByTime(2 * 3600_000 - 1);
    idle.send(ping());
    expect(tooMany(idle.goaway())).toEqual([H2.ENHANCE_YOUR_CALM, 'too_many_pings']);
    const busy = harness(() => {}, { pingPolicy: { minIntervalMs: 1000, maxStrikes: 0 } });
    busy.open();
    busy.request(1, GET, false); // an open stream
    busy.send(ping());
    vi.advanceTimersByTime(1000);
    busy.send(ping());
    expect(busy.goaway()).toBeUndefined();
  });

  it('off by default: PINGs are answered, limited only by the glitch budget', () => {
    const h = harness();
    h.open();
    for (let i = 0; i < 50; i++) h.send(ping());
    expect(h.goaway()).toBeUndefined();
    expect(h.frames.filter((f) => f.type === 6 && f.ack)).toHaveLength(50);
  });
});

describe('a small text response in one piece (fields and an ASCII body as one latin1 write)', () => {
  const answer = (body: string, fields: Array<[string, string]> = GET, settings: Array<[number, number]> = []) => {
    const h = harness((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(body);
    });
    h.open(settings);
    const writes = h.conn.written.length;
    h.request(1, fields);
    return { h, writes: h.conn.written.length - writes, s: h.stream(1) };
  };

  it('HEADERS with the length, then DATA with END_STREAM; HEAD and an empty body end on HEADERS', () => {
    const { s, h, writes } = answer('hello');
    expect([s.status, s.headers.find(([n]) => n === 'content-length')?.[1], s.body, s.ended]).toEqual(['200', '5', 'hello', true]);
    expect(types(h.fresh().filter((f) => 'streamId' in f && f.streamId === 1))).toEqual([1, 0]);
    expect(writes).toBe(2); // one string each, no Buffer
    const head = answer('hello', [[':method', 'HEAD'], [':scheme', 'http'], [':path', '/'], [':authority', 'a']]);
    expect([head.s.headers.find(([n]) => n === 'content-length')?.[1], head.s.body, head.s.ended]).toEqual(['5', '', true]);
    expect(types(head.h.fresh().filter((f) => 'streamId' in f && f.streamId === 1))).toEqual([1]);
    const empty = answer('');
    expect([empty.s.headers.find(([n]) => n === 'content-length')?.[1], empty.s.body, empty.s.ended]).toEqual(['0', '', true]);
  });

  it('header values: a list is one field per item, a number its decimal text; setHeader replaces, appendHeader adds', () => {
    const h = harness((_req, res) => {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.appendHeader('set-cookie', 'c=3');
      res.setHeader('x-n', 42);
      res.setHeader('x-n', 7);
      res.appendHeader('X-List', ['p', 'q']);
      res.end('ok');
    });
    h.open();
    h.request(1, GET);
    const fields = h.stream(1).headers.filter(([n]) => n.startsWith('x-') || n === 'set-cookie');
    expect(fields).toEqual([['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['set-cookie', 'c=3'], ['x-n', '7'], ['x-list', 'p'], ['x-list', 'q']]);
  });

  it('a body that is not ASCII goes as UTF-8 bytes, the usual way', () => {
    const { s } = answer('h\u00e9llo \u4e2d');
    expect([s.headers.find(([n]) => n === 'content-length')?.[1], s.body]).toEqual([String(Buffer.byteLength('h\u00e9llo \u4e2d')), 'h\u00e9llo \u4e2d']);
  });

  it('a body past the stream window, the frame size or 16 384 characters goes the usual way, within the windows', () => {
    const small = answer('hello', GET, [[S_INITIAL_WINDOW_SIZE, 3]]);
    expect([small.s.body, small.s.ended]).toEqual(['hel', false]); // no more than the window
    small.h.send(windowUpdateFrame(1, 2));
    expect([small.h.stream(1).body, small.h.stream(1).ended]).toEqual(['hello', true]);
    // The fields made for the refused piece go out with it: the length is the body's.
    expect(small.s.headers.find(([n]) => n === 'content-length')?.[1]).toBe('5');
    const big = 'x'.repeat(16_385);
    const large = answer(big, GET, [[S_MAX_FRAME_SIZE, 16_384]]);
    expect([large.s.body.length, large.s.ended]).toEqual([16_385, true]);
    expect(large.h.frames.filter((f) => f.type === 0 && f.streamId === 1).map((f) => (f as { data: Buffer }).data.length)).toEqual([16_384, 1]);
  });

  it('at the limits: a body of exactly the stream window, or of exactly one frame, still goes in one piece', () => {
    const exact = answer('hello', GET, [[S_INITIAL_WINDOW_SIZE, 5]]);
    expect([exact.writes, exact.s.body, exact.s.ended]).toEqual([2, 'hello', true]);
    const frame = answer('x'.repeat(16_384));
    expect([frame.writes, frame.s.body.length, frame.s.ended]).toEqual([2, 16_384, true]);
    const past = answer('x'.repeat(16_385), GET, [[S_MAX_FRAME_SIZE, 32_768], [S_INITIAL_WINDOW_SIZE, 65_535]]);
    expect(past.writes).toBeGreaterThan(2); // past 16 384 characters: the usual way, even where a frame would hold it
  });

  it('a stream the client reset gets nothing, in one piece or not', () => {
    const { streams, handler } = held();
    const h = harness(handler);
    h.open();
    h.request(1, POST, false);
    h.send(rstStreamFrame(1, H2.CANCEL));
    h.fresh();
    streams[0]!.res.end('late');
    expect(h.fresh()).toEqual([]);
  });

  it('a header block larger than a frame goes in HEADERS and CONTINUATION, the body after it', () => {
    const h = harness((_req, res) => {
      for (const n of ['x-a', 'x-b', 'x-c']) res.setHeader(n, 'v'.repeat(9_000)); // a block of ~23.6 KB
      res.end('hello');
    });
    h.open();
    h.request(1);
    const mine = h.frames.filter((f) => 'streamId' in f && f.streamId === 1);
    // The harness's frame parser joins CONTINUATION into its HEADERS; the writes show both frames.
    expect(h.conn.written.slice(-3).map((b) => [b[3], b[4]])).toEqual([[1, 0], [9, 4], [0, 1]]); // HEADERS, CONTINUATION + END_HEADERS, DATA + END_STREAM
    expect(types(mine)).toEqual([1, 0]);
    expect([h.stream(1).headers.find(([n]) => n === 'x-c')?.[1].length, h.stream(1).body, h.stream(1).ended]).toEqual([9_000, 'hello', true]);
    // With no body, the block's last frame ends the stream.
    const e = harness((_req, res) => {
      for (const n of ['x-a', 'x-b', 'x-c']) res.setHeader(n, 'v'.repeat(9_000));
      res.end('');
    });
    e.open();
    e.request(1);
    expect(e.conn.written.slice(-2).map((b) => [b[3], b[4]])).toEqual([[1, 1], [9, 4]]); // HEADERS + END_STREAM, CONTINUATION + END_HEADERS
    expect([e.stream(1).body, e.stream(1).ended]).toEqual(['', true]);
  });
});
