/**
 * NewReno (RFC 9002 §7) alone, and in the connection: the initial window, slow start doubling per round
 * trip, one halving per recovery period, the two-datagram floor, growth of one datagram per window in
 * congestion avoidance; a connection's first flight of a large response stays within the initial window and
 * acknowledgments open it.
 */
import { describe, expect, it } from 'vitest';
import { encodeVarint, NewReno } from '../../lib/quic/index.js';
import { Pacer } from '../../lib/quic/pacer.js';
import { streamFrame, TestClient } from './test-client.js';

describe('NewReno', () => {
  it('starts at ten datagrams and doubles per round trip in slow start', () => {
    const cc = new NewReno(1200);
    expect(cc.window).toBe(12_000);
    expect([cc.canSend(12_000), cc.canSend(12_001)]).toEqual([true, false]);
    for (let i = 0; i < 10; i++) cc.onSent(1200);
    for (let i = 0; i < 10; i++) cc.onAcked(1200, 0);
    expect([cc.window, cc.bytesInFlight]).toEqual([24_000, 0]);
  });

  it('halves once per recovery period, never below two datagrams', () => {
    const cc = new NewReno(1200);
    for (let i = 0; i < 10; i++) cc.onSent(1200);
    cc.onLost(1200, 5, 10); // a packet sent at t=5 lost, noticed at t=10: recovery starts at 10
    expect([cc.window, cc.ssthresh]).toEqual([6000, 6000]);
    cc.onLost(1200, 9, 11); // sent before the recovery began: no second reduction
    expect(cc.window).toBe(6000);
    cc.onAcked(1200, 8); // sent before the recovery: no growth either
    expect(cc.window).toBe(6000);
    for (let t = 20; t < 30; t++) cc.onLost(1200, t, t + 0.5); // each a new period
    expect(cc.window).toBe(2400);
  });

  it('counts bytes in flight: sent adds, acknowledged, lost and removed take away (never below 0); room is what is left', () => {
    const cc = new NewReno(1200);
    for (let i = 0; i < 10; i++) cc.onSent(1200);
    expect([cc.bytesInFlight, cc.room, cc.canSend(1)]).toEqual([12_000, 0, false]);
    cc.onAcked(1200, 0);
    expect([cc.bytesInFlight, cc.room]).toEqual([10_800, 13_200 - 10_800]);
    cc.onLost(1200, 1, 2); // window 6,600
    expect([cc.bytesInFlight, cc.room, cc.canSend(1)]).toEqual([9_600, 0, false]);
    cc.onRemoved(9_000);
    expect([cc.bytesInFlight, cc.room]).toEqual([600, 6_000]);
    cc.onRemoved(5_000);
    cc.onLost(5_000, 1, 3);
    expect(cc.bytesInFlight).toBe(0);
  });

  it('a packet sent at the very time its recovery period began does not start another (§7.3.2: sent after it does)', () => {
    const cc = new NewReno(1200);
    cc.onLost(1200, 5, 10); // recovery from t=10
    const w = cc.window;
    cc.onLost(1200, 10, 12);
    expect(cc.window).toBe(w);
    cc.onLost(1200, 10.5, 13);
    expect(cc.window).toBe(Math.max(w / 2, 2400));
  });

  it('grows by one datagram per window in congestion avoidance', () => {
    const cc = new NewReno(1200);
    cc.onSent(1200);
    cc.onLost(1200, 0, 1); // window 6000, ssthresh 6000
    for (let i = 0; i < 5; i++) cc.onAcked(1200, 2); // one window's worth acknowledged
    expect(cc.window).toBeGreaterThan(7100);
    expect(cc.window).toBeLessThan(7200);
  });
});

describe('in the connection', () => {
  it("keeps a large response's first flight within the initial window; acknowledgments let the rest go", () => {
    const c = new TestClient({ params: { initialMaxData: 1 << 24, initialMaxStreamDataBidiLocal: 1 << 24 } });
    c.conn.onStream = (s) => (s.onEnd = () => s.end(Buffer.alloc(200_000, 1)));
    c.send(streamFrame(0, 0, Buffer.from('get'), true));
    const first = c.read();
    const sent = first.filter((f) => f.type === 'stream').reduce((n, f) => n + (f.type === 'stream' ? f.data.length : 0), 0);
    expect(sent).toBeGreaterThan(9000);
    expect(sent).toBeLessThanOrEqual(12_000);
    // Acknowledge everything so far (packet numbers 0..largest), round after round: it all arrives.
    for (let round = 0; round < 40 && !c.fin.has(0); round++) {
      c.now += 10;
      const largest = c.largestReceived;
      c.send(Buffer.concat([Buffer.from([0x02]), encodeVarint(largest), encodeVarint(0), encodeVarint(0), encodeVarint(largest)]));
      c.read();
    }
    expect(c.data.get(0)?.length).toBe(200_000);
  });
});

