/**
 * Loss detection (RFC 9002 §5–6), for one connection: the ack-eliciting packets in flight per packet
 * number space with what they carried, RTT estimates from ACKs, packets declared lost by the packet
 * threshold (3) or the time threshold (9/8 RTT), and the probe timeout (PTO) with exponential backoff.
 * What a lost packet carried is handed back to be sent again in new packets (frames are retransmitted,
 * never packets). Congestion control (CUBIC or NewReno: cubic.ts, congestion.ts) is told of each packet sent, acknowledged or
 * lost.
 */
import { NewReno } from './congestion.js';
import { SentPackets } from './sent-packets.js';

/**
 * What a packet carried that must arrive: CRYPTO or STREAM data at its offsets, HANDSHAKE_DONE, a stream's
 * RESET_STREAM or STOP_SENDING, and flow-control credit (MAX_DATA, MAX_STREAM_DATA, MAX_STREAMS — sent again
 * with the value current then, §13.3).
 */
export type Retransmittable =
  | { kind: 'crypto'; offset: number; data: Buffer }
  | { kind: 'stream'; id: number; offset: number; data: Buffer; fin: boolean }
  | { kind: 'handshake_done' }
  | { kind: 'reset_stream'; id: number; code: number; finalSize: number }
  | { kind: 'stop_sending'; id: number; code: number }
  | { kind: 'max_stream_data'; id: number }
  | { kind: 'max_data' }
  | { kind: 'max_streams'; bidi: boolean }
  | { kind: 'path_challenge'; data: Buffer }
  | { kind: 'pmtu_probe'; size: number }
  | { kind: 'path_response'; data: Buffer }
  | { kind: 'new_connection_id'; seq: number; cid: Buffer; resetToken: Buffer }
  | { kind: 'retire_connection_id'; seq: number }
  | { kind: 'new_token'; token: Buffer };

interface Sent {
  at: number;
  items: Retransmittable[];
  /** Bytes on the wire (counted in flight for congestion control). */
  size: number;
}

/** RFC 9002 §6.1.1 kPacketThreshold, §6.1.2 kTimeThreshold, §6.2 kGranularity, §6.2.2 kInitialRtt. */
const PACKET_THRESHOLD = 3;
const TIME_THRESHOLD = 9 / 8;
const GRANULARITY = 1;
const INITIAL_RTT = 333;
const NOTHING = (): void => {};

/**
 * @example
 * ```ts
 * const r = new Recovery((level, items) => requeue(level, items));
 * r.onSent(0, pn, now, items);
 * r.onAck(0, ranges, now, ackDelayMs);
 * if (now >= r.timeout()) r.onTimeout(now);
 * ```
 */
export class Recovery {
  /** Smoothed RTT and its variation (§5.3). */
  smoothedRtt = INITIAL_RTT;
  rttVar = INITIAL_RTT / 2;
  minRtt = Infinity;
  latestRtt = 0;
  #hasSample = false;
  #ptoCount = 0;
  readonly #spaces: [SentPackets<Sent>, SentPackets<Sent>, SentPackets<Sent>] = [new SentPackets(), new SentPackets(), new SentPackets()];
  readonly #largestAcked = [-1, -1, -1];
  #lastSent = 0;
  readonly #lost: (level: 0 | 1 | 2, items: Retransmittable[]) => void;
  /** The peer's max_ack_delay (ms), counted in the 1-RTT space's PTO. */
  maxAckDelay = 25;
  /** The congestion controller (RFC 9002 §7; CUBIC, RFC 9438, when chosen). */
  readonly cc: NewReno;
  /** The time of the ACK being processed, for the controller. */
  #ackAt = 0;
  /** A path MTU probe (a PING padded to `size`) was acknowledged (RFC 9000 §14.3). */
  onProbeAcked: (size: number) => void = () => {};

  /** `cc`: the congestion controller — NewReno, or CUBIC (which keeps NewReno's frame). */
  constructor(onLost: (level: 0 | 1 | 2, items: Retransmittable[]) => void, cc: NewReno = new NewReno()) {
    this.#lost = onLost;
    this.cc = cc;
  }

  /** Packets in flight (ack-eliciting, not yet acknowledged or lost). */
  get inFlight(): number {
    return this.#spaces[0].size + this.#spaces[1].size + this.#spaces[2].size;
  }

  onSent(level: 0 | 1 | 2, pn: number, now: number, items: Retransmittable[], size = 0): void {
    this.#spaces[level].add(pn, { at: now, items, size });
    this.#lastSent = now;
    this.cc.onSent(size);
  }

  /** A packet acknowledged: out of flight for congestion control; a path MTU probe proves its size. */
  readonly #acked = (_pn: number, s: Sent): void => {
    this.cc.onAcked(s.size, s.at, this.#ackAt, this.smoothedRtt);
    if (s.items[0]?.kind === 'pmtu_probe') this.onProbeAcked(s.items[0].size);
  };

