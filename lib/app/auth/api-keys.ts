/**
 * API keys: `<prefix>_<id>_<secret>`; the id finds the record (a prefix lookup, indexable), the secret
 * is stored only as a SHA-256 hash (keys are 256-bit random: a slow hash adds nothing) and compared in
 * constant time; each key carries scopes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../../net/constant-time.js';
import type { Context } from '../context.js';
import { HttpError } from '../errors.js';

export interface ApiKeyRecord {
  id: string;
  /** sha256(secret), hex. */
  hash: string;
  scopes: readonly string[];
  /** Anything else (owner, name, created...). */
  meta?: Record<string, unknown>;
}

export interface ApiKeyStore {
  find(id: string): Promise<ApiKeyRecord | null> | ApiKeyRecord | null;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * Makes a key: show `key` to its owner once; store `record`.
 *
 * @example
 * ```ts
 * const { key, record } = createApiKey('cvt', ['notes:read']);
 * await db.query('insert into api_keys (id, hash, scopes) values ($1, $2, $3)', [record.id, record.hash, record.scopes]);
 * ```
 */
export function createApiKey(prefix: string, scopes: readonly string[], meta?: Record<string, unknown>): { key: string; record: ApiKeyRecord } {
  if (!/^[a-z][a-z0-9]{1,15}$/.test(prefix)) throw new Error('an API key prefix is 2–16 lower-case letters and digits');
  const id = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
  const secret = randomBytes(32).toString('base64url');
  return { key: `${prefix}_${id}_${secret}`, record: { id, hash: sha256(secret), scopes, meta } };
}

/**
 * The record of a presented key, or null (unknown id, wrong secret, malformed).
 *
 * @example
 * ```ts
 * const rec = await verifyApiKey(ctx.req.get('x-api-key') ?? '', store, 'cvt');
 * if (rec === null) throw new HttpError(401);
 * ```
 */
export async function verifyApiKey(key: string, store: ApiKeyStore, prefix?: string): Promise<ApiKeyRecord | null> {
  const m = /^([a-z][a-z0-9]{1,15})_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/.exec(key);
  if (m === null || (prefix !== undefined && m[1] !== prefix)) return null;
  const rec = await store.find(m[2]!);
  if (rec === null) return null;
  const a = Buffer.from(sha256(m[3]!), 'hex');
  const b = Buffer.from(rec.hash, 'hex');
  return constantTimeEqual(a, b) ? rec : null;
}

/**
 * Middleware: a key in `Authorization: Bearer <key>` or `X-API-Key` authenticates the request
 * (`ctx.state.apiKey`); a wrong key is a 401. Without a key the request goes on unauthenticated.
 *
 * @example
 * ```ts
 * app.use(apiKeyAuth({ store, prefix: 'cvt' }));
 * app.get('/export', (ctx) => ({ by: (ctx.state.apiKey as ApiKeyRecord | undefined)?.id }));
 * ```
 */
export function apiKeyAuth(options: { store: ApiKeyStore; prefix?: string }) {
  return async (ctx: Context, next: () => Promise<void>): Promise<void> => {
    const auth = ctx.req.get('authorization');
    const key = ctx.req.get('x-api-key') ?? (auth !== undefined && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined);
    if (key !== undefined && /^[a-z][a-z0-9]{1,15}_/.test(key)) {
      const rec = await verifyApiKey(key, options.store, options.prefix);
      if (rec === null) throw new HttpError(401, { detail: 'invalid API key' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
      ctx.state.apiKey = rec;
    }
    await next();
  };
}
