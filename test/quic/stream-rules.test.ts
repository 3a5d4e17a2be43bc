/**
 * Streams and flow control of ServerConnection (RFC 9000 §2–4, §19), frame by frame from the in-process
 * test client on an injected clock: each limit at its value and one past, credit at half a window, the
 * limits on streams and on the connection, resets both ways, and the application close.
 */
import { describe, expect, it } from 'vitest';
import { encodeVarint, type Frame, type QuicStream } from '../../lib/quic/index.js';
import { streamFrame, TestClient, type TestClientOptions } from './test-client.js';

const bytes = (n: number) => Buffer.alloc(n, 0x61);
const resetFrame = (id: number, code: number, finalSize: number) => Buffer.concat([Buffer.from([0x04]), encodeVarint(id), encodeVarint(code), encodeVarint(finalSize)]);
const stopSending = (id: number, code: number) => Buffer.concat([Buffer.from([0x05]), encodeVarint(id), encodeVarint(code)]);
const maxData = (n: number) => Buffer.concat([Buffer.from([0x10]), encodeVarint(n)]);
const of = <T extends Frame['type']>(frames: Frame[], type: T) => frames.filter((f): f is Extract<Frame, { type: T }> => f.type === type);

/** A client whose streams the server records as they open. */
function client(server: TestClientOptions = {}) {
  const c = new TestClient(server);
  const streams: QuicStream[] = [];
  const got = new Map<number, Buffer[]>();
  c.conn.onStream = (s) => {
    streams.push(s);
    s.onData = (d) => got.set(s.id, [...(got.get(s.id) ?? []), Buffer.from(d)]);
  };
  return { c, streams, got };
}

describe('stream flow control (§4.1–4.2)', () => {
  it('takes data up to the stream limit; one byte past it is FLOW_CONTROL_ERROR', () => {
    const a = client({ server: { transportParameters: { initialMaxStreamDataBidiRemote: 1000 } } });
    a.c.send(streamFrame(0, 0, bytes(1000)));
    expect(a.c.conn.state).toBe('established');
    const b = client({ server: { transportParameters: { initialMaxStreamDataBidiRemote: 1000 } } });
    b.c.send(streamFrame(0, 0, bytes(1001)));
    expect([b.c.conn.state, b.c.conn.closeReason?.code]).toEqual(['closed', 0x03]);
  });

  it('moves the limit on once half the window is consumed, not a byte before', () => {
    const a = client({ server: { transportParameters: { initialMaxStreamDataBidiRemote: 1000 } } });
    a.c.send(streamFrame(0, 0, bytes(499)));
    expect(of(a.c.read(), 'max_stream_data')).toEqual([]);
    a.c.send(streamFrame(0, 499, bytes(1)));
    expect(of(a.c.read(), 'max_stream_data')).toEqual([{ type: 'max_stream_data', stream: 0, max: 1500 }]);
    a.c.send(streamFrame(0, 500, bytes(1000))); // up to the new limit
    expect(a.c.conn.state).toBe('established');
  });

  it('gives no credit while paused, and credits what was consumed on resume', () => {
    const a = client({ server: { transportParameters: { initialMaxStreamDataBidiRemote: 1000 } } });
    a.c.send(streamFrame(0, 0, bytes(10)));
    a.streams[0]!.pause();
    a.c.send(streamFrame(0, 10, bytes(990)));
    expect(of(a.c.read(), 'max_stream_data')).toEqual([]);
    a.streams[0]!.resume();
    expect(of(a.c.read(), 'max_stream_data')).toEqual([{ type: 'max_stream_data', stream: 0, max: 2000 }]);
  });

  it('counts every stream against the connection limit; one byte past it is FLOW_CONTROL_ERROR', () => {
    const tp = { initialMaxData: 3000, initialMaxStreamDataBidiRemote: 2000 };
    const a = client({ server: { transportParameters: tp } });
    a.c.send(streamFrame(0, 0, bytes(1400)), streamFrame(4, 0, bytes(1400)));
    expect(of(a.c.read(), 'max_data')).toEqual([{ type: 'max_data', max: 5800 }]); // 2800 consumed: past half of 3000
    a.c.send(streamFrame(8, 0, bytes(1500)), streamFrame(12, 0, bytes(1500))); // 5800 in all: at the new limit
    expect(a.c.conn.state).toBe('established');
    const d = client({ server: { transportParameters: { initialMaxData: 1000, initialMaxStreamDataBidiRemote: 2000 } } });
    d.c.send(streamFrame(0, 500, bytes(501))); // out of order: counted by its highest offset, not consumed
    expect([d.c.conn.state, d.c.conn.closeReason?.code]).toEqual(['closed', 0x03]);
  });

  it('sends no more than the client allows on a stream and on the connection, and the rest after MAX_DATA', () => {
    const a = client({ params: { initialMaxData: 3000, initialMaxStreamDataBidiLocal: 10_000 } });
    a.c.send(streamFrame(0, 0, Buffer.from('get'), true));
    a.streams[0]!.end(bytes(5000));
    a.c.read();
    expect(a.c.data.get(0)?.length).toBe(3000);
    a.c.send(maxData(10_000));
    a.c.read();
    expect([a.c.data.get(0)?.length, a.c.fin.has(0)]).toEqual([5000, true]);
  });
});

