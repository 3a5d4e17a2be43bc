import { SlotSet } from './slot-set.js';

/**
 * One coarse periodic timer for every deadline of every connection (design §3): a connection stores a
 * single `deadline` (ms on the sweeper's clock, 0 = none) and the sweeper checks all members once per
 * `resolution`. Arming a timeout is a field write, not a `setTimeout` per request.
 *
 * The sweeper also keeps a coarse clock (`now`) and the IMF-fixdate string for HTTP `Date` headers,
 * both refreshed on the same tick, so hot paths never call `Date.now()` or format dates.
 *
 * @example
 * ```ts
 * const sweeper = new TimeoutSweeper(1000);
 * const item = { deadline: 0, onDeadline() { console.log('timed out'); } };
 * sweeper.add(item);
 * item.deadline = sweeper.deadline(5000); // fires after 5 s, within 7 s
 * ```
 */
export interface Timed {
  /** Absolute time in ms (see {@link TimeoutSweeper.now}); 0 means no deadline. */
  deadline: number;
  /** Called once when `deadline` has passed; the sweeper resets `deadline` to 0 before calling. */
  onDeadline(): void;
}

/**
 * One timer for many deadlines: items are checked at a resolution (default 1 s), not each on its own timer.
 *
 * @example
 * ```ts
 * const sweeper = new TimeoutSweeper(1000);
 * const idle = { deadline: sweeper.deadline(30_000), onDeadline: () => conn.close() };
 * sweeper.add(idle);
 * ```
 */
export class TimeoutSweeper {
  readonly resolution: number;
  /** Coarse wall-clock ms, refreshed every tick. */
  now: number = Date.now();
  /** `Date` header value (RFC 9110 §5.6.7 IMF-fixdate), refreshed every tick. */
  httpDate: string = new Date(this.now).toUTCString();
  /** A SlotSet, not a Set: members come and go with connections (see slot-set.ts). */
  #members = new SlotSet<Timed>();
  #timer: NodeJS.Timeout | null = null;
  #refs = 0;

  constructor(resolution = 1000) {
    this.resolution = resolution;
  }

  /**
   * The deadline for "`ms` from now" that never fires early. `now` may be up to one tick behind the real
   * time, and a deadline is seen only at a tick: `now + ms` could fire up to one tick before `ms` had
   * passed — a keep-alive connection closed before the `timeout=` it advertised, while a client is
   * entitled to reuse it. One tick added: it fires between `ms` and `ms` + two ticks. 0 for `ms` ≤ 0.
   */
  deadline(ms: number): number {
    return ms > 0 ? this.now + ms + this.resolution : 0;
  }

  /** Start tracking `item`. Starts the timer if it is not running. */
  add(item: Timed): void {
    this.#members.add(item);
    this.#ensureTimer();
  }

  delete(item: Timed): void {
    this.#members.delete(item);
  }

  get size(): number {
    return this.#members.size;
  }

  /**
   * Keep the clock ticking while a server is open even without members (the Date cache must stay fresh).
   * Each `ref()` must be matched by `unref()`.
   */
  ref(): void {
    this.#refs++;
    this.#ensureTimer();
  }

  unref(): void {
    if (--this.#refs <= 0) {
      this.#refs = 0;
      if (this.#members.size === 0) this.#stop();
    }
  }

  #ensureTimer(): void {
    if (this.#timer !== null) return;
    this.#refresh();
    this.#timer = setInterval(() => this.tick(), this.resolution);
    this.#timer.unref();
  }

  #stop(): void {
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #refresh(): void {
    const t = Date.now();
    // The Date header has one-second precision; format only when the second changes.
    if (Math.floor(t / 1000) !== Math.floor(this.now / 1000)) this.httpDate = new Date(t).toUTCString();
    this.now = t;
  }

  /** One sweep: refresh the clock and fire every passed deadline. Public so tests can drive it. */
  tick(): void {
    this.#refresh();
    const now = this.now;
    for (const m of this.#members) {
      const d = m.deadline;
      if (d !== 0 && d <= now) {
        m.deadline = 0;
        m.onDeadline();
      }
    }
    if (this.#members.size === 0 && this.#refs === 0) this.#stop();
  }
}

/** The process-wide sweeper used by servers that are not given one. */
export const defaultSweeper: TimeoutSweeper = new TimeoutSweeper(1000);
