import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Cache, httpCache, MemoryBackend, RedisBackend, TwoLevelBackend, type CacheBackend } from '../../../lib/app/cache/index.js';
import { createApp } from '../../../lib/app/index.js';
import { createOrm, integer, serial, table, text } from '../../../lib/app/orm/index.js';
import { testDb } from '../db/helpers.js';
import { REDIS_URL, testRedis } from '../auth/helpers.js';
import { waitFor } from '../../helpers/wait-for.js';

const run = promisify(execFile);
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

const backends: Array<[string, () => CacheBackend]> = [
  ['memory', () => new MemoryBackend({ maxEntries: 1000 })],
  ['redis', () => {
    const r = testRedis();
    cleanups.push(r.cleanup);
    return new RedisBackend(r.redis, { prefix: r.prefix });
  }],
  ['two-level', () => {
    const r = testRedis();
    const b = new TwoLevelBackend(r.redis, { prefix: r.prefix });
    cleanups.push(async () => {
      await b.close();
      await r.cleanup();
    });
    return b;
  }],
];

for (const [name, make] of backends) {
  describe(`cache (${name})`, () => {
    it('get/set/delete with TTL; values of every kind come back equal (JSON, strings, Buffers)', async () => {
      const c = new Cache({ backend: make(), ttl: 200 });
      await c.set('obj', { a: [1, 'x', null], b: true });
      await c.set('str', 'plain text');
      await c.set('buf', Buffer.from([0, 255, 10]));
      expect(await c.get('obj')).toEqual({ a: [1, 'x', null], b: true });
      expect(await c.get('str')).toBe('plain text');
      expect(await c.get('buf')).toEqual(Buffer.from([0, 255, 10]));
      await c.delete('str');
      expect(await c.get('str')).toBeUndefined();
      await new Promise((r) => setTimeout(r, 250));
      expect(await c.get('obj')).toBeUndefined();
    });

    it('tags: invalidating one drops every entry carrying it', async () => {
      const c = new Cache({ backend: make() });
      await c.set('u1', 1, { tags: ['users', 'u1'] });
      await c.set('u2', 2, { tags: ['users'] });
      await c.set('n1', 3, { tags: ['notes'] });
      await c.invalidateTag('users');
      expect([await c.get('u1'), await c.get('u2'), await c.get('n1')]).toEqual([undefined, undefined, 3]);
    });

    it('getOrSet: concurrent misses load once; stale-while-revalidate answers at once and refreshes', async () => {
      const c = new Cache({ backend: make() });
      let loads = 0;
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const load = async () => {
        const n = ++loads;
        if (n > 1) await gate; // the refresh: held until the test opens the gate
        else await new Promise((r) => setTimeout(r, 30));
        return `v${n}`;
      };
      const all = await Promise.all(Array.from({ length: 20 }, () => c.getOrSet('k', load, { ttl: 100, staleWhileRevalidate: 5000 })));
      expect(new Set(all)).toEqual(new Set(['v1']));
      expect(loads).toBe(1);
      await new Promise((r) => setTimeout(r, 150)); // now stale (a longer wait only makes it staler)
      // Answered with the stale value while the refresh it starts is held at the gate: had it waited for
      // the load, this await would never end (an ordering, not a stopwatch: a busy machine cannot fail it).
      expect(await c.getOrSet('k', load, { ttl: 100, staleWhileRevalidate: 5000 })).toBe('v1');
      await waitFor(() => loads === 2, 5000); // the refresh started
      open();
      await waitFor(async () => (await c.get('k')) === 'v2', 5000);
      const wrapped = c.wrap(async (id: number) => ({ id, at: ++loads }), { key: (id) => `w:${id}`, ttl: 10_000 });
      expect(await wrapped(7)).toEqual(await wrapped(7));
    });
  });
}

