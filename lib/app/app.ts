/**
 * The application: routes (on `covet/router`), onion middleware, route groups, WebSocket routes, errors
 * as problem+json, and one `handle` for HTTP/1.1 and HTTP/2 requests. `listen` serves HTTP/1.1, h2c and
 * (with `tls`) h2 on one port; `inject` runs a request through the whole pipeline without a socket.
 */
import type { RequestTracing } from './tracing.js';
import { mountGraphql, type GraphqlEndpoint, type GraphqlOptions } from './graphql/server.js';
import { compileVersioning, type Deprecation, type Versioning, type VersioningOptions, type VersionSet } from './versioning.js';
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { Server, startCluster, type ClusterHandle } from '../net/index.js';
import type { Http1Request } from '../http1/index.js';
import { createServer, type Http2SessionOptions } from '../http2/index.js';
import type { Http1ServerOptions } from '../http1/index.js';
import { parsePattern, Router } from '../router/index.js';
import type { TSchema } from '@sinclair/typebox';
import { webSocketOverHttp2, webSocketUpgrade, type WebSocket, type WsConnectionOptions, type WsServerOptions, type WsVerdict } from '../ws/index.js';
import { Context, processLogger, type AnyResponse, type ContextConfig, type Logger } from './context.js';
import { answerError, HttpError, sendProblem, type ProblemFields } from './errors.js';
import { isJsonType, parseMediaType } from './media-type.js';
import { computeEtag, etagMatches } from './etag.js';
import { compressAsync, compressSync, isCompressible, negotiateEncoding, shouldCompressAsync, type CompressionOptions, type Encoding } from './compression.js';
import { captureResponse, inject, type InjectOptions, type InjectResponse } from './inject.js';
import { buildOpenApi, toYaml } from './openapi.js';
import { checkPart, compileSchema, responseMismatch, SchemaError, successStatus, unsupportedMediaType, validationError, type CompiledSchema, type FieldError, type RouteSchema, type SchemaTypes } from './schema.js';
import type { Params, RouteInfo, RouteResult } from '../router/index.js';
import type { Dep } from './deps.js';
import { compileTrust, type TrustProxy } from './proxy.js';
import { addDocsPage } from './docs.js';
import { listRoutes, type RouteListing } from './route-list.js';
import type { Serializer } from './serializer.js';
import { pipeline, Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';

/**
 * A route handler: its return value is the response (object → JSON, string → text, Buffer → bytes). With
 * response schemas, it must return a value of one of them (checked by `tsc`, and at run time in `dev` and
 * tests). Params are typed from the pattern `P` (`{id:int}` → number) unless a params schema says more.
 */
export type Handler<S extends RouteSchema = RouteSchema, P extends string = string> = (
  ctx: Context<SchemaTypes<S, P>['params'], SchemaTypes<S, P>['query'], SchemaTypes<S, P>['body']>,
) => SchemaTypes<S, P>['result'] | Promise<SchemaTypes<S, P>['result']>;

/** Schema and documentation of a route. */
export interface RouteOptions<S extends RouteSchema = RouteSchema> {
  schema?: S;
  summary?: string;
  description?: string;
  tags?: string[];
  operationId?: string;
  /** Leave the route out of the OpenAPI document. */
  hide?: boolean;
  /**
   * The status of a successful answer when the handler does not set one (e.g. 204 for a DELETE, 201 for a
   * create); documented in OpenAPI. Default: the one 2xx code of the response schemas, else 200.
   */
  status?: number;
  /** Largest body (bytes) the route's body schema reads before answering 413. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * The API versions the route exists in (with `createApp({ versioning })`): `'2'`, `'>=2'`, `'>=1 <3'`,
   * `'1 || 3'`; default every version. Routes on one path may split the versions between them.
   */
  version?: string;
  /**
   * The route is on its way out: answered with `Deprecation` (RFC 9745) and, with a date, `Sunset`
   * (RFC 8594) and `Link` headers; `deprecated` in OpenAPI.
   */
  deprecated?: boolean | Deprecation;
  /**
   * Dependencies resolved (in order) before the request is validated — as FastAPI runs dependencies
   * before checking the endpoint's own parameters — so an auth check (`bearerAuth()`, `jwtAuth()`, ...)
   * answers 401/403 before a bad query or body is reported (or its schema revealed) to an anonymous
   * caller. A dependency that needs the validated input is `ctx.use`d from the handler instead.
   */
  deps?: readonly Dep<unknown>[];
  /**
   * Permissions the caller must hold (checked by the app's `authorize`, e.g. `rbac(...).authorize`,
   * after `deps`, before validation): 401 when nobody is authenticated, 403 when the caller lacks one.
   */
  requires?: readonly string[];
}
/** Onion middleware: code before `await next()` runs on the way in, after it on the way out. */
export type Middleware = (ctx: Context, next: () => Promise<void>) => unknown | Promise<unknown>;

/**
 * Lifecycle hooks (Fastify's names). `onRequest` and `onResponse` wrap every request like middleware;
 * `preHandler` runs after validation, just before the handler; `onSend` may replace the serialized body
 * of a returned value (before ETag and compression); `onError` observes every error about to be
 * answered. Like middleware, hooks apply to the routes added after them, per app or per group.
 */
export interface Hooks {
  onRequest: (ctx: Context) => unknown;
  preHandler: (ctx: Context) => unknown;
  onSend: (ctx: Context, payload: string | Uint8Array) => string | Uint8Array | void | Promise<string | Uint8Array | void>;
  onResponse: (ctx: Context) => void;
  onError: (ctx: Context, err: unknown) => void;
}

interface RouteHooks {
  preHandler: Hooks['preHandler'][];
  onSend: Hooks['onSend'][];
  onError: Hooks['onError'][];
}

/**
 * A WebSocket route: routed like HTTP routes (typed params), and upgraded only after the app's middleware,
 * the route's `deps`/`requires` and its params/query/headers schemas pass — a refusal is the same answer
 * (401, 403, 422, 429 ...) an HTTP route would give, sent instead of the 101 (or the HTTP/2 200). Its own
 * negotiation and limits (subprotocols, permessage-deflate, message size...) apply to its connections.
 */
export interface WsRouteHandlers<P extends string = string, S extends RouteSchema = RouteSchema> extends WsConnectionOptions, Pick<RouteOptions<S>, 'deps' | 'requires' | 'schema' | 'summary' | 'description' | 'tags' | 'hide'> {
  /**
   * A client connected to this route (after the handshake); `ctx` is the upgrade request's context: its
   * params, and what the deps set (`ctx.state`, `ctx.use` of the same deps). The upgrade request is over
   * once the socket is handed on, so deps' cleanups have run by then.
   */
  open(ws: WebSocket, ctx: Context<SchemaTypes<S, P>['params'], SchemaTypes<S, P>['query']>): void;
}

/** Contexts of upgrades that passed the whole chain (the route's last step marks them). */
const ACCEPTED = new WeakSet<Context>();
function acceptUpgrade(ctx: Context): void {
  ACCEPTED.add(ctx);
  ctx.res.statusCode = 101; // what the access log and onResponse hooks report
}
/** The upgrade's connection-level settings, out of the route's declaration. */
function connectionOptions(h: WsRouteHandlers): WsConnectionOptions {
  const { open: _o, deps: _d, requires: _r, schema: _s, summary: _su, description: _de, tags: _t, hide: _h, ...rest } = h;
  return rest;
}

export interface AppOptions {
  /** Show error messages and stacks in 500 answers. Default false (never in production). */
  dev?: boolean;
  /**
   * Called with every error that became a 5xx. Default: logged once through the app's logger, as JSON with
   * `err` (message, stack, cause), the request ID, method, path and route.
   */
  onError?: (err: unknown, ctx: Context) => void;
  /** The app's pino logger (`ctx.log` is its child per request; `accessLog()` uses it). Default: pino to stdout. */
  logger?: Logger;
  /** Serve an OpenAPI 3.1 document of the routes at `path` (default `/openapi.json`). */
  openapi?: {
    info: { title: string; version: string; description?: string };
    /** Default `/openapi.json`. */
    path?: string;
    /** The interactive page (Swagger UI); default `/docs`, `false` for none. */
    docs?: string | false;
  };
  /** Give GET/HEAD answers a strong ETag computed from the body (and answer 304 on a match). Default false: a handler-set ETag is always honoured. */
  etag?: boolean;
  /**
   * Compress what handlers return with br/gzip by negotiation: `true` for
   * the defaults (threshold 1 KiB, br then gzip), or options. Default off. Stream bodies returned by a
   * handler are compressed too, flushed chunk by chunk; direct `ctx.res.write` calls are not.
   */
  compression?: boolean | CompressionOptions;
  /** Which peers may tell the client address through `X-Forwarded-For` (see `ctx.ip`). Default none. */
  trustProxy?: TrustProxy;
  /** Secrets for signed cookies: the first signs, all verify (rotate by prepending a new one). */
  cookieSecrets?: readonly string[];
  /**
   * Checks a route's `requires` for a request: throw 401/403 (see `rbac()` in covet/app/auth). Routes
   * with `requires` cannot be added without it.
   */
  authorize?: (ctx: Context, required: readonly string[]) => void | Promise<void>;
  /**
   * Check what handlers return against the route's response schemas before sending: a value that does
   * not match (a wrong type, a missing required field) is a 500 naming the fields, instead of going out.
   * Default: on with `dev: true` or when `NODE_ENV` is `test` (so tests catch it), off otherwise (then the
   * compiled serializer only drops undeclared properties).
   */
  checkResponses?: boolean;
  /** API versions and where requests name theirs (see {@link VersioningOptions}). */
  versioning?: VersioningOptions;
}

export interface RouteEntry {
  handler: Handler;
  middleware: Middleware[];
  hooks: RouteHooks;
  options: RouteOptions;
  compiled: CompiledSchema | null;
  /** Check returned values against the response schemas before sending (see `AppOptions.checkResponses`). */
  checkResponse: boolean;
  /** The success status (see `RouteOptions.status`). */
  status: number;
  /** With versioning: the versions (indexes) the route exists in. */
  versions?: VersionSet;
  /** With versioning by header, media type or query: the routes sharing this method and path. */
  variants?: RouteEntry[];
}

export interface ListenOptions {
  port?: number;
  host?: string;
  tls?: Http1ServerOptions['tls'];
  /**
   * Processes serving the port (node:cluster; connections spread round-robin). With more than one, the
   * primary forks the workers — each runs this script and serves — and only supervises: crashed workers
   * are restarted, SIGTERM/SIGINT stop them gracefully. Share state between workers through Redis
   * (rooms, rate limits, caches). Default 1.
   */
  workers?: number;
}

/** The primary of a cluster: it serves nothing itself; `close` stops the workers. */
class ClusterPrimary extends Server {
  readonly #address: AddressInfo;
  readonly #handle: ClusterHandle;
  constructor(address: AddressInfo, handle: ClusterHandle) {
    super({ onConnection: () => ({ onData: () => {} }) });
    this.#address = address;
    this.#handle = handle;
  }
  override address(): AddressInfo {
    return this.#address;
  }
  override close(): Promise<void> {
    return this.#handle.stop();
  }
}

/**
 * @example
 * ```ts
 * import { createApp, HttpError } from 'covet/app';
 * const app = createApp();
 * app.use(async (ctx, next) => { const t = Date.now(); await next(); ctx.res.setHeader?.('x-time', String(Date.now() - t)); });
 * app.get('/notes/{id:int}', (ctx) => notes.get(ctx.params.id as number) ?? Promise.reject(new HttpError(404)));
 * await app.listen({ port: 3000 });
 * ```
 */
export class App {
  readonly router = new Router<RouteEntry>();
  readonly config: AppOptions;
  #middleware: Middleware[] = [];
  /** WebSocket routes: the entry's handler accepts the upgrade; `ws` is what to do with the socket. */
  readonly wsRouter = new Router<RouteEntry & { ws: WsRouteHandlers }>();
  #server: Server | null = null;
  #primary = false;
  #closing = false;
  /** The keep-alive timeout the server advertises (what `closeOnSignals` lingers for). */
  #keepAliveMs = 5000;
  #hooks: RouteHooks = { preHandler: [], onSend: [], onError: [] };
  readonly #versioning: Versioning | null;
  /** Versioned routes by method and full path (the variants of one router entry). */
  readonly #variants = new Map<string, RouteEntry>();
  readonly #ctxConfig: ContextConfig;
  readonly #compression: CompressionOptions | undefined;
  readonly #checkResponses: boolean;
  /** A group's path prefix (for messages and checks that need the full pattern). */
  #prefix = '';

  constructor(options: AppOptions = {}) {
    this.config = options;
    this.#versioning = options.versioning === undefined ? null : compileVersioning(options.versioning);
    this.#checkResponses = options.checkResponses ?? (options.dev === true || process.env.NODE_ENV === 'test');
    const logger = options.logger;
    this.#ctxConfig = { cookieSecrets: options.cookieSecrets ?? [], trusted: compileTrust(options.trustProxy), logger: logger === undefined ? processLogger : () => logger };
    this.#compression = options.compression === true ? {} : options.compression === false ? undefined : options.compression;
    const oa = options.openapi;
    // Added when the app starts serving (listen, inject or the first request), after every `use`, so app
    // middleware wraps them like any route; a group's sub-app never adds them.
    this.#builtins =
      oa === undefined
        ? null
        : () => {
            // Built on first request, when every route is known; the document routes leave themselves out.
            // With versioning, one document per version (`/openapi/2.json`); the plain path is the latest.
            const v = this.#versioning;
            const docs = new Map<number, { json: string | null; yaml: string | null; doc: Record<string, unknown> | null }>();
            const document = (i: number): Record<string, unknown> => {
              let d = docs.get(i);
              if (d === undefined) docs.set(i, (d = { json: null, yaml: null, doc: null }));
              return (d.doc ??= v === null ? buildOpenApi(this.router.routes(), oa.info) : buildOpenApi(this.#routesIn(i), { ...oa.info, version: v.versions[i]! }, versionDoc(v, i)));
            };
            const path = oa.path ?? '/openapi.json';
            const base = path.replace(/\.json$/, '');
            const latest = v === null ? 0 : v.versions.length - 1;
            const serve = (at: string, i: number): void => {
              this.get(`${at}.json`, { hide: true }, (ctx) => {
                document(i);
                const d = docs.get(i)!;
                ctx.res.setHeader('content-type', 'application/json; charset=utf-8');
                ctx.res.end((d.json ??= JSON.stringify(d.doc)));
              });
              this.get(`${at}.yaml`, { hide: true }, (ctx) => {
                document(i);
                const d = docs.get(i)!;
                ctx.res.setHeader('content-type', 'application/yaml; charset=utf-8');
                ctx.res.end((d.yaml ??= toYaml(d.doc)));
              });
            };
            serve(base, latest);
            if (v !== null) for (let i = 0; i < v.versions.length; i++) serve(`${base}/${v.versions[i]}`, i);
            if (oa.docs !== false) addDocsPage(this, oa.docs ?? '/docs', v === null ? path : [...v.versions].reverse().map((name) => ({ name: `v${name}`, url: `${base}/${name}.json` })), oa.info.title);
          };
  }

  #builtins: (() => void) | null;

  /** Adds the built-in routes once (idempotent). */
  #start(): void {
    const add = this.#builtins;
    if (add === null) return;
    this.#builtins = null;
    // The documents and the docs page belong to no API version (not under /v2, not per Accept-Version).
    this.#unversioned = true;
    try {
      add();
    } finally {
      this.#unversioned = false;
    }
  }

  #unversioned = false;

  /** Middleware for every route registered after this call (and for 404/405 answers). */
  use(mw: Middleware): this {
    this.#middleware.push(mw);
    return this;
  }

  /**
   * Adds a lifecycle hook for the routes registered after this call.
   *
   * @example
   * ```ts
   * app.addHook('preHandler', (ctx) => { if (!ctx.state.user) throw new HttpError(401); });
   * app.addHook('onResponse', (ctx) => stats.observe(ctx.route, ctx.res.statusCode));
   * ```
   */
  addHook<K extends keyof Hooks>(name: K, fn: Hooks[K]): this {
    if (name === 'onRequest') {
      const hook = fn as Hooks['onRequest'];
      return this.use(async (ctx, next) => {
        await hook(ctx);
        if (!ctx.res.finished) await next();
      });
    }
    if (name === 'onResponse') {
      const hook = fn as Hooks['onResponse'];
      return this.use((ctx, next) => {
        ctx.res.once('finish', () => hook(ctx));
        return next();
      });
    }
    const list = this.#hooks[name as keyof RouteHooks] as unknown[];
    this.#hooks = { ...this.#hooks, [name]: [...list, fn] }; // routes already added keep their lists
    return this;
  }

  /**
   * Adds a route. With `options.schema`, params/query/headers/body are validated (422 listing every
   * failing field) and their types flow into the handler.
   */
  route<P extends string, S extends RouteSchema = RouteSchema>(method: string | string[], path: P, options: RouteOptions<S> | Handler<RouteSchema, P>, handler?: Handler<S, P>): this {
    const opts = typeof options === 'function' ? {} : options;
    const h = (typeof options === 'function' ? options : handler!) as Handler;
    const where = `${Array.isArray(method) ? method.join(',') : method} ${this.#prefix}${path}`;
    const compiled = this.#prepare(where, path, opts as RouteOptions);
    const entry: RouteEntry = { handler: h, middleware: [...this.#middleware], hooks: this.#hooks, options: opts as RouteOptions, compiled, checkResponse: this.#checkResponses && compiled?.response != null, status: successStatus(opts) };
    const v = this.#unversioned ? null : this.#versioning;
    if (v === null) {
      if ((opts as RouteOptions).version !== undefined) throw new Error(`${where}: "version" needs createApp({ versioning: { versions, by } })`);
      this.router.add(method, path, entry);
      return this;
    }
    const versions = v.range((opts as RouteOptions).version, where);
    if (v.options.by === 'url') {
      // Served under the prefix of each version it exists in: /v1/users, /v2/users.
      const prefix = v.options.prefix ?? 'v';
      for (const i of versions) this.router.add(method, `/${prefix}${v.versions[i]!}${path === '/' ? '' : path}`, { ...entry, versions: new Set([i]) });
      return this;
    }
    // One router entry per method and path; the routes on it split the versions between them.
    for (const m of Array.isArray(method) ? method : [method]) {
      const key = `${m.toUpperCase()} ${this.#prefix}${path}`;
      const variant = { ...entry, versions };
      const shared = this.#variants.get(key);
      if (shared === undefined) {
        const first: RouteEntry = { ...variant, variants: [variant] };
        this.#variants.set(key, first);
        this.router.add(m, path, first);
        continue;
      }
      const taken = [...versions].filter((i) => shared.variants!.some((e) => e.versions!.has(i)));
      if (taken.length > 0) throw new Error(`${where}: version ${taken.map((i) => v.versions[i]).join(', ')} of this route is already handled by another`);
      shared.variants!.push(variant);
      shared.versions = new Set([...shared.versions!, ...versions]);
    }
    return this;
  }

  /**
   * GraphQL at `path` (default `/graphql`): HTTP per the GraphQL-over-HTTP spec, subscriptions over
   * WebSocket (graphql-transport-ws) and SSE, depth and cost limits, persisted queries, GraphiQL (see
   * covet/app/graphql). Needs `npm install graphql` (and `graphql-ws` for WebSocket).
   *
   * @example
   * ```ts
   * app.graphql({ schema, context: (ctx) => ({ user: ctx.state.user }) });
   * ```
   */
  graphql(options: GraphqlOptions): GraphqlEndpoint {
    return mountGraphql(this, options);
  }

  /** The routes of version `i` (each path's variant for it), for its OpenAPI document. */
  #routesIn(i: number): Array<RouteInfo<RouteEntry>> {
    const out: Array<RouteInfo<RouteEntry>> = [];
    for (const r of this.router.routes()) {
      const s = r.store;
      if (s.variants !== undefined) {
        const e = s.variants.find((x) => x.versions!.has(i));
        if (e !== undefined) out.push({ ...r, store: e });
      } else if (s.versions === undefined || s.versions.has(i)) out.push(r);
    }
    return out;
  }

  /**
   * The route a versioned request is served by (and its response headers set), or the error to answer:
   * 400 for an unknown version (or none named, without a default), 404 when the route does not exist
   * in the version asked for.
   */
  #pickVersion(ctx: Context, store: RouteEntry, query: string): RouteEntry | HttpError {
    const v = this.#versioning!;
    const { req, res } = ctx;
    if (store.versions === undefined) return store; // the app's own routes (documents, docs page)
    let version: number | null;
    if (v.options.by === 'url') version = store.versions.values().next().value!;
    else {
      // The answer depends on the header that named the version (by query, the URL already keys caches).
      if (v.options.by !== 'query') ctx.vary(v.options.by === 'header' ? (v.options.header ?? 'Accept-Version') : 'Accept');
      try {
        version = v.resolve((n) => req.get(n), query) ?? v.fallback;
      } catch (err) {
        return err as HttpError;
      }
      if (version < 0) return new HttpError(400, { detail: `name the API version (${v.options.by === 'header' ? `the ${v.options.header ?? 'Accept-Version'} header` : v.options.by === 'query' ? `the "${v.options.param ?? 'version'}" query parameter` : `the "${v.options.param ?? 'version'}" parameter of Accept`}): ${v.versions.join(', ')}` });
    }
    const entry = store.variants === undefined ? (store.versions.has(version) ? store : undefined) : store.variants.find((e) => e.versions!.has(version));
    if (entry === undefined) return new HttpError(404, { detail: `${req.method} ${req.path} does not exist in API version ${v.versions[version]}` });
    for (const [name, value] of v.deprecationHeaders(version, entry.options.deprecated)) {
      if (name === 'link') res.appendHeader(name, value); // other Link relations may be set too
      else res.setHeader(name, value);
    }
    ctx.apiVersion = v.versions[version];
    return entry;
  }

  /** What HTTP and WebSocket routes share when added: the schema compiled, and mistakes refused now. */
  #prepare(where: string, path: string, opts: RouteOptions): CompiledSchema | null {
    const compiled = opts.schema === undefined ? null : compileSchema(opts.schema, where);
    if (opts.requires !== undefined && this.config.authorize === undefined) throw new Error(`${where}: a route with "requires" needs createApp({ authorize }) (e.g. rbac(...).authorize)`);
    if (opts.schema?.params !== undefined) checkParamsSchema(opts.schema.params, `${this.#prefix}${path}`, where);
    return compiled;
  }

  get<P extends string, S extends RouteSchema = RouteSchema>(path: P, options: RouteOptions<S> | Handler<RouteSchema, P>, handler?: Handler<S, P>): this {
    return this.route('GET', path, options, handler);
  }
  post<P extends string, S extends RouteSchema = RouteSchema>(path: P, options: RouteOptions<S> | Handler<RouteSchema, P>, handler?: Handler<S, P>): this {
    return this.route('POST', path, options, handler);
  }
  put<P extends string, S extends RouteSchema = RouteSchema>(path: P, options: RouteOptions<S> | Handler<RouteSchema, P>, handler?: Handler<S, P>): this {
    return this.route('PUT', path, options, handler);
  }
  patch<P extends string, S extends RouteSchema = RouteSchema>(path: P, options: RouteOptions<S> | Handler<RouteSchema, P>, handler?: Handler<S, P>): this {
    return this.route('PATCH', path, options, handler);
  }
  delete<P extends string, S extends RouteSchema = RouteSchema>(path: P, options: RouteOptions<S> | Handler<RouteSchema, P>, handler?: Handler<S, P>): this {
    return this.route('DELETE', path, options, handler);
  }
  options<P extends string, S extends RouteSchema = RouteSchema>(path: P, options: RouteOptions<S> | Handler<RouteSchema, P>, handler?: Handler<S, P>): this {
    return this.route('OPTIONS', path, options, handler);
  }
  head<P extends string, S extends RouteSchema = RouteSchema>(path: P, options: RouteOptions<S> | Handler<RouteSchema, P>, handler?: Handler<S, P>): this {
    return this.route('HEAD', path, options, handler);
  }
  all<P extends string, S extends RouteSchema = RouteSchema>(path: P, options: RouteOptions<S> | Handler<RouteSchema, P>, handler?: Handler<S, P>): this {
    return this.route(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], path, options, handler);
  }

  /** A group of routes under `prefix` with middleware of its own (added after the app's). */
  group(prefix: string, define: (g: App) => void): this {
    const sub = new App(this.config);
    sub.#prefix = this.#prefix + prefix.replace(/\/$/, '');
    sub.#middleware = [...this.#middleware];
    sub.#hooks = this.#hooks;
    define(sub);
    const at = (pattern: string) => prefix.replace(/\/$/, '') + (pattern === '/' ? '' : pattern);
    for (const r of sub.router.routes()) this.router.add(r.method, at(r.pattern), r.store);
    for (const r of sub.wsRouter.routes()) this.wsRouter.add(r.method, at(r.pattern), r.store);
    return this;
  }

  /**
   * A WebSocket route (HTTP/1.1 Upgrade and HTTP/2 extended CONNECT), with typed params, the app's
   * middleware and the route's deps, `requires` and schemas run before the upgrade.
   *
   * @example
   * ```ts
   * const auth = jwtAuth({ keys });
   * app.ws('/chat/{room:slug}', { deps: [auth], perMessageDeflate: true, maxMessageSize: 64 * 1024, open(ws, ctx) {
   *   rooms.join(ws, ctx.params.room, { name: (ctx.state.user as { sub: string }).sub });
   * } });
   * ```
   */
  ws<P extends string, S extends RouteSchema = RouteSchema>(path: P, handlers: WsRouteHandlers<P, S>): this {
    const h = handlers as unknown as WsRouteHandlers;
    const where = `WS ${this.#prefix}${path}`;
    if (h.schema?.body !== undefined) throw new SchemaError(`${where}: an upgrade request has no body to validate`);
    const options: RouteOptions = { ...(h.deps === undefined ? {} : { deps: h.deps }), ...(h.requires === undefined ? {} : { requires: h.requires }), ...(h.schema === undefined ? {} : { schema: h.schema }) };
    const compiled = this.#prepare(where, path, options);
    this.wsRouter.add('GET', path, { handler: acceptUpgrade, middleware: [...this.#middleware], hooks: this.#hooks, options, compiled, checkResponse: false, status: 200, ws: h });
    return this;
  }

  /**
   * The verdict on an upgrade request (HTTP/1.1 or HTTP/2): routed, then run through the app's middleware
   * and the route's steps on a response that goes nowhere; if they let it through, the upgrade happens
   * with the route's settings, else what they answered is sent instead.
   */
  #upgrade = (req: Http1Request): Promise<WsVerdict> => {
    if (this.#builtins !== null) this.#start();
    if (this.#tracing !== null && this.#tracing.enabled()) return this.#tracing.request(req, null, (token) => this.#upgradeRouted(req, token, performance.now()));
    return this.#upgradeRouted(req, null, -1);
  };

  async #upgradeRouted(req: Http1Request, token: unknown, startedAt: number): Promise<WsVerdict> {
    const found = this.wsRouter.find('GET', req.url);
    if (startedAt >= 0) this.#tracing!.routed(token, req, found.status === 200 ? found.pattern : '', startedAt);
    if (found.status !== 200) return found.status === 308 ? { status: 308, headers: { location: found.location } } : { status: found.status === 405 ? 404 : found.status };
    const captured = captureResponse(false);
    const ctx = new Context(req, captured.res, found.params, found.pattern, found.query, this.#ctxConfig);
    ctx.entry = found.store;
    await this.#runChain(ctx, found.store.middleware, found.store.hooks, this.#invoke);
    if (!ACCEPTED.has(ctx)) {
      const r = captured.result();
      return { status: r.status || 500, headers: Object.fromEntries(Object.entries(r.headers).filter(([k]) => !HOP_BY_HOP.has(k))), body: r.text() };
    }
    const route = found.store.ws;
    return { options: connectionOptions(route), onConnection: (ws) => route.open(ws, ctx) };
  }

  /** Handles one request (any protocol): routing, middleware, the handler, and error answers. */
  handle = (req: Http1Request, res: AnyResponse): void | Promise<void> => {
    if (this.#builtins !== null) this.#start();
    if (this.#tracing !== null && this.#tracing.enabled()) return this.#tracing.request(req, res, (token) => this.#dispatch(req, res, token, performance.now()));
    return this.#dispatch(req, res, null, -1);
  };

  /** Routes and runs a request; `startedAt` ≥ 0 when traced (when routing began; `token` is the tracer's). */
  #dispatch(req: Http1Request, res: AnyResponse, token: unknown, startedAt: number): void | Promise<void> {
    const found = this.router.find(req.method, req.url);
    if (startedAt >= 0) this.#tracing!.routed(token, req, found.status === 200 ? found.pattern : '', startedAt);
    if (found.status !== 200) {
      const ctx = new Context(req, res, {}, '', '', this.#ctxConfig);
      return this.#runChain(ctx, this.#middleware, this.#hooks, (c) => this.#answerUnrouted(c, found));
    }
    const ctx = new Context(req, res, found.params, found.pattern, found.query, this.#ctxConfig);
    if (this.#versioning !== null) {
      const picked = this.#pickVersion(ctx, found.store, found.query);
      if (picked instanceof HttpError) {
        return this.#runChain(ctx, this.#middleware, this.#hooks, () => {
          throw picked;
        });
      }
      ctx.entry = picked;
      return this.#runChain(ctx, picked.middleware, picked.hooks, this.#invoke);
    }
    ctx.entry = found.store;
    return this.#runChain(ctx, found.store.middleware, found.store.hooks, this.#invoke);
  }

  #tracing: RequestTracing | null = null;

  /** @internal Installed by `tracing(app)`: a span around each request. */
  setTracing(t: RequestTracing | null): void {
    this.#tracing = t;
  }

  /**
   * The innermost step for a request no route takes (404, 405 with Allow, 400, 308): answered, not thrown —
   * middleware around it completes normally and sees the status — and, like every answered error, shown
   * to the onError hooks. The error object is made only when a hook will see it.
   */
  #answerUnrouted(ctx: Context, found: Exclude<RouteResult<RouteEntry>, { status: 200 }>): void {
    const headers: Record<string, string> = found.status === 405 ? { allow: found.allowed.join(', ') } : {};
    if (found.status === 308) headers.location = found.location;
    const fields = found.status === 400 ? { detail: found.error } : {};
    if (this.#hooks.onError.length > 0) tellErrorHooks(ctx, this.#hooks, answerError(found.status, fields, headers));
    sendProblem(ctx.res, found.status, { ...fields, instance: ctx.req.path }, headers);
  }

  /** The innermost step of every route's chain, shared (no closure per request). */
  readonly #invoke = (ctx: Context): void | Promise<void> => this.#runRoute(ctx);

  /**
   * Deps and authorization (who may ask comes first: 401/403 before any 422), validation, preHandler
   * hooks, the handler, and sending what it returned. Synchronous as long as every step is (the common
   * case: no promise, no microtask turn); the first step that returns a promise hands the rest to an async
   * continuation.
   */
  #runRoute(ctx: Context): void | Promise<void> {
    const { options } = ctx.entry!;
    if (options.deps !== undefined || options.requires !== undefined) return this.#authorizeThenRoute(ctx);
    return this.#validateThenRoute(ctx);
  }

  async #authorizeThenRoute(ctx: Context): Promise<void> {
    const { options } = ctx.entry!;
    if (options.deps !== undefined) for (const d of options.deps) await ctx.use(d);
    if (options.requires !== undefined) await this.config.authorize!(ctx, options.requires);
    if (ctx.res.finished) return;
    await this.#validateThenRoute(ctx);
  }

  #validateThenRoute(ctx: Context): void | Promise<void> {
    const { compiled, hooks, options } = ctx.entry!;
    if (compiled !== null) {
      const pending = validate(ctx, compiled, options.bodyLimit); // synchronous unless there is a body to read
      if (pending !== undefined) return this.#runRouteAsync(ctx, pending);
    }
    if (hooks.preHandler.length > 0) return this.#runRouteAsync(ctx, undefined);
    return this.#callHandler(ctx);
  }

  async #runRouteAsync(ctx: Context, pending: Promise<void> | undefined): Promise<void> {
    const { hooks } = ctx.entry!;
    if (pending !== undefined) await pending;
    for (const h of hooks.preHandler) {
      await h(ctx);
      if (ctx.res.finished) return;
    }
    await this.#callHandler(ctx);
  }

  #callHandler(ctx: Context): void | Promise<void> {
    const entry = ctx.entry!;
    if (entry.status !== 200 && ctx.res.statusCode === 200) ctx.res.statusCode = entry.status;
    const out: unknown = entry.handler(ctx);
    // A sync handler's value is used without a microtask turn; any thenable is awaited.
    if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') return this.#replyLater(ctx, out as PromiseLike<unknown>);
    return this.#reply(ctx, out);
  }

  async #replyLater(ctx: Context, out: PromiseLike<unknown>): Promise<void> {
    await this.#reply(ctx, await out);
  }

  /** Sends what the handler returned (nothing when it returned undefined or answered itself). */
  #reply(ctx: Context, out: unknown): void | Promise<void> {
    const res = ctx.res;
    if (out === undefined || res.finished || (typeof out === 'object' && out !== null && (out as Record<symbol, unknown>)[ANSWERED] === true)) return;
    const compression = this.#compression;
    if (isStreamBody(out)) return streamBody(ctx, out, compression);
    const { compiled, hooks, checkResponse } = ctx.entry!;
    const body = serialize(ctx, out, compiled?.response);
    if (checkResponse && typeof out === 'object' && !(out instanceof Uint8Array)) checkResponseBody(ctx, compiled!, body);
    if (hooks.onSend.length > 0) return this.#sendAfterHooks(ctx, body, hooks.onSend);
    return send(ctx, body, this.config.etag === true, compression);
  }

  async #sendAfterHooks(ctx: Context, body: string | Uint8Array, onSend: RouteHooks['onSend']): Promise<void> {
    for (const h of onSend) body = (await h(ctx, body)) ?? body;
    await send(ctx, body, this.config.etag === true, this.#compression);
  }

  /**
   * Runs the middleware chain around `last`. Synchronous when every level is (no promise, no microtask
   * turn: a sync middleware's `next()` answers one shared resolved promise); from the first promise on,
   * the rest completes asynchronously and the returned promise tells when. It never rejects: failures
   * are answered here (an error response, or `res.destroy` when the head was already sent).
   */
  #runChain(ctx: Context, chain: Middleware[], hooks: RouteHooks, last: (ctx: Context) => void | Promise<void>): void | Promise<void> {
    let out: void | Promise<void>;
    try {
      out = chain.length === 0 ? last(ctx) : dispatch(ctx, chain, 0, last);
    } catch (err) {
      this.#chainFailed(ctx, hooks, err);
      return;
    }
    if (out !== undefined) {
      // Both producers (dispatch, the route step) answer native promises or nothing.
      return out.then(
        () => this.#chainDone(ctx, hooks),
        (err: unknown) => this.#chainFailed(ctx, hooks, err),
      );
    }
    this.#chainDone(ctx, hooks);
  }

  /** A chain that completed: a handler that neither returned a value nor answered gets an empty 200. */
  #chainDone(ctx: Context, hooks: RouteHooks): void {
    if (ctx.res.finished || ctx.res.headersSent) return;
    try {
      ctx.res.end();
    } catch (err) {
      this.#chainFailed(ctx, hooks, err);
    }
  }

  #chainFailed(ctx: Context, hooks: RouteHooks, err: unknown): void {
    const res = ctx.res;
    try {
      ctx.failDeps(err);
      tellErrorHooks(ctx, hooks, err);
      this.#answerError(ctx, err);
    } catch (inner) {
      this.#logError(inner, ctx);
    }
    // Failed mid-body (or the answer itself failed): only the protocol layer can signal it now.
    if (!res.finished) res.destroy(err instanceof Error ? err : new Error(String(err)));
  }

  /** Server-side failures go to `onError` (default: one JSON line through the request's logger). */
  #logError(err: unknown, ctx: Context): void {
    if (this.config.onError !== undefined) this.config.onError(err, ctx);
    else ctx.log.error({ err, method: ctx.req.method, path: ctx.req.path, route: ctx.route === '' ? null : ctx.route }, 'request failed');
  }

  #answerError(ctx: Context, err: unknown): void {
    const res = ctx.res;
    // An error that says what to answer (database errors: a client's data error, or overload) — its own
    // text (which may echo values) goes to the log with the request id, never to the client.
    const problem = err instanceof HttpError ? undefined : problemOf(err);
    if (problem !== undefined) {
      // Overload (503) and a client's data are expected outcomes, not bugs: a warning, not onError.
      if (problem.status >= 500 && problem.status !== 503) this.#logError(err, ctx);
      else if (problem.status === 503) ctx.log.warn({ code: (err as { code?: unknown }).code, method: ctx.req.method, path: ctx.req.path }, 'overloaded: answered 503');
      else ctx.log.warn({ err, method: ctx.req.method, path: ctx.req.path, route: ctx.route === '' ? null : ctx.route }, 'database refused the request\'s data');
      if (res.headersSent) return;
      sendProblem(res, problem.status, { ...problem.fields, instance: ctx.req.path }, problem.headers ?? {});
      return;
    }
    const status = err instanceof HttpError ? err.status : typeof (err as { status?: unknown })?.status === 'number' ? ((err as { status: number }).status) : 500;
    if (status >= 500) this.#logError(err, ctx);
    if (res.headersSent) return; // nothing more can be said; the protocol layer ends the stream/connection
    const fields = err instanceof HttpError ? err.fields : status < 500 ? { detail: (err as Error).message } : {};
    const dev = this.config.dev === true && status >= 500 ? { detail: (err as Error)?.message, stack: (err as Error)?.stack } : {};
    sendProblem(res, status, { ...fields, ...dev, instance: ctx.req.path }, err instanceof HttpError ? err.headers : {});
  }

  /**
   * Every route, built-ins included (health, OpenAPI, docs, metrics): method, pattern, typed params,
   * what guards it, summary. Call it once the routes are added. `covet routes` prints this.
   *
   * @example
   * ```ts
   * for (const r of app.routes()) console.log(r.method, r.pattern, r.auth.join(' + '));
   * ```
   */
  routes(): RouteListing[] {
    this.#start();
    return listRoutes(this.router.routes(), this.wsRouter.routes());
  }

  /** Runs a request through the full pipeline without a socket (for tests). */
  inject(options: InjectOptions): Promise<InjectResponse> {
    this.#start();
    return inject(this.handle, options);
  }

  /** Serves HTTP/1.1, h2c (prior knowledge or Upgrade) and, with `tls`, h2 via ALPN, on one port. */
  async listen(options: ListenOptions & Http1ServerOptions & Http2SessionOptions = {}): Promise<Server> {
    const workers = options.workers ?? 1;
    if (workers > 1 && cluster.isPrimary) return this.#listenPrimary(workers);
    // Every upgrade is routed and checked by #upgrade, which names the route's connection handler.
    const wsOptions: WsServerOptions = { verify: this.#upgrade, onConnection: (ws) => ws.close(1011) };
    this.#start(); // route conflicts with the built-ins surface here, before serving
    // The chain's promise never rejects (failures are answered inside): the server need not watch it.
    const serve = (req: Http1Request, res: AnyResponse): void => void this.handle(req, res);
    const server = createServer(serve, {
      ...options,
      onUpgrade: webSocketUpgrade(wsOptions),
      onConnect: webSocketOverHttp2(wsOptions),
    });
    await server.listen({ port: options.port ?? 3000, host: options.host });
    this.#server = server;
    this.#keepAliveMs = options.keepAliveTimeout ?? 5000;
    return server;
  }

  /** Forks `workers` processes (each runs the script and listens) and resolves once all listen. */
  async #listenPrimary(workers: number): Promise<Server> {
    const listening = new Promise<AddressInfo>((resolve) => {
      let n = 0;
      let first: AddressInfo | undefined;
      const onListening = (_w: unknown, a: { address: string; port: number }): void => {
        first ??= { address: a.address, port: a.port, family: 'IPv4' };
        if (++n === workers) {
          cluster.off('listening', onListening);
          resolve(first);
        }
      };
      cluster.on('listening', onListening);
    });
    const handle = startCluster({ workers, main: () => {}, log: (m) => console.log(m) });
    const server = new ClusterPrimary(await listening, handle);
    this.#server = server;
    this.#primary = true;
    return server;
  }

  /** The listening server (after `listen`), e.g. for its open `connections`. */
  get server(): Server | null {
    return this.#server;
  }

  /** True once `close()` has begun: readiness checks fail so load balancers stop sending traffic. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Closes gracefully on SIGTERM/SIGINT, then exits: stop accepting, answer new requests on kept-alive
   * connections with 503 + `Connection: close` (HTTP/2: GOAWAY), let in-flight requests finish within
   * `graceMs` (default 30 s), keep idle keep-alive connections until the advertised keep-alive timeout
   * (`idleLingerMs`; a client reusing one meanwhile gets that 503 instead of a reset), run `beforeExit`
   * (close the database...), and log progress. A second signal exits at once.
   *
   * @example
   * ```ts
   * await app.listen({ port: 3000 });
   * app.closeOnSignals({ graceMs: 10_000 });
   * ```
   */
  closeOnSignals(options: { graceMs?: number; idleLingerMs?: number; signals?: readonly NodeJS.Signals[]; log?: (msg: string) => void; beforeExit?: () => unknown } = {}): this {
    if (this.#primary) return this; // a cluster primary already stops its workers on these signals
    const log = options.log ?? ((m: string) => console.log(m));
    const graceMs = options.graceMs ?? 30_000;
    let closing = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (closing) {
        log(`${sig} again: exiting now`);
        process.exit(1);
      }
      closing = true;
      const open = this.#server?.connections.size ?? 0;
      log(`${sig}: closing — no new connections, ${open} open, in-flight requests get up to ${graceMs} ms`);
      const t0 = Date.now();
      // Idle keep-alive connections stay until the keep-alive timeout the server advertised: a client may
      // reuse one until then, and gets a 503 + Connection: close rather than a reset. Under covet dev, at
      // once: a browser's next request must reach the new code.
      const idleLingerMs = options.idleLingerMs ?? (process.env.COVET_DEV_ENTRY !== undefined ? 0 : this.#keepAliveMs);
      void this.close(graceMs, { idleLingerMs })
        .then(() => options.beforeExit?.()) // e.g. close database sessions once requests are done
        .then(
          () => {
            log(`closed in ${Date.now() - t0} ms`);
            process.exit(0);
          },
          (err: unknown) => {
            log(`closing failed: ${(err as Error).message}`);
            process.exit(1);
          },
        );
    };
    for (const sig of options.signals ?? ['SIGTERM', 'SIGINT']) process.on(sig, onSignal);
    return this;
  }

  /**
   * Graceful close: in-flight requests finish within `graceMs`; idle keep-alive connections close at once,
   * or after `idleLingerMs` (see `CloseOptions`).
   */
  close(graceMs = 30_000, options: { idleLingerMs?: number } = {}): Promise<void> {
    this.#closing = true;
    return this.#server?.close({ graceMs, ...options }) ?? Promise.resolve();
  }
}

