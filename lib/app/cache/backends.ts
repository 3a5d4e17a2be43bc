/**
 * Cache backends. Memory: an LRU bounded by entries and bytes, tags indexed in process. Redis: entries
 * as hashes (value bytes + deadlines + format), tags as sets, invalidation and locks in Lua/NX; when
 * Redis is unreachable it degrades to a pass-through (misses, no-op writes), logs once, and recovers by
 * itself. Every command touches one key (or keys of one hash slot), so a Redis Cluster serves it too.
 * Two-level: memory in front of Redis; every write and invalidation is published on a Redis
 * channel so other instances drop their L1 copies.
 */
import { randomBytes } from 'node:crypto';
import { redisGuard, type RedisClient, type RedisGuard } from '../redis-client.js';
import type { CacheBackend, Entry } from './cache.js';
import { coarseNow } from './clock.js';
import { approximateSize, Lru } from './lru.js';

export { approximateSize };

/** Turns values into bytes for Redis and back. Default: JSON, with Buffers and strings stored as-is. */
export interface Serializer {
  encode(value: unknown): { format: string; bytes: Buffer | string };
  decode(format: string, bytes: Buffer): unknown;
}

export const defaultSerializer: Serializer = {
  encode(v) {
    if (Buffer.isBuffer(v)) return { format: 'b', bytes: v };
    if (typeof v === 'string') return { format: 's', bytes: v };
    return { format: 'j', bytes: JSON.stringify(v) ?? 'null' };
  },
  decode(format, bytes) {
    if (format === 'b') return bytes;
    if (format === 's') return bytes.toString('utf8');
    return JSON.parse(bytes.toString('utf8')) as unknown;
  },
};

/** Options of the in-process layer. */
export interface MemoryOptions {
  /** Most entries. Default 10 000. */
  maxEntries?: number;
  /** Most bytes (as `sizeOf` counts them). Default unbounded. */
  maxBytes?: number;
  sizeOf?: (value: unknown) => number;
  /**
   * Eviction policy. Default `'sieve'`: a hit sets a bit instead of relinking a list, and on skewed
   * (Zipf) traffic it keeps 2–10 points more hits than LRU (bench/RESULTS.md); `'lru'` for strict LRU.
   */
  eviction?: 'lru' | 'sieve';
}

/**
 * In-process entries (values kept as they are: no copy, no serialization).
 *
 * @example
 * ```ts
 * const cache = createCache({ backend: new MemoryBackend({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 }) });
 * ```
 */
export class MemoryBackend implements CacheBackend {
  readonly lru: Lru<Entry>;
  readonly #tags = new Map<string, Set<string>>();

  constructor(options: MemoryOptions = {}) {
    this.lru = new Lru<Entry>({
      maxEntries: options.maxEntries ?? 10_000,
      policy: options.eviction ?? 'sieve',
      maxBytes: options.maxBytes,
      sizeOf: options.maxBytes === undefined ? undefined : (e) => (options.sizeOf ?? approximateSize)(e.value),
      onRemove: (key, e) => {
        for (const t of e.tags) this.#tags.get(t)?.delete(key);
      },
    });
  }

  /** The in-process layer `Cache.getSync` reads (this backend's LRU). */
  get local(): Lru<Entry> {
    return this.lru;
  }

  get(key: string): Entry | undefined {
    const e = this.lru.get(key);
    if (e !== undefined && e.stale <= coarseNow()) {
      this.lru.delete(key);
      return undefined;
    }
    return e;
  }

  set(key: string, entry: Entry): void {
    this.lru.set(key, entry);
    if (entry.tags.length === 0) return;
    for (const t of entry.tags) {
      let s = this.#tags.get(t);
      if (s === undefined) this.#tags.set(t, (s = new Set()));
      s.add(key);
    }
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  invalidateTag(tag: string): void {
    const keys = this.#tags.get(tag);
    if (keys === undefined) return;
    this.#tags.delete(tag);
    for (const k of [...keys]) this.lru.delete(k);
  }
}


/**
 * Entries in Redis under `prefix`.
 *
 * @example
 * ```ts
 * const cache = createCache({ backend: new RedisBackend(new Redis(process.env.REDIS_URL!), { prefix: 'app:cache:' }) });
 * ```
 */
export class RedisBackend implements CacheBackend {
  readonly redis: RedisClient;
  readonly #prefix: string;
  readonly #ser: Serializer;
  readonly #owner = randomBytes(8).toString('hex');
  readonly #guard: RedisGuard;
  readonly #timeoutMs: number | undefined;
  #down = false;

