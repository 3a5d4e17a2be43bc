/**
 * Tables: named sets of columns with a primary key and indexes, the row and insert types inferred from
 * the columns, and the DDL that creates them. Property names are camelCase in JS and snake_case in SQL
 * (`ownerId` ↔ `owner_id`); queries alias the columns back, so rows have the JS names.
 */
import { Column, type ColumnSpec } from './columns.js';
import { postgres, type Dialect } from './dialect.js';
import { quoteIdent, quoteLiteral } from '../db/sql.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any column, whatever its value type
export type AnyColumn = Column<any, boolean, boolean>;
export type Columns = Record<string, AnyColumn>;

export interface IndexSpec<K extends string = string> {
  columns: readonly K[];
  unique?: boolean;
  /** Default `<table>_<col>_<col>_idx` (or `_key` for unique). */
  name?: string;
}

export interface Table<C extends Columns = Columns> {
  readonly name: string;
  /** Columns by JS property name, bound to the table. */
  readonly columns: C;
  /** SQL column name of each property. */
  readonly sqlNames: Readonly<Record<keyof C & string, string>>;
  /** The primary key's property name (the first, for a composite key). */
  readonly primaryKey: keyof C & string;
  /** Every primary key column, in order (one, or several for a composite key). */
  readonly primaryKeys: ReadonlyArray<keyof C & string>;
  readonly indexes: readonly IndexSpec<keyof C & string>[];
}

type ValueOf<C> = C extends Column<infer V, infer N, boolean> ? (N extends true ? V | null : V) : never;

/** A row as queries return it. */
export type Row<T extends Table> = { [K in keyof T['columns']]: ValueOf<T['columns'][K]> };

type Optional<C> = C extends Column<unknown, infer N, infer D> ? (N extends true ? true : D extends true ? true : false) : false;
type OptionalKeys<C extends Columns> = { [K in keyof C]: Optional<C[K]> extends true ? K : never }[keyof C];
type RequiredKeys<C extends Columns> = Exclude<keyof C, OptionalKeys<C>>;

/** What an insert takes: nullable and defaulted columns may be left out. */
export type Insert<T extends Table> = { [K in RequiredKeys<T['columns']>]: ValueOf<T['columns'][K]> } & {
  [K in OptionalKeys<T['columns']>]?: ValueOf<T['columns'][K]>;
};

export const snakeCase = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Declares a table.
 *
 * @example
 * ```ts
 * const notes = table('notes', {
 *   id: serial().primaryKey(),
 *   ownerId: integer().notNull().references(() => users.columns.id, { onDelete: 'cascade' }),
 *   title: text().notNull(),
 *   createdAt: timestamptz().notNull().default(now()),
 * }, { indexes: [{ columns: ['ownerId', 'createdAt'] }] });
 * type Note = Row<typeof notes>;
 * ```
 */
export function table<C extends Columns>(name: string, columns: C, options: { indexes?: readonly IndexSpec<keyof C & string>[]; primaryKey?: ReadonlyArray<keyof C & string> } = {}): Table<C> {
  // No prototype: a key such as `__proto__` or `constructor` (from a request body) finds no column.
  const bound = Object.create(null) as Record<string, AnyColumn>;
  const sqlNames = Object.create(null) as Record<string, string>;
  let primaryKey: string | undefined;
  for (const [key, col] of Object.entries(columns)) {
    const column = snakeCase(key);
    bound[key] = col.bind(name, column);
    sqlNames[key] = column;
    if (col.spec.primaryKey) {
      if (primaryKey !== undefined) throw new Error(`table ${name}: more than one primary key column (${primaryKey}, ${key})`);
      primaryKey = key;
    }
  }
  let keys: string[];
  if (options.primaryKey !== undefined) {
    // A composite key (a join table): declared on the table, its columns NOT NULL.
    if (primaryKey !== undefined) throw new Error(`table ${name}: a primary key on column ${primaryKey} and one on the table; declare one`);
    if (options.primaryKey.length === 0) throw new Error(`table ${name}: an empty primary key`);
    for (const k of options.primaryKey) {
      if (bound[k] === undefined) throw new Error(`table ${name}: primary key column ${String(k)} is not a column`);
      bound[k] = new Column(bound[k]!.spec.sqlType, { ...bound[k]!.spec, notNull: true, keyed: true }) as AnyColumn;
    }
    keys = [...options.primaryKey];
  } else if (primaryKey !== undefined) keys = [primaryKey];
  else throw new Error(`table ${name}: no primary key: mark a column .primaryKey(), or give the table { primaryKey: ['a', 'b'] } (a composite key)`);
  for (const ix of options.indexes ?? []) {
    for (const k of ix.columns) {
      if (bound[k] === undefined) throw new Error(`table ${name}: index column ${String(k)} is not a column`);
      if (!bound[k]!.spec.keyed) bound[k] = new Column(bound[k]!.spec.sqlType, { ...bound[k]!.spec, keyed: true }) as AnyColumn;
    }
  }
  return { name, columns: bound as C, sqlNames: sqlNames as Record<keyof C & string, string>, primaryKey: keys[0] as keyof C & string, primaryKeys: keys as Array<keyof C & string>, indexes: options.indexes ?? [] };
}