/** Marks a value a handler may return that answers by itself (an SSE stream): it is not serialized. */
const ANSWERED = Symbol.for('covet.answered');

/** What an error says to answer, when it has `toProblem()` (database errors: data errors, overload). */
function problemOf(err: unknown): { status: number; fields: ProblemFields; headers?: Record<string, string> } | undefined {
  if (err === null || typeof err !== 'object' || typeof (err as { toProblem?: unknown }).toProblem !== 'function') return undefined;
  const p = (err as { toProblem(): unknown }).toProblem() as { status?: unknown; fields?: ProblemFields; headers?: Record<string, string> } | undefined;
  return p !== undefined && typeof p.status === 'number' ? { status: p.status, fields: p.fields ?? {}, ...(p.headers === undefined ? {} : { headers: p.headers }) } : undefined;
}

/** A params schema may only name parameters the path has: any other could never be present (a 422 for ever). */
function checkParamsSchema(schema: TSchema, pattern: string, where: string): void {
  const names = new Set(parsePattern(pattern).flatMap((t) => (t.kind === 'param' ? [t.name] : [])));
  const props = Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {});
  const stray = props.filter((n) => !names.has(n));
  if (stray.length > 0) {
    const have = names.size === 0 ? 'the path has no parameters' : `its parameters: ${[...names].join(', ')}`;
    throw new SchemaError(`${where}: the params schema names ${stray.map((n) => `"${n}"`).join(', ')}, not in the path (${have})`);
  }
}

