/**
 * The compressed radix tree behind {@link Router}: static text is shared character by character (nodes
 * split where routes diverge), parameters are typed edges.
 *
 * A tree holds the routes of one method (the router keeps one per method), so a node holds at most one
 * route; the router's all-methods tree keeps the first route of any method, which is all its 404-or-405
 * walk asks.
 *
 * Matching is a depth-first search that tries, at every point, the alternatives in priority order —
 * end of path, static child, typed/constrained parameters, plain parameter, rest-of-path, wildcard — and
 * for a parameter followed by static text in the same segment (`:name.:ext`) the shortest value first.
 * The first complete match is therefore the lexicographically best one, whatever the insertion order.
 */
import { checkerFor, paramRank, type ParamCheck } from './param-types.js';
import type { ParamType } from './pattern.js';

/** A registered route as stored in the tree. */
export interface RouteRecord<T> {
  method: string;
  pattern: string;
  store: T;
  paramNames: string[];
  /** Builds the params object from the matched values (generated per route when code generation is allowed). */
  makeParams: (values: ReadonlyArray<string | number>) => Record<string, string | number>;
}

// Frozen: a push onto the shared list would throw instead of leaking into every leaf.
const NONE: never[] = Object.freeze([]) as unknown as never[];

export class ParamEdge<T> {
  readonly type: ParamType;
  readonly regex: string | undefined;
  readonly rank: number;
  readonly check: ParamCheck | null;
  readonly node: RadixNode<T>;
  /** Non-'/' first characters of the static text that may follow the value in the same segment. */
  stops = '';

  constructor(type: ParamType, regex: string | undefined) {
    this.type = type;
    this.regex = regex;
    this.rank = paramRank(type);
    this.check = checkerFor(type, regex);
    this.node = new RadixNode<T>('');
  }
}

export class RadixNode<T> {
  prefix: string;
  // Leaves are most nodes: they share frozen empty lists until something is added.
  /** First char codes of static children, parallel to `children`. */
  codes: number[] = NONE;
  children: RadixNode<T>[] = NONE;
  /** Segment parameters, in priority order. */
  params: ParamEdge<T>[] = NONE;
  /** Rest-of-path edges (`{x:path}` then `*`). */
  rest: ParamEdge<T>[] = NONE;
  /** The route ending here. */
  route: RouteRecord<T> | null = null;
  /**
   * For nodes with many children: `next[c - lo]` is the child starting with ASCII character c (built by
   * `refreshStops`; undefined for none). One load reaches the child, where an index into `children`
   * took two (on large tables each is likely a cache miss). Characters past ASCII are not in it: lookups
   * scan `codes` for those.
   */
  next: Array<RadixNode<T> | undefined> | null = null;
  lo = 0;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  childFor(code: number): RadixNode<T> | undefined {
    const codes = this.codes;
    for (let k = 0; k < codes.length; k++) if (codes[k] === code) return this.children[k];
    return undefined;
  }

  /** Descends through `text`, splitting nodes as needed; returns the node where `text` ends. */
  insertStatic(text: string): RadixNode<T> {
    let node: RadixNode<T> = this;
    while (text.length > 0) {
      const code = text.charCodeAt(0);
      const child = node.childFor(code);
      if (child === undefined) {
        const n = new RadixNode<T>(text);
        if (node.codes === (NONE as number[])) {
          node.codes = [];
          node.children = [];
        }
        node.codes.push(code);
        node.children.push(n);
        return n;
      }
      const p = child.prefix;
      let common = 0;
      // Past the end of either string charCodeAt is NaN, which equals nothing: the loop stops there.
      while (p.charCodeAt(common) === text.charCodeAt(common)) common++;
      if (common < p.length) {
        // Split: `child` keeps the tail of its prefix under a new node holding the shared head.
        const head = new RadixNode<T>(p.slice(0, common));
        child.prefix = p.slice(common);
        head.codes = [child.prefix.charCodeAt(0)];
        head.children = [child];
        node.children[node.children.indexOf(child)] = head;
        node = head;
      } else {
        node = child;
      }
      text = text.slice(common);
    }
    return node;
  }