describe('small writes in one frame', () => {
  const streamFrames = (c: TestClient, id: number) => of(c.frames, 'stream').filter((f) => f.stream === id);

  it('writes queued together go as one STREAM frame, in order, up to the datagram less its overhead', () => {
    const a = client();
    a.c.send(streamFrame(0, 0, Buffer.from('get'), true));
    a.c.read();
    const s = a.streams[0]!;
    for (const w of ['a', 'bc', 'def']) s.write(Buffer.from(w));
    s.end(Buffer.from('g'));
    a.c.read();
    expect(streamFrames(a.c, 0).map((f) => [f.data.toString(), f.fin])).toEqual([['abcdefg', true]]);
    // At the cap (1200-byte datagrams less 90: 1110 bytes of data) two writes join; one byte more, they do not.
    for (const [first, frames] of [[1109, 1], [1110, 2]] as const) {
      const b = client();
      b.c.send(streamFrame(0, 0, Buffer.from('get'), true));
      b.c.read();
      b.streams[0]!.write(bytes(first));
      b.streams[0]!.end(Buffer.from('z'));
      b.c.read();
      expect([streamFrames(b.c, 0).length, b.c.data.get(0)?.length], `first write ${first}`).toEqual([frames, first + 1]);
    }
  });

  it('joins no more than the flow-control window lets out; the rest follows after credit', () => {
    const a = client({ params: { initialMaxData: 5, initialMaxStreamDataBidiLocal: 10_000 } });
    a.c.send(streamFrame(0, 0, Buffer.from('get'), true));
    a.c.read();
    for (const w of ['ab', 'cd', 'ef']) a.streams[0]!.write(Buffer.from(w));
    a.c.read();
    // Five bytes of window: two writes joined, then one byte of the third (not joined: it does not fit).
    expect(streamFrames(a.c, 0).map((f) => f.data.toString())).toEqual(['abcd', 'e']);
    a.c.send(maxData(100));
    a.c.read();
    expect(streamFrames(a.c, 0).map((f) => f.data.toString())).toEqual(['abcd', 'e', 'f']);
  });
});

