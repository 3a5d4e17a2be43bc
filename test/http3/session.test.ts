/**
 * Http3Session's rules (RFC 9114, RFC 9204 §4.2), frame by frame from the in-process QUIC test client:
 * requests served through the shared (req, res) pair, malformed requests reset with H3_MESSAGE_ERROR, the
 * control and QPACK streams' rules answered with their connection error codes, blocked header sections
 * released by inserts, limits at their value and one past, GOAWAY.
 */
import { describe, expect, it } from 'vitest';
import { encodeVarint, QuicStream, type Frame } from '../../lib/quic/index.js';
import { FrameReader, Http3Session, QpackDecoder, QpackEncoder, type Http3Handler, type Http3SessionOptions } from '../../lib/http3/index.js';
import { writeInt, writeString } from '../../lib/http3/qpack/primitives.js';
import { streamFrame, TestClient } from '../quic/test-client.js';

const h3 = (type: number, payload: Buffer) => Buffer.concat([encodeVarint(type), encodeVarint(payload.length), payload]);
const settings = (pairs: Array<[number, number]> = []) => h3(0x04, Buffer.concat(pairs.flatMap(([i, v]) => [encodeVarint(i), encodeVarint(v)])));
const headers = (fields: Array<[string, string]>) => h3(0x01, new QpackEncoder().encode(fields));
const GET: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'localhost'], [':path', '/x']];
const of = <T extends Frame['type']>(frames: Frame[], type: T) => frames.filter((f): f is Extract<Frame, { type: T }> => f.type === type);

/** A client with its control stream (id 2) open, SETTINGS sent, and a session on the server side. */
function setup(handler: Http3Handler = (req, res) => res.end(`hello ${req.url}`), options: Http3SessionOptions = {}, control = true) {
  const c = new TestClient({ params: { initialMaxStreamsUni: 3 } });
  const errors: Error[] = [];
  const session = new Http3Session(c.conn, handler, { onError: (e) => errors.push(e), ...options });
  if (control) c.send(streamFrame(2, 0, Buffer.concat([encodeVarint(0x00), settings()])));
  c.read();
  return { c, session, errors };
}

/** The sizes of the writes made on stream `id` while `fn` runs (`fn` sees the list filled as they happen). */
function writesOn(id: number, fn: (seen: readonly number[]) => void): number[] {
  const seen: number[] = [];
  const write = QuicStream.prototype.write;
  QuicStream.prototype.write = function (this: QuicStream, d: Uint8Array) {
    if (this.id === id) seen.push(d.length);
    return write.call(this, d);
  };
  try {
    fn(seen);
  } finally {
    QuicStream.prototype.write = write;
  }
  return seen;
}

/** The response on a stream: its decoded header fields and body. */
function responseOf(c: TestClient, id: number) {
  const frames: Array<[number, Buffer]> = [];
  let body = Buffer.alloc(0);
  new FrameReader({ frame: (t, p) => frames.push([t, p]), data: (b) => (body = Buffer.concat([body, b])) }, 1 << 20).push(c.data.get(id) ?? Buffer.alloc(0));
  const head = frames.find(([t]) => t === 0x01);
  const fields = head === undefined ? [] : (new QpackDecoder().decodeSection(id, head[1]) as { fields: Array<readonly [string, string]> }).fields;
  return { fields: Object.fromEntries(fields), body: body.toString(), fin: c.fin.has(id) };
}

