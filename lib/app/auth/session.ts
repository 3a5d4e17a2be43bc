/**
 * Sessions: server-side (the cookie holds only a random id; data in memory, Redis or PostgreSQL) or
 * cookie sessions (the data itself in a signed cookie). Idle and absolute expiry, id rotation on login
 * (`regenerate`, against session fixation), and secure cookie defaults (HttpOnly, Secure, SameSite=Lax,
 * `__Host-` prefix when Secure). The cookie is written when the response head goes out, so handlers
 * may change the session until then.
 */
import { randomBytes } from 'node:crypto';
import { redisGuard, type RedisClient, type RedisGuard } from '../redis-client.js';
import type { Queryable } from '../db/db.js';
import type { Context } from '../context.js';
import { serializeCookie, signCookieValue, unsignCookieValue, type CookieOptions } from '../cookies.js';

export interface SessionRecord {
  data: Record<string, unknown>;
  /** ms since the epoch. */
  createdAt: number;
  lastSeen: number;
}

export interface SessionStore {
  get(id: string): Promise<SessionRecord | null>;
  set(id: string, rec: SessionRecord, ttlMs: number): Promise<void>;
  delete(id: string): Promise<void>;
}

/**
 * Sessions in memory (tests, one-process apps): lost at restart.
 *
 * @example
 * ```ts
 * app.use(session({ store: new MemorySessionStore(), secrets: [process.env.SESSION_SECRET!] }));
 * ```
 */
export class MemorySessionStore implements SessionStore {
  readonly #m = new Map<string, { rec: string; expires: number }>();
  async get(id: string): Promise<SessionRecord | null> {
    const e = this.#m.get(id);
    if (e === undefined) return null;
    if (e.expires < Date.now()) {
      this.#m.delete(id);
      return null;
    }
    return JSON.parse(e.rec) as SessionRecord;
  }
  async set(id: string, rec: SessionRecord, ttlMs: number): Promise<void> {
    this.#m.set(id, { rec: JSON.stringify(rec), expires: Date.now() + ttlMs });
    if (this.#m.size % 1000 === 0) for (const [k, v] of this.#m) if (v.expires < Date.now()) this.#m.delete(k);
  }
  async delete(id: string): Promise<void> {
    this.#m.delete(id);
  }
}

/** What the Redis-backed pieces here share: the client, their key prefix, and the client's outage guard. */
abstract class RedisKeys {
  readonly redis: RedisClient;
  readonly prefix: string;
  protected readonly guard: RedisGuard;
  constructor(redis: RedisClient, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
    this.guard = redisGuard(redis);
  }
}

/**
 * Sessions in Redis. While Redis is unreachable a session cannot be read or saved: the request fails at
 * once with `RedisUnavailableError` (503), never waiting on ioredis's reconnect queue.
 *
 * @example
 * ```ts
 * app.use(session({ store: new RedisSessionStore(redis), secrets: [process.env.SESSION_SECRET!] }));
 * ```
 */
export class RedisSessionStore extends RedisKeys implements SessionStore {
  constructor(redis: RedisClient, prefix = 'covet:sess:') {
    super(redis, prefix);
  }
  async get(id: string): Promise<SessionRecord | null> {
    const s = await this.guard.run(() => this.redis.get(this.prefix + id), undefined, 'GET');
    return s === null ? null : (JSON.parse(s) as SessionRecord);
  }
  async set(id: string, rec: SessionRecord, ttlMs: number): Promise<void> {
    await this.guard.run(() => this.redis.set(this.prefix + id, JSON.stringify(rec), 'PX', Math.max(1, Math.ceil(ttlMs))), undefined, 'SET');
  }
  async delete(id: string): Promise<void> {
    await this.guard.run(() => this.redis.del(this.prefix + id), undefined, 'DEL');
  }
}

/**
 * Sessions in a PostgreSQL table (created on first use), expired rows removed now and then.
 *
 * @example
 * ```ts
 * app.use(session({ store: new PgSessionStore(db), secrets: [process.env.SESSION_SECRET!] })); // table covet_sessions
 * ```
 */
export class PgSessionStore implements SessionStore {
  #ready: Promise<void> | null = null;
  readonly db: Queryable;
  readonly table: string;
  constructor(db: Queryable, table = 'covet_sessions') {
    this.db = db;
    this.table = table;
  }
  #init(): Promise<void> {
    return (this.#ready ??= this.db
      .query(`create table if not exists "${this.table}" (id text primary key, data jsonb not null, expires_at timestamptz not null)`)
      .then(() => undefined));
  }
  async get(id: string): Promise<SessionRecord | null> {
    await this.#init();
    const r = await this.db.query<{ data: SessionRecord }>(`select data from "${this.table}" where id = $1 and expires_at > now()`, [id]);
    return r.rows[0]?.data ?? null;
  }
  async set(id: string, rec: SessionRecord, ttlMs: number): Promise<void> {
    await this.#init();
    await this.db.query(`insert into "${this.table}" (id, data, expires_at) values ($1, $2, now() + $3 * interval '1 millisecond') on conflict (id) do update set data = excluded.data, expires_at = excluded.expires_at`, [id, rec, Math.ceil(ttlMs)]);
    if (Math.random() < 0.01) await this.db.query(`delete from "${this.table}" where expires_at < now()`);
  }
  async delete(id: string): Promise<void> {
    await this.#init();
    await this.db.query(`delete from "${this.table}" where id = $1`, [id]);
  }
}

