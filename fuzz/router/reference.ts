/**
 * A naive reference matcher for the router's property tests. Each route is matched on its own by
 * exhaustive backtracking (every split of every parameter), and the best match over all routes is chosen
 * by an explicit priority order on the match, element by element:
 *   end of path < static character < int < float < uuid < slug < regex (by source) < plain < path < `*`,
 * and for equal kinds the shorter parameter value first. No tree, no sharing: easy to check by reading.
 */
import { expandOptional, parsePattern, type Token } from '../../lib/router/pattern.js';
import { checkerFor, paramRank } from '../../lib/router/param-types.js';

interface Element {
  rank: number;
  len: number;
  regex: string;
}

interface Candidate {
  index: number;
  elements: Element[];
  params: Record<string, string | number>;
}

export interface RefRoute {
  method: string;
  pattern: string;
}

export type RefResult =
  | { status: 200; index: number; params: Record<string, string | number> }
  | { status: 404 }
  | { status: 405; allowed: string[] };

function matchTokens(tokens: Token[], path: string, maxParamLength: number): Array<{ elements: Element[]; params: Record<string, string | number> }> {
  const out: Array<{ elements: Element[]; params: Record<string, string | number> }> = [];
  const walk = (k: number, i: number, elements: Element[], params: Record<string, string | number>): void => {
    if (k === tokens.length) {
      if (i === path.length) out.push({ elements: [...elements, { rank: -1, len: 0, regex: '' }], params: { ...params } });
      return;
    }
    const t = tokens[k]!;
    if (t.kind === 'static') {
      if (!path.startsWith(t.text, i)) return;
      const els = [...elements];
      for (let c = 0; c < t.text.length; c++) els.push({ rank: 0, len: 1, regex: '' });
      walk(k + 1, i + t.text.length, els, params);
      return;
    }
    const check = checkerFor(t.type, t.regex);
    const rank = paramRank(t.type);
    const ends: number[] = [];
    if (t.type === 'path' || t.type === 'wildcard') ends.push(path.length);
    else {
      let segEnd = path.indexOf('/', i);
      if (segEnd < 0) segEnd = path.length;
      for (let j = i + 1; j <= segEnd; j++) ends.push(j);
    }
    for (const j of ends) {
      const raw = path.slice(i, j);
      if (t.type !== 'path' && t.type !== 'wildcard' && raw.length > maxParamLength) continue;
      let v: string;
      try {
        v = decodeURIComponent(raw);
      } catch {
        continue;
      }
      const conv = check === null ? v : check(v);
      if (conv === undefined) continue;
      walk(k + 1, j, [...elements, { rank, len: j - i, regex: t.regex ?? '' }], { ...params, [t.name]: conv });
    }
  };
  walk(0, 0, [], {});
  return out;
}

function better(a: Element[], b: Element[]): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) {
    const x = a[k]!;
    const y = b[k]!;
    if (x.rank !== y.rank) return x.rank - y.rank;
    if (x.len !== y.len) return x.len - y.len;
    if (x.regex !== y.regex) return x.regex.localeCompare(y.regex);
  }
  return a.length - b.length;
}

/** The reference answer for `method path` over `routes` (index into `routes` for the winner). */
export function referenceFind(routes: RefRoute[], method: string, path: string, maxParamLength = 100): RefResult {
  const candidates: Candidate[] = [];
  const allowed = new Set<string>();
  routes.forEach((r, index) => {
    for (const variant of expandOptional(parsePattern(r.pattern))) {
      for (const m of matchTokens(variant, path, maxParamLength)) {
        allowed.add(r.method);
        if (r.method === method) candidates.push({ index, elements: m.elements, params: m.params });
      }
    }
  });
  if (candidates.length === 0) return allowed.size === 0 ? { status: 404 } : { status: 405, allowed: [...allowed].sort() };
  candidates.sort((a, b) => better(a.elements, b.elements));
  const best = candidates[0]!;
  return { status: 200, index: best.index, params: best.params };
}