/**
 * With `checkResponses`: the JSON about to be sent must match the response schema of its status. The
 * serialized form is checked (parsed back), since that is what the schema describes: a `Date` is its ISO
 * string there, and a property the serializer dropped is absent.
 */
function checkResponseBody(ctx: Context, compiled: CompiledSchema, body: string | Uint8Array): void {
  const status = ctx.res.statusCode;
  const check = compiled.responseChecks?.[status];
  if (check === undefined || typeof body !== 'string') return;
  const errors: FieldError[] = [];
  checkPart('response', check, JSON.parse(body) as unknown, errors);
  if (errors.length > 0) throw responseMismatch(status, errors);
}

/** Checks a request against its route's compiled schema (after middleware, before the handler). */
function validate(ctx: Context, c: CompiledSchema, limit: number | undefined): void | Promise<void> {
  const errors: FieldError[] = [];
  if (c.params !== null) ctx.params = checkPart('params', c.params.check, c.params.convert(ctx.params, true), errors) as Params;
  if (c.query !== null) ctx.query = checkPart('query', c.query.check, c.query.convert(ctx.query, true), errors) as Record<string, string | string[]>;
  if (c.headers !== null) checkPart('headers', c.headers.check, c.headers.convert(ctx.req.headers, false), errors);
  if (c.body !== null) return validateBody(ctx, c, errors, limit);
  if (errors.length > 0) throw validationError(errors);
}

