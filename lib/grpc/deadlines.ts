/**
 * Call deadlines on one host timer: a binary heap by time, the timer armed for the earliest — never a
 * `setTimeout` per call (grpc-node#2446: per-call timers left behind after cancellation). A call that ends
 * first is taken out of the heap at once, so finished calls are not kept until their deadline.
 */

export interface Expiring {
  /** When it expires (ms, the clock's). */
  at: number;
  /** Its place in the heap; -1 when not tracked. */
  slot: number;
  expire(): void;
}

/**
 * @example
 * ```ts
 * const deadlines = new Deadlines();
 * const call = { at: Date.now() + 50, slot: -1, expire: () => controller.abort() };
 * deadlines.add(call);
 * deadlines.cancel(call); // the call finished first
 * ```
 */
export class Deadlines {
  readonly #now: () => number;
  readonly #heap: Expiring[] = [];
  #timer: NodeJS.Timeout | null = null;
  #armedFor = Infinity;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Tracks `item` until it expires or is cancelled. */
  add(item: Expiring): void {
    this.#heap.push(item);
    this.#up(this.#heap.length - 1, item);
    if (item.at < this.#armedFor) this.#arm();
  }

  /** Stops tracking `item` (it finished in time). */
  cancel(item: Expiring): void {
    const i = item.slot;
    if (i < 0) return;
    item.slot = -1;
    const h = this.#heap;
    const last = h.pop()!;
    if (i < h.length) {
      h[i] = last;
      last.slot = i;
      this.#down(i, last);
      this.#up(last.slot, last);
    }
    if (h.length === 0 && this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
      this.#armedFor = Infinity;
    }
  }

  /** Items tracked now. */
  get size(): number {
    return this.#heap.length;
  }

  #up(i: number, item: Expiring): void {
    const h = this.#heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= item.at) break;
      h[i] = h[p]!;
      h[i]!.slot = i;
      i = p;
    }
    h[i] = item;
    item.slot = i;
  }

  #down(i: number, item: Expiring): void {
    const h = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const c = l + 1 < h.length && h[l + 1]!.at < h[l]!.at ? l + 1 : l;
      if (h[c]!.at >= item.at) break;
      h[i] = h[c]!;
      h[i]!.slot = i;
      i = c;
    }
    h[i] = item;
    item.slot = i;
  }

  #arm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedFor = Infinity;
    if (this.#heap.length === 0) return;
    const at = this.#heap[0]!.at;
    this.#armedFor = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - this.#now()));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = null;
    this.#armedFor = Infinity;
    const now = this.#now();
    while (this.#heap.length > 0 && this.#heap[0]!.at <= now) {
      const item = this.#heap[0]!;
      this.cancel(item);
      item.expire();
    }
    this.#arm();
  }
}
