/**
 * How an app answers: each request routed, run through its middleware, deps, validation, preHandler
 * hooks and handler, what it returned sent, and every failure answered as problem+json — synchronous as
 * long as every step is. Upgrades get the same chain on a response that goes nowhere, then a verdict.
 * And the state the scopes of one app share.
 */
import type { Http1Request } from '../http1/index.js';
import { Router, type RouteResult } from '../router/index.js';
import type { WsConnectionOptions, WsVerdict } from '../ws/index.js';
import { dispatch, tellErrorHooks } from './chain.js';
import type { CompressionOptions } from './compression.js';
import { Context, processLogger, type AnyResponse, type ContextConfig } from './context.js';
import { silentLogger } from './logger.js';
import { answerError, HttpError, sendProblem, type ProblemFields } from './errors.js';
import { captureResponse } from './inject.js';
import type { Server } from '../net/index.js';
import type { AppOptions, RequestWrapper } from './options.js';
import { compileTrust } from './proxy.js';
import { ANSWERED, isStreamBody, send, serialize, streamBody } from './reply.js';
import type { Hooks, Middleware, RouteEntry, RouteHooks, WsRouteHandlers } from './route.js';
import { checkResponseBody, validate } from './validate.js';
import { REQUEST_ERROR, REQUEST_START, RESPONSE_FINISH } from '../trace/channels.js';

/** What the scopes of one app share: its routers, server, lifecycle, and what plugins put there. */
export class AppState {
  readonly router = new Router<RouteEntry>();
  /** WebSocket routes: the entry's handler accepts the upgrade; `ws` is what to do with the socket. */
  readonly wsRouter = new Router<RouteEntry & { ws: WsRouteHandlers }>();
  readonly ctxConfig: ContextConfig;
  readonly checkResponses: boolean;
  readonly compression: CompressionOptions | undefined;
  server: Server | null = null;
  primary = false;
  closing = false;
  /** The keep-alive timeout the server advertises (what `closeOnSignals` lingers for). */
  keepAliveMs = 5000;
  started = false;
  readonly onStart: Array<() => void> = [];
  readonly onClose: Array<() => unknown> = [];
  readonly onOpenApi: Array<Hooks['onOpenApi']> = [];
  onMatch: Hooks['onMatch'] | null = null;
  readonly onReceive: Array<Hooks['onReceive']> = [];
  readonly onListen: Array<Hooks['onListen']> = [];
  wrapper: RequestWrapper | null = null;
  readonly values = new Map<string | symbol, unknown>();
  readonly pending: Promise<void>[] = [];
  /** The first failure of an async plugin (told by `ready()`). */
  failure: Error | null = null;
  /** How requests are handled (set by the app that made this state). */
  pipeline!: Pipeline;
  constructor(o: AppOptions) {
    this.checkResponses = o.checkResponses ?? (o.dev === true || process.env.NODE_ENV === 'test');
    const logger = o.logger;
    this.ctxConfig = { cookieSecrets: o.cookieSecrets ?? [], trusted: compileTrust(o.trustProxy), logger: logger === undefined ? processLogger : logger === false ? silentLogger : () => logger, members: new Map() };
    this.compression = o.compression === true ? {} : o.compression === false ? undefined : o.compression;
  }
}

/** Contexts of upgrades that passed the whole chain (the route's last step marks them). */
const ACCEPTED = new WeakSet<Context>();
export function acceptUpgrade(ctx: Context): void {
  ACCEPTED.add(ctx);
  ctx.res.statusCode = 101; // what the access log and onResponse hooks report
}
/** The upgrade's connection-level settings, out of the route's declaration. */
function connectionOptions(h: WsRouteHandlers): WsConnectionOptions {
  const { open: _o, deps: _d, requires: _r, schema: _s, summary: _su, description: _de, tags: _t, hide: _h, ...rest } = h;
  return rest;
}
/** Headers of a captured answer that describe its own framing, not the refusal: the ws layer frames it. */
const HOP_BY_HOP = new Set(['content-length', 'connection', 'transfer-encoding', 'keep-alive', 'date']);
const entryOf = (ctx: Context): RouteEntry => ctx.entry as RouteEntry;

export class Pipeline {
  readonly s: AppState;
  readonly config: AppOptions;
  /** Starts the app (its onStart work) before the first request. */
  readonly start: () => void;
  /** The root scope's middleware and hooks (for requests no route takes), kept current by the app. */
  readonly root: { middleware: Middleware[]; hooks: RouteHooks };

  constructor(s: AppState, config: AppOptions, start: () => void, root: { middleware: Middleware[]; hooks: RouteHooks }) {
    this.s = s;
    this.config = config;
    this.start = start;
    this.root = root;
  }

