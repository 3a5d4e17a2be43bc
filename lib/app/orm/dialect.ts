/**
 * What differs between the databases the ORM writes SQL for, in one place per dialect: list membership,
 * pattern matching, counts, the DDL types and defaults, and how stored values come back as the declared
 * column types. Everything else (identifiers in double quotes, `$n` parameters, RETURNING, ON CONFLICT,
 * LIMIT/OFFSET, savepoints) is the same SQL on PostgreSQL and SQLite — and on MySQL/MariaDB, whose
 * sessions run with ANSI_QUOTES; the driver turns `$n` into what it takes.
 */
import { sql, type Sql } from '../db/sql.js';
import type { ColumnSpec } from './columns.js';

export type DialectName = 'postgres' | 'sqlite' | 'mysql';

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
  /** A column's REFERENCES clause is enforced (MySQL ignores it: there keys are table constraints). */
  readonly inlineReferences: boolean;
  /** The column's type in DDL. */
  columnType(spec: ColumnSpec): string;
  /** A default given as an SQL expression (`now()`), in this dialect. */
  defaultExpression(expr: string): string;
  /** Converts stored values to the declared types, in place (null when the driver already does). */
  readonly decode: ((t: DecodedTable, rows: Record<string, unknown>[]) => void) | null;
  /** UPDATE ... RETURNING exists (MariaDB has it for INSERT and DELETE only: the ORM reads the rows back). */
  readonly updateReturning: boolean;
  /** An insert on conflict: its verb (`insert into`, or `insert ignore into`) and its clause, if any. */
  conflict(target: string, update: readonly string[] | undefined): { verb: string; clause: Sql | null };
  /** DDL for the migration generator. */
  dropIndex(table: string, name: string): string;
  dropForeignKey(table: string, name: string): string;
}

export const postgres: Dialect = {
  name: 'postgres',
  count: 'count(*)::int',
  inList: (ref, values, negate) => (negate ? sql`not (${ref} = any(${values}))` : sql`${ref} = any(${values})`),
  like: (ref, p, ci) => (ci ? sql`${ref} ilike ${p}` : sql`${ref} like ${p}`),
  defaultInValues: true,
  alterAddForeignKey: true,
  inlineReferences: true,
  columnType: (spec) => spec.sqlType,
  defaultExpression: (expr) => expr,
  decode: null,
  updateReturning: true,
  conflict: (target, update) => ({
    verb: 'insert into',
    clause: update === undefined || update.length === 0 ? sql.unsafe(`on conflict (${target}) do nothing`) : sql.unsafe(`on conflict (${target}) do update set ${update.map((c) => `${c} = excluded.${c}`).join(', ')}`),
  }),
  dropIndex: (_t, name) => `drop index ${name};`,
  dropForeignKey: (t, name) => `alter table ${t} drop constraint ${name};`,
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

/** What `decode` reads of a table (a Table of table.ts): its columns' SQL types. */
export interface DecodedTable {
  readonly columns: Readonly<Record<string, { readonly spec: { readonly sqlType: string } }>>;
}

/**
 * `decode` for a dialect from its rule (a converter per declared column type, or null where the stored
 * value is already right): the converters of a table are picked once and kept with it.
 */
function decoderFrom(rule: (type: string) => ((v: unknown) => unknown) | null): (t: DecodedTable, rows: Record<string, unknown>[]) => void {
  const cache = new WeakMap<DecodedTable, Array<[string, (v: unknown) => unknown]>>();
  return (t, rows) => {
    let d = cache.get(t);
    if (d === undefined) {
      d = [];
      for (const [k, col] of Object.entries(t.columns)) {
        const f = rule(col.spec.sqlType.toLowerCase());
        if (f !== null) d.push([k, f]);
      }
      cache.set(t, d);
    }
    if (d.length === 0) return;
    for (const r of rows) for (const [k, f] of d) if (k in r) r[k] = f(r[k]);
  };
}

const parseJson = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : Buffer.isBuffer(v) ? JSON.parse(v.toString('utf8')) : v) as unknown;
const exactString = (v: unknown): unknown => (v === null ? null : String(v));

export const sqlite: Dialect = {
  name: 'sqlite',
  count: 'count(*)',
  // One placeholder per value (SQLite has no arrays); the statement text varies with the list length.
  inList: (ref, values, negate) => (values.length === 0 ? (negate ? sql`true` : sql`false`) : negate ? sql`${ref} not in (${sql.join(values)})` : sql`${ref} in (${sql.join(values)})`),
  like: (ref, p, ci) => (ci ? sql`lower(${ref}) like lower(${p}) escape '\\'` : sql`${ref} like ${p} escape '\\'`),
  defaultInValues: false,
  alterAddForeignKey: false,
  inlineReferences: true,
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
  decode: decoderFrom((type) => {
    if (type === 'boolean') return (v) => (v === null ? null : v === 1 || v === 1n || v === true);
    if (type === 'timestamptz' || type === 'timestamp') return (v) => (v === null ? null : new Date(typeof v === 'number' ? v : String(v)));
    if (type === 'jsonb' || type.endsWith('[]')) return parseJson;
    if (type === 'bigint' || type === 'bigserial' || type.startsWith('numeric')) return exactString;
    if (type === 'bytea') return (v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v);
    return null;
  }),
  updateReturning: true,
  conflict: postgres.conflict,
  dropIndex: postgres.dropIndex,
  dropForeignKey: () => '-- SQLite: a foreign key goes with its table',
};