/**
 * Ids of cookie sessions ended by `destroy()` or `regenerate()`, refused until the cookie would have
 * expired anyway. A cookie session lives in the cookie: without this list, a copy of a logged-out cookie
 * (stolen, or kept by the client) stays valid until its idle or absolute expiry.
 */
export interface SessionRevocations {
  revoke(id: string, untilMs: number): unknown;
  isRevoked(id: string): boolean | Promise<boolean>;
}

/**
 * Revoked ids in this process's memory (one instance; entries dropped once past their expiry).
 *
 * @example
 * ```ts
 * app.use(session({ store: 'cookie', secrets, revocations: new MemorySessionRevocations() }));
 * ```
 */
export class MemorySessionRevocations implements SessionRevocations {
  readonly #until = new Map<string, number>();
  readonly now: () => number;
  constructor(now: () => number = Date.now) {
    this.now = now;
  }
  revoke(id: string, untilMs: number): void {
    this.#until.set(id, untilMs);
    if (this.#until.size % 1000 === 0) for (const [k, t] of this.#until) if (t <= this.now()) this.#until.delete(k);
  }
  isRevoked(id: string): boolean {
    const t = this.#until.get(id);
    return t !== undefined && t > this.now();
  }
}

/**
 * Revoked ids in Redis (every instance refuses them), each key expiring with the cookie it revokes. While
 * Redis is unreachable a revocation check fails at once with `RedisUnavailableError` (503): refused
 * rather than letting a revoked session through.
 *
 * @example
 * ```ts
 * app.use(session({ store: 'cookie', secrets, revocations: new RedisSessionRevocations(redis) }));
 * ```
 */
export class RedisSessionRevocations extends RedisKeys implements SessionRevocations {
  constructor(redis: RedisClient, prefix = 'covet:sess-revoked:') {
    super(redis, prefix);
  }
  async revoke(id: string, untilMs: number): Promise<void> {
    const ttl = Math.ceil(untilMs - Date.now());
    if (ttl > 0) await this.guard.run(() => this.redis.set(this.prefix + id, '1', 'PX', ttl), undefined, 'SET');
  }
  async isRevoked(id: string): Promise<boolean> {
    return (await this.guard.run(() => this.redis.exists(this.prefix + id), undefined, 'EXISTS')) === 1;
  }
}

export interface SessionOptions {
  /**
   * Where data lives; `'cookie'` keeps it in the signed cookie (small data only, ~4 KB). A cookie session
   * cannot be ended on the server by `destroy()` alone (the client may keep a copy): pass `revocations`.
   */
  store: SessionStore | 'cookie';
  /** Cookie sessions: where ids ended by `destroy()`/`regenerate()` are kept, so copies are refused. */
  revocations?: SessionRevocations;
  /** Signing secrets (the first signs, all verify). */
  secrets: readonly string[];
  /** Cookie name. Default `__Host-sid` when secure, else `sid`. */
  name?: string;
  /** Expire after this long without a request. Default 30 minutes. */
  idleMs?: number;
  /** Expire this long after creation whatever the activity. Default 12 hours. */
  absoluteMs?: number;
  /** Cookie attributes; defaults HttpOnly, Secure, SameSite=Lax, Path=/. Set `secure: false` for plain-HTTP development. */
  cookie?: Omit<CookieOptions, 'maxAge' | 'expires' | 'signed'>;
  /** Clock in ms (tests). */
  now?: () => number;
}

/**
 * The session of a request (see {@link session}). Changes are written to the store at once (await
 * them), so the session is saved before the answer reaches the client and its next request.
 *
 * @example
 * ```ts
 * const s = sessionOf(ctx);
 * await s.set('theme', 'dark');
 * const theme = s.get<string>('theme');
 * ```
 */
export class Session {
  data: Record<string, unknown>;
  id: string;
  createdAt: number;
  /** @internal */ destroyed = false;
  /** @internal */ changed = false;
  /** @internal */ isNew: boolean;
  readonly #save: (s: Session) => Promise<void>;
  readonly #remove: (id: string) => Promise<void>;
  readonly #now: () => number;

  /** @internal */
  constructor(id: string, rec: SessionRecord | null, save: (s: Session) => Promise<void>, remove: (id: string) => Promise<void>, now: () => number = Date.now) {
    this.id = id;
    this.isNew = rec === null;
    this.data = rec?.data ?? {};
    this.#now = now;
    this.createdAt = rec?.createdAt ?? now();
    this.#save = save;
    this.#remove = remove;
  }

