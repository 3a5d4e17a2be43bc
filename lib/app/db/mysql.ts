/**
 * MySQL and MariaDB behind the same `Queryable` as PostgreSQL: `openDatabase({ url: 'mysql://user:pass@host/db' })`,
 * on `mysql2` (an optional peer: `npm install mysql2`) with its pool and server-side prepared statements.
 *
 * - Each session runs with `ANSI_QUOTES` (identifiers in double quotes, as the ORM writes them), strict
 *   mode (a bad value is an error, never a silent truncation) and UTC; `$n` placeholders become `?`.
 * - Transactions with isolation levels and savepoints; a deadlock or lock-wait timeout is retried when
 *   `retries` is set, as serialization failures are on PostgreSQL.
 * - Errors carry the `status` to answer (a duplicate key 409; a foreign key, NULL into NOT NULL, a value
 *   out of range or too long, a failed CHECK: 422).
 * - Values: a `Date` as DATETIME(3) in UTC, a boolean as 1/0, an object as JSON text. The ORM converts
 *   what comes back to the declared column types (see `orm/dialect.ts`).
 * - TLS by URL parameters (`sslmode=require|verify-full`, `sslrootcert=`), as for PostgreSQL.
 * - RETURNING: MariaDB 10.5+ has it for INSERT and DELETE; MySQL has none. The server is asked once
 *   (`returning()`); without it the ORM writes and reads back in one transaction (generated ids, given
 *   keys, conflict targets). `?returning=false` in the URL forces that way (how it is tested on MariaDB).
 *
 * @example
 * ```ts
 * const db = openDatabase({ url: 'mysql://root@127.0.0.1:3306/app' });
 * const rows = await db.sql`select ${1} + 1 as two`;
 * ```
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createRequire } from 'node:module';
import { Sql } from './sql.js';
import { observeQuery, queriesObserved } from '../../trace/channels.js';
import { savepoint } from './savepoint.js';
import { splitStatements } from './statements.js';
import { busyProblem, columnList, violationProblem, type ErrorProblem, type Violation } from './problem.js';
import type { QueryOptions, QueryResult } from './connection.js';
import { BACKGROUND_WAIT_MS, type PoolStats } from './pool.js';
import type { Queryable, TransactionOptions } from './db.js';
import { PoolTimeoutError } from './errors.js';


/**
 * An error from MySQL/MariaDB, with the answer it calls for.
 *
 * @example
 * ```ts
 * try {
 *   await db.sql`insert into users (email) values (${email})`;
 * } catch (err) {
 *   if (err instanceof MysqlError && err.code === 'ER_DUP_ENTRY') throw new HttpError(409, 'that email is taken');
 *   throw err;
 * }
 * ```
 */
export class MysqlError extends Error {
  override readonly name = 'MysqlError';
  /** The server's error name (`ER_DUP_ENTRY`) and number (1062). */
  readonly code: string;
  readonly errno: number;
  readonly sqlState: string;
  /**
   * The HTTP status to answer: 409 (duplicate) or 422 (other data errors) for what a client's data caused,
   * 503 when the server was busy ({@link busy}), else 500.
   */
  readonly status: number;
  /** A deadlock or lock wait timeout: running the transaction again may succeed. */
  readonly retryable: boolean;
  /**
   * The server was too busy, not wrong: a lock not had within `innodb_lock_wait_timeout` (1205), a deadlock
   * (1213) the transaction's retries did not get past, or no connection slot left (1040).
   */
  readonly busy: boolean;
  constructor(message: string, code: string, errno: number, sqlState: string) {
    super(message);
    this.code = code;
    this.errno = errno;
    this.sqlState = sqlState;
    this.retryable = errno === 1213 || errno === 1205;
    this.busy = this.retryable || errno === 1040;
    this.status = errno === 1062 || errno === 1586 ? 409 : DATA_ERRORS.has(errno) ? 422 : this.busy ? 503 : 500;
  }

