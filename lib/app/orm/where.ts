/**
 * Filters as data: `{ title: { ilike: '%milk%' }, OR: [{ done: true }, { ownerId: { in: [1, 2] } }] }`
 * compiled to SQL where every value is a parameter and every identifier comes from the table
 * declaration (an unknown property is an error, never text in the statement).
 */
import { Sql, quoteIdent, sql } from '../db/sql.js';
import { type Row, type Table } from './table.js';
import type { Column } from './columns.js';
import { OrmError, shownName, unknownName } from './errors.js';
import { postgres, type Dialect } from './dialect.js';

export interface Comparison<V> {
  eq?: V | null;
  ne?: V | null;
  gt?: V;
  gte?: V;
  lt?: V;
  lte?: V;
  /** Any of the values (`= any($1)`), or the rows of a subquery (`in (select ...)`). */
  in?: readonly V[] | Sql;
  notIn?: readonly V[] | Sql;
  like?: string;
  ilike?: string;
  /** true: IS NULL, false: IS NOT NULL. */
  isNull?: boolean;
}

/** Filters over a table's columns (a bare value means equality; null means IS NULL). */
export type Where<T extends Table> = {
  [K in keyof Row<T>]?: Row<T>[K] | Comparison<NonNullable<Row<T>[K]>>;
} & {
  AND?: readonly Where<T>[];
  OR?: readonly Where<T>[];
  NOT?: Where<T>;
  /** An SQL condition for what the data form cannot say (its values still parameters). */
  sql?: Sql;
};

/** A relation filter (semi-join) is compiled by the repository, which knows the relations. */
export type RelationFilter = (alias: string) => Sql;

/** Integer column types and their ranges (values past them can equal no row). */
const INT_RANGE: Record<string, readonly [bigint, bigint]> = {
  smallint: [-32768n, 32767n],
  smallserial: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  serial: [-2147483648n, 2147483647n],
  bigint: [-9223372036854775808n, 9223372036854775807n],
  bigserial: [-9223372036854775808n, 9223372036854775807n],
};

/** Whether `v` is a whole number (number, bigint or integer text) outside `range`. */
function outOfRange(v: unknown, range: readonly [bigint, bigint]): boolean {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (Number.isInteger(v)) n = BigInt(v as number);
  else if (typeof v === 'string' && /^-?\d{1,40}$/.test(v)) n = BigInt(v);
  else return false;
  return n < range[0] || n > range[1];
}

/** Whether `v` is a whole number beyond the range of column `key`'s integer type (then it equals no row). */
export function beyondColumn(t: Table, key: string, v: unknown): boolean {
  const c = (t.columns as Record<string, Column<unknown> | undefined>)[key];
  const range = c === undefined ? undefined : INT_RANGE[c.spec.sqlType];
  return range !== undefined && outOfRange(v, range);
}

// No prototype: an operator named `__proto__` or `constructor` (from a request) is just unknown.
const OPS: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' });

/**
 * Compiles `where` for the table aliased `alias`. `related` handles keys naming relations.
 *
 * @example
 * ```ts
 * const where = compileWhere(notes, 'n', { title: { like: 'a%' } });
 * sql`select * from notes n where ${where}`.compile(); // { text: 'select * from notes n where n."title" like $1', values: ['a%'] }
 * ```
 */
export function compileWhere(t: Table, alias: string, where: Record<string, unknown> | undefined, related?: (key: string, filter: unknown) => Sql | undefined, dialect: Dialect = postgres): Sql {
  if (where === undefined) return sql`true`;
  const parts: Sql[] = [];
  for (const [key, cond] of Object.entries(where)) {
    if (cond === undefined) continue;
    if (key === 'AND' || key === 'OR') {
      const list = (cond as Record<string, unknown>[]).map((w) => compileWhere(t, alias, w, related, dialect));
      parts.push(list.length === 0 ? (key === 'AND' ? sql`true` : sql`false`) : sql`(${sql.join(list, key === 'AND' ? ' and ' : ' or ')})`);
      continue;
    }
    if (key === 'NOT') {
      parts.push(sql`not (${compileWhere(t, alias, cond as Record<string, unknown>, related, dialect)})`);
      continue;
    }
    if (key === 'sql') {
      parts.push(sql`(${cond as Sql})`);
      continue;
    }
    const col = t.sqlNames[key];
    if (col === undefined) {
      const r = related?.(key, cond);
      if (r === undefined) throw unknownName(t, key, 'column or relation');
      parts.push(r);
      continue;
    }
    const ref = sql.unsafe(`${alias}.${quoteIdent(col)}`);
    const range = INT_RANGE[(t.columns as Record<string, Column<unknown>>)[key]!.spec.sqlType];
    if (cond === null) parts.push(sql`${ref} is null`);
    // A whole number beyond an integer column's type equals no row (the database would refuse it as a
    // data error: `/notes/2147483648` would be a 422 where any other absent id is a 404).
    else if (range !== undefined && outOfRange(cond, range)) parts.push(sql`1 = 0`);
    else if (typeof cond !== 'object' || cond instanceof Date || Array.isArray(cond) || Buffer.isBuffer(cond)) parts.push(sql`${ref} = ${cond}`);
    else {
      for (const [op, v] of Object.entries(cond as Record<string, unknown>)) {
        if (v === undefined) continue;
        if (op === 'isNull') parts.push(v === true ? sql`${ref} is null` : sql`${ref} is not null`);
        else if (op === 'in' || op === 'notIn') {
          const neg = op === 'notIn';
          if (v instanceof Sql) parts.push(neg ? sql`${ref} not in (${v})` : sql`${ref} in (${v})`);
          else parts.push(dialect.inList(ref, range === undefined ? (v as readonly unknown[]) : (v as readonly unknown[]).filter((x) => !outOfRange(x, range)), neg));
        } else if ((op === 'eq' || op === 'ne') && v === null) parts.push(op === 'eq' ? sql`${ref} is null` : sql`${ref} is not null`);
        else if ((op === 'eq' || op === 'ne') && range !== undefined && outOfRange(v, range)) parts.push(op === 'eq' ? sql`1 = 0` : sql`${ref} is not null`);
        else if (op === 'like' || op === 'ilike') parts.push(dialect.like(ref, v, op === 'ilike'));
        else {
          const o = OPS[op];
          if (o === undefined) throw new OrmError(`unknown operator ${shownName(op)} on ${t.name}.${key}`);
          parts.push(sql`${ref} ${sql.unsafe(o)} ${v}`);
        }
      }
    }
  }
  return parts.length === 0 ? sql`true` : sql.join(parts, ' and ');
}

/** Escapes `%`, `_` and `\` so a user's text matches literally inside a LIKE pattern: `{ like: `%${escapeLike(q)}%` }`. */
export const escapeLike = (s: string): string => s.replace(/[\\%_]/g, '\\$&');
