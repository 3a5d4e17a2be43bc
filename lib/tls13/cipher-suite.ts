/**
 * TLS 1.3's cipher suites (RFC 8446 §B.4): each an AEAD for the records (QUIC: the packets, RFC 9001 §5.3)
 * and the hash of the key schedule; and the server's choice among those a client offers.
 */
import { Alert, TlsAlert } from './alert.js';
import type { HashName } from './hkdf.js';

/** A TLS 1.3 cipher suite: its code point, node:crypto's AEAD name, the key schedule's hash, the key size. */
export interface CipherSuite {
  readonly id: number;
  readonly name: string;
  readonly aead: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  readonly hash: HashName;
  /** AEAD key bytes (the IV is 12 for all three; the header protection key is as long as the AEAD key). */
  readonly keyLength: number;
}

/** TLS_AES_128_GCM_SHA256 (0x1301): the one every TLS 1.3 peer has (RFC 8446 §9.1); QUIC's Initial packets use it. */
export const TLS_AES_128_GCM_SHA256: CipherSuite = { id: 0x1301, name: 'TLS_AES_128_GCM_SHA256', aead: 'aes-128-gcm', hash: 'sha256', keyLength: 16 };
/** TLS_AES_256_GCM_SHA384 (0x1302). */
export const TLS_AES_256_GCM_SHA384: CipherSuite = { id: 0x1302, name: 'TLS_AES_256_GCM_SHA384', aead: 'aes-256-gcm', hash: 'sha384', keyLength: 32 };
/** TLS_CHACHA20_POLY1305_SHA256 (0x1303): fast where the CPU has no AES instructions (clients there list it first). */
export const TLS_CHACHA20_POLY1305_SHA256: CipherSuite = { id: 0x1303, name: 'TLS_CHACHA20_POLY1305_SHA256', aead: 'chacha20-poly1305', hash: 'sha256', keyLength: 32 };

/** The three suites, every one served by default. */
export const CIPHER_SUITES: readonly CipherSuite[] = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256];

/**
 * The suite for a handshake: the client's first choice among those we serve — the client knows whether its
 * CPU has AES instructions (RFC 8446 §4.1.1 leaves the choice to the server). Refused with handshake_failure
 * when we share none.
 *
 * @example
 * ```ts
 * const suite = chooseCipherSuite(clientHello.cipherSuites); // [0x1303, 0x1301] → TLS_CHACHA20_POLY1305_SHA256
 * const only256 = chooseCipherSuite(clientHello.cipherSuites, [TLS_AES_256_GCM_SHA384]);
 * ```
 */
export function chooseCipherSuite(offered: readonly number[], served: readonly CipherSuite[] = CIPHER_SUITES): CipherSuite {
  for (const id of offered) {
    const suite = served.find((s) => s.id === id);
    if (suite !== undefined) return suite;
  }
  throw new TlsAlert(Alert.handshake_failure, `the client offers no cipher suite we serve (${served.map((s) => s.name).join(', ')})`);
}