  /** `timeoutMs`: the longest a cache call waits on Redis before passing through (default 500). */
  constructor(redis: RedisClient, options: { prefix?: string; serializer?: Serializer; log?: (msg: string) => void; timeoutMs?: number } = {}) {
    this.redis = redis;
    this.#prefix = options.prefix ?? 'covet:cache:';
    this.#ser = options.serializer ?? defaultSerializer;
    this.#guard = redisGuard(redis, options.log);
    this.#timeoutMs = options.timeoutMs;
  }

  /** Whether the last Redis call failed (the cache is passing through). */
  get degraded(): boolean {
    return this.#down;
  }

  async #safe<T>(command: string, op: () => Promise<T>, fallback: T): Promise<T> {
    try {
      // The guard answers at once while Redis is down (no queueing behind ioredis's retries), bounds the
      // wait otherwise, and logs the outage once for every service on this client.
      const v = await this.#guard.run(op, this.#timeoutMs, command);
      this.#down = false;
      return v;
    } catch {
      this.#down = true;
      return fallback;
    }
  }


  get(key: string): Promise<Entry | undefined> {
    return this.#safe('HMGET', async () => {
      const [v, f, fresh, stale, tags] = await this.redis.hmgetBuffer(this.#prefix + key, 'v', 'f', 'fresh', 'stale', 'tags');
      if (v === null || f === null || fresh === null || stale === null) return undefined;
      const s = Number(stale.toString());
      if (s <= Date.now()) return undefined;
      return { value: this.#ser.decode(f.toString(), v), fresh: Number(fresh.toString()), stale: s, tags: tags === null || tags.length === 0 ? [] : tags.toString().split('\n') };
    }, undefined);
  }

  set(key: string, e: Entry): Promise<void> {
    return this.#safe('MULTI', async () => {
      const k = this.#prefix + key;
      const { format, bytes } = this.#ser.encode(e.value);
      // One MULTI per key (one slot in a Redis Cluster); tag sets live in their own slots.
      await this.redis.multi().del(k).hset(k, { v: bytes, f: format, fresh: String(e.fresh), stale: String(e.stale), tags: e.tags.join('\n') }).pexpireat(k, Math.ceil(e.stale)).exec();
      if (e.tags.length > 0) await Promise.all(e.tags.map((t) => this.redis.sadd(`${this.#prefix}tag:${t}`, k)));
    }, undefined);
  }

  delete(key: string): Promise<void> {
    return this.#safe('DEL', async () => void (await this.redis.del(this.#prefix + key)), undefined);
  }

  invalidateTag(tag: string): Promise<void> {
    return this.#safe('SMEMBERS', async () => {
      // Members are deleted one by one (they may sit on other Cluster shards than the tag set).
      const setKey = `${this.#prefix}tag:${tag}`;
      const keys = await this.redis.smembers(setKey);
      await Promise.all(keys.map((k) => this.redis.del(k)));
      await this.redis.srem(setKey, ...(keys.length > 0 ? keys : ['']));
    }, undefined);
  }

  /** SET NX PX: one process loads a missing key while the others wait for its value. */
  lock(key: string, ms: number): Promise<boolean> {
    // Redis down: everyone loads (pass-through) rather than waiting on a lock nobody can take.
    return this.#safe('SET', async () => (await this.redis.set(`${this.#prefix}lock:${key}`, this.#owner, 'PX', ms, 'NX')) === 'OK', true);
  }

  unlock(key: string): Promise<void> {
    return this.#safe('GET', async () => {
      const k = `${this.#prefix}lock:${key}`;
      if ((await this.redis.get(k)) === this.#owner) await this.redis.del(k);
    }, undefined);
  }
}

interface Invalidation {
  origin: string;
  key?: string;
  tag?: string;
}

/** Options of {@link TwoLevelBackend}. */
export interface TwoLevelOptions extends MemoryOptions {
  /** Redis key prefix. Default `covet:cache:`. */
  prefix?: string;
  /** Longest time an L1 copy is kept (a bound on staleness if an invalidation is lost). Default 60 000. */
  l1TtlMs?: number;
  /**
   * How other instances learn that a key changed:
   * - `'pubsub'` (default; any Redis, Cluster too): every write through this cache is published on a
   *   channel, and instances drop the key from L1.
   * - `'tracking'` (standalone Redis ≥ 6): server-assisted client-side caching — `CLIENT TRACKING … BCAST
   *   PREFIX` makes Redis itself announce every change under the prefix, so L1 copies are also dropped
   *   when a key expires or is evicted in Redis, or is written by a program that does not use this cache;
   *   writes publish nothing.
   */
  invalidation?: 'pubsub' | 'tracking';
  serializer?: Serializer;
  log?: (msg: string) => void;
}