describe('requests', () => {
  it('serves a GET with the (req, res) handler; our SETTINGS and the QPACK decoder stream go out first', () => {
    const { c } = setup((req, res) => res.end(`hello ${req.method} ${req.url} ${req.httpVersion} ${req.get('host')}`));
    const ourControl = c.data.get(3)!;
    expect(ourControl[0]).toBe(0x00); // control stream type
    expect(c.data.get(7)).toEqual(Buffer.from([0x03])); // QPACK decoder stream
    c.send(streamFrame(0, 0, headers(GET), true));
    c.read();
    expect(responseOf(c, 0)).toMatchObject({ fields: { ':status': '200', 'content-length': '26' }, body: 'hello GET /x 3.0 localhost', fin: true });
  });

  it('a small text response goes as one STREAM frame with FIN (HEADERS and DATA in one chunk); others as before', () => {
    const bodies: Record<string, string> = { '/a': 'hello', '/e': '', '/u': 'h\u00e9llo' };
    const { c } = setup((req, res) => res.end(bodies[req.url]!));
    const ask = (id: number, path: string, method = 'GET') => {
      c.send(streamFrame(id, 0, headers([[':method', method], [':scheme', 'https'], [':authority', 'localhost'], [':path', path]]), true));
      return of(c.read(), 'stream').filter((f) => f.stream === id);
    };
    const one = ask(0, '/a');
    expect([one.length, one[0]!.fin, responseOf(c, 0)]).toEqual([1, true, { fields: expect.objectContaining({ ':status': '200', 'content-length': '5' }), body: 'hello', fin: true }]);
    const empty = ask(4, '/e');
    expect([empty.length, responseOf(c, 4).body, responseOf(c, 4).fields['content-length']]).toEqual([1, '', '0']);
    const head = ask(8, '/a', 'HEAD');
    expect([head.length, responseOf(c, 8).body, responseOf(c, 8).fields['content-length']]).toEqual([1, '', '5']);
    // Not ASCII: UTF-8 bytes, the usual way (HEADERS, DATA's header and the body written as three chunks,
    // which the connection joins into one frame).
    const writes = writesOn(12, () => ask(12, '/u'));
    expect([writes.length, responseOf(c, 12).body, responseOf(c, 12).fields['content-length']]).toEqual([3, 'h\u00e9llo', String(Buffer.byteLength('h\u00e9llo'))]);
  });

  it('delivers a body in DATA frames and its trailers', async () => {
    let got = '';
    let trailers: unknown = null;
    const { c } = setup(async (req, res) => {
      got = await req.text();
      trailers = req.trailers;
      res.end('ok');
    });
    c.send(streamFrame(0, 0, Buffer.concat([headers([[':method', 'POST'], [':scheme', 'https'], [':authority', 'a'], [':path', '/'], ['content-length', '11']]), h3(0x00, Buffer.from('hello ')), h3(0x00, Buffer.from('world')), headers([['x-sum', '42']])]), true));
    await new Promise((r) => setImmediate(r));
    c.read();
    expect([got, trailers]).toEqual(['hello world', ['x-sum', '42']]);
    expect(responseOf(c, 0).body).toBe('ok');
  });

  it.each([
    ['an uppercase field name', [...GET, ['X-Up', '1']]],
    ['a connection-specific field', [...GET, ['connection', 'close']]],
    ['no :path', GET.filter(([n]) => n !== ':path')],
    ['a pseudo-header after a field', [['x-a', '1'], ...GET]],
    ['an unknown pseudo-header', [...GET.slice(0, 1), [':foo', 'x'], ...GET.slice(1)]],
  ] as Array<[string, Array<[string, string]>]>)('resets the stream with H3_MESSAGE_ERROR for %s (§4.1.2)', (_, fields) => {
    let called = false;
    const { c } = setup(() => void (called = true));
    c.send(streamFrame(0, 0, headers(fields), true));
    const f = c.read();
    expect(of(f, 'reset_stream').map((r) => [r.stream, r.code])).toEqual([[0, 0x10e]]);
    expect(called).toBe(false);
    expect(c.conn.state).toBe('established');
  });

  it("a handler's failure is answered with its status (404) or 500, and none of its text", async () => {
    const { c, errors } = setup((req) => {
      if (req.url === '/gone') throw Object.assign(new Error('no such note'), { status: 404 });
      throw new Error('database password is hunter2');
    });
    c.send(streamFrame(0, 0, headers([...GET.slice(0, 3), [':path', '/gone']]), true));
    c.send(streamFrame(4, 0, headers(GET), true));
    c.read();
    expect([responseOf(c, 0).fields[':status'], responseOf(c, 0).body]).toEqual(['404', '404\n']);
    expect([responseOf(c, 4).fields[':status'], responseOf(c, 4).body]).toEqual(['500', '500\n']);
    expect(errors.map((e) => e.message)).toEqual(['no such note', 'database password is hunter2']); // logged, not sent
  });

  it('a body longer or shorter than content-length is malformed', () => {
    const post = (len: string, body: string) => {
      const { c } = setup(async (req, res) => res.end(await req.text().catch(() => 'aborted')));
      c.send(streamFrame(0, 0, Buffer.concat([headers([[':method', 'POST'], [':scheme', 'https'], [':authority', 'a'], [':path', '/'], ['content-length', len]]), h3(0x00, Buffer.from(body))]), true));
      return of(c.read(), 'reset_stream').map((r) => r.code);
    };
    expect(post('3', 'abc')).toEqual([]);
    expect(post('3', 'abcd')).toEqual([0x10e]);
    expect(post('3', 'ab')).toEqual([0x10e]);
  });

  it('answers 431 to a header section past SETTINGS_MAX_FIELD_SECTION_SIZE, and serves one at it', () => {
    const fields: Array<[string, string]> = [...GET, ['x-pad', 'p'.repeat(100)]];
    const size = fields.reduce((n, [a, b]) => n + a.length + b.length + 32, 0);
    const at = setup(undefined, { maxFieldSectionSize: size });
    at.c.send(streamFrame(0, 0, headers(fields), true));
    at.c.read();
    expect(responseOf(at.c, 0).fields[':status']).toBe('200');
    const past = setup(undefined, { maxFieldSectionSize: size - 1 });
    past.c.send(streamFrame(0, 0, headers(fields), true));
    past.c.read();
    expect(responseOf(past.c, 0).fields[':status']).toBe('431');
  });

  it('holds a header section that needs QPACK inserts until the encoder stream brings them', () => {
    const { c, errors } = setup((req, res) => res.end(req.get('x-dyn') ?? 'none'));
    // Section: Required Insert Count 1 (encoded 2 with MaxEntries 128), Base 1; the static lines, then
    // dynamic entry 0 indexed.
    const section = Buffer.concat([Buffer.from([0x02, 0x00]), new QpackEncoder().encode(GET).subarray(2), Buffer.from([0x80])]);
    c.send(streamFrame(0, 0, h3(0x01, section), true));
    expect(responseOf(c, 0).fin).toBe(false);
    c.read();
    expect(c.data.get(0)).toBeUndefined(); // blocked: nothing answered yet
    const enc: number[] = [0x02]; // encoder stream type
    writeInt(enc, 0x20, 5, 4096);
    writeString(enc, 0x40, 5, 'x-dyn');
    writeString(enc, 0x00, 7, 'from the table');
    c.send(streamFrame(6, 0, Buffer.from(enc)));
    c.read();
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(responseOf(c, 0).body).toBe('from the table');
    expect(c.data.get(7)).toEqual(Buffer.from([0x03, 0x01, 0x80])); // decoder stream: Insert Count Increment 1, Section Ack stream 0
  });

  it("a request the client resets (RESET_STREAM): the response emits 'close', our side is reset with H3_REQUEST_CANCELLED", () => {
    let closed = 0;
    const { c, errors } = setup((_req, res) => {
      res.on('close', () => closed++); // held: never answered
    });
    const head = h3(0x01, new QpackEncoder().encode(GET));
    c.send(streamFrame(0, 0, head));
    c.read();
    expect(closed).toBe(0);
    c.send(Buffer.concat([Buffer.from([0x04]), encodeVarint(0), encodeVarint(0x10c), encodeVarint(head.length)]));
    const resets = of(c.read(), 'reset_stream').map((r) => [r.stream, r.code]);
    expect([closed, resets, errors]).toEqual([1, [[0, 0x10c]], []]);
  });

  it('acknowledges the sections of one datagram together: one write on the decoder stream, when the connection polls', () => {
    const { c, errors } = setup((req, res) => res.end(req.get('x-dyn') ?? 'none'));
    const enc: number[] = [0x02];
    writeInt(enc, 0x20, 5, 4096);
    writeString(enc, 0x40, 5, 'x-dyn');
    writeString(enc, 0x00, 7, 'shared');
    c.send(streamFrame(6, 0, Buffer.from(enc)));
    c.read();
    const section = Buffer.concat([Buffer.from([0x02, 0x00]), new QpackEncoder().encode(GET).subarray(2), Buffer.from([0x80])]);
    let early: number[] = [];
    const writes = writesOn(7, (seen) => {
      c.send(...[0, 4, 8].map((id) => streamFrame(id, 0, h3(0x01, section), true)));
      early = [...seen]; // not yet: read, answered, acknowledged at the poll
      c.read();
    });
    expect([errors, early, writes]).toEqual([[], [], [3]]);
    expect([0, 4, 8].map((id) => responseOf(c, id).body)).toEqual(['shared', 'shared', 'shared']);
    // After the stream type and the Insert Count Increment: Section Acknowledgments for streams 0, 4 and 8.
    expect([...c.data.get(7)!.subarray(2)]).toEqual([0x80, 0x84, 0x88]);
  });
});