describe('stream limits (§4.6)', () => {
  it('opens lower streams with a higher one; past the limit is STREAM_LIMIT_ERROR', () => {
    const a = client({ server: { transportParameters: { initialMaxStreamsBidi: 2 } } });
    a.c.send(streamFrame(4, 0, bytes(1)));
    expect(a.streams.map((s) => s.id)).toEqual([0, 4]);
    a.c.send(streamFrame(8, 0, bytes(1)));
    expect([a.c.conn.state, a.c.conn.closeReason?.code]).toEqual(['closed', 0x04]);
  });

  it('credits another stream when one finishes both ways (MAX_STREAMS), and ignores a late copy of its data', () => {
    const a = client({ server: { transportParameters: { initialMaxStreamsBidi: 2 } } });
    a.c.send(streamFrame(0, 0, Buffer.from('req'), true));
    a.streams[0]!.end(Buffer.from('res'));
    expect(of(a.c.read(), 'max_streams')).toEqual([{ type: 'max_streams', bidi: true, max: 3 }]);
    expect(a.c.conn.streams.has(0)).toBe(false); // forgotten
    a.c.send(streamFrame(0, 0, Buffer.from('req'), true)); // a retransmission of what it sent
    expect(a.streams).toHaveLength(1);
    a.c.send(streamFrame(8, 0, bytes(1))); // index 2: allowed now
    expect([a.c.conn.state, a.streams.map((s) => s.id)]).toEqual(['established', [0, 4, 8]]);
  });

  it('refuses data on our own unidirectional stream and on one of ours never opened', () => {
    const a = client();
    a.c.conn.openUniStream().write(Buffer.from('x'));
    a.c.send(streamFrame(3, 0, bytes(1)));
    expect(a.c.conn.closeReason?.code).toBe(0x05);
    const b = client();
    b.c.send(streamFrame(1, 0, bytes(1)));
    expect(b.c.conn.closeReason?.code).toBe(0x05);
  });
});

describe('resets and closing', () => {
  it('RESET_STREAM from the client reaches the stream; a final size below what arrived is FINAL_SIZE_ERROR', () => {
    const a = client();
    a.c.send(streamFrame(0, 0, bytes(10)));
    const codes: number[] = [];
    a.streams[0]!.onReset = (code) => codes.push(code);
    a.c.send(resetFrame(0, 0x10c, 10));
    expect(codes).toEqual([0x10c]);
    const b = client();
    b.c.send(streamFrame(0, 0, bytes(10)));
    b.c.send(resetFrame(0, 0x10c, 9));
    expect(b.c.conn.closeReason?.code).toBe(0x06);
  });

  it('STOP_SENDING is answered with RESET_STREAM carrying its code; reset() sends the final size', () => {
    const a = client();
    a.c.send(streamFrame(0, 0, bytes(1)));
    a.streams[0]!.write(bytes(100));
    a.c.read();
    a.c.send(stopSending(0, 0x10b));
    expect(of(a.c.read(), 'reset_stream')).toEqual([{ type: 'reset_stream', stream: 0, code: 0x10b, finalSize: 100 }]);
    expect(() => a.streams[0]!.write(bytes(1))).toThrow('write after end');
  });

  it('answers PATH_CHALLENGE with PATH_RESPONSE carrying its data (§8.2.2); a wrong response validates nothing', () => {
    const a = client();
    a.c.send(Buffer.from([0x1a, 1, 2, 3, 4, 5, 6, 7, 8]));
    expect(of(a.c.read(), 'path_response').map((f) => [...f.data])).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]]);
    a.c.conn.pathChanged();
    const challenge = of(a.c.read(), 'path_challenge')[0]!.data;
    a.c.send(Buffer.concat([Buffer.from([0x1b]), Buffer.alloc(8, 9)]));
    expect(a.c.conn.pathsValidated).toBe(0);
    a.c.send(Buffer.concat([Buffer.from([0x1b]), challenge]));
    expect(a.c.conn.pathsValidated).toBe(1);
  });

  it('close() sends an application CONNECTION_CLOSE with the code and reason', () => {
    const a = client();
    a.c.conn.close(0x101, 'bye');
    expect(of(a.c.read(), 'connection_close')).toEqual([{ type: 'connection_close', app: true, code: 0x101, frameType: 0, reason: 'bye' }]);
    expect(a.c.conn.state).toBe('closed');
  });
});
