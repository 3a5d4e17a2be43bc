/**
 * Refresh tokens with rotation and reuse detection (OAuth 2.0 Security BCP §4.14.2): every use returns a
 * new token and retires the old one; presenting a retired token means it was stolen (or replayed), so the
 * whole family — every token descended from the same login — is revoked. Tokens are opaque
 * (`<id>.<secret>`), stored hashed; stores in memory or Redis. Also a Redis revocation list for JWT ids.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../../net/constant-time.js';
import type { RedisClient } from '../redis-client.js';
import { JwtError, type RevocationList } from './jwt.js';

export interface RefreshRecord {
  family: string;
  subject: string;
  /** sha256 of the secret part, hex. */
  hash: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export interface RefreshStore {
  put(id: string, rec: RefreshRecord): Promise<void>;
  get(id: string): Promise<(RefreshRecord & { used: boolean }) | null>;
  /** Marks a token used; false if it already was (atomically: two racing uses cannot both win). */
  markUsed(id: string): Promise<boolean>;
  revokeFamily(family: string, untilSec: number): Promise<void>;
  familyRevoked(family: string): Promise<boolean>;
}

/**
 * Refresh tokens in memory (tests, one-process apps).
 *
 * @example
 * ```ts
 * const refresh = new RefreshTokens(new MemoryRefreshStore(), { ttlSec: 30 * 86400 });
 * ```
 */
export class MemoryRefreshStore implements RefreshStore {
  readonly #tokens = new Map<string, RefreshRecord & { used: boolean }>();
  readonly #revoked = new Map<string, number>();
  async put(id: string, rec: RefreshRecord): Promise<void> {
    this.#tokens.set(id, { ...rec, used: false });
  }
  async get(id: string): Promise<(RefreshRecord & { used: boolean }) | null> {
    const r = this.#tokens.get(id);
    if (r !== undefined && r.expiresAt < Date.now() / 1000) {
      this.#tokens.delete(id);
      return null;
    }
    return r ?? null;
  }
  async markUsed(id: string): Promise<boolean> {
    const r = this.#tokens.get(id);
    if (r === undefined || r.used) return false;
    r.used = true;
    return true;
  }
  async revokeFamily(family: string, untilSec: number): Promise<void> {
    this.#revoked.set(family, untilSec);
  }
  async familyRevoked(family: string): Promise<boolean> {
    return (this.#revoked.get(family) ?? 0) >= Date.now() / 1000;
  }
}

/**
 * Refresh tokens in Redis under `prefix` (hashes with a TTL; HSETNX makes `markUsed` atomic).
 *
 * @example
 * ```ts
 * const refresh = new RefreshTokens(new RedisRefreshStore(redis, 'notes:'), { ttlSec: 30 * 86400 });
 * ```
 */
export class RedisRefreshStore implements RefreshStore {
  readonly redis: RedisClient;
  readonly prefix: string;
  constructor(redis: RedisClient, prefix = 'covet:') {
    this.redis = redis;
    this.prefix = prefix;
  }
  async put(id: string, rec: RefreshRecord): Promise<void> {
    const key = `${this.prefix}rt:${id}`;
    await this.redis.multi().hset(key, { family: rec.family, subject: rec.subject, hash: rec.hash, expiresAt: String(rec.expiresAt) }).expireat(key, rec.expiresAt).exec();
  }
  async get(id: string): Promise<(RefreshRecord & { used: boolean }) | null> {
    const h = await this.redis.hgetall(`${this.prefix}rt:${id}`);
    if (h.hash === undefined) return null;
    return { family: h.family!, subject: h.subject!, hash: h.hash, expiresAt: Number(h.expiresAt), used: h.used === '1' };
  }
  async markUsed(id: string): Promise<boolean> {
    return (await this.redis.hsetnx(`${this.prefix}rt:${id}`, 'used', '1')) === 1;
  }
  async revokeFamily(family: string, untilSec: number): Promise<void> {
    await this.redis.set(`${this.prefix}rtf:${family}`, '1', 'EXAT', Math.max(untilSec, Math.ceil(Date.now() / 1000) + 1));
  }
  async familyRevoked(family: string): Promise<boolean> {
    return (await this.redis.exists(`${this.prefix}rtf:${family}`)) === 1;
  }
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * @example
 * ```ts
 * const refresh = new RefreshTokens(new RedisRefreshStore(redis), { ttlSec: 30 * 86400 });
 * const { token } = await refresh.issue(String(user.id));            // at login
 * const next = await refresh.rotate(presented);                       // at /token: { token, subject }
 * ```
 */
export class RefreshTokens {
  readonly #store: RefreshStore;
  readonly #ttl: number;
  constructor(store: RefreshStore, options: { ttlSec?: number } = {}) {
    this.#store = store;
    this.#ttl = options.ttlSec ?? 30 * 86400;
  }