  get<T = unknown>(key: string): T | undefined {
    return this.data[key] as T | undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    this.data[key] = value;
    this.changed = true;
    await this.#save(this);
  }

  async delete(key: string): Promise<void> {
    delete this.data[key];
    this.changed = true;
    await this.#save(this);
  }

  /** A new id for the same data (call at login and privilege changes: defeats session fixation). */
  async regenerate(): Promise<void> {
    const old = this.id;
    this.id = newId();
    this.createdAt = this.#now();
    this.changed = true;
    if (!this.isNew) await this.#remove(old);
    await this.#save(this);
  }

  /** Ends the session (logout): data dropped, cookie cleared. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    this.data = {};
    await this.#remove(this.id);
  }
}

const newId = (): string => randomBytes(24).toString('base64url');

/**
 * The request's session (after the `session()` middleware).
 *
 * @example
 * ```ts
 * app.get('/me', (ctx) => ({ userId: sessionOf(ctx).get<string>('userId') ?? null }));
 * ```
 */
export function sessionOf(ctx: Context): Session {
  const s = ctx.state.session;
  if (!(s instanceof Session)) throw new Error('no session: add app.use(session({...})) first');
  return s;
}

/**
 * @example
 * ```ts
 * app.use(session({ store: new RedisSessionStore(redis), secrets: [process.env.SESSION_SECRET!] }));
 * app.post('/login', async (ctx) => {
 *   const s = sessionOf(ctx);
 *   await s.regenerate(); // a new id at login
 *   await s.set('userId', user.id);
 * });
 * ```
 */
export function session(options: SessionOptions) {
  const cookieOpts: CookieOptions = { httpOnly: true, secure: true, sameSite: 'lax', path: '/', ...options.cookie };
  const name = options.name ?? (cookieOpts.secure === true && cookieOpts.domain === undefined ? '__Host-sid' : 'sid');
  const idleMs = options.idleMs ?? 30 * 60_000;
  const absoluteMs = options.absoluteMs ?? 12 * 3_600_000;
  const store = options.store;
  const clock = options.now ?? Date.now;
  return async (ctx: Context, next: () => Promise<void>): Promise<void> => {
    const raw = ctx.cookies[name];
    const value = raw === undefined ? undefined : unsignCookieValue(raw, options.secrets);
    const now = clock();
    let rec: SessionRecord | null = null;
    let id = newId();
    if (value !== undefined) {
      if (store === 'cookie') {
        try {
          const c = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as SessionRecord & { id?: string };
          rec = c;
          if (typeof c.id === 'string') id = c.id;
          if (typeof c.id === 'string' && options.revocations !== undefined && (await options.revocations.isRevoked(c.id))) {
            rec = null;
            id = newId();
          }
        } catch {
          rec = null;
        }
      } else {
        rec = await store.get(value);
        if (rec !== null) id = value;
      }
      // Idle and absolute expiry are checked here too: a store's TTL is only a backstop.
      if (rec !== null && (now - rec.lastSeen > idleMs || now - rec.createdAt > absoluteMs)) {
        if (store !== 'cookie') await store.delete(value);
        rec = null;
        id = newId();
      }
    }
    const ttl = (x: Session): number => Math.max(1, Math.min(idleMs, absoluteMs - (clock() - x.createdAt)));
    const save = store === 'cookie' ? async () => {} : (x: Session) => store.set(x.id, { data: x.data, createdAt: x.createdAt, lastSeen: clock() }, ttl(x));
    const revocations = options.revocations;
    const remove =
      store !== 'cookie'
        ? (sid: string) => store.delete(sid)
        : revocations === undefined
          ? async () => {}
          : // Refused until the cookie could no longer be valid (its absolute expiry).
            async (sid: string) => void (await revocations.revoke(sid, (rec?.createdAt ?? now) + absoluteMs));
    const s = new Session(id, rec, save, remove, clock);
    ctx.state.session = s;
    const hadCookie = raw !== undefined;
    // Activity extends the idle deadline: refresh the stored record (and cookie) now and then, not on
    // every request.
    const touch = rec !== null && now - rec.lastSeen > idleMs / 10;
    if (touch) await save(s);
    ctx.res.once('head', () => {
      if (s.destroyed) {
        if (hadCookie) ctx.res.appendHeader('set-cookie', serializeCookie(name, '', { ...cookieOpts, maxAge: 0, expires: new Date(0) }));
        return;
      }
      if (!s.changed && !touch && !(store === 'cookie' && s.isNew && Object.keys(s.data).length > 0)) return;
      if (s.isNew && Object.keys(s.data).length === 0) return; // nothing to remember: no cookie
      const payload = store === 'cookie' ? Buffer.from(JSON.stringify({ id: s.id, data: s.data, createdAt: s.createdAt, lastSeen: clock() })).toString('base64url') : s.id;
      ctx.res.appendHeader('set-cookie', serializeCookie(name, signCookieValue(payload, options.secrets), { ...cookieOpts, maxAge: Math.ceil(ttl(s) / 1000) }));
    });
    await next();
  };
}
