/**
 * Initial packet protection (RFC 9001 §5.2): keys anyone can derive from the client's first Destination
 * Connection ID and the version's salt — they protect against off-path tampering, not against observers.
 */
import { hkdfExpandLabel, hkdfExtract } from '../tls13/hkdf.js';

/** QUIC version 1's Initial salt (RFC 9001 §5.2). */
export const INITIAL_SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');

/** One direction's packet protection keys: AEAD key and IV, and the header protection key. */
export interface PacketKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/**
 * The AEAD key, IV and header key from a traffic secret (RFC 9001 §5.1; AES-128-GCM sizes unless told).
 *
 * @example
 * ```ts
 * const { key, iv, hp } = packetKeys(serverHandshakeSecret); // AES-128-GCM sizes
 * const keys256 = packetKeys(secret, 32, 'sha384');          // TLS_AES_256_GCM_SHA384
 * ```
 */
export function packetKeys(secret: Uint8Array, keyLength = 16, hash: 'sha256' | 'sha384' = 'sha256'): PacketKeys {
  const empty = Buffer.alloc(0);
  return {
    key: hkdfExpandLabel(hash, secret, 'quic key', empty, keyLength),
    iv: hkdfExpandLabel(hash, secret, 'quic iv', empty, 12),
    hp: hkdfExpandLabel(hash, secret, 'quic hp', empty, keyLength),
  };
}

/**
 * The Initial keys of both directions for a connection whose client chose `dcid`.
 *
 * @example
 * ```ts
 * const { client, server } = initialKeys(Buffer.from('8394c8f03e515708', 'hex'));
 * ```
 */
export function initialKeys(dcid: Uint8Array): { client: PacketKeys; server: PacketKeys; clientSecret: Buffer; serverSecret: Buffer } {
  const initial = hkdfExtract('sha256', INITIAL_SALT_V1, dcid);
  const clientSecret = hkdfExpandLabel('sha256', initial, 'client in', Buffer.alloc(0), 32);
  const serverSecret = hkdfExpandLabel('sha256', initial, 'server in', Buffer.alloc(0), 32);
  return { client: packetKeys(clientSecret), server: packetKeys(serverSecret), clientSecret, serverSecret };
}
