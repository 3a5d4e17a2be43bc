/**
 * HTTP/2 frame codec: writer → parser round trips under any split, and each rule of RFC 9113 §4–§6 with
 * the error code and scope it requires.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FrameParser, Http2ProtocolError, H2, type Frame,
  dataFrame, headersFrames, priorityFrame, rstStreamFrame, settingsFrame, pingFrame, goawayFrame, windowUpdateFrame, pushPromiseFrame, rawFrame,
  T_DATA, T_HEADERS, T_CONTINUATION, T_SETTINGS, T_PING, F_END_HEADERS, F_PADDED, S_MAX_FRAME_SIZE, S_INITIAL_WINDOW_SIZE, S_ENABLE_PUSH,
} from '../../lib/http2/index.js';
import { splitsArb } from '../../fuzz/http1/arbitraries.js';
import { FUZZ_RUNS, FUZZ_SEED } from '../../fuzz/http1/config.js';

function parse(bytes: Buffer, splits: number[] = [], options = {}) {
  const frames: Frame[] = [];
  const streamErrors: Http2ProtocolError[] = [];
  const p = new FrameParser({ onFrame: (f) => void frames.push(f), onStreamError: (e) => void streamErrors.push(e) }, options);
  let error: Http2ProtocolError | null = null;
  let last = 0;
  try {
    for (const s of [...splits, bytes.length]) {
      p.push(bytes.subarray(last, s));
      last = s;
    }
  } catch (e) {
    error = e as Http2ProtocolError;
  }
  // Normalise Buffers for comparison.
  const norm = frames.map((f) => JSON.parse(JSON.stringify(f, (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v))));
  return { frames: norm, error, streamErrors };
}

const frameArb: fc.Arbitrary<Buffer[]> = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.uint8Array({ maxLength: 100 }), fc.boolean(), fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }))
    .map(([s, d, e, pad]) => [dataFrame(s, d, e, pad)]),
  fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.integer({ min: 16, max: 64 }))
    .map(([s, b, e, max]) => headersFrames(s, b, { endStream: e, maxFrameSize: max })),
  fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1001, max: 2000 }), fc.boolean(), fc.integer({ min: 1, max: 256 }))
    .map(([s, dep, ex, w]) => [priorityFrame(s, { exclusive: ex, dependency: dep, weight: w })]),
  fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 0xd })).map(([s, c]) => [rstStreamFrame(s, c)]),
  fc.array(fc.tuple(fc.constantFrom(1, 3, 6, 0x99), fc.integer({ min: 0, max: 2 ** 31 - 1 })), { maxLength: 4 }).map((st) => [settingsFrame(st)]),
  fc.tuple(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.boolean()).map(([d, a]) => [pingFrame(d, a)]),
  fc.tuple(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 0xd }), fc.string({ maxLength: 20 })).map(([l, c, d]) => [goawayFrame(l, c, d)]),
  fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })).map(([s, i]) => [windowUpdateFrame(s, i)]),
  fc.tuple(fc.integer({ min: 0x10, max: 0xff }), fc.uint8Array({ maxLength: 20 })).map(([t, d]) => [rawFrame(t, 0, 1, d)]), // unknown types
);

describe('frame codec properties', () => {
  it('any split of a frame sequence parses the same as one chunk', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 6 }).chain((fs) => {
          const bytes = Buffer.concat(fs.flat());
          return fc.tuple(fc.constant(bytes), splitsArb(bytes.length));
        }),
        ([bytes, splits]) => {
          const whole = parse(bytes);
          expect(whole.error).toBeNull();
          expect(parse(bytes, splits).frames).toEqual(whole.frames);
        },
      ),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
    );
  });

  it('round trip: header blocks split into CONTINUATIONs come back whole, padding is removed', () => {
    const block = Buffer.alloc(100, 7);
    const r = parse(Buffer.concat([...headersFrames(3, block, { maxFrameSize: 16, endStream: true }), dataFrame(3, Buffer.from('abc'), true, 10)]));
    expect(r.frames).toEqual([
      { type: T_HEADERS, streamId: 3, endStream: true, priority: null, block: block.toString('hex') },
      { type: T_DATA, streamId: 3, endStream: true, data: Buffer.from('abc').toString('hex'), flowLength: 14 },
    ]);
  });
});

describe('frame rules (RFC 9113)', () => {
  const conn = (bytes: Buffer, code: number, options = {}) => {
    const r = parse(bytes, [], options);
    expect(r.error).toBeInstanceOf(Http2ProtocolError);
    expect([r.error!.scope, r.error!.code]).toEqual(['connection', code]);
  };
  const stream = (bytes: Buffer, code: number) => {
    const r = parse(bytes);
    expect(r.error).toBeNull();
    expect(r.streamErrors.map((e) => [e.scope, e.code])).toEqual([['stream', code]]);
  };

  it('§4.2 frame larger than SETTINGS_MAX_FRAME_SIZE → FRAME_SIZE_ERROR', () => conn(dataFrame(1, Buffer.alloc(16385)), H2.FRAME_SIZE_ERROR));
  it('§4.2 the limit follows our setting', () => expect(parse(dataFrame(1, Buffer.alloc(20000)), [], { maxFrameSize: 32768 }).error).toBeNull());
  it('§6.1 DATA on stream 0 → PROTOCOL_ERROR', () => conn(dataFrame(0, Buffer.from('x')), H2.PROTOCOL_ERROR));
  it('§6.1 padding as long as the payload → PROTOCOL_ERROR', () => conn(rawFrame(T_DATA, F_PADDED, 1, Buffer.from([5, 1, 2])), H2.PROTOCOL_ERROR));
  it('§6.2 HEADERS on stream 0 → PROTOCOL_ERROR', () => conn(headersFrames(0, Buffer.from([0x82]))[0]!, H2.PROTOCOL_ERROR));
  it('§5.3.1 a stream depending on itself → stream PROTOCOL_ERROR', () => stream(priorityFrame(5, { exclusive: false, dependency: 5, weight: 16 }), H2.PROTOCOL_ERROR));
  it('§6.3 PRIORITY of the wrong length → stream FRAME_SIZE_ERROR, and parsing goes on', () => {
    const r = parse(Buffer.concat([rawFrame(0x2, 0, 3, Buffer.alloc(4)), pingFrame(Buffer.alloc(8))]));
    expect(r.streamErrors.map((e) => e.code)).toEqual([H2.FRAME_SIZE_ERROR]);
    expect(r.frames.map((f) => f.type)).toEqual([T_PING]);
  });
  it('§6.4 RST_STREAM of the wrong length → FRAME_SIZE_ERROR; on stream 0 → PROTOCOL_ERROR', () => {
    conn(rawFrame(0x3, 0, 1, Buffer.alloc(3)), H2.FRAME_SIZE_ERROR);
    conn(rstStreamFrame(0, 0), H2.PROTOCOL_ERROR);
  });
  it('§6.5 SETTINGS rules', () => {
    conn(rawFrame(T_SETTINGS, 0, 1, Buffer.alloc(0)), H2.PROTOCOL_ERROR);
    conn(rawFrame(T_SETTINGS, 1, 0, Buffer.alloc(6)), H2.FRAME_SIZE_ERROR);
    conn(rawFrame(T_SETTINGS, 0, 0, Buffer.alloc(5)), H2.FRAME_SIZE_ERROR);
    conn(settingsFrame([[S_ENABLE_PUSH, 2]]), H2.PROTOCOL_ERROR);
    conn(settingsFrame([[S_INITIAL_WINDOW_SIZE, 2 ** 31]]), H2.FLOW_CONTROL_ERROR);
    conn(settingsFrame([[S_MAX_FRAME_SIZE, 16383]]), H2.PROTOCOL_ERROR);
    conn(settingsFrame([[S_MAX_FRAME_SIZE, 2 ** 24]]), H2.PROTOCOL_ERROR);
    expect(parse(settingsFrame([[0x99, 7]])).frames[0]).toEqual({ type: T_SETTINGS, ack: false, settings: [[0x99, 7]] }); // unknown: passed, ignored by the session
  });
  it('§6.7 PING rules', () => {
    conn(rawFrame(T_PING, 0, 0, Buffer.alloc(7)), H2.FRAME_SIZE_ERROR);
    conn(rawFrame(T_PING, 0, 1, Buffer.alloc(8)), H2.PROTOCOL_ERROR);
  });
  it('§6.8 GOAWAY rules', () => {
    conn(rawFrame(0x7, 0, 1, Buffer.alloc(8)), H2.PROTOCOL_ERROR);
    conn(rawFrame(0x7, 0, 0, Buffer.alloc(7)), H2.FRAME_SIZE_ERROR);
  });
  it('§6.9 WINDOW_UPDATE rules', () => {
    conn(rawFrame(0x8, 0, 1, Buffer.alloc(3)), H2.FRAME_SIZE_ERROR);
    conn(windowUpdateFrame(0, 0), H2.PROTOCOL_ERROR);
    stream(windowUpdateFrame(7, 0), H2.PROTOCOL_ERROR);
  });
  it('§6.10 CONTINUATION rules: only after an open block, on its stream, nothing in between', () => {
    conn(rawFrame(T_CONTINUATION, F_END_HEADERS, 1, Buffer.from([0x82])), H2.PROTOCOL_ERROR);
    const open = rawFrame(T_HEADERS, 0, 1, Buffer.from([0x82]));
    conn(Buffer.concat([open, pingFrame(Buffer.alloc(8))]), H2.PROTOCOL_ERROR);
    conn(Buffer.concat([open, rawFrame(T_CONTINUATION, F_END_HEADERS, 3, Buffer.from([0x84]))]), H2.PROTOCOL_ERROR);
  });
  it('§6.10 a CONTINUATION flood ends in ENHANCE_YOUR_CALM', () => {
    const open = rawFrame(T_HEADERS, 0, 1, Buffer.from([0x82]));
    const cont = rawFrame(T_CONTINUATION, 0, 1, Buffer.from([0x84]));
    conn(Buffer.concat([open, ...Array.from({ length: 40 }, () => cont)]), H2.ENHANCE_YOUR_CALM);
    conn(Buffer.concat([open, ...Array.from({ length: 10 }, () => rawFrame(T_CONTINUATION, 0, 1, Buffer.alloc(16000)))]), H2.ENHANCE_YOUR_CALM, { maxHeaderBlockSize: 64 * 1024 });
  });
  it('§4.1 unknown frame types are ignored', () => {
    expect(parse(Buffer.concat([rawFrame(0xfa, 0xff, 9, Buffer.from('anything')), pingFrame(Buffer.alloc(8))])).frames.map((f) => f.type)).toEqual([T_PING]);
  });
  it('PUSH_PROMISE carries the promised stream', () => {
    expect(parse(pushPromiseFrame(1, 2, Buffer.from([0x82]))).frames[0]).toMatchObject({ type: 0x5, streamId: 1, promisedStreamId: 2 });
  });
});
