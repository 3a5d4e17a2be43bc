/**
 * A fetch-based client typed from an app's own routes (as Hono's `hc` is): the path is a route pattern of
 * the app, the params, query, headers and body are the route's, and the answer is a union by status of
 * what the route's response schemas (or its handler) give, plus the problem+json of any error. Runs where
 * `fetch` does (Node 18+, browsers, workers); it loads nothing of the server but the router's pattern
 * grammar.
 */
import { CookieJar } from './cookie-jar.js';
import { fillPath } from './path.js';

/** What the client needs to know of a route (see `covet/app`'s `Typed`). */
interface RouteShape {
  params: unknown;
  query: unknown;
  headers: unknown;
  body: unknown;
  responses: unknown;
}

/** The routes an app type holds: `typeof app` for an app built in a chain. */
export type RoutesOf<A> = A extends { readonly '~routes'?: infer R } ? (R extends object ? R : never) : never;

/** An RFC 9457 problem, as covet answers every error (422's `errors` list each failing field). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: Array<{ path: string; message: string; [k: string]: unknown }>;
  [extension: string]: unknown;
}

/** One answer: `ok` for 2xx; `data` the body read by its type (JSON, text, bytes; nothing for 204). */
export interface Reply<Ok extends boolean, S extends number, D> {
  ok: Ok;
  status: S;
  data: D;
  headers: Headers;
  response: Response;
}

type Is2xx<K extends number> = `${K}` extends `2${string}` ? true : false;
type Digit = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
/** 400 to 599, as number literals. */
type ErrorStatus = `${4 | 5}${Digit}${Digit}` extends infer S ? (S extends `${infer N extends number}` ? N : never) : never;

/**
 * Every answer a route may give: its declared ones by status, and a problem for any other error status —
 * so `if (r.status === 200)` and `if (r.ok)` both narrow `data` to the route's own type.
 */
export type Answer<T extends RouteShape> =
  | { [K in keyof T['responses'] & number]: Reply<Is2xx<K>, K, T['responses'][K]> }[keyof T['responses'] & number]
  | Reply<false, Exclude<ErrorStatus, keyof T['responses']>, Problem>;

type Part<Name extends string, V> = unknown extends V ? { [K in Name]?: unknown } : {} extends V ? { [K in Name]?: V } : undefined extends V ? { [K in Name]?: V } : { [K in Name]: V };

/** What a call to a route sends. `params` is required when the pattern has parameters, `body` when the schema has one. */
export type CallOptions<T extends RouteShape> = Part<'params', T['params']> &
  Part<'body', T['body']> & {
    query?: T['query'];
    headers?: T['headers'] & Record<string, string>;
    signal?: AbortSignal;
    /** Anything else for `fetch` (cache, mode, keepalive...). */
    init?: Omit<RequestInit, 'body' | 'method' | 'headers' | 'signal'>;
  };

type Args<T extends RouteShape> = {} extends CallOptions<T> ? [options?: CallOptions<T>] : [options: CallOptions<T>];

/** The app's patterns that have a route for method `M`. */
export type PathsFor<R, M extends string> = { [P in keyof R & string]: M extends keyof R[P] ? P : never }[keyof R & string];
type RouteAt<R, P, M extends string> = P extends keyof R ? (M extends keyof R[P] ? (R[P][M] extends RouteShape ? R[P][M] : never) : never) : never;

type MethodCall<R, M extends string> = <P extends PathsFor<R, M>>(path: P, ...args: Args<RouteAt<R, P, M>>) => Promise<Answer<RouteAt<R, P, M>>>;

/** A client for the routes `R` (see {@link createClient}). */
export interface Client<R> {
  get: MethodCall<R, 'GET'>;
  post: MethodCall<R, 'POST'>;
  put: MethodCall<R, 'PUT'>;
  patch: MethodCall<R, 'PATCH'>;
  delete: MethodCall<R, 'DELETE'>;
  head: MethodCall<R, 'HEAD'>;
  options: MethodCall<R, 'OPTIONS'>;
  /** The URL of a route (for links, `EventSource`, `WebSocket`), with its params and query filled in. */
  url<P extends keyof R & string>(path: P, options?: { params?: RouteAt<R, P, keyof R[P] & string>['params']; query?: Record<string, QueryValue> }): string;
  /** The cookies the client keeps (outside browsers), by name. */
  readonly cookies: ReadonlyMap<string, string>;
}

type QueryValue = string | number | boolean | null | undefined | ReadonlyArray<string | number | boolean>;
type Fetch = (input: string, init: RequestInit) => Promise<Response>;
type Maybe<T> = T | Promise<T>;

export interface ClientOptions {
  /** Where the app is: `http://localhost:3000`, or `https://example.com/api` when it is mounted under a path. */
  baseUrl: string | URL;
  /** Default: the global `fetch`. */
  fetch?: Fetch;
  /** Headers for every call: fixed, or made per call. */
  headers?: Record<string, string> | (() => Maybe<Record<string, string>>);
  /** `Authorization: Bearer` for every call (`jwtAuth`, `bearerAuth`): a token, or a function giving the current one. */
  bearer?: string | (() => Maybe<string | undefined>);
  /**
   * Keep the cookies the app sets and send them back (`session()`, double-submit CSRF). Default: on outside
   * browsers; a browser keeps its own (set `credentials: 'include'` across origins).
   */
  cookies?: boolean;
  /**
   * Send the CSRF token on unsafe methods (`csrf()`): read from the double-submit cookie (`__Host-csrf` or
   * `csrf`, or `cookie`), or given by `token` (synchronizer mode). Default on.
   */
  csrf?: boolean | { cookie?: string; header?: string; token?: () => Maybe<string | undefined> };
  credentials?: RequestInit['credentials'];
}