  /** A new token starting a new family (a login). */
  issue(subject: string, family = randomBytes(12).toString('base64url')): Promise<{ token: string; family: string }> {
    return this.#mint(subject, family);
  }

  async #mint(subject: string, family: string): Promise<{ token: string; family: string }> {
    const id = randomBytes(12).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    await this.#store.put(id, { family, subject, hash: sha256(secret), expiresAt: Math.floor(Date.now() / 1000) + this.#ttl });
    return { token: `${id}.${secret}`, family };
  }

  /**
   * Exchanges a token for a new one of the same family. A token used twice revokes its family and
   * fails with `REVOKED` (reuse detected); unknown, expired or forged tokens fail too.
   */
  async rotate(token: string): Promise<{ token: string; subject: string; family: string }> {
    const rec = await this.#check(token);
    if (!(await this.#store.markUsed(token.slice(0, token.indexOf('.'))))) {
      await this.#store.revokeFamily(rec.family, rec.expiresAt);
      throw new JwtError('REVOKED', 'refresh token reuse detected: every token of this session is revoked');
    }
    const next = await this.#mint(rec.subject, rec.family);
    return { token: next.token, subject: rec.subject, family: rec.family };
  }

  /** Ends a family (logout). */
  async revoke(token: string): Promise<void> {
    const rec = await this.#check(token);
    await this.#store.revokeFamily(rec.family, rec.expiresAt);
  }

  async #check(token: string): Promise<RefreshRecord & { used: boolean }> {
    const dot = token.indexOf('.');
    if (dot <= 0) throw new JwtError('MALFORMED', 'not a refresh token');
    const rec = await this.#store.get(token.slice(0, dot));
    if (rec === null) throw new JwtError('UNKNOWN_KEY', 'unknown or expired refresh token');
    const a = Buffer.from(sha256(token.slice(dot + 1)), 'hex');
    if (!constantTimeEqual(a, Buffer.from(rec.hash, 'hex'))) throw new JwtError('BAD_SIGNATURE', 'refresh token does not match');
    if (await this.#store.familyRevoked(rec.family)) throw new JwtError('REVOKED', 'this session was revoked');
    return rec;
  }
}

/**
 * Revoked JWT ids in Redis, each kept until its token would have expired.
 *
 * @example
 * ```ts
 * const verifier = new JwtVerifier({ keys, revocation: new RedisRevocationList(redis) });
 * ```
 */
export class RedisRevocationList implements RevocationList {
  readonly redis: RedisClient;
  readonly prefix: string;
  constructor(redis: RedisClient, prefix = 'covet:') {
    this.redis = redis;
    this.prefix = prefix;
  }
  async revoke(jti: string, expiresAtSec: number): Promise<void> {
    await this.redis.set(`${this.prefix}jti:${jti}`, '1', 'EXAT', Math.max(Math.ceil(expiresAtSec), Math.ceil(Date.now() / 1000) + 1));
  }
  async isRevoked(jti: string): Promise<boolean> {
    return (await this.redis.exists(`${this.prefix}jti:${jti}`)) === 1;
  }
}
