/**
 * One answer for a database error a client's data caused, the same on PostgreSQL, PGlite, SQLite and
 * MySQL/MariaDB: a duplicate is 409 naming the field(s) of the violated constraint, other data errors
 * are 422 naming the field where the database says it; never a value, never the database's own text
 * (which echoes values — `Duplicate entry 'cy@example.com'` is account enumeration). The raw error stays
 * on the error object, for the log. Each driver's error class reads its server's fields into a
 * {@link Violation}; the app answers `toProblem()` of any error that has one.
 */

export type ViolationKind = 'unique' | 'not-null' | 'foreign-key' | 'check' | 'out-of-range' | 'too-long' | 'bad-text' | 'bad-value';

/** What a client's data broke, and where. */
export interface Violation {
  kind: ViolationKind;
  /** Column names the database named (none when it named none). */
  fields: string[];
}

/** What the app sends for an error: status, problem fields (RFC 9457), headers. */
export interface ErrorProblem {
  status: number;
  fields: { title?: string; detail?: string; [extension: string]: unknown };
  headers?: Record<string, string>;
}

const DETAIL: Record<ViolationKind, (f: string) => string> = {
  unique: (f) => (f === '' ? 'a record with these values already exists' : `a record with this ${f} already exists`),
  'not-null': (f) => (f === '' ? 'a required value is missing' : `${f} is required`),
  'foreign-key': (f) => (f === '' ? 'a value refers to a record that does not exist (or is still referred to)' : `${f} refers to a record that does not exist (or is still referred to)`),
  check: (f) => (f === '' ? "a value breaks one of the table's rules" : `${f} breaks one of the table's rules`),
  'out-of-range': (f) => (f === '' ? 'a number is out of range for its field' : `${f} is out of range`),
  'too-long': (f) => (f === '' ? 'a value is too long for its field' : `${f} is too long`),
  'bad-text': (f) => (f === '' ? 'a text value has a NUL character or is not valid UTF-8' : `${f} has a NUL character or is not valid UTF-8`),
  'bad-value': (f) => (f === '' ? 'a value does not have the type its field needs' : `${f} does not have the type it needs`),
};

/** The answer for a violation: 409 for a duplicate, 422 for the rest. */
export function violationProblem(v: Violation): ErrorProblem {
  const status = v.kind === 'unique' ? 409 : 422;
  return { status, fields: { title: status === 409 ? 'Conflict' : 'Unprocessable Content', detail: DETAIL[v.kind](v.fields.join(', ')), fields: v.fields } };
}

/**
 * The answer for a database too busy to do the work in time — a lock not had within its wait, a deadlock or
 * a serialization conflict still there after the retries allowed, no connection slot left on the server:
 * overload, so 503 with Retry-After, never a 500, and none of the database's words.
 */
export function busyProblem(): ErrorProblem {
  return { status: 503, fields: { title: 'Service Unavailable', detail: 'the database is busy; try again shortly' }, headers: { 'retry-after': '1' } };
}

/** Splits `a, b` (as PostgreSQL and SQLite list columns) into names, without quotes or table prefixes. */
export function columnList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim().replace(/^.*\./, '').replace(/^["`']|["`']$/g, ''))
    .filter((x) => x !== '');
}