/**
 * The body part of `validate`, the only part that waits: JSON, or an urlencoded form (its strings
 * converted to the declared types like the query's). Anything else is a 415; over `limit` bytes, a 413.
 */
async function validateBody(ctx: Context, c: CompiledSchema, errors: FieldError[], limit: number | undefined): Promise<void> {
  const type = ctx.req.get('content-type');
  const consumes = c.consumes;
  if (type === undefined) throw unsupportedMediaType(undefined, consumes, ctx.req.method);
  // One media type, well formed (a repeated header arrives joined with a comma: a list, refused).
  const media = parseMediaType(type);
  if (media === null) throw answerError(400, { detail: 'Content-Type must be one well-formed media type (RFC 9110 §8.3)' });
  const charset = media.params.charset?.toLowerCase();
  let value: unknown;
  if (isJsonType(media.essence) && consumes.some((t) => t === media.essence || (t === 'application/json' && media.essence.endsWith('+json')))) {
    if (charset !== undefined && charset !== 'utf-8') throw unsupportedMediaType(type, consumes, ctx.req.method);
    value = await readJson(ctx, limit);
  } else if (media.essence === 'application/x-www-form-urlencoded' && consumes.includes(media.essence)) value = c.form!(await ctx.form(limit), true);
  else throw unsupportedMediaType(type, consumes, ctx.req.method);
  if (c.bodyDefaults !== null) value = c.bodyDefaults(value);
  ctx.body = checkPart('body', c.body!, value, errors);
  if (errors.length > 0) throw validationError(errors);
  // After the check, so `additionalProperties: false` still refuses what it names.
  if (c.bodyStrip !== null) c.bodyStrip(ctx.body);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** A JSON body: invalid UTF-8 is a 400 (never stored with U+FFFD in its place), as is invalid JSON. */
async function readJson(ctx: Context, limit: number | undefined): Promise<unknown> {
  const bytes = await ctx.req.buffer(limit);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw answerError(400, { detail: 'the JSON body is not valid UTF-8 (RFC 8259 §8.1)' });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw answerError(400, { detail: `invalid JSON body: ${(err as Error).message}` });
  }
}