  /** What the client's data broke (see `problem.ts`), read from the server's message; undefined for other errors. */
  get violation(): Violation | undefined {
    const m = this.message;
    const one = (re: RegExp): string[] => {
      const x = re.exec(m);
      return x === null ? [] : [x[1]!.replace(/^.*\./, '')];
    };
    switch (this.errno) {
      case 1062:
      case 1586:
        // "Duplicate entry '…' for key 'users.email'": the key's name, never the entry.
        return { kind: 'unique', fields: one(/for key '([^']+)'\s*$/) };
      case 1451:
      case 1452:
        return { kind: 'foreign-key', fields: columnList(/FOREIGN KEY \(([^)]+)\)/.exec(m)?.[1] ?? '') };
      case 1048:
      case 1364:
        return { kind: 'not-null', fields: one(/^(?:Column|Field) '([^']+)'/) };
      case 1264:
      case 1690:
        return { kind: 'out-of-range', fields: one(/for column [`']?(?:[^`' ]*[`']?\.[`']?)*([^`' ]+)[`']? at row/) };
      case 1406:
        return { kind: 'too-long', fields: one(/for column [`']?(?:[^`' ]*[`']?\.[`']?)*([^`' ]+)[`']? at row/) };
      case 1366:
      case 1292:
        return { kind: /string value/i.test(m) ? 'bad-text' : 'bad-value', fields: one(/for column [`']?(?:[^`' ]*[`']?\.[`']?)*([^`' ]+)[`']? at row/) };
      case 3819:
      case 4025:
        return { kind: 'check', fields: [] };
      default:
        return undefined;
    }
  }

  /** The answer the app sends for a client's data error, or 503 with Retry-After when busy (no server text in either). */
  toProblem(): ErrorProblem | undefined {
    if (this.busy) return busyProblem();
    const v = this.violation;
    return v === undefined ? undefined : violationProblem(v);
  }
}

/** Errors caused by the values sent: foreign keys, NOT NULL, no default, out of range, too long, wrong value, CHECK. */
const DATA_ERRORS = new Set([1451, 1452, 1048, 1364, 1264, 1406, 1366, 1292, 3819, 4025, 1690]);

interface Mysql2Conn {
  execute(sql: string, values: unknown[]): Promise<[unknown, unknown]>;
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
  release(): void;
  destroy(): void;
}
interface Mysql2Pool {
  getConnection(): Promise<Mysql2Conn>;
  end(): Promise<void>;
  on(event: 'connection', fn: (conn: { query(sql: string): unknown }) => void): void;
}

const require = createRequire(import.meta.url);

function loadMysql2(): { createPool(config: Record<string, unknown>): Mysql2Pool } {
  try {
    return require('mysql2/promise') as { createPool(config: Record<string, unknown>): Mysql2Pool };
  } catch {
    throw new Error('MySQL/MariaDB needs the package "mysql2", which is not installed: run `npm install mysql2`');
  }
}

/** `$1 ... $n` (in any order, repeated) as `?` with the values in the order of the placeholders. */
function positional(text: string, values: readonly unknown[]): { text: string; values: unknown[] } {
  const out: unknown[] = [];
  const t = text.replace(/\$(\d+)/g, (_m, n: string) => {
    out.push(encode(values[Number(n) - 1]));
    return '?';
  });
  return { text: t, values: out };
}

/** A JS value as mysql2 should send it. */
function encode(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString().slice(0, 23).replace('T', ' '); // DATETIME(3), UTC
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Uint8Array)) return JSON.stringify(v);
  return v;
}

function wrapError(err: unknown): unknown {
  const e = err as { errno?: number; code?: string; sqlState?: string; sqlMessage?: string; message?: string };
  if (typeof e?.errno === 'number' && typeof e.sqlState === 'string') return new MysqlError(e.sqlMessage ?? e.message ?? 'MySQL error', e.code ?? '', e.errno, e.sqlState);
  return err;
}

function run<R>(conn: Mysql2Conn, q: string | Sql, values: readonly unknown[] | undefined): Promise<QueryResult<R>> {
  const c = q instanceof Sql ? q.compile() : { text: q, values: values ?? [] };
  return queriesObserved() ? observeQuery('mysql', c.text, () => runCompiled<R>(conn, c)) : runCompiled<R>(conn, c);
}

async function runCompiled<R>(conn: Mysql2Conn, c: { text: string; values: readonly unknown[] }): Promise<QueryResult<R>> {
  const p = positional(c.text, c.values);
  try {
    const [res] = await conn.execute(p.text, p.values);
    if (Array.isArray(res)) return { rows: res as R[], rowCount: res.length, command: 'SELECT', fields: [] };
    const header = res as { affectedRows?: number; insertId?: number | bigint };
    const out: QueryResult<R> = { rows: [], rowCount: header.affectedRows ?? 0, command: '', fields: [] };
    if (header.insertId !== undefined && header.insertId !== 0) out.insertId = String(header.insertId);
    return out;
  } catch (err) {
    throw wrapError(err);
  }
}

