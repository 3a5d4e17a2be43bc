/**
 * The rest of a TLS 1.3 server's first flight (RFC 8446 §4.3–4.4) and the secrets after it: Encrypted
 * Extensions, Certificate, CertificateVerify (ECDSA P-256/P-384, RSA-PSS, Ed25519, on node:crypto), Finished; the
 * client's Finished checked; the application traffic secrets (§7.1).
 */
import { constants, createHmac, sign, timingSafeEqual, type KeyObject } from 'node:crypto';
import { Alert, TlsAlert } from './alert.js';
import { hkdfExpandLabel, hkdfExtract, HASH_LENGTH, type HashName } from './hkdf.js';
import { deriveSecret, transcriptHash } from './key-schedule.js';

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);

/**
 * A handshake message: type, 3-byte length, body.
 *
 * @example
 * ```ts
 * const finished = handshakeMessage(20, finishedData('sha256', serverHandshakeSecret, transcript));
 * ```
 */
export function handshakeMessage(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), u24(body.length), body]);
}

/**
 * EncryptedExtensions (§4.3.1) with ALPN (RFC 7301 §3.1: exactly one protocol) and QUIC's transport parameters.
 *
 * @example
 * ```ts
 * const ee = encryptedExtensions('h3', encodeTransportParameters(params));
 * ```
 */
export function encryptedExtensions(alpn: string | null, transportParameters: Buffer | null): Buffer {
  const ext = (type: number, body: Buffer): Buffer => Buffer.concat([u16(type), u16(body.length), body]);
  const parts: Buffer[] = [];
  if (alpn !== null) {
    const name = Buffer.from(alpn, 'latin1');
    const list = Buffer.concat([Buffer.from([name.length]), name]);
    parts.push(ext(0x0010, Buffer.concat([u16(list.length), list])));
  }
  if (transportParameters !== null) parts.push(ext(0x0039, transportParameters));
  const all = Buffer.concat(parts);
  return handshakeMessage(8, Buffer.concat([u16(all.length), all]));
}

/**
 * Certificate (§4.4.2): an empty request context, then each DER certificate with no extensions.
 *
 * @example
 * ```ts
 * const cert = certificateMessage(pemCertificates(readFileSync('cert.pem', 'utf8')));
 * ```
 */
export function certificateMessage(chain: readonly Buffer[]): Buffer {
  const entries = Buffer.concat(chain.map((der) => Buffer.concat([u24(der.length), der, u16(0)])));
  return handshakeMessage(11, Buffer.concat([Buffer.from([0]), u24(entries.length), entries]));
}

/**
 * The DER certificates of a PEM chain, in order.
 *
 * @example
 * ```ts
 * const chain = pemCertificates(readFileSync('fullchain.pem', 'utf8')); // leaf first, as in the file
 * ```
 */
export function pemCertificates(pem: string): Buffer[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

/**
 * The signature scheme (§4.2.3) a key signs with: ecdsa_secp256r1_sha256 (0x0403), ecdsa_secp384r1_sha384
 * (0x0503), rsa_pss_rsae_sha256 (0x0804), ed25519 (0x0807); null for a key of another kind.
 *
 * @example
 * ```ts
 * signatureScheme(createPrivateKey(readFileSync('key.pem'))); // 0x0403 for a P-256 key
 * ```
 */
export function signatureScheme(key: KeyObject): number | null {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'prime256v1' ? 0x0403 : curve === 'secp384r1' ? 0x0503 : null;
  }
  if (type === 'rsa') return 0x0804;
  if (type === 'ed25519') return 0x0807;
  return null;
}

/**
 * CertificateVerify (§4.4.3): the signature over 64 spaces, the context string, a zero byte and the
 * transcript hash (ClientHello..Certificate), in the scheme the key calls for — which the client must have
 * offered (`offered`, its signature_algorithms), else handshake_failure.
 *
 * @example
 * ```ts
 * const transcript = transcriptHash('sha256', clientHello, serverHello, ee, cert);
 * const cv = certificateVerify(privateKey, transcript, hello.signatureAlgorithms);
 * ```
 */
export function certificateVerify(key: KeyObject, transcript: Buffer, offered?: readonly number[]): Buffer {
  const scheme = signatureScheme(key);
  if (scheme === null) throw new TlsAlert(Alert.internal_error, `a ${key.asymmetricKeyType} key cannot sign a CertificateVerify here`);
  if (offered !== undefined && !offered.includes(scheme)) throw new TlsAlert(Alert.handshake_failure, `the client does not accept signature scheme 0x${scheme.toString(16)} (our key's)`);
  const content = Buffer.concat([Buffer.alloc(64, 0x20), Buffer.from('TLS 1.3, server CertificateVerify'), Buffer.from([0]), transcript]);
  const signature =
    scheme === 0x0807
      ? sign(null, content, key)
      : scheme === 0x0804
        ? sign('sha256', content, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }) // §4.2.3: salt = hash length
        : sign(scheme === 0x0503 ? 'sha384' : 'sha256', content, key); // DER, as TLS's ECDSA signatures are
  return handshakeMessage(15, Buffer.concat([u16(scheme), u16(signature.length), signature]));
}

/**
 * Finished's verify_data (§4.4.4): HMAC(finished_key, transcript hash).
 *
 * @example
 * ```ts
 * const finished = handshakeMessage(20, finishedData('sha256', secrets.server, transcriptHash('sha256', ...flightSoFar)));
 * ```
 */
export function finishedData(hash: HashName, trafficSecret: Buffer, transcript: Buffer): Buffer {
  const finishedKey = hkdfExpandLabel(hash, trafficSecret, 'finished', Buffer.alloc(0), HASH_LENGTH[hash]);
  return createHmac(hash, finishedKey).update(transcript).digest();
}

/**
 * Checks the client's Finished message against the transcript through the server's Finished.
 *
 * @example
 * ```ts
 * checkClientFinished('sha256', secrets.client, transcriptHash('sha256', ...throughServerFinished), clientFinished); // throws TlsAlert(decrypt_error)
 * ```
 */
export function checkClientFinished(hash: HashName, clientHandshakeSecret: Buffer, transcript: Buffer, message: Buffer): void {
  if (message.length < 4 || message[0] !== 20) throw new TlsAlert(Alert.unexpected_message, 'expected the client Finished');
  const expected = finishedData(hash, clientHandshakeSecret, transcript);
  const got = message.subarray(4);
  if (message.readUIntBE(1, 3) !== got.length || got.length !== expected.length || !timingSafeEqual(got, expected)) throw new TlsAlert(Alert.decrypt_error, 'the client Finished does not verify');
}

/**
 * The application traffic secrets (§7.1) from the handshake secret and the transcript through the server Finished.
 *
 * @example
 * ```ts
 * const app = applicationSecrets('sha256', secrets.handshakeSecret, transcriptHash('sha256', ...throughServerFinished));
 * const oneRtt = packetKeys(app.server); // QUIC's 1-RTT keys
 * ```
 */
export function applicationSecrets(hash: HashName, handshakeSecret: Buffer, transcriptThroughServerFinished: Buffer): { client: Buffer; server: Buffer; master: Buffer } {
  const zeros = Buffer.alloc(HASH_LENGTH[hash]);
  const master = hkdfExtract(hash, deriveSecret(hash, handshakeSecret, 'derived', transcriptHash(hash)), zeros);
  return { master, client: deriveSecret(hash, master, 'c ap traffic', transcriptThroughServerFinished), server: deriveSecret(hash, master, 's ap traffic', transcriptThroughServerFinished) };
}
