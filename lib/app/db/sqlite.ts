/**
 * SQLite behind the same `Queryable` as PostgreSQL: `createDb({ url: 'sqlite:///path/app.db' })` (or
 * `sqlite::memory:`). Node's own `node:sqlite` where the Node line has it (22.13+), else `better-sqlite3`
 * (an optional peer: `npm install better-sqlite3`).
 *
 * - One connection, used by one statement or transaction at a time: queries issued while a transaction
 *   runs wait for it (they would otherwise land inside it). Writers begin with `BEGIN IMMEDIATE`, so two
 *   connections on one file (other processes, or a second `SqliteDb` in this one) queue on the lock
 *   instead of failing halfway. The wait never blocks the event loop: SQLite's own busy handler sleeps in
 *   the engine call, which would freeze the process — and, when the holder is another connection of this
 *   process, keep it from ever committing. So the engine is told not to wait, and a `BEGIN` or a statement
 *   outside a transaction that finds the lock taken is tried again after a growing pause (1 ms, doubling
 *   to 32 ms), until `busyTimeoutMs` (default 5 s). A script given to `exec()` outside a transaction waits
 *   in the engine (a script half run cannot be tried again).
 * - Files run in WAL mode; foreign keys are enforced; LIKE is case-sensitive (as on PostgreSQL).
 * - Statements are prepared once and cached (LRU, 256 per database); `$1` placeholders work as on
 *   PostgreSQL (node:sqlite binds them as `?1`, better-sqlite3 as `@p1`).
 * - Values: a `Date` is stored as ISO-8601 text, a boolean as 0/1, an object as JSON text, a bigint as an
 *   integer. Rows come back as SQLite stores them (an integer beyond 2^53 as a bigint, exact); the ORM
 *   converts them to the column types declared
 *   (see `orm/dialect.ts`). Errors carry the `status` to answer (unique → 409; foreign key, not-null,
 *   check → 422) and `SqliteError.busy` for a lock timeout.
 *
 * @example
 * ```ts
 * const db = createDb({ url: 'sqlite::memory:' });
 * await db.exec('create table notes (id integer primary key, title text not null)');
 * const [note] = await db.sql`insert into notes (title) values (${'hi'}) returning *`;
 * ```
 */
import { createRequire } from 'node:module';
import { Sql } from './sql.js';
import { observeQuery, queriesObserved } from '../../trace/channels.js';
import { savepoint } from './savepoint.js';
import { busyProblem, columnList, violationProblem, type ErrorProblem, type Violation } from './problem.js';
import type { QueryOptions, QueryResult } from './connection.js';
import type { PoolStats } from './pool.js';
import { PoolTimeoutError } from './errors.js';
import type { Queryable, TransactionOptions } from './db.js';

export interface SqliteOptions {
  /**
   * How long a write waits for another connection's lock before `SqliteError` (busy). The wait does not
   * block the event loop (see the module comment). Default 5000 ms.
   */
  busyTimeoutMs?: number;
  /** Prepared statements kept. Default 256. */
  statementCacheSize?: number;
  /** Longest wait behind the running transaction (then a `PoolTimeoutError`, answered 503). Default 2000 ms. */
  acquireTimeoutMs?: number;
  /** Most callers waiting behind it; one more fails at once (`POOL_BUSY`). Default 1024 (one in-process connection: bursts queue briefly). */
  maxWaiting?: number;
}

/**
 * An error from SQLite, with the answer it calls for.
 *
 * @example
 * ```ts
 * try {
 *   await db.sql`insert into users (email) values (${email})`;
 * } catch (err) {
 *   if (err instanceof SqliteError && err.status === 409) throw new HttpError(409, 'that email is taken');
 *   throw err;
 * }
 * ```
 */
