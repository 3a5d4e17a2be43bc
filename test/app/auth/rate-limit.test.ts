import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemoryLimiter, rateLimit, RedisLimiter, type Algorithm } from '../../../lib/app/auth/index.js';
import { createApp } from '../../../lib/app/index.js';
import { REDIS_URL, testRedis } from './helpers.js';

const run = promisify(execFile);

/** Increasing request times (ms) on a virtual clock. */
const times = fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 300 }).map((gaps) => {
  let t = 1_000_000;
  return gaps.map((g) => (t += g));
});

function replay(a: Algorithm, ts: number[]) {
  let now = 0;
  const l = new MemoryLimiter(a, { now: () => now });
  return ts.map((t) => {
    now = t;
    return { t, ...l.check('k') };
  });
}

describe('rate limiting (memory, virtual clock)', () => {
  it('fixed window admits exactly min(limit, hits) per window', () => {
    fc.assert(
      fc.property(times, fc.integer({ min: 1, max: 10 }), fc.integer({ min: 100, max: 3000 }), (ts, limit, windowMs) => {
        const out = replay({ kind: 'fixed-window', limit, windowMs }, ts);
        const perWindow = new Map<number, { hits: number; allowed: number }>();
        for (const r of out) {
          const w = Math.floor(r.t / windowMs);
          const e = perWindow.get(w) ?? { hits: 0, allowed: 0 };
          e.hits++;
          if (r.allowed) e.allowed++;
          perWindow.set(w, e);
        }
        for (const e of perWindow.values()) expect(e.allowed).toBe(Math.min(limit, e.hits));
      }),
    );
  });

  it('sliding window matches the exact model: admitted iff fewer than limit admissions in the last window', () => {
    fc.assert(
      fc.property(times, fc.integer({ min: 1, max: 10 }), fc.integer({ min: 100, max: 3000 }), (ts, limit, windowMs) => {
        const out = replay({ kind: 'sliding-window', limit, windowMs }, ts);
        const admitted: number[] = [];
        for (const r of out) {
          const inWindow = admitted.filter((a) => r.t - a < windowMs).length;
          expect(r.allowed).toBe(inWindow < limit);
          if (r.allowed) {
            admitted.push(r.t);
            expect(r.remaining).toBe(limit - inWindow - 1);
          } else expect(r.t + r.retryAfterMs - admitted.filter((a) => r.t - a < windowMs)[0]!).toBe(windowMs);
        }
      }),
    );
  });

  it('token bucket never admits more than capacity + rate × elapsed, and admits after retryAfter', () => {
    fc.assert(
      fc.property(times, fc.integer({ min: 1, max: 10 }), fc.double({ min: 0.5, max: 50, noNaN: true }), (ts, capacity, refillPerSec) => {
        const a: Algorithm = { kind: 'token-bucket', capacity, refillPerSec };
        const out = replay(a, ts);
        for (let i = 0; i < out.length; i++) {
          let n = 0;
          for (let j = i; j < out.length; j++) {
            if (out[j]!.allowed) n++;
            expect(n).toBeLessThanOrEqual(capacity + (refillPerSec * (out[j]!.t - out[i]!.t)) / 1000 + 1e-9);
          }
        }
        // Refused at t with retryAfter r: alone, a request at t + r is admitted.
        const refused = out.find((r) => !r.allowed);
        if (refused !== undefined) {
          const upTo = ts.slice(0, ts.indexOf(refused.t) + 1);
          const again = replay(a, [...upTo, refused.t + refused.retryAfterMs]);
          expect(again[again.length - 1]!.allowed).toBe(true);
        }
      }),
    );
  });
});

describe('rate limiting (Redis)', () => {
  for (const kind of ['fixed-window', 'sliding-window', 'token-bucket'] as const) {
    it(`${kind}: four processes share one limit of 100 exactly`, async () => {
      const r = testRedis();
      try {
        const worker = join(import.meta.dirname, '../../fixtures/rate-limit-worker.mjs');
        const outs = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, [worker, REDIS_URL, r.prefix, kind, '60'])));
        expect(outs.reduce((n, o) => n + Number(o.stdout), 0)).toBe(100);
      } finally {
        await r.cleanup();
      }
    });
  }

  it('when Redis is down: fail open or closed as configured', async () => {
    const down = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    down.on('error', () => {});
    try {
      const a: Algorithm = { kind: 'fixed-window', limit: 1, windowMs: 1000 };
      const open = new RedisLimiter(down, a, { onError: 'open' });
      const closed = new RedisLimiter(down, a, { onError: 'closed' });
      expect((await open.check('x')).allowed).toBe(true);
      expect(open.lastError).toBeInstanceOf(Error);
      expect((await closed.check('x')).allowed).toBe(false);
    } finally {
      down.disconnect();
    }
  });

  it('the middleware sets RateLimit-* headers and answers 429 with Retry-After', async () => {
    const r = testRedis();
    try {
      const app = createApp();
      app.use(rateLimit({ limiter: new RedisLimiter(r.redis, { kind: 'fixed-window', limit: 2, windowMs: 60_000 }, { prefix: r.prefix }), key: (ctx) => ctx.req.get('x-user') }));
      app.get('/', () => 'ok');
      const hit = () => app.inject({ method: 'GET', url: '/', headers: { 'x-user': 'ann' } });
      const first = await hit();
      expect([first.status, first.headers['ratelimit-limit'], first.headers['ratelimit-remaining'], first.headers['ratelimit-policy']]).toEqual([200, '2', '1', '2;w=60']);
      await hit();
      const third = await hit();
      expect(third.status).toBe(429);
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
      expect(third.headers['ratelimit-remaining']).toBe('0');
      expect(third.json<{ detail: string }>().detail).toMatch(/rate limit exceeded/);
      expect((await app.inject({ method: 'GET', url: '/' })).status).toBe(200); // no key: not limited
    } finally {
      await r.cleanup();
    }
  });
});
