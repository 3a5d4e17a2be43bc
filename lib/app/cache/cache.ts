/**
 * The cache service: `get/set/delete/getOrSet/wrap` with TTLs, tags and tag invalidation,
 * stale-while-revalidate, and stampede protection (single-flight per key in a process; a short lock in
 * the backend across processes). Backends: memory (LRU by entries and bytes), Redis, and two-level
 * (memory in front of Redis, kept coherent across instances by Redis pub/sub) — see backends.ts.
 */

import { spans } from '../../trace/hook.js';
import { coarseNow } from './clock.js';
import type { Lru } from './lru.js';

/** A stored value with its deadlines (ms since the epoch). */
export interface Entry<V = unknown> {
  value: V;
  /** Fresh until. */
  fresh: number;
  /** Servable (stale) until; ≥ fresh. */
  stale: number;
  tags: readonly string[];
}

/** Where entries live. Methods may be sync (memory) or async (Redis). */
export interface CacheBackend {
  get(key: string): Entry | undefined | Promise<Entry | undefined>;
  /**
   * The in-process layer (memory, or L1 of two-level), if the backend has one: `Cache.getSync` reads it
   * directly, so the hit path is the same monomorphic code whatever the backend.
   */
  readonly local?: Lru<Entry>;
  set(key: string, entry: Entry): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  invalidateTag(tag: string): void | Promise<void>;
  /** Try to take a short cross-process lock (for stampedes); true if taken. Memory: always true. */
  lock?(key: string, ms: number): Promise<boolean>;
  unlock?(key: string): Promise<void>;
  close?(): Promise<void>;
}

export interface SetOptions {
  /** Time to live in ms (fresh). Default the cache's `ttl`. */
  ttl?: number;
  /** Extra time the value may still be served while a refresh runs. Default 0. */
  staleWhileRevalidate?: number;
  tags?: readonly string[];
}

export interface CacheOptions {
  backend: CacheBackend;
  /** Default TTL in ms. Default 60 000. */
  ttl?: number;
  /** Prefix of every key (namespaces several caches on one Redis). */
  namespace?: string;
  now?: () => number;
}

const NO_TAGS: readonly string[] = Object.freeze([]);

/**
 * @example
 * ```ts
 * const cache = createCache({ backend: new MemoryBackend({ maxEntries: 10_000 }) });
 * const user = await cache.getOrSet(`user:${id}`, () => db.users.find(id), { ttl: 30_000, tags: [`user:${id}`] });
 * await cache.invalidateTag(`user:${id}`);
 * const cachedFetch = cache.wrap((id: number) => fetchProfile(id), { key: (id) => `profile:${id}`, ttl: 60_000 });
 * ```
 */
export class Cache {
  readonly backend: CacheBackend;
  readonly #ttl: number;
  readonly #ns: string;
  /** A test clock, or null for {@link coarseNow} (called directly: the hit path inlines it). */
  readonly #clock: (() => number) | null;
  readonly #local: Lru<Entry> | null;
  /** Loads in flight, by key: concurrent misses share one. */
  readonly #inflight = new Map<string, Promise<unknown>>();

  constructor(options: CacheOptions) {
    this.backend = options.backend;
    this.#ttl = options.ttl ?? 60_000;
    this.#ns = options.namespace ?? '';
    this.#clock = options.now ?? null;
    this.#local = options.backend.local ?? null;
  }

