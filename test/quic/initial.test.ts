/**
 * QUIC's first layer (lib/quic, lib/tls13/hkdf.ts): varints (RFC 9000 §16, Appendix A.1), packet number
 * decoding (Appendix A.3), Initial keys (RFC 9001 Appendix A.1) — and a real client's first packet: Debian's
 * ngtcp2 client (`gtlsclient`) sends its Initial to our UDP socket, which we unprotect and read down to the
 * ClientHello it carries.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePacketNumber, encodeVarint, initialKeys, PacketError, PacketProtectionError, parseLongHeader, readVarint, unprotect, VarintError } from '../../lib/quic/index.js';
import { needPeers, NGTCP2_CLIENT } from '../peers.js';
import { parseTransportParameters } from '../../lib/quic/index.js';
import { parseClientHello, TlsAlert } from '../../lib/tls13/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('varints (RFC 9000 §16)', () => {
  it("reads Appendix A.1's examples; refuses one past 2^53-1 rather than round it", () => {
    expect(readVarint(hex('9d7f3e7d'), 0)).toEqual({ value: 494878333, next: 4 });
    expect(readVarint(hex('7bbd'), 0)).toEqual({ value: 15293, next: 2 });
    expect(readVarint(hex('25'), 0)).toEqual({ value: 37, next: 1 });
    expect(readVarint(hex('4025'), 0)).toEqual({ value: 37, next: 2 }); // not the shortest: still 37
    expect(() => readVarint(hex('c2197c5eff14e88c'), 0)).toThrow(VarintError); // 151288809941952652
    expect(() => readVarint(hex('9d7f3e'), 0)).toThrow('truncated varint');
  });
  it('round-trips any value in every length it fits (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(1, 2, 4, 8), (v, len) => {
        const fits = v < 2 ** (len * 8 - 2);
        if (!fits) {
          expect(() => encodeVarint(v, len as 1 | 2 | 4 | 8)).toThrow(VarintError);
          return;
        }
        const b = encodeVarint(v, len as 1 | 2 | 4 | 8);
        expect(b.length).toBe(len);
        expect(readVarint(b, 0)).toEqual({ value: v, next: len });
      }),
    );
  });
});

describe('packet numbers and Initial keys', () => {
  it('decodes a truncated packet number as RFC 9000 Appendix A.3 does', () => {
    expect(decodePacketNumber(0xa82f30ea, 0x9b32, 16)).toBe(0xa82f9b32);
    expect(decodePacketNumber(-1, 0, 8)).toBe(0);
    expect(decodePacketNumber(255, 0, 8)).toBe(256);
  });
  it("derives RFC 9001 Appendix A.1's Initial secrets and keys", () => {
    const k = initialKeys(hex('8394c8f03e515708'));
    expect(k.clientSecret.toString('hex')).toBe('c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea');
    expect([k.client.key, k.client.iv, k.client.hp].map((b) => b.toString('hex'))).toEqual(['1f369613dd76d5467730efcbe3b1a22d', 'fa044b2f42a3fd3b46fb255c', '9f50449e04a0e810283a1e9933adedd2']);
    expect(k.serverSecret.toString('hex')).toBe('3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b');
    expect([k.server.key, k.server.iv, k.server.hp].map((b) => b.toString('hex'))).toEqual(['cf3a5331653c364c88f0f379b6067e37', '0ac1493ca1905853b0bba03e', 'c206b8d9b9f0f37644430b490eeaa314']);
  });
});

/** The CRYPTO stream's bytes from an Initial's frames (PADDING, PING and CRYPTO are all an Initial may carry besides ACK). */
function cryptoData(frames: Buffer): Buffer {
  const parts: Array<[number, Buffer]> = [];
  let i = 0;
  while (i < frames.length) {
    const type = frames[i]!;
    if (type === 0x00 || type === 0x01) {
      i++;
      continue;
    }
    if (type !== 0x06) throw new Error(`unexpected frame 0x${type.toString(16)} in an Initial`);
    const off = readVarint(frames, i + 1);
    const len = readVarint(frames, off.next);
    parts.push([off.value, frames.subarray(len.next, len.next + len.value)]);
    i = len.next + len.value;
  }
  parts.sort((a, b) => a[0] - b[0]);
  return Buffer.concat(parts.map(([, b]) => b));
}

