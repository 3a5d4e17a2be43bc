/**
 * CUBIC (RFC 9438) alone: the cut to 0.7 of the window (§4.6), the curve back to W_max over K seconds and
 * past it (§4.2: concave, then convex), Reno's pace as the floor (§4.3), fast convergence (§4.7), a new
 * path starting over; the same acknowledgments given to NewReno for comparison.
 */
import { describe, expect, it } from 'vitest';
import { Cubic, encodeVarint, NewReno } from '../../lib/quic/index.js';
import { streamFrame, TestClient } from './test-client.js';

const MSS = 1000;

/** Slow start from the initial window to at least `bytes`, every ACK at time 0. */
function grown<T extends NewReno>(cc: T, bytes: number): T {
  while (cc.window < bytes) {
    cc.onSent(MSS);
    cc.onAcked(MSS, 0, 0, 100);
  }
  return cc;
}

/** One round trip: a window's worth of packets sent at `sentAt` and acknowledged at `ackAt`, RTT `rtt`. */
function round(cc: NewReno, sentAt: number, ackAt: number, rtt: number): void {
  const n = Math.floor(cc.window / MSS);
  for (let i = 0; i < n; i++) cc.onSent(MSS);
  for (let i = 0; i < n; i++) cc.onAcked(MSS, sentAt, ackAt, rtt);
}

