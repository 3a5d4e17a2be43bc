/**
 * Filters as data: `{ title: { ilike: '%milk%' }, OR: [{ done: true }, { ownerId: { in: [1, 2] } }] }`
 * compiled to SQL where every value is a parameter and every identifier comes from the table
 * declaration (an unknown property is an error, never text in the statement).
 */
import { Sql, sql } from '../db/sql.js';
import { quote, type Row, type Table } from './table.js';
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

// No prototype: an operator named `__proto__` or `constructor` (from a request) is just unknown.
const OPS: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' });

/**
 * Compiles `where` for the table aliased `alias`. `related` handles keys naming relations.
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
    const ref = sql.unsafe(`${alias}.${quote(col)}`);
    if (cond === null) parts.push(sql`${ref} is null`);
    else if (typeof cond !== 'object' || cond instanceof Date || Array.isArray(cond) || Buffer.isBuffer(cond)) parts.push(sql`${ref} = ${cond}`);
    else {
      for (const [op, v] of Object.entries(cond as Record<string, unknown>)) {
        if (v === undefined) continue;
        if (op === 'isNull') parts.push(v === true ? sql`${ref} is null` : sql`${ref} is not null`);
        else if (op === 'in' || op === 'notIn') {
          const neg = op === 'notIn';
          if (v instanceof Sql) parts.push(neg ? sql`${ref} not in (${v})` : sql`${ref} in (${v})`);
          else parts.push(dialect.inList(ref, v as readonly unknown[], neg));
        } else if ((op === 'eq' || op === 'ne') && v === null) parts.push(op === 'eq' ? sql`${ref} is null` : sql`${ref} is not null`);
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