/** The extensions of a ClientHello (RFC 8446 §4.1.2), by type. */
function clientHelloExtensions(ch: Buffer): Map<number, Buffer> {
  expect(ch[0]).toBe(1); // ClientHello
  const body = ch.subarray(4, 4 + ch.readUIntBE(1, 3));
  let i = 2 + 32; // legacy_version, random
  i += 1 + body[i]!; // legacy_session_id
  i += 2 + body.readUInt16BE(i); // cipher_suites
  i += 1 + body[i]!; // legacy_compression_methods
  const end = i + 2 + body.readUInt16BE(i);
  i += 2;
  const out = new Map<number, Buffer>();
  while (i < end) {
    const type = body.readUInt16BE(i);
    const len = body.readUInt16BE(i + 2);
    out.set(type, body.subarray(i + 4, i + 4 + len));
    i += 4 + len;
  }
  return out;
}

describe("a real client's Initial packet", () => {
  it('gtlsclient (ngtcp2): its first datagram opens with the Initial keys of its DCID, and holds a TLS 1.3 ClientHello for h3 with QUIC transport parameters', async (ctx) => {
    needPeers(ctx, NGTCP2_CLIENT);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    const first = new Promise<Buffer>((resolve) => sock.once('message', (m) => resolve(m)));
    const client = spawn('gtlsclient', ['--exit-on-first-stream-close', '--timeout=3s', '127.0.0.1', String(port), `https://127.0.0.1:${port}/`], { stdio: 'ignore' });
    try {
      const d = await first;
      expect(d.length).toBeGreaterThanOrEqual(1200); // RFC 9000 §14.1: a client's Initial datagram is padded to 1200
      const h = parseLongHeader(d);
      expect([h.type, h.version, h.dcid.length >= 8]).toEqual([0, 1, true]);
      const keys = initialKeys(h.dcid);
      const p = unprotect('aes-128-gcm', keys.client, d, 0, h.pnOffset, h.end, true);
      const ch = cryptoData(p.payload);
      // Our ClientHello reader and transport-parameter reader agree with what the client put in.
      const hello = parseClientHello(ch);
      expect(hello.alpn).toContain('h3');
      expect(hello.supportedVersions).toContain(0x0304);
      expect(hello.keyShares.length).toBeGreaterThan(0);
      expect(hello.cipherSuites).toContain(0x1301);
      const params = parseTransportParameters(hello.transportParameters!, 'client');
      expect(params.initialSourceConnectionId!.equals(h.scid)).toBe(true); // RFC 9000 §7.3: the SCID of its Initial
      expect(params.initialMaxData).toBeGreaterThan(0);
      // Any byte of the ClientHello changed: a TlsAlert or a valid parse, never anything else.
      for (let k = 0; k < ch.length; k++) {
        const m = Buffer.from(ch);
        m[k]! ^= 0xff;
        try {
          parseClientHello(m);
        } catch (err) {
          expect(err).toBeInstanceOf(TlsAlert);
        }
      }
      const ext = clientHelloExtensions(ch);
      expect(ext.get(0x0010)!.toString('latin1')).toContain('h3'); // ALPN
      expect(ext.has(0x0039)).toBe(true); // quic_transport_parameters (RFC 9001 §8.2)
      expect(ext.get(0x002b)!.includes(Buffer.from([0x03, 0x04]))).toBe(true); // supported_versions: TLS 1.3
      expect(ext.has(0x0033)).toBe(true); // key_share
      // The server's Initial keys do not open it; a changed byte does not authenticate.
      expect(() => unprotect('aes-128-gcm', keys.server, d, 0, h.pnOffset, h.end, true)).toThrow(PacketProtectionError);
      const bad = Buffer.from(d);
      bad[h.end - 1]! ^= 1;
      expect(() => unprotect('aes-128-gcm', keys.client, bad, 0, h.pnOffset, h.end, true)).toThrow(PacketProtectionError);
      // Any truncation of the datagram is refused with a typed error, never a crash or a read past the end.
      for (let cut = 0; cut < d.length; cut += 7) {
        const part = d.subarray(0, cut);
        try {
          const ph = parseLongHeader(part);
          unprotect('aes-128-gcm', keys.client, part, 0, ph.pnOffset, ph.end, true);
        } catch (err) {
          expect(err instanceof PacketError || err instanceof PacketProtectionError || err instanceof VarintError).toBe(true);
        }
      }
    } finally {
      client.kill('SIGKILL');
      sock.close();
    }
  }, 20_000);
});
