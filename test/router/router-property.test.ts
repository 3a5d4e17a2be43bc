/**
 * The router against a brute-force model (#34: the tree's lookup was made faster; this holds it to the
 * documented rules). The model knows nothing of the tree: it enumerates every way every route can match the
 * path, writes each as the sequence of steps it takes through the path, and keeps the lexicographically
 * smallest — at each point static text before typed/constrained parameters (by rank, then regex source)
 * before plain ones before rest-of-path, a route ending before a rest that would take nothing, and a shorter
 * value before a longer one. Random tables of overlapping routes (in-segment parameters, optional last
 * parameters, types, regexes, rest and wildcard), random paths from the same few characters.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Router, parsePattern, type ParamToken, type Token } from '../../lib/router/index.js';
import { expandOptional } from '../../lib/router/pattern.js';
import { checkerFor, paramRank } from '../../lib/router/param-types.js';

type Step = readonly [number, number, string, number];
const END: Step = [-1, 0, '', 0];
const STATIC: Step = [0, 0, '', 0];

function compareSteps(a: readonly Step[], b: readonly Step[]): number {
  for (let k = 0; k < Math.min(a.length, b.length); k++) {
    const x = a[k]!;
    const y = b[k]!;
    const d = x[0] - y[0] || x[1] - y[1] || x[2].localeCompare(y[2]) || x[3] - y[3];
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

interface ModelMatch {
  steps: Step[];
  values: Array<string | number>;
}

/** Every way `tokens` can take the whole of `path` from `i`. */
function* ways(tokens: readonly Token[], k: number, path: string, i: number, max: number, steps: Step[], values: Array<string | number>): Generator<ModelMatch> {
  if (k === tokens.length) {
    if (i === path.length) yield { steps: [...steps, END], values: [...values] };
    return;
  }
  const t = tokens[k]!;
  if (t.kind === 'static') {
    if (!path.startsWith(t.text, i)) return;
    yield* ways(tokens, k + 1, path, i + t.text.length, max, [...steps, ...t.text.split('').map(() => STATIC)], values);
    return;
  }
  const check = checkerFor(t.type, t.regex);
  const rank = paramRank(t.type);
  if (t.type === 'path' || t.type === 'wildcard') {
    const v = path.slice(i);
    const conv = check === null ? v : check(v);
    if (conv !== undefined) yield* ways(tokens, k + 1, path, path.length, max, [...steps, [2, rank, '', 0]], [...values, conv]);
    return;
  }
  let segEnd = path.indexOf('/', i);
  if (segEnd < 0) segEnd = path.length;
  for (let j = i + 1; j <= segEnd && j - i <= max; j++) {
    const conv = check === null ? path.slice(i, j) : check(path.slice(i, j));
    if (conv !== undefined) yield* ways(tokens, k + 1, path, j, max, [...steps, [1, rank, t.regex ?? '', j - i]], [...values, conv]);
  }
}

interface ModelRoute {
  method: string;
  pattern: string;
  tokens: Token[];
}

/** The best route of `method` for `path` by the rules above, with its params; null for none. */
function modelBest(routes: readonly ModelRoute[], method: string, path: string, max: number): { pattern: string; params: Record<string, string | number> } | null {
  let best: { steps: Step[]; pattern: string; params: Record<string, string | number> } | null = null;
  for (const r of routes) {
    if (r.method !== method) continue;
    for (const variant of expandOptional(r.tokens)) {
      const names = variant.filter((t): t is ParamToken => t.kind === 'param').map((t) => t.name);
      for (const m of ways(variant, 0, path, 0, max, [], [])) {
        if (best === null || compareSteps(m.steps, best.steps) < 0) {
          best = { steps: m.steps, pattern: r.pattern, params: Object.fromEntries(names.map((n, k) => [n, m.values[k]!])) };
        }
      }
    }
  }
  return best === null ? null : { pattern: best.pattern, params: best.params };
}

const WORDS = ['a', 'b', 'ab', 'ba', '1'];
/** One segment of a pattern; `n` names its parameters uniquely within the route. */
const segment = (n: number) =>
  fc.oneof(
    fc.constantFrom(...WORDS),
    fc.constantFrom(`:p${n}`, `{p${n}:int}`, `{p${n}:slug}`, `{p${n}:[ab]+}`, `{p${n}:[a1]{1,2}}`, `{p${n}:float}`),
    fc.constantFrom(`:p${n}.:q${n}`, `:p${n}.b`, `a.:p${n}`, `{p${n}:int}.:q${n}`, `:p${n}-1`),
  );
const pattern = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), fc.constantFrom('', '', '', '/{r:path}', '/*', '/', '/:o?'))
  .chain(([len, _seeds, tail]) => fc.tuple(...Array.from({ length: len }, (_, n) => segment(n))).map((segs) => `/${segs.join('/')}${tail}`));
const route = fc.record({ method: fc.constantFrom('GET', 'GET', 'POST'), pattern });
const pathArb = fc
  .array(fc.constantFrom('a', 'b', 'ab', 'ba', '1', '12', '-1', 'a.b', '1.5', 'ab.b', '1.a', 'a-1', '.', '..', ''), { minLength: 1, maxLength: 5 })
  .map((segs) => `/${segs.join('/')}`);

describe('the router against a brute-force model', () => {
  it('finds the best route, its params, 404 and 405 as the model does', () => {
    fc.assert(
      fc.property(
        fc.array(route, { minLength: 1, maxLength: 14 }),
        fc.array(fc.tuple(fc.constantFrom('GET', 'POST', 'HEAD', 'PUT'), pathArb), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        fc.constantFrom(100, 2, 3),
        (table, requests, codegen, max) => {
          const router = new Router<string>({ codegen, maxParamLength: max });
          const kept: ModelRoute[] = [];
          for (const r of table) {
            try {
              router.add(r.method, r.pattern, r.pattern);
              kept.push({ method: r.method, pattern: r.pattern, tokens: parsePattern(r.pattern) });
            } catch {
              // a conflict with an earlier route, or a pattern the parser refuses: not in the table
            }
          }
          for (const [method, path] of requests) {
            const got = router.find(method, path);
            let want = modelBest(kept, method, path, max);
            if (want === null && method === 'HEAD') want = modelBest(kept, 'GET', path, max);
            const label = `${method} ${path} in ${kept.map((r) => `${r.method} ${r.pattern}`).join(', ')}`;
            if (want !== null) {
              expect(got.status, label).toBe(200);
              if (got.status !== 200) return;
              expect(got.pattern, label).toBe(want.pattern);
              expect(got.store, label).toBe(want.pattern);
              expect({ ...got.params }, label).toEqual(want.params);
              continue;
            }
            const allowed = ['GET', 'POST'].filter((m) => m !== method && modelBest(kept, m, path, max) !== null);
            if (allowed.includes('GET') && method !== 'HEAD') allowed.push('HEAD');
            if (allowed.length === 0) expect(got, label).toEqual({ status: 404 });
            else expect(got, label).toEqual({ status: 405, allowed: allowed.sort() });
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