describe('two-level cache across instances', () => {
  it('a write on one instance drops the L1 copy on the other (pub/sub)', async () => {
    const r1 = testRedis();
    const r2 = new Redis(REDIS_URL);
    const a = new TwoLevelBackend(r1.redis, { prefix: r1.prefix });
    const b = new TwoLevelBackend(r2, { prefix: r1.prefix });
    try {
      await Promise.all([a.ready(), b.ready()]);
      const ca = new Cache({ backend: a });
      const cb = new Cache({ backend: b });
      await ca.set('k', 'one', { tags: ['t'] });
      // Let a's announcement of that write reach b first: a read overlapping it would not fill L1.
      await new Promise((r) => setTimeout(r, 50));
      expect(await cb.get('k')).toBe('one'); // from Redis, now in b's L1
      expect(cb.getSync('k')).toBe('one');
      await ca.set('k', 'two');
      await new Promise((r) => setTimeout(r, 50));
      expect(cb.getSync('k')).toBeUndefined(); // invalidated
      expect(await cb.get('k')).toBe('two');
      await ca.invalidateTag('t');
      await new Promise((r) => setTimeout(r, 50));
      expect(cb.getSync('k')).toBe('two'); // 'two' was set without the tag
    } finally {
      await a.close();
      await b.close();
      r2.disconnect();
      await r1.cleanup();
    }
  });

  it('with invalidation: tracking, Redis itself announces changes: writes by other instances or other programs, TTL changes; not our own writes', async () => {
    const r1 = testRedis();
    const r2 = new Redis(REDIS_URL);
    const outside = new Redis(REDIS_URL);
    const a = new TwoLevelBackend(r1.redis, { prefix: r1.prefix, invalidation: 'tracking' });
    const b = new TwoLevelBackend(r2, { prefix: r1.prefix, invalidation: 'tracking' });
    const settle = () => new Promise((r) => setTimeout(r, 50));
    try {
      await Promise.all([a.ready(), b.ready()]);
      const ca = new Cache({ backend: a });
      const cb = new Cache({ backend: b });
      await ca.set('k', 'one');
      await settle(); // (also lets the announcement reach b before b reads)
      expect(ca.getSync('k')).toBe('one'); // our own write is not announced back to us (NOLOOP)
      expect(await cb.get('k')).toBe('one');
      expect(cb.getSync('k')).toBe('one');
      await ca.set('k', 'two'); // no PUBLISH in this mode: Redis tells b
      await waitFor(() => cb.getSync('k') === undefined);
      expect(await cb.get('k')).toBe('two');
      expect(cb.getSync('k')).toBe('two');
      expect(ca.getSync('k')).toBe('two');
      // A program that knows nothing of this cache deletes the key: both L1 copies go.
      await outside.del(`${r1.prefix}k`);
      await waitFor(() => ca.getSync('k') === undefined && cb.getSync('k') === undefined);
      // ... or shortens its life in Redis.
      await ca.set('j', 'x');
      await settle();
      expect(await cb.get('j')).toBe('x');
      expect(cb.getSync('j')).toBe('x');
      await outside.pexpire(`${r1.prefix}j`, 10_000);
      await waitFor(() => cb.getSync('j') === undefined);
      // Tags: the member keys are deleted in Redis, which announces each.
      await ca.set('t1', 1, { tags: ['group'] });
      await settle();
      expect(await cb.get('t1')).toBe(1);
      expect(cb.getSync('t1')).toBe(1);
      await ca.invalidateTag('group');
      await waitFor(() => cb.getSync('t1') === undefined);
      // An outside write into the entry's hash.
      expect(await cb.get('j')).toBe('x');
      expect(cb.getSync('j')).toBe('x');
      await outside.hset(`${r1.prefix}j`, 'v', 'y'); // strings are stored as they are
      await waitFor(() => cb.getSync('j') === undefined);
      expect(await cb.get('j')).toBe('y');
      expect(cb.getSync('j')).toBe('y');
      // A flush is announced as "everything" (null): L1 is cleared. Flushing an unused database is enough
      // (the announcement goes to every tracking client) and touches no other test's keys.
      const flusher = new Redis(REDIS_URL, { db: 13 });
      try {
        await flusher.flushdb();
      } finally {
        flusher.disconnect();
      }
      await waitFor(() => cb.getSync('j') === undefined);
    } finally {
      await a.close();
      await b.close();
      r2.disconnect();
      outside.disconnect();
      await r1.cleanup();
    }
  });

  it('a read from Redis that overlaps an invalidation of its key does not fill L1 (both modes)', async () => {
    for (const invalidation of ['pubsub', 'tracking'] as const) {
      const r1 = testRedis();
      const r2 = new Redis(REDIS_URL);
      const a = new TwoLevelBackend(r1.redis, { prefix: r1.prefix, invalidation });
      const b = new TwoLevelBackend(r2, { prefix: r1.prefix, invalidation });
      try {
        await Promise.all([a.ready(), b.ready()]);
        const ca = new Cache({ backend: a });
        const cb = new Cache({ backend: b });
        await ca.set('k', 'one');
        // Hold b's Redis connection for 300 ms, so its read of k waits behind it while a rewrites k.
        const blocker = b.l2.redis.blpop(`${r1.prefix}never`, 0.3);
        const read = cb.get('k');
        await new Promise((r) => setTimeout(r, 50));
        await ca.set('k', 'two');
        await blocker;
        expect(await read).toBe('two');
        expect(cb.getSync('k')).toBeUndefined(); // not cached: an invalidation arrived while it was read
        expect(await cb.get('k')).toBe('two');
        expect(cb.getSync('k')).toBe('two'); // a quiet read fills L1
      } finally {
        await a.close();
        await b.close();
        r2.disconnect();
        await r1.cleanup();
      }
    }
  });

  it("refuses invalidation: 'tracking' on a Redis Cluster client", () => {
    const fake = { isCluster: true, duplicate: () => fake } as unknown as Redis;
    expect(() => new TwoLevelBackend(fake, { invalidation: 'tracking' })).toThrow(/standalone/);
  });

  it('stampede across processes: four processes missing one key call the origin once', async () => {
    const r = testRedis();
    cleanups.push(r.cleanup);
    const worker = join(import.meta.dirname, '../../fixtures/cache-worker.mjs');
    const outs = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, [worker, REDIS_URL, r.prefix])));
    const results = outs.map((o) => JSON.parse(o.stdout) as { value: string; loaded: boolean });
    expect(new Set(results.map((x) => x.value)).size).toBe(1);
    expect(results.filter((x) => x.loaded)).toHaveLength(1);
  });

  it('Redis down: passes through (every get a miss, sets dropped), logs once', async () => {
    const down = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    down.on('error', () => {});
    const logs: string[] = [];
    const c = new Cache({ backend: new RedisBackend(down, { log: (m) => logs.push(m) }) });
    let loads = 0;
    expect(await c.getOrSet('k', async () => ++loads)).toBe(1);
    expect(await c.getOrSet('k', async () => ++loads)).toBe(2);
    await c.set('x', 1);
    expect(await c.get('x')).toBeUndefined();
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/Redis unreachable/);
    down.disconnect();
  });
});

