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

/** The first byte of our Retry tokens; NEW_TOKEN ones start with another (§8.1.3: a server must tell them apart). */
export const RETRY_TOKEN_KIND = 0x52; // 'R'
const KIND_ADDRESS = 0x4e; // 'N'
const EMPTY = Buffer.alloc(0);

/**
 * Address validation tokens (RFC 9000 §8.1): Retry tokens — a timestamp and the original DCID, authenticated
 * (HMAC-SHA-256; the key is the server's, random unless given) with the client's address and port and the
 * connection id the Retry named, so a token is useless from another address, after `lifetimeMs`, or with
 * another id — and NEW_TOKEN tokens, for a later connection from the same address.
 *
 * @example
 * ```ts
 * const tokens = new RetryTokens();
 * const token = tokens.issue('192.0.2.1', 4433, odcid, retryScid);
 * tokens.check(token, '192.0.2.1', 4433, retryScid); // { originalDcid: odcid }
 * tokens.checkAddress(tokens.issueForAddress('192.0.2.1'), '192.0.2.1'); // true
 * ```
 */
export class RetryTokens {
  readonly lifetimeMs: number;
  /** How long a NEW_TOKEN token proves an address (RFC 9000 §8.1.3). */
  readonly addressLifetimeMs: number;
  readonly #key: Buffer;
  readonly #now: () => number;

  constructor(o: { lifetimeMs?: number; addressLifetimeMs?: number; key?: Buffer; now?: () => number } = {}) {
    this.lifetimeMs = o.lifetimeMs ?? 10_000;
    this.addressLifetimeMs = o.addressLifetimeMs ?? 24 * 3600_000;
    this.#key = o.key ?? randomBytes(32);
    this.#now = o.now ?? Date.now;
  }

  issue(address: string, port: number, odcid: Uint8Array, retryScid: Uint8Array): Buffer {
    const body = Buffer.concat([this.#head(RETRY_TOKEN_KIND), Buffer.from([odcid.length]), odcid]);
    return Buffer.concat([body, this.#mac(`${address}|${port}|`, body, retryScid)]);
  }

  /** The token's facts, or null when it is not one of our Retry tokens, stale, or from elsewhere. */
  check(token: Uint8Array, address: string, port: number, dcid: Uint8Array): RetryTokenInfo | null {
    if (token.length < 7 + 1 + 16 || token[0] !== RETRY_TOKEN_KIND) return null;
    const t = Buffer.from(token);
    const odcidLen = t[7]!;
    if (odcidLen > 20 || t.length !== 7 + 1 + odcidLen + 16) return null;
    const body = t.subarray(0, 8 + odcidLen);
    if (!timingSafeEqual(this.#mac(`${address}|${port}|`, body, dcid), t.subarray(8 + odcidLen))) return null;
    if (!this.#fresh(t, this.lifetimeMs)) return null;
    return { originalDcid: Buffer.from(t.subarray(8, 8 + odcidLen)) };
  }

  /**
   * A token for NEW_TOKEN (§8.1.3, §19.7): the client's next connection from this address (any port) skips
   * address validation. Distinct from Retry tokens (its first byte), bound to the address, for
   * `addressLifetimeMs`.
   */
  issueForAddress(address: string): Buffer {
    const body = this.#head(KIND_ADDRESS);
    return Buffer.concat([body, this.#mac(`${address}|`, body, EMPTY)]);
  }

  /** Whether `token` is one of our NEW_TOKEN tokens for this address, still fresh. */
  checkAddress(token: Uint8Array, address: string): boolean {
    if (token.length !== 7 + 16 || token[0] !== KIND_ADDRESS) return false;
    const t = Buffer.from(token);
    return timingSafeEqual(this.#mac(`${address}|`, t.subarray(0, 7), EMPTY), t.subarray(7)) && this.#fresh(t, this.addressLifetimeMs);
  }

  /** The kind byte and the time of issue (6 bytes, ms). */
  #head(kind: number): Buffer {
    const head = Buffer.alloc(7);
    head[0] = kind;
    head.writeUIntBE(this.#now(), 1, 6);
    return head;
  }

  #fresh(t: Buffer, lifetime: number): boolean {
    const age = this.#now() - t.readUIntBE(1, 6);
    return age >= 0 && age <= lifetime;
  }

  #mac(bound: string, body: Buffer, retryScid: Uint8Array): Buffer {
    return createHmac('sha256', this.#key).update(bound).update(body).update(retryScid).digest().subarray(0, 16);
  }
}
