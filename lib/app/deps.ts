/**
 * Dependency injection in the FastAPI manner: a dependency is a function of the request context that may
 * use other dependencies. Within one request each is resolved at most once (the value is shared by every
 * user), and its cleanup runs after the response, in reverse order of resolution — the place to release
 * a pooled connection or end a transaction.
 */
import type { Context, Dep, Use } from './context.js';

export type { Dep, Use, SecurityScheme } from './context.js';

/**
 * @example
 * ```ts
 * const db = dep('db', () => pool.connect(), { cleanup: (conn) => conn.release() });
 * const user = dep('user', async (ctx, use) => (await use(db)).findUser(ctx.req.get('authorization')));
 * app.get('/me', async (ctx) => ctx.use(user));              // resolved once per request, cleaned up after
 * app.get('/admin', { deps: [requireAdmin] }, () => 'ok');   // run before the handler, value unused
 * ```
 */
export function dep<T>(name: string, resolve: (ctx: Context, use: Use) => T | Promise<T>, options: { cleanup?: (value: T, error: unknown) => void | Promise<void> } = {}): Dep<T> {
  return options.cleanup === undefined ? { name, resolve } : { name, resolve, cleanup: options.cleanup };
}
