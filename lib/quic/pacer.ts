/**
 * Pacing (RFC 9002 §7.7): new data leaves at about 1.25 × the congestion window per smoothed RTT instead of
 * a window at once, so a large window does not arrive as one burst that overflows a queue or the peer's
 * receive buffer (each loss there halves the window). A token bucket: it fills at that rate up to a burst —
 * the initial window (ten datagrams, §7.7's "limit bursts to the initial congestion window"), or what the
 * rate sends in two milliseconds when that is more (timers fire at millisecond granularity; quinn paces in
 * two-millisecond bursts too) — and never more than the window itself.
 */

/** The rate's multiple of window ÷ smoothed RTT (§7.7: N = 1.25 lets the window be used up in slow start). */
const N = 1.25;
/** Bytes sent in one burst: what the rate gives in this many milliseconds. */
const BURST_MS = 2;

/**
 * @example
 * ```ts
 * const pacer = new Pacer(now);
 * const allowed = pacer.allowance(now, cc.window, rtt.smoothed, 1200); // bytes that may go now
 * pacer.spend(sent);
 * if (stillQueued) wakeAt(pacer.nextAt(now, cc.window, rtt.smoothed, 1200));
 * ```
 */
export class Pacer {
  /** Bytes that may be sent now. */
  #tokens = Infinity;
  /** When the tokens were last counted (ms). */
  #at: number;

  constructor(now: number) {
    this.#at = now;
  }

  /** Bytes per ms for a window and RTT (the RTT floored at 1 ms: the clock's granularity, RFC 9002 §6.1.2's kGranularity). */
  static rate(window: number, srtt: number): number {
    return (N * window) / Math.max(srtt, 1);
  }

  /** The bucket's size: a burst (see the top), at most the window. */
  static burst(window: number, srtt: number, maxDatagram: number): number {
    return Math.min(window, Math.max(10 * maxDatagram, Pacer.rate(window, srtt) * BURST_MS));
  }

  /** Bytes that may go now: the tokens, refilled for the time since the last count. */
  allowance(now: number, window: number, srtt: number, maxDatagram: number): number {
    const cap = Pacer.burst(window, srtt, maxDatagram);
    const elapsed = Math.max(0, now - this.#at);
    this.#at = now;
    this.#tokens = Math.min(cap, this.#tokens + elapsed * Pacer.rate(window, srtt));
    return this.#tokens;
  }

  /** `bytes` were sent. */
  spend(bytes: number): void {
    this.#tokens -= bytes;
  }

  /** When a full datagram's worth of tokens will be there (ms), after `allowance` at `now`. */
  nextAt(now: number, window: number, srtt: number, maxDatagram: number): number {
    const missing = maxDatagram - this.#tokens;
    return missing <= 0 ? now : now + missing / Pacer.rate(window, srtt);
  }
}
