/**
 * HTTP/3 frames (RFC 9114 §7): any split of a frame sequence reads as the same frames and DATA bytes;
 * reserved types with 62-bit numbers pass through; a non-DATA frame at maxFrameSize is read and one byte
 * past is H3_EXCESSIVE_LOAD; SETTINGS' rules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeSettings, frame, FrameReader, Http3Error, parseSettings } from '../../lib/http3/index.js';

function readAll(chunks: Buffer[], max = 1 << 16) {
  const frames: Array<[number, string]> = [];
  let data = '';
  const r = new FrameReader({ frame: (t, p) => frames.push([t, p.toString('hex')]), data: (b) => (data += b.toString('hex')) }, max);
  for (const c of chunks) r.push(c);
  return { frames, data, boundary: r.atBoundary };
}

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof Http3Error ? err.code : -1;
  }
};

describe('HTTP/3 frames', () => {
  it('any split of a frame sequence gives the same frames and DATA bytes', () => {
    const f = fc.tuple(fc.constantFrom(0x00, 0x01, 0x04, 0x07, 0x21, 0x1f * 1000 + 0x21), fc.uint8Array({ maxLength: 300 }));
    fc.assert(
      fc.property(fc.array(f, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const bytes = Buffer.concat(frames.map(([t, p]) => frame(t, p)));
        const whole = readAll([bytes]);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const parts: Buffer[] = [];
        let at = 0;
        for (const p of [...points, bytes.length]) {
          parts.push(bytes.subarray(at, p));
          at = p;
        }
        expect(readAll(parts)).toEqual(whole);
        expect(whole.frames.map(([t]) => t)).toEqual(frames.filter(([t]) => t !== 0).map(([t]) => t));
        expect(whole.data).toBe(Buffer.concat(frames.filter(([t]) => t === 0).map(([, p]) => p)).toString('hex'));
        expect(whole.boundary).toBe(true);
      }),
    );
  });

  it('a type with a 62-bit number (reserved, §7.2.8) is read, not refused', () => {
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x01, 0xaa]);
    const r = readAll([huge]);
    expect(r.frames).toHaveLength(1);
    expect(r.frames[0]![1]).toBe('aa');
  });

  it('reads a frame at maxFrameSize; one byte past is H3_EXCESSIVE_LOAD; DATA has no such limit', () => {
    expect(codeOf(() => readAll([frame(0x01, Buffer.alloc(100))], 100))).toBe(null);
    expect(codeOf(() => readAll([frame(0x01, Buffer.alloc(101))], 100))).toBe(0x107);
    expect(codeOf(() => readAll([frame(0x00, Buffer.alloc(1000))], 100))).toBe(null);
  });

  it('is not at a boundary inside a frame (a stream ending there is H3_FRAME_ERROR)', () => {
    expect(readAll([frame(0x01, Buffer.alloc(10)).subarray(0, 5)]).boundary).toBe(false);
    expect(readAll([Buffer.from([0x40])]).boundary).toBe(false); // a type cut inside its varint
  });

  it('SETTINGS: round trip; HTTP/2 identifiers and repeats refused; large reserved identifiers kept', () => {
    expect(parseSettings(encodeSettings(new Map([[0x01, 4096], [0x06, 65536], [0x07, 16]])))).toEqual(new Map([[0x01, 4096], [0x06, 65536], [0x07, 16]]));
    for (const id of [0x02, 0x03, 0x04, 0x05]) expect(codeOf(() => parseSettings(encodeSettings(new Map([[id, 1]]))))).toBe(0x109);
    expect(codeOf(() => parseSettings(Buffer.from([0x06, 0x01, 0x06, 0x02])))).toBe(0x109);
    expect(codeOf(() => parseSettings(Buffer.from([0x06])))).toBe(0x106);
    const reserved = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00]);
    expect(parseSettings(reserved).size).toBe(1);
  });
});

describe('responseFrames', () => {
  it('is HEADERS with the block, then DATA with the body (none when empty), in one buffer', async () => {
    const { responseFrames } = await import('../../lib/http3/frames.js');
    const block = Buffer.alloc(70, 7); // a length of two varint bytes
    expect(readAll([responseFrames(block, 'hello')])).toEqual({ frames: [[0x01, block.toString('hex')]], data: Buffer.from('hello').toString('hex'), boundary: true });
    expect(readAll([responseFrames(block, '')])).toEqual({ frames: [[0x01, block.toString('hex')]], data: '', boundary: true });
    const long = 'y'.repeat(300); // two varint bytes for DATA too
    expect(readAll([responseFrames(Buffer.from([1, 2]), long)]).data).toBe(Buffer.from(long).toString('hex'));
  });
});
