/** The open-streams table of an HTTP/2 session (lib/net/stream-table.ts) against a Map as the model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamTable } from '../../lib/net/stream-table.js';

describe('StreamTable', () => {
  it('finds, counts and forgets streams; an id whose slot is taken grows the table, past its most slots it overflows', () => {
    const t = new StreamTable<string>(32);
    expect([t.size, t.get(1), t.has(1), t.delete(1), t.values()]).toEqual([0, undefined, false, false, []]);
    t.set(1, 'a');
    t.set(3, 'b');
    expect([t.size, t.get(1), t.get(3), t.get(5), t.has(3)]).toEqual([2, 'a', 'b', undefined, true]);
    // 1 + 32 shares slot 0 of 16: the table doubles to 32 slots, where 33 has a slot of its own.
    t.set(33, 'c');
    expect([t.get(1), t.get(33), t.size]).toEqual(['a', 'c', 3]);
    // 1 + 64 shares slot 0 of 32, the most: it overflows, and is found, counted and forgotten there.
    t.set(65, 'd');
    expect([t.get(65), t.get(1), t.size]).toEqual(['d', 'a', 4]);
    expect(t.values().sort()).toEqual(['a', 'b', 'c', 'd']);
    expect([t.delete(65), t.delete(65), t.get(65), t.size]).toEqual([true, false, undefined, 3]);
    // A slot's other id is not deleted by mistake, nor found.
    expect([t.delete(97), t.get(97), t.size]).toEqual([false, undefined, 3]);
    expect([t.delete(1), t.get(1), t.get(33), t.size]).toEqual([true, undefined, 'c', 2]);
    // values() is a copy: closing streams while going through it is safe.
    for (const v of t.values()) t.delete(v === 'b' ? 3 : 33);
    expect([t.size, t.values()]).toEqual([0, []]);
    t.set(1, 'a');
    t.set(65, 'b'); // overflow
    t.clear();
    expect([t.size, t.get(1), t.get(65), t.values()]).toEqual([0, undefined, undefined, []]);
    t.set(65, 'c');
    expect([t.get(65), t.size]).toEqual(['c', 1]);
  });

  it('the most slots is a power of two, at least 16', () => {
    const t = new StreamTable<number>(20); // → 32 slots
    t.set(1, 1);
    t.set(1 + 32, 2); // 16 → 32 slots
    t.set(1 + 64, 3); // slot 0 of 32, taken: overflow, no growth past 32
    t.set(3, 4);
    expect([t.get(1), t.get(33), t.get(65), t.get(3), t.size]).toEqual([1, 2, 3, 4, 4]);
    const small = new StreamTable<number>(1); // → 16 slots
    small.set(1, 1);
    small.set(33, 2); // slot 0 of 16: overflow at once
    expect([small.get(1), small.get(33), small.size]).toEqual([1, 2, 2]);
  });

  it('with shift 2 (one kind of QUIC stream): stream 0 is kept, sequence numbers share no slot, ids from 2^31 - 1 overflow', () => {
    const t = new StreamTable<string>(16, 2);
    for (const id of [0, 4, 8, 60]) t.set(id, `s${id}`);
    expect([t.size, t.get(0), t.get(4), t.get(60), t.get(64), t.has(0)]).toEqual([4, 's0', 's4', 's60', undefined, true]);
    // 64 is sequence number 16: slot 0 of 16, taken by 0, and 16 is the most: it overflows.
    t.set(64, 's64');
    expect([t.get(64), t.get(0), t.size]).toEqual(['s64', 's0', 5]);
    for (const big of [2 ** 31 - 1, 2 ** 31, 2 ** 33]) {
      const u = new StreamTable<number>(16, 0);
      u.set(big, 1);
      u.set(big - 2 ** 31 + 1, 2); // the slot a truncated id would have taken: still free
      expect([u.get(big), u.get(big - 2 ** 31 + 1), u.size, u.delete(big), u.get(big)], String(big)).toEqual([1, 2, 2, true, undefined]);
    }
    expect([t.delete(0), t.get(0), t.get(64), t.size]).toEqual([true, undefined, 's64', 4]);
  });

  it('behaves as a Map under any sequence of opens (increasing ids), closes and lookups', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('open' as const), step: fc.integer({ min: 1, max: 80 }) }),
      fc.record({ kind: fc.constant('close' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('get' as const), id: fc.integer({ min: 1, max: 5000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.constantFrom(16, 32, 64, 256), (ops, max) => {
        const t = new StreamTable<number>(max);
        const m = new Map<number, number>();
        let next = 1;
        for (const o of ops) {
          if (o.kind === 'open') {
            next += 2 * o.step;
            t.set(next, next * 10);
            m.set(next, next * 10);
          } else if (o.kind === 'close') {
            const ids = [...m.keys()];
            const id = ids.length === 0 ? next + 2 : ids[o.pick % ids.length]!;
            expect(t.delete(id)).toBe(m.delete(id));
          } else expect(t.get(o.id)).toBe(m.get(o.id));
          expect(t.size).toBe(m.size);
        }
        for (const [id, v] of m) expect(t.get(id)).toBe(v);
        expect(t.values().sort((a, b) => a - b)).toEqual([...m.values()].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });
});
