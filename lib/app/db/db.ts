/**
 * The database service: a pool of PostgreSQL sessions (`DATABASE_URL`), or PGlite in this process when no
 * URL is given — the same driver and protocol bytes either way. Queries, the `sql` tag, transactions with
 * savepoints and retries, LISTEN/NOTIFY that re-listens after reconnecting, cancellation, readiness.
 */
import { finished, type Readable, type Writable } from 'node:stream';
import { PgConnection, type ConnectionOptions, type QueryOptions, type QueryResult } from './connection.js';
import { ConnectionError, PgError } from './errors.js';
import { BACKGROUND_WAIT_MS, Pool, type PoolOptions, type PoolStats, type Reserved } from './pool.js';
import { Sql, quoteIdent } from './sql.js';
import { savepoint } from './savepoint.js';
import type { PGliteLike } from './transport.js';
import { openPglite, parsePgliteUrl } from './pglite-cache.js';
import { isReadStatement, ReplicaSet, type ReplicaOptions, type ReplicaStats } from './replicas.js';
import { parseConnectionString, type ConnectionConfig } from './url.js';

export interface DbOptions extends ConnectionOptions, PoolOptions {
  /**
   * `postgres://...` for a server; `pglite://memory` (the default without `DATABASE_URL`) or
   * `pglite:///path/to/dir` for embedded PGlite, with server settings as a query if wanted
   * (`pglite://memory?shared_buffers=128MB`; PGlite starts with a 16 MB buffer pool). Default:
   * `process.env.DATABASE_URL`.
   */
  url?: string;
  /** An existing PGlite instance to use. */
  pglite?: PGliteLike;
  /**
   * Read replicas (`postgres://` URLs of streaming standbys; default `DATABASE_REPLICA_URLS`, comma-separated):
   * reads outside transactions go to them, the rest to the primary (see replicas.ts).
   */
  replicas?: readonly string[];
  /** How reads are spread over the replicas: stickiness after writes, lag, retries. */
  replica?: ReplicaOptions;
}

export type IsolationLevel = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  isolation?: IsolationLevel;
  readOnly?: boolean;
  /**
   * Run the whole function again (up to this many times) when it fails with a serialization failure
   * (40001) or a deadlock (40P01) — what PostgreSQL asks of clients at `serializable`. Default 0.
   */
  retries?: number;
  /** Longest wait for a pooled connection, overriding the pool's `acquireTimeoutMs`. */
  acquireTimeoutMs?: number;
}

/** Something that runs queries: the database, or a transaction. */
export interface Queryable {
  /**
   * @example
   * ```ts
   * const { rows } = await db.query('select * from notes where owner = $1', [userId]);
   * const r = await db.query(sql`select * from notes where id = ${id}`);
   * ```
   */
  query<R = Record<string, unknown>>(q: string | Sql, values?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
  /** Tagged template: runs at once and resolves with the rows. `` await db.sql`select ${1}::int as n` `` */
  sql<R = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]>;
  /** Runs `fn` in a transaction (in a savepoint when already in one); commits, or rolls back on throw. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

const RETRYABLE = new Set(['40001', '40P01']);


const NO_URL_IN_PRODUCTION =
  'no DATABASE_URL with NODE_ENV=production: the embedded database would keep its data in memory and lose it at every restart. ' +
  'Set DATABASE_URL (postgres://user:pass@host/db, mysql://..., sqlite:///path/app.db, pglite:///path/dir), or DATABASE_URL=pglite:memory to mean it.';

/** An embedded database (PGlite, SQLite) has one session; bursts queue behind a transaction in-process. */
const EMBEDDED_MAX_WAITING = 1024;

function toQuery(q: string | Sql, values: readonly unknown[] | undefined): { text: string; values: readonly unknown[] } {
  return q instanceof Sql ? q.compile() : { text: q, values: values ?? [] };
}

/**
 * A transaction on one reserved session.
 *
 * @example
 * ```ts
 * await db.transaction(async (tx) => {
 *   const [order] = await tx.sql`insert into orders (total) values (${total}) returning id`;
 *   await tx.transaction(async (sp) => sp.sql`insert into order_lines (order_id) values (${order!.id})`); // a savepoint
 * });
 * ```
 */
export class Transaction implements Queryable {
  readonly #conn: PgConnection;
  #depth: number;
  #savepoints = 0;

  /** @internal */
  constructor(conn: PgConnection, depth: number) {
    this.#conn = conn;
    this.#depth = depth;
  }

  query<R = Record<string, unknown>>(q: string | Sql, values?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    const { text, values: v } = toQuery(q, values);
    return this.#conn.query<R>(text, v, options);
  }