type StreamBody = AsyncIterable<unknown> & { destroy?: (err?: Error) => void };

/** A Node Readable, a web ReadableStream, or any async iterable of chunks (strings and byte arrays are values, not streams). */
function isStreamBody(out: unknown): out is StreamBody {
  return typeof out === 'object' && out !== null && !(out instanceof Uint8Array) && typeof (out as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

/**
 * Streams a body chunk by chunk (chunked on HTTP/1.1, DATA frames on HTTP/2), waiting for `drain` when the
 * peer is slow, and stopping — the source destroyed — when the peer goes away.
 */
async function streamBody(ctx: Context, body: StreamBody, compression: CompressionOptions | undefined): Promise<void> {
  const res = ctx.res;
  if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/octet-stream');
  let src = body;
  if (compression !== undefined) {
    const z = compressStream(ctx, compression);
    // The encoder flushes per write, so a slow stream (events, logs) reaches the client as it is produced.
    if (z !== null) src = pipeline(Readable.from(body), z, () => {}) as unknown as StreamBody;
  }
  let gone = false;
  res.once('close', () => (gone = true));
  for await (const chunk of src) {
    if (gone) break; // leaving the loop returns the iterator, which destroys a Readable
    if (!res.write(typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : String(chunk))) await res.drained();
  }
  if (gone) src.destroy?.();
  else res.end();
}

/** A zlib encoder when the streamed body should be compressed (same rules as whole bodies, no threshold). */
function compressStream(ctx: Context, o: CompressionOptions): Transform | null {
  const enc = chooseEncoding(ctx, o, undefined);
  if (enc === undefined) return null;
  return enc === 'br'
    ? zlib.createBrotliCompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH, params: { [zlib.constants.BROTLI_PARAM_QUALITY]: o.brotliQuality ?? 4 } })
    : zlib.createGzip({ flush: zlib.constants.Z_SYNC_FLUSH, level: o.gzipLevel ?? 6 });
}