describe('path MTU (RFC 9000 §14.3)', () => {
  const ack = (largest: number) => Buffer.concat([Buffer.from([0x02]), encodeVarint(largest), encodeVarint(0), encodeVarint(0), encodeVarint(largest)]);

  it('probes once with a 1452-byte PING; acknowledged, datagrams grow to it', () => {
    const c = new TestClient({ params: { initialMaxData: 1 << 24, initialMaxStreamDataBidiLocal: 1 << 24 } });
    expect(c.sizes).toContain(1452); // the probe went out with the handshake's end
    expect(c.conn.maxDatagram).toBe(1200);
    c.send(ack(c.largestReceived)); // everything so far, the probe included
    expect(c.conn.maxDatagram).toBe(1452);
    c.conn.onStream = (s) => (s.onEnd = () => s.end(Buffer.alloc(20_000, 2)));
    c.send(streamFrame(0, 0, Buffer.from('get'), true));
    c.sizes.length = 0;
    c.read();
    expect(Math.max(...c.sizes)).toBeLessThanOrEqual(1452);
    expect(Math.max(...c.sizes)).toBeGreaterThan(1350);
  });

  it('a lost probe leaves the size at 1200, the window whole, and is not sent again', () => {
    const c = new TestClient({ params: { initialMaxData: 1 << 24, initialMaxStreamDataBidiLocal: 1 << 24 } });
    const probe = c.pns[c.sizes.indexOf(1452)]!;
    expect(probe).toBeGreaterThanOrEqual(0);
    const window = c.conn.congestionWindow;
    c.conn.onStream = (s) => (s.onEnd = () => s.end(Buffer.alloc(8000, 3)));
    c.send(streamFrame(0, 0, Buffer.from('get'), true));
    c.read();
    // Acknowledge every packet but the probe: it is lost by the packet threshold, alone.
    const last = c.largestReceived;
    const ranges = probe === 0 ? [encodeVarint(0), encodeVarint(last - 1)] : [encodeVarint(1), encodeVarint(last - probe - 1), encodeVarint(0), encodeVarint(probe - 1)];
    c.send(Buffer.concat([Buffer.from([0x02]), encodeVarint(last), encodeVarint(0), ...ranges]));
    c.sizes.length = 0;
    c.read();
    expect([c.conn.maxDatagram, c.sizes.includes(1452)]).toEqual([1200, false]);
    expect(c.conn.congestionWindow).toBeGreaterThanOrEqual(window); // no halving for it (§14.4)
  });
});

describe('pacing (RFC 9002 §7.7)', () => {
  it('Pacer: a bucket of the initial window (or 2 ms of the rate) filling at 1.25 × window per RTT', () => {
    const p = new Pacer(0);
    // Window 120,000 bytes, RTT 100 ms: 1,500 bytes per ms; 2 ms of that is under ten datagrams.
    expect(Pacer.rate(120_000, 100)).toBe(1500);
    expect(Pacer.burst(120_000, 100, 1200)).toBe(12_000);
    expect(Pacer.burst(8_000, 100, 1200)).toBe(8_000); // never more than the window
    expect(Pacer.burst(1_200_000, 10, 1200)).toBe(300_000); // 2 ms at 150,000 bytes per ms
    expect(Pacer.rate(120_000, 0.2)).toBe(150_000); // the RTT floored at 1 ms
    expect(p.allowance(0, 120_000, 100, 1200)).toBe(12_000);
    p.spend(12_000);
    expect(p.allowance(0, 120_000, 100, 1200)).toBe(0);
    expect(p.nextAt(0, 120_000, 100, 1200)).toBe(0.8); // 1,200 bytes at 1,500 per ms
    expect(p.allowance(2, 120_000, 100, 1200)).toBe(3000);
    expect(p.allowance(100, 120_000, 100, 1200)).toBe(12_000); // full again, not more
    expect(p.nextAt(100, 120_000, 100, 1200)).toBe(100); // a datagram's worth is there now
  });

  const ackAll = (c: TestClient) => {
    const largest = c.largestReceived;
    c.send(Buffer.concat([Buffer.from([0x02]), encodeVarint(largest), encodeVarint(0), encodeVarint(0), encodeVarint(largest)]));
  };
  const streamBytes = (frames: ReturnType<TestClient['read']>) => frames.reduce((n, f) => n + (f.type === 'stream' ? f.data.length : 0), 0);

  it('sends a large window in bursts of the initial window, the rest at 1.25 × window per RTT, on a timer', () => {
    const c = new TestClient({ params: { initialMaxData: 1 << 24, initialMaxStreamDataBidiLocal: 1 << 24 } });
    const total = 3_000_000;
    c.conn.onStream = (s) => (s.onEnd = () => s.end(Buffer.alloc(total, 5)));
    c.send(streamFrame(0, 0, Buffer.from('get'), true));
    c.read();
    // Round trips of 50 ms, everything acknowledged each time: the window grows, the RTT settles near 50.
    let bursts = 0;
    for (let round = 0; round < 200 && !c.fin.has(0); round++) {
      c.now += 50;
      ackAll(c);
      const window = c.conn.congestionWindow;
      const sent = streamBytes(c.read());
      if (window < 100_000 || window >= 250_000 || c.fin.has(0)) continue;
      // The window has room for far more, but one instant sends one burst: ten datagrams (1.25 × window
      // per 50 ms gives less than that in 2 ms while the window is under ~290 KB).
      expect(sent).toBeLessThanOrEqual(10 * c.conn.maxDatagram);
      bursts++;
      // The rest waits for the pacer's timer, well before the probe timeout; when it fires, more goes.
      const at = c.conn.timeout()!;
      expect(at).toBeGreaterThan(c.now);
      expect(at).toBeLessThan(c.now + 5);
      c.now = Math.ceil(at);
      c.conn.onTimeout();
      expect(streamBytes(c.read())).toBeGreaterThan(0);
    }
    expect(bursts).toBeGreaterThan(3);
    expect(c.data.get(0)?.length).toBe(total);
  });
});
