/**
 * The onion: a middleware chain run level by level around the route's last step, synchronous as long as
 * every level is, and the error hooks an answered error is shown to.
 */
import type { Context } from './context.js';
import type { Middleware, RouteHooks } from './route.js';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Level `i` of a middleware chain: calls the middleware with its `next`, which runs level `i + 1` (or
 * `last`). A level adds no promise of its own beyond what its middleware returns.
 */
export function dispatch(ctx: Context, chain: Middleware[], i: number, last: (ctx: Context) => void | Promise<void>): void | Promise<void> {
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
export function tellErrorHooks(ctx: Context, hooks: RouteHooks, err: unknown): void {
  for (const h of hooks.onError) {
    try {
      h(ctx, err);
    } catch (hookErr) {
      ctx.log.error({ err: hookErr }, 'onError hook failed');
    }
  }
}