  #now(): number {
    return this.#clock === null ? coarseNow() : this.#clock();
  }

  /**
   * The same cache (backend, TTL) seen under a further key prefix: what a tenant, or a module, reads and
   * writes cannot meet anyone else's keys or tags.
   *
   * @example
   * ```ts
   * const mine = cache.within(`tenant:${tenant}:`);
   * ```
   */
  within(prefix: string): Cache {
    return new Cache({ backend: this.backend, ttl: this.#ttl, namespace: this.#ns + prefix, ...(this.#clock === null ? {} : { now: this.#clock }) });
  }

  /**
   * Reads by outcome since the cache was made (for `metrics()`): `hits` fresh, `stale` served stale while
   * refreshed, `misses` absent or expired, `loads` values loaded by `getOrSet`.
   */
  readonly counts = { hits: 0, stale: 0, misses: 0, loads: 0 };

  /** The value if fresh or still servable stale; undefined otherwise. */
  get<T = unknown>(key: string): Promise<T | undefined> {
    if (spans !== null) return spans.around('cache get', 'internal', { 'cache.namespace': this.#ns || undefined }, () => this.#get<T>(key), (v) => ({ 'cache.hit': v !== undefined }));
    return this.#get<T>(key);
  }

  async #get<T>(key: string): Promise<T | undefined> {
    const e = await this.backend.get(this.#ns + key);
    const now = this.#now();
    if (e === undefined || e.stale <= now) {
      this.counts.misses++;
      return undefined;
    }
    if (e.fresh > now) this.counts.hits++;
    else this.counts.stale++;
    return e.value as T;
  }

  /**
   * The value from the in-process layer only (memory, or L1 of two-level), synchronously: the hot path
   * for values read on every request. Undefined when that layer does not have it fresh.
   */
  getSync<T = unknown>(key: string): T | undefined {
    const l = this.#local;
    if (l === null) return undefined;
    const e = l.get(this.#ns === '' ? key : this.#ns + key);
    if (e !== undefined && e.fresh > this.#now()) {
      this.counts.hits++;
      return e.value as T;
    }
    this.counts.misses++;
    return undefined;
  }

  async set(key: string, value: unknown, options: SetOptions = {}): Promise<void> {
    const now = this.#now();
    const fresh = now + (options.ttl ?? this.#ttl);
    await this.backend.set(this.#ns + key, { value, fresh, stale: fresh + (options.staleWhileRevalidate ?? 0), tags: options.tags === undefined || options.tags.length === 0 ? NO_TAGS : options.tags.map((t) => this.#ns + t) });
  }

  async delete(key: string): Promise<void> {
    await this.backend.delete(this.#ns + key);
  }

  /** Drops every entry carrying `tag`. */
  async invalidateTag(tag: string): Promise<void> {
    await this.backend.invalidateTag(this.#ns + tag);
  }

  /**
   * The cached value, or `load()`'s, stored. Concurrent callers of a missing key share one load; with
   * `staleWhileRevalidate`, a stale value is returned at once and refreshed in the background.
   */
  getOrSet<T>(key: string, load: () => T | Promise<T>, options: SetOptions = {}): Promise<T> {
    if (spans === null) return this.#getOrSet(key, load, options);
    const out = { hit: false };
    // The load (a query, a call) runs inside this span: its spans are children.
    return spans.around('cache get', 'internal', { 'cache.namespace': this.#ns || undefined }, () => this.#getOrSet(key, load, options, out), () => ({ 'cache.hit': out.hit }));
  }

  async #getOrSet<T>(key: string, load: () => T | Promise<T>, options: SetOptions, out?: { hit: boolean }): Promise<T> {
    const k = this.#ns + key;
    const e = await this.backend.get(k);
    const now = this.#now();
    if (e !== undefined) {
      if (e.fresh > now) {
        this.counts.hits++;
        if (out !== undefined) out.hit = true;
        return e.value as T;
      }
      if (e.stale > now) {
        this.counts.stale++;
        if (out !== undefined) out.hit = true;
        void this.#load(key, load, options).catch(() => {}); // refresh behind the stale answer
        return e.value as T;
      }
    }
    this.counts.misses++;
    return this.#load(key, load, options);
  }

  #load<T>(key: string, load: () => T | Promise<T>, options: SetOptions): Promise<T> {
    const k = this.#ns + key;
    const running = this.#inflight.get(k);
    if (running !== undefined) return running as Promise<T>;
    const p = (async () => {
      const b = this.backend;
      let locked = true;
      if (b.lock !== undefined) {
        locked = await b.lock(k, 5000);
        if (!locked) {
          // Another process is loading it: wait briefly for its result rather than stampeding the origin.
          for (let i = 0; i < 50; i++) {
            await new Promise((r) => setTimeout(r, 20));
            const e = await b.get(k);
            if (e !== undefined && e.fresh > this.#now()) return e.value as T;
          }
        }
      }
      try {
        this.counts.loads++;
        const v = await load();
        await this.set(key, v, options);
        return v;
      } finally {
        if (locked && b.unlock !== undefined) await b.unlock(k);
      }
    })();
    this.#inflight.set(k, p);
    const clear = (): void => void this.#inflight.delete(k);
    p.then(clear, clear);
    return p;
  }

  /** A function whose results are cached by `key(...args)`. */
  wrap<A extends unknown[], T>(fn: (...args: A) => T | Promise<T>, options: SetOptions & { key: (...args: A) => string }): (...args: A) => Promise<T> {
    return (...args: A) => this.getOrSet(options.key(...args), () => fn(...args), options);
  }

  close(): Promise<void> {
    return this.backend.close?.() ?? Promise.resolve();
  }
}

/**
 * A cache over a backend (memory, Redis, two-level): get-or-load with stampede protection, tags, TTLs.
 *
 * @example
 * ```ts
 * const cache = createCache({ backend: new MemoryBackend(), ttl: 60_000 });
 * const user = await cache.getOrSet(`user:${id}`, () => db.users.find(id));
 * ```
 */
export function createCache(options: CacheOptions): Cache {
  return new Cache(options);
}