/** Work on one reserved connection: a transaction or the migrator's session. */
class MysqlSession implements Queryable {
  readonly dialect = 'mysql' as const;
  #savepoints = 0;
  readonly conn: Mysql2Conn;
  readonly depth: number;
  /** Whether the server has INSERT/DELETE ... RETURNING (the database's answer, shared). */
  readonly returning: () => Promise<boolean>;
  constructor(conn: Mysql2Conn, depth: number, returning: () => Promise<boolean>) {
    this.conn = conn;
    this.depth = depth;
    this.returning = returning;
  }
  query<R = Record<string, unknown>>(q: string | Sql, values?: readonly unknown[]): Promise<QueryResult<R>> {
    return run<R>(this.conn, q, values);
  }
  async sql<R = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    return (await this.query<R>(new Sql(strings, values))).rows;
  }
  /** A script of several statements, one at a time (split outside quotes and comments: statements.ts). */
  async exec(text: string): Promise<void> {
    for (const { text: stmt } of splitStatements(text, 'mysql')) {
      try {
        await this.conn.query(stmt);
      } catch (err) {
        throw wrapError(err);
      }
    }
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const conn = this.conn;
    if (this.depth === 0) return inTransaction(conn, () => fn(new MysqlSession(conn, 1, this.returning)), {});
    return savepoint((s) => conn.query(s), `covet_sp_${this.depth}_${this.#savepoints++}`, () => fn(new MysqlSession(conn, this.depth + 1, this.returning)));
  }
}

async function inTransaction<T>(conn: Mysql2Conn, fn: () => Promise<T>, options: TransactionOptions): Promise<T> {
  if (options.isolation !== undefined) await conn.query(`set transaction isolation level ${options.isolation}`);
  await conn.query(options.readOnly === true ? 'start transaction read only' : 'start transaction');
  try {
    const out = await fn();
    await conn.query('commit');
    return out;
  } catch (err) {
    try {
      await conn.query('rollback');
    } catch {
      // the connection is gone; the server rolled back
    }
    throw wrapError(err);
  }
}

export interface MysqlOptions {
  /** Connections in the pool. Default 10. */
  max?: number;
  /** Longest wait for a pooled connection (then a `PoolTimeoutError`, answered 503). Default 2000 ms. */
  acquireTimeoutMs?: number;
  /** Most callers waiting for a connection; one more fails at once (`POOL_BUSY`). Default 16 per connection. */
  maxWaiting?: number;
}

/**
 * TLS from URL parameters, named as libpq names them: `sslmode=require` (encrypted, the certificate not
 * checked), `sslmode=verify-full` or `ssl=true` (the certificate checked against the system's CAs, or
 * `sslrootcert=/path/ca.pem`, and the host name against it); none: plain TCP.
 */
function tlsOptions(host: string, q: URLSearchParams): { ssl?: { rejectUnauthorized: boolean; verifyIdentity: boolean; ca?: Buffer } } {
  const mode = q.get('sslmode') ?? (q.get('ssl') === 'true' ? 'verify-full' : null);
  if (mode === null || mode === 'disable') return {};
  if (mode !== 'require' && mode !== 'verify-full') throw new Error(`sslmode=${mode}: use require or verify-full (or disable)`);
  // mysql2 checks a certificate against a host name only; for an address it would check "localhost".
  if (mode === 'verify-full' && isIP(host.replace(/^\[|\]$/g, '')) !== 0) throw new Error(`sslmode=verify-full checks the server's name: connect to the name its certificate carries, not the address ${host}`);
  const ca = q.get('sslrootcert');
  // mysql2 checks the host name only when asked (verifyIdentity).
  return { ssl: { rejectUnauthorized: mode === 'verify-full', verifyIdentity: mode === 'verify-full', ...(ca === null ? {} : { ca: readFileSync(ca) }) } };
}

/**
 * A MySQL or MariaDB database (see the module comment). Made by `openDatabase` for `mysql:` URLs.
 *
 * @example
 * ```ts
 * const db = openDatabase({ url: 'mysql://root@127.0.0.1/app' });
 * if (db.kind === 'mysql') await db.query('set session sql_mode = ?', ['STRICT_ALL_TABLES']);
 * ```
 */
export class MysqlDb implements Queryable {
  readonly kind = 'mysql' as const;
  readonly dialect = 'mysql' as const;
  readonly #pool: Mysql2Pool;
  readonly #max: number;
  #returning: Promise<boolean> | null = null;

