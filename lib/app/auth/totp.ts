/**
 * Time-based one-time passwords (RFC 6238 on RFC 4226's HOTP) for two-factor sign-in: secrets in base32
 * (RFC 4648) for authenticator apps (`otpauth://` URIs, what the enrollment QR code holds), codes checked
 * within a window of time steps for clock drift, each step accepted once per user (a code seen once is
 * refused after, RFC 6238 §5.2), and one-time recovery codes kept only as hashes.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../../net/constant-time.js';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * Base32 (RFC 4648 §6), unpadded, as authenticator apps take secrets.
 *
 * @example
 * ```ts
 * base32Encode(Buffer.from('hello')); // 'NBSWY3DP'
 * ```
 */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Bytes from base32 (case, spaces and padding ignored); throws on any other character.
 *
 * @example
 * ```ts
 * base32Decode('NBSWY3DP').toString(); // 'hello'
 * ```
 */
export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const v = B32.indexOf(ch);
    if (v < 0) throw new TypeError(`not base32: ${JSON.stringify(ch)}`);
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export interface TotpOptions {
  /** Digits per code. Default 6. */
  digits?: number;
  /** Seconds per time step. Default 30. */
  period?: number;
  /** HMAC hash. Default SHA-1 (what authenticator apps assume). */
  algorithm?: 'sha1' | 'sha256' | 'sha512';
}

/**
 * A new random secret (20 bytes, as RFC 4226 recommends), base32.
 *
 * @example
 * ```ts
 * const secret = generateTotpSecret(); // store it with the user; show otpauthUri({ secret, ... }) as a QR code
 * ```
 */
export function generateTotpSecret(bytes = 20): string {
  return base32Encode(randomBytes(bytes));
}

/** The HOTP value for `counter` (RFC 4226 §5.3: dynamic truncation). */
function hotp(key: Buffer, counter: number, digits: number, algorithm: string): string {
  const msg = Buffer.alloc(8);
  msg.writeUInt32BE(Math.floor(counter / 2 ** 32), 0);
  msg.writeUInt32BE(counter >>> 0, 4);
  const mac = createHmac(algorithm, key).update(msg).digest();
  const off = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[off]! & 0x7f) << 24) | (mac[off + 1]! << 16) | (mac[off + 2]! << 8) | mac[off + 3]!;
  return String(bin % 10 ** digits).padStart(digits, '0');
}

const keyOf = (secret: string | Uint8Array): Buffer => (typeof secret === 'string' ? base32Decode(secret) : Buffer.from(secret));

/**
 * The code for `timeMs` (default now).
 *
 * @example
 * ```ts
 * totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', Date.now()); // '287082'-like, 6 digits
 * ```
 */
export function totpCode(secret: string | Uint8Array, timeMs = Date.now(), options: TotpOptions = {}): string {
  const step = Math.floor(timeMs / 1000 / (options.period ?? 30));
  return hotp(keyOf(secret), step, options.digits ?? 6, options.algorithm ?? 'sha1');
}

/**
 * The `otpauth://totp/...` URI an authenticator app scans (the enrollment QR code's content).
 *
 * @example
 * ```ts
 * otpauthUri({ secret, issuer: 'Notes', account: 'ann@example.com' });
 * // otpauth://totp/Notes:ann%40example.com?secret=...&issuer=Notes&algorithm=SHA1&digits=6&period=30
 * ```
 */
export function otpauthUri(o: { secret: string; issuer: string; account: string } & TotpOptions): string {
  const label = `${encodeURIComponent(o.issuer)}:${encodeURIComponent(o.account)}`;
  const q = new URLSearchParams({ secret: o.secret.replace(/=+$/, ''), issuer: o.issuer, algorithm: (o.algorithm ?? 'sha1').toUpperCase(), digits: String(o.digits ?? 6), period: String(o.period ?? 30) });
  return `otpauth://totp/${label}?${q.toString().replace(/\+/g, '%20')}`;
}

/** Where the last accepted time step of each user is kept (one row or key per user), for replay protection. */
export interface TotpStepStore {
  get(user: string): Promise<number | undefined> | number | undefined;
  set(user: string, step: number): Promise<void> | void;
}