export class SqliteError extends Error {
  override readonly name = 'SqliteError';
  /** SQLite's extended result code name, e.g. `SQLITE_CONSTRAINT_UNIQUE`. */
  readonly code: string;
  /**
   * The HTTP status to answer: 409 (unique) or 422 (other constraints) for what a client's data caused,
   * 503 when another connection kept the database locked past the busy timeout (overload), else 500.
   */
  readonly status: number;
  /** The database stayed locked by another connection beyond the busy timeout. */
  readonly busy: boolean;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
    this.busy = /BUSY|LOCKED/.test(code);
    this.status = /UNIQUE|PRIMARYKEY/.test(code) ? 409 : /CONSTRAINT|MISMATCH|TOOBIG|RANGE/.test(code) ? 422 : this.busy ? 503 : 500;
  }

  /** What the client's data broke (see `problem.ts`), read from SQLite's message; undefined for other errors. */
  get violation(): Violation | undefined {
    const after = (): string[] => columnList(/constraint failed: (.*)$/i.exec(this.message)?.[1] ?? '');
    const c = this.code;
    if (/UNIQUE|PRIMARYKEY/.test(c)) return { kind: 'unique', fields: after() };
    if (/NOTNULL/.test(c)) return { kind: 'not-null', fields: after() };
    if (/FOREIGNKEY/.test(c)) return { kind: 'foreign-key', fields: [] };
    if (/CHECK/.test(c)) return { kind: 'check', fields: [] };
    if (/TOOBIG/.test(c)) return { kind: 'too-long', fields: [] };
    if (/CONSTRAINT|MISMATCH|RANGE/.test(c)) return { kind: 'bad-value', fields: [] };
    return undefined;
  }

  /**
   * The answer the app sends for a client's data error, or 503 with Retry-After for a lock held past the
   * busy timeout (no server text in either); undefined for other errors (a 500).
   */
  toProblem(): ErrorProblem | undefined {
    if (this.busy) return busyProblem();
    const v = this.violation;
    return v === undefined ? undefined : violationProblem(v);
  }
}

/** What we use of a prepared statement (node:sqlite's StatementSync and better-sqlite3's Statement alike). */
interface Stmt {
  all(...values: unknown[]): unknown[];
  run(...values: unknown[]): { changes: number | bigint };
  columnCount: () => number;
}
interface Engine {
  prepare(text: string): Stmt;
  exec(text: string): void;
  close(): void;
}

const require = createRequire(import.meta.url);

/** Opens `path` (or ':memory:') with node:sqlite, else better-sqlite3. */
interface NodeSqlite {
  DatabaseSync: new (p: string) => { prepare(t: string): { all(...v: unknown[]): unknown[]; run(...v: unknown[]): { changes: number | bigint }; columns(): unknown[]; setReadBigInts(on: boolean): void }; exec(t: string): void; close(): void };
}

function nodeSqlite(): NodeSqlite | null {
  try {
    return require('node:sqlite') as NodeSqlite;
  } catch {
    return null;
  }
}

function openEngine(path: string): Engine {
  const mod = nodeSqlite();
  if (mod !== null) {
    const db = new mod.DatabaseSync(path);
    return {
      prepare(text) {
        // `$1` → `?1`: SQLite's numbered parameters, bound by position.
        const s = db.prepare(text.replace(/\$(\d+)/g, '?$1'));
        s.setReadBigInts(true); // exact; made numbers again where they fit (see exactIntegers)
        return { all: (...v) => s.all(...v), run: (...v) => s.run(...v), columnCount: () => s.columns().length };
      },
      exec: (t) => db.exec(t),
      close: () => db.close(),
    };
  }
  let Better: new (p: string) => { prepare(t: string): { reader: boolean; safeIntegers(on: boolean): void; all(...v: unknown[]): unknown[]; run(...v: unknown[]): { changes: number } }; exec(t: string): void; close(): void };
  try {
    Better = require('better-sqlite3') as typeof Better;
  } catch {
    throw new Error(`SQLite on Node ${process.versions.node} needs the package "better-sqlite3" (node:sqlite comes with Node 22.13+): run \`npm install better-sqlite3\``);
  }
  const db = new Better(path);
  // better-sqlite3 binds `?n` by count, not by number: `$1` → `@p1`, bound by name (a number may repeat).
  const named = (v: unknown[]): Record<string, unknown> => Object.fromEntries(v.map((x, i) => [`p${i + 1}`, x]));
  return {
    prepare(text) {
      const s = db.prepare(text.replace(/\$(\d+)/g, '@p$1'));
      if (s.reader) s.safeIntegers(true);
      const bind = /@p\d/.test(text.replace(/\$(\d+)/g, '@p$1'));
      return { all: (...v) => (bind ? s.all(named(v)) : s.all()), run: (...v) => (bind ? s.run(named(v)) : s.run()), columnCount: () => (s.reader ? 1 : 0) };
    },
    exec: (t) => db.exec(t),
    close: () => db.close(),
  };
}

