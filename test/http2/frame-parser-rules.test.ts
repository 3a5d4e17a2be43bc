/**
 * The HTTP/2 frame parser at its edges (#28, from frame-parser.ts's mutants): every refusal with its code,
 * scope and words (RFC 9113 §4-§6), each limit at the limit and one past, priority fields, padding, the
 * settings' ranges, and the same frames parsed whatever the split of the bytes.
 */
import { describe, expect, it } from 'vitest';
import {
  F_ACK,
  F_END_HEADERS,
  F_END_STREAM,
  F_PADDED,
  F_PRIORITY,
  FrameParser,
  Http2ProtocolError,
  rawFrame,
  T_CONTINUATION,
  T_DATA,
  T_GOAWAY,
  T_HEADERS,
  T_PING,
  T_PRIORITY,
  T_PUSH_PROMISE,
  T_RST_STREAM,
  T_SETTINGS,
  T_WINDOW_UPDATE,
  type Frame,
  type FrameParserOptions,
} from '../../lib/http2/frames.js';

const frame = (type: number, flags: number, sid: number, payload: number[] | Buffer = []) => rawFrame(type, flags, sid, Buffer.from(payload));
const u32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const setting = (id: number, v: number) => [id >> 8, id & 0xff, ...u32(v)];

/** What the parser makes of `bytes`: the frames (as JSON-ish), stream errors, and the connection error. */
function parse(bytes: Buffer, options: FrameParserOptions = {}, split = 0): { frames: Frame[]; streamErrors: string[]; error: string | null } {
  const frames: Frame[] = [];
  const streamErrors: string[] = [];
  const p = new FrameParser({ onFrame: (f) => void frames.push(f), onStreamError: (e) => void streamErrors.push(`${e.scope} ${e.streamId} ${e.message}`) }, options);
  let error: string | null = null;
  try {
    if (split === 0) p.push(bytes);
    else for (let i = 0; i < bytes.length; i += split) p.push(bytes.subarray(i, i + split));
  } catch (e) {
    if (!(e instanceof Http2ProtocolError)) throw e;
    error = `${e.scope} ${e.message}`;
  }
  return { frames, streamErrors, error };
}
const refusal = (bytes: Buffer, options: FrameParserOptions = {}) => parse(bytes, options).error;

