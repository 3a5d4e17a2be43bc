// Cache bench: our LRU (and the Cache service on it) vs lru-cache, get and set ops/s on the same keys;
// the two-level cache's L1 hit path vs a plain Map lookup; a Redis-backed get with an L1 miss.
import Benchmark from 'benchmark';
import { LRUCache } from 'lru-cache';
import { Redis } from 'ioredis';
import { Cache, Lru, MemoryBackend, TwoLevelBackend } from '../dist/lib/app/cache/index.js';
import { fmt, log, table, writeSection } from './lib.mjs';

const N = 10_000;
const keys = Array.from({ length: N * 2 }, (_, i) => `user:${i}`);
const value = { id: 1, name: 'Ann', email: 'ann@example.com' };

function suite() {
  const ours = new Lru({ maxEntries: N });
  const theirs = new LRUCache({ max: N });
  const ourTtl = new Lru({ maxEntries: N });
  const theirTtl = new LRUCache({ max: N, ttl: 60_000, ttlAutopurge: false });
  const map = new Map();
  const cache = new Cache({ backend: new MemoryBackend({ maxEntries: N }) });
  for (let i = 0; i < N; i++) {
    ours.set(keys[i], value);
    theirs.set(keys[i], value);
    ourTtl.set(keys[i], value, 60_000);
    theirTtl.set(keys[i], value);
    map.set(keys[i], value);
    void cache.set(keys[i], value);
  }
  let i = 0;
  let j = 0;
  return {
    // gets: all hits, keys cycling; sets: half new keys (evicting), half updates.
    'covet Lru get': () => ours.get(keys[i++ % N]),
    'lru-cache get': () => theirs.get(keys[i++ % N]),
    'covet Lru set': () => ours.set(keys[j++ % (2 * N)], value),
    'lru-cache set': () => theirs.set(keys[j++ % (2 * N)], value),
    'covet Lru get (ttl)': () => ourTtl.get(keys[i++ % N]),
    'lru-cache get (ttl)': () => theirTtl.get(keys[i++ % N]),
    'Cache.getSync (memory)': () => cache.getSync(keys[i++ % N]),
    'Map.get': () => map.get(keys[i++ % N]),
  };
}

export async function runCacheBench() {
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const runs = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries(suite())) {
      const b = new Benchmark(name, fn);
      b.options.maxTime = 1;
      b.run({ async: false });
      (runs[name] ??= []).push(b.hz);
      log(`  round ${r + 1}: ${name} ${fmt(b.hz)} ops/s`);
    }
  }
  const med = (l) => l.slice().sort((a, b) => a - b)[Math.floor(l.length / 2)];
  const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, med(v)]));
  // Two-level: L1 hit (sync) and L1 miss → Redis, against the local Redis.
  const redis = new Redis('redis://127.0.0.1:6379');
  const prefix = `covet-bench:${process.pid}:`;
  const two = new TwoLevelBackend(redis, { prefix, maxEntries: N });
  await two.ready();
  const c2 = new Cache({ backend: two });
  await c2.set('hot', value);
  for (let k = 0; k < 1000; k++) await c2.set(`cold:${k}`, value);
  const hitRuns = [];
  for (let r = 0; r < ROUNDS; r++) {
    const b = new Benchmark('L1 hit', () => c2.getSync('hot'));
    b.options.maxTime = 1;
    b.run({ async: false });
    hitRuns.push(b.hz);
  }
  // L1 miss: drop L1 each time so every get goes to Redis (64 in flight).
  let n = 0;
  const t0 = process.hrtime.bigint();
  const end = Date.now() + 2000;
  while (Date.now() < end) {
    two.l1.lru.clear();
    await Promise.all(Array.from({ length: 64 }, (_, k) => c2.get(`cold:${(n + k) % 1000}`)));
    n += 64;
  }
  const missRate = n / (Number(process.hrtime.bigint() - t0) / 1e9);
  const leftovers = await redis.keys(`${prefix}*`);
  if (leftovers.length > 0) await redis.del(...leftovers);
  await two.close();
  redis.disconnect();
  const hit = med(hitRuns);
  const row = (label, a, b) => [label, fmt(m[a]), fmt(m[b]), `${(m[a] / m[b]).toFixed(2)}×`];
  writeSection(
    '90-cache',
    `## Cache (benchmark.js, ops/s, median of ${ROUNDS} rounds; ${N} entries, all-hit gets, sets half new keys that evict)\n\n` +
      `Target: memory cache ≥ lru-cache; the L1 hit path within 2× of a plain Map lookup.\n\n` +
      table(['', 'covet', 'lru-cache', 'ratio'], [row('get', 'covet Lru get', 'lru-cache get'), row('set', 'covet Lru set', 'lru-cache set'), row('get with TTLs', 'covet Lru get (ttl)', 'lru-cache get (ttl)')]) +
      `\nHit paths vs \`Map.get\` (${fmt(m['Map.get'])}/s): \`Cache.getSync\` on memory ${fmt(m['Cache.getSync (memory)'])}/s = ${(m['Map.get'] / m['Cache.getSync (memory)']).toFixed(2)}× the Map's cost; two-level L1 hit ${fmt(hit)}/s = ${(m['Map.get'] / hit).toFixed(2)}× the Map's cost. ` +
      `Two-level L1 miss → Redis (64 in flight): ${fmt(missRate)} gets/s.\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runCacheBench();
