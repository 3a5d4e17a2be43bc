/** Packets in flight per space (lib/quic/sent-packets.ts) against a Map as the model, and its compaction. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SentPackets } from '../../lib/quic/sent-packets.js';

describe('SentPackets', () => {
  it('behaves as an ordered Map under any sends (rising numbers, with gaps), range acknowledgments and lookups', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), gap: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('take' as const), lo: fc.nat({ max: 2000 }), len: fc.nat({ max: 30 }) }),
      fc.record({ kind: fc.constant('get' as const), pn: fc.nat({ max: 2000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const s = new SentPackets<string>();
        const m = new Map<number, string>();
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'send') {
            for (let k = 0; k < o.n; k++) {
              s.add(next, `p${next}`);
              m.set(next, `p${next}`);
              next += o.gap;
            }
          } else if (o.kind === 'take') {
            const got: Array<[number, string]> = [];
            const n = s.take(o.lo, o.lo + o.len, (pn, r) => got.push([pn, r]));
            const want = [...m].filter(([pn]) => pn >= o.lo && pn <= o.lo + o.len);
            for (const [pn] of want) m.delete(pn);
            expect([n, got]).toEqual([want.length, want]);
          } else expect(s.get(o.pn)).toBe(m.get(o.pn));
          expect([s.size, s.lowest(), s.values()]).toEqual([m.size, m.size === 0 ? -1 : Math.min(...m.keys()), [...m.values()]]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('drops acknowledged records from the front once they are most of them (and keeps finding the rest)', () => {
    const s = new SentPackets<number>();
    for (let pn = 0; pn < 200; pn++) s.add(pn, pn);
    // 0 and 2..99 acknowledged, 1 still out: nothing can be dropped past it.
    s.take(0, 0, () => {});
    s.take(2, 99, () => {});
    expect([s.size, s.lowest(), s.get(1), s.get(100), s.get(50)]).toEqual([101, 1, 1, 100, undefined]);
    s.take(1, 1, () => {});
    expect([s.size, s.lowest(), s.get(100), s.get(199), s.get(1)]).toEqual([100, 100, 100, 199, undefined]);
    s.take(100, 199, () => {});
    s.add(500, 500);
    expect([s.size, s.lowest(), s.values(), s.get(500)]).toEqual([1, 500, [500], 500]);
    s.clear();
    expect([s.size, s.lowest(), s.values(), s.get(500)]).toEqual([0, -1, [], undefined]);
  });
});