/** A JS value as SQLite takes it. */
function encode(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Uint8Array)) return JSON.stringify(v);
  return v;
}

function wrapError(err: unknown): unknown {
  const e = err as { code?: string; errstr?: string; message?: string; errcode?: number };
  if (e?.code === 'ERR_SQLITE_ERROR' || (typeof e?.code === 'string' && e.code.startsWith('SQLITE_'))) {
    const code = e.code.startsWith('SQLITE_') ? e.code : sqliteCodeName(e.errcode ?? 0, e.message ?? '');
    return new SqliteError(e.message ?? 'SQLite error', code);
  }
  return err;
}

/** node:sqlite gives the numeric extended code; the name is what the error's meaning hangs on. */
function sqliteCodeName(errcode: number, message: string): string {
  const names: Record<number, string> = { 5: 'SQLITE_BUSY', 6: 'SQLITE_LOCKED', 18: 'SQLITE_TOOBIG', 19: 'SQLITE_CONSTRAINT', 20: 'SQLITE_MISMATCH', 25: 'SQLITE_RANGE', 275: 'SQLITE_CONSTRAINT_CHECK', 787: 'SQLITE_CONSTRAINT_FOREIGNKEY', 1299: 'SQLITE_CONSTRAINT_NOTNULL', 1555: 'SQLITE_CONSTRAINT_PRIMARYKEY', 2067: 'SQLITE_CONSTRAINT_UNIQUE', 517: 'SQLITE_BUSY_SNAPSHOT' };
  return names[errcode] ?? names[errcode & 0xff] ?? (/constraint/i.test(message) ? 'SQLITE_CONSTRAINT' : `SQLITE_ERROR_${errcode}`);
}

/**
 * Integers are read as bigints (SQLite's are 64-bit) and turned back into numbers where that is exact:
 * beyond 2^53 a value stays a bigint rather than silently losing digits (a `bigint()` column gets its
 * exact string).
 */
function exactIntegers(rows: Record<string, unknown>[]): void {
  for (const r of rows) {
    for (const k in r) {
      const v = r[k];
      if (typeof v === 'bigint' && v >= -9007199254740991n && v <= 9007199254740991n) r[k] = Number(v);
    }
  }
}

