/**
 * Connection IDs and moving paths (RFC 9000 §5.1, §9): ours issued with NEW_CONNECTION_ID up to the
 * client's limit and replaced as it retires them (every rule of §19.15–§19.16 with its error), the client's
 * kept within our limit (CONNECTION_ID_LIMIT_ERROR past it) and followed past its Retire Prior To; a new
 * address held to three times what came from it until it answers a PATH_CHALLENGE sent first (§8.2.1,
 * §9.3), the congestion state started over for a new IP address but not for a new port (§9.4).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConnectionIds } from '../../lib/quic/connection-ids.js';
import { encodeVarint, QuicConnectionError } from '../../lib/quic/index.js';
import { streamFrame, TestClient } from './test-client.js';

const code = (f: () => unknown): number | string => {
  try {
    f();
    return 'no error';
  } catch (err) {
    return err instanceof QuicConnectionError ? err.code : String(err);
  }
};
const ack = (largest: number) => Buffer.concat([Buffer.from([0x02]), encodeVarint(largest), encodeVarint(0), encodeVarint(0), encodeVarint(largest)]);
const newId = (seq: number, retirePriorTo: number, cid: Buffer) => Buffer.concat([Buffer.from([0x18]), encodeVarint(seq), encodeVarint(retirePriorTo), Buffer.from([cid.length]), cid, randomBytes(16)]);
const retireId = (seq: number) => Buffer.concat([Buffer.from([0x19]), encodeVarint(seq)]);

describe('ConnectionIds', () => {
  const local = randomBytes(8);
  const peer = randomBytes(8);

  it('issues ours up to the client\'s limit, at most four, and one more for each it retires', () => {
    const ids = new ConnectionIds(local, peer, 2);
    expect(ids.issue(2).map((x) => x.seq)).toEqual([1]);
    expect(ids.issue(2)).toEqual([]);
    const more = new ConnectionIds(local, peer, 2);
    expect(more.issue(8).map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(more.ours.length).toBe(4);
    expect(more.retire(0, randomBytes(8))).toEqual(local);
    expect(more.retire(0, randomBytes(8))).toBe(null); // already retired
    expect(more.issue(8).map((x) => x.seq)).toEqual([4]);
    expect(more.ours.every((c) => c.length === 8)).toBe(true);
  });

  it('refuses to retire an id never issued, or the one the packet was sent to (PROTOCOL_VIOLATION)', () => {
    const ids = new ConnectionIds(local, peer, 2);
    const [one] = ids.issue(2);
    expect(code(() => ids.retire(2, local))).toBe(0x0a);
    expect(code(() => ids.retire(1, one!.cid))).toBe(0x0a);
    expect(ids.retire(1, local)).toEqual(one!.cid);
  });

  it("keeps the client's within our limit, and follows its Retire Prior To", () => {
    const ids = new ConnectionIds(local, peer, 2);
    const a = randomBytes(8);
    expect(ids.received(1, 0, a, randomBytes(16))).toEqual({ retire: [], peer: null });
    expect(ids.received(1, 0, a, randomBytes(16))).toEqual({ retire: [], peer: null }); // a repeat
    expect(code(() => ids.received(2, 0, randomBytes(8), randomBytes(16)))).toBe(0x09); // three active, limit two
    const ids2 = new ConnectionIds(local, peer, 2);
    ids2.received(1, 0, a, randomBytes(16));
    const b = randomBytes(8);
    // Retire everything below 2: ours (0) goes, and the client's 1; we move to 2.
    expect(ids2.received(2, 2, b, randomBytes(16))).toEqual({ retire: [0, 1], peer: b });
    expect(ids2.received(1, 0, a, randomBytes(16))).toEqual({ retire: [1], peer: null }); // late, below the line
  });

  it("refuses the client's malformed or contradicting NEW_CONNECTION_ID", () => {
    const ids = new ConnectionIds(local, peer, 4);
    const a = randomBytes(8);
    ids.received(1, 0, a, randomBytes(16));
    expect(code(() => ids.received(1, 0, randomBytes(8), randomBytes(16)))).toBe(0x0a); // same number, other id
    expect(code(() => ids.received(2, 0, a, randomBytes(16)))).toBe(0x0a); // same id, other number
    expect(code(() => ids.received(3, 4, randomBytes(8), randomBytes(16)))).toBe(0x07); // retire prior to past itself
    expect(code(() => ids.received(3, 0, Buffer.alloc(0), randomBytes(16)))).toBe(0x07);
    expect(code(() => ids.received(3, 0, randomBytes(21), randomBytes(16)))).toBe(0x07);
    expect(code(() => ids.received(3, 0, randomBytes(20), randomBytes(16)))).toBe('no error'); // 20 bytes: the most
    const zero = new ConnectionIds(local, Buffer.alloc(0), 2);
    expect(code(() => zero.received(1, 0, randomBytes(8), randomBytes(16)))).toBe(0x0a);
  });
});

describe('in the connection', () => {
  it('issues NEW_CONNECTION_ID frames once established, routes them, and replaces one the client retires', () => {
    const routed: Array<[string, boolean]> = [];
    const c = new TestClient({ params: { activeConnectionIdLimit: 3 } });
    // The endpoint's routing hook is set before the handshake; here the client's view tells what was issued.
    const issued = c.frames.filter((f) => f.type === 'new_connection_id');
    expect(issued.map((f) => (f.type === 'new_connection_id' ? [f.seq, f.retirePriorTo, f.cid.length, f.resetToken.length] : []))).toEqual([
      [1, 0, 8, 16],
      [2, 0, 8, 16],
    ]);
    c.conn.onConnectionId = (cid, added) => void routed.push([cid.toString('hex'), added]);
    c.send(retireId(1));
    const again = c.read().filter((f) => f.type === 'new_connection_id');
    expect(again.map((f) => (f.type === 'new_connection_id' ? f.seq : -1))).toEqual([3]);
    const one = issued[0]!.type === 'new_connection_id' ? issued[0]!.cid.toString('hex') : '';
    const three = again[0]!.type === 'new_connection_id' ? again[0]!.cid.toString('hex') : '';
    expect(routed).toEqual([
      [one, false],
      [three, true],
    ]);
  });

  it('puts connection ids ahead of stream data in a packet (a client may stop reading at its last stream\'s end)', () => {
    const c = new TestClient({ params: { activeConnectionIdLimit: 3 } });
    c.conn.onStream = (s) => (s.onEnd = () => s.end(Buffer.from('done')));
    c.send(retireId(1), streamFrame(0, 0, Buffer.from('get'), true)); // a replacement and the answer, in one poll
    const types = c.read().map((f) => f.type);
    expect(types.indexOf('new_connection_id')).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('new_connection_id')).toBeLessThan(types.indexOf('stream'));
  });

  it('closes on a RETIRE_CONNECTION_ID for the id its packet was sent to, and past our limit of the client\'s ids', () => {
    const c = new TestClient();
    c.send(retireId(0)); // sent to our first id, which it names
    expect([c.conn.state, c.conn.closeReason?.code]).toEqual(['closed', 0x0a]);
    const d = new TestClient(); // our limit: 2
    d.send(newId(1, 0, randomBytes(8)), newId(2, 0, randomBytes(8)));
    expect([d.conn.state, d.conn.closeReason?.code]).toEqual(['closed', 0x09]);
  });

  it("moves to the client's next id when it retires ours, and retires the old one", () => {
    const c = new TestClient();
    const next = randomBytes(8);
    c.send(newId(1, 1, next));
    const frames = c.read();
    expect(c.conn.peerCid.equals(next)).toBe(true);
    expect(frames.filter((f) => f.type === 'retire_connection_id').map((f) => (f.type === 'retire_connection_id' ? f.seq : -1))).toEqual([0]);
  });

  it('answers a client that moved with a new id of ours with a new id of its own (§9.5), when it gave one', () => {
    for (const spare of [true, false]) {
      const c = new TestClient();
      const first = Buffer.from(c.conn.peerCid);
      const x = randomBytes(8);
      if (spare) c.send(newId(1, 0, x));
      c.read();
      const ours = c.frames.find((f) => f.type === 'new_connection_id');
      c.sendTo(ours!.type === 'new_connection_id' ? ours!.cid : Buffer.alloc(8), Buffer.from([0x01]));
      c.conn.pathChanged(true);
      // Past the new path's limit until it answers the challenge: then the rest, the retirement among it.
      const challenge = c.read().find((f) => f.type === 'path_challenge');
      c.send(Buffer.concat([Buffer.from([0x1b]), challenge!.type === 'path_challenge' ? challenge!.data : Buffer.alloc(8)]));
      const frames = c.read();
      const retired = frames.filter((f) => f.type === 'retire_connection_id').map((f) => (f.type === 'retire_connection_id' ? f.seq : -1));
      expect([c.conn.peerCid.equals(spare ? x : first), retired]).toEqual([true, spare ? [0] : []]);
      // A NAT that moves it again, the id unchanged: nothing rotates.
      c.sendTo(ours!.type === 'new_connection_id' ? ours!.cid : Buffer.alloc(8), Buffer.from([0x01]));
      c.conn.pathChanged(true);
      const again = c.read().find((f) => f.type === 'path_challenge');
      c.send(Buffer.concat([Buffer.from([0x1b]), again!.type === 'path_challenge' ? again!.data : Buffer.alloc(8)]));
      expect(c.read().some((f) => f.type === 'retire_connection_id')).toBe(false);
      expect(c.conn.pathsValidated).toBe(2);
    }
  });

  it('holds a new address to three times what came from it, sends the PATH_CHALLENGE first, and the rest once it answers', () => {
    const c = new TestClient({ params: { initialMaxData: 1 << 24, initialMaxStreamDataBidiLocal: 1 << 24 } });
    c.conn.onStream = (s) => (s.onEnd = () => s.end(Buffer.alloc(400_000, 7)));
    c.send(streamFrame(0, 0, Buffer.from('get'), true));
    c.read();
    const moved = Buffer.concat([Buffer.from([0x01]), ack(c.largestReceived)]); // PING + ACK: a small datagram
    c.send(moved);
    const size = c.lastSentSize;
    c.conn.pathChanged(true);
    c.sizes.length = 0;
    const first = c.read();
    const sent = c.sizes.reduce((n, s) => n + s, 0);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(3 * size);
    const challenge = first.find((f) => f.type === 'path_challenge');
    expect(challenge).toBeDefined();
    // The challenge's datagram comes first, expanded to what the limit allows (§8.2.1: 1200 when it can).
    expect(c.sizes[0]).toBe(Math.min(1200, 3 * size));
    // Nothing more until the address answers, however long we wait.
    c.now += 5;
    c.sizes.length = 0;
    c.read();
    expect(c.sizes.reduce((n, s) => n + s, 0)).toBe(0);
    c.send(Buffer.concat([Buffer.from([0x1b]), challenge!.type === 'path_challenge' ? challenge!.data : Buffer.alloc(8)]));
    c.sizes.length = 0;
    c.read();
    expect(c.conn.pathsValidated).toBe(1);
    expect(c.sizes.reduce((n, s) => n + s, 0)).toBeGreaterThan(3 * size);
  });

  for (const portOnly of [true, false]) {
    it(`keeps the congestion window for a new port, starts over for a new address (§9.4): ${portOnly ? 'port' : 'address'}`, () => {
      const c = new TestClient({ params: { initialMaxData: 1 << 24, initialMaxStreamDataBidiLocal: 1 << 24 } });
      c.conn.onStream = (s) => (s.onEnd = () => s.end(Buffer.alloc(300_000, 7)));
      c.send(streamFrame(0, 0, Buffer.from('get'), true));
      c.read();
      for (let round = 0; round < 5; round++) {
        c.now += 20;
        c.send(ack(c.largestReceived));
        c.read();
      }
      const grown = c.conn.congestionWindow;
      const rtt = c.conn.smoothedRtt;
      expect(grown).toBeGreaterThan(30_000);
      expect(rtt).toBeLessThan(100); // sampled: 20 ms round trips
      c.send(Buffer.from([0x01]));
      c.conn.pathChanged(portOnly);
      const challenge = c.read().find((f) => f.type === 'path_challenge');
      c.send(Buffer.concat([Buffer.from([0x1b]), challenge!.type === 'path_challenge' ? challenge!.data : Buffer.alloc(8)]));
      expect(c.conn.congestionWindow).toBe(portOnly ? grown : 10 * c.conn.maxDatagram);
      expect(c.conn.smoothedRtt).toBe(portOnly ? rtt : 333); // kInitialRtt (RFC 9002 §6.2.2) on a new path
    });
  }
});
