/**
 * ORM errors about what it was asked: a column, relation or operator a table does not have. Such names
 * often come from a request (a JSON body's keys, a sort field), so the error is the client's (422) and
 * the name is shown quoted and cut short — never a 150 KB key in a log line.
 *
 * @example
 * ```ts
 * try {
 *   await orm.notes.findMany({ where: JSON.parse(ctx.query.filter ?? '{}') });
 * } catch (err) {
 *   if (err instanceof OrmError) console.log(err.status, err.message); // 422, 'notes has no column "titel"'
 * }
 * ```
 */
export class OrmError extends Error {
  /** The HTTP status the app answers with. */
  readonly status = 422;
  constructor(message: string) {
    super(message);
    this.name = 'OrmError';
  }
}

/** A name from outside, for a message: JSON-quoted, at most 64 characters of it. */
export function shownName(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
}

/** `notes has no column "titel"`. */
export function unknownName(table: { name: string }, key: string, what = 'column'): OrmError {
  return new OrmError(`${table.name} has no ${what} ${shownName(key)}`);
}