describe('our QPACK encoder', () => {
  const QPACK_SETTINGS: Array<[number, number]> = [[0x01, 4096], [0x07, 16]];
  /** A client that allows a dynamic table: its control stream's SETTINGS say so. */
  function withTable(handler: Http3Handler, params = {}) {
    const c = new TestClient({ params: { initialMaxStreamsUni: 3, ...params } });
    const session = new Http3Session(c.conn, handler);
    c.send(streamFrame(2, 0, Buffer.concat([encodeVarint(0x00), settings(QPACK_SETTINGS)])));
    c.read();
    return { c, session };
  }
  const ask = (c: TestClient, id: number) => {
    c.send(streamFrame(id, 0, headers(GET), true));
    c.read();
  };
  /** The HEADERS payload of the response on stream `id`. */
  const sectionOf = (c: TestClient, id: number) => {
    let head: Buffer | null = null;
    new FrameReader({ frame: (t, p) => (t === 0x01 ? (head ??= p) : undefined), data: () => {} }, 1 << 20).push(c.data.get(id)!);
    return head!;
  };

  it("opens its encoder stream once the client's SETTINGS allow a table; responses refer to entries the client's decoder reads", () => {
    const { c, session } = withTable((_req, res) => {
      res.setHeader('x-served-by', 'covet');
      res.end('ok');
    });
    expect([...c.data.get(11)!]).toEqual([0x02, 0x20 | 31, 0x80 | ((4096 - 31) % 128), (4096 - 31) >> 7]); // encoder stream; Set Dynamic Table Capacity 4096 (§4.3.1)
    ask(c, 0);
    ask(c, 4);
    const enc = c.data.get(11)!;
    expect(session.encoder.insertCount).toBeGreaterThan(0);
    const d = new QpackDecoder({ maxTableCapacity: 4096 });
    d.encoderInstructions(enc.subarray(1));
    for (const id of [0, 4]) {
      const r = d.decodeSection(id, sectionOf(c, id));
      expect(r).not.toBe('blocked');
      expect(Object.fromEntries((r as { fields: Array<readonly [string, string]> }).fields)).toMatchObject({ ':status': '200', 'x-served-by': 'covet', 'content-length': '2' });
    }
    expect(sectionOf(c, 4).length).toBeLessThan(new QpackEncoder().encode([['x-served-by', 'covet']]).length + 6);
    // The client's decoder stream acknowledges both sections: nothing awaits any more.
    c.send(streamFrame(10, 0, Buffer.concat([Buffer.from([0x03]), d.takeInstructions()])));
    c.read();
    expect([session.encoder.unacknowledgedSections, session.encoder.knownReceivedCount]).toEqual([0, session.encoder.insertCount]);
  });

  it('a client that allows only two unidirectional streams (§6.2 asks for three) gets static sections, not a closed connection', () => {
    const { c, session } = withTable((_req, res) => {
      res.setHeader('x-served-by', 'covet');
      res.end('ok');
    }, { initialMaxStreamsUni: 2 });
    ask(c, 0);
    ask(c, 4);
    expect(c.conn.closeReason).toBe(null);
    expect([c.data.has(11), session.encoder.tableCapacity, session.encoder.insertCount]).toEqual([false, 0, 0]);
    expect(Object.fromEntries((new QpackDecoder({ maxTableCapacity: 0 }).decodeSection(4, sectionOf(c, 4)) as { fields: Array<readonly [string, string]> }).fields)).toMatchObject({ ':status': '200', 'x-served-by': 'covet' });
  });

  it('a Section Acknowledgment for a section that needed none is QPACK_DECODER_STREAM_ERROR', () => {
    const { c } = withTable((_req, res) => res.end('ok'));
    ask(c, 0);
    c.send(streamFrame(10, 0, Buffer.from([0x03, 0x80 | 4])));
    expect(of(c.read(), 'connection_close')[0]?.code ?? c.conn.closeReason?.code).toBe(0x202);
  });

  it('a client that leaves our encoder stream unread (no credit) gets sections without the table, not a growing backlog', () => {
    let n = 0;
    const { c, session } = withTable(
      (_req, res) => {
        res.setHeader('x-unique', `value-${n++}`.padEnd(300, '~')); // '~' is longer in Huffman: inserts of ~305 bytes
        res.end('ok');
      },
      { initialMaxStreamDataUni: 64 },
    );
    c.send(streamFrame(10, 0, Buffer.from([0x03]))); // the client's decoder stream
    let offset = 1;
    const instruct = (bytes: number[]) => {
      c.send(streamFrame(10, offset, Buffer.from(bytes)));
      offset += bytes.length;
      c.read();
    };
    // Everything received is acknowledged (the congestion window stays open for the responses).
    const ackAll = () => Buffer.concat([Buffer.from([0x02]), encodeVarint(c.largestReceived), encodeVarint(0), encodeVarint(0), encodeVarint(c.largestReceived)]);
    for (let id = 0; id < 4 * 140; id += 4) {
      c.now += 5; // the pacer's time passes
      ask(c, id);
      c.send(ackAll());
      // The client claims each section and insert arrived (it cannot have: it gave the stream 64 bytes of credit).
      const ack: number[] = [];
      if (session.encoder.unacknowledgedSections > 0) writeInt(ack, 0x80, 7, id);
      if (ack.length > 0) instruct(ack);
      const more = session.encoder.insertCount - session.encoder.knownReceivedCount;
      if (more === 0) continue;
      const inc: number[] = [];
      writeInt(inc, 0x00, 6, more);
      instruct(inc);
    }
    // About 16 KiB of inserts wait for credit (~54 of them), then no more are made.
    expect(session.encoder.insertCount).toBeGreaterThan((16 * 1024) / 310);
    expect(session.encoder.insertCount).toBeLessThan(70);
    expect(new QpackDecoder().decodeSection(4 * 139, sectionOf(c, 4 * 139))).not.toBe('blocked'); // static and literals only
  });
});

