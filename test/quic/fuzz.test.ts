/**
 * No crash on any input (#32's "no crash on any datagram"): random datagrams into the endpoint's parsing
 * path and into an established connection, random frame payloads inside authentic 1-RTT packets, random
 * bytes on HTTP/3's control, QPACK and request streams — each either ignored or answered with a connection
 * or stream error carrying its code; nothing throws out of `receive`, and the connection's state stays one
 * of its three.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeVarint, readFrames, FrameError, parseLongHeader, PacketError } from '../../lib/quic/index.js';
import { Http3Session } from '../../lib/http3/index.js';
import { streamFrame, TestClient } from './test-client.js';

describe('fuzz', () => {
  it('readFrames on any payload: frames, or FrameError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (p) => {
        try {
          readFrames(Buffer.from(p));
        } catch (err) {
          expect(err).toBeInstanceOf(FrameError);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('parseLongHeader on any datagram: a header, or PacketError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), (d) => {
        const b = Buffer.from(d);
        b[0]! |= 0x80;
        try {
          parseLongHeader(b);
        } catch (err) {
          expect(err).toBeInstanceOf(PacketError);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('an established connection takes any datagram, and any frames in an authentic packet, without throwing', () => {
    const c = new TestClient();
    let ok = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.boolean(), (bytes, inside) => {
        const client = c.conn.state === 'closed' ? new TestClient() : c;
        if (inside) client.send(Buffer.from(bytes)); // decrypts: the frames are read
        else client.conn.receive(Buffer.from(bytes)); // most do not decrypt: dropped
        client.read();
        expect(['handshake', 'established', 'closed']).toContain(client.conn.state);
        if (client.conn.state === 'closed') expect(client.conn.closeReason?.code).toBeTypeOf('number');
        ok++;
      }),
      { numRuns: 1500 },
    );
    expect(ok).toBe(1500);
  });

  it('HTTP/3: any bytes on the control, QPACK and request streams end in a code, never a throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 2, 6, 10), fc.uint8Array({ maxLength: 120 }), fc.boolean(), (stream, bytes, fin) => {
        const c = new TestClient({ params: { initialMaxStreamsUni: 3 } });
        new Http3Session(c.conn, (_req, res) => res.end('x'));
        c.send(streamFrame(2, 0, Buffer.concat([encodeVarint(0x00), Buffer.from([0x04, 0x00])])));
        const prefix = stream === 6 ? Buffer.from([0x02]) : stream === 10 ? Buffer.from([0x03]) : Buffer.alloc(0);
        c.send(streamFrame(stream, stream === 2 ? 3 : 0, Buffer.concat([prefix, Buffer.from(bytes)]), fin));
        c.read();
        expect(['established', 'closed']).toContain(c.conn.state);
        if (c.conn.state === 'closed') expect(c.conn.closeReason?.code).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 600 },
    );
  });
});