  /**
   * The verdict on an upgrade request: routed, then run through the app's middleware and the route's steps
   * on a response that goes nowhere; if they let it through, the upgrade happens with the route's
   * settings, else what they answered is sent instead.
   */
  readonly upgrade = (req: Http1Request): Promise<WsVerdict> => {
    const s = this.s;
    if (!s.started) this.start();
    if (s.wrapper !== null && s.wrapper.enabled()) return s.wrapper.request(req, null, (token) => this.#upgradeRouted(req, token, performance.now()));
    return this.#upgradeRouted(req, null, -1);
  };

  async #upgradeRouted(req: Http1Request, token: unknown, startedAt: number): Promise<WsVerdict> {
    const found = this.s.wsRouter.find('GET', req.url);
    if (startedAt >= 0) this.s.wrapper!.routed(token, req, found.status === 200 ? found.pattern : '', startedAt);
    if (found.status !== 200) return found.status === 308 ? { status: 308, headers: { location: found.location } } : { status: found.status === 405 ? 404 : found.status };
    const captured = captureResponse(false);
    const ctx = new Context(req, captured.res, found.params, found.pattern, found.query, this.s.ctxConfig);
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
  readonly handle = (req: Http1Request, res: AnyResponse): void | Promise<void> => {
    const s = this.s;
    if (!s.started) this.start();
    if (REQUEST_START.hasSubscribers || RESPONSE_FINISH.hasSubscribers) {
      const message = observeRequest(req, res);
      // Published with runStores: an AsyncLocalStorage a subscriber bound to the channel (an APM agent's
      // context) holds for the whole request, handler included.
      if (REQUEST_START.hasSubscribers) return REQUEST_START.runStores(message, this.#wrapped, this, req, res);
    }
    return this.#wrapped(req, res);
  };

  #wrapped(req: Http1Request, res: AnyResponse): void | Promise<void> {
    const s = this.s;
    if (s.wrapper !== null && s.wrapper.enabled()) return s.wrapper.request(req, res, (token) => this.#dispatch(req, res, token, performance.now()));
    return this.#dispatch(req, res, null, -1);
  }

  /** Routes and runs a request; `startedAt` ≥ 0 when wrapped (when routing began; `token` is the wrapper's). */
  #dispatch(req: Http1Request, res: AnyResponse, token: unknown, startedAt: number): void | Promise<void> {
    const s = this.s;
    const arrive = s.onReceive;
    for (let i = 0; i < arrive.length; i++) arrive[i]!(req, res);
    const found = s.router.find(req.method, req.url);
    if (startedAt >= 0) s.wrapper!.routed(token, req, found.status === 200 ? found.pattern : '', startedAt);
    if (found.status !== 200) {
      const ctx = new Context(req, res, {}, '', '', s.ctxConfig);
      const root = this.root;
      return this.#runChain(ctx, root.middleware, root.hooks, (c) => this.#answerUnrouted(c, found));
    }
    const ctx = new Context(req, res, found.params, found.pattern, found.query, s.ctxConfig);
    let entry = found.store;
    if (s.onMatch !== null) {
      const picked = s.onMatch(ctx, entry, found.query);
      if (picked instanceof HttpError) {
        const root = this.root;
        return this.#runChain(ctx, root.middleware, root.hooks, () => {
          throw picked;
        });
      }
      entry = picked;
    }
    ctx.entry = entry;
    return this.#runChain(ctx, entry.middleware, entry.hooks, this.#invoke);
  }

  /**
   * The innermost step for a request no route takes (404, 405 with Allow, 400, 308): answered, not thrown —
   * middleware around it completes normally and sees the status — and shown to the onError hooks.
   */
  #answerUnrouted(ctx: Context, found: Exclude<RouteResult<RouteEntry>, { status: 200 }>): void {
    const headers: Record<string, string> = found.status === 405 ? { allow: found.allowed.join(', ') } : {};
    if (found.status === 308) headers.location = found.location;
    const fields = found.status === 400 ? { detail: found.error } : {};
    const { hooks } = this.root;
    if (hooks.onError.length > 0) tellErrorHooks(ctx, hooks, answerError(found.status, fields, headers));
    sendProblem(ctx.res, found.status, { ...fields, instance: ctx.req.path }, headers);
  }

  /** The innermost step of every route's chain, shared (no closure per request). */
  readonly #invoke = (ctx: Context): void | Promise<void> => this.#runRoute(ctx);

  /**
   * Deps and authorization (401/403 before any 422), validation, preHandler hooks, the handler, and sending
   * what it returned. Synchronous as long as every step is; the first step that returns a promise hands
   * the rest to an async continuation.
   */
  #runRoute(ctx: Context): void | Promise<void> {
    const { options } = entryOf(ctx);
    if (options.deps !== undefined || options.requires !== undefined) return this.#authorizeThenRoute(ctx);
    return this.#validateThenRoute(ctx);
  }

  async #authorizeThenRoute(ctx: Context): Promise<void> {
    const { options } = entryOf(ctx);
    if (options.deps !== undefined) for (const d of options.deps) await ctx.use(d);
    if (options.requires !== undefined) await this.config.authorize!(ctx, options.requires);
    if (ctx.res.finished) return;
    await this.#validateThenRoute(ctx);
  }

  #validateThenRoute(ctx: Context): void | Promise<void> {
    const { compiled, hooks, options } = entryOf(ctx);
    if (compiled !== null) {
      const pending = validate(ctx, compiled, options.bodyLimit); // synchronous unless there is a body to read
      if (pending !== undefined) return this.#runRouteAsync(ctx, pending);
    }
    if (hooks.preHandler.length > 0) return this.#runRouteAsync(ctx, undefined);
    return this.#callHandler(ctx);
  }

  async #runRouteAsync(ctx: Context, pending: Promise<void> | undefined): Promise<void> {
    if (pending !== undefined) await pending;
    for (const h of entryOf(ctx).hooks.preHandler) {
      await h(ctx);
      if (ctx.res.finished) return;
    }
    await this.#callHandler(ctx);
  }

  #callHandler(ctx: Context): void | Promise<void> {
    const entry = entryOf(ctx);
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
    const compression = this.s.compression;
    if (isStreamBody(out)) return streamBody(ctx, out, compression);
    const { compiled, hooks, checkResponse } = entryOf(ctx);
    const body = serialize(ctx, out, compiled?.response);
    if (checkResponse && typeof out === 'object' && !(out instanceof Uint8Array)) checkResponseBody(ctx, compiled!, body);
    if (hooks.onSend.length > 0) return this.#sendAfterHooks(ctx, body, hooks.onSend);
    return send(ctx, body, this.config.etag === true, compression);
  }

  async #sendAfterHooks(ctx: Context, body: string | Uint8Array, onSend: RouteHooks['onSend']): Promise<void> {
    for (const h of onSend) body = (await h(ctx, body)) ?? body;
    await send(ctx, body, this.config.etag === true, this.s.compression);
  }

  /**
   * Runs the middleware chain around `last`. Synchronous when every level is; from the first promise on,
   * the rest completes asynchronously and the returned promise tells when. It never rejects: failures are
   * answered here (an error response, or `res.destroy` when the head was already sent).
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
    if (REQUEST_ERROR.hasSubscribers) REQUEST_ERROR.publish({ request: ctx.req, response: res, error: err, route: ctx.route });
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
      else ctx.log.warn({ err, method: ctx.req.method, path: ctx.req.path, route: ctx.route === '' ? null : ctx.route }, "database refused the request's data");
      if (res.headersSent) return;
      sendProblem(res, problem.status, { ...problem.fields, instance: ctx.req.path }, problem.headers ?? {});
      return;
    }
    const status = err instanceof HttpError ? err.status : typeof (err as { status?: unknown })?.status === 'number' ? (err as { status: number }).status : 500;
    if (status >= 500) this.#logError(err, ctx);
    if (res.headersSent) return; // nothing more can be said; the protocol layer ends the stream/connection
    const fields = err instanceof HttpError ? err.fields : status < 500 ? { detail: (err as Error).message } : {};
    const dev = this.config.dev === true && status >= 500 ? { detail: (err as Error)?.message, stack: (err as Error)?.stack } : {};
    sendProblem(res, status, { ...fields, ...dev, instance: ctx.req.path }, err instanceof HttpError ? err.headers : {});
  }
}

/** What an error says to answer, when it has `toProblem()` (database errors: data errors, overload). */
function problemOf(err: unknown): { status: number; fields: ProblemFields; headers?: Record<string, string> } | undefined {
  if (err === null || typeof err !== 'object' || typeof (err as { toProblem?: unknown }).toProblem !== 'function') return undefined;
  const p = (err as { toProblem(): unknown }).toProblem() as { status?: unknown; fields?: ProblemFields; headers?: Record<string, string> } | undefined;
  return p !== undefined && typeof p.status === 'number' ? { status: p.status, fields: p.fields ?? {}, ...(p.headers === undefined ? {} : { headers: p.headers }) } : undefined;
}

/** The request channels' start message (published by the caller), and the finish told when the answer is done. */
function observeRequest(req: Http1Request, res: AnyResponse): { request: Http1Request; response: AnyResponse } {
  const t0 = performance.now();
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    if (RESPONSE_FINISH.hasSubscribers) RESPONSE_FINISH.publish({ request: req, response: res, statusCode: res.statusCode, durationMs: performance.now() - t0 });
  };
  res.once('finish', finish).once('close', finish);
  return { request: req, response: res };
}