  /** The edge for a parameter kind at this node, created in priority order if missing. */
  paramEdge(type: ParamType, regex: string | undefined): ParamEdge<T> {
    const isRest = type === 'path' || type === 'wildcard';
    let list = isRest ? this.rest : this.params;
    for (const e of list) if (e.type === type && e.regex === regex) return e;
    const e = new ParamEdge<T>(type, regex);
    if (list === (NONE as ParamEdge<T>[])) {
      list = [];
      if (isRest) this.rest = list;
      else this.params = list;
    }
    list.push(e);
    // Fixed order: rank, then the regex source, so insertion order never changes priorities.
    // (Only regex edges share a rank.)
    list.sort((a, b) => a.rank - b.rank || a.regex!.localeCompare(b.regex!));
    return e;
  }
}

/** Recomputes `stops` of every edge (after inserts): which characters may end a parameter value early. */
export function refreshStops<T>(node: RadixNode<T>): void {
  node.prefix = flat(node.prefix);
  node.next = null;
  const ascii = node.codes.length > INDEX_MIN ? node.codes.filter((c) => c < 128) : NONE;
  if (ascii.length > 0) {
    const lo = Math.min(...ascii);
    // Stryker disable next-line ArrayDeclaration,ArithmeticOperator,MethodExpression: an array too short grows as the children are put in; only its shape (and speed) differs
    const next = new Array<RadixNode<T> | undefined>(Math.max(...ascii) - lo + 1).fill(undefined);
    node.codes.forEach((c, k) => c < 128 && (next[c - lo] = node.children[k]));
    node.next = next;
    node.lo = lo;
  }
  for (const e of node.params) {
    let s = '';
    for (const c of e.node.codes) if (c !== 47 && !s.includes(String.fromCharCode(c))) s += String.fromCharCode(c);
    e.stops = s;
    refreshStops(e.node);
  }
  for (const c of node.children) refreshStops(c);
}

/**
 * The same text as a flat, internalized string: a prefix cut from a longer one is a slice of it, and
 * reading a slice's characters costs an indirection on every comparison of a lookup.
 */
function flat(s: string): string {
  // Stryker disable next-line all: the same text either way; only where it lives (and the speed) differs
  return Object.keys({ [s]: 0 })[0] ?? s;
}

/** Nodes with more children than this get the `next` table instead of a scan of `codes`. */
const INDEX_MIN = 6;

/** Per-lookup state, reused by the router (one lookup at a time: JavaScript is single-threaded). */
export interface MatchState {
  maxParamLength: number;
  /** Converted parameter values, in path order (`n` of them are valid; the array is reused). */
  values: Array<string | number>;
  n: number;
  /** The path values are sliced from (same offsets as the matched path; not case-folded). */
  source: string;
  /** The source holds a kept escape (%2F %3F %23 %25): values may need decoding. */
  escaped: boolean;
}

/**
 * A value's decoded text, or undefined when the value was cut inside an escape (a stop character such as
 * "2" in `{a}2{b}` falling inside a kept `%25`): the path's escapes were all checked before matching, so a
 * value that fails to decode is only a wrong place to split — no match there, never a malformed request.
 */