/** A handler's return value as bytes or text (object → JSON, string → text, bytes as-is), typing the response. */
function serialize(ctx: Context, out: unknown, serializers: Record<number, Serializer> | null | undefined): string | Uint8Array {
  let body: string | Uint8Array;
  let type: string;
  if (typeof out === 'string') {
    body = out;
    type = 'text/plain; charset=utf-8';
  } else if (out instanceof Uint8Array) {
    body = out;
    type = 'application/octet-stream';
  } else {
    const ser = serializers?.[ctx.res.statusCode];
    body = ser === undefined ? JSON.stringify(out) : ser(out);
    type = 'application/json; charset=utf-8';
  }
  if (!ctx.res.hasHeader('content-type')) ctx.res.appendHeader('content-type', type); // absent: nothing to replace
  return body;
}

/**
 * Sends a serialized handler result. A successful GET/HEAD carrying an ETag (set by the handler, or
 * computed when the app has `etag: true`) is answered 304 without a body when the client's
 * `If-None-Match` matches it (RFC 9110 §13.1.2).
 */
function send(ctx: Context, body: string | Uint8Array, etag: boolean, compression: CompressionOptions | undefined): void | Promise<void> {
  const res = ctx.res;
  const method = ctx.req.method;
  if (res.statusCode === 200 && (method === 'GET' || method === 'HEAD')) {
    let tag = res.getHeader('etag');
    if (tag === undefined && etag) res.setHeader('etag', (tag = computeEtag(body)));
    const inm = tag === undefined ? undefined : ctx.req.get('if-none-match');
    if (inm !== undefined && etagMatches(inm, tag!)) {
      res.statusCode = 304;
      res.removeHeader('content-type');
      res.end();
      return;
    }
  }
  if (compression !== undefined) return sendCompressed(ctx, body, compression);
  res.end(body);
}

