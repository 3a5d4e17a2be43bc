/**
 * The per-request context a handler and middleware see, the same whichever protocol carried the request:
 * the request (headers, body readers), the response, typed route params, the parsed query, and
 * per-request state.
 */
import type { Http1Request, Http1Response } from '../http1/index.js';
import type { Http2Response } from '../http2/index.js';
import type { Params } from '../router/index.js';
import { emptyRecord } from './empty-record.js';
import { forwardedChain } from './proxy.js';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { processLogger, type Logger } from './logger.js';
import type { Html } from './html.js';
import { answerError } from './errors.js';
import { multipartBoundary } from './multipart/parser.js';
import { MEDIA_SHORTHANDS, negotiateLanguage, negotiateMediaType } from './negotiate.js';
import { MultipartReader, readMultipart, type MultipartLimits, type MultipartResult } from './multipart/reader.js';
import { parseCookies, serializeCookie, signCookieValue, unsignCookieValue, type CookieOptions } from './cookies.js';

export type AnyResponse = Http1Response | Http2Response;

export { processLogger, type Logger } from './logger.js';

/** @internal Per-app settings a context needs. */
export interface ContextConfig {
  cookieSecrets: readonly string[];
  trusted: (address: string, hop: number) => boolean;
  /** The app's logger (made on first use). */
  logger: () => Logger;
  /** Members plugins added (`app.decorateContext`), by name: made on first use in a request. */
  members?: Map<string, (ctx: Context) => unknown>;
}

/**
 * Context members plugins add (`app.decorateContext`), by name and type, for `ctx.ext(name)`. Augment it
 * to type yours: `declare module 'covet/app' { interface ContextExtensions { user: User } }`.
 */
export interface ContextExtensions {}

const DEFAULT_CONFIG: ContextConfig = { cookieSecrets: [], trusted: () => false, logger: processLogger };
const PLAUSIBLE_ID = /^[\w.:-]{1,128}$/;

/** A client-given request id if it is a plausible one (`[A-Za-z0-9_.:-]{1,128}`), else a fresh UUID. */
export function requestIdFrom(given: string | undefined): string {
  return given !== undefined && PLAUSIBLE_ID.test(given) ? given : randomUUID();
}

/** Most parameters a query string or urlencoded form may carry (as body-parser's `parameterLimit`). */
const MAX_PARAMS = 1000;

/**
 * A query string or urlencoded form as a record inheriting no keys; repeated keys give arrays. More than
 * `maxParams` parameters is refused with `status` (an attacker's 100,000-pair form must cost no more
 * than a normal one: the pairs are counted before any is decoded).
 */
export function parseUrlEncoded(text: string, maxParams = MAX_PARAMS, status = 400): Record<string, string | string[]> {
  const q = emptyRecord<string | string[]>();
  if (text === '') return q;
  let pairs = 1;
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) {
    if (++pairs > maxParams) throw answerError(status, { detail: `more than ${maxParams} parameters` });
  }
  // Plain ASCII pairs (no escapes, no '+') are split by hand; anything else goes through
  // URLSearchParams, which decodes exactly as browsers encode (WHATWG URL).
  if (/[%+]/.test(text)) {
    // The constructor would drop a leading '?' (which here is data): a leading '&' stops that.
    for (const [k, v] of new URLSearchParams(`&${text}`)) add(q, k, v);
    return q;
  }
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end === -1) end = text.length;
    if (end > start) {
      const eq = text.indexOf('=', start);
      if (eq === -1 || eq > end) add(q, text.slice(start, end), '');
      else add(q, text.slice(start, eq), text.slice(eq + 1, end));
    }
    start = end + 1;
  }
  return q;
}

function add(q: Record<string, string | string[]>, k: string, v: string): void {
  const prev = q[k];
  if (prev === undefined) q[k] = v;
  else if (Array.isArray(prev)) prev.push(v); // in place: copying made repeated keys quadratic
  else q[k] = [prev, v];
}

/** Resolves another dependency from inside a dependency. */
export type Use = <T>(dep: Dep<T>) => Promise<T>;

