/**
 * The options of an app and of its `listen`, and the request wrapper a plugin may install (tracing).
 */
import type { Http1Request, Http1ServerOptions } from '../http1/index.js';
import type { CompressionOptions } from './compression.js';
import type { AnyResponse, Context, Logger } from './context.js';
import type { TrustProxy } from './proxy.js';

export interface AppOptions {
  /** Show error messages and stacks in 500 answers. Default false (never in production). */
  dev?: boolean;
  /**
   * Called with every error that became a 5xx. Default: logged once through the app's logger, as JSON with
   * `err` (message, stack, cause), the request ID, method, path and route.
   */
  onError?: (err: unknown, ctx: Context) => void;
  /**
   * The app's pino logger (`ctx.log` is its child per request; `accessLog()` uses it). Default: pino to stdout.
   * `false` logs nothing (errors included, unless `onError` says otherwise), as in Fastify.
   */
  logger?: Logger | false;
  /** Give GET/HEAD answers a strong ETag computed from the body (and answer 304 on a match). Default false: a handler-set ETag is always honoured. */
  etag?: boolean;
  /**
   * Compress what handlers return with br/gzip by negotiation: `true` for the defaults (threshold 1 KiB, br
   * then gzip), or options. Default off. Stream bodies returned by a handler are compressed too, flushed
   * chunk by chunk; direct `ctx.res.write` calls are not.
   */
  compression?: boolean | CompressionOptions;
  /**
   * Which peers may tell the client address through `X-Forwarded-For` (see `ctx.ip`): `true` (any), a hop
   * count, addresses and CIDR ranges, or a function of (address, hop). A unix socket's peer has no address:
   * `true`, a count or a function (given `''`) trusts it, a list cannot. Default none.
   */
  trustProxy?: TrustProxy;
  /** Secrets for signed cookies: the first signs, all verify (rotate by prepending a new one). */
  cookieSecrets?: readonly string[];
  /** Checks a route's `requires` for a request: throw 401/403 (see `rbac()` in covet/app/auth). Routes with `requires` cannot be added without it. */
  authorize?: (ctx: Context, required: readonly string[]) => void | Promise<void>;
  /**
   * Check what handlers return against the route's response schemas before sending: a value that does not
   * match is a 500 naming the fields, instead of going out. Default: on with `dev: true` or when `NODE_ENV`
   * is `test`, off otherwise (then the compiled serializer only drops undeclared properties).
   */
  checkResponses?: boolean;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  /**
   * A unix socket to listen on instead of a TCP port (a reverse proxy on the same machine, e.g. nginx's
   * `proxy_pass http://unix:/run/app.sock`). Not with `port` or `host`.
   */
  path?: string;
  tls?: Http1ServerOptions['tls'];
  /**
   * Processes serving the port (node:cluster; connections spread round-robin). With more than one, the
   * primary forks the workers — each runs this script and serves — and only supervises: crashed workers
   * are restarted, SIGTERM/SIGINT stop them gracefully. Share state between workers through Redis. Default 1.
   */
  workers?: number;
}

/**
 * Runs each request (and upgrade) inside something of a plugin's — the tracing plugin's server span.
 * `routed` is told the router's verdict.
 */
export interface RequestWrapper {
  enabled(): boolean;
  request<T>(req: Http1Request, res: AnyResponse | null, handle: (token: unknown) => T): T;
  routed(token: unknown, req: Http1Request, pattern: string, startedAt: number): void;
}