function sendCompressed(ctx: Context, body: string | Uint8Array, o: CompressionOptions): void | Promise<void> {
  const res = ctx.res;
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const enc = chooseEncoding(ctx, o, bytes.byteLength);
  if (enc === undefined) {
    res.end(bytes);
    return;
  }
  if (!shouldCompressAsync(bytes.byteLength)) return res.end(compressSync(bytes, enc, o));
  return compressAsync(bytes, enc, o).then((out) => res.end(out));
}

/**
 * Decides the content coding of a response about to be sent (`size` undefined for a stream: no
 * threshold). Sets `Vary` whenever the answer depends on Accept-Encoding, and, when encoding, sets
 * `Content-Encoding`, drops a now-wrong `Content-Length`, and weakens a strong ETag (RFC 9110 §8.8.3.3:
 * the encoded bytes are another representation). `undefined` means identity.
 */
function chooseEncoding(ctx: Context, o: CompressionOptions, size: number | undefined): Encoding | undefined {
  const res = ctx.res;
  const status = res.statusCode;
  if (status === 204 || status === 304 || res.hasHeader('content-encoding') || !isCompressible(res.getHeader('content-type'))) return undefined;
  ctx.vary('Accept-Encoding');
  if (size !== undefined && size < (o.threshold ?? 1024)) return undefined;
  const enc = negotiateEncoding(ctx.req.get('accept-encoding'), o.encodings ?? ['br', 'gzip']);
  if (enc === undefined) return undefined;
  res.setHeader('content-encoding', enc);
  res.removeHeader('content-length');
  const tag = res.getHeader('etag');
  if (tag !== undefined && !tag.startsWith('W/')) res.setHeader('etag', `W/${tag}`);
  return enc;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Headers of a captured answer that describe its own framing, not the refusal: the ws layer frames it. */
const HOP_BY_HOP = new Set(['content-length', 'connection', 'transfer-encoding', 'keep-alive', 'date']);

/**
 * Level `i` of a middleware chain: calls the middleware with its `next`, which runs level `i + 1` (or
 * `last`). A level adds no promise of its own beyond what its middleware returns.
 */
function dispatch(ctx: Context, chain: Middleware[], i: number, last: (ctx: Context) => void | Promise<void>): void | Promise<void> {
  if (i === chain.length) return last(ctx);
  let called = false;
  try {
    const out = chain[i]!(ctx, () => {
      if (called) return Promise.reject(new Error('next() called twice'));
      called = true;
      return dispatch(ctx, chain, i + 1, last) ?? RESOLVED;
    });
    // RESOLVED is what a synchronous rest of the chain answered: a middleware that returned `next()`
    // keeps the chain synchronous.
    if (out === RESOLVED || out === null || typeof out !== 'object' || typeof (out as PromiseLike<void>).then !== 'function') return undefined;
    return Promise.resolve(out as PromiseLike<void>);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Shows an answered error to the onError hooks; a failing hook is logged and does not stop the others. */
function tellErrorHooks(ctx: Context, hooks: RouteHooks, err: unknown): void {
  for (const h of hooks.onError) {
    try {
      h(ctx, err);
    } catch (hookErr) {
      ctx.log.error({ err: hookErr }, 'onError hook failed');
    }
  }
}

/** Creates an application. */
export function createApp(options: AppOptions = {}): App {
  return new App(options);
}

/** What a version's OpenAPI document adds to each versioned operation: the version parameter, deprecation. */
function versionDoc(v: Versioning, i: number): { parameter?: Record<string, unknown>; deprecated?: boolean } {
  const name = v.versions[i]!;
  const by = v.options.by;
  const parameter =
    by === 'header'
      ? { name: v.options.header ?? 'Accept-Version', in: 'header', required: v.fallback < 0, schema: { type: 'string', const: name } }
      : by === 'query'
        ? { name: v.options.param ?? 'version', in: 'query', required: v.fallback < 0, schema: { type: 'string', const: name } }
        : undefined;
  return { ...(parameter === undefined ? {} : { parameter }), deprecated: v.options.deprecated?.[name] !== undefined };
}
