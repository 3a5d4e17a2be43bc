/**
 * A map bounded by entries and by bytes, with per-entry expiry, evicting by one of two policies:
 * - `'lru'` (default): least recently used. A hit moves the entry to the head of the list.
 * - `'sieve'`: SIEVE (Zhang et al., NSDI '24). Entries stay in insertion order; a hit only sets a
 *   visited bit; eviction sweeps a hand from the oldest entry towards the newest, clearing bits, and
 *   evicts the first unvisited one. A hit costs one byte store instead of a relink, and the paper's web
 *   traces (and bench/cache.mjs's Zipf trace) show hit ratios at or above LRU's.
 * The list is doubly linked in typed arrays indexed by slot (no node objects, no Map re-insertion on a
 * hit), the layout lru-cache uses; a Map finds a key's slot.
 */

export interface LruOptions<V> {
  /** Most entries. */
  maxEntries: number;
  /** Most total size (bytes as `sizeOf` counts them). Default unbounded. */
  maxBytes?: number;
  /** Size of a value, for `maxBytes`. Default {@link approximateSize}. */
  sizeOf?: (value: V, key: string) => number;
  /** Called when an entry leaves (evicted, expired, deleted, replaced). */
  onRemove?: (key: string, value: V, reason: 'evict' | 'expire' | 'delete' | 'set') => void;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Eviction policy. Default `'lru'`. */
  policy?: 'lru' | 'sieve';
}

import { coarseNow } from './clock.js';

const NONE = 0xffffffff;

/**
 * @example
 * ```ts
 * const lru = new Lru<string>({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 });
 * lru.set('user:1', json, 60_000);
 * lru.get('user:1');
 * const sieve = new Lru<string>({ maxEntries: 10_000, policy: 'sieve' });
 * ```
 */
export class Lru<V> {
  readonly #map = new Map<string, number>();
  readonly #keys: Array<string | undefined>;
  readonly #values: Array<V | undefined>;
  readonly #next: Uint32Array;
  readonly #prev: Uint32Array;
  readonly #expires: Float64Array;
  readonly #sizes: Float64Array;
  /** SIEVE's visited bits, or null under LRU. */
  readonly #visited: Uint8Array | null;
  #head = NONE; // most recent (LRU) / newest (SIEVE); `prev` points towards it
  #tail = NONE; // least recent / oldest
  #hand = NONE; // SIEVE: where the next sweep starts (NONE: at the tail)
  #free: number[] = [];
  #used = 0;
  #bytes = 0;
  #hasTtl = false;
  readonly #max: number;
  readonly #maxBytes: number;
  readonly #sizeOf: ((value: V, key: string) => number) | null;
  readonly #onRemove: LruOptions<V>['onRemove'];
  readonly #now: () => number;

  constructor(options: LruOptions<V>) {
    const n = options.maxEntries;
    if (!Number.isInteger(n) || n < 1 || n >= NONE) throw new Error('maxEntries must be a positive integer');
    this.#max = n;
    // Filled, not holey: packed arrays are read faster.
    this.#keys = new Array<string | undefined>(n).fill(undefined);
    this.#values = new Array<V | undefined>(n).fill(undefined);
    this.#next = new Uint32Array(n);
    this.#prev = new Uint32Array(n);
    this.#expires = new Float64Array(n);
    this.#sizes = new Float64Array(n);
    this.#visited = options.policy === 'sieve' ? new Uint8Array(n) : null;
    this.#maxBytes = options.maxBytes ?? Infinity;
    this.#sizeOf = options.maxBytes === undefined && options.sizeOf === undefined ? null : (options.sizeOf ?? approximateSize);
    this.#onRemove = options.onRemove;
    this.#now = options.now ?? coarseNow;
  }

  get size(): number {
    return this.#map.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The value, marking it used; undefined when missing or expired. */
  get(key: string): V | undefined {
    const i = this.#map.get(key);
    if (i === undefined) return undefined;
    if (this.#hasTtl) {
      const e = this.#expires[i]!;
      if (e !== 0 && e <= this.#now()) {
        this.#remove(i, 'expire');
        return undefined;
      }
    }
    this.#touch(i);
    return this.#values[i];
  }

  #touch(i: number): void {
    const v = this.#visited;
    if (v !== null) v[i] = 1;
    else if (i !== this.#head) this.#toHead(i);
  }

  /** LRU's hit: move a slot that is not the head to the head (the hottest path of 'lru', kept minimal). */
  #toHead(i: number): void {
    const p = this.#prev[i]!;
    const n = this.#next[i]!;
    this.#next[p] = n; // p exists: i is not the head
    if (n !== NONE) this.#prev[n] = p;
    else this.#tail = p;
    this.#prev[i] = NONE;
    this.#next[i] = this.#head;
    this.#prev[this.#head] = i;
    this.#head = i;
  }

  /** The value without touching recency or expiry. */
  peek(key: string): V | undefined {
    const i = this.#map.get(key);
    return i === undefined ? undefined : this.#values[i];
  }

