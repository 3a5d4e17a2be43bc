/**
 * The TLS 1.3 key schedule (RFC 8446 §7.1) up to the handshake traffic secrets, and the X25519 key
 * exchange (§4.2.8.2, RFC 7748) on node:crypto.
 */
import { createECDH, createHash, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Alert, TlsAlert } from './alert.js';
import { hkdfExpandLabel, hkdfExtract, HASH_LENGTH, type HashName } from './hkdf.js';

/** An X25519 key pair: the public key as sent in key_share, and the private key. */
export interface X25519KeyPair {
  publicKey: Buffer;
  privateKey: KeyObject;
}

const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');

/**
 * A fresh X25519 key pair (RFC 7748) for one handshake's key_share.
 *
 * @example
 * ```ts
 * const own = x25519KeyPair();
 * const shared = x25519Shared(own, clientShare); // and own.publicKey goes in the ServerHello
 * ```
 */
export function x25519KeyPair(): X25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: Buffer.from(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)), privateKey };
}

/**
 * The shared secret with a peer's 32-byte X25519 share; an all-zero result is refused (RFC 8446 §7.4.2).
 *
 * @example
 * ```ts
 * const shared = x25519Shared(x25519KeyPair(), clientShare); // throws TlsAlert(illegal_parameter) on a low-order point
 * ```
 */
export function x25519Shared(own: X25519KeyPair, peer: Uint8Array): Buffer {
  if (peer.length !== 32) throw new TlsAlert(Alert.illegal_parameter, 'an X25519 key share is 32 bytes');
  const shared = diffieHellman({ privateKey: own.privateKey, publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI, peer]), format: 'der', type: 'spki' }) });
  if (shared.every((b) => b === 0)) throw new TlsAlert(Alert.illegal_parameter, 'the X25519 shared secret is zero');
  return shared;
}

/**
 * (EC)DHE for a group we serve (§4.2.8): our share to send and the shared secret with the client's — X25519
 * (0x001d) or secp256r1 (0x0017: an uncompressed point; the secret is the x-coordinate, §7.4.2).
 *
 * @example
 * ```ts
 * const { publicKey, shared } = keyExchange(0x0017, clientShare.key);
 * ```
 */
export function keyExchange(group: number, peer: Uint8Array): { publicKey: Buffer; shared: Buffer } {
  if (group === 0x001d) {
    const kp = x25519KeyPair();
    return { publicKey: kp.publicKey, shared: x25519Shared(kp, peer) };
  }
  if (group === 0x0017) {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const publicKey = ecdh.getPublicKey(); // uncompressed: 0x04, x, y
    try {
      return { publicKey, shared: ecdh.computeSecret(peer) };
    } catch {
      throw new TlsAlert(Alert.illegal_parameter, 'the P-256 key share is not a point on the curve');
    }
  }
  throw new TlsAlert(Alert.illegal_parameter, `no key exchange for group 0x${group.toString(16)}`);
}

/**
 * Transcript-Hash (RFC 8446 §4.4.1): the hash of the handshake messages so far, in order.
 *
 * @example
 * ```ts
 * const helloHash = transcriptHash('sha256', clientHello, serverHello);
 * ```
 */
export function transcriptHash(hash: HashName, ...messages: Uint8Array[]): Buffer {
  const h = createHash(hash);
  for (const m of messages) h.update(m);
  return h.digest();
}

/**
 * Derive-Secret(secret, label, messages) = HKDF-Expand-Label(secret, label, Transcript-Hash(messages), Hash.length).
 *
 * @example
 * ```ts
 * const derived = deriveSecret('sha256', earlySecret, 'derived', transcriptHash('sha256'));
 * ```
 */
export function deriveSecret(hash: HashName, secret: Uint8Array, label: string, transcript: Uint8Array): Buffer {
  return hkdfExpandLabel(hash, secret, label, transcript, HASH_LENGTH[hash]);
}

/**
 * The handshake secrets from the (EC)DHE shared secret and the transcript hash of ClientHello..ServerHello
 * (no PSK: the early secret from zeros).
 *
 * @example
 * ```ts
 * const hs = handshakeSecrets('sha256', shared, transcriptHash('sha256', clientHello, serverHello));
 * const serverKeys = packetKeys(hs.server); // QUIC's Handshake packet keys
 * ```
 */
export function handshakeSecrets(hash: HashName, shared: Uint8Array, helloHash: Uint8Array): { handshakeSecret: Buffer; client: Buffer; server: Buffer } {
  const zeros = Buffer.alloc(HASH_LENGTH[hash]);
  const early = hkdfExtract(hash, zeros, zeros);
  const derived = deriveSecret(hash, early, 'derived', transcriptHash(hash));
  const handshakeSecret = hkdfExtract(hash, derived, shared);
  return { handshakeSecret, client: deriveSecret(hash, handshakeSecret, 'c hs traffic', helloHash), server: deriveSecret(hash, handshakeSecret, 's hs traffic', helloHash) };
}