/**
 * In memory (one process; tests). Use a database column or a Redis key across processes.
 *
 * @example
 * ```ts
 * const totp = new TotpVerifier({ store: new MemoryTotpStepStore() }); // one process; a table or Redis across several
 * ```
 */
export class MemoryTotpStepStore implements TotpStepStore {
  readonly #steps = new Map<string, number>();
  get(user: string): number | undefined {
    return this.#steps.get(user);
  }
  set(user: string, step: number): void {
    this.#steps.set(user, step);
  }
}

export interface TotpVerifierOptions extends TotpOptions {
  /** Time steps accepted before and after the current one (clock drift). Default 1. */
  window?: number;
  /** Where accepted steps are kept. Default: in memory. */
  store?: TotpStepStore;
  /** Clock in ms (tests). */
  now?: () => number;
}

/**
 * Checks codes: within `window` steps of now, and only at a step later than the last one this user had
 * accepted — so a code (or any earlier one) cannot be used twice.
 *
 * @example
 * ```ts
 * const totp = new TotpVerifier({ store: redisSteps });
 * if (!(await totp.verify(String(user.id), user.totpSecret, body.code))) throw new HttpError(401, { detail: 'wrong code' });
 * ```
 */
export class TotpVerifier {
  readonly #o: Required<Omit<TotpVerifierOptions, 'store' | 'now'>>;
  readonly #store: TotpStepStore;
  readonly #now: () => number;

  constructor(options: TotpVerifierOptions = {}) {
    this.#o = { digits: options.digits ?? 6, period: options.period ?? 30, algorithm: options.algorithm ?? 'sha1', window: options.window ?? 1 };
    this.#store = options.store ?? new MemoryTotpStepStore();
    this.#now = options.now ?? Date.now;
  }

  /** Whether `code` is `user`'s current code (and was not used yet); a match is remembered. */
  async verify(user: string, secret: string | Uint8Array, code: string): Promise<boolean> {
    const { digits, period, algorithm, window } = this.#o;
    const given = code.replace(/\s/g, '');
    if (given.length !== digits || !/^\d+$/.test(given)) return false;
    const key = keyOf(secret);
    const now = Math.floor(this.#now() / 1000 / period);
    const last = (await this.#store.get(user)) ?? -1;
    let matched = -1;
    // Every step of the window is computed and compared, whatever matches: the time taken tells nothing.
    for (let s = now - window; s <= now + window; s++) {
      if (constantTimeEqual(hotp(key, s, digits, algorithm), given) && s > last && matched < 0) matched = s;
    }
    if (matched < 0) return false;
    await this.#store.set(user, matched);
    return true;
  }
}

const hashCode = (code: string): string => createHash('sha256').update(code.replace(/[\s-]/g, '').toLowerCase()).digest('base64url');

/**
 * One-time recovery codes: the codes to show the user once, and their hashes to store (never the codes).
 *
 * @example
 * ```ts
 * const { codes, hashes } = recoveryCodes();
 * await users.update(id, { recoveryHashes: hashes }); // show `codes` once, then forget them
 * ```
 */
export function recoveryCodes(count = 10): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: count }, () => {
    const raw = base32Encode(randomBytes(8)).slice(0, 10).toLowerCase();
    return `${raw.slice(0, 5)}-${raw.slice(5)}`;
  });
  return { codes, hashes: codes.map(hashCode) };
}

/**
 * The index of the stored hash `code` matches (remove it: each code works once), or -1. Every hash is
 * compared in constant time.
 *
 * @example
 * ```ts
 * const i = matchRecoveryCode(code, user.recoveryHashes);
 * if (i >= 0) await removeRecoveryCode(user.id, i); // each code once
 * ```
 */
export function matchRecoveryCode(code: string, hashes: readonly string[]): number {
  const h = hashCode(code);
  let found = -1;
  hashes.forEach((x, i) => {
    if (constantTimeEqual(x, h) && found < 0) found = i;
  });
  return found;
}
