import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lru } from '../../../lib/app/cache/index.js';



const ops = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), value: fc.string({ maxLength: 12 }), ttl: fc.constantFrom(0, 0, 50, 200) }),
    fc.record({ kind: fc.constant('get' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f') }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c') }),
    fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 120 }) }),
  ),
  { maxLength: 200 },
);

describe('Lru', () => {
  it('behaves like a naive model: recency order, entry and byte bounds, expiry (virtual clock)', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 4, max: 40 }), (list, maxEntries, maxBytes) => {
        let now = 1000;
        const size = (v: string) => v.length + 1;
        const lru = new Lru<string>({ maxEntries, maxBytes, sizeOf: size, now: () => now });
        // Model: array from least to most recent of [key, value, expiresAt].
        let model: Array<[string, string, number]> = [];
        const bytes = () => model.reduce((n, [, v]) => n + size(v), 0);
        for (const op of list) {
          if (op.kind === 'tick') now += op.ms;
          else if (op.kind === 'get') {
            const i = model.findIndex(([k]) => k === op.key);
            let want: string | undefined;
            if (i >= 0) {
              const e = model[i]!;
              if (e[2] !== 0 && e[2] <= now) model.splice(i, 1);
              else {
                want = e[1];
                model.splice(i, 1);
                model.push(e);
              }
            }
            expect(lru.get(op.key)).toBe(want);
          } else if (op.kind === 'delete') {
            model = model.filter(([k]) => k !== op.key);
            lru.delete(op.key);
          } else {
            model = model.filter(([k]) => k !== op.key);
            lru.set(op.key, op.value, op.ttl);
            if (size(op.value) > maxBytes) continue;
            model.push([op.key, op.value, op.ttl > 0 ? now + op.ttl : 0]);
            while (model.length > maxEntries) model.shift();
            while (bytes() > maxBytes) model.shift();
          }
          expect(lru.size).toBe(model.length);
          expect(lru.bytes).toBe(bytes());
          expect([...lru.keys()].sort()).toEqual(model.map(([k]) => k).sort());
        }
      }),
      { numRuns: 500 },
    );
  });
});
