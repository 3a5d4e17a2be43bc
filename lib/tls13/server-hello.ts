/**
 * The ServerHello (RFC 8446 §4.1.3) of a TLS 1.3 server: the client's session id echoed, the chosen suite,
 * and the two extensions TLS 1.3 requires here — supported_versions (0x0304) and the key share.
 */

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);

export interface ServerHelloParts {
  random: Buffer;
  sessionId: Buffer;
  cipherSuite: number;
  group: number;
  keyShare: Buffer;
}

/** HelloRetryRequest's random (§4.1.3): SHA-256 of "HelloRetryRequest". */
export const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/**
 * A HelloRetryRequest (§4.1.4): a ServerHello with HRR_RANDOM whose key_share names only the group the
 * client must send a share for.
 *
 * @example
 * ```ts
 * // The client sent no share for a group we take: ask for a P-256 one.
 * const hrr = helloRetryRequest({ sessionId: hello.sessionId, cipherSuite: 0x1301, group: GROUP_SECP256R1 });
 * ```
 */
export function helloRetryRequest(p: { sessionId: Buffer; cipherSuite: number; group: number }): Buffer {
  const ext = (type: number, body: Buffer): Buffer => Buffer.concat([u16(type), u16(body.length), body]);
  const extensions = Buffer.concat([ext(0x002b, u16(0x0304)), ext(0x0033, u16(p.group))]);
  const body = Buffer.concat([u16(0x0303), HRR_RANDOM, Buffer.from([p.sessionId.length]), p.sessionId, u16(p.cipherSuite), Buffer.from([0]), u16(extensions.length), extensions]);
  const head = Buffer.alloc(4);
  head[0] = 2;
  head.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([head, body]);
}

/**
 * The transcript's stand-in for the first ClientHello after a HelloRetryRequest (§4.4.1): message_hash.
 *
 * @example
 * ```ts
 * const transcriptStart = messageHash(transcriptHash('sha256', firstClientHello)); // then the HRR, the second ClientHello, …
 * ```
 */
export function messageHash(hash: Buffer): Buffer {
  return Buffer.concat([Buffer.from([254, 0, 0, hash.length]), hash]);
}

/**
 * The ServerHello handshake message (type 2, 3-byte length, body).
 *
 * @example
 * ```ts
 * const sh = serverHello({ random: randomBytes(32), sessionId: hello.sessionId, cipherSuite: 0x1301, group: GROUP_X25519, keyShare: own.publicKey });
 * ```
 */
export function serverHello(p: ServerHelloParts): Buffer {
  const ext = (type: number, body: Buffer): Buffer => Buffer.concat([u16(type), u16(body.length), body]);
  // key_share, then supported_versions: the order of RFC 8448's traces (any order is valid), so ours match them byte for byte.
  const extensions = Buffer.concat([ext(0x0033, Buffer.concat([u16(p.group), u16(p.keyShare.length), p.keyShare])), ext(0x002b, u16(0x0304))]);
  const body = Buffer.concat([u16(0x0303), p.random, Buffer.from([p.sessionId.length]), p.sessionId, u16(p.cipherSuite), Buffer.from([0]), u16(extensions.length), extensions]);
  const head = Buffer.alloc(4);
  head[0] = 2;
  head.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([head, body]);
}
