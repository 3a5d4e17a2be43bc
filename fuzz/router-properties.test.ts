/**
 * Router properties against the naive reference (fuzz/router/reference.ts): random route tables and
 * random paths agree; insertion order does not matter; every route is reachable by a path made from it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Router, RouteError } from '../lib/router/index.js';
import { referenceFind, type RefRoute } from './router/reference.js';
import { FUZZ_RUNS, FUZZ_SEED } from './http1/config.js';

const params = { numRuns: Math.max(50, Math.floor(FUZZ_RUNS / 2)), seed: FUZZ_SEED };

// Small alphabets so that routes collide and priorities matter.
const staticSeg = fc.constantFrom('a', 'b', 'ab', 'users', 'me', '1', 'x.y');
const paramSeg = fc.constantFrom(':p', '{p:int}', '{p:slug}', '{p:[ab]+}', '{p:uuid}', ':p.:q', ':p.json', 'v:p');
const tailSeg = fc.constantFrom('*', '{rest:path}', ':p?');

let nameCounter = 0;
/** Renames p/q so that every parameter name in a pattern is distinct. */
function uniqueNames(segs: string[]): string {
  let n = 0;
  return `/${segs.map((s) => s.replace(/\b(p|q)\b/g, () => `n${n++}`)).join('/')}`;
}

const routeArb: fc.Arbitrary<RefRoute> = fc
  .tuple(
    fc.constantFrom('GET', 'GET', 'POST'),
    fc.array(fc.oneof({ weight: 3, arbitrary: staticSeg }, { weight: 2, arbitrary: paramSeg }), { minLength: 0, maxLength: 3 }),
    fc.option(tailSeg, { freq: 4 }),
  )
  .map(([method, segs, tail]) => {
    nameCounter++;
    const all = tail === null ? segs : [...segs, tail];
    return { method, pattern: all.length === 0 ? '/' : uniqueNames(all) };
  });

const pathSeg = fc.constantFrom('a', 'b', 'ab', 'users', 'me', '1', '42', '-3', 'x.y', 'f.json', 'va', 'abab', 'my-slug', '123e4567-e89b-12d3-a456-426614174000', '..', 'c%2Fd', 'z');
const pathArb = fc.array(pathSeg, { minLength: 0, maxLength: 5 }).chain((segs) =>
  fc.constantFrom('', '/').map((trail) => `/${segs.join('/')}${segs.length > 0 ? trail : ''}`),
);

/** Builds a router from `routes`, dropping the ones that conflict; returns the kept ones. */
function build(routes: RefRoute[], codegen = true): { router: Router<number>; kept: RefRoute[] } {
  const router = new Router<number>({ codegen });
  const kept: RefRoute[] = [];
  for (const r of routes) {
    try {
      router.add(r.method, r.pattern, kept.length);
      kept.push(r);
    } catch (e) {
      if (!(e instanceof RouteError) || e.code !== 'ROUTE_CONFLICT') throw e;
    }
  }
  return { router, kept };
}

function answer(router: Router<number>, method: string, path: string) {
  const r = router.find(method, path);
  if (r.status === 200) return { status: 200, index: r.store, params: { ...r.params } };
  if (r.status === 405) return { status: 405, allowed: r.allowed.filter((m) => m !== 'HEAD') };
  return { status: r.status };
}

describe('router properties', () => {
  it.each([true, false])('agrees with the naive reference on random tables and random paths (codegen %s)', (codegen) => {
    const seen = { 200: 0, 404: 0, 405: 0 } as Record<number, number>;
    fc.assert(
      fc.property(fc.array(routeArb, { minLength: 1, maxLength: 12 }), fc.array(pathArb, { minLength: 1, maxLength: 10 }), fc.constantFrom('GET', 'POST'), (routes, paths, method) => {
        const { router, kept } = build(routes, codegen);
        for (const path of paths) {
          const ref = referenceFind(kept, method, path);
          const got = answer(router, method, path);
          seen[got.status] = (seen[got.status] ?? 0) + 1;
          expect({ path, got }).toEqual({ path, got: ref.status === 200 ? { status: 200, index: ref.index, params: ref.params } : ref });
        }
      }),
      params,
    );
    // The generators must exercise every outcome, or the comparison proves little.
    expect(seen[200]).toBeGreaterThan(0);
    expect(seen[404]).toBeGreaterThan(0);
    expect(seen[405]).toBeGreaterThan(0);
  });

  it('gives the same answers whatever order the routes were added in', () => {
    fc.assert(
      fc.property(
        fc.array(routeArb, { minLength: 1, maxLength: 12 }).chain((rs) => fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }))),
        fc.array(pathArb, { minLength: 1, maxLength: 10 }),
        ([routes, shuffled], paths) => {
          const a = build(routes);
          const b = build(shuffled);
          // Conflicts may keep a different one of two twins; compare only tables with no conflicts.
          fc.pre(a.kept.length === routes.length);
          for (const path of paths) {
            for (const method of ['GET', 'POST']) {
              const x = answer(a.router, method, path);
              const y = answer(b.router, method, path);
              const pat = (r: typeof x, kept: RefRoute[]) => (r.status === 200 ? { ...r, index: kept[r.index as number]!.pattern } : r);
              expect(pat(y, b.kept)).toEqual(pat(x, a.kept));
            }
          }
        },
      ),
      params,
    );
  });

  it('finds a match for a path made from each registered route', () => {
    const fill: Record<string, string> = { ':p': 'val', '{p:int}': '7', '{p:slug}': 'a-b', '{p:[ab]+}': 'ab', '{p:uuid}': '123e4567-e89b-12d3-a456-426614174000' };
    fc.assert(
      fc.property(fc.array(routeArb, { minLength: 1, maxLength: 12 }), (routes) => {
        const { router, kept } = build(routes);
        for (const r of kept) {
          const path = r.pattern
            .replace(/\{n\d+:int\}/g, fill['{p:int}']!)
            .replace(/\{n\d+:slug\}/g, fill['{p:slug}']!)
            .replace(/\{n\d+:\[ab\]\+\}/g, fill['{p:[ab]+}']!)
            .replace(/\{n\d+:uuid\}/g, fill['{p:uuid}']!)
            .replace(/\{rest:path\}/g, 'r/s')
            .replace(/:n\d+\?/g, 'opt')
            .replace(/:n\d+/g, 'val')
            .replace(/\*$/, 'w/x');
          const got = router.find(r.method, path);
          expect({ pattern: r.pattern, path, status: got.status }).toEqual({ pattern: r.pattern, path, status: 200 });
          const ref = referenceFind(kept, r.method, path);
          expect(ref.status === 200 && got.status === 200 ? ref.index === got.store : false).toBe(true);
        }
      }),
      params,
    );
  });
});