  async sql<R = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    return (await this.query<R>(new Sql(strings, values))).rows;
  }

  /** A nested transaction: a savepoint, released on success, rolled back to on throw. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const conn = this.#conn;
    return savepoint((s) => conn.simple(s), `covet_sp_${this.#depth}_${this.#savepoints++}`, () => fn(new Transaction(conn, this.#depth + 1)), () => !conn.closed);
  }
}

interface Listener {
  channel: string;
  fn: (payload: string) => void;
}

/**
 * @example
 * ```ts
 * const db = createDb(); // DATABASE_URL, or PGlite in memory
 * await db.query('create table if not exists notes (id serial primary key, title text not null)');
 * const [note] = await db.sql`insert into notes (title) values (${title}) returning *`;
 * await db.transaction(async (tx) => {
 *   await tx.sql`update accounts set balance = balance - ${n} where id = ${from}`;
 *   await tx.sql`update accounts set balance = balance + ${n} where id = ${to}`;
 * }, { isolation: 'serializable', retries: 3 });
 * ```
 */
export class Db implements Queryable {
  readonly pool: Pool;
  /** `'postgres'` or `'pglite'`. */
  readonly kind: 'postgres' | 'pglite';
  readonly #options: DbOptions;
  readonly #config: ConnectionConfig | null;
  #pglite: PGliteLike | null = null;
  #pgliteReady: Promise<PGliteLike> | null = null;
  #ownsPglite = false;
  #listenConn: Promise<PgConnection> | null = null;
  #listeners: Listener[] = [];
  #reconnects: Array<() => void> = [];
  #closed = false;
  readonly #replicas: ReplicaSet | null = null;

  constructor(options: DbOptions = {}) {
    this.#options = options;
    const url = options.url ?? process.env.DATABASE_URL;
    if (options.pglite !== undefined || url === undefined || url.startsWith('pglite:')) {
      // An app in production on the in-memory default would answer /ready and lose every row at restart.
      if (options.pglite === undefined && url === undefined && process.env.NODE_ENV === 'production') throw new Error(NO_URL_IN_PRODUCTION);
      this.kind = 'pglite';
      this.#config = null;
      if (options.pglite !== undefined) this.#pglite = options.pglite;
      const { dir, settings } = url === undefined ? { dir: undefined, settings: {} } : parsePgliteUrl(url);
      // PGlite is one backend: one session, so the pool is one.
      this.pool = new Pool(() => this.#pgliteConnection(dir, settings), { acquireTimeoutMs: BACKGROUND_WAIT_MS, maxWaiting: EMBEDDED_MAX_WAITING, ...options, max: 1, min: 0, idleTimeoutMs: Infinity, healthCheckMs: Infinity });
    } else {
      this.kind = 'postgres';
      const config = parseConnectionString(url);
      this.#config = config;
      this.pool = new Pool(() => PgConnection.connect(config, options), options);
    }
    const replicas = options.replicas ?? replicaUrlsFromEnv();
    if (replicas.length > 0) {
      if (this.kind !== 'postgres') throw new Error('read replicas (replicas, DATABASE_REPLICA_URLS) need a PostgreSQL server as the primary (DATABASE_URL=postgres://...), not PGlite');
      this.#replicas = new ReplicaSet(replicas, this.pool, options, options.replica);
    }
  }

  async #pgliteConnection(dir: string | undefined, settings: Record<string, string>): Promise<PgConnection> {
    if (this.#pglite === null) {
      // PGlite is an optional peer: loaded on first use, with an error that says how to install it.
      this.#pgliteReady ??= import('@electric-sql/pglite').catch((err: { code?: string }) => {
        if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
        throw new Error('the embedded database (no DATABASE_URL, or pglite:) needs the package "@electric-sql/pglite", which is not installed: run `npm install @electric-sql/pglite`, or set DATABASE_URL=postgres://...');
      }).then(async (mod) => {
        // A new database (in memory, or a directory not yet initialised) from the saved copy of an
        // initialised one (pglite-cache.ts), not initdb.
        const pg = (await openPglite(mod, dir, settings)).pglite; // ready: openPglite waits for it
        this.#ownsPglite = true;
        return pg as unknown as PGliteLike;
      });
      this.#pglite = await this.#pgliteReady;
    }
    return PgConnection.pglite(this.#pglite, this.#options);
  }

