/**
 * Redis restarts in the middle of a load: the cache passes through while it is gone (logging once) and
 * caches again by itself afterwards; a Redis rate limiter fails open meanwhile and limits again after.
 * On a redis-server of the test's own, on a free port: the machine's shared Redis is never touched.
 */
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLimiter } from '../../../lib/app/auth/index.js';
import { Cache, RedisBackend, TwoLevelBackend } from '../../../lib/app/cache/index.js';
import { freePort } from '../../helpers/free-port.js';
import { startRedisServer } from '../../helpers/redis-server.js';
import { waitFor as waitUntil } from '../../helpers/wait-for.js';

const waitFor = (cond: () => boolean | Promise<boolean>, ms = 10_000) => waitUntil(cond, ms);

let port = 0;
let server: ChildProcess | null = null;
let REDIS_URL = '';
const ARGS = ['--save', '', '--appendonly', 'no'];

async function stopRedis(): Promise<void> {
  const s = server!;
  server = null;
  s.kill('SIGKILL');
  if (s.exitCode === null) await once(s, 'exit');
}

async function startRedis(): Promise<void> {
  server = await startRedisServer(port, ARGS);
}

beforeAll(async () => {
  port = await freePort();
  REDIS_URL = `redis://127.0.0.1:${port}`;
  await startRedis();
}, 20_000);
afterAll(async () => {
  if (server !== null) await stopRedis();
});


describe('Redis restart', () => {
  it('cache and rate limiter degrade while Redis is down and recover without help', async () => {
    const prefix = `covet-test:restart:${process.pid}:`;
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 50, 500) });
    redis.on('error', () => {});
    const logs: string[] = [];
    const cache = new Cache({ backend: new RedisBackend(redis, { prefix, log: (m) => logs.push(m) }) });
    const limiter = new RedisLimiter(redis, { kind: 'fixed-window', limit: 1000, windowMs: 60_000 }, { prefix, onError: 'open' });
    let loads = 0;
    const load = async () => ++loads;
    let running = true;
    let answered = 0;
    const loop = (async () => {
      while (running) {
        await Promise.all([cache.getOrSet('k', load, { ttl: 60_000 }), limiter.check('ip')]);
        answered++;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      await waitFor(() => answered > 20);
      expect(loads).toBe(1); // cached
      await stopRedis();
      try {
        // While it is down, answers go on: the cache loads from the origin, the limiter admits.
        await waitFor(() => logs.some((l) => /unreachable/.test(l)));
        const n0 = answered;
        await waitFor(() => answered > n0 + 5);
        expect(limiter.lastError).toBeInstanceOf(Error);
      } finally {
        await startRedis();
      }
      await waitFor(() => logs.some((l) => /back/.test(l)), 15_000);
      // Redis came back empty: a load refills it, then every request hits again.
      await waitFor(async () => (await cache.get('k')) !== undefined);
      const after = loads;
      const n = answered;
      await waitFor(() => answered > n + 20);
      running = false;
      await loop;
      expect(loads).toBe(after);
      expect((await limiter.check('ip')).allowed).toBe(true);
      expect(limiter.lastError).toBeNull();
      expect(logs.filter((l) => /unreachable/.test(l))).toHaveLength(1);
    } finally {
      running = false;
      await loop.catch(() => {});
      const keys = await redis.keys(`${prefix}*`).catch(() => []);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  }, 40_000);

  it('two-level caches tracking keys start afresh after a restart and are invalidated by Redis again', async () => {
    const prefix = `covet-test:restart-track:${process.pid}:`;
    const opts = { maxRetriesPerRequest: 1, retryStrategy: (n: number) => Math.min(n * 50, 500) };
    const r1 = new Redis(REDIS_URL, opts);
    const r2 = new Redis(REDIS_URL, opts);
    for (const r of [r1, r2]) r.on('error', () => {});
    const a = new TwoLevelBackend(r1, { prefix, invalidation: 'tracking', log: () => {} });
    const b = new TwoLevelBackend(r2, { prefix, invalidation: 'tracking', log: () => {} });
    const ca = new Cache({ backend: a });
    const cb = new Cache({ backend: b });
    try {
      await Promise.all([a.ready(), b.ready()]);
      await ca.set('k', 'before');
      await new Promise((r) => setTimeout(r, 50));
      expect(await cb.get('k')).toBe('before');
      expect(cb.getSync('k')).toBe('before');
      await stopRedis();
      try {
        // Invalidations cannot arrive while Redis is gone; the L1 copy is dropped once the subscriber is back.
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        await startRedis();
      }
      await waitFor(() => cb.getSync('k') === undefined);
      // Tracking is set up again on the new connections: a write on a reaches b's L1 once more.
      await waitFor(async () => {
        await ca.set('k', 'after').catch(() => {});
        await new Promise((r) => setTimeout(r, 50));
        return (await cb.get('k').catch(() => undefined)) === 'after' && cb.getSync('k') === 'after';
      });
      await ca.set('k', 'again');
      await waitFor(() => cb.getSync('k') === undefined);
      expect(await cb.get('k')).toBe('again');
    } finally {
      await a.close();
      await b.close();
      const keys = await r1.keys(`${prefix}*`).catch(() => []);
      if (keys.length > 0) await r1.del(...keys);
      r1.disconnect();
      r2.disconnect();
    }
  }, 40_000);
});