describe('connection rules', () => {
  const closeCode = (c: TestClient) => of(c.read(), 'connection_close')[0]?.code ?? c.conn.closeReason?.code;

  it('DATA before HEADERS on a request stream is H3_FRAME_UNEXPECTED', () => {
    const { c } = setup();
    c.send(streamFrame(0, 0, h3(0x00, Buffer.from('x')), true));
    expect(closeCode(c)).toBe(0x105);
  });

  it('the control stream must start with SETTINGS (H3_MISSING_SETTINGS), once (H3_FRAME_UNEXPECTED)', () => {
    const a = setup(undefined, {}, false);
    a.c.send(streamFrame(2, 0, Buffer.concat([encodeVarint(0x00), h3(0x07, encodeVarint(0))])));
    expect(closeCode(a.c)).toBe(0x10a);
    const b = setup();
    b.c.send(streamFrame(2, 3, settings()));
    expect(closeCode(b.c)).toBe(0x105);
  });

  it("SETTINGS with HTTP/2's identifiers or an identifier twice is H3_SETTINGS_ERROR; a reserved one is ignored", () => {
    const bad = (pairs: Array<[number, number]>) => {
      const a = setup(undefined, {}, false);
      a.c.send(streamFrame(2, 0, Buffer.concat([encodeVarint(0x00), settings(pairs)])));
      return closeCode(a.c) ?? null;
    };
    expect(bad([[0x02, 1]])).toBe(0x109);
    expect(bad([[0x06, 100], [0x06, 100]])).toBe(0x109);
    expect(bad([[0x1f * 7 + 0x21, 5], [0x06, 100]])).toBe(null);
  });

  it('a second control stream, or a push stream from the client, is H3_STREAM_CREATION_ERROR', () => {
    const a = setup();
    a.c.send(streamFrame(6, 0, Buffer.concat([encodeVarint(0x00), settings()])));
    expect(closeCode(a.c)).toBe(0x103);
    const b = setup();
    b.c.send(streamFrame(6, 0, encodeVarint(0x01)));
    expect(closeCode(b.c)).toBe(0x103);
  });

  it('closing the control stream is H3_CLOSED_CRITICAL_STREAM; an unknown stream type is only not read', () => {
    const a = setup();
    a.c.send(streamFrame(6, 0, encodeVarint(0x21), true)); // a reserved type (§6.2.3)
    expect(of(a.c.read(), 'stop_sending').map((s) => [s.stream, s.code])).toEqual([[6, 0x103]]);
    expect(a.c.conn.state).toBe('established');
    a.c.send(streamFrame(2, 3, Buffer.alloc(0), true));
    expect(closeCode(a.c)).toBe(0x104);
  });

  it('a frame past maxFrameSize is H3_EXCESSIVE_LOAD; at the size it is read', () => {
    const big = (n: number) => headers([...GET, ['x-pad', 'p'.repeat(n)]]);
    const frameLen = (n: number) => new QpackEncoder().encode([...GET, ['x-pad', 'p'.repeat(n)]]).length;
    const a = setup(undefined, { maxFrameSize: frameLen(500) });
    a.c.send(streamFrame(0, 0, big(500), true));
    a.c.read();
    expect(a.c.conn.state).toBe('established');
    const b = setup(undefined, { maxFrameSize: frameLen(500) - 1 });
    b.c.send(streamFrame(0, 0, big(500), true));
    expect(closeCode(b.c)).toBe(0x107);
  });

  it('GOAWAY names the first request not served; a later one is rejected (H3_REQUEST_REJECTED)', () => {
    const { c, session } = setup();
    c.send(streamFrame(0, 0, headers(GET), true));
    c.read();
    session.goaway();
    c.read();
    const control = c.data.get(3)!;
    expect(control.subarray(-3)).toEqual(Buffer.from([0x07, 0x01, 0x04])); // GOAWAY, length 1, id 4
    c.send(streamFrame(4, 0, headers(GET), true));
    expect(of(c.read(), 'reset_stream').map((r) => [r.stream, r.code])).toEqual([[4, 0x10b]]);
  });
});
