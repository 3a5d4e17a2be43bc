/**
 * A Redis outage is not an app outage (issue: with REDIS_URL, the rate limiter waited on Redis before every
 * route and nothing was answered for the 15 s Redis was gone). The test starts a Redis of its own, builds
 * an app like the example's (Redis rate limit on every route, Redis-backed cache, Redis sessions,
 * health checks), then stops that Redis — killed (connections refused) and frozen (SIGSTOP: connections
 * open, nothing answered) — and checks that every request is answered, by the failure policies, that the
 * outage is logged once and ioredis prints no "Unhandled error event", and that all recovers by itself.
 */
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createApp, health, redisCheck, testClient, type TestClient } from '../../lib/app/index.js';
import { RedisLimiter, rateLimit } from '../../lib/app/auth/index.js';
import { Cache, RedisBackend } from '../../lib/app/cache/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { freePort } from '../helpers/free-port.js';
import { startRedisServer } from '../helpers/redis-server.js';

// A port the OS says is free now (a random one could be an ephemeral port in use).
const port = await freePort();
let server: ChildProcess | null = null;
let redis: Redis;
let client: TestClient;
let loads = 0;
const logs: string[] = [];
let limiter: RedisLimiter;

async function startRedis(): Promise<void> {
  server = await startRedisServer(port, ['--save', '', '--appendonly', 'no']);
}

/** A burst of concurrent requests; each must be answered (a hang fails the client's 5 s timeout). */
async function burst(path: string, n = 40): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => fetch(`${client.url}${path}`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status)));
}

beforeAll(async () => {
  await startRedis();
  // A client as users make it: defaults (offline queue on, 20 retries per request), reconnecting fast.
  redis = new Redis({ port, retryStrategy: (n) => Math.min(n * 50, 200) });
  const log = (m: string): void => void logs.push(m);
  limiter = new RedisLimiter(redis, { kind: 'fixed-window', limit: 1000, windowMs: 60_000 }, { prefix: 'outage:rl:' });
  const cache = new Cache({ backend: new RedisBackend(redis, { prefix: 'outage:cache:', log }) });
  const app = createApp();
  app.use(rateLimit({ limiter }));
  health(app, { checks: { redis: redisCheck(redis) } });
  app.get('/data', () => cache.getOrSet('data', async () => ({ loaded: ++loads }), { ttl: 60_000 }));
  client = await testClient(app);
  await redis.ping();
});

afterAll(async () => {
  await client.close();
  redis.disconnect();
  if (server !== null && server.exitCode === null) {
    server.kill('SIGCONT');
    server.kill('SIGKILL');
  }
});

it('Redis killed: every route still answers at once (limits fail open, the cache passes through), /ready says 503, one log line; then it recovers', async () => {
  const consoleError = vi.spyOn(console, 'error');
  expect(await burst('/data', 5)).toEqual([200, 200, 200, 200, 200]);
  expect(loads).toBe(1); // cached in Redis
  server!.kill('SIGKILL');
  await new Promise((r) => server!.once('exit', r));
  // Straight away, before ioredis has noticed anything, and while it retries.
  const during = [...(await burst('/data')), ...(await burst('/health', 10))];
  expect(during.every((s) => s === 200)).toBe(true);
  expect(loads).toBeGreaterThan(1); // passed through to the loader
  const ready = await fetch(`${client.url}/ready`, { signal: AbortSignal.timeout(5000) });
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { checks: { redis: { error: string } } }).checks.redis.error).toMatch(/Redis is unreachable/);
  await new Promise((r) => setTimeout(r, 600)); // several reconnect attempts, each an 'error' event
  expect(await burst('/data')).toEqual(Array(40).fill(200));
  expect(logs.filter((l) => /Redis unreachable/.test(l))).toHaveLength(1);
  expect(consoleError.mock.calls.map((c) => String(c[0])).filter((m) => /Unhandled error event/.test(m))).toEqual([]);
  expect(limiter.lastError).toBeInstanceOf(Error);

  await startRedis();
  await waitFor(async () => (await fetch(`${client.url}/ready`)).status === 200, 10_000, '/ready to recover');
  expect(logs.filter((l) => /Redis is back after/.test(l))).toHaveLength(1);
  expect(await burst('/data', 3)).toEqual([200, 200, 200]);
  expect(limiter.lastError).toBeNull();
  consoleError.mockRestore();
}, 30_000);

it('Redis frozen (connections open, no answers): requests are answered within the command deadline, not held', async () => {
  await redis.ping();
  server!.kill('SIGSTOP');
  try {
    // Each answered (the client gives up after 5 s): the limiter and the cache stop waiting at their deadline.
    expect(await burst('/data', 20)).toEqual(Array(20).fill(200));
    expect(limiter.lastError?.message).toBe('Redis did not answer within 500 ms');
    expect((await fetch(`${client.url}/ready`, { signal: AbortSignal.timeout(5000) })).status).toBe(503);
  } finally {
    server!.kill('SIGCONT');
  }
  await waitFor(async () => (await fetch(`${client.url}/ready`)).status === 200, 10_000, '/ready to recover');
}, 30_000);
