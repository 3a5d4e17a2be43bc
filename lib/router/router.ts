import { expandOptional, parsePattern, RouteError, shapeKey, type ParamType, type Token } from './pattern.js';
import { decodePathForMatching } from './percent.js';
import { compileTree, matchNode, RadixNode, type CompiledTree, type MatchState, type RouteRecord } from './radix-tree.js';

export interface RouterOptions {
  /** Match static text case-sensitively (parameter values always keep their case). Default true. */
  caseSensitive?: boolean;
  /**
   * `'strict'`: `/a` and `/a/` are different paths (default). `'ignore'`: one trailing slash is ignored on
   * both patterns and paths. `'redirect'`: strict, but a miss whose other form matches answers 308 with
   * `location`.
   */
  trailingSlash?: 'strict' | 'ignore' | 'redirect';
  /** Longest parameter value that can match (longer ones do not). Default 100. */
  maxParamLength?: number;
  /** A HEAD request with no HEAD route uses the GET route. Default true. */
  headFallback?: boolean;
  /**
   * Generate a small function per route that builds its params object (faster than a loop). Turn off
   * where `new Function` is forbidden (strict CSP); lookups give the same results. Default true.
   */
  codegen?: boolean;
}

export type ParamValue = string | number;
export type Params = Readonly<Record<string, ParamValue>>;

export interface RouteFound<T> {
  status: 200;
  store: T;
  params: Params;
  /** The pattern as registered (for metrics, logs, OpenAPI). */
  pattern: string;
  /** The method of the route that matched (GET for a HEAD answered by a GET route). */
  method: string;
  /** The query string without `?` (`''` when none). */
  query: string;
}
export interface RouteNotFound {
  status: 404;
}
export interface RouteMethodNotAllowed {
  status: 405;
  /** Methods that do match the path, for the `Allow` header. */
  allowed: string[];
}
export interface RouteBadRequest {
  status: 400;
  error: string;
}
export interface RouteRedirect {
  status: 308;
  /** The other trailing-slash form of the path (with the query string). */
  location: string;
}
export type RouteResult<T> = RouteFound<T> | RouteNotFound | RouteMethodNotAllowed | RouteBadRequest | RouteRedirect;

export interface RouteInfo<T> {
  method: string;
  pattern: string;
  params: Array<{ name: string; type: ParamType }>;
  store: T;
}

const NOT_FOUND: RouteNotFound = Object.freeze({ status: 404 });
const EMPTY_PARAMS: Params = Object.freeze({});
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

interface Registered<T> {
  method: string;
  pattern: string;
  tokens: Token[];
  store: T;
}

/**
 * A radix-tree router on plain strings: static, `:param`/`{param}`, typed (`{id:int}`, `{x:float}`,
 * `{id:uuid}`, `{s:slug}`, `{rest:path}`), regex-constrained (`{code:[A-Z]{3}}`), several parameters in a
 * segment (`/files/:name.:ext`), optional last parameters (`/:id?`) and a final `*`. Priority: static >
 * typed/constrained > plain > rest-of-path > wildcard, with backtracking. Conflicting or malformed routes
 * throw {@link RouteError} when added. Lookups return 200 with params, 405 with the allowed methods, 404,
 * 400 for malformed percent-escapes, or 308 (trailing-slash redirect mode).
 *
 * @example
 * ```ts
 * import { Router } from 'covet/router';
 * const r = new Router<string>();
 * r.add('GET', '/users/{id:int}', 'getUser');
 * r.add('GET', '/users/me', 'me');
 * const m = r.find('GET', '/users/42?x=1');
 * if (m.status === 200) console.log(m.store, m.params.id, m.query); // getUser 42 x=1
 * r.find('POST', '/users/42'); // { status: 405, allowed: ['GET', 'HEAD'] }
 * ```
 */
export class Router<T> {
  readonly caseSensitive: boolean;
  readonly trailingSlash: 'strict' | 'ignore' | 'redirect';
  readonly maxParamLength: number;
  readonly headFallback: boolean;
  readonly codegen: boolean;
  /**
   * One tree per method: measured faster than one tree with per-node method maps (smaller nodes, fewer
   * dead ends; bench/RESULTS.md), and 405/Allow costs only a lookup in the other trees on a miss.
   */
  #trees = new Map<string, RadixNode<T>>();
  /** Every route of every method in one tree: a miss costs one walk of it to tell 404 from 405. */
  #any = new RadixNode<T>('');
  /** The trees as lookups walk them, laid out again after routes are added. */
  #compiled = new Map<string, CompiledTree<T>>();
  #anyCompiled: CompiledTree<T> = compileTree(this.#any);
  /** Fully static routes: normalized path → method → cached result (a static hit allocates nothing). */
  #static = new Map<string, Record<string, RouteFound<T>>>();
  #shapes = new Set<string>();
  #registered: Registered<T>[] = [];
  #st: MatchState;
  #dirty = false;

