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
  /** Where `node` starts in the compiled tree (set by {@link compileTree}). */
  at = 0;

  constructor(type: ParamType, regex: string | undefined) {
    this.type = type;
    this.regex = regex;
    this.rank = paramRank(type);
    this.check = checkerFor(type, regex);
    this.node = new RadixNode<T>('');
  }
}

/**
 * A node of the tree as routes are added. Lookups do not walk these: {@link compileTree} lays the tree
 * out in one typed array first.
 */
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

/** Which characters may end a parameter value early: the distinct first characters, other than '/', of the static text after it. */
function stopsAfter<T>(node: RadixNode<T>): string {
  let s = '';
  for (const c of node.codes) if (c !== 47 && !s.includes(String.fromCharCode(c))) s += String.fromCharCode(c);
  return s;
}

/**
 * The tree as lookups walk it: every node laid out depth first in one `Int32Array`, a node's prefix
 * characters inline after its header and its children right after it. Walking objects cost several
 * dependent loads per node (the node, its arrays, their backing stores, the prefix string), each likely a
 * cache miss in a large table; here a node is one or two cache lines, usually next to its parent.
 *
 * A node at offset `o`: `t[o]` prefix length, `t[o+1]` route index + 1 (0: none), `t[o+2]` parameter
 * edges, `t[o+3]` rest edges, `t[o+4]` entries in the (code, child) scan list, `t[o+5]` lowest ASCII code
 * of the child table, `t[o+6]` its length (0: no table); then the prefix's char codes, the indices of the
 * parameter and rest edges in `edges`, the child table (child offset by ASCII first character − lo, 0 for
 * none: the root, at 0, is no one's child), and the scan list (every child when there is no table, else
 * the children past ASCII).
 */
export interface CompiledTree<T> {
  readonly t: Int32Array;
  readonly edges: ParamEdge<T>[];
  readonly routes: RouteRecord<T>[];
}

/** Header length of a compiled node. */
export const NODE_HEADER = 7;
const H = NODE_HEADER;

/** Nodes with more children than this get a table by first character instead of a scan. */
const TABLE_MIN = 6;

/** Lays out the tree under `root` for lookups, each edge's `stops` set on the way; `root` is at offset 0. */
export function compileTree<T>(root: RadixNode<T>): CompiledTree<T> {
  const t: number[] = [];
  const edges: ParamEdge<T>[] = [];
  const routes: RouteRecord<T>[] = [];
  const emit = (node: RadixNode<T>): number => {
    const o = t.length;
    const p = node.prefix;
    const ascii = node.codes.length > TABLE_MIN ? node.codes.filter((c) => c < 128) : NONE;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: with no table (length 0) lo is never read
    const lo = ascii.length > 0 ? Math.min(...ascii) : 0;
    const tableLen = ascii.length > 0 ? Math.max(...ascii) - lo + 1 : 0;
    const scan = node.children.filter((_, k) => tableLen === 0 || node.codes[k]! >= 128);
    let route = 0;
    if (node.route !== null) route = routes.push(node.route);
    t.push(p.length, route, node.params.length, node.rest.length, scan.length, lo, tableLen);
    for (let c = 0; c < p.length; c++) t.push(p.charCodeAt(c));
    for (const e of node.params) t.push(edges.push(e) - 1);
    for (const e of node.rest) t.push(edges.push(e) - 1);
    const table = t.length;
    for (let k = 0; k < tableLen; k++) t.push(0);
    const list = t.length;
    for (const c of scan) t.push(c.prefix.charCodeAt(0), 0);
    // Children next, so a walk down the tree reads forward; each one's slot filled in as it is laid out
    // (the scan list holds the children outside the table in their order).
    let slot = list + 1;
    node.children.forEach((c, k) => {
      const code = node.codes[k]!;
      const at = emit(c);
      if (tableLen !== 0 && code < 128) t[table + code - lo] = at;
      else {
        t[slot] = at;
        slot += 2;
      }
    });
    for (const e of node.params) {
      e.stops = stopsAfter(e.node);
      e.at = emit(e.node);
    }
    for (const e of node.rest) e.at = emit(e.node);
    return o;
  };
  emit(root);
  return { t: Int32Array.from(t), edges, routes };
}

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
 * Finds the best route in a compiled tree, starting at `path[i]`.
 * On success the parameter values are left in `st.values`.
 */
export function matchNode<T>(tree: CompiledTree<T>, path: string, i: number, st: MatchState): RouteRecord<T> | null {
  return matchBelow(tree, 0, path, i, st);
}

/**
 * The best route under the node at `o`, whose prefix is already matched up to `i`. On no match, `st.n` is
 * as it was on entry (values taken on the way down are given back).
 */