/** Where Redis announces changes to tracked keys (RESP2 redirect mode). */
const TRACKING_CHANNEL = '__redis__:invalidate';

/**
 * L1 memory in front of L2 Redis. Reads hit L1 first (synchronously), then Redis (filling L1, for at
 * most `l1TtlMs`). Writes go to both; other instances drop their L1 copy, told by our pub/sub messages
 * or — with `invalidation: 'tracking'` — by Redis itself. A read from Redis that overlaps an
 * invalidation of its key does not fill L1 (the value it read may be the old one). If Redis is down the
 * L1 still serves, and the cache passes through.
 *
 * @example
 * ```ts
 * const backend = new TwoLevelBackend(redis, { prefix: 'app:cache:', maxEntries: 50_000, l1TtlMs: 30_000, invalidation: 'tracking' });
 * const cache = createCache({ backend });
 * cache.getSync('config'); // L1 only, synchronous
 * ```
 */
export class TwoLevelBackend implements CacheBackend {
  readonly l1: MemoryBackend;
  readonly l2: RedisBackend;
  readonly #sub: RedisClient;
  /** Tracking mode: the connection L2 uses and Redis tracks (NOLOOP: our own writes are not announced to us). */
  readonly #tracker: RedisClient | null;
  readonly #channel: string;
  readonly #prefix: string;
  readonly #id = randomBytes(8).toString('hex');
  readonly #l1Ttl: number;
  readonly #ready: Promise<unknown>;
  /** Keys being read from Redis: how many reads, and whether the key was invalidated meanwhile. */
  readonly #reading = new Map<string, { n: number; dirty: boolean }>();
  #subId: number | null = null;
  #closed = false;