/** A browser's `document` (this module is typed without the DOM library). */
declare const document: { readonly cookie: string };

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A client typed from an app's routes: pass the app's type (`typeof app`, for an app whose routes were
 * added in a chain) and call its routes by pattern.
 *
 * @example
 * ```ts
 * // server.ts
 * export const app = createApp()
 *   .get('/notes/{id:int}', { schema: { response: { 200: Note, 404: Problem } } }, (ctx) => notes.find(ctx.params.id))
 *   .post('/notes', { schema: { body: NewNote, response: { 201: Note } } }, (ctx) => notes.add(ctx.body));
 * export type Api = typeof app;
 *
 * // anywhere with fetch
 * import { createClient } from 'covet/client';
 * const api = createClient<Api>({ baseUrl: 'http://localhost:3000', bearer: () => token });
 * const r = await api.get('/notes/{id:int}', { params: { id: 7 } });
 * if (r.status === 200) console.log(r.data.title);
 * ```
 */
export function createClient<A>(options: ClientOptions): Client<RoutesOf<A>> {
  const base = String(options.baseUrl).replace(/\/+$/, '');
  const doFetch: Fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const inBrowser = typeof document !== 'undefined';
  const jar = (options.cookies ?? !inBrowser) ? new CookieJar() : null;
  const csrf = options.csrf === false ? null : typeof options.csrf === 'object' ? options.csrf : {};

  const url = (pattern: string, params?: Readonly<Record<string, unknown>>, query?: unknown): string => base + fillPath(pattern, params) + queryString(query);

  const csrfToken = async (): Promise<string | undefined> => {
    if (csrf === null) return undefined;
    if (csrf.token !== undefined) return await csrf.token();
    const names = csrf.cookie !== undefined ? [csrf.cookie] : ['__Host-csrf', 'csrf'];
    const cookies = jar !== null ? jar.all : inBrowser ? documentCookies() : new Map<string, string>();
    for (const n of names) {
      const v = cookies.get(n);
      if (v !== undefined) return safeDecode(v); // the app compares the decoded cookie
    }
    return undefined;
  };

  const call = async (method: string, pattern: string, o: CallOptions<RouteShape> = {}): Promise<Reply<boolean, number, unknown>> => {
    const headers = new Headers(typeof options.headers === 'function' ? await options.headers() : options.headers);
    const bearer = typeof options.bearer === 'function' ? await options.bearer() : options.bearer;
    if (bearer !== undefined) headers.set('authorization', `Bearer ${bearer}`);
    if (UNSAFE.has(method)) {
      const t = await csrfToken();
      if (t !== undefined) headers.set(csrf?.header ?? 'x-csrf-token', t);
    }
    if (jar !== null && jar.size > 0) headers.set('cookie', jar.header());
    for (const [k, v] of Object.entries((o.headers ?? {}) as Record<string, unknown>)) if (v !== undefined) headers.set(k, String(v));
    let body: RequestInit['body'];
    if (o.body !== undefined) {
      if (isRawBody(o.body)) body = o.body;
      else {
        body = JSON.stringify(o.body);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
    }
    const init: RequestInit = { ...o.init, method, headers };
    if (body !== undefined) init.body = body;
    if (o.signal !== undefined) init.signal = o.signal;
    if (options.credentials !== undefined) init.credentials = options.credentials;
    const response = await doFetch(url(pattern, o.params as Record<string, unknown> | undefined, o.query), init);
    if (jar !== null) jar.store(response.headers);
    return { ok: response.ok, status: response.status, data: await readBody(method, response), headers: response.headers, response };
  };

  const method = (m: string) => (path: string, o?: CallOptions<RouteShape>) => call(m, path, o);
  const client = {
    get: method('GET'),
    post: method('POST'),
    put: method('PUT'),
    patch: method('PATCH'),
    delete: method('DELETE'),
    head: method('HEAD'),
    options: method('OPTIONS'),
    url: (path: string, o: { params?: Record<string, unknown>; query?: Record<string, QueryValue> } = {}) => url(path, o.params, o.query),
    cookies: jar?.all ?? new Map<string, string>(),
  };
  return client as unknown as Client<RoutesOf<A>>;
}

function isRawBody(b: unknown): b is NonNullable<RequestInit['body']> {
  return (
    (typeof FormData !== 'undefined' && b instanceof FormData) ||
    b instanceof URLSearchParams ||
    (typeof Blob !== 'undefined' && b instanceof Blob) ||
    b instanceof ArrayBuffer ||
    ArrayBuffer.isView(b) ||
    (typeof ReadableStream !== 'undefined' && b instanceof ReadableStream)
  );
}

/** `?a=1&b=x&b=y` from a query object: arrays repeat their key, `undefined` and `null` are left out. */
function queryString(query: unknown): string {
  if (query === undefined || query === null) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query as Record<string, QueryValue>)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v as ReadonlyArray<unknown>) q.append(k, String(x));
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** The body by its type: JSON (`+json` too), text, or bytes; nothing for HEAD, 204, 205, 304 or an empty body. */
async function readBody(method: string, r: Response): Promise<unknown> {
  if (method === 'HEAD' || r.status === 204 || r.status === 205 || r.status === 304) {
    await r.body?.cancel();
    return undefined;
  }
  const type = (r.headers.get('content-type') ?? '').toLowerCase();
  if (/^application\/(?:[\w.+-]+\+)?json\b/.test(type)) {
    const text = await r.text();
    return text === '' ? undefined : JSON.parse(text);
  }
  if (type.startsWith('text/')) return await r.text();
  const bytes = new Uint8Array(await r.arrayBuffer());
  return bytes.length === 0 && type === '' ? undefined : bytes;
}

function documentCookies(): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
