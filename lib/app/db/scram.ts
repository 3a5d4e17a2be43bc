/**
 * SCRAM-SHA-256 client (RFC 5802, RFC 7677) as PostgreSQL uses it (no channel binding: `n,,`), on
 * node:crypto (its PBKDF2 and HMAC are native: ~100× @noble/hashes' PBKDF2 at 4096 iterations).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../../net/constant-time.js';

/**
 * One SCRAM-SHA-256 exchange (RFC 5802 §3): the client's first and final messages, and the server's proof checked.
 *
 * @example
 * ```ts
 * const scram = new ScramClient(password);
 * send(scram.first());                      // 'n,,n=*,r=…'
 * send(scram.final(await receive()));       // with the client proof
 * scram.verify(await receive());            // throws if the server does not know the password
 * ```
 */
export class ScramClient {
  readonly #password: string;
  readonly #nonce: string;
  readonly #user: string;
  #serverSignature: Buffer | null = null;

  /** PostgreSQL takes the user from the startup message and ignores the SCRAM one: `*` by default. */
  constructor(password: string, nonce = randomBytes(18).toString('base64'), user = '*') {
    this.#password = password;
    this.#nonce = nonce;
    this.#user = user.replace(/=/g, '=3D').replace(/,/g, '=2C');
  }

  /** client-first-message (sent in SASLInitialResponse). */
  first(): string {
    return `n,,n=${this.#user},r=${this.#nonce}`;
  }

  /** client-final-message for the server-first-message. */
  final(serverFirst: string): string {
    const attrs = parseAttrs(serverFirst);
    const nonce = attrs.r;
    const salt = attrs.s;
    const iterations = Number(attrs.i);
    if (nonce === undefined || !nonce.startsWith(this.#nonce) || nonce.length === this.#nonce.length) throw new Error('SCRAM: server nonce does not extend ours');
    if (salt === undefined || !Number.isInteger(iterations) || iterations < 1) throw new Error('SCRAM: malformed server-first-message');
    const salted = pbkdf2Sync(this.#password.normalize('NFKC'), Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `n=${this.#user},r=${this.#nonce},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.#serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks server-final-message: the server proves it knew the password too. */
  verify(serverFinal: string): void {
    const v = parseAttrs(serverFinal).v;
    if (v === undefined || this.#serverSignature === null) throw new Error('SCRAM: malformed server-final-message');
    const got = Buffer.from(v, 'base64');
    if (got.length !== 32 || !constantTimeEqual(got, this.#serverSignature)) throw new Error('SCRAM: the server signature does not match');
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function parseAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
