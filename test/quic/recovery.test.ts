/**
 * Loss detection (RFC 9002) on a clock of the test's: RTT estimates (§5.3), the packet threshold (3) and
 * the time threshold (9/8 RTT) at their edges, the probe timeout and its doubling, and what is handed back.
 */
import { describe, expect, it } from 'vitest';
import { Recovery, type Retransmittable } from '../../lib/quic/index.js';

const item = (offset: number): Retransmittable => ({ kind: 'crypto', offset, data: Buffer.from([offset]) });

function harness() {
  const lost: Array<[number, number[]]> = [];
  const r = new Recovery((level, items) => lost.push([level, items.map((i) => (i.kind === 'crypto' ? i.offset : -1))]));
  return { r, lost };
}

describe('loss detection (RFC 9002)', () => {
  it('takes the first RTT sample as it is, then smooths (§5.3)', () => {
    const { r } = harness();
    r.onSent(0, 0, 1000, [item(0)]);
    r.onAck(0, [[0, 0]], 1100);
    expect([r.smoothedRtt, r.rttVar, r.minRtt]).toEqual([100, 50, 100]);
    r.onSent(0, 1, 2000, [item(1)]);
    r.onAck(0, [[1, 1]], 2200);
    expect(r.smoothedRtt).toBe(0.875 * 100 + 0.125 * 200);
    expect(r.rttVar).toBe(0.75 * 50 + 0.25 * 100);
  });

  it('a packet 3 below the largest acknowledged is lost; 2 below is not (packet threshold)', () => {
    const { r, lost } = harness();
    for (let pn = 0; pn <= 5; pn++) r.onSent(1, pn, 1000, [item(pn)]);
    r.onAck(1, [[4, 4]], 1001); // 4 acknowledged: 0 and 1 are ≥ 3 below, 2 and 3 are not
    expect(lost).toEqual([[1, [0, 1]]]);
    expect(r.inFlight).toBe(3); // 2, 3 and 5
  });

  it('a packet sent 9/8 RTT (the larger of smoothed and latest) before now is lost (time threshold), one sent later is not', () => {
    const { r, lost } = harness();
    r.onSent(2, 0, 0, [item(0)]);
    r.onAck(2, [[0, 0]], 800); // RTT 800: the loss delay is 900
    r.onSent(2, 1, 1000, [item(1)]); // sent 900 before now below: lost
    r.onSent(2, 2, 1001, [item(2)]); // 899 before: kept
    r.onSent(2, 3, 1100, [item(3)]);
    r.onAck(2, [[3, 3]], 1900); // RTT 800 again: the delay stays 900
    expect(lost).toEqual([[2, [1]]]);
    expect(r.inFlight).toBe(1);
  });

  it('the probe timeout resends what is in flight and doubles; an ACK resets it; nothing in flight, no timer', () => {
    const { r, lost } = harness();
    expect(r.timeout()).toBeNull();
    r.onSent(0, 0, 0, [item(0)]);
    const first = r.timeout()!; // 333 + 4 × 166.5 (the initial RTT): 999
    expect(first).toBe(333 + 4 * 166.5);
    r.onTimeout(first - 1);
    expect(lost).toEqual([]); // not yet
    r.onTimeout(first);
    expect(lost).toEqual([[0, [0]]]);
    r.onSent(0, 1, first, [item(0)]); // the probe
    expect(r.timeout()).toBe(first + 2 * (333 + 4 * 166.5)); // doubled
    r.onAck(0, [[1, 1]], first + 10);
    expect(r.timeout()).toBeNull();
    r.onSent(0, 2, 5000, [item(2)]);
    expect(r.timeout()).toBe(5000 + r.smoothedRtt + 4 * r.rttVar); // back to one PTO
  });

  it('discarding a space forgets what was in flight there', () => {
    const { r, lost } = harness();
    r.onSent(0, 0, 0, [item(0)]);
    r.discard(0);
    expect([r.inFlight, r.timeout()]).toEqual([0, null]);
    expect(lost).toEqual([]);
  });
});
