/**
 * Request IDs and structured access logs: every request gets an ID (the client's `X-Request-Id` when it
 * is a plausible ID, else a fresh UUID), echoed in the response and kept at `ctx.state.requestId`; when
 * the response finishes one JSON line is written through pino with the route pattern, status and time.
 */
import { requestIdFrom, type Logger } from '../context.js';
import type { Middleware } from '../route.js';

export interface AccessLogOptions {
  /** A pino logger; default the app's (`createApp({ logger })`, else pino to stdout). */
  logger?: Logger;
  /** Header carrying the ID both ways. Default `x-request-id`. */
  header?: string;
  /** Reuse the client's ID when it matches `[A-Za-z0-9._:-]{1,128}`. Default true; off when clients are untrusted. */
  trustClientId?: boolean;
  /** Log level for 5xx answers (`error`), 4xx (`warn`) and the rest (`info`) — override to log all at one level. */
  level?: 'info' | 'debug';
}

/**
 * @example
 * ```ts
 * app.use(accessLog({ logger: pino({ level: 'info' }) }));
 * // {"level":30,"time":...,"reqId":"3f1c…","method":"GET","path":"/notes/1","route":"/notes/{id:int}","status":200,"ms":0.42,"msg":"request"}
 * ```
 */
export function accessLog(options: AccessLogOptions = {}): Middleware {
  const logger = options.logger;
  const header = (options.header ?? 'x-request-id').toLowerCase();
  const trust = options.trustClientId ?? true;
  const base = options.level ?? 'info';
  return async (ctx, next) => {
    const id = requestIdFrom(trust ? ctx.req.get(header) : undefined);
    ctx.state.requestId = id;
    ctx.res.setHeader(header, id);
    const t0 = performance.now();
    ctx.res.once('finish', () => {
      const status = ctx.res.statusCode;
      // Through the request's logger (reqId bound) unless a logger was given.
      const log = logger ?? ctx.log;
      const entry = {
        ...(logger === undefined ? {} : { reqId: id }),
        method: ctx.req.method,
        path: ctx.req.path,
        route: ctx.route === '' ? null : ctx.route,
        status,
        ms: Math.round((performance.now() - t0) * 100) / 100,
        remote: ctx.ip,
      };
      if (status >= 500) log.error(entry, 'request');
      else if (status >= 400) log.warn(entry, 'request');
      else log[base](entry, 'request');
    });
    await next();
  };
}
