/**
 * HKDF (RFC 5869) and TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1) on node:crypto's HMAC: the key schedule
 * of TLS 1.3 and of QUIC's packet protection (RFC 9001 §5.1) is built from these two.
 */
import { createHmac } from 'node:crypto';

export type HashName = 'sha256' | 'sha384';

export const HASH_LENGTH: Record<HashName, number> = { sha256: 32, sha384: 48 };

/**
 * HKDF-Extract(salt, ikm) = HMAC-Hash(salt, ikm).
 *
 * @example
 * ```ts
 * const initialSecret = hkdfExtract('sha256', INITIAL_SALT_V1, clientDcid); // RFC 9001 §5.2
 * ```
 */
export function hkdfExtract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Buffer {
  return createHmac(hash, salt).update(ikm).digest();
}

/**
 * HKDF-Expand(prk, info, length): T(1) | T(2) | ... where T(i) = HMAC(prk, T(i-1) | info | i).
 *
 * @example
 * ```ts
 * const okm = hkdfExpand('sha256', prk, Buffer.from('info'), 42);
 * ```
 */
export function hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  let prev: Buffer = Buffer.alloc(0);
  let got = 0;
  for (let i = 1; got < length; i++) {
    prev = createHmac(hash, prk).update(prev).update(info).update(Buffer.from([i])).digest();
    out.push(prev);
    got += prev.length;
  }
  // Keys and secrets live as long as their connection: their own memory, not a slice of the shared pool.
  const key = Buffer.allocUnsafeSlow(length);
  Buffer.concat(out).copy(key, 0, 0, length);
  return key;
}

/**
 * HKDF-Expand-Label(secret, label, context, length) with HkdfLabel = length (2 bytes), "tls13 " + label
 * (1-byte length), context (1-byte length).
 *
 * @example
 * ```ts
 * const key = hkdfExpandLabel('sha256', clientInitialSecret, 'quic key', Buffer.alloc(0), 16);
 * ```
 */
export function hkdfExpandLabel(hash: HashName, secret: Uint8Array, label: string, context: Uint8Array, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + full.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = context.length;
  info.set(context, 4 + full.length);
  return hkdfExpand(hash, secret, info, length);
}
