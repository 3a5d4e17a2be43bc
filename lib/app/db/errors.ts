/** Errors of the PostgreSQL driver. */

/** An ErrorResponse from the server: SQLSTATE in `code`, and every field the server sent. */
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
   * check violations) is 422, a unique violation 409; anything else stays a server error (undefined).
   */
  get status(): number | undefined {
    const c = this.code;
    if (c === '23505') return 409;
    if (c.startsWith('22') || c === '23502' || c === '23503' || c === '23514') return 422;
    return undefined;
  }
}

/** The connection failed or closed; queries in flight on it get this. */
export class ConnectionError extends Error {
  readonly code = 'CONNECTION_CLOSED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** No connection became free within the pool's acquire timeout. */
export class PoolTimeoutError extends Error {
  readonly code = 'POOL_TIMEOUT';
  constructor(ms: number, size: number, waiting: number) {
    super(`no database connection free within ${ms} ms (pool of ${size}, ${waiting} waiting)`);
    this.name = 'PoolTimeoutError';
  }
}