describe('refusals: code, scope and words', () => {
  it.each([
    ['DATA on stream 0', frame(T_DATA, 0, 0, [1]), 'connection PROTOCOL_ERROR: DATA on stream 0 (§6.1)'],
    ['HEADERS on stream 0', frame(T_HEADERS, F_END_HEADERS, 0), 'connection PROTOCOL_ERROR: HEADERS on stream 0 (§6.2)'],
    ['PRIORITY on stream 0', frame(T_PRIORITY, 0, 0, [0, 0, 0, 1, 0]), 'connection PROTOCOL_ERROR: PRIORITY on stream 0 (§6.3)'],
    ['RST_STREAM on stream 0', frame(T_RST_STREAM, 0, 0, u32(0)), 'connection PROTOCOL_ERROR: RST_STREAM on stream 0 (§6.4)'],
    ['RST_STREAM of 3 bytes', frame(T_RST_STREAM, 0, 1, [0, 0, 0]), 'connection FRAME_SIZE_ERROR: RST_STREAM length is not 4 (§6.4)'],
    ['RST_STREAM of 5 bytes', frame(T_RST_STREAM, 0, 1, [0, 0, 0, 0, 0]), 'connection FRAME_SIZE_ERROR: RST_STREAM length is not 4 (§6.4)'],
    ['SETTINGS on a stream', frame(T_SETTINGS, 0, 1), 'connection PROTOCOL_ERROR: SETTINGS on a stream (§6.5)'],
    ['SETTINGS ACK with a payload', frame(T_SETTINGS, F_ACK, 0, setting(1, 0)), 'connection FRAME_SIZE_ERROR: SETTINGS ACK with a payload (§6.5)'],
    ['SETTINGS of 5 bytes', frame(T_SETTINGS, 0, 0, [0, 1, 0, 0, 0]), 'connection FRAME_SIZE_ERROR: SETTINGS length is not a multiple of 6 (§6.5)'],
    ['PUSH_PROMISE on stream 0', frame(T_PUSH_PROMISE, F_END_HEADERS, 0, u32(2)), 'connection PROTOCOL_ERROR: PUSH_PROMISE on stream 0 (§6.6)'],
    ['PUSH_PROMISE of 3 bytes', frame(T_PUSH_PROMISE, F_END_HEADERS, 1, [0, 0, 2]), 'connection FRAME_SIZE_ERROR: PUSH_PROMISE too short'],
    ['PING on a stream', frame(T_PING, 0, 1, Buffer.alloc(8)), 'connection PROTOCOL_ERROR: PING on a stream (§6.7)'],
    ['PING of 7 bytes', frame(T_PING, 0, 0, Buffer.alloc(7)), 'connection FRAME_SIZE_ERROR: PING length is not 8 (§6.7)'],
    ['PING of 9 bytes', frame(T_PING, 0, 0, Buffer.alloc(9)), 'connection FRAME_SIZE_ERROR: PING length is not 8 (§6.7)'],
    ['GOAWAY on a stream', frame(T_GOAWAY, 0, 1, Buffer.alloc(8)), 'connection PROTOCOL_ERROR: GOAWAY on a stream (§6.8)'],
    ['GOAWAY of 7 bytes', frame(T_GOAWAY, 0, 0, Buffer.alloc(7)), 'connection FRAME_SIZE_ERROR: GOAWAY shorter than 8 bytes (§6.8)'],
    ['WINDOW_UPDATE of 3 bytes', frame(T_WINDOW_UPDATE, 0, 0, [0, 0, 1]), 'connection FRAME_SIZE_ERROR: WINDOW_UPDATE length is not 4 (§6.9)'],
    ['WINDOW_UPDATE of 0 on the connection', frame(T_WINDOW_UPDATE, 0, 0, u32(0)), 'connection PROTOCOL_ERROR: WINDOW_UPDATE of 0 on the connection (§6.9)'],
    ['CONTINUATION without a block', frame(T_CONTINUATION, F_END_HEADERS, 1), 'connection PROTOCOL_ERROR: CONTINUATION without an open header block'],
    ['another frame inside a header block', Buffer.concat([frame(T_HEADERS, 0, 1, [0x82]), frame(T_DATA, 0, 1, [1])]), 'connection PROTOCOL_ERROR: expected CONTINUATION of the open header block (§6.10)'],
    ['CONTINUATION of another stream', Buffer.concat([frame(T_HEADERS, 0, 1, [0x82]), frame(T_CONTINUATION, F_END_HEADERS, 3, [0x84])]), 'connection PROTOCOL_ERROR: expected CONTINUATION of the open header block (§6.10)'],
    ['PADDED with no pad length', frame(T_DATA, F_PADDED, 1), 'connection FRAME_SIZE_ERROR: PADDED frame without a pad length'],
    ['padding as long as the payload', frame(T_DATA, F_PADDED, 1, [3, 0, 0]), 'connection PROTOCOL_ERROR: padding of 3 bytes in a 3-byte payload'],
    ['padding past the payload', frame(T_HEADERS, F_PADDED | F_END_HEADERS, 1, [9, 0x82]), 'connection PROTOCOL_ERROR: padding of 9 bytes in a 2-byte payload'],
    ['PUSH_PROMISE padding', frame(T_PUSH_PROMISE, F_PADDED | F_END_HEADERS, 1, [5, 0, 0, 0, 2]), 'connection PROTOCOL_ERROR: padding of 5 bytes in a 5-byte payload'],
    ['HEADERS too short for priority', frame(T_HEADERS, F_PRIORITY | F_END_HEADERS, 1, [0, 0, 0, 0]), 'connection FRAME_SIZE_ERROR: HEADERS too short for its priority fields'],
    ['ENABLE_PUSH 2', frame(T_SETTINGS, 0, 0, setting(2, 2)), 'connection PROTOCOL_ERROR: setting 0x2 must be 0 or 1'],
    ['ENABLE_CONNECT_PROTOCOL 2', frame(T_SETTINGS, 0, 0, setting(8, 2)), 'connection PROTOCOL_ERROR: setting 0x8 must be 0 or 1'],
    ['INITIAL_WINDOW_SIZE 2^31', frame(T_SETTINGS, 0, 0, setting(4, 0x80000000)), 'connection FLOW_CONTROL_ERROR: SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (§6.5.2)'],
    ['MAX_FRAME_SIZE 2^14 - 1', frame(T_SETTINGS, 0, 0, setting(5, 16383)), 'connection PROTOCOL_ERROR: SETTINGS_MAX_FRAME_SIZE outside 2^14..2^24-1 (§6.5.2)'],
    ['MAX_FRAME_SIZE 2^24', frame(T_SETTINGS, 0, 0, setting(5, 16777216)), 'connection PROTOCOL_ERROR: SETTINGS_MAX_FRAME_SIZE outside 2^14..2^24-1 (§6.5.2)'],
  ])('%s', (_name, bytes, expected) => {
    expect(refusal(bytes)).toBe(expected);
    expect(parse(bytes, {}, 1).error).toBe(expected); // one byte at a time: the same
  });

  it('stream errors go to the handler and the connection goes on', () => {
    const r = parse(Buffer.concat([frame(T_PRIORITY, 0, 3, [0, 0, 0, 1]), frame(T_PRIORITY, 0, 5, [0, 0, 0, 5, 9]), frame(T_WINDOW_UPDATE, 0, 7, u32(0)), frame(T_HEADERS, F_PRIORITY | F_END_HEADERS, 9, [0, 0, 0, 9, 15, 0x82]), frame(T_PING, 0, 0, Buffer.alloc(8))]));
    expect(r.error).toBeNull();
    expect(r.streamErrors).toEqual(['stream 3 FRAME_SIZE_ERROR: PRIORITY length is not 5 (§6.3)', 'stream 5 PROTOCOL_ERROR: stream depends on itself (§5.3.1)', 'stream 7 PROTOCOL_ERROR: WINDOW_UPDATE of 0 (§6.9)', 'stream 9 PROTOCOL_ERROR: stream depends on itself (§5.3.1)']);
    // The HEADERS is still delivered (its block keeps HPACK in step); the PRIORITY is not.
    expect(r.frames.map((f) => f.type)).toEqual([T_HEADERS, T_PING]);
  });

  it('after a connection error the parser takes nothing more', () => {
    const frames: Frame[] = [];
    const p = new FrameParser({ onFrame: (f) => void frames.push(f), onStreamError() {} });
    expect(() => p.push(frame(T_DATA, 0, 0, [1]))).toThrow(Http2ProtocolError);
    p.push(frame(T_PING, 0, 0, Buffer.alloc(8)));
    expect(frames).toEqual([]);
  });
});

