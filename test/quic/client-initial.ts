/**
 * A client's first Initial packet, built here (no peer needed): a TLS 1.3 ClientHello with a real X25519
 * share, ALPN and transport parameters, in a CRYPTO frame, padded so the datagram is exactly `size` bytes.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { buildLongPacket, encodeTransportParameters, encodeVarint, initialKeys, PACKET_INITIAL, type TransportParameters } from '../../lib/quic/index.js';
import { x25519KeyPair, x25519Shared, type X25519KeyPair } from '../../lib/tls13/index.js';

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const v1 = (b: Buffer) => Buffer.concat([Buffer.from([b.length]), b]);
const v2 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const ext = (type: number, body: Buffer) => Buffer.concat([u16(type), v2(body)]);

export interface ClientInitial {
  datagram: Buffer;
  dcid: Buffer;
  scid: Buffer;
  /** The ClientHello as sent, and the X25519 key pair whose public half it carries. */
  clientHello: Buffer;
  keyPair: X25519KeyPair;
  /** The shared secret with the server's share in `group` (X25519, or P-256 when the ClientHello had it). */
  shared(group: number, serverShare: Buffer): Buffer;
}

export interface ClientInitialOptions {
  size?: number;
  dcid?: Buffer;
  scid?: Buffer;
  alpn?: string;
  params?: Partial<TransportParameters>;
  /** Key shares sent (group ids: 0x001d X25519, 0x0017 P-256, 0x0018 a P-384-sized share we never take). Default [0x001d]. */
  shares?: number[];
  /** supported_groups. Default: the shares' groups. */
  groups?: number[];
  /** Where the ClientHello sits in the CRYPTO stream, and the packet number (a second ClientHello after HRR). */
  cryptoOffset?: number;
  pn?: number;
  /** cipher_suites, in the client's order of preference. Default [0x1301]. */
  suites?: number[];
}

export function clientInitial(o: ClientInitialOptions = {}): ClientInitial {
  const dcid = o.dcid ?? randomBytes(8);
  const scid = o.scid ?? randomBytes(8);
  const keyPair = x25519KeyPair();
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const shares = o.shares ?? [0x001d];
  const shareBytes = (g: number) => (g === 0x001d ? keyPair.publicKey : g === 0x0017 ? ecdh.getPublicKey() : Buffer.alloc(97, 4));
  const exts = [
    ext(0x002b, v1(u16(0x0304))),
    ext(0x0033, v2(Buffer.concat(shares.map((g) => Buffer.concat([u16(g), v2(shareBytes(g))]))))),
    ext(0x000d, v2(Buffer.concat([u16(0x0403), u16(0x0804)]))),
    ext(0x000a, v2(Buffer.concat((o.groups ?? shares).map(u16)))),
    ext(0x0010, v2(v1(Buffer.from(o.alpn ?? 'h3')))),
    ext(0x0039, encodeTransportParameters({ initialSourceConnectionId: scid, initialMaxData: 1 << 20, ...o.params })),
  ];
  const body = Buffer.concat([u16(0x0303), randomBytes(32), v1(Buffer.alloc(0)), v2(Buffer.concat((o.suites ?? [0x1301]).map(u16))), v1(Buffer.from([0])), v2(Buffer.concat(exts))]);
  const head = Buffer.from([1, 0, 0, 0]);
  head.writeUIntBE(body.length, 1, 3);
  const ch = Buffer.concat([head, body]);
  const crypto = Buffer.concat([Buffer.from([0x06]), encodeVarint(o.cryptoOffset ?? 0), encodeVarint(ch.length), ch]);
  const keys = initialKeys(dcid).client;
  const build = (pad: number) => buildLongPacket('aes-128-gcm', keys, { type: PACKET_INITIAL, version: 1, dcid, scid, pn: o.pn ?? 0, payload: Buffer.concat([crypto, Buffer.alloc(pad)]) });
  const size = o.size ?? 1200;
  const bare = build(0);
  if (bare.length > size) throw new Error(`an Initial needs ${bare.length} bytes`);
  const datagram = build(size - bare.length);
  if (datagram.length !== size) throw new Error('padding moved the length field');
  const shared = (group: number, serverShare: Buffer) => (group === 0x0017 ? ecdh.computeSecret(serverShare) : x25519Shared(keyPair, serverShare));
  return { datagram, dcid, scid, clientHello: ch, keyPair, shared };
}

/** Another Initial packet from the same client: a PING (ack-eliciting) with packet number `pn`, 1200 bytes. */
export function clientPing(ci: ClientInitial, pn: number): Buffer {
  const keys = initialKeys(ci.dcid).client;
  const build = (pad: number) => buildLongPacket('aes-128-gcm', keys, { type: PACKET_INITIAL, version: 1, dcid: ci.dcid, scid: ci.scid, pn, payload: Buffer.concat([Buffer.from([0x01]), Buffer.alloc(pad)]) });
  return build(1200 - build(0).length);
}