describe('CUBIC', () => {
  it('cuts the window to 0.7 of itself on a loss (NewReno: half), once per recovery period, never below two datagrams', () => {
    const cubic = grown(new Cubic(MSS), 100_000);
    const reno = grown(new NewReno(MSS), 100_000);
    const w = cubic.window;
    cubic.onLost(MSS, 10, 20);
    reno.onLost(MSS, 10, 20);
    expect(cubic.window).toBeCloseTo(w * 0.7, 6);
    expect(cubic.ssthresh).toBeCloseTo(w * 0.7, 6);
    expect(reno.window).toBeCloseTo(w * 0.5, 6);
    cubic.onLost(MSS, 15, 30); // sent before the recovery began: no second cut
    expect(cubic.window).toBeCloseTo(w * 0.7, 6);
    const small = new Cubic(MSS);
    for (let i = 0; i < 20; i++) small.onLost(MSS, 100 * i + 50, 100 * i + 60);
    expect(small.window).toBe(2 * MSS);
  });

  it('grows back to W_max in K seconds (concave), then past it faster (convex)', () => {
    const cc = grown(new Cubic(MSS), 100_000);
    const wMax = cc.window;
    cc.onLost(MSS, 0, 0);
    // K = cbrt((W_max − 0.7·W_max) / MSS / C) seconds (§4.2).
    const k = Math.cbrt((wMax * 0.3) / MSS / 0.4) * 1000;
    const rtt = 100;
    const at: number[] = [];
    for (let t = 0; t < 2 * k; t += rtt) {
      round(cc, t, t + rtt, rtt);
      at.push(cc.window);
    }
    // The first round trip was sent in recovery (no growth); the second moves towards W_cubic(RTT): a little
    // above the cut, far from W_max.
    expect(at[0]! / wMax).toBeCloseTo(0.7, 6);
    expect(at[1]! / wMax).toBeGreaterThan(0.7);
    expect(at[1]! / wMax).toBeLessThan(0.75);
    // Half way to K, most of the way back already (W_cubic(K/2) = W_max − C·(K/2)³ ≈ 0.96·W_max).
    expect(at[Math.round(k / rtt / 2) - 1]! / wMax).toBeGreaterThan(0.9);
    const nearK = at[Math.round(k / rtt) - 1]!;
    expect(Math.abs(nearK - wMax) / wMax).toBeLessThan(0.03);
    // Concave before K: the first half of the way grows more than the second.
    const quarter = at[Math.round(k / rtt / 2) - 1]!;
    expect(quarter - at[0]!).toBeGreaterThan(nearK - quarter);
    // Convex after: from 1.5·K to 2·K it grows more than from K to 1.5·K.
    const end = at.at(-1)!;
    const oneHalf = at[Math.round((1.5 * k) / rtt) - 1]!;
    expect(end - oneHalf).toBeGreaterThan(oneHalf - nearK);
    expect(end).toBeGreaterThan(wMax * 1.1);
    // A loss now starts a new stage: its curve from the new cut, not from where the old one had got to.
    const before = cc.window;
    cc.onLost(MSS, 2 * k + 100, 2 * k + 200);
    round(cc, 2 * k + 300, 2 * k + 300 + rtt, rtt);
    expect(cc.window).toBeLessThan(before * 0.75);
    // NewReno, the same round trips for K: from half, one datagram per round — still short of W_max.
    const reno = grown(new NewReno(MSS), 100_000);
    reno.onLost(MSS, 0, 0);
    for (let t = 0; t < k - rtt / 2; t += rtt) round(reno, t, t + rtt, rtt);
    expect(reno.window).toBeLessThan(wMax * 0.95);
    expect(reno.window).toBeLessThan(nearK);
  });

  it('each ACK moves the window towards W_cubic one RTT ahead (§4.4), from W_max and K of the last loss — fast convergence lowering W_max (§4.7)', () => {
    const C = 0.4;
    /** W_cubic(t) in bytes, t in ms (§4.2). */
    const wCubic = (t: number, k: number, wMax: number) => C * ((t - k) / 1000) ** 3 * MSS + wMax;
    /** One ACK of one datagram sent at `sentAt`, at `now`, with the smoothed RTT `rtt`; the window's growth. */
    const ack = (cc: Cubic, sentAt: number, now: number, rtt: number) => {
      const before = cc.window;
      cc.onSent(MSS);
      cc.onAcked(MSS, sentAt, now, rtt);
      return cc.window - before;
    };
    const cc = grown(new Cubic(MSS), 100_000);
    const w = cc.window;
    cc.onLost(MSS, 0, 0);
    const k = Math.cbrt((w * 0.3) / MSS / C) * 1000;
    ack(cc, 10, 1000, 100); // the stage's first ACK: its epoch
    let at = cc.window;
    // One second in, one RTT (100 ms) ahead: W_cubic(1.1 s), a cubic step, not Reno's.
    expect(ack(cc, 20, 2000, 100)).toBeCloseTo(((wCubic(1100, k, w) - at) * MSS) / at, 6);
    // A second loss before W_max is reached again: W_max becomes that window·(1 + 0.7)/2, not the window.
    const second = cc.window;
    cc.onLost(MSS, 30, 3000);
    expect(cc.window).toBeCloseTo(second * 0.7, 6);
    const wMax2 = (second * 1.7) / 2;
    const k2 = Math.cbrt((wMax2 - cc.window) / MSS / C) * 1000;
    ack(cc, 3001, 4000, 50);
    at = cc.window;
    // At K₂ − RTT the target is W_cubic(K₂) = W_max₂ exactly.
    expect(ack(cc, 3002, 4000 + k2 - 50, 50)).toBeCloseTo(((wMax2 - at) * MSS) / at, 6);
  });

  it("never grows slower than Reno would with the same average window (§4.3): all ACKs at one instant", () => {
    const cc = grown(new Cubic(MSS), 100_000);
    cc.onLost(MSS, 0, 0);
    const cut = cc.window;
    // Time stands still: W_cubic stays at its start; the Reno-friendly estimate (α ≈ 0.53 per window) leads.
    for (let r = 0; r < 10; r++) round(cc, 1, 1, 100);
    const alpha = (3 * 0.3) / 1.7;
    expect((cc.window - cut) / MSS).toBeGreaterThan(10 * alpha * 0.9);
    expect((cc.window - cut) / MSS).toBeLessThan(10 * alpha * 1.1);
    // Past W_max (the window at the loss), Reno's own pace: one datagram per window.
    while (cc.window < cut / 0.7 + MSS) round(cc, 1, 1, 100);
    const past = cc.window;
    for (let r = 0; r < 10; r++) round(cc, 1, 1, 100);
    expect((cc.window - past) / MSS).toBeGreaterThan(9);
    expect((cc.window - past) / MSS).toBeLessThan(11);
  });

  it('a loss before W_max is reached again lowers W_max (fast convergence, §4.7)', () => {
    const a = grown(new Cubic(MSS), 100_000);
    const b = grown(new Cubic(MSS), 100_000);
    const w = a.window;
    a.onLost(MSS, 0, 0);
    b.onLost(MSS, 0, 0);
    // a loses again at 0.7·W (below W_max): W_max becomes 0.7·W·(1 + 0.7)/2; then both climb for one second.
    a.onLost(MSS, 10, 20);
    const second = a.window;
    expect(second).toBeCloseTo(w * 0.49, 6);
    for (let t = 100; t < 1100; t += 100) {
      round(a, t, t + 100, 100);
      round(b, t, t + 100, 100);
    }
    // Its curve aims at 0.595·W: after a second it is within reach of that, not of W.
    expect(a.window).toBeLessThan(w * 0.6);
    expect(b.window).toBeGreaterThan(w * 0.7);
  });

  it('a new path starts over: the initial window, slow start, no W_max', () => {
    const cc = grown(new Cubic(MSS), 100_000);
    cc.onLost(MSS, 0, 0);
    cc.reset();
    expect(cc.window).toBe(new Cubic(MSS).window);
    expect(cc.ssthresh).toBe(Infinity);
    grown(cc, 20_000);
    expect(cc.window).toBeGreaterThanOrEqual(20_000);
  });
});

describe("in the connection (congestionControl: 'cubic')", () => {
  /** A connection sending 200 KB; every packet acknowledged but one of the last flight, lost by the threshold. */
  function cutWindow(congestionControl: 'newreno' | 'cubic'): number {
    const c = new TestClient({ params: { initialMaxData: 1 << 24, initialMaxStreamDataBidiLocal: 1 << 24 }, server: { congestionControl } });
    c.conn.onStream = (s) => (s.onEnd = () => s.end(Buffer.alloc(200_000, 1)));
    c.send(streamFrame(0, 0, Buffer.from('get'), true));
    c.read();
    const last = c.largestReceived;
    const lost = last - 4;
    c.now += 10;
    c.send(Buffer.concat([Buffer.from([0x02]), encodeVarint(last), encodeVarint(0), encodeVarint(1), encodeVarint(last - lost - 1), encodeVarint(0), encodeVarint(lost - 1)]));
    return c.conn.congestionWindow;
  }

  it('cuts the window to 0.7 where NewReno halves it, on the same packets', () => {
    expect(cutWindow('cubic') / cutWindow('newreno')).toBeCloseTo(1.4, 6);
  });
});
