/** A connection's open streams (lib/quic/open-streams.ts) against a Map as the model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpenStreams } from '../../lib/quic/open-streams.js';

describe('OpenStreams', () => {
  it('finds, counts and forgets streams of every kind, the client bidirectional ones from stream 0 up', () => {
    const o = new OpenStreams<string>(4);
    for (const id of [0, 2, 3, 4, 6, 7, 8]) o.set(id, `s${id}`);
    expect([o.size, o.get(0), o.get(2), o.get(3), o.get(8), o.get(1), o.has(6), o.has(12)]).toEqual([7, 's0', 's2', 's3', 's8', undefined, true, false]);
    // Unidirectional ones first, then the requests.
    expect(o.values()).toEqual(['s2', 's3', 's6', 's7', 's0', 's4', 's8']);
    expect([o.delete(0), o.delete(0), o.delete(3), o.size, o.get(0), o.get(3)]).toEqual([true, false, true, 5, undefined, undefined]);
  });

  it('behaves as a Map under any opens (rising ids per kind), closes and lookups, past its slots too', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('open' as const), type: fc.constantFrom(0, 0, 0, 2, 3), step: fc.integer({ min: 1, max: 20 }) }),
      fc.record({ kind: fc.constant('close' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('get' as const), id: fc.nat({ max: 3000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.constantFrom(1, 8, 100), (ops, concurrent) => {
        const o = new OpenStreams<number>(concurrent);
        const m = new Map<number, number>();
        const next = [0, 0, 2, 3];
        for (const x of ops) {
          if (x.kind === 'open') {
            const id = next[x.type]!;
            next[x.type] = id + 4 * x.step;
            o.set(id, id * 10);
            m.set(id, id * 10);
          } else if (x.kind === 'close') {
            const ids = [...m.keys()];
            const id = ids.length === 0 ? 1 : ids[x.pick % ids.length]!;
            expect(o.delete(id)).toBe(m.delete(id));
          } else expect(o.get(x.id)).toBe(m.get(x.id));
          expect(o.size).toBe(m.size);
        }
        expect(o.values().sort((a, b) => a - b)).toEqual([...m.values()].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });
});