/** An OpenAPI 3.1 security scheme object (§4.8.27). */
export type SecurityScheme =
  | { type: 'http'; scheme: 'bearer' | 'basic'; bearerFormat?: string; description?: string }
  | { type: 'apiKey'; name: string; in: 'header' | 'query' | 'cookie'; description?: string };

export interface Dep<T> {
  readonly name: string;
  readonly resolve: (ctx: Context, use: Use) => T | Promise<T>;
  /**
   * Set by dependencies that authenticate (covet/app/auth's `bearerAuth`, `jwtAuth`, ...): the OpenAPI
   * document lists the scheme, and the route as secured by it with these scopes (and answering 401/403).
   */
  readonly security?: { readonly name: string; readonly scheme: SecurityScheme };
  readonly scopes?: readonly string[];
  /**
   * After the response (or when the connection dies); `error` is what the request failed with, if
   * anything. (Method syntax, so a `Dep<Conn>` fits where a `Dep<unknown>` is listed.)
   */
  cleanup?(value: T, error: unknown): void | Promise<void>;
}

/** Per-request resolution state (one per Context, created on first `use`). */
class DepScope {
  #values = new Map<Dep<unknown>, Promise<unknown>>();
  #cleanups: Array<(error: unknown) => Promise<void> | void> = [];
  #closed = false;
  #error: unknown = undefined;
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      void this.close();
    };
    ctx.res.once('finish', finish).once('close', finish);
  }

  /** Records the error the request failed with, for cleanups. */
  fail(error: unknown): void {
    this.#error ??= error;
  }

  use<T>(d: Dep<T>, chain: readonly Dep<unknown>[] = []): Promise<T> {
    const key = d as Dep<unknown>;
    if (chain.includes(key)) return Promise.reject(new Error(`dependency cycle: ${[...chain, key].map((x) => x.name).join(' → ')}`));
    const cached = this.#values.get(key);
    if (cached !== undefined) return cached as Promise<T>;
    if (this.#closed) return Promise.reject(new Error(`dependency ${d.name} used after the response finished`));
    const next = [...chain, key];
    // Cached before resolve runs, so a use() from inside it (synchronously, too) finds it.
    const p = Promise.resolve().then(async () => {
      const value = await d.resolve(this.#ctx, (inner) => this.use(inner, next));
      if (d.cleanup !== undefined) this.#cleanups.push((err) => d.cleanup!(value, err));
      return value;
    });
    this.#values.set(key, p);
    return p;
  }

  /** Runs the cleanups, last resolved first; a failing cleanup does not stop the others. */
  async close(): Promise<void> {
    this.#closed = true;
    const list = this.#cleanups.splice(0).reverse();
    for (const c of list) {
      try {
        await c(this.#error);
      } catch (err) {
        this.#ctx.log.error({ err }, 'dependency cleanup failed');
      }
    }
  }
}

/**
 * `P`, `Q`, `B` are the types of params, query and body; a route with a schema gets them inferred from it.
 *
 * @example
 * ```ts
 * app.get('/notes/{id:int}', async (ctx) => {
 *   const note = await orm.notes.find(ctx.params.id); // a number: the param's type converts it
 *   if (note === undefined) throw new HttpError(404);
 *   ctx.log.info({ id: note.id }, 'read');
 *   return note;
 * });
 * ```
 */
export class Context<P = Params, Q = Record<string, string | string[]>, B = unknown> {
  readonly req: Http1Request;
  readonly res: AnyResponse;
  /** Route params, converted by their types (`{id:int}` → number) and by the route's schema. */
  params: P;
  /** The request body, parsed and validated, when the route has a body schema. */
  body: B = undefined as B;
  /** The route pattern that matched (for logs and metrics), or `''`. */
  readonly route: string;
  /** Per-request data for middleware and handlers (made on first use: most requests never touch it). */
  get state(): Record<string, unknown> {
    return (this.#state ??= {});
  }
  #state: Record<string, unknown> | null = null;
  /** @internal The app's record of the matched route (null for 404/405 answers). */
  entry: object | null = null;
  /**
   * Answers with server-rendered HTML (`html` templates): `text/html`, the status given (else the
   * route's). Return what it returns: a string when nothing in the view must be awaited, else a stream
   * that sends each part as soon as it is ready.
   *
   * @example
   * ```ts
   * app.get('/', (ctx) => ctx.render(html`<h1>Hello, ${ctx.query.name}</h1>`));
   * ```
   */
  render(view: Html, status?: number): string | AsyncIterable<string> {
    if (status !== undefined) this.res.statusCode = status;
    if (!this.res.hasHeader('content-type')) this.res.setHeader('content-type', 'text/html; charset=utf-8');
    return view.toStringSync() ?? view;
  }

  /** The API version the request was served as (with `createApp({ versioning })`), else undefined. */
  apiVersion: string | undefined = undefined;
  #rawQuery: string;
  #query: Q | null = null;
  #cookies: Record<string, string> | null = null;
  #config: ContextConfig;
  #members: Map<string, unknown> | null = null;
  #ips: string[] | null = null;
  #scope: DepScope | null = null;
  #abort: AbortController | null = null;

  /** @internal */
  constructor(req: Http1Request, res: AnyResponse, params: Params, route: string, rawQuery: string, config: ContextConfig = DEFAULT_CONFIG) {
    this.#config = config;
    this.req = req;
    this.res = res;
    this.params = params as P;
    this.route = route;
    this.#rawQuery = rawQuery;
  }

  /**
   * A member a plugin added to every context (`app.decorateContext(name, init)`): made on first use in
   * this request, then kept.
   *
   * @example
   * ```ts
   * app.decorateContext('user', (ctx) => sessions.userOf(ctx));
   * app.get('/me', (ctx) => ctx.ext<User>('user'));
   * ```
   */
  ext<K extends keyof ContextExtensions>(name: K): ContextExtensions[K];
  ext<T = unknown>(name: string): T;
  ext(name: string): unknown {
    const got = (this.#members ??= new Map());
    if (got.has(name)) return got.get(name);
    const init = this.#config.members?.get(name);
    if (init === undefined) throw new Error(`no context member "${name}": the plugin that adds it (app.decorateContext) is not registered`);
    const value = init(this as unknown as Context);
    got.set(name, value);
    return value;
  }

  /**
   * The client address: the socket peer, or — through proxies the app trusts (`trustProxy`) — the
   * address they forwarded in `X-Forwarded-For`.
   */
  get ip(): string | undefined {
    return this.ips[0];
  }

  /** `[client, ...trusted proxies, socket peer]` as far as trusted hops vouch for it. */
  get ips(): readonly string[] {
    return (this.#ips ??= forwardedChain(this.req.remoteAddress, this.req.get('x-forwarded-for'), this.#config.trusted));
  }

  get method(): string {
    return this.req.method;
  }

  get path(): string {
    return this.req.path;
  }

  /**
   * The request's ID: set by `accessLog()` (the client's `X-Request-Id` when plausible, else a UUID); made
   * on first use otherwise.
   */
  get requestId(): string {
    const st = this.state;
    if (typeof st.requestId !== 'string') st.requestId = requestIdFrom(this.req.get('x-request-id'));
    return st.requestId as string;
  }

  /**
   * A pino child logger carrying this request's ID (`reqId`), made on first use: lines a handler logs
   * can be joined with the access log and the error log of the same request.
   *
   * @example
   * ```ts
   * app.post('/notes', (ctx) => { ctx.log.info({ ownerId: ctx.body.ownerId }, 'creating a note'); ... });
   * ```
   */
  get log(): Logger {
    return (this.#log ??= this.#config.logger().child({ reqId: this.requestId }));
  }
  #log: Logger | null = null;

  /** Query parameters; repeated keys give arrays. Parsed on first use; converted by the route's schema. */
  get query(): Q {
    if (this.#query === null) {
      this.#query = parseUrlEncoded(this.#rawQuery) as Q;
    }
    return this.#query;
  }

  set query(q: Q) {
    this.#query = q;
  }

  /**
   * The body as an `application/x-www-form-urlencoded` form (repeated keys give arrays), refusing more
   * than `limit` bytes (default 1 MiB) or more than `maxFields` fields (default 1000) with a 413 — a body
   * too large; a query string with too many parameters is a 400 (the URL is malformed, not too large).
   * Read once: a later call (the route's body schema after `csrf()` read the token from the form) gets
   * the same form.
   *
   * @example
   * ```ts
   * const form = await ctx.form(4 * 1024 * 1024, { maxFields: 5000 });
   * ```
   */
  form(limit?: number, options: { maxFields?: number } = {}): Promise<Record<string, string | string[]>> {
    return (this.#form ??= this.req.text(limit).then((t) => parseUrlEncoded(t, options.maxFields ?? MAX_PARAMS, 413)));
  }

  #form: Promise<Record<string, string | string[]>> | null = null;

  /**
   * The parts of a `multipart/form-data` body as they arrive: fields as strings, files as streams read
   * from the socket only as fast as they are consumed, so a 10 GB upload holds ~64 KiB in memory. Past a
   * limit the reader fails with a 413 error; a malformed body with a 400; a body of another type is a 415.
   * Consume (or `skip()`) each file before asking for the next part.
   *
   * @example
   * ```ts
   * app.post('/upload', async (ctx) => {
   *   for await (const part of ctx.parts({ fileSize: 1024 ** 3 })) {
   *     if (part.kind === 'file') await part.saveTo(join(dir, randomUUID()));
   *   }
   *   return { ok: true };
   * });
   * ```
   */
  parts(limits?: MultipartLimits): MultipartReader {
    const type = this.req.get('content-type');
    const boundary = multipartBoundary(type);
    if (boundary === undefined) throw answerError(415, { detail: `expected multipart/form-data with a boundary, got ${type ?? 'no content-type'}` });
    return new MultipartReader(this.req, boundary, limits);
  }

  /**
   * Reads a whole `multipart/form-data` body: fields into a record (repeated names give arrays), files
   * to temporary files removed when the response is done (or to `dir`, kept). Limits as in {@link parts}.
   *
   * @example
   * ```ts
   * const { fields, files } = await ctx.multipart({ fileSize: 100 * 1024 * 1024 });
   * await rename(files[0].path, `/srv/avatars/${ctx.params.id}`);
   * ```
   */
  async multipart(options: MultipartLimits & { dir?: string } = {}): Promise<MultipartResult> {
    const r = await readMultipart(this.parts(options), options.dir);
    if (options.dir === undefined) {
      const cleanup = (): void => void rm(r.dir, { recursive: true, force: true });
      this.res.once('finish', cleanup).once('close', cleanup);
    }
    return { fields: r.fields, files: r.files };
  }

  /** Sends a JSON body. */
  json(body: unknown, status = 200): void {
    this.res.statusCode = status;
    this.res.setHeader('content-type', 'application/json; charset=utf-8');
    this.res.end(JSON.stringify(body));
  }

  /** Sends a text body. */
  text(body: string, status = 200): void {
    this.res.statusCode = status;
    this.res.setHeader('content-type', 'text/plain; charset=utf-8');
    this.res.end(body);
  }

  /** Request cookies by name (parsed on first use; percent-encoded values decoded). */
  get cookies(): Record<string, string> {
    return (this.#cookies ??= parseCookies(this.req.get('cookie')));
  }

  /** A cookie set with `{ signed: true }`, or undefined when missing or its signature does not verify. */
  signedCookie(name: string): string | undefined {
    const raw = this.cookies[name];
    if (raw === undefined) return undefined;
    return unsignCookieValue(raw, this.#config.cookieSecrets);
  }

  /**
   * Adds a `Set-Cookie` (HttpOnly, SameSite=Lax, Path=/ unless told otherwise).
   *
   * @example
   * ```ts
   * ctx.setCookie('session', id, { signed: true, maxAge: 86400, secure: true });
   * ```
   */
  setCookie(name: string, value: string, options: CookieOptions = {}): void {
    const v = options.signed === true ? signCookieValue(value, this.#config.cookieSecrets) : value;
    this.res.appendHeader('set-cookie', serializeCookie(name, v, options));
  }

  /** Deletes a cookie in the browser (same `path`/`domain` as when it was set). */
  clearCookie(name: string, options: Pick<CookieOptions, 'path' | 'domain' | 'secure' | 'sameSite'> = {}): void {
    this.res.appendHeader('set-cookie', serializeCookie(name, '', { ...options, maxAge: 0, expires: new Date(0) }));
  }

  /**
   * Resolves a dependency for this request: once per request, cleaned up after the response.
   *
   * @example
   * ```ts
   * const conn = await ctx.use(db);
   * ```
   */
  use<T>(d: Dep<T>): Promise<T> {
    return (this.#scope ??= new DepScope(this as unknown as Context)).use(d);
  }

  /**
   * Aborted when the request is abandoned — the connection is gone before the answer was finished, or a
   * `timeout()` expired — so database queries and fetches started for it can stop. A client that only
   * half-closes (FIN) is still owed its answer (RFC 9112 §9.6) and does not abort it; a reset, or a failed
   * write to it, does. Created on first use.
   *
   * @example
   * ```ts
   * const rows = await sql.query('select ...', { signal: ctx.signal });
   * ```
   */
  get signal(): AbortSignal {
    if (this.#abort === null) {
      const ac = (this.#abort = new AbortController());
      this.res.once('close', () => {
        if (!this.res.finished) ac.abort(new Error('the client went away'));
      });
    }
    return this.#abort.signal;
  }

  /** Aborts `signal` with `reason` (used by `timeout()`). */
  abort(reason: unknown): void {
    if (this.#abort === null) void this.signal;
    this.#abort!.abort(reason);
  }

  /** @internal The error this request failed with, for dependency cleanups. */
  failDeps(error: unknown): void {
    this.#scope?.fail(error);
  }

  /**
   * Adds a field to `Vary` unless already listed (RFC 9110 §12.5.5): caches must key the answer on it.
   *
   * @example
   * ```ts
   * ctx.vary('Accept-Language');
   * ```
   */
  vary(field: string): void {
    const current = this.res.getHeader('vary');
    if (current !== undefined && current.split(',').some((f) => f.trim().toLowerCase() === field.toLowerCase() || f.trim() === '*')) return;
    this.res.appendHeader('vary', field);
  }

  /**
   * The best of `types` for the client's `Accept` (full media types or `json`, `html`, `text`, `xml`,
   * `csv`), as given, or `undefined` when none is acceptable. Adds `Vary: Accept`: the answer depends on it.
   *
   * @example
   * ```ts
   * if (ctx.accepts('html', 'json') === 'html') return renderPage(note);
   * ```
   */
  accepts<T extends string>(...types: T[]): T | undefined {
    this.vary('Accept');
    const full = types.map((t) => MEDIA_SHORTHANDS[t] ?? t);
    const chosen = negotiateMediaType(this.req.get('accept'), full);
    return chosen === undefined ? undefined : types[full.indexOf(chosen)];
  }

  /** The best of `languages` for `Accept-Language` (`en` also serves `en-GB`), or `undefined`. Adds `Vary`. */
  acceptsLanguages<T extends string>(...languages: T[]): T | undefined {
    this.vary('Accept-Language');
    return negotiateLanguage(this.req.get('accept-language'), languages);
  }

  /**
   * Answers with the representation the client prefers: calls the producer of the chosen media type and
   * sets `Content-Type`; none acceptable is a 406 problem listing what is available.
   *
   * @example
   * ```ts
   * app.get('/notes/{id}', (ctx) => ctx.negotiate({
   *   json: () => note,
   *   'text/csv': () => `${note.id},${note.title}\n`,
   * }));
   * ```
   */
  negotiate(producers: Record<string, () => unknown>): unknown {
    const offers = Object.keys(producers);
    const chosen = this.accepts(...offers);
    if (chosen === undefined) {
      throw answerError(406, { detail: `acceptable representations: ${offers.map((t) => MEDIA_SHORTHANDS[t] ?? t).join(', ')}` });
    }
    const type = MEDIA_SHORTHANDS[chosen] ?? chosen;
    this.res.setHeader('content-type', /^text\/|json$|xml$/.test(type) && !type.includes('charset') ? `${type}; charset=utf-8` : type);
    const out = producers[chosen]!();
    // A value for a JSON type is serialized as JSON even when it is a string.
    return typeof out === 'string' && /json$/.test(type) ? JSON.stringify(out) : out;
  }

  /** Redirects (303 by default, so a POST becomes a GET). */
  redirect(location: string, status = 303): void {
    this.res.statusCode = status;
    this.res.setHeader('location', location);
    this.res.end();
  }
}