describe('limits: at the limit and one past', () => {
  it('the frame size (SETTINGS_MAX_FRAME_SIZE), default 16384', () => {
    expect(parse(frame(T_DATA, 0, 1, Buffer.alloc(16384))).error).toBeNull();
    expect(refusal(frame(T_DATA, 0, 1, Buffer.alloc(16385)))).toBe('connection FRAME_SIZE_ERROR: frame of 16385 bytes exceeds SETTINGS_MAX_FRAME_SIZE 16384');
    expect(parse(frame(T_DATA, 0, 1, Buffer.alloc(100)), { maxFrameSize: 100 }).error).toBeNull();
    expect(refusal(frame(T_DATA, 0, 1, Buffer.alloc(101)), { maxFrameSize: 100 })).toMatch(/^connection FRAME_SIZE_ERROR: frame of 101 bytes/);
  });

  it('CONTINUATION frames after one HEADERS (default 32), and the header block size (default 256 KiB)', () => {
    const block = (n: number, size = 1) => Buffer.concat([frame(T_HEADERS, 0, 1, Buffer.alloc(size)), ...Array.from({ length: n }, (_, i) => frame(T_CONTINUATION, i === n - 1 ? F_END_HEADERS : 0, 1, Buffer.alloc(size)))]);
    expect(parse(block(32)).frames).toHaveLength(1);
    expect(refusal(block(33))).toBe('connection ENHANCE_YOUR_CALM: more than 32 CONTINUATION frames');
    expect(parse(block(3), { maxContinuations: 3 }).frames).toHaveLength(1);
    expect(refusal(block(4), { maxContinuations: 3 })).toBe('connection ENHANCE_YOUR_CALM: more than 3 CONTINUATION frames');
    expect(parse(block(3, 25), { maxHeaderBlockSize: 100 }).frames[0]).toMatchObject({ type: T_HEADERS, block: Buffer.alloc(100) });
    expect(refusal(Buffer.concat([block(3, 25).subarray(0, -9 - 25), frame(T_CONTINUATION, F_END_HEADERS, 1, Buffer.alloc(26))]), { maxHeaderBlockSize: 100 })).toBe('connection ENHANCE_YOUR_CALM: header block larger than 100 bytes');
    expect(refusal(frame(T_HEADERS, 0, 1, Buffer.alloc(101)), { maxHeaderBlockSize: 100 })).toBe('connection ENHANCE_YOUR_CALM: header block larger than 100 bytes');
    // A block that ends resets the count for the next one.
    expect(parse(Buffer.concat([block(32), block(32)])).frames).toHaveLength(2);
  });

  it('settings at the edge of their ranges are taken; unknown settings too', () => {
    const ok = parse(frame(T_SETTINGS, 0, 0, [...setting(2, 1), ...setting(8, 0), ...setting(4, 0x7fffffff), ...setting(5, 16384), ...setting(5, 16777215), ...setting(0x99, 12345)]));
    expect(ok.error).toBeNull();
    expect(ok.frames).toEqual([{ type: T_SETTINGS, ack: false, settings: [[2, 1], [8, 0], [4, 0x7fffffff], [5, 16384], [5, 16777215], [0x99, 12345]] }]);
    expect(parse(frame(T_SETTINGS, F_ACK, 0)).frames).toEqual([{ type: T_SETTINGS, ack: true, settings: [] }]);
  });

  it('padding one byte shorter than the payload leaves an empty body; flow control counts it all', () => {
    const r = parse(Buffer.concat([frame(T_DATA, F_PADDED | F_END_STREAM, 1, [2, 0, 0]), frame(T_DATA, F_PADDED, 1, [0, 7])]));
    expect(r.frames).toEqual([
      { type: T_DATA, streamId: 1, endStream: true, data: Buffer.alloc(0), flowLength: 3 },
      { type: T_DATA, streamId: 1, endStream: false, data: Buffer.from([7]), flowLength: 2 },
    ]);
  });
});

