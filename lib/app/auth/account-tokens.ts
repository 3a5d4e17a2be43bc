/**
 * Single-use account tokens (password reset, email verification): 32 random bytes given to the user once,
 * kept only as their SHA-256 (a stolen table opens no account), each for one purpose and one account, until it
 * expires or is used. Looking one up is by its hash, so comparing secrets never happens in user-timed code.
 */
import { createHash, randomBytes } from 'node:crypto';

export type AccountTokenPurpose = 'reset-password' | 'verify-email';

export interface AccountTokenRecord {
  purpose: AccountTokenPurpose;
  userId: string;
  /** For email verification: the address being verified. */
  email?: string;
  expires: number;
}

/** Where token hashes live: a table keyed by hash. `take` returns and deletes (single use). */
export interface AccountTokenStore {
  save(hash: string, record: AccountTokenRecord): Promise<void> | void;
  take(hash: string): Promise<AccountTokenRecord | null> | AccountTokenRecord | null;
  /** Forgets every token of an account for a purpose (a reset done: the others die). */
  revoke(userId: string, purpose: AccountTokenPurpose): Promise<void> | void;
}

/**
 * Account tokens in memory (tests, one-process apps): a map from hash to record.
 *
 * @example
 * ```ts
 * const recovery = accountRecovery({ accounts, tokens: new MemoryAccountTokenStore(), mailer, links });
 * ```
 */
export class MemoryAccountTokenStore implements AccountTokenStore {
  readonly #m = new Map<string, AccountTokenRecord>();
  save(hash: string, r: AccountTokenRecord): void {
    this.#m.set(hash, { ...r });
  }
  take(hash: string): AccountTokenRecord | null {
    const r = this.#m.get(hash) ?? null;
    this.#m.delete(hash);
    return r;
  }
  revoke(userId: string, purpose: AccountTokenPurpose): void {
    for (const [h, r] of this.#m) if (r.userId === userId && r.purpose === purpose) this.#m.delete(h);
  }
  /** Tokens held (tests). */
  get size(): number {
    return this.#m.size;
  }
}

/**
 * The stored form of a token.
 *
 * @example
 * ```ts
 * await db.query(sql`insert into account_tokens (hash, user_id) values (${tokenHash(token)}, ${userId})`);
 * ```
 */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Issues a token for `record` into `store`; returns the token to send (never stored).
 *
 * @example
 * ```ts
 * const token = await issueAccountToken(store, { purpose: 'reset-password', userId, expires: Date.now() + 30 * 60_000 });
 * ```
 */
export async function issueAccountToken(store: AccountTokenStore, record: AccountTokenRecord): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await store.save(tokenHash(token), record);
  return token;
}

/**
 * Redeems a token once: its record if it exists, is for `purpose` and has not expired; else null.
 *
 * @example
 * ```ts
 * const rec = await redeemAccountToken(store, token, 'verify-email', Date.now());
 * if (rec === null) throw new HttpError(400, { detail: 'this link is not valid' });
 * ```
 */
export async function redeemAccountToken(store: AccountTokenStore, token: string, purpose: AccountTokenPurpose, now: number): Promise<AccountTokenRecord | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const r = await store.take(tokenHash(token));
  if (r === null || r.purpose !== purpose || now > r.expires) return null;
  return r;
}
