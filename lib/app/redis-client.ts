/**
 * What the Redis-backed services (auth, cache, realtime) share about their ioredis client: its type, and
 * one guard per client that keeps a Redis outage from becoming an app outage.
 *
 * ioredis queues a command issued while it reconnects and retries it for many seconds; a rate limiter
 * or cache in front of every route that waits on that queue stops the whole app. The guard answers for
 * the services instead: while the client is between connections a command fails at once (it never enters
 * ioredis's offline queue), and any command gets a deadline, so a Redis that is silent (a network
 * partition, a stalled server) costs at most that long. The services then apply their policy (fail
 * open/closed, pass through). The guard also listens to the client, so ioredis's "Unhandled error event"
 * does not print on every reconnect attempt, and logs the outage once when it begins and once when it
 * ends.
 */
import type { Cluster, Redis } from 'ioredis';
import { processLogger } from './logger.js';
import { spans, type SpanAttributes } from '../trace/hook.js';

/** A standalone client or a Redis Cluster client (ioredis). */
export type RedisClient = Redis | Cluster;

/**
 * Redis is unreachable, or did not answer within the deadline; `status` 503 if it reaches a client.
 *
 * @example
 * ```ts
 * try {
 *   await cache.get('user:42');
 * } catch (err) {
 *   if (err instanceof RedisUnavailableError) return loadUser(42); // degrade instead of answering 503
 *   throw err;
 * }
 * ```
 */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  readonly status = 503;
}

/** The default deadline of a guarded command, in milliseconds. */
export const REDIS_COMMAND_TIMEOUT_MS = 500;

export interface RedisGuard {
  /** True from the first sign of an outage until the client is ready again. */
  readonly down: boolean;
  /**
   * Runs `op` unless Redis is known to be unreachable (then it throws `RedisUnavailableError` at once),
   * failing with `RedisUnavailableError` after `timeoutMs` without an answer. `command` (e.g. `GET`)
   * names its span when tracing is on.
   */
  run<T>(op: () => Promise<T>, timeoutMs?: number, command?: string): Promise<T>;
}

const guards = new WeakMap<RedisClient, RedisGuardImpl>();

/**
 * The guard of `redis` (one per client, shared by every service that uses it). `log` receives one line
 * when an outage begins and one when it ends (the first `log` given wins; without one, the process's pino
 * logger at warn).
 *
 * @example
 * ```ts
 * const redis = new Redis(process.env.REDIS_URL!);
 * health(app, { checks: { redis: () => redisGuard(redis).run(() => redis.ping()) } }); // 503 at once while down
 * ```
 */
export function redisGuard(redis: RedisClient, log?: (msg: string) => void): RedisGuard {
  let g = guards.get(redis);
  if (g === undefined) {
    g = new RedisGuardImpl(redis);
    guards.set(redis, g);
  }
  if (log !== undefined) g.logTo(log);
  return g;
}

class RedisGuardImpl implements RedisGuard {
  down = false;
  #since = 0;
  #lastError = '';
  readonly #redis: RedisClient;
  #logger: ((msg: string) => void) | null = null;

  constructor(redis: RedisClient) {
    this.#redis = redis;
    redis.on('error', (err: Error) => this.#lost(err.message));
    // Not 'close': closing the client on purpose is no outage; a lost server shows as the reconnect's error.
    redis.on('ready', () => this.#back());
  }

  logTo(log: (msg: string) => void): void {
    this.#logger ??= log;
  }

  #log(msg: string): void {
    if (this.#logger !== null) this.#logger(msg);
    else processLogger().warn(msg);
  }

  #back(): void {
    if (!this.down) return;
    this.down = false;
    this.#log(`Redis is back after ${((performance.now() - this.#since) / 1000).toFixed(1)} s (${this.#lastError}); rate limits, cache and sessions use it again`);
  }

  #lost(reason: string): void {
    if (this.down) return;
    this.down = true;
    this.#since = performance.now();
    this.#lastError = reason;
    this.#log(`Redis unreachable (${reason}): rate limits apply their failure policy, the cache passes through, until it is back`);
  }

  run<T>(op: () => Promise<T>, timeoutMs = REDIS_COMMAND_TIMEOUT_MS, command?: string): Promise<T> {
    if (spans !== null && command !== undefined) return spans.around(command, 'client', redisAttributes(this.#redis, command), () => this.#run(op, timeoutMs));
    return this.#run(op, timeoutMs);
  }

  #run<T>(op: () => Promise<T>, timeoutMs: number): Promise<T> {
    // Down (an outage seen), or between connections: at once. A first connection still being made
    // (the app just started) is waited for, within the deadline.
    const st = this.#redis.status;
    if (st === 'reconnecting' || st === 'close' || st === 'end' || (this.down && st === 'connecting')) {
      return Promise.reject(new RedisUnavailableError(`Redis is unreachable (${this.#lastError || st})`));
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisUnavailableError(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const p = op();
    p.catch(() => {}); // a late failure after the deadline is not unhandled
    return Promise.race([p, deadline]).then(
      (v) => {
        clearTimeout(timer);
        this.#back(); // answers again (after a freeze there is no new 'ready')
        return v;
      },
      (err: unknown) => {
        clearTimeout(timer);
        // An error reply (WRONGTYPE, a script error) is Redis answering; anything else is an outage.
        if ((err as Error)?.name !== 'ReplyError') this.#lost((err as Error)?.message ?? String(err));
        throw err;
      },
    );
  }
}

/**
 * A readiness check for `health()`: Redis answers PING — failing at once while it is known to be down,
 * within the deadline otherwise (never waiting on ioredis's reconnect queue).
 *
 * @example
 * ```ts
 * health(app, { checks: { database: () => db.ping(1000), redis: redisCheck(redis) } });
 * ```
 */
export function redisCheck(redis: RedisClient, timeoutMs?: number): () => Promise<void> {
  const guard = redisGuard(redis);
  return async () => void (await guard.run(() => redis.ping(), timeoutMs, 'PING'));
}

/** A Redis client span's attributes (OpenTelemetry database semantic conventions). */
export function redisAttributes(redis: RedisClient, command: string): SpanAttributes {
  const o = (redis as { options?: { host?: string; port?: number; db?: number } }).options;
  return { 'db.system.name': 'redis', 'db.operation.name': command.split(' ')[0], 'db.namespace': o?.db === undefined ? undefined : String(o.db), 'server.address': o?.host, 'server.port': o?.port };
}