  query<R = Record<string, unknown>>(q: string | Sql, values?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    const c = typeof q === 'string' ? null : q.compile();
    const text = c === null ? (q as string) : c.text;
    const v = c === null ? (values ?? []) : c.values;
    const rs = this.#replicas;
    if (rs !== null) {
      if (isReadStatement(text)) return rs.read<R>(text, v, options);
      rs.noteWrite();
    }
    return this.pool.query<R>(text, v, options);
  }

  /**
   * With read replicas: runs `fn` with every read on the primary (what it reads must be current). Without
   * replicas, just runs it.
   *
   * @example
   * ```ts
   * const balance = await db.onPrimary(() => db.sql`select balance from accounts where id = ${id}`);
   * ```
   */
  onPrimary<T>(fn: () => Promise<T>): Promise<T> {
    return this.#replicas === null ? fn() : this.#replicas.onPrimary(fn);
  }

  /** The read replicas now: state, reads answered, lag (empty without replicas). */
  replicaStats(): ReplicaStats[] {
    return this.#replicas?.stats() ?? [];
  }

  /** Measures the replicas' lag now (it is also measured every `replica.lagCheckMs`) and tries those that are down. */
  async checkReplicas(): Promise<ReplicaStats[]> {
    return (await this.#replicas?.check()) ?? [];
  }

  async sql<R = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    return (await this.query<R>(new Sql(strings, values))).rows;
  }

  /** The pool's connections now: open, busy, waited for (what `metrics(app, { databases })` reports). */
  poolStats(): PoolStats {
    return this.pool.stats();
  }

  /** Runs statements separated by `;` (no parameters) on one session: schema set-up, migrations. */
  async exec(text: string): Promise<void> {
    this.#replicas?.noteWrite();
    const r = await this.pool.reserve(BACKGROUND_WAIT_MS);
    try {
      await r.conn.simple(text);
    } finally {
      r.release();
    }
  }

  /**
   * `COPY ... FROM STDIN` on a session of its own, as a Writable (released when it finishes or fails).
   *
   * @example
   * ```ts
   * await pipeline(createReadStream('notes.csv'), await db.copyFrom('copy notes (title, body) from stdin with (format csv)'));
   * ```
   */
  async copyFrom(text: string): Promise<Writable> {
    this.#replicas?.noteWrite();
    const r = await this.pool.reserve(BACKGROUND_WAIT_MS);
    const w = r.conn.copyFrom(text);
    finished(w, (err) => r.release(err !== undefined && r.conn.txStatus !== 'I'));
    return w;
  }