  has(key: string): boolean {
    const i = this.#map.get(key);
    if (i === undefined) return false;
    const e = this.#expires[i]!;
    return e === 0 || e > this.#now();
  }

  /** Milliseconds left before `key` expires (Infinity without a TTL), or -1 when missing. */
  ttl(key: string): number {
    const i = this.#map.get(key);
    if (i === undefined) return -1;
    const e = this.#expires[i]!;
    return e === 0 ? Infinity : Math.max(0, e - this.#now());
  }

  /** Stores `value`; `ttlMs` > 0 expires it. A value bigger than `maxBytes` is not stored. */
  set(key: string, value: V, ttlMs = 0): this {
    const size = this.#sizeOf === null ? 0 : this.#sizeOf(value, key);
    if (size > this.#maxBytes) {
      this.delete(key);
      return this;
    }
    let i = this.#map.get(key);
    if (i !== undefined) {
      const old = this.#values[i]!;
      this.#values[i] = value;
      this.#bytes += size - this.#sizes[i]!;
      if (old !== value) this.#onRemove?.(key, old, 'set');
      this.#touch(i);
    } else {
      if (this.#used < this.#max || this.#free.length > 0) {
        i = this.#used < this.#max ? this.#used++ : this.#free.pop()!;
        this.#linkHead(i);
      } else {
        // Full: the victim's slot is reused in place (no trip through the free list).
        i = this.#visited === null ? this.#tail : this.#victim(NONE);
        const oldKey = this.#keys[i]!;
        const old = this.#values[i]!;
        this.#map.delete(oldKey);
        this.#bytes -= this.#sizes[i]!;
        this.#onRemove?.(oldKey, old, 'evict');
        if (i !== this.#head) this.#toHead(i);
      }
      this.#map.set(key, i);
      this.#keys[i] = key;
      this.#values[i] = value;
      this.#bytes += size;
      if (this.#visited !== null) this.#visited[i] = 0;
    }
    this.#finishSet(i, size, ttlMs);
    return this;
  }

  /** The entry to evict, never `keep` (NONE when `keep` is all there is). */
  #victim(keep: number): number {
    const v = this.#visited;
    if (v === null) return this.#tail === keep ? NONE : this.#tail;
    if (this.#head === this.#tail && this.#head === keep) return NONE;
    // SIEVE: from the hand towards the newest, wrapping to the oldest, clearing visited bits. One lap
    // clears every bit, so this ends within two laps.
    let h = this.#hand === NONE ? this.#tail : this.#hand;
    while (v[h] !== 0 || h === keep) {
      v[h] = 0;
      const p = this.#prev[h]!;
      h = p === NONE ? this.#tail : p;
    }
    this.#hand = this.#prev[h]!;
    return h;
  }

  #finishSet(i: number, size: number, ttlMs: number): void {
    this.#sizes[i] = size;
    if (ttlMs > 0) {
      this.#hasTtl = true;
      this.#expires[i] = this.#now() + ttlMs;
    } else this.#expires[i] = 0;
    while (this.#bytes > this.#maxBytes) {
      const victim = this.#victim(i);
      if (victim === NONE) break;
      this.#remove(victim, 'evict');
    }
  }

  delete(key: string): boolean {
    const i = this.#map.get(key);
    if (i === undefined) return false;
    this.#remove(i, 'delete');
    return true;
  }

  clear(): void {
    for (const k of [...this.#map.keys()]) this.delete(k);
  }

  keys(): IterableIterator<string> {
    return this.#map.keys();
  }

  #unlink(i: number): void {
    const p = this.#prev[i]!;
    const n = this.#next[i]!;
    if (this.#hand === i) this.#hand = p;
    if (p !== NONE) this.#next[p] = n;
    else this.#head = n;
    if (n !== NONE) this.#prev[n] = p;
    else this.#tail = p;
  }

  #linkHead(i: number): void {
    this.#prev[i] = NONE;
    this.#next[i] = this.#head;
    if (this.#head !== NONE) this.#prev[this.#head] = i;
    else this.#tail = i;
    this.#head = i;
  }

  #remove(i: number, reason: 'evict' | 'expire' | 'delete'): void {
    const key = this.#keys[i]!;
    const value = this.#values[i]!;
    this.#unlink(i);
    this.#map.delete(key);
    this.#keys[i] = undefined;
    this.#values[i] = undefined;
    this.#bytes -= this.#sizes[i]!;
    this.#free.push(i);
    this.#onRemove?.(key, value, reason);
  }
}

/**
 * Bytes a value takes, roughly: strings by UTF-16 length, byte arrays by length, objects by their JSON.
 *
 * @example
 * ```ts
 * approximateSize({ id: 1, name: 'Ann' }); // bytes, roughly, for the cache's maxBytes
 * ```
 */
export function approximateSize(v: unknown): number {
  if (typeof v === 'string') return 2 * v.length;
  if (v instanceof Uint8Array) return v.byteLength;
  if (v === null || typeof v !== 'object') return 8;
  try {
    return 2 * (JSON.stringify(v)?.length ?? 8);
  } catch {
    return 1024;
  }
}
