/**
 * CUBIC congestion control (RFC 9438) on NewReno's frame (RFC 9002 §7: slow start, one reduction per
 * recovery period, the minimum window): after a congestion event the window is cut to β = 0.7 of itself
 * (§4.6), then grows along W(t) = C·(t − K)³ + W_max (§4.2) — fast back towards the window where loss
 * came, slowly near it, faster again past it — but never slower than Reno would grow with the same
 * average window (the Reno-friendly estimate, §4.3). Fast convergence (§4.7) lowers W_max when losses
 * come earlier than before, leaving room to newer flows.
 *
 * @example
 * ```ts
 * const cc = new Cubic(1200);
 * cc.onAcked(size, sentAt, now, smoothedRtt); // on each acknowledged packet
 * cc.onLost(bytes, newestSentAt, now); // a congestion event
 * ```
 */
import { NewReno } from './congestion.js';

/** §5: C, in segments per second cubed, and the multiplicative decrease β. */
const C = 0.4;
const BETA = 0.7;
/** §4.3: Reno's additive increase for the same average window as CUBIC's, at β 0.7. */
const ALPHA = (3 * (1 - BETA)) / (1 + BETA);

/**
 * @example
 * ```ts
 * const server = new QuicServer({ ...tls, alpn: ['h3'], congestionControl: 'cubic', onConnection });
 * ```
 */
export class Cubic extends NewReno {
  /** The window (bytes) where the last congestion event came, 0 before any (§4.1). */
  #wMax = 0;
  /** The time (ms) it takes to grow back to `#wMax` (§4.2), from the epoch's start. */
  #k = 0;
  /** When this congestion avoidance stage began (ms); null until its first acknowledgment. */
  #epoch: number | null = null;
  /** Reno's window for the same stage (bytes, §4.3). */
  #wEst = 0;

  /** W_cubic at `t` ms into the stage, in bytes (§4.2). */
  #cubic(t: number): number {
    const s = (t - this.#k) / 1000;
    return C * s * s * s * this.maxDatagram + this.#wMax;
  }

  protected override avoid(bytes: number, now: number, rtt: number): void {
    if (this.#epoch === null) {
      // The stage starts at its first acknowledgment (§4.2's t_epoch). A window cut to the minimum may start
      // above W_max: K is 0 then, and Reno's estimate leads until the curve passes it.
      this.#epoch = now;
      this.#wEst = this.window;
    }
    const t = now - this.#epoch;
    // §4.3: Reno's growth at the same average window; once past W_max, Reno's own (α = 1).
    this.#wEst += ((this.#wEst < this.#wMax ? ALPHA : 1) * this.maxDatagram * bytes) / this.window;
    const cubic = this.#cubic(t);
    if (cubic < this.#wEst) {
      this.window = this.#wEst;
      return;
    }
    // §4.4, §4.5: towards W_cubic one RTT ahead, at most 1.5 × the window.
    const target = Math.min(Math.max(this.#cubic(t + rtt), this.window), 1.5 * this.window);
    this.window += ((target - this.window) * bytes) / this.window;
  }

  protected override reduce(_now: number): void {
    const before = this.window;
    // §4.7: a loss before the last W_max was reached again: release some of it.
    this.#wMax = before < this.#wMax ? (before * (1 + BETA)) / 2 : before;
    this.ssthresh = Math.max(before * BETA, this.minimumWindow);
    this.window = this.ssthresh;
    this.#k = Math.cbrt(Math.max(0, this.#wMax - this.window) / this.maxDatagram / C) * 1000;
    this.#epoch = null;
  }

  override reset(): void {
    super.reset();
    this.#wMax = 0;
    this.#k = 0;
    this.#epoch = null;
  }
}
