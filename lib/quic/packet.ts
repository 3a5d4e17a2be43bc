/**
 * Packet headers (RFC 9000 §17): long headers (Initial, 0-RTT, Handshake, Retry) and short headers, parsed
 * up to the protected packet number; then, with the keys, the header protection is removed and the
 * payload opened (RFC 9001 §5). Nothing here trusts a length it has not checked.
 */
import { readVarint } from './varint.js';
import { decodePacketNumber, headerMask, open, PacketProtectionError, type Aead } from './protection.js';
import type { PacketKeys } from './initial.js';

export const PACKET_INITIAL = 0;
export const PACKET_0RTT = 1;
export const PACKET_HANDSHAKE = 2;
export const PACKET_RETRY = 3;

/**
 * A datagram's packet that cannot even be delimited: the rest of the datagram is dropped (§12.2).
 *
 * @example
 * ```ts
 * try {
 *   parseLongHeader(datagram, offset);
 * } catch (err) {
 *   if (err instanceof PacketError) return; // the rest of the datagram is dropped, nothing is answered
 * }
 * ```
 */
export class PacketError extends Error {
  override name = 'PacketError';
}

/** A long-header packet as far as it can be read without keys. */
export interface LongHeader {
  type: number;
  version: number;
  dcid: Buffer;
  scid: Buffer;
  /** Initial packets only. */
  token: Buffer;
  /** Offset of the (protected) packet number. */
  pnOffset: number;
  /** Offset just past this packet (coalesced packets follow, §12.2). */
  end: number;
}

function varintAt(d: Buffer, i: number): { value: number; next: number } {
  try {
    return readVarint(d, i);
  } catch {
    throw new PacketError('a length cut short');
  }
}

/**
 * Reads the long header at `offset` (RFC 9000 §17.2).
 *
 * @example
 * ```ts
 * const h = parseLongHeader(datagram);
 * if (h.type === PACKET_INITIAL) {
 *   const { client } = initialKeys(h.dcid);
 *   const opened = unprotect('aes-128-gcm', client, datagram, 0, h.pnOffset, h.end, true);
 * }
 * ```
 */
export function parseLongHeader(d: Buffer, offset = 0): LongHeader {
  if (d.length - offset < 7) throw new PacketError('datagram too short for a long header');
  const first = d[offset]!;
  if ((first & 0x80) === 0) throw new PacketError('not a long header');
  const version = d.readUInt32BE(offset + 1);
  let i = offset + 5;
  const dcidLen = d[i++]!;
  if (dcidLen > 20 || i + dcidLen > d.length) throw new PacketError('bad Destination Connection ID length');
  const dcid = d.subarray(i, i + dcidLen);
  i += dcidLen;
  const scidLen = d[i++]!;
  if (scidLen > 20 || i + scidLen > d.length) throw new PacketError('bad Source Connection ID length');
  const scid = d.subarray(i, i + scidLen);
  i += scidLen;
  const type = (first >> 4) & 0x03;
  let token: Buffer = Buffer.alloc(0);
  if (version === 0) return { type: -1, version, dcid, scid, token, pnOffset: i, end: d.length }; // Version Negotiation
  if (type === PACKET_RETRY) return { type, version, dcid, scid, token, pnOffset: i, end: d.length };
  if (type === PACKET_INITIAL) {
    const t = varintAt(d, i);
    if (t.next + t.value > d.length) throw new PacketError('token past the datagram');
    token = d.subarray(t.next, t.next + t.value);
    i = t.next + t.value;
  }
  const len = varintAt(d, i);
  const end = len.next + len.value;
  if (end > d.length) throw new PacketError('packet length past the datagram');
  return { type, version, dcid, scid, token, pnOffset: len.next, end };
}

/** A packet opened: its number, the header as sent (protection removed), the payload (frames). */
export interface OpenedPacket {
  pn: number;
  header: Buffer;
  payload: Buffer;
}

/**
 * Removes header protection and opens the payload of the packet in `d[start..end)` whose packet number
 * begins at `pnOffset` (long: `isLong`), given the largest packet number received in its space.
 *
 * @example
 * ```ts
 * const opened = unprotect('aes-128-gcm', keys, datagram, 0, h.pnOffset, h.end, true, acks.largest);
 * for (const f of readFrames(opened.payload)) handle(f); // opened.pn: its full packet number
 * ```
 */
export function unprotect(aead: Aead, keys: PacketKeys, d: Buffer, start: number, pnOffset: number, end: number, isLong: boolean, largest = -1): OpenedPacket {
  const sampleAt = pnOffset + 4;
  if (sampleAt + 16 > end) throw new PacketProtectionError('packet too short to sample for header protection');
  const mask = headerMask(aead, keys.hp, d.subarray(sampleAt, sampleAt + 16));
  const header = Buffer.from(d.subarray(start, pnOffset + 4));
  header[0]! ^= mask[0]! & (isLong ? 0x0f : 0x1f);
  const pnLen = (header[0]! & 0x03) + 1;
  let truncated = 0;
  const at = pnOffset - start;
  for (let k = 0; k < pnLen; k++) {
    header[at + k]! ^= mask[1 + k]!;
    truncated = truncated * 256 + header[at + k]!;
  }
  const aad = header.subarray(0, at + pnLen);
  const pn = decodePacketNumber(largest, truncated, pnLen * 8);
  const payload = open(aead, keys, pn, aad, d.subarray(pnOffset + pnLen, end));
  return { pn, header: Buffer.from(aad), payload };
}