  constructor(options: RouterOptions = {}) {
    this.caseSensitive = options.caseSensitive ?? true;
    this.trailingSlash = options.trailingSlash ?? 'strict';
    this.maxParamLength = options.maxParamLength ?? 100;
    this.headFallback = options.headFallback ?? true;
    this.codegen = options.codegen ?? true;
    this.#st = { maxParamLength: this.maxParamLength, values: [], n: 0, source: '', escaped: false };
  }

  /**
   * Adds a route for one or several methods (`'*'` is not a method: list them). Throws {@link RouteError}
   * for a malformed pattern, a repeated parameter name, or a route no request could tell apart from an
   * existing one.
   */
  add(method: string | readonly string[], pattern: string, store: T): this {
    const methods = typeof method === 'string' ? [method] : method;
    const tokens = parsePattern(pattern);
    for (const m of methods) {
      if (!METHOD.test(m)) throw new RouteError('INVALID_METHOD', `invalid method ${JSON.stringify(m)}`);
      for (const t of tokens) {
        if (t.kind === 'param' && (t.name === '__proto__' || t.name === 'constructor')) {
          throw new RouteError('MALFORMED_PATTERN', `route pattern ${JSON.stringify(pattern)}: parameter name "${t.name}" is reserved`);
        }
      }
      // Check every variant before inserting any, so a conflict leaves the router unchanged.
      const variants = expandOptional(tokens).map((v) => this.#normalizeTokens(v));
      for (const v of variants) this.#checkConflict(m, pattern, v);
      for (const v of variants) this.#insert(m, pattern, v, store);
      this.#registered.push({ method: m, pattern, tokens, store });
    }
    return this;
  }

  /** Alias of {@link add}. */
  on(method: string | readonly string[], pattern: string, store: T): this {
    return this.add(method, pattern, store);
  }

  #normalizeTokens(tokens: Token[]): Token[] {
    let out = tokens;
    if (!this.caseSensitive) out = out.map((t) => (t.kind === 'static' ? { kind: 'static', text: asciiLower(t.text) } : t));
    if (this.trailingSlash === 'ignore') {
      const last = out[out.length - 1]!;
      // One slash off the end, but never the root's (a "/" left alone after a parameter becomes empty text,
      // which matches nothing more).
      if (last.kind === 'static' && last.text.endsWith('/') && !(out.length === 1 && last.text === '/')) {
        out = [...out.slice(0, -1), { kind: 'static', text: last.text.slice(0, -1) }];
      }
    }
    return out;
  }