/** `"id" serial primary key` and the like; `withReference: false` leaves out the foreign key. */
export function columnDdl(spec: ColumnSpec, withReference = true, dialect: Dialect = postgres): string {
  let s = `${quoteIdent(spec.column)} ${dialect.columnType(spec)}`;
  if (spec.primaryKey) s += ' primary key';
  else if (spec.notNull && !/serial$/.test(spec.sqlType)) s += ' not null';
  if (spec.unique) s += ' unique';
  if (spec.default !== null) s += ` default ${'sql' in spec.default ? dialect.defaultExpression(spec.default.sql) : literal(spec.default.value)}`;
  if (spec.references !== null && withReference) s += ` ${referenceDdl(spec)}`;
  return s;
}

/** `references "users" ("id") on delete cascade`. */
function referenceDdl(spec: ColumnSpec): string {
  const t = spec.references!.target().spec;
  return `references ${quoteIdent(t.table)} (${quoteIdent(t.column)})${spec.references!.onDelete !== 'no action' ? ` on delete ${spec.references!.onDelete}` : ''}`;
}

/** The name PostgreSQL gives a column's foreign key (`<table>_<column>_fkey`), so `down` can drop it. */
export function foreignKeyName(spec: ColumnSpec): string {
  return `${spec.table}_${spec.column}_fkey`;
}

/** `alter table ... add constraint ... foreign key (...) references ...`: a foreign key added after the tables exist. */
export function addForeignKeySql(spec: ColumnSpec): string {
  return `alter table ${quoteIdent(spec.table)} add constraint ${quoteIdent(foreignKeyName(spec))} foreign key (${quoteIdent(spec.column)}) ${referenceDdl(spec)};`;
}

/** A constant in DDL (defaults cannot be parameters): strings quoted with doubled quotes. */
export function literal(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const s = typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : JSON.stringify(v);
  return quoteLiteral(s);
}

export function indexName(t: Table, ix: IndexSpec): string {
  return ix.name ?? `${t.name}_${ix.columns.map((c) => t.sqlNames[c]).join('_')}_${ix.unique === true ? 'key' : 'idx'}`;
}

export function indexDdl(t: Table, ix: IndexSpec): string {
  return `create ${ix.unique === true ? 'unique ' : ''}index ${quoteIdent(indexName(t, ix))} on ${quoteIdent(t.name)} (${ix.columns.map((c) => quoteIdent(t.sqlNames[c]!)).join(', ')})`;
}

/**
 * `create table ...` plus its indexes. Foreign keys of columns in `deferred` are left out (added after
 * every table of a reference cycle exists).
 *
 * @example
 * ```ts
 * createTableSql(table('notes', { id: serial().primaryKey(), title: text().notNull() }));
 * // create table "notes" (
 * //   "id" serial primary key,
 * //   "title" text not null
 * // );
 * ```
 */
export function createTableSql(t: Table, deferred: ReadonlySet<ColumnSpec> = new Set(), dialect: Dialect = postgres): string {
  const cols = Object.values(t.columns).map((c) => `  ${columnDdl(c.spec, dialect.inlineReferences && !deferred.has(c.spec), dialect)}`);
  if (t.primaryKeys.length > 1) cols.push(`  primary key (${t.primaryKeys.map((k) => quoteIdent(t.sqlNames[k]!)).join(', ')})`);
  // Where a column's REFERENCES is not enforced (MySQL), each key is a named table constraint.
  if (!dialect.inlineReferences) for (const c of Object.values(t.columns)) if (c.spec.references !== null && !deferred.has(c.spec)) cols.push(`  constraint ${quoteIdent(foreignKeyName(c.spec))} foreign key (${quoteIdent(c.spec.column)}) ${referenceDdl(c.spec)}`);
  return [`create table ${quoteIdent(t.name)} (\n${cols.join(',\n')}\n)`, ...t.indexes.map((ix) => indexDdl(t, ix))].join(';\n') + ';';
}

/** `"owner_id" as "ownerId", ...` for every column, qualified by `alias`. */
export function selectList(t: Table, alias: string, keys?: readonly string[]): string {
  return (keys ?? Object.keys(t.columns)).map((k) => `${alias}.${quoteIdent(t.sqlNames[k]!)} as ${quoteIdent(k)}`).join(', ');
}
