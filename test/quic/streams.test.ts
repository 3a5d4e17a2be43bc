/**
 * Stream reassembly (RFC 9000 §2.2, §4.5) and ACK ranges (§13.2, §19.3), each against an oracle under any
 * order, overlap and repetition of the input, with their limits at and one past.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AckTracker, BUFFER_EXCEEDED, FINAL_SIZE_ERROR, readFrames, Reassembly, StreamDataError } from '../../lib/quic/index.js';

describe('reassembly', () => {
  it('any pieces covering the bytes, in any order, overlapping and repeated, give the bytes in order (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 80 })), { maxLength: 30 }),
        fc.infiniteStream(fc.nat()),
        (bytes, extra, order) => {
          const data = Buffer.from(bytes);
          // Pieces that cover everything (consecutive cuts), plus arbitrary overlapping ones.
          const pieces: Array<[number, number]> = [];
          for (let at = 0; at < data.length; ) {
            const n = Math.min(data.length - at, 1 + (order.next().value % 40));
            pieces.push([at, n]);
            at += n;
          }
          for (const [o, n] of extra) {
            const off = o % data.length;
            pieces.push([off, Math.min(n, data.length - off)]);
          }
          const shuffled = pieces.map((p) => [order.next().value, p] as const).sort((a, b) => a[0] - b[0]).map(([, p]) => p);
          const out: Buffer[] = [];
          const r = new Reassembly(1 << 20, (c) => out.push(Buffer.from(c)));
          for (const [o, n] of shuffled) r.push(o, data.subarray(o, o + n), o + n === data.length);
          expect(Buffer.concat(out)).toEqual(data);
          expect([r.complete, r.buffered]).toEqual([true, 0]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('holds at most maxBuffered bytes out of order: at the limit, and one past (BUFFER_EXCEEDED)', () => {
    const r = new Reassembly(10, () => {});
    r.push(5, Buffer.alloc(10));
    expect(r.buffered).toBe(10);
    expect(() => r.push(20, Buffer.alloc(1))).toThrow(new StreamDataError(BUFFER_EXCEEDED, 'more than 10 bytes waiting out of order'));
    const ok = new Reassembly(10, () => {});
    ok.push(5, Buffer.alloc(10));
    ok.push(0, Buffer.alloc(5)); // fills the gap: everything goes out
    expect([ok.delivered, ok.buffered]).toEqual([15, 0]);
  });

  it('the final size is fixed once known: a different one, data past it, or one below what came are FINAL_SIZE_ERROR', () => {
    const r = new Reassembly(100, () => {});
    r.push(0, Buffer.alloc(5), true);
    expect(() => r.push(0, Buffer.alloc(6), true)).toThrow(new StreamDataError(FINAL_SIZE_ERROR, 'the final size changed from 5 to 6'));
    expect(() => r.push(5, Buffer.alloc(1))).toThrow(/past the final size 5/);
    r.push(0, Buffer.alloc(5), true); // the same FIN again: fine
    const below = new Reassembly(100, () => {});
    below.push(10, Buffer.alloc(5));
    expect(() => below.push(0, Buffer.alloc(8), true)).toThrow(/final size of 8 below data already received/);
  });
});

describe('ACK ranges', () => {
  /** The oracle: the set's numbers as ranges, highest first. */
  const rangesOf = (set: Set<number>) => {
    const sorted = [...set].sort((a, b) => b - a);
    const out: Array<[number, number]> = [];
    for (const n of sorted) {
      const last = out[out.length - 1];
      if (last !== undefined && last[0] === n + 1) last[0] = n;
      else out.push([n, n]);
    }
    return out;
  };

  it('keeps exactly the ranges of what came, in any order with duplicates; its ACK frame reads back the same (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 200 }), { minLength: 1, maxLength: 120 }), (pns) => {
        const t = new AckTracker(1000);
        const seen = new Set<number>();
        for (const pn of pns) {
          expect(t.add(pn, true)).toBe(!seen.has(pn));
          seen.add(pn);
        }
        expect(t.ranges).toEqual(rangesOf(seen));
        expect(t.largest).toBe(Math.max(...seen));
        const [ack] = readFrames(t.frame(3));
        expect(ack).toEqual({ type: 'ack', largest: Math.max(...seen), delay: 3, ranges: rangesOf(seen).map(([lo, hi]) => [lo, hi]), ecn: false });
        expect(t.pending).toBe(false);
      }),
    );
  });

  it('keeps the newest maxRanges ranges; only ack-eliciting packets make an ACK pending', () => {
    const t = new AckTracker(2);
    for (const pn of [0, 2, 4, 6]) t.add(pn, false);
    expect(t.ranges).toEqual([[6, 6], [4, 4]]);
    expect(t.pending).toBe(false);
    t.add(7, true);
    expect(t.pending).toBe(true);
    expect(() => new AckTracker().frame()).toThrow('nothing to acknowledge');
  });
});