  /**
   * Whether the server has INSERT and DELETE ... RETURNING: MariaDB 10.5 and later do, MySQL does not
   * (the ORM then reads written rows back in the same transaction). Asked of the server once; the URL
   * parameter `returning=false` forces the MySQL way (`true`, the MariaDB way).
   */
  readonly returning = (): Promise<boolean> =>
    (this.#returning ??= (async () => {
      const forced = this.#forceReturning;
      if (forced !== null) return forced;
      const [row] = await this.sql<{ v: string }>`select version() as v`;
      const m = /^(\d+)\.(\d+)/.exec(row?.v ?? '');
      return /mariadb/i.test(row?.v ?? '') && m !== null && (Number(m[1]) > 10 || (Number(m[1]) === 10 && Number(m[2]) >= 5));
    })());
  readonly #forceReturning: boolean | null;

  /** The pool's connections now (mysql2's pool counts: open, idle, queued callers). */
  poolStats(): PoolStats {
    const core = (this.#pool as unknown as { pool?: { _allConnections?: { length: number }; _freeConnections?: { length: number }; _connectionQueue?: { length: number } } }).pool;
    const open = core?._allConnections?.length ?? 0;
    return { open, busy: open - (core?._freeConnections?.length ?? 0), waiting: core?._connectionQueue?.length ?? 0, max: this.#max };
  }

  readonly #acquireMs: number;
  readonly #maxWaiting: number;
  #waiting = 0;
  /** Every connection has been open and busy at once: from then on, waiting is bounded by count too. */
  #warm = false;

  constructor(url: string, options: MysqlOptions = {}) {
    this.#max = options.max ?? 10;
    this.#acquireMs = options.acquireTimeoutMs ?? 2000;
    this.#maxWaiting = options.maxWaiting ?? this.#max * 16;
    const u = new URL(url);
    const r = u.searchParams.get('returning');
    this.#forceReturning = r === 'false' ? false : r === 'true' ? true : null;
    this.#pool = loadMysql2().createPool({
      uri: `mysql://${u.host}${u.pathname}`,
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      connectionLimit: options.max ?? 10,
      timezone: 'Z',
      dateStrings: false,
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4',
      ...tlsOptions(u.hostname, u.searchParams),
    });
    // Every session: identifiers in double quotes (the ORM's SQL), strict values, UTC.
    this.#pool.on('connection', (conn) => void conn.query("set session sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO', time_zone = '+00:00'"));
  }

  /** A pooled connection within the wait allowed (overload is a PoolTimeoutError: 503, never a queue without end). */
  #acquire(waitMs = this.#acquireMs): Promise<Mysql2Conn & { release(): void }> {
    // Counted here: mysql2 keeps a caller that gave up in its queue until a connection comes.
    // Not before every connection has been opened and handed out once (a burst on a cold pool waits for them).
    if (this.#waiting >= this.#maxWaiting && this.#warm) return Promise.reject(new PoolTimeoutError(this.#acquireMs, this.#max, this.#waiting, true));
    const got = this.#pool.getConnection();
    this.#waiting++;
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        this.#waiting--;
        reject(new PoolTimeoutError(waitMs, this.#max, this.#waiting));
      }, waitMs);
      got.then(
        (conn) => {
          clearTimeout(timer);
          if (late) return void conn.release(); // its caller gave up
          this.#waiting--;
          if (!this.#warm && this.poolStats().busy >= this.#max) this.#warm = true;
          resolve(conn);
        },
        (err: unknown) => {
          clearTimeout(timer);
          if (late) return;
          this.#waiting--;
          reject(err);
        },
      );
    });
  }

  async #with<T>(fn: (conn: Mysql2Conn) => Promise<T>, waitMs?: number): Promise<T> {
    const conn = await this.#acquire(waitMs);
    try {
      return await fn(conn);
    } finally {
      conn.release();
    }
  }

  query<R = Record<string, unknown>>(q: string | Sql, values?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    return this.#with((conn) => run<R>(conn, q, values), options?.acquireTimeoutMs);
  }

  async sql<R = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    return (await this.query<R>(new Sql(strings, values))).rows;
  }

  exec(text: string): Promise<void> {
    return this.#with((conn) => new MysqlSession(conn, 0, this.returning).exec(text), BACKGROUND_WAIT_MS);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#with((conn) => inTransaction(conn, () => fn(new MysqlSession(conn, 1, this.returning)), options), options.acquireTimeoutMs);
      } catch (err) {
        if (!(err instanceof MysqlError && err.retryable) || attempt >= (options.retries ?? 0)) throw err;
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
      }
    }
  }

  /** Runs `fn` on one connection holding a named server lock (GET_LOCK): the migrator's lock. */
  withLock<T>(fn: (session: Queryable & { exec(text: string): Promise<void> }) => Promise<T>): Promise<T> {
    return this.#with(async (conn) => {
      const [rows] = (await conn.query("select get_lock('covet_migrations', 60) as ok")) as [Array<{ ok: number }>, unknown];
      if (rows[0]?.ok !== 1) throw new Error('could not take the migration lock within 60 s (another instance is migrating?)');
      try {
        return await fn(new MysqlSession(conn, 0, this.returning));
      } finally {
        await conn.query("select release_lock('covet_migrations')");
      }
    });
  }

  async ping(_timeoutMs?: number): Promise<void> {
    await this.query('select 1');
  }

  #closed = false;

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.#pool.end();
  }
}
