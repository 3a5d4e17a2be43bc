/**
 * The application core: routes (on `covet/router`), onion middleware and lifecycle hooks, route groups,
 * WebSocket routes, errors as problem+json, one `handle` for HTTP/1.1 and HTTP/2 requests, and plugins
 * (plugin.ts) — the one way features attach. `listen` serves HTTP/1.1, h2c and (with `tls`) h2 on one
 * port; `inject` runs a request through the whole pipeline without a socket. The core imports no feature:
 * OpenAPI serving, versioning, GraphQL, tracing, metrics and the rest are plugins on it.
 */
import type { Http1Request, Http1ServerOptions } from '../http1/index.js';
import cluster from 'node:cluster';
import { createServer, type Http2SessionOptions } from '../http2/index.js';
import type { Server } from '../net/index.js';
import type { Router, RouteInfo } from '../router/index.js';
import { webSocketOverHttp2, webSocketUpgrade, type WsServerOptions } from '../ws/index.js';
import type { AnyResponse, Context } from './context.js';
import type { Prefixed, Typed, WithRoute } from './typed-routes.js';
import { inject, type InjectOptions, type InjectResponse } from './inject.js';
import type { AppOptions, ListenOptions, RequestWrapper } from './options.js';
import { acceptUpgrade, AppState, Pipeline } from './pipeline.js';
import { listenCluster, onSignals, type SignalOptions } from './process-lifecycle.js';
import { listRoutes, type RouteListing } from './route-list.js';
import type { Handler, Hooks, Middleware, RouteDefinition, RouteEntry, RouteHooks, RouteOptions, WsRouteHandlers } from './route.js';
import { compileSchema, SchemaError, successStatus, type CompiledSchema, type RouteSchema, type SchemaTypes } from './schema.js';
import { checkParamsSchema } from './validate.js';

export type { AppOptions, ListenOptions, RequestWrapper } from './options.js';

/** A plugin: `(app, options) => void`, with a name for errors, and whether it is encapsulated. */
export interface Plugin<O = undefined> {
  (app: App, options: O): unknown;
  /** Named in errors (`plugin "graphql" failed: ...`). */
  readonly pluginName?: string;
  /** `false`: the plugin works on the app it is registered on, not a child scope. Default true. */
  readonly encapsulate?: boolean;
}

/**
 * A plugin's failure, naming it.
 *
 * @example
 * ```ts
 * const db = definePlugin('db', async (app) => {
 *   await connect(); // throws: connection refused
 * });
 * try {
 *   await createApp().register(db).ready();
 * } catch (err) {
 *   if (err instanceof PluginError) console.error(err.message, err.cause); // 'plugin "db" failed: connection refused'
 * }
 * ```
 */