function paramValue(raw: string, st: MatchState): string | undefined {
  // Every "%" left in the source starts an escape kept for matching (%2F %3F %23 %25); most paths have none.
  // Stryker disable next-line ConditionalExpression,LogicalOperator,StringLiteral: decoding text without "%" gives it back unchanged, only slower
  if (!st.escaped || raw.indexOf('%') < 0) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/**
 * Finds the best route under a root (a root's prefix is empty), starting at `path[i]`.
 * On success the parameter values are left in `st.values`.
 */
export function matchNode<T>(root: RadixNode<T>, path: string, i: number, st: MatchState): RouteRecord<T> | null {
  return matchBelow(root, path, i, st);
}

/**
 * The best route under `node`, whose prefix is already matched up to `i`. On no match, `st.n` is as it was
 * on entry (values taken on the way down are given back).
 */
function matchBelow<T>(node: RadixNode<T>, path: string, i: number, st: MatchState): RouteRecord<T> | null {
  const len = path.length;
  const n0 = st.n;
  for (;;) {
    if (i === len) {
      if (node.route !== null) return node.route;
      break;
    }
    // The static child for the next character, if its whole prefix matches.
    let next: RadixNode<T> | undefined;
    let nextI = i;
    const codes = node.codes;
    // Stryker disable next-line ConditionalExpression: a speed guard — with no children the scan below finds none
    if (codes.length !== 0) {
      const code = path.charCodeAt(i);
      const table = node.next;
      // The one child starting with this character (children start with different ones).
      let child: RadixNode<T> | undefined;
      // Stryker disable next-line ConditionalExpression: without the table the scan of codes finds the same child
      if (table !== null && code < 128) {
        // In bounds only: a load past an array's end sends V8 to a slow generic path (measured 8× slower).
        const t = code - node.lo;
        // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: a speed guard only — past either end the load is undefined too
        if (t >= 0 && t < table.length) child = table[t];
      } else {
        // A loop, not indexOf: the builtin's call cost more than the scan of a few codes (measured).
        // Stryker disable next-line EqualityOperator: one past the end the load is undefined, which equals no code
        for (let k = 0; k < codes.length; k++) {
          if (codes[k] === code) {
            child = node.children[k];
            break;
          }
        }
      }
      if (child !== undefined) {
        const pre = child.prefix;
        const plen = pre.length;
        // Past the end of the path charCodeAt is NaN, so a prefix longer than what is left fails here.
        let ok = true;
        for (let c = 1; ok && c < plen; c++) if (path.charCodeAt(i + c) !== pre.charCodeAt(c)) ok = false;
        if (ok) {
          next = child;
          nextI = i + plen;
        }
      }
    }
    const params = node.params;
    const rest = node.rest;
    // Stryker disable next-line ConditionalExpression,LogicalOperator,BlockStatement: the general path below does the same, recursing
    if (params.length === 0 && rest.length === 0) {
      // No alternative at this node: descend without recursion (nothing to backtrack to).
      if (next === undefined) break;
      node = next;
      i = nextI;
      continue;
    }
    if (next !== undefined) {
      const r = matchBelow(next, path, nextI, st);
      if (r !== null) return r;
    }
    if (params.length === 0) break;
    let segEnd = path.indexOf('/', i);
    if (segEnd < 0) segEnd = len;
    const last = params.length - 1;
    for (let k = 0; k < last; k++) {
      const r = matchParam(params[k]!, path, i, segEnd, st);
      if (r !== null) return r;
    }
    const e = params[last]!;
    if (rest.length !== 0 || e.stops.length !== 0) {
      const r = matchParam(e, path, i, segEnd, st);
      if (r !== null) return r;
      break;
    }
    // The last alternative here takes the rest of the segment: descend without recursion.
    if (segEnd === i || segEnd - i > st.maxParamLength) break;
    const v = paramValue(st.source.slice(i, segEnd), st);
    if (v === undefined) break;
    const conv = e.check === null ? v : e.check(v);
    if (conv === undefined) break;
    st.values[st.n++] = conv;
    node = e.node;
    i = segEnd;
  }
  // Nothing static or segment-sized matched: rest-of-path edges, else no match.
  const r = matchRest(node, i, st);
  if (r === null) st.n = n0;
  return r;
}

/** Rest-of-path edges at `i` (`{x:path}`, then `*`). */
function matchRest<T>(node: RadixNode<T>, i: number, st: MatchState): RouteRecord<T> | null {
  const rest = node.rest;
  for (let k = 0; k < rest.length; k++) {
    const e = rest[k]!;
    const v = paramValue(st.source.slice(i), st);
    if (v === undefined) continue;
    const conv = e.check === null ? v : e.check(v);
    if (conv === undefined) continue;
    const r = e.node.route;
    if (r !== null) {
      st.values[st.n++] = conv;
      return r;
    }
  }
  return null;
}

function matchParam<T>(e: ParamEdge<T>, path: string, i: number, segEnd: number, st: MatchState): RouteRecord<T> | null {
  const stops = e.stops;
  // Stryker disable next-line ConditionalExpression,BlockStatement: without this shortcut the loop below tries only segEnd too (no stop character), the same value
  if (stops.length === 0) {
    // The common case: the value runs to the end of the segment.
    if (segEnd === i) return null;
    return tryValue(e, path, i, segEnd, st);
  }
  // Static text follows in the same segment (`:name.:ext`): try each place it could start, shortest first.
  for (let j = i + 1; j <= segEnd; j++) {
    if (j < segEnd && stops.indexOf(path[j]!) < 0) continue;
    const r = tryValue(e, path, i, j, st);
    if (r !== null) return r;
  }
  return null;
}

function tryValue<T>(e: ParamEdge<T>, path: string, i: number, j: number, st: MatchState): RouteRecord<T> | null {
  if (j - i > st.maxParamLength) return null;
  const v = paramValue(st.source.slice(i, j), st);
  if (v === undefined) return null;
  let conv: string | number | undefined = v;
  if (e.check !== null) {
    conv = e.check(v);
    if (conv === undefined) return null;
  }
  st.values[st.n++] = conv;
  const r = matchBelow(e.node, path, j, st);
  if (r !== null) return r;
  st.n--;
  return null;
}