  #checkConflict(method: string, pattern: string, tokens: Token[]): void {
    const key = `${method} ${shapeKey(tokens)}`;
    if (this.#shapes.has(key)) {
      const other = this.#registered.find((r) => r.method === method && expandOptional(r.tokens).some((v) => shapeKey(this.#normalizeTokens(v)) === shapeKey(tokens)));
      throw new RouteError(
        'ROUTE_CONFLICT',
        `${method} ${pattern} conflicts with ${method} ${other?.pattern ?? '(an earlier route)'}: no request can tell them apart`,
      );
    }
  }

  #insert(method: string, pattern: string, tokens: Token[], store: T): void {
    this.#shapes.add(`${method} ${shapeKey(tokens)}`);
    const paramNames: string[] = [];
    for (const t of tokens) if (t.kind === 'param') paramNames.push(t.name);
    const record: RouteRecord<T> = { method, pattern, store, paramNames, makeParams: this.#paramsFactory(paramNames) };
    let tree = this.#trees.get(method);
    if (tree === undefined) this.#trees.set(method, (tree = new RadixNode<T>('')));
    for (const root of [tree, this.#any]) {
      let node = root;
      for (const t of tokens) node = t.kind === 'static' ? node.insertStatic(t.text) : node.paramEdge(t.type, t.regex).node;
      node.route ??= record; // the method's tree has no other (#checkConflict); the all-methods tree keeps the first
    }
    if (paramNames.length === 0) {
      const path = (tokens[0] as { text: string }).text;
      const byMethod = this.#static.get(path) ?? (Object.create(null) as Record<string, RouteFound<T>>);
      byMethod[method] = Object.freeze({ status: 200, store, params: EMPTY_PARAMS, pattern, method, query: '' });
      this.#static.set(path, byMethod);
    }
    this.#dirty = true;
  }

  /** Params builders by parameter-name list: routes with the same names share one function. */
  #factories = new Map<string, RouteRecord<T>['makeParams']>();

  #paramsFactory(names: string[]): RouteRecord<T>['makeParams'] {
    const key = names.join('\u0000');
    let f = this.#factories.get(key);
    if (f === undefined) this.#factories.set(key, (f = this.#buildFactory(names)));
    return f;
  }

  #buildFactory(names: string[]): RouteRecord<T>['makeParams'] {
    if (this.codegen) {
      try {
        // An object literal gives every params object of a route one hidden class from the start.
        const body = `return {${names.map((n, k) => `${JSON.stringify(n)}: v[${k}]`).join(', ')}};`;
        return new Function('v', body) as RouteRecord<T>['makeParams'];
      } catch {
        /* code generation forbidden here: fall back to the loop */
      }
    }
    return (v) => {
      const params: Record<string, ParamValue> = {};
      for (let k = 0; k < names.length; k++) params[names[k]!] = v[k]!;
      return params;
    };
  }

  /**
   * Mounts every route of `router` under `prefix` (copied now: routes added to `router` later are not seen).
   */
  mount(prefix: string, router: Router<T>): this {
    const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    if (p.length > 0 && p[0] !== '/') throw new RouteError('MALFORMED_PATTERN', `mount prefix ${JSON.stringify(prefix)} must start with "/"`);
    for (const r of router.#registered) {
      const pattern = r.pattern === '/' && p.length > 0 ? p : p + r.pattern;
      this.add(r.method, pattern, r.store);
    }
    return this;
  }

  /** Every route: method, pattern, parameter names and types, store (for OpenAPI and route listings). */
  routes(): RouteInfo<T>[] {
    return this.#registered.map((r) => ({
      method: r.method,
      pattern: r.pattern,
      params: r.tokens.flatMap((t) => (t.kind === 'param' ? [{ name: t.name, type: t.type }] : [])),
      store: r.store,
    }));
  }

  /** Looks up `url` (path with an optional `?query`) for `method`. */
  find(method: string, url: string): RouteResult<T> {
    if (this.#dirty) this.#compile();
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const r = this.#lookup(method, path, query);
    if (r.status !== 404 || this.trailingSlash !== 'redirect') return r;
    // Redirect mode: does the other trailing-slash form exist?
    const other = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path + '/';
    const alt = this.#lookup(method, other, query);
    if (alt.status === 200 || alt.status === 405) return { status: 308, location: q < 0 ? other : `${other}?${query}` };
    return r;
  }

  #compile(): void {
    for (const [method, tree] of this.#trees) this.#compiled.set(method, compileTree(tree));
    this.#anyCompiled = compileTree(this.#any);
    this.#dirty = false;
  }

  #lookup(method: string, path: string, query: string): RouteResult<T> {
    let source = path;
    let escaped = false;
    if (path.indexOf('%') >= 0) {
      const d = decodePathForMatching(path);
      if (d === null) return { status: 400, error: `malformed percent-encoding in ${JSON.stringify(path)}` };
      source = d;
      escaped = d.indexOf('%') >= 0;
    }
    if (this.trailingSlash === 'ignore' && source.length > 1 && source.charCodeAt(source.length - 1) === 47) source = source.slice(0, -1);
    const match = this.caseSensitive ? source : asciiLower(source);

    // Static routes: one map lookup, and the cached result when there is no query.
    const byMethod = this.#static.get(match);
    if (byMethod !== undefined) {
      const hit = byMethod[method] ?? (method === 'HEAD' && this.headFallback ? byMethod.GET : undefined);
      if (hit !== undefined) return query.length === 0 ? hit : { ...hit, query };
    }

    const st = this.#st;
    st.source = source;
    st.escaped = escaped;
    let rec = this.#match(method, match, st);
    if (rec === null && method === 'HEAD' && this.headFallback) rec = this.#match('GET', match, st);
    if (rec !== null) {
      return { status: 200, store: rec.store, params: rec.makeParams(st.values), pattern: rec.pattern, method: rec.method, query };
    }
    // 405 when the path matches under another method (RFC 9110 §15.5.6, with Allow). One walk of the
    // all-methods tree settles the common 404; only a 405 asks each method's tree.
    st.n = 0;
    if (matchNode(this.#anyCompiled, match, 0, st) === null) return NOT_FOUND;
    let allowed: string[] | null = null;
    for (const m of this.#compiled.keys()) {
      if (m !== method && this.#match(m, match, st) !== null) (allowed ??= []).push(m);
    }
    if (allowed === null) return NOT_FOUND;
    if (this.headFallback && allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD');
    return { status: 405, allowed: allowed.sort() };
  }

  #match(method: string, match: string, st: MatchState): RouteRecord<T> | null {
    const tree = this.#compiled.get(method);
    if (tree === undefined) return null;
    st.n = 0;
    return matchNode(tree, match, 0, st);
  }
}

/** ASCII-only lowercase (keeps string length, so offsets into the original stay valid). */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, lower);
}
const lower = (m: string): string => m.toLowerCase();
