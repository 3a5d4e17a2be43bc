const INITIAL = 16;

/**
 * The open streams of a connection, by stream id. Stream ids only grow (RFC 9113 §5.1.1, RFC 9000 §2.1) and a
 * peer keeps a bounded number of them open (SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS), so the live ids
 * sit in a short window: a slot array indexed by the id's sequence number (the id without its `shift` low
 * bits: 1 for HTTP/2's odd client ids, 2 for one kind of QUIC stream) holds them, one load per lookup, with
 * no per-stream allocation and no rehashing. A `Map` did the same work at about 6 % of a multiplexed hello's
 * CPU time on HTTP/2, most of it in `delete` (its tables shrink and grow again as streams come and go); on
 * QUIC its dead tables, chained to the live one, also kept every stream they had held alive through minor
 * GCs. The array starts small and doubles, up to `maxCapacity`, when an id finds its slot taken; past that,
 * such an id (one that many newer streams overtook while it stayed open) goes to an overflow map.
 *
 * @example
 * ```ts
 * const open = new StreamTable<Stream>(256, 1); // HTTP/2: odd ids 1, 3, 5...
 * open.set(1, stream);
 * open.get(1); // stream
 * ```
 */
export class StreamTable<S> {
  #ids: Int32Array;
  #slots: Array<S | undefined>;
  #mask: number;
  #overflow: Map<number, S> | null = null;
  #size = 0;

  readonly #maxCapacity: number;
  readonly #shift: number;

  /**
   * `maxCapacity`: the most slots (rounded up to a power of two); about twice the streams a peer may open.
   * `shift`: low bits of an id that are the same for every id kept (not part of its sequence number).
   */
  constructor(maxCapacity = 256, shift = 1) {
    this.#shift = shift;
    this.#maxCapacity = 2 ** Math.ceil(Math.log2(Math.max(INITIAL, maxCapacity)));
    this.#ids = new Int32Array(INITIAL);
    this.#slots = new Array<S | undefined>(INITIAL).fill(undefined);
    this.#mask = INITIAL - 1;
  }

  get size(): number {
    return this.#size;
  }

  get(id: number): S | undefined {
    const i = (id >>> this.#shift) & this.#mask;
    // Kept as id + 1 (0 marks a free slot, and QUIC's first stream is 0).
    if (this.#ids[i] === id + 1) return this.#slots[i];
    return this.#overflow === null ? undefined : this.#overflow.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds a stream (`id` ≥ 0, not already present). */
  set(id: number, s: S): void {
    this.#size++;
    this.#place(id, s);
  }

  #place(id: number, s: S): void {
    for (;;) {
      const i = (id >>> this.#shift) & this.#mask;
      // An id past what a slot holds (2^31 - 1 and up) overflows at once.
      if (this.#ids[i] === 0 && id < 0x7fffffff) {
        this.#ids[i] = id + 1;
        this.#slots[i] = s;
        return;
      }
      if (this.#ids.length >= this.#maxCapacity || id >= 0x7fffffff) {
        (this.#overflow ??= new Map()).set(id, s);
        return;
      }
      this.#grow();
    }
  }

  /** Twice the slots; every stream placed again (an overflowed one may now have a slot). */
  #grow(): void {
    const ids = this.#ids;
    const slots = this.#slots;
    const overflow = this.#overflow;
    const n = ids.length * 2;
    this.#ids = new Int32Array(n);
    this.#slots = new Array<S | undefined>(n).fill(undefined);
    this.#mask = n - 1;
    this.#overflow = null;
    for (let i = 0; i < ids.length; i++) if (ids[i] !== 0) this.#place(ids[i]! - 1, slots[i]!);
    if (overflow !== null) for (const [id, s] of overflow) this.#place(id, s);
  }

  delete(id: number): boolean {
    const i = (id >>> this.#shift) & this.#mask;
    if (this.#ids[i] === id + 1) {
      this.#ids[i] = 0;
      this.#slots[i] = undefined;
    } else if (this.#overflow === null || !this.#overflow.delete(id)) return false;
    this.#size--;
    return true;
  }

  /** Forgets every stream. */
  clear(): void {
    this.#ids.fill(0);
    this.#slots.fill(undefined);
    this.#overflow = null;
    this.#size = 0;
  }

  /** The open streams (a copy: closing them while going through is safe), by slot, then the overflow. */
  values(): S[] {
    const out: S[] = [];
    if (this.#size === 0) return out;
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) if (slots[i] !== undefined) out.push(slots[i]!);
    if (this.#overflow !== null) for (const s of this.#overflow.values()) out.push(s);
    return out;
  }
}