/** Runs statements on the engine; `SqliteDb` and its transactions share one. */
class Session implements Queryable {
  readonly dialect = 'sqlite' as const;
  readonly #core: SqliteCore;
  readonly #depth: number;
  #savepoints = 0;
  constructor(core: SqliteCore, depth: number) {
    this.#core = core;
    this.#depth = depth;
  }
  query<R = Record<string, unknown>>(q: string | Sql, values?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.#core.run<R>(q, values);
  }
  async sql<R = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    return (await this.#core.run<R>(new Sql(strings, values))).rows;
  }
  async exec(text: string): Promise<void> {
    this.#core.exec(text);
  }
  /** Nested: a savepoint. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const core = this.#core;
    return savepoint((s) => core.exec(s), `covet_sp_${this.#depth}_${this.#savepoints++}`, () => fn(new Session(core, this.#depth + 1)));
  }
}

class SqliteCore {
  readonly engine: Engine;
  readonly #cache = new Map<string, Stmt>();
  readonly #max: number;
  constructor(engine: Engine, max: number) {
    this.engine = engine;
    this.#max = max;
  }
  #prepare(text: string): Stmt {
    let s = this.#cache.get(text);
    if (s !== undefined) {
      this.#cache.delete(text); // LRU: most recent last
      this.#cache.set(text, s);
      return s;
    }
    s = this.engine.prepare(text);
    this.#cache.set(text, s);
    if (this.#cache.size > this.#max) this.#cache.delete(this.#cache.keys().next().value!);
    return s;
  }
  async run<R>(q: string | Sql, values?: readonly unknown[]): Promise<QueryResult<R>> {
    const c = q instanceof Sql ? q.compile() : { text: q, values: values ?? [] };
    if (queriesObserved()) return observeQuery('sqlite', c.text, async () => this.#run<R>(c));
    return this.#run<R>(c);
  }

  #run<R>(c: { text: string; values: readonly unknown[] }): QueryResult<R> {
    try {
      const stmt = this.#prepare(c.text); // `$n` placeholders: the engine writes them its way
      const args = c.values.map(encode);
      if (stmt.columnCount() > 0) {
        const rows = stmt.all(...args) as Record<string, unknown>[];
        exactIntegers(rows);
        return { rows: rows as R[], rowCount: rows.length, command: 'SELECT', fields: [] };
      }
      const r = stmt.run(...args);
      return { rows: [], rowCount: Number(r.changes), command: '', fields: [] };
    } catch (err) {
      throw wrapError(err);
    }
  }
  exec(text: string): void {
    try {
      this.engine.exec(text);
    } catch (err) {
      throw wrapError(err);
    }
  }
  close(): void {
    this.#cache.clear();
    this.engine.close();
  }
}

/**
 * An SQLite database (see the module comment). Made by `createDb` for `sqlite:` URLs.
 *
 * @example
 * ```ts
 * const db = openDatabase({ url: 'sqlite:///var/data/app.db' });
 * await db.exec('create table if not exists notes (id integer primary key, body text not null)');
 * const rows = await db.sql`select * from notes`;
 * ```
 */
export class SqliteDb implements Queryable {
  readonly kind = 'sqlite' as const;
  readonly dialect = 'sqlite' as const;
  readonly path: string;
  readonly #core: SqliteCore;
  readonly #top: Session;
  /** The transaction running now; other work waits behind it. */
  #busy: Promise<unknown> = Promise.resolve();
  #closed = false;

  readonly #acquireMs: number;
  readonly #maxWaiting: number;
  readonly #busyMs: number;

  constructor(path: string, options: SqliteOptions = {}) {
    this.path = path;
    this.#acquireMs = options.acquireTimeoutMs ?? 2000;
    this.#maxWaiting = options.maxWaiting ?? 1024;
    this.#busyMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
    const engine = openEngine(path);
    this.#core = new SqliteCore(engine, options.statementCacheSize ?? 256);
    this.#top = new Session(this.#core, 0);
    engine.exec('pragma busy_timeout = 0'); // waits are ours, asynchronous (#whenFree)
    engine.exec('pragma foreign_keys = on');
    engine.exec('pragma case_sensitive_like = on');
    if (path !== ':memory:' && path !== '') engine.exec('pragma journal_mode = wal');
  }