describe('HTTP response cache', () => {
  it('stores public answers per Vary variant, replays them with Age, answers 304, skips private ones', async () => {
    const cache = new Cache({ backend: new MemoryBackend() });
    const app = createApp();
    app.use(httpCache({ cache }));
    let calls = 0;
    app.get('/pub', (ctx) => {
      calls++;
      ctx.res.setHeader('cache-control', 'public, max-age=60');
      ctx.res.setHeader('vary', 'Accept-Language');
      ctx.res.setHeader('etag', `"v${ctx.req.get('accept-language') ?? 'none'}"`);
      return { lang: ctx.req.get('accept-language') ?? null, calls };
    });
    app.get('/private', (ctx) => {
      calls++;
      ctx.res.setHeader('cache-control', 'private, max-age=60');
      return { calls };
    });
    const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
    const en1 = await get('/pub', { 'accept-language': 'en' });
    const en2 = await get('/pub', { 'accept-language': 'en' });
    const fr = await get('/pub', { 'accept-language': 'fr' });
    expect([en1.headers['x-cache'], en2.headers['x-cache'], fr.headers['x-cache']]).toEqual(['MISS', 'HIT', 'MISS']);
    expect(en2.json()).toEqual(en1.json());
    expect(fr.json()).toMatchObject({ lang: 'fr' });
    expect(en2.headers.age).toBe('0');
    const revalidated = await get('/pub', { 'accept-language': 'en', 'if-none-match': '"ven"' });
    expect(revalidated.status).toBe(304);
    expect((await get('/pub', { 'accept-language': 'en', 'cache-control': 'no-cache' })).headers['x-cache']).toBe('MISS');
    const before = calls;
    await get('/private');
    await get('/private');
    expect(calls).toBe(before + 2);
  });
});

describe('ORM query cache', () => {
  it('caches results by statement and drops them when the ORM writes the table', async () => {
    const t = await testDb('pglite');
    cleanups.push(t.drop);
    await t.db.exec('create table items (id serial primary key, owner integer not null, name text not null)');
    const items = table('items', { id: serial().primaryKey(), owner: integer().notNull(), name: text().notNull() });
    const cache = new Cache({ backend: new MemoryBackend() });
    const orm = createOrm(t.db, { tables: { items } }, { cache });
    await orm.items.insert([{ owner: 1, name: 'a' }, { owner: 2, name: 'b' }]);
    const q = { where: { owner: 1 }, cache: { ttl: 60_000 } } as const;
    expect(await orm.items.findMany(q)).toHaveLength(1);
    await t.db.query(`insert into items (owner, name) values (1, 'behind the ORM')`);
    expect(await orm.items.findMany(q)).toHaveLength(1); // cached: the raw insert is not seen
    await orm.items.insert({ owner: 1, name: 'c' }); // an ORM write invalidates
    expect(await orm.items.findMany(q)).toHaveLength(3);
  });
});
