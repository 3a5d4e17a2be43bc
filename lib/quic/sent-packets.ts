/**
 * The packets in flight in one packet number space (RFC 9002 §A.1), in the order sent — which is rising
 * packet number order, since numbers are never reused (RFC 9000 §12.3). Two parallel arrays and a head:
 * a packet is appended, found by binary search, and acknowledged or declared lost by clearing its record;
 * the cleared head is skipped and the arrays compacted now and then. A Map did this with a rehash every
 * few dozen packets, and its dead tables, chained to the live one, kept what they held alive through minor
 * GCs.
 */

/**
 * @example
 * ```ts
 * const sent = new SentPackets<{ size: number }>();
 * sent.add(0, { size: 1200 });
 * sent.take(0, 5, (pn, s) => acked(s)); // every packet numbered 0 to 5 still in flight
 * ```
 */
export class SentPackets<T> {
  #pns: number[] = [];
  #recs: Array<T | null> = [];
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Records a packet; its number is above every one recorded before. */
  add(pn: number, rec: T): void {
    this.#pns.push(pn);
    this.#recs.push(rec);
    this.#size++;
  }

  get(pn: number): T | undefined {
    const k = this.#find(pn);
    return k < this.#pns.length && this.#pns[k] === pn ? (this.#recs[k] ?? undefined) : undefined;
  }

  /** The lowest packet number in flight, or -1. */
  lowest(): number {
    return this.#size === 0 ? -1 : this.#pns[this.#head]!;
  }

  /** Removes every packet numbered `lo` to `hi`, lowest first, handing each to `fn`; how many. */
  take(lo: number, hi: number, fn: (pn: number, rec: T) => void): number {
    let n = 0;
    for (let k = this.#find(lo); k < this.#pns.length && this.#pns[k]! <= hi; k++) {
      const rec = this.#recs[k]!;
      if (rec === null) continue;
      this.#recs[k] = null;
      this.#size--;
      n++;
      fn(this.#pns[k]!, rec);
    }
    this.#trim();
    return n;
  }

  /** Every record in flight, lowest first (a copy). */
  values(): T[] {
    const out: T[] = [];
    for (let k = this.#head; k < this.#recs.length; k++) if (this.#recs[k] !== null) out.push(this.#recs[k]!);
    return out;
  }

  clear(): void {
    this.#pns = [];
    this.#recs = [];
    this.#head = 0;
    this.#size = 0;
  }

  /** The first index at or after the head whose number is ≥ `pn`. */
  #find(pn: number): number {
    let lo = this.#head;
    let hi = this.#pns.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#pns[mid]! < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Skips cleared records at the head; drops them from the arrays once they are most of them. */
  #trim(): void {
    while (this.#head < this.#recs.length && this.#recs[this.#head] === null) this.#head++;
    if (this.#head === this.#recs.length) {
      this.#pns.length = 0;
      this.#recs.length = 0;
      this.#head = 0;
    } else if (this.#head >= 64 && this.#head * 2 >= this.#recs.length) {
      this.#pns.splice(0, this.#head);
      this.#recs.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