function matchBelow<T>(tree: CompiledTree<T>, o: number, path: string, i: number, st: MatchState): RouteRecord<T> | null {
  const t = tree.t;
  const len = path.length;
  const n0 = st.n;
  for (;;) {
    if (i === len) {
      const route = t[o + 1]!;
      if (route !== 0) return tree.routes[route - 1]!;
      break;
    }
    const plen = t[o]!;
    const np = t[o + 2]!;
    const nr = t[o + 3]!;
    const tableLen = t[o + 6]!;
    // The static child for the next character (children start with different ones), if its whole
    // prefix matches.
    let next = 0;
    let nextI = i;
    let child = 0;
    const code = path.charCodeAt(i);
    let at = o + H + plen + np + nr;
    // Stryker disable next-line ConditionalExpression: without the table the scan finds the same child
    if (tableLen !== 0 && code < 128) {
      const k = code - t[o + 5]!;
      // In bounds only: a load past a typed array's end sends V8 to a slow generic path.
      // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: a speed guard only — past either end the load is undefined, which is no child either
      if (k >= 0 && k < tableLen) child = t[at + k]!;
    } else {
      at += tableLen;
      const ns = t[o + 4]!;
      // Stryker disable next-line EqualityOperator: one past the list is the next node's header, which matches a character code only by chance
      for (let k = 0; k < ns; k++) {
        if (t[at + 2 * k] === code) {
          child = t[at + 2 * k + 1]!;
          break;
        }
      }
    }
    // Stryker disable next-line ConditionalExpression: a speed guard — "child" 0 is the root, whose empty prefix never passes the check below
    if (child !== 0) {
      const cl = t[child]!;
      const cp = child + H;
      // Past the end of the path charCodeAt is NaN, so a prefix longer than what is left fails here.
      let c = 1;
      while (c < cl && path.charCodeAt(i + c) === t[cp + c]) c++;
      if (c === cl) {
        next = child;
        nextI = i + cl;
      }
    }
    // Stryker disable next-line ConditionalExpression,LogicalOperator,BlockStatement: the general path below does the same, recursing
    if (np === 0 && nr === 0) {
      // No alternative at this node: descend without recursion (nothing to backtrack to).
      if (next === 0) break;
      o = next;
      i = nextI;
      continue;
    }
    if (next !== 0) {
      const r = matchBelow(tree, next, path, nextI, st);
      if (r !== null) return r;
    }
    if (np === 0) break;
    let segEnd = path.indexOf('/', i);
    if (segEnd < 0) segEnd = len;
    const edges = tree.edges;
    const first = o + H + plen;
    const last = first + np - 1;
    for (let k = first; k < last; k++) {
      const r = matchParam(tree, edges[t[k]!]!, path, i, segEnd, st);
      if (r !== null) return r;
    }
    const e = edges[t[last]!]!;
    if (nr !== 0 || e.stops.length !== 0) {
      const r = matchParam(tree, e, path, i, segEnd, st);
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
    o = e.at;
    i = segEnd;
  }
  // Nothing static or segment-sized matched: rest-of-path edges, else no match.
  const r = matchRest(tree, o, i, st);
  if (r === null) st.n = n0;
  return r;
}

/** Rest-of-path edges at `i` (`{x:path}`, then `*`). */
function matchRest<T>(tree: CompiledTree<T>, o: number, i: number, st: MatchState): RouteRecord<T> | null {
  const t = tree.t;
  const nr = t[o + 3]!;
  const first = o + H + t[o]! + t[o + 2]!;
  for (let k = first; k < first + nr; k++) {
    const e = tree.edges[t[k]!]!;
    const v = paramValue(st.source.slice(i), st);
    if (v === undefined) continue;
    const conv = e.check === null ? v : e.check(v);
    if (conv === undefined) continue;
    const route = t[e.at + 1]!;
    if (route !== 0) {
      st.values[st.n++] = conv;
      return tree.routes[route - 1]!;
    }
  }
  return null;
}

function matchParam<T>(tree: CompiledTree<T>, e: ParamEdge<T>, path: string, i: number, segEnd: number, st: MatchState): RouteRecord<T> | null {
  const stops = e.stops;
  // Stryker disable next-line ConditionalExpression,BlockStatement: without this shortcut the loop below tries only segEnd too (no stop character), the same value
  if (stops.length === 0) {
    // The common case: the value runs to the end of the segment.
    if (segEnd === i) return null;
    return tryValue(tree, e, path, i, segEnd, st);
  }
  // Static text follows in the same segment (`:name.:ext`): try each place it could start, shortest first.
  for (let j = i + 1; j <= segEnd; j++) {
    if (j < segEnd && stops.indexOf(path[j]!) < 0) continue;
    const r = tryValue(tree, e, path, i, j, st);
    if (r !== null) return r;
  }
  return null;
}

function tryValue<T>(tree: CompiledTree<T>, e: ParamEdge<T>, path: string, i: number, j: number, st: MatchState): RouteRecord<T> | null {
  if (j - i > st.maxParamLength) return null;
  const v = paramValue(st.source.slice(i, j), st);
  if (v === undefined) return null;
  let conv: string | number | undefined = v;
  if (e.check !== null) {
    conv = e.check(v);
    if (conv === undefined) return null;
  }
  st.values[st.n++] = conv;
  const r = matchBelow(tree, e.at, path, j, st);
  if (r !== null) return r;
  st.n--;
  return null;
}