describe('what frames carry', () => {
  it('priority fields: exclusive bit, dependency, weight 1..256', () => {
    const r = parse(Buffer.concat([frame(T_PRIORITY, 0, 3, [0x80, 0, 0, 1, 255]), frame(T_PRIORITY, 0, 5, [0, 0, 0, 3, 0]), frame(T_HEADERS, F_PRIORITY | F_END_HEADERS | F_END_STREAM, 7, [0x80, 0, 0, 5, 15, 0x82])]));
    expect(r.frames).toEqual([
      { type: T_PRIORITY, streamId: 3, priority: { exclusive: true, dependency: 1, weight: 256 } },
      { type: T_PRIORITY, streamId: 5, priority: { exclusive: false, dependency: 3, weight: 1 } },
      { type: T_HEADERS, streamId: 7, endStream: true, priority: { exclusive: true, dependency: 5, weight: 16 }, block: Buffer.from([0x82]) },
    ]);
  });

  it('RST_STREAM, PING, GOAWAY, WINDOW_UPDATE and PUSH_PROMISE fields; reserved bits ignored', () => {
    const r = parse(
      Buffer.concat([
        frame(T_RST_STREAM, 0, 1, u32(8)),
        frame(T_PING, F_ACK, 0, [1, 2, 3, 4, 5, 6, 7, 8]),
        frame(T_GOAWAY, 0, 0, [...u32(0x80000007), ...u32(2), 0x61]),
        frame(T_WINDOW_UPDATE, 0, 0, u32(0x80000010)),
        rawFrame(T_WINDOW_UPDATE, 0, 0x80000003, Buffer.from(u32(5))),
        frame(T_PUSH_PROMISE, F_PADDED, 1, [1, ...u32(0x80000002), 0x82, 0]),
        frame(T_CONTINUATION, F_END_HEADERS, 1, [0x84]),
        frame(0xfa, 0xff, 9, [1, 2, 3]), // unknown type: ignored
      ]),
    );
    expect(r.error).toBeNull();
    expect(r.frames).toEqual([
      { type: T_RST_STREAM, streamId: 1, code: 8 },
      { type: T_PING, ack: true, data: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) },
      { type: T_GOAWAY, lastStreamId: 7, code: 2, debug: Buffer.from('a') },
      { type: T_WINDOW_UPDATE, streamId: 0, increment: 16 },
      { type: T_WINDOW_UPDATE, streamId: 3, increment: 5 },
      { type: T_PUSH_PROMISE, streamId: 1, promisedStreamId: 2, block: Buffer.from([0x82, 0x84]) },
    ]);
  });

  it('any split of the bytes gives the same frames (a header split, a payload split, many frames in one chunk)', () => {
    const bytes = Buffer.concat([
      frame(T_SETTINGS, 0, 0, setting(3, 100)),
      frame(T_HEADERS, F_PADDED, 1, [3, 0x82, 0x84, 0, 0, 0]),
      frame(T_CONTINUATION, 0, 1, [0x86]),
      frame(T_CONTINUATION, F_END_HEADERS, 1, [0x87]),
      frame(T_DATA, F_END_STREAM, 1, Buffer.alloc(3000, 7)),
      frame(T_PING, 0, 0, Buffer.alloc(8, 1)),
      frame(T_DATA, 0, 3),
    ]);
    const whole = parse(bytes);
    expect(whole.error).toBeNull();
    expect(whole.frames.map((f) => f.type)).toEqual([T_SETTINGS, T_HEADERS, T_DATA, T_PING, T_DATA]);
    expect(whole.frames[1]).toMatchObject({ block: Buffer.from([0x82, 0x84, 0x86, 0x87]) });
    for (const split of [1, 2, 5, 8, 9, 10, 17, 1000]) expect(JSON.stringify(parse(bytes, {}, split)), `split ${split}`).toBe(JSON.stringify(whole));
  });
});
