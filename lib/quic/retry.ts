/**
 * Retry (RFC 9000 §8.1.2, §17.2.5): a server proves a client's address before keeping any state for it —
 * the client's first Initial is answered with a Retry carrying a token; its second Initial returns the token,
 * which must be ours, fresh, and bound to its address, its original Destination Connection ID and the
 * connection id the Retry gave it. The Retry's integrity tag is RFC 9001 §5.8's (AES-128-GCM, fixed key).
 */
import { createCipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** RFC 9001 §5.8: the fixed key and nonce of the Retry Integrity Tag (version 1). */
const TAG_KEY = Buffer.from('be0c690b9f66575a1d766b54e368c84e', 'hex');
const TAG_NONCE = Buffer.from('461599d35d632bf2239825bb', 'hex');

/**
 * The integrity tag of a Retry packet (`retry` without its tag) sent to a client whose first DCID was `odcid`.
 *
 * @example
 * ```ts
 * const tag = retryIntegrityTag(originalDcid, retryWithoutTag);
 * socket.send(Buffer.concat([retryWithoutTag, tag]), port, address);
 * ```
 */
export function retryIntegrityTag(odcid: Uint8Array, retry: Uint8Array): Buffer {
  const c = createCipheriv('aes-128-gcm', TAG_KEY, TAG_NONCE);
  c.setAAD(Buffer.concat([Buffer.from([odcid.length]), odcid, retry]));
  c.final();
  return c.getAuthTag();
}

/**
 * A Retry packet: to the client's `dcid` (its SCID), from `scid` (the id it must use next), with `token`.
 *
 * @example
 * ```ts
 * socket.send(buildRetry({ dcid: initial.scid, scid: randomBytes(8), token, odcid: initial.dcid }), port, address);
 * ```
 */
export function buildRetry(p: { dcid: Uint8Array; scid: Uint8Array; token: Uint8Array; odcid: Uint8Array; version?: number; unused?: number }): Buffer {
  const head = Buffer.alloc(1 + 4 + 1 + p.dcid.length + 1 + p.scid.length);
  let i = 0;
  head[i++] = 0xf0 | ((p.unused ?? Math.floor(Math.random() * 16)) & 0x0f); // long header, type Retry; low bits unused (§17.2.5)
  i = head.writeUInt32BE(p.version ?? 1, i);
  head[i++] = p.dcid.length;
  head.set(p.dcid, i);
  i += p.dcid.length;
  head[i++] = p.scid.length;
  head.set(p.scid, i);
  const body = Buffer.concat([head, p.token]);
  return Buffer.concat([body, retryIntegrityTag(p.odcid, body)]);
}

/** What a valid token tells: the client's original Destination Connection ID. */
export interface RetryTokenInfo {
  originalDcid: Buffer;
}

/**
 * Retry tokens: a timestamp and the original DCID, authenticated (HMAC-SHA-256, a key of this process) with
 * the client's address and port and the connection id the Retry named — so a token is useless from another
 * address, after `lifetimeMs`, or with another id.
 *
 * @example
 * ```ts
 * const tokens = new RetryTokens();
 * const token = tokens.issue('192.0.2.1', 4433, odcid, retryScid);
 * tokens.check(token, '192.0.2.1', 4433, retryScid); // { originalDcid: odcid }
 * ```
 */
export class RetryTokens {
  readonly lifetimeMs: number;
  readonly #key: Buffer;
  readonly #now: () => number;

  constructor(o: { lifetimeMs?: number; key?: Buffer; now?: () => number } = {}) {
    this.lifetimeMs = o.lifetimeMs ?? 10_000;
    this.#key = o.key ?? randomBytes(32);
    this.#now = o.now ?? Date.now;
  }

  issue(address: string, port: number, odcid: Uint8Array, retryScid: Uint8Array): Buffer {
    const ts = Buffer.alloc(6);
    ts.writeUIntBE(this.#now(), 0, 6);
    const body = Buffer.concat([ts, Buffer.from([odcid.length]), odcid]);
    return Buffer.concat([body, this.#mac(address, port, body, retryScid)]);
  }

  /** The token's facts, or null when it is not ours, stale, or from elsewhere. */
  check(token: Uint8Array, address: string, port: number, dcid: Uint8Array): RetryTokenInfo | null {
    if (token.length < 6 + 1 + 16) return null;
    const t = Buffer.from(token);
    const odcidLen = t[6]!;
    if (odcidLen > 20 || t.length !== 6 + 1 + odcidLen + 16) return null;
    const body = t.subarray(0, 7 + odcidLen);
    if (!timingSafeEqual(this.#mac(address, port, body, dcid), t.subarray(7 + odcidLen))) return null;
    const age = this.#now() - t.readUIntBE(0, 6);
    if (age < 0 || age > this.lifetimeMs) return null;
    return { originalDcid: Buffer.from(t.subarray(7, 7 + odcidLen)) };
  }

  #mac(address: string, port: number, body: Buffer, retryScid: Uint8Array): Buffer {
    return createHmac('sha256', this.#key).update(`${address}|${port}|`).update(body).update(retryScid).digest().subarray(0, 16);
  }
}
