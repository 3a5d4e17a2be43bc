/** What the Redis-backed services (auth, cache, realtime) share about their ioredis client. */
import type { Cluster, Redis } from 'ioredis';

/** A standalone client or a Redis Cluster client (ioredis). */
export type RedisClient = Redis | Cluster;

/**
 * The client is between connections: a command now would wait in ioredis's queue for a reconnect, so
 * callers that degrade (cache pass-through, rate-limit failure policy) answer at once instead.
 */
export function isDisconnected(redis: RedisClient): boolean {
  const st = redis.status;
  return st === 'reconnecting' || st === 'close' || st === 'end' || st === 'connecting';
}
