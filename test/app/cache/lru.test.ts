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
  { minLength: 30, maxLength: 200 },
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

  it('with policy sieve, behaves like a model of SIEVE (NSDI \'24): visited bits, a hand sweeping from the oldest', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 4, max: 40 }), (list, maxEntries, maxBytes) => {
        let now = 1000;
        const size = (v: string) => v.length + 1;
        const lru = new Lru<string>({ maxEntries, maxBytes, sizeOf: size, now: () => now, policy: 'sieve' });
        // Model: the queue from oldest to newest; the hand names the entry the next sweep starts at.
        type E = { key: string; value: string; expires: number; visited: boolean };
        let queue: E[] = [];
        let hand: string | null = null;
        const bytes = () => queue.reduce((n, e) => n + size(e.value), 0);
        const remove = (key: string) => {
          const i = queue.findIndex((e) => e.key === key);
          if (i < 0) return;
          if (hand === key) hand = queue[i + 1]?.key ?? null; // towards the newest
          queue.splice(i, 1);
        };
        const evict = (keep: string | null): boolean => {
          if (queue.length === 0 || (queue.length === 1 && queue[0]!.key === keep)) return false;
          let i = hand === null ? 0 : queue.findIndex((e) => e.key === hand);
          while (queue[i]!.visited || queue[i]!.key === keep) {
            queue[i]!.visited = false;
            i = i + 1 < queue.length ? i + 1 : 0;
          }
          const victim = queue[i]!;
          hand = queue[i + 1]?.key ?? null;
          queue.splice(i, 1);
          expect(lru.peek(victim.key)).toBeUndefined();
          return true;
        };
        for (const op of list) {
          if (op.kind === 'tick') now += op.ms;
          else if (op.kind === 'get') {
            const e = queue.find((x) => x.key === op.key);
            let want: string | undefined;
            if (e !== undefined) {
              if (e.expires !== 0 && e.expires <= now) remove(e.key);
              else {
                want = e.value;
                e.visited = true;
              }
            }
            expect(lru.get(op.key)).toBe(want);
          } else if (op.kind === 'delete') {
            remove(op.key);
            lru.delete(op.key);
          } else {
            lru.set(op.key, op.value, op.ttl);
            const expires = op.ttl > 0 ? now + op.ttl : 0;
            const e = queue.find((x) => x.key === op.key);
            if (size(op.value) > maxBytes) remove(op.key);
            else if (e !== undefined) {
              // An update is a hit: the entry keeps its place.
              Object.assign(e, { value: op.value, expires, visited: true });
              while (bytes() > maxBytes && evict(op.key));
            } else {
              if (queue.length === maxEntries) evict(null);
              queue.push({ key: op.key, value: op.value, expires, visited: false });
              while (bytes() > maxBytes && evict(op.key));
            }
          }
          expect(lru.size).toBe(queue.length);
          expect(lru.bytes).toBe(bytes());
          expect([...lru.keys()].sort()).toEqual(queue.map((e) => e.key).sort());
        }
      }),
      { numRuns: 1000 },
    );
  });
});
