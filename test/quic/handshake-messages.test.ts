/**
 * The ClientHello reader (lib/tls13/client-hello.ts) and QUIC transport parameters (lib/quic/transport-
 * params.ts) on messages built here: each rule at its limit and one past, and any corruption answered by
 * a typed error (the alert, TRANSPORT_PARAMETER_ERROR), never another exception.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeTransportParameters, encodeVarint, FrameError, parseTransportParameters, readFrames, TransportParameterError } from '../../lib/quic/index.js';
import { Alert, parseClientHello, TlsAlert } from '../../lib/tls13/index.js';

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const v1 = (b: Buffer) => Buffer.concat([Buffer.from([b.length]), b]);
const v2 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const ext = (type: number, body: Buffer) => Buffer.concat([u16(type), v2(body)]);

interface Parts {
  legacyVersion?: number;
  compression?: Buffer;
  extensions?: Buffer[];
}

function clientHello(p: Parts = {}): Buffer {
  const exts = p.extensions ?? [
    ext(0x002b, v1(Buffer.concat([u16(0x0304)]))),
    ext(0x0033, v2(Buffer.concat([u16(0x001d), v2(Buffer.alloc(32, 9))]))),
    ext(0x000d, v2(Buffer.concat([u16(0x0403), u16(0x0804)]))),
    ext(0x000a, v2(u16(0x001d))),
    ext(0x0000, v2(Buffer.concat([Buffer.from([0]), v2(Buffer.from('Example.com'))]))),
    ext(0x0010, v2(Buffer.concat([v1(Buffer.from('h3')), v1(Buffer.from('h3-29'))]))),
    ext(0x0039, encodeTransportParameters({ initialSourceConnectionId: Buffer.from([1, 2, 3, 4]), initialMaxData: 1 << 20 })),
  ];
  const body = Buffer.concat([u16(p.legacyVersion ?? 0x0303), Buffer.alloc(32, 1), v1(Buffer.alloc(32, 2)), v2(Buffer.concat([u16(0x1301), u16(0x1303)])), p.compression ?? v1(Buffer.from([0])), v2(Buffer.concat(exts))]);
  const head = Buffer.alloc(4);
  head[0] = 1;
  head.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([head, body]);
}

describe('the ClientHello reader', () => {
  it('reads what a TLS 1.3 client sends', () => {
    const ch = parseClientHello(clientHello());
    expect(ch.cipherSuites).toEqual([0x1301, 0x1303]);
    expect(ch.supportedVersions).toEqual([0x0304]);
    expect(ch.keyShares).toEqual([{ group: 0x001d, key: Buffer.alloc(32, 9) }]);
    expect(ch.signatureAlgorithms).toEqual([0x0403, 0x0804]);
    expect(ch.supportedGroups).toEqual([0x001d]);
    expect(ch.serverName).toBe('example.com');
    expect(ch.alpn).toEqual(['h3', 'h3-29']);
    expect(ch.sessionId).toEqual(Buffer.alloc(32, 2));
  });

  it('refuses each rule broken, with the alert RFC 8446 names', () => {
    const alertOf = (b: Buffer) => {
      try {
        parseClientHello(b);
        return null;
      } catch (err) {
        return (err as TlsAlert).alert;
      }
    };
    const base = [
      ext(0x002b, v1(u16(0x0304))),
      ext(0x0033, v2(Buffer.concat([u16(0x001d), v2(Buffer.alloc(32))]))),
    ];
    expect(alertOf(clientHello({ legacyVersion: 0x0301 }))).toBe(Alert.protocol_version);
    expect(alertOf(clientHello({ compression: v1(Buffer.from([1])) }))).toBe(Alert.illegal_parameter);
    expect(alertOf(clientHello({ compression: v1(Buffer.from([0, 0])) }))).toBe(Alert.illegal_parameter);
    expect(alertOf(clientHello({ extensions: [ext(0x002b, v1(u16(0x0303))), base[1]!] }))).toBe(Alert.protocol_version);
    expect(alertOf(clientHello({ extensions: [...base, base[0]!] }))).toBe(Alert.illegal_parameter); // an extension twice
    expect(alertOf(clientHello({ extensions: [ext(0x002b, v1(u16(0x0304))), ext(0x0033, v2(Buffer.concat([u16(0x001d), v2(Buffer.alloc(31))])))] }))).toBe(Alert.illegal_parameter); // X25519 key of 31 bytes
    expect(alertOf(clientHello({ extensions: [ext(0x002b, v1(u16(0x0304))), ext(0x0033, v2(Buffer.concat([u16(0x0017), v2(Buffer.alloc(65, 2))])))] }))).toBe(Alert.illegal_parameter); // P-256 not uncompressed
    expect(alertOf(clientHello({ extensions: [ext(0x0029, Buffer.alloc(4)), ...base] }))).toBe(Alert.illegal_parameter); // pre_shared_key not last
    expect(alertOf(clientHello({ extensions: [...base, ext(0x0000, v2(Buffer.concat([Buffer.from([0]), v2(Buffer.from('a.example.'))])))] }))).toBe(Alert.illegal_parameter); // trailing dot
    expect(alertOf(clientHello({ extensions: [...base, ext(0x0010, v2(v1(Buffer.alloc(0))))] }))).toBe(Alert.decode_error); // empty protocol name
    const good = clientHello();
    expect(alertOf(good.subarray(0, good.length - 1))).toBe(Alert.decode_error); // truncated
    const sid33 = Buffer.from(good);
    sid33[4 + 2 + 32] = 33; // legacy_session_id of 33 bytes: one past its limit
    expect(alertOf(sid33)).toBe(Alert.decode_error);
    expect(alertOf(Buffer.from([2, 0, 0, 0]))).toBe(Alert.unexpected_message);
  });

  it('any corruption is a TlsAlert or a parse, never another error (property)', () => {
    const good = clientHello();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(good.length), (edits, cut) => {
        const m = Buffer.from(good.subarray(0, Math.max(4, cut)));
        for (const [at, v] of edits) if (at < m.length) m[at] = v;
        try {
          parseClientHello(m);
        } catch (err) {
          expect(err).toBeInstanceOf(TlsAlert);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('transport parameters (RFC 9000 §18)', () => {
  const param = (id: number, value: Buffer) => Buffer.concat([encodeVarint(id), encodeVarint(value.length), value]);
  const scid = param(0x0f, Buffer.from([7]));
  const withValue = (id: number, v: number) => Buffer.concat([scid, param(id, encodeVarint(v))]);
  const ok = (b: Buffer, sender: 'client' | 'server' = 'client') => {
    try {
      parseTransportParameters(b, sender);
      return true;
    } catch (err) {
      expect(err).toBeInstanceOf(TransportParameterError);
      return false;
    }
  };

  it('round-trips what it encodes (property)', () => {
    fc.assert(
      fc.property(
        fc.record({ maxIdleTimeout: fc.nat(), initialMaxData: fc.nat(), initialMaxStreamsBidi: fc.nat({ max: 1000 }), ackDelayExponent: fc.integer({ min: 0, max: 20 }), maxAckDelay: fc.integer({ min: 0, max: 2 ** 14 - 1 }), activeConnectionIdLimit: fc.integer({ min: 2, max: 100 }), disableActiveMigration: fc.boolean() }),
        fc.uint8Array({ maxLength: 20 }),
        (p, id) => {
          const back = parseTransportParameters(encodeTransportParameters({ ...p, initialSourceConnectionId: Buffer.from(id) }), 'client');
          expect(back).toMatchObject(p);
          expect(back.initialSourceConnectionId).toEqual(Buffer.from(id));
        },
      ),
    );
  });

  it('each range at its limit and one past', () => {
    expect([ok(withValue(0x03, 1200)), ok(withValue(0x03, 1199))]).toEqual([true, false]); // max_udp_payload_size
    expect([ok(withValue(0x0a, 20)), ok(withValue(0x0a, 21))]).toEqual([true, false]); // ack_delay_exponent
    expect([ok(withValue(0x0b, 2 ** 14 - 1)), ok(withValue(0x0b, 2 ** 14))]).toEqual([true, false]); // max_ack_delay
    expect([ok(withValue(0x0e, 2)), ok(withValue(0x0e, 1))]).toEqual([true, false]); // active_connection_id_limit
    expect([ok(Buffer.concat([param(0x0f, Buffer.alloc(20))])), ok(Buffer.concat([param(0x0f, Buffer.alloc(21))]))]).toEqual([true, false]); // connection id length
  });

  it('refuses repeats, server-only parameters from a client, malformed values, a missing initial_source_connection_id', () => {
    expect(ok(Buffer.concat([scid, param(0x04, encodeVarint(1)), param(0x04, encodeVarint(2))]))).toBe(false);
    expect(ok(Buffer.concat([scid, param(0x02, Buffer.alloc(16))]))).toBe(false); // stateless_reset_token from a client
    expect(ok(Buffer.concat([scid, param(0x00, Buffer.alloc(8))]), 'server')).toBe(true);
    expect(ok(scid, 'server')).toBe(false); // a server must send original_destination_connection_id
    expect(ok(Buffer.concat([scid, param(0x04, Buffer.from([0x40]))]))).toBe(false); // a truncated varint value
    expect(ok(Buffer.concat([scid, param(0x04, Buffer.from([0x01, 0x02]))]))).toBe(false); // bytes after the varint
    expect(ok(Buffer.concat([scid, param(0x0c, Buffer.from([1]))]))).toBe(false); // disable_active_migration with a value
    expect(ok(param(0x04, encodeVarint(1)))).toBe(false); // no initial_source_connection_id
    expect(ok(Buffer.concat([scid, param(0x1234, Buffer.alloc(3))]))).toBe(true); // unknown: ignored (greasing)
    // A reserved id with a 62-bit number (31 × N + 27, §18.1; Chromium sends them): ignored too.
    expect(ok(Buffer.concat([scid, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc, 0x02, 0xab, 0xcd])]))).toBe(true);
    expect(ok(Buffer.concat([scid, Buffer.from([0x04, 0x05, 0x01])]))).toBe(false); // runs past the end
  });
});

describe('frames (RFC 9000 §19)', () => {
  it('reads each frame type with its fields', () => {
    const b = Buffer.concat([
      Buffer.from([0x00, 0x01]),
      Buffer.from([0x02]), encodeVarint(10), encodeVarint(3), encodeVarint(1), encodeVarint(2), encodeVarint(1), encodeVarint(3), // ACK 8-10, 2-5
      Buffer.from([0x0f]), encodeVarint(4), encodeVarint(100), encodeVarint(3), Buffer.from('abc'), // STREAM off len fin
      Buffer.from([0x18]), encodeVarint(1), encodeVarint(0), Buffer.from([4]), Buffer.alloc(4, 7), Buffer.alloc(16, 9),
      Buffer.from([0x1c]), encodeVarint(0x0a), encodeVarint(0x08), encodeVarint(3), Buffer.from('bad'),
      Buffer.from([0x1e]),
    ]);
    expect(readFrames(b)).toEqual([
      { type: 'padding' },
      { type: 'ping' },
      { type: 'ack', largest: 10, delay: 3, ranges: [[8, 10], [2, 5]], ecn: false }, // §19.3.1: gap 1 below 8 → 5, length 3 → 2
      { type: 'stream', stream: 4, offset: 100, data: Buffer.from('abc'), fin: true },
      { type: 'new_connection_id', seq: 1, retirePriorTo: 0, cid: Buffer.alloc(4, 7), resetToken: Buffer.alloc(16, 9) },
      { type: 'connection_close', app: false, code: 0x0a, frameType: 0x08, reason: 'bad' },
      { type: 'handshake_done' },
    ]);
  });
  it('any bytes: frames or a FrameError, never another error (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          readFrames(Buffer.from(b));
        } catch (err) {
          expect(err).toBeInstanceOf(FrameError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
