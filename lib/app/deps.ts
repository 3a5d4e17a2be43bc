/**
 * Dependency injection in the FastAPI manner: a dependency is a function of the request context that may
 * use other dependencies. Within one request each is resolved at most once (the value is shared by every
 * user), and its cleanup runs after the response, in reverse order of resolution — the place to release
 * a pooled connection or end a transaction.
 */
import type { Context } from './context.js';

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

/** Per-request resolution state (one per Context, created on first `use`). */
export class DepScope {
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
