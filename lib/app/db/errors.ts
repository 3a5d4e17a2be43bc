/** Errors of the PostgreSQL driver. */
import { busyProblem, columnList, violationProblem, type ErrorProblem, type Violation } from './problem.js';

/**
 * An ErrorResponse from the server: SQLSTATE in `code`, and every field the server sent.
 *
 * @example
 * ```ts
 * try {
 *   await db.sql`insert into users (email) values (${email})`;
 * } catch (err) {
 *   if (err instanceof PgError && err.code === '23505') throw new HttpError(409, 'that email is taken');
 *   throw err;
 * }
 * ```
 */
export class PgError extends Error {
  /** SQLSTATE (e.g. `23505` unique_violation, `40001` serialization_failure). */
  readonly code: string;
  readonly severity: string | undefined;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly position: string | undefined;
  readonly where: string | undefined;
  readonly schema: string | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;
  readonly dataType: string | undefined;
  readonly constraint: string | undefined;
  /** The statement that failed. */
  readonly query: string | undefined;

  constructor(fields: Record<string, string | undefined> & { message?: string }, query?: string) {
    super(fields.message ?? 'database error');
    this.name = 'PgError';
    this.code = fields.code ?? 'XX000';
    this.severity = fields.severity;
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.position = fields.position;
    this.where = fields.where;
    this.schema = fields.schema;
    this.table = fields.table;
    this.column = fields.column;
    this.dataType = fields.dataType;
    this.constraint = fields.constraint;
    this.query = query;
  }

  /**
   * The HTTP answer when this error reaches the app unhandled: the data the client sent does not fit
   * (class 22 data exceptions — out of range, bad syntax, NUL in text — and not-null, foreign-key and
   * check violations) is 422, a unique violation 409, a busy database ({@link busy}) 503; anything else
   * stays a server error (undefined).
   */
  get status(): number | undefined {
    if (this.busy) return 503;
    const v = this.violation;
    return v === undefined ? undefined : v.kind === 'unique' ? 409 : 422;
  }

  /**
   * The server was too busy, not wrong: `lock_timeout` passed (55P03), a deadlock (40P01) or a serialization
   * failure (40001) that the transaction's retries did not get past, no connection slot (53300), or a server
   * starting or stopping (57P03). Trying again later may succeed.
   */
  get busy(): boolean {
    return BUSY.has(this.code);
  }

  /** What the client's data broke (see `problem.ts`), read from the server's fields; undefined for other errors. */
  get violation(): Violation | undefined {
    const c = this.code;
    const keyCols = (): string[] => {
      const m = /^Key \((.+?)\)=/.exec(this.detail ?? '');
      return m !== null ? columnList(m[1]!) : this.column !== undefined ? [this.column] : [];
    };
    const col = this.column === undefined ? [] : [this.column];
    if (c === '23505') return { kind: 'unique', fields: keyCols() };
    if (c === '23503') return { kind: 'foreign-key', fields: keyCols() };
    if (c === '23502') return { kind: 'not-null', fields: col };
    if (c === '23514') return { kind: 'check', fields: col };
    if (c === '22003') return { kind: 'out-of-range', fields: col };
    if (c === '22001') return { kind: 'too-long', fields: col };
    if (c === '22021' || c === '22P05' || c === '22P06') return { kind: 'bad-text', fields: col };
    if (c.startsWith('22')) return { kind: 'bad-value', fields: col };
    return undefined;
  }

  /** The answer the app sends for a client's data error, or 503 with Retry-After when busy (no server text in either). */
  toProblem(): ErrorProblem | undefined {
    if (this.busy) return busyProblem();
    const v = this.violation;
    return v === undefined ? undefined : violationProblem(v);
  }
}

/** SQLSTATEs of a server too busy to do the work now (see `PgError.busy`). */
const BUSY = new Set(['55P03', '40P01', '40001', '53300', '57P03']);

/**
 * The connection failed or closed; queries in flight on it get this.
 *
 * @example
 * ```ts
 * try {
 *   await db.query('select 1');
 * } catch (err) {
 *   if (err instanceof ConnectionError) log.warn('database connection lost; the pool will open a new one');
 * }
 * ```
 */
export class ConnectionError extends Error {
  readonly code = 'CONNECTION_CLOSED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/**
 * No connection became free within the wait allowed (`POOL_TIMEOUT`), or so many callers already wait
 * that this one would not be served in time (`POOL_BUSY`): overload, answered 503 with Retry-After.
 *
 * @example
 * ```ts
 * try {
 *   await db.query(report, [], { acquireTimeoutMs: 10_000 });
 * } catch (err) {
 *   if (err instanceof PoolTimeoutError) console.log(err.code, err.retryAfter); // 'POOL_TIMEOUT', seconds
 * }
 * ```
 */
export class PoolTimeoutError extends Error {
  readonly code: 'POOL_TIMEOUT' | 'POOL_BUSY';
  /** Seconds a client should wait before trying again. */
  readonly retryAfter: number;
  constructor(ms: number, size: number, waiting: number, busy = false) {
    super(busy ? `no database connection: ${waiting} callers already waiting (pool of ${size}, at most ${waiting} may wait)` : `no database connection free within ${ms} ms (pool of ${size}, ${waiting} waiting)`);
    this.name = 'PoolTimeoutError';
    this.code = busy ? 'POOL_BUSY' : 'POOL_TIMEOUT';
    this.retryAfter = Math.max(1, Math.ceil(ms / 1000));
  }

  /** 503 with Retry-After: the server is overloaded, not broken. */
  toProblem(): ErrorProblem {
    return { status: 503, fields: { title: 'Service Unavailable', detail: 'the server is busy; try again shortly' }, headers: { 'retry-after': String(this.retryAfter) } };
  }
}
