/**
 * A least-recently-used map bounded by entries and by bytes, with per-entry expiry. The recency list is
 * a doubly linked list in typed arrays indexed by slot (no node objects, no Map re-insertion on a hit),
 * the layout lru-cache uses; a Map finds a key's slot.
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
}

import { coarseNow } from './clock.js';

const NONE = 0xffffffff;

/**
 * @example
 * ```ts
 * const lru = new Lru<string>({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 });
 * lru.set('user:1', json, 60_000);
 * lru.get('user:1');
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
  #head = NONE; // most recent
  #tail = NONE; // least recent
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

  /** The value, marking it most recently used; undefined when missing or expired. */
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
    if (i !== this.#head) this.#toHead(i);
    return this.#values[i];
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
      if (i !== this.#head) this.#toHead(i);
    } else {
      if (this.#used < this.#max) i = this.#used++;
      else if (this.#free.length > 0) i = this.#free.pop()!;
      else {
        // Full: the least recent slot is reused in place (unlinked from the tail, relinked at the head).
        i = this.#tail;
        const oldKey = this.#keys[i]!;
        const old = this.#values[i]!;
        this.#map.delete(oldKey);
        this.#bytes -= this.#sizes[i]!;
        this.#onRemove?.(oldKey, old, 'evict');
        if (i !== this.#head) {
          const p = this.#prev[i]!;
          this.#next[p] = NONE;
          this.#tail = p;
          this.#prev[i] = NONE;
          this.#next[i] = this.#head;
          this.#prev[this.#head] = i;
          this.#head = i;
        }
        this.#map.set(key, i);
        this.#keys[i] = key;
        this.#values[i] = value;
        this.#bytes += size;
        this.#finishSet(i, size, ttlMs);
        return this;
      }
      this.#map.set(key, i);
      this.#keys[i] = key;
      this.#values[i] = value;
      this.#bytes += size;
      this.#prev[i] = NONE;
      this.#next[i] = this.#head;
      if (this.#head !== NONE) this.#prev[this.#head] = i;
      this.#head = i;
      if (this.#tail === NONE) this.#tail = i;
    }
    this.#finishSet(i, size, ttlMs);
    return this;
  }

  #finishSet(i: number, size: number, ttlMs: number): void {
    this.#sizes[i] = size;
    if (ttlMs > 0) {
      this.#hasTtl = true;
      this.#expires[i] = this.#now() + ttlMs;
    } else this.#expires[i] = 0;
    while (this.#bytes > this.#maxBytes && this.#tail !== i) this.#remove(this.#tail, 'evict');
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

  #toHead(i: number): void {
    const p = this.#prev[i]!;
    const n = this.#next[i]!;
    // unlink (i is not the head, so p exists)
    this.#next[p] = n;
    if (n !== NONE) this.#prev[n] = p;
    else this.#tail = p;
    this.#prev[i] = NONE;
    this.#next[i] = this.#head;
    this.#prev[this.#head] = i;
    this.#head = i;
  }

  #remove(i: number, reason: 'evict' | 'expire' | 'delete'): void {
    const key = this.#keys[i]!;
    const value = this.#values[i]!;
    const p = this.#prev[i]!;
    const n = this.#next[i]!;
    if (p !== NONE) this.#next[p] = n;
    else this.#head = n;
    if (n !== NONE) this.#prev[n] = p;
    else this.#tail = p;
    this.#map.delete(key);
    this.#keys[i] = undefined;
    this.#values[i] = undefined;
    this.#bytes -= this.#sizes[i]!;
    this.#free.push(i);
    this.#onRemove?.(key, value, reason);
  }
}

/** Bytes a value takes, roughly: strings by UTF-16 length, byte arrays by length, objects by their JSON. */
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
