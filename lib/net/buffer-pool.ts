/**
 * A slab allocator for the small, short-lived buffers a connection needs (read scratch, partial header
 * tokens, chunked-encoding frames). Buffers come in a few size classes carved out of larger slabs; a
 * released buffer goes back on its class's free list, so steady-state traffic allocates nothing.
 *
 * Buffers larger than the biggest class are plain `Buffer.allocUnsafe` and are not retained.
 * The pool never retains more than `maxRetainedBytes` on its free lists (the excess is left to the GC),
 * so a burst of connections does not pin memory for ever.
 *
 * @example
 * ```ts
 * const pool = new BufferPool();
 * const scratch = pool.acquire(1024); // a 1 KiB view into a slab (class rounded up)
 * // ... use scratch ...
 * pool.release(scratch);
 * ```
 */
export interface BufferPoolOptions {
  /** Size classes in bytes, ascending. Default `[256, 1024, 4096, 16384]`. */
  classes?: readonly number[];
  /** Bytes per slab carved into buffers of one class. Default 64 KiB. */
  slabSize?: number;
  /** Most bytes kept on the free lists across all classes. Default 4 MiB. */
  maxRetainedBytes?: number;
}

/**
 * Reusable buffers by size class, so hot paths do not allocate per read or write.
 *
 * @example
 * ```ts
 * const pool = new BufferPool();
 * const buf = pool.acquire(16 * 1024);
 * try {
 *   fill(buf);
 * } finally {
 *   pool.release(buf);
 * }
 * ```
 */
export class BufferPool {
  readonly classes: readonly number[];
  readonly slabSize: number;
  readonly maxRetainedBytes: number;
  #free: Buffer[][];
  #retained = 0;
  /** Buffers handed out and not yet released (for leak checks in tests). */
  outstanding = 0;

  constructor(options: BufferPoolOptions = {}) {
    this.classes = options.classes ?? [256, 1024, 4096, 16384];
    this.slabSize = options.slabSize ?? 64 * 1024;
    this.maxRetainedBytes = options.maxRetainedBytes ?? 4 * 1024 * 1024;
    for (let i = 1; i < this.classes.length; i++) {
      if (this.classes[i]! <= this.classes[i - 1]!) throw new RangeError('BufferPool classes must be ascending');
    }
    this.#free = this.classes.map(() => []);
  }

  /** Index of the smallest class that holds `size` bytes, or -1 when none does. */
  #classOf(size: number): number {
    const c = this.classes;
    for (let i = 0; i < c.length; i++) if (size <= c[i]!) return i;
    return -1;
  }

  /**
   * A buffer of at least `size` bytes (its length is the class size). Contents are not zeroed.
   */
  acquire(size: number): Buffer {
    this.outstanding++;
    const k = this.#classOf(size);
    if (k < 0) return Buffer.allocUnsafeSlow(size);
    const list = this.#free[k]!;
    const b = list.pop();
    if (b !== undefined) {
      this.#retained -= b.length;
      return b;
    }
    // Carve a fresh slab for this class: one allocation feeds slabSize / classSize requests.
    const cls = this.classes[k]!;
    const n = Math.max(1, Math.floor(this.slabSize / cls));
    const slab = Buffer.allocUnsafeSlow(cls * n);
    for (let i = 1; i < n; i++) {
      if (this.#retained + cls > this.maxRetainedBytes) break;
      list.push(slab.subarray(i * cls, (i + 1) * cls));
      this.#retained += cls;
    }
    return slab.subarray(0, cls);
  }

  /** Returns a buffer obtained from {@link acquire}. Releasing anything else, or twice, is a bug. */
  release(buf: Buffer): void {
    this.outstanding--;
    const k = this.#classOf(buf.length);
    if (k < 0 || this.classes[k] !== buf.length) return; // oversize or foreign: leave to the GC
    if (this.#retained + buf.length > this.maxRetainedBytes) return;
    this.#free[k]!.push(buf);
    this.#retained += buf.length;
  }

  /** Bytes currently held on the free lists. */
  get retainedBytes(): number {
    return this.#retained;
  }
}

/** The process-wide default pool used by connections that are not given one. */
export const defaultBufferPool: BufferPool = new BufferPool();