export class PluginError extends Error {
  override name = 'PluginError';
  constructor(plugin: Plugin<never>, cause: unknown) {
    super(`plugin "${plugin.pluginName ?? (plugin.name || 'anonymous')}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** What `register` takes: the plugin's options, and where its routes go. */
export type RegisterOptions<O> = ([O] extends [undefined] ? unknown : Exclude<O, undefined>) & { prefix?: string };

/** Set while a child scope is constructed: the state it shares with its parent. */
let adopting: AppState | null = null;

const NO_HOOKS: RouteHooks = { preHandler: [], onSend: [], onError: [] };

type Ctx<S extends RouteSchema, P extends string> = Context<SchemaTypes<S, P>['params'], SchemaTypes<S, P>['query'], SchemaTypes<S, P>['body']>;
type Result<S extends RouteSchema, P extends string> = SchemaTypes<S, P>['result'] | Promise<SchemaTypes<S, P>['result']>;

/**
 * `app.get`, `app.post`, ...: adds a route for method(s) `M` and returns the app, its type now holding the
 * route (for `covet/client`). With `options.schema`, params/query/headers/body are validated (422 listing
 * every failing field) and their types flow into the handler; response schemas type what it returns.
 */
export interface RouteMethod<R extends object, M extends string> {
  <P extends string, Ret extends Result<RouteSchema, P>>(path: P, handler: (ctx: Ctx<RouteSchema, P>) => Ret): App<WithRoute<R, M, P, Typed<RouteSchema, P, Ret, 200>>>;
  <P extends string, S extends RouteSchema = RouteSchema, Ret extends Result<S, P> = Result<S, P>, St extends number = 200>(
    path: P,
    options: RouteOptions<S> & { status?: St },
    handler: (ctx: Ctx<S, P>) => Ret,
  ): App<WithRoute<R, M, P, Typed<S, P, Ret, St>>>;
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
export class App<R extends object = {}> {
  /** The routes added in a chain, as types (read by `covet/client`); nothing at run time. */
  declare readonly '~routes'?: R;
  readonly config: AppOptions;
  readonly #s: AppState;
  /** Handles one request (any protocol): routing, middleware, the handler, and error answers. */
  readonly handle: (req: Http1Request, res: AnyResponse) => void | Promise<void>;
  /** This scope's path prefix (groups, plugins registered with `prefix`). */
  #prefix = '';
  #middleware: Middleware[] = [];
  #hooks: RouteHooks = NO_HOOKS;
  #onRoute: Array<Hooks['onRoute']> = [];
  /** Set on the root scope only: what the pipeline reads for unrouted requests. */
  #root: { middleware: Middleware[]; hooks: RouteHooks } | null = null;

  constructor(options: AppOptions = {}) {
    this.config = options;
    const shared = adopting;
    adopting = null;
    if (shared !== null) this.#s = shared;
    else {
      this.#s = new AppState(options);
      // The root scope's lists, which requests no route takes run through (addHook keeps `hooks` current).
      this.#root = { middleware: this.#middleware, hooks: this.#hooks };
      this.#s.pipeline = new Pipeline(this.#s, options, () => this.#start(), this.#root);
    }
    this.handle = this.#s.pipeline.handle;
  }

  get router(): Router<RouteEntry> {
    return this.#s.router;
  }
  get wsRouter(): Router<RouteEntry & { ws: WsRouteHandlers }> {
    return this.#s.wsRouter;
  }

  /** A scope inside this one: its middleware and hooks so far, routes under `prefix`, the rest shared. */
  #child(prefix: string): App {
    adopting = this.#s;
    const c = new App(this.config);
    c.#prefix = this.#prefix + prefix.replace(/\/$/, '');
    c.#middleware = [...this.#middleware];
    c.#hooks = this.#hooks;
    c.#onRoute = [...this.#onRoute];
    return c;
  }

  /**
   * Runs a plugin (see plugin.ts) on a child scope — or on this app, for a plugin declared with
   * `encapsulate: false`. `options.prefix` puts its routes under a path. An async plugin is waited for by
   * `ready()`, `listen()` and `inject()`; its failure is theirs, naming the plugin.
   *
   * @example
   * ```ts
   * app.register(adminRoutes, { prefix: '/admin' });
   * ```
   */
  register<O>(plugin: Plugin<O>, ...rest: undefined extends O ? [options?: RegisterOptions<O>] : [options: RegisterOptions<O>]): this {
    const options = rest[0] as (O & { prefix?: string }) | undefined;
    const scope = plugin.encapsulate === false ? this : this.#child(options?.prefix ?? '');
    let out: unknown;
    try {
      out = plugin(scope, options as O);
    } catch (err) {
      throw new PluginError(plugin as Plugin<never>, err);
    }
    if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
      // Kept from rejecting (no unhandled rejection before anyone awaits): the failure is told by ready().
      this.#s.pending.push(Promise.resolve(out as PromiseLike<unknown>).then(undefined, (err: unknown) => void (this.#s.failure ??= new PluginError(plugin as Plugin<never>, err))));
    }
    return this;
  }

  /** Resolves once every plugin registered so far has finished; rejects with the first one's failure. */
  async ready(): Promise<this> {
    const s = this.#s;
    while (s.pending.length > 0) await Promise.all(s.pending.splice(0));
    if (s.failure !== null) throw s.failure;
    this.#start();
    return this;
  }

  /** Work to do once, when the app starts serving (listen, inject, the first request): add built-in routes. */
  onStart(fn: () => void): this {
    this.#s.onStart.push(fn);
    return this;
  }

  /** Work to do when the app closes, after the server (in reverse order of registration). */
  onClose(fn: () => unknown): this {
    this.#s.onClose.push(fn);
    return this;
  }

  /** Gives other plugins a value under `key` (`app.value(key)` finds it). */
  decorate(key: string | symbol, value: unknown): this {
    if (this.#s.values.has(key)) throw new Error(`app.decorate: "${String(key)}" is already set`);
    this.#s.values.set(key, value);
    return this;
  }

  /** A value a plugin gave (`decorate`), or undefined. */
  value<T>(key: string | symbol): T | undefined {
    return this.#s.values.get(key) as T | undefined;
  }

  /** Adds a member to every request's context, made on first use by `init` (`ctx.ext(name)`). */
  decorateContext<T>(name: string, init: (ctx: Context) => T): this {
    const members = this.#s.ctxConfig.members!;
    if (members.has(name)) throw new Error(`app.decorateContext: "${name}" is already a context member`);
    members.set(name, init);
    return this;
  }

  /** @internal Runs each request inside `w` (the tracing plugin). */
  wrapRequests(w: RequestWrapper | null): void {
    this.#s.wrapper = w;
  }

  #start(): void {
    const s = this.#s;
    if (s.started) return;
    s.started = true;
    for (const f of s.onStart) f();
  }

  /** Middleware for every route registered after this call (and for 404/405 answers). */
  use(mw: Middleware): this {
    this.#middleware.push(mw);
    return this;
  }

  /**
   * Adds a lifecycle hook for the routes registered after this call. `onMatch`, `onOpenApi`, `onReceive`
   * and `onListen` are the app's, whatever the order (plugins: versioning, OpenAPI parts, HTTP/3).
   *
   * @example
   * ```ts
   * app.addHook('preHandler', (ctx) => { if (!ctx.state.user) throw new HttpError(401); });
   * app.addHook('onResponse', (ctx) => stats.observe(ctx.route, ctx.res.statusCode));
   * ```
   */
  addHook<K extends keyof Hooks>(name: K, fn: Hooks[K]): this {
    switch (name) {
      case 'onRequest': {
        const hook = fn as Hooks['onRequest'];
        return this.use(async (ctx, next) => {
          await hook(ctx);
          if (!ctx.res.finished) await next();
        });
      }
      case 'onResponse': {
        const hook = fn as Hooks['onResponse'];
        return this.use((ctx, next) => {
          ctx.res.once('finish', () => hook(ctx));
          return next();
        });
      }
      case 'onRoute':
        this.#onRoute.push(fn as Hooks['onRoute']);
        return this;
      case 'onMatch':
        if (this.#s.onMatch !== null) throw new Error('addHook: the app already has an onMatch hook (one plugin picks among route variants)');
        this.#s.onMatch = fn as Hooks['onMatch'];
        return this;
      case 'onOpenApi':
        this.#s.onOpenApi.push(fn as Hooks['onOpenApi']);
        return this;
      case 'onReceive':
        this.#s.onReceive.push(fn as Hooks['onReceive']);
        return this;
      case 'onListen':
        this.#s.onListen.push(fn as Hooks['onListen']);
        return this;
    }
    const list = this.#hooks[name as keyof RouteHooks] as unknown[];
    this.#hooks = { ...this.#hooks, [name]: [...list, fn] }; // routes already added keep their lists
    if (this.#root !== null) this.#root.hooks = this.#hooks;
    return this;
  }

  /** The app's `onOpenApi` hooks (for the OpenAPI plugin). */
  openApiHooks(): ReadonlyArray<Hooks['onOpenApi']> {
    return this.#s.onOpenApi;
  }

  /**
   * Adds a route for one method or several (see {@link RouteMethod}).
   *
   * @example
   * ```ts
   * app.route(['GET', 'HEAD'], '/ping', () => 'pong');
   * ```
   */
  route<M extends string, P extends string, S extends RouteSchema = RouteSchema, Ret extends Result<S, P> = Result<S, P>, St extends number = 200>(
    method: M | readonly M[],
    path: P,
    options: (RouteOptions<S> & { status?: St }) | ((ctx: Ctx<S, P>) => Ret),
    handler?: (ctx: Ctx<S, P>) => Ret,
  ): App<WithRoute<R, M, P, Typed<S, P, Ret, St>>> {
    const opts = (typeof options === 'function' ? {} : options) as RouteOptions;
    const h = (typeof options === 'function' ? options : handler!) as Handler;
    const full = this.#full(path);
    const where = `${Array.isArray(method) ? method.join(',') : method} ${full}`;
    const compiled = this.#prepare(where, full, opts);
    const entry: RouteEntry = { handler: h, middleware: [...this.#middleware], hooks: this.#hooks, options: opts, compiled, checkResponse: this.#s.checkResponses && compiled?.response != null, status: successStatus(opts) };
    if (typeof opts.version === 'string' && this.#onRoute.length === 0) throw new Error(`${where}: "version" needs createApp({ versioning: { versions, by } })`);
    let defs: RouteDefinition[] = [{ method: method as string | string[], path: full, entry, where }];
    for (const hook of this.#onRoute) defs = defs.flatMap((d) => hook(d) ?? [d]);
    for (const d of defs) this.#s.router.add(d.method, d.path, d.entry);
    return this as unknown as never;
  }

  /** `path` under this scope's prefix. */
  #full(path: string): string {
    return this.#prefix === '' ? path : this.#prefix + (path === '/' ? '' : path);
  }

  /** What HTTP and WebSocket routes share when added: the schema compiled, and mistakes refused now. */
  #prepare(where: string, path: string, opts: RouteOptions): CompiledSchema | null {
    checkRouteKeys(where, opts);
    const compiled = opts.schema === undefined ? null : compileSchema(opts.schema, where);
    if (opts.requires !== undefined && this.config.authorize === undefined) throw new Error(`${where}: a route with "requires" needs createApp({ authorize }) (e.g. rbac(...).authorize)`);
    if (opts.schema?.params !== undefined) checkParamsSchema(opts.schema.params, path, where);
    return compiled;
  }

  readonly get: RouteMethod<R, 'GET'> = (path: string, options: RouteOptions | Handler, handler?: Handler) => this.route('GET', path, options, handler);
  readonly post: RouteMethod<R, 'POST'> = (path: string, options: RouteOptions | Handler, handler?: Handler) => this.route('POST', path, options, handler);
  readonly put: RouteMethod<R, 'PUT'> = (path: string, options: RouteOptions | Handler, handler?: Handler) => this.route('PUT', path, options, handler);
  readonly patch: RouteMethod<R, 'PATCH'> = (path: string, options: RouteOptions | Handler, handler?: Handler) => this.route('PATCH', path, options, handler);
  readonly delete: RouteMethod<R, 'DELETE'> = (path: string, options: RouteOptions | Handler, handler?: Handler) => this.route('DELETE', path, options, handler);
  readonly options: RouteMethod<R, 'OPTIONS'> = (path: string, options: RouteOptions | Handler, handler?: Handler) => this.route('OPTIONS', path, options, handler);
  readonly head: RouteMethod<R, 'HEAD'> = (path: string, options: RouteOptions | Handler, handler?: Handler) => this.route('HEAD', path, options, handler);
  /** GET, POST, PUT, PATCH, DELETE and OPTIONS. */
  readonly all: RouteMethod<R, 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS'> = (path: string, options: RouteOptions | Handler, handler?: Handler) =>
    this.route(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], path, options, handler);

  /**
   * A group of routes under `prefix` with middleware of its own (added after the app's). When `define`
   * returns the group's chain, its routes join the app's type (for `covet/client`).
   *
   * @example
   * ```ts
   * app.group('/admin', (g) => g.use(requireAdmin).get('/users', listUsers));
   * ```
   */
  group<Pre extends string, G extends object = {}>(prefix: Pre, define: (g: App) => App<G> | void): App<R & Prefixed<Pre, G>> {
    define(this.#child(prefix));
    return this as unknown as never;
  }

  /**
   * A WebSocket route (HTTP/1.1 Upgrade and HTTP/2 extended CONNECT), with typed params, the app's
   * middleware and the route's deps, `requires` and schemas run before the upgrade.
   *
   * @example
   * ```ts
   * app.ws('/chat/{room:slug}', { deps: [jwtAuth({ keys })], open(ws, ctx) { rooms.join(ws, ctx.params.room) } });
   * ```
   */
  ws<P extends string, S extends RouteSchema = RouteSchema>(path: P, handlers: WsRouteHandlers<P, S>): this {
    const h = handlers as unknown as WsRouteHandlers;
    const full = this.#full(path);
    const where = `WS ${full}`;
    checkWsRouteKeys(where, h);
    if (h.schema?.body !== undefined) throw new SchemaError(`${where}: an upgrade request has no body to validate`);
    const options: RouteOptions = { ...(h.deps === undefined ? {} : { deps: h.deps }), ...(h.requires === undefined ? {} : { requires: h.requires }), ...(h.schema === undefined ? {} : { schema: h.schema }) };
    const compiled = this.#prepare(where, full, options);
    if (typeof h.open !== 'function') throw new TypeError(`${where}: a WebSocket route needs open(ws, ctx), called for each connection`);
    this.#s.wsRouter.add('GET', full, { handler: acceptUpgrade, middleware: [...this.#middleware], hooks: this.#hooks, options, compiled, checkResponse: false, status: 200, ws: h });
    return this;
  }

  /**
   * Every route, built-ins included (health, OpenAPI, docs, metrics): method, pattern, typed params, what
   * guards it, summary. Call it once the routes are added. `covet routes` prints this.
   */
  routes(): RouteListing[] {
    this.#start();
    return listRoutes(this.#s.router.routes(), this.#s.wsRouter.routes());
  }

  /** Every HTTP route (built-ins included, once started), as the router holds them (for plugins: OpenAPI). */
  routeTable(): Array<RouteInfo<RouteEntry>> {
    return this.#s.router.routes();
  }

  /** Runs a request through the full pipeline without a socket (for tests). */
  async inject(options: InjectOptions): Promise<InjectResponse> {
    await this.ready();
    return inject(this.handle, options);
  }

  /**
   * Serves HTTP/1.1, h2c (prior knowledge or Upgrade) and, with `tls`, h2 via ALPN, on one port; then runs
   * the app's `onListen` hooks (the HTTP/3 plugin binds its UDP port there when given none).
   */
  async listen(options: ListenOptions & Http1ServerOptions & Http2SessionOptions = {}): Promise<Server> {
    const s = this.#s;
    if (options.path !== undefined && (options.port !== undefined || options.host !== undefined)) {
      throw new TypeError('listen: give a unix socket `path` or a `port` (and `host`), not both');
    }
    await this.ready(); // route conflicts with the built-ins surface here, before serving
    const workers = options.workers ?? 1;
    if (workers > 1 && cluster.isPrimary) for (const hook of s.onListen) await hook(null, options);
    const primary = workers > 1 ? await listenCluster(workers) : null;
    if (primary !== null) {
      s.server = primary;
      s.primary = true;
      return primary;
    }
    // Every upgrade is routed and checked by #upgrade, which names the route's connection handler.
    const wsOptions: WsServerOptions = { verify: this.#s.pipeline.upgrade, onConnection: (ws) => ws.close(1011) };
    // The chain's promise never rejects (failures are answered inside): the server need not watch it.
    const serve = (req: Http1Request, res: AnyResponse): void => void this.handle(req, res);
    const server = createServer(serve, { ...options, onUpgrade: webSocketUpgrade(wsOptions), onConnect: webSocketOverHttp2(wsOptions) });
    await server.listen(options.path !== undefined ? { path: options.path } : { port: options.port ?? 3000, host: options.host });
    // The app's onListen hooks (plugins that serve beside the TCP listener): a failure closes it again.
    try {
      for (const hook of s.onListen) await hook(server, options);
    } catch (err) {
      await server.close({ graceMs: 0 });
      throw err;
    }
    s.server = server;
    s.keepAliveMs = options.keepAliveTimeout ?? 5000;
    // A unix socket's peer has no address: unless the proxy in front is trusted, no request has a client address.
    if (options.path !== undefined && !s.ctxConfig.trusted('', 0)) {
      s.ctxConfig.logger().warn(
        { path: options.path },
        'listening on a unix socket with no trusted proxy: ctx.ip is undefined, and per-address rate limits let every request through; set trustProxy (1: the proxy in front)',
      );
    }
    return server;
  }

  /** The listening server (after `listen`), e.g. for its open `connections`. */
  get server(): Server | null {
    return this.#s.server;
  }

  /** True once `close()` has begun: readiness checks fail so load balancers stop sending traffic. */
  get closing(): boolean {
    return this.#s.closing;
  }

  /**
   * Closes gracefully on SIGTERM/SIGINT, then exits: stop accepting, answer new requests on kept-alive
   * connections with 503 + `Connection: close` (HTTP/2: GOAWAY), let in-flight requests finish within
   * `graceMs` (default 30 s), keep idle keep-alive connections until the advertised keep-alive timeout,
   * run `beforeExit` (close the database...), and log progress. A second signal exits at once.
   *
   * @example
   * ```ts
   * await app.listen({ port: 3000 });
   * app.closeOnSignals({ graceMs: 10_000 });
   * ```
   */
  closeOnSignals(options: SignalOptions = {}): this {
    const s = this.#s;
    if (s.primary) return this; // a cluster primary already stops its workers on these signals
    onSignals(options, () => s.server?.connections.size ?? 0, s.keepAliveMs, (graceMs, idleLingerMs) => this.close(graceMs, { idleLingerMs }));
    return this;
  }

  /**
   * Graceful close: in-flight requests finish within `graceMs`; idle keep-alive connections close at once,
   * or after `idleLingerMs`. Then the plugins' `onClose` work, last registered first.
   */
  async close(graceMs = 30_000, options: { idleLingerMs?: number } = {}): Promise<void> {
    const s = this.#s;
    s.closing = true;
    await s.server?.close({ graceMs, ...options });
    for (const f of s.onClose.splice(0).reverse()) await f();
  }
}

// Every key of RouteOptions and RouteSchema, held to the interfaces by the compiler: an option added there
// and not here fails to build.
const ROUTE_KEYS = new Set(Object.keys({ schema: 1, summary: 1, description: 1, tags: 1, operationId: 1, hide: 1, status: 1, bodyLimit: 1, version: 1, deprecated: 1, deps: 1, requires: 1 } satisfies Record<keyof RouteOptions, 1>));
const SCHEMA_KEYS = new Set(Object.keys({ params: 1, query: 1, headers: 1, body: 1, response: 1, multipart: 1, consumes: 1 } satisfies Record<keyof RouteSchema, 1>));

// Every key of a WebSocket route's declaration, held to WsRouteHandlers the same way.
const WS_ROUTE_KEYS = new Set(
  Object.keys({
    open: 1, deps: 1, requires: 1, schema: 1, summary: 1, description: 1, tags: 1, hide: 1, protocols: 1, perMessageDeflate: 1,
    maxMessageSize: 1, maxFragments: 1, fragmentSize: 1, closeTimeout: 1, heartbeatInterval: 1, maxBufferedAmount: 1, backpressurePolicy: 1,
  } satisfies Record<keyof WsRouteHandlers, 1>),
);
/** What a WebSocket emits: uWebSockets.js and Bun take `message`, `close`, `drain` … as handlers beside `open`. */
const WS_EVENTS = new Set(['message', 'close', 'drain', 'error', 'ping', 'pong']);

/**
 * Refuses what a WebSocket route does not take, when it is added: `{ open, message }` in the style of
 * uWebSockets.js or Bun was ignored — `message` never called, every message dropped — with nothing said.
 */
function checkWsRouteKeys(where: string, h: WsRouteHandlers): void {
  const key = unknownKey(h, WS_ROUTE_KEYS);
  if (key === undefined) return;
  const hint = WS_EVENTS.has(key) ? ` — a WebSocket route has one handler, open(ws, ctx); listen to the socket there: ws.on('${key}', ...)` : '';
  throw new Error(`${where}: unknown WebSocket route option "${key}"${hint} (options: ${[...WS_ROUTE_KEYS].join(', ')})`);
}

/** The first key of `obj` that is not in `known`. */
function unknownKey(obj: object, known: ReadonlySet<string>): string | undefined {
  for (const key of Object.keys(obj)) if (!known.has(key)) return key;
  return undefined;
}

/**
 * Refuses a route option or schema part the app does not know, when the route is added. Unchecked (plain
 * JavaScript, or a cast), `{ response: { 200: User } }` beside `schema` instead of in it was ignored: the
 * route served without its response schema, every property the handler returned included.
 */
function checkRouteKeys(where: string, opts: RouteOptions): void {
  const key = unknownKey(opts, ROUTE_KEYS);
  if (key !== undefined) {
    const hint = SCHEMA_KEYS.has(key) ? ` — it goes in the route's schema: { schema: { ${key}: ... } }` : '';
    throw new Error(`${where}: unknown route option "${key}"${hint} (route options: ${[...ROUTE_KEYS].join(', ')})`);
  }
  const part = opts.schema === undefined ? undefined : unknownKey(opts.schema, SCHEMA_KEYS);
  if (part !== undefined) throw new SchemaError(`${where}: unknown part of the route's schema "${part}" (schema parts: ${[...SCHEMA_KEYS].join(', ')})`);
}
