/**
 * Rate limiting: fixed window, sliding window (exact: a ring of the last `limit` admitted times per key,
 * O(1) per check) and token bucket; in memory (synchronous, well under a microsecond per check) or in
 * Redis (one Lua script per check, atomic, on the Redis server's clock, so several app processes and
 * machines share one limit). A middleware answers 429 with `Retry-After` and sets the `RateLimit-*`
 * headers (draft-ietf-httpapi-ratelimit-headers) on every answer.
 */
import { redisGuard, type RedisClient, type RedisGuard } from '../redis-client.js';
import type { Context } from '../context.js';
import { HttpError } from '../errors.js';

export type Algorithm =
  | { kind: 'fixed-window'; limit: number; windowMs: number }
  | { kind: 'sliding-window'; limit: number; windowMs: number }
  | { kind: 'token-bucket'; capacity: number; refillPerSec: number };

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the limit resets (a window ends / the bucket is full again). */
  resetMs: number;
  /** When refused: milliseconds until a request would be admitted. */
  retryAfterMs: number;
}

export interface Limiter {
  readonly algorithm: Algorithm;
  check(key: string): RateLimitResult | Promise<RateLimitResult>;
}

interface Fixed {
  start: number;
  count: number;
}
interface Ring {
  times: Float64Array;
  head: number;
}
interface Bucket {
  tokens: number;
  at: number;
}

/**
 * In-process limiter. `now` is injectable (virtual clocks in tests). Keys idle for a window are swept
 * so memory stays bounded by active keys (and by `maxKeys`, default 100 000).
 *
 * @example
 * ```ts
 * const perIp = new MemoryLimiter({ kind: 'sliding-window', limit: 100, windowMs: 60_000 });
 * app.use(rateLimit({ limiter: perIp, key: (ctx) => ctx.ip ?? 'unknown' }));
 * ```
 */
export class MemoryLimiter implements Limiter {
  readonly algorithm: Algorithm;
  readonly #now: () => number;
  readonly #fixed = new Map<string, Fixed>();
  readonly #rings = new Map<string, Ring>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;
  #lastSweep = 0;

  constructor(algorithm: Algorithm, options: { now?: () => number; maxKeys?: number } = {}) {
    this.algorithm = algorithm;
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 100_000;
    const n = algorithm.kind === 'token-bucket' ? algorithm.capacity : algorithm.limit;
    if (!(n > 0)) throw new Error('a rate limit needs a positive limit/capacity');
  }