  constructor(redis: RedisClient, options: TwoLevelOptions = {}) {
    const prefix = (this.#prefix = options.prefix ?? 'covet:cache:');
    this.l1 = new MemoryBackend(options);
    this.#l1Ttl = options.l1TtlMs ?? 60_000;
    this.#channel = `${prefix}invalidate`;
    const tracking = options.invalidation === 'tracking';
    if (tracking && (redis as { isCluster?: boolean }).isCluster === true) throw new Error("invalidation: 'tracking' needs a standalone Redis (a Cluster tracks keys per node); use 'pubsub'");
    // Same kind of client as the caller's, on connections of its own.
    const standalone = redis as unknown as { duplicate(o?: object): RedisClient };
    this.#tracker = tracking ? standalone.duplicate() : null;
    this.l2 = new RedisBackend(this.#tracker ?? redis, { prefix, serializer: options.serializer, log: options.log });
    // RESP2 on the tracking subscriber: ioredis 6 speaks RESP3 and does not surface tracking pushes.
    this.#sub = tracking ? standalone.duplicate({ protocol: 2, autoResubscribe: false }) : (redis as { duplicate(): RedisClient }).duplicate();
    this.#sub.on('error', () => {}); // reported by the L2 calls; the subscriber reconnects by itself
    this.#sub.on('messageBuffer', (ch: Buffer, msg: Buffer | Buffer[] | null) => this.#onMessage(ch.toString(), msg));
    if (tracking) {
      this.#tracker!.on('error', () => {});
      // A new subscriber connection has a new id; a new tracker connection has lost its tracking state.
      // Either way invalidations were missed meanwhile: L1 starts afresh.
      // A failure here is retried at the next reconnect of either connection; meanwhile L1 copies live at
      // most l1TtlMs. Said once per failure so a Redis without CLIENT TRACKING (< 6) is noticed.
      const log = options.log ?? ((m: string) => console.warn(m));
      const failed = (err: unknown): void => log(`cache: Redis client tracking not set up (${(err as Error).message}); L1 copies expire within l1TtlMs`);
      this.#ready = new Promise<void>((resolve) => {
        this.#sub.on('ready', () => void this.#trackFromScratch().then(resolve, failed));
      });
      this.#tracker!.on('ready', () => {
        // With the subscriber down too, its own 'ready' sets tracking up (with its new id).
        if (this.#subId !== null && (this.#sub as { status?: string }).status === 'ready') void this.#track().catch(failed);
      });
    } else {
      this.#sub.on('ready', () => this.#clearL1());
      this.#ready = this.#sub.subscribe(this.#channel).catch(() => {});
    }
  }

  /** The in-process layer `Cache.getSync` reads (L1's LRU). */
  get local(): Lru<Entry> {
    return this.l1.lru;
  }

  /** Resolves once this instance listens for invalidations. */
  ready(): Promise<void> {
    return this.#ready.then(() => undefined);
  }

  get(key: string): Entry | undefined | Promise<Entry | undefined> {
    const e = this.l1.get(key);
    if (e !== undefined) return e;
    let r = this.#reading.get(key);
    if (r === undefined) this.#reading.set(key, (r = { n: 0, dirty: false }));
    r.n++;
    const done = (): boolean => {
      const clean = !r.dirty;
      if (--r.n === 0) this.#reading.delete(key);
      return clean;
    };
    return this.l2.get(key).then(
      (x) => {
        if (done() && x !== undefined) this.l1.set(key, this.#forL1(x));
        return x;
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
  }

  async set(key: string, entry: Entry): Promise<void> {
    this.l1.set(key, this.#forL1(entry));
    await this.l2.set(key, entry);
    await this.#announce({ origin: this.#id, key });
  }

  async delete(key: string): Promise<void> {
    this.l1.delete(key);
    await this.l2.delete(key);
    await this.#announce({ origin: this.#id, key });
  }

  async invalidateTag(tag: string): Promise<void> {
    this.l1.invalidateTag(tag);
    await this.l2.invalidateTag(tag);
    await this.#announce({ origin: this.#id, tag });
  }

  lock(key: string, ms: number): Promise<boolean> {
    return this.l2.lock(key, ms);
  }

  unlock(key: string): Promise<void> {
    return this.l2.unlock(key);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#sub.disconnect();
    this.#tracker?.disconnect();
  }

  #invalidateKey(key: string): void {
    this.l1.delete(key);
    const r = this.#reading.get(key);
    if (r !== undefined) r.dirty = true;
  }

  #clearL1(): void {
    this.l1.lru.clear();
    for (const r of this.#reading.values()) r.dirty = true;
  }

  #onMessage(channel: string, msg: Buffer | Buffer[] | null): void {
    if (channel === TRACKING_CHANNEL) {
      // A list of changed Redis keys, or null when the database was flushed.
      if (!Array.isArray(msg)) return this.#clearL1();
      const p = this.#prefix;
      for (const k of msg) {
        const name = k.toString();
        if (name.startsWith(p)) this.#invalidateKey(name.slice(p.length));
      }
      return;
    }
    if (channel !== this.#channel || msg === null || Array.isArray(msg)) return;
    let m: Invalidation;
    try {
      m = JSON.parse(msg.toString()) as Invalidation;
    } catch {
      return;
    }
    if (m.origin === this.#id) return;
    if (m.key !== undefined) this.#invalidateKey(m.key);
    if (m.tag !== undefined) {
      this.l1.invalidateTag(m.tag);
      for (const r of this.#reading.values()) r.dirty = true; // which keys carry the tag is not known here
    }
  }

  /** (Re)subscribes the subscriber connection and points the tracker's invalidations at it. */
  async #trackFromScratch(): Promise<void> {
    this.#clearL1();
    const sub = this.#sub as unknown as { client(sub: 'ID'): Promise<number> };
    this.#subId = await sub.client('ID');
    await this.#sub.subscribe(TRACKING_CHANNEL);
    await this.#track();
  }

  /** Serialized: a connection's prefixes may be registered once, so each (re)start is OFF then ON. */
  #track(): Promise<void> {
    const t = this.#tracker as unknown as { client(...args: Array<string | number>): Promise<unknown> };
    const run = async (): Promise<void> => {
      if (this.#closed) return;
      this.#clearL1();
      await t.client('TRACKING', 'OFF');
      await t.client('TRACKING', 'ON', 'REDIRECT', this.#subId!, 'BCAST', 'PREFIX', this.#prefix, 'NOLOOP');
    };
    return (this.#tracking = this.#tracking.then(run, run));
  }

  #tracking: Promise<void> = Promise.resolve();

  /** L1 keeps a copy no longer than `l1TtlMs` (a bound on staleness if an invalidation is lost). */
  #forL1(e: Entry): Entry {
    const cap = Date.now() + this.#l1Ttl;
    return e.stale <= cap ? e : { ...e, fresh: Math.min(e.fresh, cap), stale: cap };
  }

  async #announce(m: Invalidation): Promise<void> {
    if (this.#tracker !== null) return; // Redis announces every change itself
    try {
      await redisGuard(this.l2.redis).run(() => this.l2.redis.publish(this.#channel, JSON.stringify(m)), undefined, 'PUBLISH');
    } catch {
      // Redis down: other instances' L1 copies expire within l1TtlMs
    }
  }
}