  /**
   * Runs after whatever transaction is in progress (a query must not land inside someone else's). The
   * wait is bounded like a pool's: past `maxWaiting` callers, or `waitMs`, a `PoolTimeoutError` (503).
   */
  #serial<T>(fn: () => Promise<T>, waitMs = this.#acquireMs): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('the database is closed'));
    if (this.#pending > 0 && this.#pending - 1 >= this.#maxWaiting) return Promise.reject(new PoolTimeoutError(this.#acquireMs, 1, this.#pending - 1, true));
    const waits = this.#pending > 0;
    this.#pending++;
    if (!waits) {
      const run = this.#busy.then(fn, fn);
      this.#busy = run.catch(() => {}).finally(() => void this.#pending--);
      return run;
    }
    // Something runs: wait for the turn, at most waitMs (a timer only then, not per query).
    let late = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        this.#pending--; // no longer waiting: its turn will pass at once
        reject(new PoolTimeoutError(waitMs, 1, this.#pending - 1));
      }, waitMs);
    });
    const turn = (): Promise<T> => {
      clearTimeout(timer);
      return late ? Promise.reject(new Error('gave up waiting')) : fn();
    };
    const run = this.#busy.then(turn, turn);
    this.#busy = run.catch(() => {}).finally(() => {
      if (!late) this.#pending--;
    });
    return Promise.race([run, gaveUp]);
  }

  #pending = 0;

  /**
   * Runs `fn`, and again after a growing pause while another connection holds the lock, until the busy
   * timeout: then its `SqliteError` (busy). Only for what SQLite undoes whole when it reports the lock
   * taken — a `BEGIN`, a statement outside a transaction.
   */
  async #whenFree<T>(fn: () => T | Promise<T>): Promise<T> {
    const deadline = performance.now() + this.#busyMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, 32)) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof SqliteError && err.busy) || performance.now() + pause > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /** The one connection: busy while a statement or transaction runs; the rest wait behind it. */
  poolStats(): PoolStats {
    return { open: this.#closed ? 0 : 1, busy: this.#pending > 0 ? 1 : 0, waiting: Math.max(0, this.#pending - 1), max: 1 };
  }

  query<R = Record<string, unknown>>(q: string | Sql, values?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    return this.#serial(() => this.#whenFree(() => this.#top.query<R>(q, values)), options?.acquireTimeoutMs);
  }

  async sql<R = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    return (await this.query<R>(new Sql(strings, values))).rows;
  }

  /** Runs a script of several statements (migrations). It waits for another connection's lock in the engine. */
  exec(text: string): Promise<void> {
    return this.#serial(async () => {
      this.#core.exec(`pragma busy_timeout = ${this.#busyMs}`);
      try {
        await this.#top.exec(text);
      } finally {
        this.#core.exec('pragma busy_timeout = 0');
      }
    }, 30_000);
  }

  /**
   * A transaction: BEGIN IMMEDIATE (the write lock at once, so it cannot fail halfway on another
   * writer), COMMIT, or ROLLBACK on throw. Isolation is always serializable on SQLite.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return this.#serial(async () => {
      const begin = options.readOnly === true ? 'begin deferred' : 'begin immediate';
      await this.#whenFree(() => this.#core.exec(begin));
      try {
        const out = await fn(new Session(this.#core, 1));
        this.#core.exec('commit');
        return out;
      } catch (err) {
        try {
          this.#core.exec('rollback');
        } catch {
          // already rolled back by SQLite (some errors end the transaction)
        }
        throw err;
      }
    }, options.acquireTimeoutMs);
  }

  /** Runs `fn` holding the database's write lock for its whole length (the migrator's lock). */
  withLock<T>(fn: (session: Queryable & { exec(text: string): Promise<void> }) => Promise<T>): Promise<T> {
    return this.transaction((tx) => fn(tx as Session), { acquireTimeoutMs: 30_000 });
  }

  /** A query round trip (the timeout is PostgreSQL's concern: SQLite answers in-process). */
  async ping(_timeoutMs?: number): Promise<void> {
    await this.query('select 1');
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#busy;
    this.#closed = true;
    this.#core.close();
  }
}

/**
 * The path of a `sqlite:` URL: `sqlite:///abs/path.db`, `sqlite:relative.db`, `sqlite::memory:`.
 *
 * @example
 * ```ts
 * sqlitePath('sqlite:///var/data/app.db'); // '/var/data/app.db'
 * sqlitePath('sqlite::memory:');           // ':memory:'
 * ```
 */
export function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length);
  if (rest === ':memory:' || rest === '//:memory:' || rest === '') return ':memory:';
  return rest.startsWith('//') ? rest.slice(2) : rest;
}
