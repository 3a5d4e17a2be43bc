/**
 * What differs between the databases the ORM writes SQL for, in one place per dialect: list membership,
 * pattern matching, counts, the DDL types and defaults, and how stored values come back as the declared
 * column types. Everything else (identifiers in double quotes, `$n` parameters, RETURNING, ON CONFLICT,
 * LIMIT/OFFSET, savepoints) is the same SQL on PostgreSQL and SQLite; the driver turns `$n` into what it
 * takes.
 */
import { sql, type Sql } from '../db/sql.js';
import type { ColumnSpec } from './columns.js';
import type { Table } from './table.js';

export type DialectName = 'postgres' | 'sqlite';

export interface Dialect {
  readonly name: DialectName;
  /** `count(*)` as a JS number. */
  readonly count: string;
  /** `ref = any(values)` / `ref in (...)`; an empty list matches nothing. */
  inList(ref: Sql, values: readonly unknown[], negate: boolean): Sql;
  /** LIKE (case-sensitive) and ILIKE (case-insensitive), backslash the escape character (see escapeLike). */
  like(ref: Sql, pattern: unknown, caseInsensitive: boolean): Sql;
  /** `DEFAULT` is allowed in a VALUES list (else rows missing a key are inserted apart). */
  readonly defaultInValues: boolean;
  /** Foreign keys can be added to an existing table (else a reference cycle needs none: SQLite checks on use). */
  readonly alterAddForeignKey: boolean;
  /** The column's type in DDL. */
  columnType(spec: ColumnSpec): string;
  /** A default given as an SQL expression (`now()`), in this dialect. */
  defaultExpression(expr: string): string;
  /** Converts stored values to the declared types, in place (null when the driver already does). */
  readonly decode: ((t: Table, rows: Record<string, unknown>[]) => void) | null;
}

export const postgres: Dialect = {
  name: 'postgres',
  count: 'count(*)::int',
  inList: (ref, values, negate) => (negate ? sql`not (${ref} = any(${values}))` : sql`${ref} = any(${values})`),
  like: (ref, p, ci) => (ci ? sql`${ref} ilike ${p}` : sql`${ref} like ${p}`),
  defaultInValues: true,
  alterAddForeignKey: true,
  columnType: (spec) => spec.sqlType,
  defaultExpression: (expr) => expr,
  decode: null,
};

/** SQLite keeps values by their storage class; these are the declared types' round trips. */
const SQLITE_TYPES: Array<[RegExp, string]> = [
  [/^(big)?serial$/, 'integer'],
  [/^(smallint|integer|bigint)$/, 'integer'],
  [/^boolean$/, 'integer'],
  [/^(double precision|real)$/, 'real'],
  [/^numeric/, 'text'], // exact decimals stay text (a NUMERIC affinity would round them through REAL)
  [/^(timestamptz|timestamp|date|uuid|text|jsonb)$/, 'text'],
  [/\[\]$/, 'text'], // arrays as JSON text
  [/^bytea$/, 'blob'],
];

const UUID_V4 =
  "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))";

/** A decoder per column type, compiled once per table. */
const decoders = new WeakMap<Table, Array<[string, (v: unknown) => unknown]>>();
function sqliteDecoders(t: Table): Array<[string, (v: unknown) => unknown]> {
  let d = decoders.get(t);
  if (d !== undefined) return d;
  d = [];
  for (const [k, col] of Object.entries(t.columns)) {
    const type = col.spec.sqlType.toLowerCase();
    if (type === 'boolean') d.push([k, (v) => (v === null ? null : v === 1 || v === 1n || v === true)]);
    else if (type === 'timestamptz' || type === 'timestamp') d.push([k, (v) => (v === null ? null : new Date(typeof v === 'number' ? v : String(v)))]);
    else if (type === 'jsonb' || type.endsWith('[]')) d.push([k, (v) => (typeof v === 'string' ? (JSON.parse(v) as unknown) : v)]);
    else if (type === 'bigint' || type === 'bigserial' || type.startsWith('numeric')) d.push([k, (v) => (v === null ? null : String(v))]);
    else if (type === 'bytea') d.push([k, (v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v)]);
  }
  decoders.set(t, d);
  return d;
}

export const sqlite: Dialect = {
  name: 'sqlite',
  count: 'count(*)',
  // One placeholder per value (SQLite has no arrays); the statement text varies with the list length.
  inList: (ref, values, negate) => (values.length === 0 ? (negate ? sql`true` : sql`false`) : negate ? sql`${ref} not in (${sql.join(values)})` : sql`${ref} in (${sql.join(values)})`),
  like: (ref, p, ci) => (ci ? sql`lower(${ref}) like lower(${p}) escape '\\'` : sql`${ref} like ${p} escape '\\'`),
  defaultInValues: false,
  alterAddForeignKey: false,
  columnType(spec) {
    const t = spec.sqlType.toLowerCase();
    for (const [re, out] of SQLITE_TYPES) if (re.test(t)) return out;
    return spec.sqlType; // varchar(n) and the like: SQLite's affinity rules read them
  },
  defaultExpression(expr) {
    const e = expr.trim().toLowerCase();
    if (e === 'now()') return "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"; // the same text as Date.toISOString
    if (e === 'gen_random_uuid()') return UUID_V4;
    return `(${expr})`;
  },
  decode(t, rows) {
    const d = sqliteDecoders(t);
    if (d.length === 0) return;
    for (const r of rows) for (const [k, f] of d) if (k in r) r[k] = f(r[k]);
  },
};

/** The dialect of a database or transaction (`dialect` property; PostgreSQL when it has none). */
export function dialectOf(db: unknown): Dialect {
  return (db as { dialect?: string } | null)?.dialect === 'sqlite' ? sqlite : postgres;
}
