import { encodeVarint } from './varint.js';

/**
 * The packets received in one packet number space, for ACK frames (RFC 9000 §13.2): kept as ranges, newest
 * first; an ACK frame carries at most `maxRanges` of them (older ones dropped, §13.2.4: a receiver may
 * forget ranges the peer has had acknowledged for long). Duplicates are told apart so they are dropped
 * (§12.3: a packet number is used once).
 *
 * @example
 * ```ts
 * const acks = new AckTracker();
 * acks.add(0, true);
 * acks.add(1, true);
 * acks.add(3, true);     // ranges [3, 3] and [0, 1]
 * acks.add(3, true);     // false: a duplicate, drop the packet
 * const ack = acks.frame(); // an ACK frame for all three
 * ```
 */
export class AckTracker {
  /** Ranges [low, high], highest first, disjoint and not adjacent. */
  #ranges: Array<[number, number]> = [];
  readonly #maxRanges: number;
  /** An ack-eliciting packet came since the last ACK frame was made. */
  pending = false;

  constructor(maxRanges = 32) {
    this.#maxRanges = maxRanges;
  }

  /** The largest packet number received, or -1. */
  get largest(): number {
    return this.#ranges[0]?.[1] ?? -1;
  }

  get ranges(): ReadonlyArray<readonly [number, number]> {
    return this.#ranges;
  }

  /** Whether `pn` was received already (a duplicate, to drop). */
  has(pn: number): boolean {
    return this.#ranges.some(([lo, hi]) => pn >= lo && pn <= hi);
  }

  /** Records `pn`; false when it was a duplicate. */
  add(pn: number, ackEliciting: boolean): boolean {
    const r = this.#ranges;
    let i = 0;
    while (i < r.length && r[i]![0] > pn + 1) i++; // ranges wholly above pn (not adjacent)
    if (i < r.length && pn >= r[i]![0] && pn <= r[i]![1]) return false;
    if (i < r.length && r[i]![0] === pn + 1) {
      r[i]![0] = pn;
      // Now adjacent to the next range below?
      const below = r[i + 1];
      if (below !== undefined && below[1] === pn - 1) {
        r[i]![0] = below[0];
        r.splice(i + 1, 1);
      }
    } else if (i < r.length && r[i]![1] === pn - 1) r[i]![1] = pn;
    else r.splice(i, 0, [pn, pn]);
    if (r.length > this.#maxRanges) r.length = this.#maxRanges;
    if (ackEliciting) this.pending = true;
    return true;
  }

  /** An ACK frame (type 0x02) for what was received, `delay` in the peer's encoded units; clears `pending`. */
  frame(delay = 0): Buffer {
    const r = this.#ranges;
    if (r.length === 0) throw new RangeError('nothing to acknowledge');
    const parts: Buffer[] = [Buffer.from([0x02]), encodeVarint(r[0]![1]), encodeVarint(delay), encodeVarint(r.length - 1), encodeVarint(r[0]![1] - r[0]![0])];
    for (let k = 1; k < r.length; k++) {
      parts.push(encodeVarint(r[k - 1]![0] - r[k]![1] - 2), encodeVarint(r[k]![1] - r[k]![0]));
    }
    this.pending = false;
    return Buffer.concat(parts);
  }
}
