/**
 * A deadline per request: if the routes after this middleware have not answered within `ms`, the client
 * gets a 503 problem (with `Retry-After`), `ctx.signal` is aborted so the work in flight can stop, and
 * whatever the handler does later is dropped.
 */
import type { Middleware } from '../route.js';
import { answerError, sendProblem } from '../errors.js';

/**
 * @example
 * ```ts
 * app.use(timeout(5_000));
 * app.get('/report', async (ctx) => buildReport({ signal: ctx.signal }));
 * ```
 */
export function timeout(ms: number, options: { retryAfter?: number } = {}): Middleware {
  const retryAfter = String(options.retryAfter ?? 1);
  return async (ctx, next) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        // Answered here and now, before aborting: abort listeners resume the handler, which must find
        // the response already finished (its late writes are then dropped).
        const detail = `no answer within ${ms} ms`;
        if (!ctx.res.headersSent) sendProblem(ctx.res, 503, { detail, instance: ctx.req.path }, { 'retry-after': retryAfter });
        ctx.abort(answerError(503, { detail }));
        resolve();
      }, ms);
    });
    const work = next();
    work.catch(() => {}); // once the deadline has answered, the late outcome has nowhere to go
    try {
      await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}
