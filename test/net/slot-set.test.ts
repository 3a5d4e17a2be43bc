/** SlotSet (lib/net/slot-set.ts) against a Set as the model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotSet } from '../../lib/net/index.js';

describe('SlotSet', () => {
  it('adds, finds and deletes as a Set does, under any sequence; an object may be in two sets at once', () => {
    const objs = Array.from({ length: 12 }, (_, k) => ({ k }));
    const op = fc.record({ kind: fc.constantFrom('add', 'delete', 'has', 'clear'), set: fc.constantFrom(0, 1), obj: fc.nat({ max: 11 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const sets = [new SlotSet<{ k: number }>(), new SlotSet<{ k: number }>()];
        const models = [new Set<{ k: number }>(), new Set<{ k: number }>()];
        for (const o of ops) {
          const s = sets[o.set]!;
          const m = models[o.set]!;
          const x = objs[o.obj]!;
          if (o.kind === 'add') expect(s.add(x)).toBe(s), m.add(x);
          else if (o.kind === 'delete') expect(s.delete(x)).toBe(m.delete(x));
          else if (o.kind === 'has') expect(s.has(x)).toBe(m.has(x));
          else (o.obj % 4 === 0 ? (s.clear(), m.clear()) : undefined);
          for (let k = 0; k < 2; k++) {
            expect(sets[k]!.size).toBe(models[k]!.size);
            expect(new Set(sets[k])).toEqual(models[k]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('going through it visits the members of that moment, whatever is added or deleted meanwhile', () => {
    const s = new SlotSet<{ k: number }>();
    const a = { k: 1 };
    const b = { k: 2 };
    const c = { k: 3 };
    s.add(a).add(b).add(c);
    const seen: number[] = [];
    for (const x of s) {
      seen.push(x.k);
      s.delete(a); // the member taking a's place is still visited once
      s.add({ k: 9 });
    }
    expect(seen).toEqual([1, 2, 3]);
    const each: number[] = [];
    s.forEach((x) => (each.push(x.k), s.delete(x)));
    expect([each.sort(), s.size]).toEqual([[2, 3, 9, 9, 9], 0]);
    expect(s.values()).toEqual([]);
  });
});