  check(key: string): RateLimitResult {
    const now = this.#now();
    const a = this.algorithm;
    if (now - this.#lastSweep > 10_000) this.#sweep(now);
    switch (a.kind) {
      case 'fixed-window': {
        let w = this.#fixed.get(key);
        const start = now - (now % a.windowMs);
        if (w === undefined) {
          if (this.#fixed.size >= this.#maxKeys) this.#sweep(now);
          this.#fixed.set(key, (w = { start, count: 0 }));
        } else if (w.start !== start) {
          w.start = start;
          w.count = 0;
        }
        const resetMs = w.start + a.windowMs - now;
        if (w.count >= a.limit) return { allowed: false, limit: a.limit, remaining: 0, resetMs, retryAfterMs: resetMs };
        w.count++;
        return { allowed: true, limit: a.limit, remaining: a.limit - w.count, resetMs, retryAfterMs: 0 };
      }
      case 'sliding-window': {
        let r = this.#rings.get(key);
        if (r === undefined) {
          if (this.#rings.size >= this.#maxKeys) this.#sweep(now);
          this.#rings.set(key, (r = { times: new Float64Array(a.limit).fill(-Infinity), head: 0 }));
        }
        // times[head] is the oldest of the last `limit` admissions: admit only if it left the window.
        const oldest = r.times[r.head]!;
        if (now - oldest < a.windowMs) return { allowed: false, limit: a.limit, remaining: 0, resetMs: oldest + a.windowMs - now, retryAfterMs: oldest + a.windowMs - now };
        r.times[r.head] = now;
        r.head = (r.head + 1) % a.limit;
        let inWindow = 0;
        // remaining = limit - admissions still inside the window (counted from the newest backwards).
        for (let i = 1; i <= a.limit; i++) {
          const t = r.times[(r.head - i + a.limit) % a.limit]!;
          if (now - t >= a.windowMs) break;
          inWindow++;
        }
        const next = r.times[r.head]!;
        return { allowed: true, limit: a.limit, remaining: a.limit - inWindow, resetMs: Number.isFinite(next) ? Math.max(0, next + a.windowMs - now) : a.windowMs, retryAfterMs: 0 };
      }
      case 'token-bucket': {
        let b = this.#buckets.get(key);
        if (b === undefined) {
          if (this.#buckets.size >= this.#maxKeys) this.#sweep(now);
          this.#buckets.set(key, (b = { tokens: a.capacity, at: now }));
        } else {
          b.tokens = Math.min(a.capacity, b.tokens + ((now - b.at) * a.refillPerSec) / 1000);
          b.at = now;
        }
        const fullIn = ((a.capacity - b.tokens) * 1000) / a.refillPerSec;
        if (b.tokens < 1) {
          const wait = ((1 - b.tokens) * 1000) / a.refillPerSec;
          return { allowed: false, limit: a.capacity, remaining: 0, resetMs: Math.ceil(fullIn), retryAfterMs: Math.ceil(wait) };
        }
        b.tokens -= 1;
        return { allowed: true, limit: a.capacity, remaining: Math.floor(b.tokens), resetMs: Math.ceil(fullIn + 1000 / a.refillPerSec), retryAfterMs: 0 };
      }
    }
  }

  /** Drops keys whose state no longer matters (window over, bucket full). */
  #sweep(now: number): void {
    this.#lastSweep = now;
    const a = this.algorithm;
    if (a.kind === 'fixed-window') for (const [k, w] of this.#fixed) if (now - w.start >= a.windowMs) this.#fixed.delete(k);
    if (a.kind === 'sliding-window') for (const [k, r] of this.#rings) if (now - r.times[(r.head - 1 + a.limit) % a.limit]! >= a.windowMs) this.#rings.delete(k);
    if (a.kind === 'token-bucket') for (const [k, b] of this.#buckets) if (b.tokens + ((now - b.at) * a.refillPerSec) / 1000 >= a.capacity) this.#buckets.delete(k);
  }
}

// Lua: each returns {allowed (0/1), remaining, resetMs, retryAfterMs}; time from the Redis server.
const NOW_MS = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
const LUA: Record<Algorithm['kind'], string> = {
  'fixed-window': `${NOW_MS}
local limit, win = tonumber(ARGV[1]), tonumber(ARGV[2])
local start = now - (now % win)
local key = KEYS[1] .. ':' .. start
local c = redis.call('INCR', key)
if c == 1 then redis.call('PEXPIRE', key, win) end
local reset = start + win - now
if c > limit then return {0, 0, reset, reset} end
return {1, limit - c, reset, 0}`,
  'sliding-window': `${NOW_MS}
local limit, win = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  return {0, 0, oldest + win - now, oldest + win - now}
end
redis.call('ZADD', KEYS[1], now, now .. ':' .. redis.call('INCR', KEYS[1] .. ':seq'))
redis.call('PEXPIRE', KEYS[1], win)
redis.call('PEXPIRE', KEYS[1] .. ':seq', win)
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
return {1, limit - n - 1, oldest + win - now, 0}`,
  'token-bucket': `${NOW_MS}
local cap, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(s[1]), tonumber(s[2])
if tokens == nil then tokens = cap at = now end
tokens = math.min(cap, tokens + (now - at) * rate / 1000)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1 allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
local full = math.ceil((cap - tokens) * 1000 / rate)
redis.call('PEXPIRE', KEYS[1], full + 1000)
local wait = 0
if allowed == 0 then wait = math.ceil((1 - tokens) * 1000 / rate) end
return {allowed, math.floor(tokens), full, wait}`,
};

/**
 * Limiter in Redis: correct across processes and machines (`new RedisLimiter(redis, { kind: 'token-bucket',
 * capacity: 20, refillPerSec: 5 }, { onError: 'closed' })`). When Redis fails, `onError` decides:
 * `'open'` admits (availability first, the default), `'closed'` refuses (protection first).
 *
 * @example
 * ```ts
 * const perIp = new RedisLimiter(redis, { kind: 'sliding-window', limit: 100, windowMs: 60_000 });
 * app.use(rateLimit({ limiter: perIp, key: (ctx) => ctx.ip ?? 'unknown' }));
 * ```
 */
export class RedisLimiter implements Limiter {
  readonly algorithm: Algorithm;
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #onError: 'open' | 'closed';
  readonly #command: string;
  readonly #guard: RedisGuard;
  readonly #timeoutMs: number | undefined;
  /** The last Redis error (for logs and health checks), cleared by the next success. */
  lastError: Error | null = null;

  /**
   * `timeoutMs`: the longest a check waits on Redis before the failure policy applies (default 500); while
   * Redis is known to be down it applies at once.
   */
  constructor(redis: RedisClient, algorithm: Algorithm, options: { prefix?: string; onError?: 'open' | 'closed'; timeoutMs?: number } = {}) {
    this.#redis = redis;
    this.#guard = redisGuard(redis);
    this.#timeoutMs = options.timeoutMs;
    this.algorithm = algorithm;
    this.#prefix = options.prefix ?? 'covet:rl:';
    this.#onError = options.onError ?? 'open';
    this.#command = `covetRateLimit_${algorithm.kind.replace('-', '_')}`;
    if (typeof (redis as unknown as Record<string, unknown>)[this.#command] !== 'function') redis.defineCommand(this.#command, { numberOfKeys: 1, lua: LUA[algorithm.kind] });
  }

  async check(key: string): Promise<RateLimitResult> {
    const a = this.algorithm;
    const limit = a.kind === 'token-bucket' ? a.capacity : a.limit;
    const args = a.kind === 'token-bucket' ? [a.capacity, a.refillPerSec] : [a.limit, a.windowMs];
    try {
      const run = (this.#redis as unknown as Record<string, (...x: unknown[]) => Promise<number[]>>)[this.#command]!.bind(this.#redis);
      // The key in a hash tag: keys the script derives from it land in the same Cluster slot. The guard
      // fails at once while Redis is down and bounds the wait otherwise: the policy below applies.
      const [allowed, remaining, resetMs, retryAfterMs] = await this.#guard.run(() => run(`${this.#prefix}{${key}}`, ...args), this.#timeoutMs, 'EVALSHA');
      this.lastError = null;
      return { allowed: allowed === 1, limit, remaining: remaining!, resetMs: resetMs!, retryAfterMs: retryAfterMs! };
    } catch (err) {
      this.lastError = err as Error;
      const allowed = this.#onError === 'open';
      return { allowed, limit, remaining: allowed ? limit : 0, resetMs: 1000, retryAfterMs: allowed ? 0 : 1000 };
    }
  }
}

export interface RateLimitOptions {
  limiter: Limiter;
  /** What is limited: the client IP (default), a user, an API key... `undefined` skips the limit. */
  key?: (ctx: Context) => string | undefined;
}

/**
 * @example
 * ```ts
 * app.use(rateLimit({ limiter: new RedisLimiter(redis, { kind: 'token-bucket', capacity: 20, refillPerSec: 5 }), key: (ctx) => ctx.state.userId as string }));
 * ```
 */
export function rateLimit(options: RateLimitOptions) {
  const key = options.key ?? ((ctx: Context) => ctx.ip);
  const a = options.limiter.algorithm;
  const policy = a.kind === 'token-bucket' ? `${a.capacity};w=${Math.ceil(a.capacity / a.refillPerSec)}` : `${a.limit};w=${Math.ceil(a.windowMs / 1000)}`;
  const mw = async (ctx: Context, next: () => Promise<void>): Promise<void> => {
    const k = key(ctx);
    if (k === undefined) return next();
    let r = options.limiter.check(k);
    if (r instanceof Promise) r = await r;
    const res = ctx.res;
    res.setHeader('ratelimit-policy', policy);
    res.setHeader('ratelimit-limit', String(r.limit));
    res.setHeader('ratelimit-remaining', String(r.remaining));
    res.setHeader('ratelimit-reset', String(Math.ceil(r.resetMs / 1000)));
    if (!r.allowed) {
      const retry = String(Math.max(1, Math.ceil(r.retryAfterMs / 1000)));
      throw new HttpError(429, { detail: `rate limit exceeded; retry in ${retry} s` }, { 'retry-after': retry });
    }
    await next();
  };
  // Every route it wraps may answer 429: the OpenAPI document says so.
  return Object.assign(mw, { openapi: { responses: { 429: 'Too Many Requests: see Retry-After and the RateLimit headers' } } });
}
