/**
 * Packet protection (RFC 9001 §5.3, §5.4): the payload sealed with AES-GCM (or ChaCha20-Poly1305) under a
 * nonce made of the IV and the packet number, the header's AAD; then the first byte's low bits and the
 * packet number masked with a sample of the ciphertext — so a packet is read in the reverse order.
 */
import { createCipheriv, createDecipheriv, type Cipher } from 'node:crypto';
import type { PacketKeys } from './initial.js';

/**
 * A packet that does not open: a forged, corrupted or foreign packet (dropped, never answered: RFC 9000 §12.2).
 *
 * @example
 * ```ts
 * try {
 *   unprotect(aead, keys, datagram, 0, h.pnOffset, h.end, true);
 * } catch (err) {
 *   if (err instanceof PacketProtectionError) return; // forged or corrupted: dropped silently
 * }
 * ```
 */
export class PacketProtectionError extends Error {
  override name = 'PacketProtectionError';
}

export type Aead = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

/**
 * The 5-byte header protection mask for a 16-byte sample (§5.4.3 AES, §5.4.4 ChaCha20).
 *
 * @example
 * ```ts
 * const mask = headerMask('aes-128-gcm', keys.hp, packet.subarray(pnOffset + 4, pnOffset + 20));
 * packet[0] ^= mask[0]! & 0x0f; // long header: the low four bits
 * ```
 */
export function headerMask(aead: Aead, hp: Uint8Array, sample: Uint8Array): Buffer {
  if (aead === 'chacha20-poly1305') {
    // counter = sample[0..4] (little-endian), nonce = sample[4..16]; node takes them as one 16-byte IV.
    const c = createCipheriv('chacha20', hp, sample);
    return c.update(Buffer.alloc(5));
  }
  // AES-ECB keeps no state between blocks: one cipher per key serves every packet.
  let c = ECB.get(hp);
  if (c === undefined) {
    c = createCipheriv(aead === 'aes-128-gcm' ? 'aes-128-ecb' : 'aes-256-ecb', hp, null);
    c.setAutoPadding(false);
    ECB.set(hp, c);
  }
  return c.update(sample).subarray(0, 5);
}

const ECB = new WeakMap<Uint8Array, Cipher>();

const NONCE = Buffer.alloc(12);

/** The AEAD nonce: the IV XOR the packet number, left-padded (§5.3). */
function nonce(iv: Buffer, pn: number): Buffer {
  // One scratch buffer: createCipheriv copies its IV, and every QUIC AEAD's is 12 bytes.
  const n = iv.length === NONCE.length ? NONCE : Buffer.alloc(iv.length);
  iv.copy(n);
  let x = pn;
  for (let i = n.length - 1; i >= n.length - 8 && x > 0; i--) {
    n[i]! ^= x % 256;
    x = Math.floor(x / 256);
  }
  return n;
}

/**
 * Seals `payload` under `keys` with `header` (through the packet number) as AAD: ciphertext and tag.
 *
 * @example
 * ```ts
 * const sealed = seal('aes-128-gcm', keys, pn, header, frames); // frames encrypted, 16-byte tag appended
 * ```
 */
export function seal(aead: Aead, keys: PacketKeys, pn: number, header: Uint8Array, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 16);
  sealInto(aead, keys, pn, header, payload, out, 0);
  return out;
}

/**
 * {@link seal} writing the ciphertext and tag into `out` at `at` (a packet's bytes after its header), so a
 * packet is built in one buffer: a datagram per packet is the hot path of a transfer.
 *
 * @example
 * ```ts
 * const packet = Buffer.allocUnsafe(headerLength + frames.length + 16); // the header written at 0
 * sealInto('aes-128-gcm', keys, pn, packet.subarray(0, headerLength), frames, packet, headerLength);
 * ```
 */
export function sealInto(aead: Aead, keys: PacketKeys, pn: number, header: Uint8Array, payload: Uint8Array, out: Buffer, at: number): void {
  const c = createCipheriv(aead, keys.key, nonce(keys.iv, pn), { authTagLength: 16 } as never) as ReturnType<typeof createCipheriv> & { setAAD(b: Uint8Array, o?: object): void; getAuthTag(): Buffer };
  c.setAAD(header, { plaintextLength: payload.length });
  const n = c.update(payload).copy(out, at);
  c.final(); // nothing left over: AES-GCM and ChaCha20-Poly1305 are stream modes
  c.getAuthTag().copy(out, at + n);
}

/**
 * Opens a sealed payload; throws PacketProtectionError when it does not authenticate.
 *
 * @example
 * ```ts
 * const frames = open('aes-128-gcm', keys, pn, header, sealed); // throws PacketProtectionError when forged
 * ```
 */
export function open(aead: Aead, keys: PacketKeys, pn: number, header: Uint8Array, sealed: Uint8Array): Buffer {
  if (sealed.length < 16) throw new PacketProtectionError('packet shorter than its authentication tag');
  const d = createDecipheriv(aead, keys.key, nonce(keys.iv, pn), { authTagLength: 16 } as never) as ReturnType<typeof createDecipheriv> & { setAAD(b: Uint8Array, o?: object): void; setAuthTag(t: Uint8Array): void };
  d.setAAD(header, { plaintextLength: sealed.length - 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
  } catch {
    throw new PacketProtectionError('packet authentication failed');
  }
}

/**
 * Decodes a truncated packet number (RFC 9000 §17.1, Appendix A.3): the value closest to the next one
 * expected whose low bits are `truncated`.
 *
 * @example
 * ```ts
 * decodePacketNumber(0xa82f30ea, 0x9b32, 16); // 0xa82f9b32 (RFC 9000 Appendix A.3)
 * ```
 */
export function decodePacketNumber(largest: number, truncated: number, bits: number): number {
  const expected = largest + 1;
  const win = 2 ** bits;
  const half = win / 2;
  const candidate = (expected - (expected % win)) + truncated;
  if (candidate <= expected - half && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + half && candidate >= win) return candidate - win;
  return candidate;
}
