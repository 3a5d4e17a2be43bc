/**
 * Building protected long-header packets (RFC 9000 §17.2, RFC 9001 §5): header with a 2-byte Length and a
 * packet number of `pnLength` bytes, payload sealed, then header protection applied over a sample of the
 * ciphertext. Frames are the caller's bytes.
 */
import { headerMask, sealInto, type Aead } from './protection.js';
import type { PacketKeys } from './initial.js';
import { writeVarint } from './varint.js';

export interface LongPacket {
  type: number;
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** Initial packets: the token (empty for a server). */
  token?: Uint8Array;
  pn: number;
  /** Frames. */
  payload: Uint8Array;
}

/**
 * A protected long-header packet.
 *
 * @example
 * ```ts
 * const { server } = initialKeys(clientDcid);
 * const packet = buildLongPacket('aes-128-gcm', server, {
 *   type: PACKET_INITIAL, version: 1, dcid: clientScid, scid: ourCid, pn: 0, payload: cryptoFrames,
 * });
 * socket.send(packet, port, address);
 * ```
 */
export function buildLongPacket(aead: Aead, keys: PacketKeys, p: LongPacket, pnLength: 1 | 2 | 3 | 4 = 2): Buffer {
  // The sample is 16 bytes from 4 past the packet number's start: short payloads are padded to allow it.
  // The sample needs 4 + 16 bytes after the packet number's start: pnLength + payload + 16-byte tag ≥ 20.
  let payload = p.payload;
  if (payload.length < 4 - pnLength) payload = Buffer.concat([payload, Buffer.alloc(4 - pnLength - payload.length)]);
  const token = p.token ?? new Uint8Array(0);
  const isInitial = p.type === 0;
  const headLen = 1 + 4 + 1 + p.dcid.length + 1 + p.scid.length + (isInitial ? (token.length < 64 ? 1 : 2) + token.length : 0) + 2 + pnLength;
  // One buffer for the whole packet: the header written in place, the sealed payload after it.
  const packet = Buffer.allocUnsafe(headLen + payload.length + 16);
  const header = packet.subarray(0, headLen);
  let i = 0;
  header[i++] = 0xc0 | (p.type << 4) | (pnLength - 1);
  header.writeUInt32BE(p.version, i);
  i += 4;
  header[i++] = p.dcid.length;
  header.set(p.dcid, i);
  i += p.dcid.length;
  header[i++] = p.scid.length;
  header.set(p.scid, i);
  i += p.scid.length;
  if (isInitial) {
    i = writeVarint(header, i, token.length, token.length < 64 ? 1 : 2);
    header.set(token, i);
    i += token.length;
  }
  i = writeVarint(header, i, pnLength + payload.length + 16, 2);
  const pnOffset = i;
  for (let k = pnLength - 1; k >= 0; k--) header[i + k] = (p.pn >>> (8 * (pnLength - 1 - k))) & 0xff;
  sealInto(aead, keys, p.pn, header, payload, packet, headLen);
  const mask = headerMask(aead, keys.hp, packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0]! ^= mask[0]! & 0x0f;
  for (let k = 0; k < pnLength; k++) packet[pnOffset + k]! ^= mask[1 + k]!;
  return packet;
}

/**
 * A protected 1-RTT (short header) packet (RFC 9000 §17.3): `dcid`, packet number, key phase (RFC 9001 §6).
 *
 * @example
 * ```ts
 * socket.send(buildShortPacket('aes-128-gcm', oneRttKeys, peerCid, pn, frames), port, address);
 * ```
 */
export function buildShortPacket(aead: Aead, keys: PacketKeys, dcid: Uint8Array, pn: number, payload: Uint8Array, pnLength: 1 | 2 | 3 | 4 = 2, keyPhase: 0 | 1 = 0): Buffer {
  let body = payload;
  if (body.length < 4 - pnLength) body = Buffer.concat([body, Buffer.alloc(4 - pnLength - body.length)]);
  const headLen = 1 + dcid.length + pnLength;
  const packet = Buffer.allocUnsafe(headLen + body.length + 16);
  packet[0] = 0x40 | (keyPhase << 2) | (pnLength - 1);
  packet.set(dcid, 1);
  const pnOffset = 1 + dcid.length;
  for (let k = pnLength - 1; k >= 0; k--) packet[pnOffset + k] = (pn >>> (8 * (pnLength - 1 - k))) & 0xff;
  sealInto(aead, keys, pn, packet.subarray(0, headLen), body, packet, headLen);
  const mask = headerMask(aead, keys.hp, packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0]! ^= mask[0]! & 0x1f;
  for (let k = 0; k < pnLength; k++) packet[pnOffset + k]! ^= mask[1 + k]!;
  return packet;
}
