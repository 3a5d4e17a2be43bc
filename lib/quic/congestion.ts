const LOSS_REDUCTION = 0.5;

/** The initial window (§7.2): ten datagrams, within 14,720 bytes, at least two. */
function initialWindow(maxDatagram: number): number {
  return Math.min(10 * maxDatagram, Math.max(14_720, 2 * maxDatagram));
}

/**
 * NewReno congestion control (RFC 9002 §7): a congestion window that starts at ten datagrams (§7.2), grows by
 * what is acknowledged in slow start and by one datagram per window in congestion avoidance (§7.3), halves
 * once per recovery period on loss (§7.3.2, one reduction for the packets sent before it began), and never
 * goes below two datagrams (§7.2). Bytes in flight are what has been sent ack-eliciting and not yet
 * acknowledged, declared lost or discarded.
 *
 * @example
 * ```ts
 * const cc = new NewReno(1200);
 * if (cc.canSend(packet.length)) { send(packet); cc.onSent(packet.length); }
 * cc.onAcked(size, sentAt); // on each acknowledged packet
 * ```
 */
export class NewReno {
  /** The datagram size in use (raised when a larger path MTU is proven). */
  maxDatagram: number;
  /** The congestion window, bytes. */
  window: number;
  /** Slow start threshold (Infinity until the first loss). */
  ssthresh = Infinity;
  bytesInFlight = 0;
  /** When the current recovery period began (packets sent before it do not reduce the window again). */
  #recoveryStart = -Infinity;

  constructor(maxDatagram = 1200) {
    this.maxDatagram = maxDatagram;
    this.window = initialWindow(maxDatagram);
  }

  /** The smallest window (§7.2): two datagrams. */
  get minimumWindow(): number {
    return 2 * this.maxDatagram;
  }

  /** Whether `bytes` more may go out now. */
  canSend(bytes: number): boolean {
    return this.bytesInFlight + bytes <= this.window;
  }

  /** Room left in the window, bytes. */
  get room(): number {
    return Math.max(0, this.window - this.bytesInFlight);
  }

  onSent(bytes: number): void {
    this.bytesInFlight += bytes;
  }

  /**
   * An acknowledged packet of `bytes` sent at `sentAt`, acknowledged at `now` with the smoothed RTT `rtt`
   * (ms): slow start (§7.3.1) or congestion avoidance (§7.3.3).
   */
  onAcked(bytes: number, sentAt: number, now = 0, rtt = 0): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
    if (sentAt <= this.#recoveryStart) return; // §7.3.2: no growth during recovery
    if (this.window < this.ssthresh) this.window += bytes;
    else this.avoid(bytes, now, rtt);
  }

  /** Congestion avoidance (§7.3.3): one datagram more per window acknowledged. */
  protected avoid(bytes: number, _now: number, _rtt: number): void {
    this.window += (this.maxDatagram * bytes) / this.window;
  }

  /** The window after a congestion event at `now` (§7.3.2): half, at least the minimum. */
  protected reduce(_now: number): void {
    this.ssthresh = Math.max(this.window * LOSS_REDUCTION, this.minimumWindow);
    this.window = this.ssthresh;
  }

  /** Packets of `bytes` in all were lost, the newest sent at `newestSentAt`: a congestion event (§7.3.2). */
  onLost(bytes: number, newestSentAt: number, now: number): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
    if (newestSentAt <= this.#recoveryStart) return; // one reduction per recovery period
    this.#recoveryStart = now;
    this.reduce(now);
  }

  /** A new path (RFC 9000 §9.4): the initial window, slow start again; what is in flight stays counted. */
  reset(): void {
    this.window = initialWindow(this.maxDatagram);
    this.ssthresh = Infinity;
    this.#recoveryStart = -Infinity;
  }

  /** Bytes no longer in flight that are not a congestion signal (a space's keys discarded, probes). */
  onRemoved(bytes: number): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
  }
}