  /** `COPY ... TO STDOUT` on a session of its own, as a Readable of the output bytes. */
  async copyTo(text: string): Promise<Readable> {
    const r = await this.pool.reserve(BACKGROUND_WAIT_MS);
    const out = r.conn.copyTo(text);
    // Abandoned mid-stream, the session still has COPY data coming: close it rather than reuse it.
    finished(out, (err) => r.release(err !== undefined || !out.readableEnded));
    return out;
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    // Transactions run on the primary; one that may write makes the reads after it go there too.
    if (options.readOnly !== true) this.#replicas?.noteWrite();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#transactionOnce(fn, options);
      } catch (err) {
        if (!(err instanceof PgError) || !RETRYABLE.has(err.code) || attempt >= (options.retries ?? 0)) throw err;
        // Back off a little, with jitter, so the conflicting transactions do not collide again at once.
        await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** attempt));
      }
    }
  }

  async #transactionOnce<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions): Promise<T> {
    const r: Reserved = await this.pool.reserve(options.acquireTimeoutMs);
    let broken = false;
    try {
      return await inTransaction(r.conn, () => fn(new Transaction(r.conn, 1)), options);
    } catch (err) {
      broken = r.conn.closed || !(err instanceof PgError || r.conn.txStatus === 'I');
      throw err;
    } finally {
      r.release(broken);
    }
  }

  /**
   * Listens on a channel (one dedicated session for all listeners). After a lost connection the session
   * is re-opened and every channel listened to again; `onReconnect` callbacks run then, because
   * notifications sent meanwhile were missed (PostgreSQL does not replay them).
   *
   * @example
   * ```ts
   * const stop = await db.listen('notes', (payload) => cache.delete(payload));
   * db.onReconnect(() => cache.clear()); // we may have missed some
   * ```
   */
  async listen(channel: string, fn: (payload: string) => void): Promise<() => Promise<void>> {
    // PGlite has one session and delivers notifications only inside other queries' answers.
    if (this.kind === 'pglite') throw new Error('LISTEN needs a PostgreSQL server (DATABASE_URL): PGlite has a single session and no asynchronous notifications');
    const l: Listener = { channel, fn };
    this.#listeners.push(l);
    const conn = await this.#listener();
    if (this.#listeners.filter((x) => x.channel === channel).length === 1) await conn.query(`listen ${quoteIdent(channel)}`, [], { prepare: false });
    return async () => {
      this.#listeners = this.#listeners.filter((x) => x !== l);
      // Closed: the session is gone with its LISTENs (asking #listener() would open a new one).
      if (this.#closed) return;
      if (!this.#listeners.some((x) => x.channel === channel)) await (await this.#listener()).query(`unlisten ${quoteIdent(channel)}`, [], { prepare: false });
    };
  }

  /** Called after the listening session was re-established (notifications may have been missed). */
  onReconnect(fn: () => void): void {
    this.#reconnects.push(fn);
  }

  /** Sends a notification (`pg_notify`, so the payload is a parameter). */
  async notify(channel: string, payload = ''): Promise<void> {
    await this.query('select pg_notify($1, $2)', [channel, payload]);
  }

  #listener(): Promise<PgConnection> {
    if (this.#listenConn !== null) return this.#listenConn;
    const open = async (): Promise<PgConnection> => {
      const conn = await PgConnection.connect(this.#config!, this.#options);
      conn.onNotification = (channel, payload) => {
        for (const l of this.#listeners) if (l.channel === channel) l.fn(payload);
      };
      conn.onClose = () => {
        if (this.#closed) return;
        this.#listenConn = null;
        void this.#relisten();
      };
      return conn;
    };
    this.#listenConn = open();
    this.#listenConn.catch(() => (this.#listenConn = null));
    return this.#listenConn;
  }

  async #relisten(delay = 100): Promise<void> {
    if (this.#closed || this.#listeners.length === 0) return;
    try {
      const conn = await this.#listener();
      for (const ch of new Set(this.#listeners.map((l) => l.channel))) await conn.query(`listen ${quoteIdent(ch)}`, [], { prepare: false });
      for (const fn of this.#reconnects) fn();
    } catch {
      setTimeout(() => void this.#relisten(Math.min(delay * 2, 5000)), delay).unref();
    }
  }

  /** Readiness: `select 1` within `timeoutMs` (for `health()`). */
  async ping(timeoutMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.pool.query('select 1', []),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new ConnectionError(`the database did not answer within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes every session (and PGlite, when this Db opened it). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#listenConn !== null) await (await this.#listenConn.catch(() => null))?.close();
    await this.pool.end();
    await this.#replicas?.close();
    if (this.#ownsPglite && this.#pglite !== null) await this.#pglite.close();
  }
}

/** `DATABASE_REPLICA_URLS`: comma-separated replica URLs. */
function replicaUrlsFromEnv(): string[] {
  return (process.env.DATABASE_REPLICA_URLS ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
}

/**
 * Runs `fn` between BEGIN and COMMIT on one session, rolling back on throw. (Used by `Db.transaction`
 * and the migration runner, which holds its session for the advisory lock.)
 *
 * @example
 * ```ts
 * const conn = await PgConnection.connect(config);
 * await inTransaction(conn, async () => {
 *   await conn.query('update accounts set balance = balance - 10 where id = $1', [1]);
 *   await conn.query('update accounts set balance = balance + 10 where id = $1', [2]);
 * }, { isolation: 'serializable' });
 * ```
 */
export async function inTransaction<T>(conn: PgConnection, fn: () => Promise<T>, options: Omit<TransactionOptions, 'retries'> = {}): Promise<T> {
  let begin = 'begin';
  if (options.isolation !== undefined) begin += ` isolation level ${options.isolation}`;
  if (options.readOnly === true) begin += ' read only';
  await conn.simple(begin);
  try {
    const out = await fn();
    await conn.simple('commit');
    return out;
  } catch (err) {
    if (!conn.closed) await conn.simple('rollback');
    throw err;
  }
}


/**
 * Creates the PostgreSQL service (see {@link Db}): a server (`postgres://`), or PGlite. For an app that
 * runs on whichever database `DATABASE_URL` names — SQLite too — use {@link openDatabase}.
 *
 * @example
 * ```ts
 * const db = createDb({ url: 'postgres://app@127.0.0.1/app', max: 20 });
 * const users = await db.sql`select id, email from users where id = ${id}`;
 * ```
 */
export function createDb(options: DbOptions = {}): Db {
  const url = options.url ?? process.env.DATABASE_URL;
  if (url !== undefined && /^(sqlite|mysql|mariadb):/i.test(url)) throw new Error(`${url.split(':')[0]}: createDb is the PostgreSQL driver; openDatabase() opens PostgreSQL, PGlite, SQLite and MySQL/MariaDB alike`);
  return new Db(options);
}