const MYSQL_TYPES: Array<[RegExp, string | ((m: RegExpExecArray) => string)]> = [
  [/^serial$/, 'integer auto_increment'],
  [/^bigserial$/, 'bigint auto_increment'],
  [/^(timestamptz|timestamp)$/, 'datetime(3)'],
  [/^double precision$/, 'double'],
  [/^jsonb$/, 'json'],
  [/\[\]$/, 'json'],
  [/^uuid$/, 'char(36)'],
  [/^bytea$/, 'longblob'],
  [/^numeric$/, 'decimal(38,10)'], // MySQL's bare DECIMAL is (10,0): it would drop the fraction
  [/^numeric\((\d+)(?:,\s*(\d+))?\)$/, (m) => `decimal(${m[1]},${m[2] ?? 0})`],
];

/** What information_schema says for a type, in the form columnType writes it (display widths dropped, aliases resolved). */
export function mysqlCanonical(type: string): string {
  const t = type.toLowerCase().replace(/\s+/g, ' ').trim();
  if (t === 'tinyint(1)' || t === 'boolean' || t === 'bool') return 'boolean';
  if (t === 'longtext' || t === 'json') return 'json'; // MariaDB keeps JSON as LONGTEXT
  return t.replace(/^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)/, '$1').replace(/^int\b/, 'integer').replace(/ auto_increment$/, '').replace(/, /g, ',');
}

export const mysql: Dialect = {
  name: 'mysql',
  count: 'count(*)',
  inList: sqlite.inList,
  // LIKE follows the column's collation (case-insensitive by default): BINARY makes it exact, as on
  // PostgreSQL. The escape character in a MySQL string literal is written '\\'.
  like: (ref, p, ci) => (ci ? sql`lower(${ref}) like lower(${p}) escape '\\\\'` : sql`${ref} like binary ${p} escape '\\\\'`),
  defaultInValues: true,
  alterAddForeignKey: true,
  inlineReferences: false,
  columnType(spec) {
    const t = spec.sqlType.toLowerCase();
    // MySQL keys no TEXT column (a key needs a length; MariaDB hashes a UNIQUE one, MySQL 8 refuses it too).
    if (t === 'text' && spec.keyed) return 'varchar(255)';
    for (const [re, out] of MYSQL_TYPES) {
      const m = re.exec(t);
      if (m !== null) return typeof out === 'string' ? out : out(m);
    }
    return spec.sqlType;
  },
  defaultExpression(expr) {
    const e = expr.trim().toLowerCase();
    if (e === 'now()') return 'current_timestamp(3)';
    if (e === 'gen_random_uuid()') return '(uuid())';
    return `(${expr})`;
  },
  // mysql2 already gives Dates and Buffers; tinyint(1), JSON text and exact numbers need converting.
  decode: decoderFrom((type) => {
    if (type === 'boolean') return (v) => (v === null ? null : Number(v) === 1);
    if (type === 'timestamptz' || type === 'timestamp') return (v) => (v === null || v instanceof Date ? v : new Date(`${String(v).replace(' ', 'T')}Z`));
    if (type === 'jsonb' || type.endsWith('[]')) return parseJson;
    if (type === 'bigint' || type === 'bigserial' || type.startsWith('numeric')) return exactString;
    return null;
  }),
  updateReturning: false,
  // MySQL has no conflict target: a duplicate of any unique key counts. `insert ignore` skips the row
  // (RETURNING then gives nothing for it, like DO NOTHING); an update sets the listed columns.
  conflict: (_target, update) =>
    update === undefined || update.length === 0
      ? { verb: 'insert ignore into', clause: null }
      : { verb: 'insert into', clause: sql.unsafe(`on duplicate key update ${update.map((c) => `${c} = values(${c})`).join(', ')}`) },
  dropIndex: (t, name) => `drop index ${name} on ${t};`,
  dropForeignKey: (t, name) => `alter table ${t} drop foreign key ${name};`,
};

/**
 * Whether INSERT and DELETE ... RETURNING exist on `db`'s server: everywhere but MySQL proper (a MySQL
 * database answers; MariaDB 10.5+ has them).
 */
export function hasReturning(db: unknown): boolean | Promise<boolean> {
  const r = (db as { returning?: () => Promise<boolean> } | null)?.returning;
  return typeof r === 'function' ? r.call(db) : true;
}

/** The dialect of a database or transaction (`dialect` property; PostgreSQL when it has none). */
/** The dialect of that name. */
export function dialectByName(name: DialectName): Dialect {
  return name === 'sqlite' ? sqlite : name === 'mysql' ? mysql : postgres;
}

export function dialectOf(db: unknown): Dialect {
  const d = (db as { dialect?: string } | null)?.dialect;
  return d === 'sqlite' ? sqlite : d === 'mysql' ? mysql : postgres;
}