  /** An ACK frame's ranges ([low, high], highest first) for `level`; `ackDelay` in ms. */
  onAck(level: 0 | 1 | 2, ranges: ReadonlyArray<readonly [number, number]>, now: number, ackDelay = 0): void {
    const space = this.#spaces[level];
    const largest = ranges[0]?.[1] ?? -1;
    const latest = space.get(largest);
    let newlyAcked = false;
    this.#ackAt = now;
    for (const [lo, hi] of ranges) {
      if (space.take(lo, hi, this.#acked) > 0) newlyAcked = true;
    }
    if (!newlyAcked) return;
    this.#largestAcked[level] = Math.max(this.#largestAcked[level]!, largest);
    if (latest !== undefined) this.#rttSample(now - latest.at, level === 2 ? Math.min(ackDelay, this.maxAckDelay) : 0);
    this.#ptoCount = 0;
    this.#detectLost(level, now);
  }

  /** §5.3: the estimates, from one sample. */
  #rttSample(latest: number, ackDelay: number): void {
    this.latestRtt = latest;
    this.minRtt = Math.min(this.minRtt, latest);
    const adjusted = latest >= this.minRtt + ackDelay ? latest - ackDelay : latest;
    if (!this.#hasSample) {
      this.#hasSample = true;
      this.smoothedRtt = adjusted;
      this.rttVar = adjusted / 2;
      return;
    }
    this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.smoothedRtt - adjusted);
    this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * adjusted;
  }

  /** §6.1: packets sent before the largest acknowledged, by 3 packets or by 9/8 of an RTT, are lost. */
  #detectLost(level: 0 | 1 | 2, now: number): void {
    const largest = this.#largestAcked[level]!;
    const delay = Math.max(TIME_THRESHOLD * Math.max(this.smoothedRtt, this.latestRtt), GRANULARITY);
    const lost: Retransmittable[] = [];
    let bytes = 0;
    let newest = -Infinity;
    // In flight in the order sent (numbers and times both rising): the first one not lost ends the search.
    const space = this.#spaces[level];
    for (let pn = space.lowest(); pn !== -1; pn = space.lowest()) {
      const s = space.get(pn)!;
      if (pn > largest || (pn > largest - PACKET_THRESHOLD && s.at > now - delay)) break;
      space.take(pn, pn, NOTHING);
      if (s.items[0]?.kind === 'pmtu_probe') {
        this.cc.onRemoved(s.size); // a lost probe says the path is smaller, not congested (§14.4); not resent
        continue;
      }
      for (const item of s.items) lost.push(item);
      bytes += s.size;
      newest = s.at;
    }
    if (lost.length === 0) return;
    this.cc.onLost(bytes, newest, now);
    this.#lost(level, lost);
  }

  /** The current probe timeout's length (§6.2.1), without backoff. */
  probeTimeout(): number {
    return this.smoothedRtt + Math.max(4 * this.rttVar, GRANULARITY) + (this.#spaces[2].size > 0 ? this.maxAckDelay : 0);
  }

  /** When the probe timeout fires (ms, the clock's), or null with nothing in flight (§6.2.1). */
  timeout(): number | null {
    if (this.inFlight === 0) return null;
    return this.#lastSent + this.probeTimeout() * 2 ** this.#ptoCount;
  }

  /** The PTO fired: everything still in flight is sent again (as probes), and the next PTO doubles (§6.2.4). */
  onTimeout(now: number): void {
    const t = this.timeout();
    if (t === null || now < t) return;
    this.#ptoCount++;
    for (const level of [0, 1, 2] as const) {
      const space = this.#spaces[level];
      if (space.size === 0) continue;
      const items = space.values().flatMap((s) => s.items).filter((i) => i.kind !== 'pmtu_probe');
      this.cc.onRemoved(space.values().reduce((n, s) => n + s.size, 0)); // a probe is not a congestion signal
      space.clear();
      this.#lost(level, items);
    }
  }

  /** The peer moved to another address (RFC 9000 §9.4): the RTT estimate and the congestion window start over. */
  resetPath(): void {
    this.smoothedRtt = INITIAL_RTT;
    this.rttVar = INITIAL_RTT / 2;
    this.minRtt = Infinity;
    this.latestRtt = 0;
    this.#hasSample = false;
    this.cc.reset();
  }

  /** A space's keys are gone (§6.4): what was in flight there is forgotten. */
  discard(level: 0 | 1 | 2): void {
    this.cc.onRemoved(this.#spaces[level].values().reduce((n, s) => n + s.size, 0));
    this.#spaces[level].clear();
  }
}
