/**
 * One table's queries: find (filters, order, limit/offset, keyset pagination, eager `with`), count and
 * aggregates, insert (one or many, upsert), update, delete — all returning rows with JS property names.
 * Statements are built once per shape by the `sql` tag, so every value is a parameter.
 */
import type { Queryable } from '../db/db.js';
import { Sql, quoteIdent, sql } from '../db/sql.js';
import type { Relation } from './relations.js';
import { selectList, type Insert, type Row, type Table } from './table.js';
import { beyondColumn, compileWhere, type Where } from './where.js';
import { OrmError, unknownName } from './errors.js';
import { hasReturning, dialectOf, type Dialect } from './dialect.js';

export type Direction = 'asc' | 'desc';
export type OrderBy<T extends Table> = Partial<Record<keyof Row<T> & string, Direction>> | ReadonlyArray<Partial<Record<keyof Row<T> & string, Direction>>>;

export type Relations = Record<string, Relation>;

type RelRow<R> = R extends Relation<infer T> ? Row<T> : never;
type RelResult<R> = R extends { kind: 'belongsTo' | 'hasOne' } ? RelRow<R> | null : RelRow<R>[];
/** Rows with the relations asked for in `with`. */
export type WithResult<T extends Table, R extends Relations, W> = Row<T> & { [K in keyof W & keyof R]: RelResult<R[K]> };

export interface FindOptions<T extends Table, R extends Relations = Relations> {
  where?: Where<T> & { [K in keyof R]?: RelationWhere };
  orderBy?: OrderBy<T>;
  limit?: number;
  offset?: number;
  /** Keyset pagination: the order-by values of the last row seen; rows after it come next. */
  after?: Partial<Row<T>>;
  /** Only these columns. */
  select?: ReadonlyArray<keyof Row<T> & string>;
  /** Relations to load with the rows (one query per relation). */
  with?: { [K in keyof R]?: true | FindOptions<Table> };
  /**
   * Cache the result (needs `createOrm(db, schema, { cache })`) for `ttl` ms, keyed by the statement and
   * its values, tagged by every table read; any ORM write to those tables drops it.
   */
  cache?: { ttl?: number } | true;
}

/** A filter on a relation: the row has `some`/`none` related rows matching, or its `is` target matches. */
export interface RelationWhere {
  some?: Record<string, unknown>;
  none?: Record<string, unknown>;
  is?: Record<string, unknown> | null;
}

export interface Aggregates<T extends Table> {
  where?: Where<T>;
  groupBy?: ReadonlyArray<keyof Row<T> & string>;
  count?: true;
  sum?: ReadonlyArray<keyof Row<T> & string>;
  avg?: ReadonlyArray<keyof Row<T> & string>;
  min?: ReadonlyArray<keyof Row<T> & string>;
  max?: ReadonlyArray<keyof Row<T> & string>;
  /** A condition on the groups, e.g. sql`count(*) > ${1}`. */
  having?: Sql;
  orderBy?: Sql;
}

export interface ConflictOptions<T extends Table> {
  /** The unique columns that conflict. */
  target: ReadonlyArray<keyof Row<T> & string>;
  /** Columns to overwrite from the new row; omitted: do nothing. */
  update?: ReadonlyArray<keyof Row<T> & string>;
  /**
   * What comes back: `'written'` (default) the rows inserted or updated — a conflict that did nothing
   * returns no row; `'all'` a row for every value given, in order, the existing one where it conflicted
   * ("get or create").
   */
  returning?: 'written' | 'all';
}

/** The names of a table's many-to-many relations. */
export type ManyToManyName<R extends Relations> = { [K in keyof R & string]: R[K] extends { kind: 'manyToMany' } ? K : never }[keyof R & string];

/** The links of one row in a many-to-many relation (the join table's rows), from `Repository.related`. */
export interface ManyToManyLinks {
  /** Exactly these targets: links to others removed, missing ones added. */
  set(ids: ReadonlyArray<unknown>): Promise<{ added: number; removed: number }>;
  /** These targets too (links already there are kept, not repeated). */
  connect(ids: ReadonlyArray<unknown>): Promise<{ added: number; removed: number }>;
  /** Not these targets. */
  disconnect(ids: ReadonlyArray<unknown>): Promise<{ added: number; removed: number }>;
}

/** What the ORM needs of a cache (covet/app/cache's `Cache` fits) to cache query results. */
export interface QueryCache {
  getOrSet<T>(key: string, load: () => Promise<T>, options: { ttl?: number; tags?: readonly string[] }): Promise<T>;
  invalidateTag(tag: string): Promise<void>;
}

/** How the ORM resolves a table's relations, and its query cache (both live in `createOrm`). */
export interface RelationRegistry {
  relationsOf(t: Table): Relations;
  cache?: QueryCache;
  /** Records every write, in the write's transaction (covet/app/audit's log fits). */
  audit?: AuditSink;
}

/** What the ORM asks of an audit log (covet/app/audit's `AuditLog` is one). */
export interface AuditSink {
  ormWrite(on: Queryable, write: { table: string; action: 'insert' | 'update' | 'delete'; rows: readonly Record<string, unknown>[]; keys: readonly string[]; set?: Record<string, unknown> }): Promise<void>;
}

const INTEGER_TYPES = new Set(['smallint', 'integer', 'serial', 'bigint', 'bigserial', 'smallserial']);

/** An aggregate as its one type: whole numbers a number (a bigint past 2^53), averages and floats a number, decimals exact text. */
function aggregateValue(v: unknown, kind: 'int' | 'float' | 'decimal'): unknown {
  if (v === null || v === undefined) return null;
  if (kind === 'decimal') return typeof v === 'string' ? v : String(v);
  if (kind === 'float') return typeof v === 'number' ? v : Number(v);
  if (typeof v === 'number') return v;
  const b = typeof v === 'bigint' ? v : BigInt(String(v).replace(/\.0*$/, ''));
  return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b;
}

/** A limit or offset: a whole number ≥ 0 (it goes into the statement text). */
function wholeNumber(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new OrmError(`${what} must be a whole number ≥ 0, got ${typeof v === 'number' ? v : typeof v}`);
  return v;
}

/** The cache tag of a table's query results: dropped whenever the ORM writes to the table. */
export const tableTag = (t: Table): string => `orm:${t.name}`;

/**
 * One table's queries (see the module comment); `orm.<table>` is one.
 *
 * @example
 * ```ts
 * const recent = await orm.notes.findMany({ where: { ownerId: 1 }, orderBy: { createdAt: 'desc' }, limit: 20 });
 * const [note] = await orm.notes.insert({ ownerId: 1, title: 'hello' });
 * await orm.notes.update({ id: note!.id }, { title: 'hello again' });
 * ```
 */
export class Repository<T extends Table, R extends Relations = Relations> {
  readonly table: T;
  readonly #db: Queryable;
  readonly #registry: RelationRegistry;
  readonly #dialect: Dialect;
  #findText: string | undefined;

  constructor(db: Queryable, table: T, registry: RelationRegistry) {
    this.#db = db;
    this.table = table;
    this.#registry = registry;
    this.#dialect = dialectOf(db);
  }

  /** Runs a statement and gives its rows the declared column types (a no-op on PostgreSQL). */
  async #rows(q: Sql, on: Queryable = this.#db): Promise<Record<string, unknown>[]> {
    const rows = (await on.query(q)).rows as Record<string, unknown>[];
    this.#dialect.decode?.(this.table, rows);
    return rows;
  }

  /** The same repository on another executor (a transaction). */
  on(db: Queryable): Repository<T, R> {
    return new Repository<T, R>(db, this.table, this.#registry);
  }

  /**
   * @example
   * ```ts
   * const page = await orm.notes.findMany({
   *   where: { ownerId: 1, title: { ilike: '%milk%' }, tags: { some: { name: 'home' } } },
   *   orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: 20, after: last,
   *   with: { owner: true, tags: true },
   * });
   * ```
   */
  async findMany<W extends FindOptions<T, R>['with'] = undefined>(options: FindOptions<T, R> & { with?: W } = {}): Promise<Array<WithResult<T, R, W>>> {
    const cache = this.#registry.cache;
    if (options.cache !== undefined && cache !== undefined) {
      const q = this.selectSql(options).compile();
      const tags = [tableTag(this.table), ...relatedTables(this.table, this.#registry, options.with as Record<string, unknown> | undefined).map(tableTag)];
      const { cache: _c, ...uncached } = options;
      return cache.getOrSet(`orm:${q.text}:${JSON.stringify(q.values)}:${JSON.stringify(options.with ?? null)}`, () => this.findMany(uncached as typeof options), { ttl: options.cache === true ? undefined : options.cache.ttl, tags });
    }
    const rows = await this.#rows(this.selectSql(options));
    if (options.with !== undefined) await loadRelations(this.#db, this.table, this.#registry, rows, options.with as Record<string, true | FindOptions<Table>>);
    return rows as Array<WithResult<T, R, W>>;
  }

  async findFirst<W extends FindOptions<T, R>['with'] = undefined>(options: FindOptions<T, R> & { with?: W } = {}): Promise<WithResult<T, R, W> | undefined> {
    return (await this.findMany({ ...options, limit: 1 }))[0];
  }

  /** The row with this primary key: its value, or for a composite key an object of its columns. */
  async find(id: Row<T>[keyof Row<T>] | Partial<Row<T>>): Promise<Row<T> | undefined> {
    const t = this.table;
    if (t.primaryKeys.length === 1) {
      if (typeof id === 'number' || typeof id === 'string' || typeof id === 'bigint') {
        if (beyondColumn(t, t.primaryKey, id)) return undefined; // no row has it (and the statement below takes a parameter)
        // The hottest lookup: its statement text is built once per repository.
        this.#findText ??= this.selectSql({ where: { [t.primaryKey]: id } as FindOptions<T, R>['where'], limit: 1 }).compile().text;
        const rows = (await this.#db.query(this.#findText, [id])).rows as Record<string, unknown>[];
        this.#dialect.decode?.(t, rows);
        return rows[0] as Row<T> | undefined;
      }
      return (await this.findMany({ where: { [t.primaryKey]: id } as FindOptions<T, R>['where'], limit: 1 }))[0] as Row<T> | undefined;
    }
    const key = id as Record<string, unknown>;
    if (typeof key !== 'object' || key === null || t.primaryKeys.some((k) => key[k] === undefined)) throw new Error(`${t.name} has a composite primary key: find({ ${t.primaryKeys.join(', ')} })`);
    const where = Object.fromEntries(t.primaryKeys.map((k) => [k, key[k]]));
    return (await this.findMany({ where: where as FindOptions<T, R>['where'], limit: 1 }))[0] as Row<T> | undefined;
  }

  /** The SELECT a find would run (for subqueries: `{ id: { in: orm.notes.selectSql({ select: ['ownerId'] }) } }`). */
  selectSql(options: FindOptions<T, R> = {}): Sql {
    const t = this.table;
    const a = 't0'; // fixed aliases keep the statement text stable, so it is prepared once
    for (const k of options.select ?? []) if (t.sqlNames[k] === undefined) throw unknownName(t, k);
    let where = this.#where(a, options.where as Record<string, unknown> | undefined);
    const order = normalizeOrder(t, options.orderBy);
    if (options.after !== undefined) where = sql`${where} and ${keyset(t, a, order, options.after as Record<string, unknown>)}`;
    let q = sql`select ${sql.unsafe(selectList(t, a, options.select))} from ${sql.unsafe(quoteIdent(t.name))} ${sql.unsafe(a)} where ${where}`;
    if (order.length > 0) q = sql`${q} order by ${sql.unsafe(order.map(([k, d]) => `${a}.${quoteIdent(t.sqlNames[k]!)} ${d}`).join(', '))}`;
    // Written into the text, checked to be whole numbers: SQLite runs a statement with a bound LIMIT ~3×
    // slower than with a literal one (measured: 133k vs 363k lookups/s).
    if (options.limit !== undefined) q = sql`${q} limit ${sql.unsafe(String(wholeNumber(options.limit, 'limit')))}`;
    if (options.offset !== undefined) q = sql`${q} offset ${sql.unsafe(String(wholeNumber(options.offset, 'offset')))}`;
    return q;
  }

  async count(where?: Where<T>): Promise<number> {
    const a = 'c';
    const r = await this.#db.query<{ n: number }>(sql`select ${sql.unsafe(this.#dialect.count)} as n from ${sql.unsafe(quoteIdent(this.table.name))} ${sql.unsafe(a)} where ${this.#where(a, where as Record<string, unknown>)}`);
    return Number(r.rows[0]!.n);
  }

  /**
   * Each aggregate has one type on every database: `count`, and `sum`/`min`/`max` of an integer column, a
   * number (a bigint past 2^53); `avg`, and any aggregate of a float column, a number; of a numeric/decimal
   * column, exact decimal text (as the column itself). Min/max of other columns: the column's own type.
   *
   * Grouped aggregates: rows with the group-by columns plus `count`, `sum_<col>`, `avg_<col>`,
   * `min_<col>`, `max_<col>`.
   */
  async aggregate(options: Aggregates<T>): Promise<Array<Record<string, unknown>>> {
    const t = this.table;
    const a = 'g';
    const col = (k: string): string => {
      const c = t.sqlNames[k];
      if (c === undefined) throw unknownName(t, k);
      return `${a}.${quoteIdent(c)}`;
    };
    const items: string[] = (options.groupBy ?? []).map((k) => `${col(k)} as ${quoteIdent(k)}`);
    if (options.count === true) items.push(`${this.#dialect.count} as "count"`);
    for (const fn of ['sum', 'avg', 'min', 'max'] as const) for (const k of options[fn] ?? []) items.push(`${fn}(${col(k)}) as ${quoteIdent(`${fn}_${k}`)}`);
    let q = sql`select ${sql.unsafe(items.join(', '))} from ${sql.unsafe(quoteIdent(t.name))} ${sql.unsafe(a)} where ${this.#where(a, options.where as Record<string, unknown>)}`;
    if (options.groupBy !== undefined && options.groupBy.length > 0) q = sql`${q} group by ${sql.unsafe(options.groupBy.map(col).join(', '))}`;
    if (options.having !== undefined) q = sql`${q} having ${options.having}`;
    if (options.orderBy !== undefined) q = sql`${q} order by ${options.orderBy}`;
    const rows = (await this.#db.query(q)).rows as Record<string, unknown>[];
    // One type per aggregate on every database (drivers differ: PostgreSQL's sum of int is a numeric
    // string, MariaDB's a DECIMAL string, SQLite's a number): see the method's comment.
    const kinds: Array<[string, 'int' | 'float' | 'decimal' | null]> = [];
    if (options.count === true) kinds.push(['count', 'int']);
    for (const fn of ['sum', 'avg', 'min', 'max'] as const) {
      for (const k of options[fn] ?? []) {
        const type = (t.columns as Record<string, { spec: { sqlType: string } }>)[k]!.spec.sqlType;
        const kind = /^(numeric|decimal)/.test(type) ? 'decimal' : fn === 'avg' || type === 'real' || type === 'double precision' ? 'float' : INTEGER_TYPES.has(type) ? 'int' : null;
        kinds.push([`${fn}_${k}`, kind]);
      }
    }
    if (this.#dialect.decode !== null && options.groupBy !== undefined) this.#dialect.decode(t, rows);
    for (const r of rows) for (const [name, kind] of kinds) if (kind !== null) r[name] = aggregateValue(r[name], kind);
    return rows;
  }

  /**
   * Inserts one row or many (one statement), returning them; with `onConflict`, an upsert.
   *
   * @example
   * ```ts
   * const [note] = await orm.notes.insert({ ownerId: 1, title: 'Buy milk' });
   * await orm.tags.insert([{ name: 'home' }, { name: 'work' }], { onConflict: { target: ['name'] } });
   * ```
   */
  async insert(values: Insert<T> | ReadonlyArray<Insert<T>>, options: { onConflict?: ConflictOptions<T> } = {}): Promise<Row<T>[]> {
    const t = this.table;
    const list = (Array.isArray(values) ? values : [values]) as Record<string, unknown>[];
    if (list.length === 0) return [];
    const c0 = options.onConflict;
    if (c0?.returning === 'all') {
      // Get or create: the insert, then every given value's row by the conflict target, in one transaction.
      const { returning: _, ...written } = c0;
      const target = c0.target as readonly string[];
      for (const k of target) if (t.sqlNames[k] === undefined) throw unknownName(t, k);
      return this.#db.transaction(async (tx) => {
        const on = this.on(tx);
        await on.insert(values, { onConflict: written as ConflictOptions<T> });
        const key = (r: Record<string, unknown>) => JSON.stringify(target.map((k) => String(r[k])));
        const where = target.length === 1 ? { [target[0]!]: { in: list.map((v) => v[target[0]!]) } } : { OR: list.map((v) => Object.fromEntries(target.map((k) => [k, v[k]]))) };
        const found = new Map((await on.findMany({ where: where as never })).map((r) => [key(r as Record<string, unknown>), r]));
        return list.map((v) => found.get(key(v))).filter((r): r is Row<T> => r !== undefined);
      });
    }
    const keys = [...new Set(list.flatMap((v) => Object.keys(v).filter((k) => v[k] !== undefined)))];
    for (const k of keys) if (t.sqlNames[k] === undefined) throw unknownName(t, k);
    // A key missing from one row of a batch takes the column default there: DEFAULT in the VALUES list,
    // or, where the dialect has no such thing, a statement per set of keys (in the order given).
    if (!this.#dialect.defaultInValues && list.some((v) => keys.some((k) => v[k] === undefined))) {
      const out: Row<T>[] = [];
      for (const v of list) out.push(...(await this.insert(v as Insert<T>, options)));
      return out;
    }
    const cols = sql.unsafe(keys.map((k) => quoteIdent(t.sqlNames[k]!)).join(', '));
    const rows = list.map((v) => sql`(${sql.join(keys.map((k) => (v[k] === undefined ? sql`default` : v[k])))})`);
    const c = options.onConflict;
    const conflict = c === undefined ? null : this.#dialect.conflict(c.target.map((k) => quoteIdent(t.sqlNames[k]!)).join(', '), c.update?.map((k) => quoteIdent(t.sqlNames[k]!)));
    let q = sql`${sql.unsafe(conflict?.verb ?? 'insert into')} ${sql.unsafe(quoteIdent(t.name))} (${cols}) values ${sql.join(rows)}`;
    if (conflict?.clause != null) q = sql`${q} ${conflict.clause}`;
    if (!(await hasReturning(this.#db))) return this.#insertThenRead(q, list, keys, c);
    q = sql`${q} returning ${sql.unsafe(selectList(t, quoteIdent(t.name)))}`;
    return this.#write(q, 'insert');
  }

  /**
   * INSERT without RETURNING (MySQL): in one transaction, the insert, then the rows read back — by the
   * AUTO_INCREMENT ids it generated (consecutive for a multi-row VALUES insert, stepped by
   * auto_increment_increment), by the primary keys given, or, for an upsert, by the conflict target;
   * an insert that skips duplicates leaves out the rows that were there before it, as RETURNING would.
   */
  async #insertThenRead(insert: Sql, list: Record<string, unknown>[], keys: string[], c: ConflictOptions<T> | undefined): Promise<Row<T>[]> {
    const t = this.table;
    const a = quoteIdent(t.name);
    const tuple = (cols: readonly string[], v: Record<string, unknown>): Sql => (cols.length === 1 ? sql`${v[cols[0]!]}` : sql`(${sql.join(cols.map((k) => v[k]))})`);
    const where = (cols: readonly string[], vs: Record<string, unknown>[]): Sql => {
      const ref = sql.unsafe(cols.length === 1 ? `${a}.${quoteIdent(t.sqlNames[cols[0]!]!)}` : `(${cols.map((k) => `${a}.${quoteIdent(t.sqlNames[k]!)}`).join(', ')})`);
      return sql`${ref} in (${sql.join(vs.map((v) => tuple(cols, v)))})`;
    };
    const select = (cond: Sql, tx: Queryable): Promise<Record<string, unknown>[]> => this.#rows(sql`select ${sql.unsafe(selectList(t, a))} from ${sql.unsafe(a)} where ${cond}`, tx);
    const pk = t.primaryKeys as readonly string[];
    const auto = pk.length === 1 && /serial$/.test(t.columns[pk[0]!]!.spec.sqlType) && !keys.includes(pk[0]!);
    const by = c !== undefined ? (c.target as readonly string[]) : auto ? null : pk;
    if (by !== null && by.some((k) => !keys.includes(k))) {
      throw new Error(`${t.name}: this MySQL server has no INSERT ... RETURNING, so the rows are read back by ${by.join(', ')} — give ${by.length === 1 ? 'it' : 'them'} in every row (or use an AUTO_INCREMENT key)`);
    }
    const write = async (tx: Queryable): Promise<Record<string, unknown>[]> => {
      // Skipping duplicates: the rows already there are not "inserted" (as RETURNING would leave them out).
      const skip = c !== undefined && (c.update === undefined || c.update.length === 0);
      const before = skip ? new Set((await select(where(by!, list), tx)).map((r) => keyText(by!, r))) : null;
      const res = await tx.query(insert);
      if (by === null) {
        if (res.insertId === undefined) return [];
        const step = BigInt(((await tx.query('select @@auto_increment_increment as i')).rows[0] as { i: number | string }).i);
        const first = BigInt(res.insertId);
        const ids = list.map((_, i) => String(first + BigInt(i) * step));
        const got = await select(where(pk, ids.map((id) => ({ [pk[0]!]: id }))), tx);
        return got.sort((x, y) => (BigInt(String(x[pk[0]!])) < BigInt(String(y[pk[0]!])) ? -1 : 1));
      }
      const got = await select(where(by, list), tx);
      // In the order given, each once.
      const byKey = new Map(got.map((r) => [keyText(by, r), r]));
      const out: Record<string, unknown>[] = [];
      for (const v of list) {
        const k = keyText(by, v);
        const r = byKey.get(k);
        if (r !== undefined && !out.includes(r) && !(before?.has(k) ?? false)) out.push(r);
      }
      return out;
    };
    const rows = await this.#db.transaction(async (tx) => this.#audited(tx, 'insert', await write(tx)));
    await this.#registry.cache?.invalidateTag(tableTag(t));
    return rows as Row<T>[];
  }

  /** Insert or update on conflict of `target` (all given columns updated). */
  async upsert(values: Insert<T> | ReadonlyArray<Insert<T>>, target: ReadonlyArray<keyof Row<T> & string>): Promise<Row<T>[]> {
    const first = (Array.isArray(values) ? values[0] : values) as Record<string, unknown> | undefined;
    const update = Object.keys(first ?? {}).filter((k) => !target.includes(k as keyof Row<T> & string)) as Array<keyof Row<T> & string>;
    return this.insert(values, { onConflict: { target, update } });
  }

  /** Updates the rows matching `where`, returning them. */
  async update(where: Where<T>, set: Partial<Row<T>>): Promise<Row<T>[]> {
    const t = this.table;
    const entries = Object.entries(set as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) throw new Error('update with nothing to set');
    const assigns = entries.map(([k, v]) => {
      const c = t.sqlNames[k];
      if (c === undefined) throw unknownName(t, k);
      return sql`${sql.unsafe(quoteIdent(c))} = ${v}`;
    });
    const a = quoteIdent(t.name);
    if (!this.#dialect.updateReturning) return this.#updateThenRead(a, assigns, where as Record<string, unknown>, Object.fromEntries(entries));
    const q = sql`update ${sql.unsafe(a)} set ${sql.join(assigns)} where ${this.#where(a, where as Record<string, unknown>)} returning ${sql.unsafe(selectList(t, a))}`;
    return this.#write(q, 'update', Object.fromEntries(entries));
  }

  /**
   * UPDATE without RETURNING (MariaDB): in one transaction, the matching keys (locked), the update, and
   * the rows read back by key — the same rows UPDATE ... RETURNING would give.
   */
  async #updateThenRead(a: string, assigns: Sql[], where: Record<string, unknown>, set: Record<string, unknown>): Promise<Row<T>[]> {
    const t = this.table;
    const pks = t.primaryKeys.map((k) => `${a}.${quoteIdent(t.sqlNames[k]!)}`);
    // The matched rows by key: `pk in (...)`, or `(a, b) in ((?, ?), ...)` for a composite key.
    const byKeys = (keys: Record<string, unknown>[]): Sql =>
      pks.length === 1
        ? this.#dialect.inList(sql.unsafe(pks[0]!), keys.map((r) => r.k0), false)
        : sql`(${sql.unsafe(pks.join(', '))}) in (${sql.join(keys.map((r) => sql`(${sql.join(pks.map((_, i) => r[`k${i}`]))})`))})`;
    const rows = await this.#db.transaction(async (tx) => {
      const keys = (await tx.query(sql`select ${sql.unsafe(pks.map((p, i) => `${p} as k${i}`).join(', '))} from ${sql.unsafe(a)} where ${this.#where(a, where)} for update`)).rows as Record<string, unknown>[];
      if (keys.length === 0) return [];
      await tx.query(sql`update ${sql.unsafe(a)} set ${sql.join(assigns)} where ${byKeys(keys)}`);
      return this.#audited(tx, 'update', await this.#rows(sql`select ${sql.unsafe(selectList(t, a))} from ${sql.unsafe(a)} where ${byKeys(keys)}`, tx), set);
    });
    await this.#registry.cache?.invalidateTag(tableTag(t));
    return rows as Row<T>[];
  }

  /**
   * DELETE without RETURNING (MySQL): in one transaction, the matching rows (locked), then the delete by
   * their keys — the rows DELETE ... RETURNING would give.
   */
  async #readThenDelete(a: string, where: Record<string, unknown>): Promise<Row<T>[]> {
    const t = this.table;
    const pks = t.primaryKeys.map((k) => `${a}.${quoteIdent(t.sqlNames[k]!)}`);
    const rows = await this.#db.transaction(async (tx) => {
      const found = (await tx.query(sql`select ${sql.unsafe(selectList(t, a))} from ${sql.unsafe(a)} where ${this.#where(a, where)} for update`)).rows as Record<string, unknown>[];
      if (found.length === 0) return [];
      const keyOf = (r: Record<string, unknown>): unknown[] => t.primaryKeys.map((k) => r[k]);
      const cond = pks.length === 1 ? this.#dialect.inList(sql.unsafe(pks[0]!), found.map((r) => keyOf(r)[0]), false) : sql`(${sql.unsafe(pks.join(', '))}) in (${sql.join(found.map((r) => sql`(${sql.join(keyOf(r))})`))})`;
      await tx.query(sql`delete from ${sql.unsafe(a)} where ${cond}`);
      this.#dialect.decode?.(t, found);
      return this.#audited(tx, 'delete', found);
    });
    await this.#registry.cache?.invalidateTag(tableTag(t));
    return rows as Row<T>[];
  }

  /** Deletes the rows matching `where`, returning them. */
  async delete(where: Where<T>): Promise<Row<T>[]> {
    const t = this.table;
    const a = quoteIdent(t.name);
    if (!(await hasReturning(this.#db))) return this.#readThenDelete(a, where as Record<string, unknown>);
    const q = sql`delete from ${sql.unsafe(a)} where ${this.#where(a, where as Record<string, unknown>)} returning ${sql.unsafe(selectList(t, a))}`;
    return this.#write(q, 'delete');
  }

  /**
   * Lazy loading: fills relation `name` on rows already fetched (one query for all of them).
   *
   * @example
   * ```ts
   * const notes = await orm.notes.findMany({ limit: 10 });
   * await orm.notes.load(notes, 'owner'); // notes[i].owner
   * ```
   */
  async load<K extends keyof R & string>(rows: Row<T>[], name: K, options: true | FindOptions<Table> = true): Promise<Array<Row<T> & { [P in K]: RelResult<R[K]> }>> {
    await loadRelations(this.#db, this.table, this.#registry, rows as Record<string, unknown>[], { [name]: options });
    return rows as Array<Row<T> & { [P in K]: RelResult<R[K]> }>;
  }

  /**
   * The links of the row `id` in the many-to-many relation `name`: `set`, `connect` and `disconnect` write
   * its join table's rows — each in one transaction, audited and dropping cached reads like any write — on
   * every database. Each answers how many links it added and removed.
   *
   * @example
   * ```ts
   * await orm.notes.related(note.id, 'tags').set([home.id, work.id]);
   * await orm.notes.related(note.id, 'tags').connect([urgent.id]); // { added: 1, removed: 0 }
   * await orm.notes.related(note.id, 'tags').disconnect([work.id]);
   * ```
   */
  related(id: Row<T>[keyof Row<T>], name: ManyToManyName<R>): ManyToManyLinks {
    const rel = this.#registry.relationsOf(this.table)[name];
    if (rel === undefined || rel.kind !== 'manyToMany') throw new OrmError(`${this.table.name} has no many-to-many relation ${JSON.stringify(name)}`);
    const through = rel.through();
    const { from, to } = rel;
    for (const c of [from, to]) if (through.sqlNames[c] === undefined) throw unknownName(through, c);
    const links = (on: Queryable) => new Repository(on, through, this.#registry);
    const where = (w: Record<string, unknown>) => w as Where<Table>;
    const add = async (tx: Queryable, ids: ReadonlyArray<unknown>): Promise<number> => {
      const wanted = [...new Map(ids.map((x) => [String(x), x])).values()];
      if (wanted.length === 0) return 0;
      const have = new Set((await links(tx).findMany({ where: where({ [from]: id, [to]: { in: wanted } }) })).map((r) => String((r as Record<string, unknown>)[to])));
      const missing = wanted.filter((x) => !have.has(String(x)));
      if (missing.length > 0) await links(tx).insert(missing.map((x) => ({ [from]: id, [to]: x })) as never);
      return missing.length;
    };
    return {
      connect: (ids) => this.#db.transaction(async (tx) => ({ added: await add(tx, ids), removed: 0 })),
      disconnect: async (ids) => (ids.length === 0 ? { added: 0, removed: 0 } : { added: 0, removed: (await links(this.#db).delete(where({ [from]: id, [to]: { in: ids } }))).length }),
      set: (ids) =>
        this.#db.transaction(async (tx) => {
          const removed = (await links(tx).delete(where(ids.length === 0 ? { [from]: id } : { [from]: id, [to]: { notIn: ids } }))).length;
          return { added: await add(tx, ids), removed };
        }),
    };
  }

  /** Runs a write and drops cached results that read this table. */
  async #write(q: Sql, action: 'insert' | 'update' | 'delete', set?: Record<string, unknown>): Promise<Row<T>[]> {
    const audit = this.#registry.audit;
    // Audited: the write and its entries commit together.
    const rows = (audit === undefined ? await this.#rows(q) : await this.#db.transaction(async (tx) => this.#audited(tx, action, await this.#rows(q, tx), set))) as Row<T>[];
    await this.#registry.cache?.invalidateTag(tableTag(this.table));
    return rows;
  }

  /** Tells the audit log (if any) about rows written on `tx`; returns them. */
  async #audited(tx: Queryable, action: 'insert' | 'update' | 'delete', rows: Record<string, unknown>[], set?: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    await this.#registry.audit?.ormWrite(tx, { table: this.table.name, action, rows, keys: this.table.primaryKeys, ...(set === undefined ? {} : { set }) });
    return rows;
  }

  #where(alias: string, where: Record<string, unknown> | undefined): Sql {
    const rels = this.#registry.relationsOf(this.table);
    return compileWhere(
      this.table,
      alias,
      where,
      (key, filter) => {
        const rel = rels[key];
        return rel === undefined ? undefined : relationCondition(this.table, alias, rel, filter as RelationWhere, this.#registry, this.#dialect);
      },
      this.#dialect,
    );
  }
}

/** A row's values of `cols` as one comparable string (numbers, bigints, dates and bytes as text). */
function keyText(cols: readonly string[], row: Record<string, unknown>): string {
  return JSON.stringify(cols.map((k) => {
    const v = row[k];
    return typeof v === 'number' || typeof v === 'bigint' ? String(v) : v instanceof Date ? v.toISOString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
  }));
}

/** Tables whose rows a `with` reads (relation targets and join tables, nested levels included). */
function relatedTables(t: Table, registry: RelationRegistry, withs: Record<string, unknown> | undefined): Table[] {
  if (withs === undefined) return [];
  const out: Table[] = [];
  const rels = registry.relationsOf(t);
  for (const [name, opts] of Object.entries(withs)) {
    const rel = rels[name];
    if (rel === undefined || opts === undefined) continue;
    const target = rel.target();
    out.push(target);
    if (rel.kind === 'manyToMany') out.push(rel.through());
    if (typeof opts === 'object' && opts !== null) out.push(...relatedTables(target, registry, (opts as FindOptions<Table>).with as Record<string, unknown> | undefined));
  }
  return out;
}

function normalizeOrder(t: Table, orderBy: OrderBy<Table> | undefined): Array<[string, Direction]> {
  if (orderBy === undefined) return [];
  const list = Array.isArray(orderBy) ? orderBy : [orderBy];
  const out: Array<[string, Direction]> = [];
  for (const o of list) {
    for (const [k, d] of Object.entries(o as Record<string, Direction>)) {
      if (t.sqlNames[k] === undefined) throw unknownName(t, k);
      if (d !== 'asc' && d !== 'desc') throw new Error(`order direction must be asc or desc, got ${String(d)}`);
      out.push([k, d]);
    }
  }
  return out;
}

/** Rows strictly after `after` in `order`: (k1 > v1) or (k1 = v1 and k2 > v2) or ... (per direction). */
function keyset(t: Table, a: string, order: Array<[string, Direction]>, after: Record<string, unknown>): Sql {
  if (order.length === 0) throw new Error('keyset pagination (after) needs an orderBy');
  const ors: Sql[] = [];
  for (let i = 0; i < order.length; i++) {
    const ands: Sql[] = [];
    for (let j = 0; j < i; j++) ands.push(sql`${sql.unsafe(`${a}.${quoteIdent(t.sqlNames[order[j]![0]]!)}`)} = ${after[order[j]![0]]}`);
    const [k, d] = order[i]!;
    if (!(k in after)) throw new Error(`after is missing the order-by column "${k}"`);
    ands.push(sql`${sql.unsafe(`${a}.${quoteIdent(t.sqlNames[k]!)}`)} ${sql.unsafe(d === 'asc' ? '>' : '<')} ${after[k]}`);
    ors.push(sql`(${sql.join(ands, ' and ')})`);
  }
  return sql`(${sql.join(ors, ' or ')})`;
}

/** `exists (...)` for a relation filter on rows of `t` aliased `alias`. */
function relationCondition(t: Table, alias: string, rel: Relation, filter: RelationWhere, registry: RelationRegistry, dialect: Dialect): Sql {
  const target = rel.target();
  const b = `${alias.replace(/"/g, '')}_${rel.kind === 'belongsTo' ? rel.foreignKey : target.name}`.replace(/[^\w]/g, '_');
  const tq = sql.unsafe(`${quoteIdent(target.name)} ${b}`);
  const targetWhere = (w: Record<string, unknown> | undefined | null): Sql =>
    compileWhere(
      target,
      b,
      w ?? undefined,
      (key, f) => {
        const r = registry.relationsOf(target)[key];
        return r === undefined ? undefined : relationCondition(target, b, r, f as RelationWhere, registry, dialect);
      },
      dialect,
    );
  let link: Sql;
  let from = tq;
  if (rel.kind === 'belongsTo') link = sql.unsafe(`${b}.${quoteIdent(target.sqlNames[target.primaryKey]!)} = ${alias}.${quoteIdent(t.sqlNames[rel.foreignKey]!)}`);
  else if (rel.kind === 'manyToMany') {
    const j = rel.through();
    const jb = `${b}j`;
    from = sql.unsafe(`${quoteIdent(target.name)} ${b} join ${quoteIdent(j.name)} ${jb} on ${jb}.${quoteIdent(j.sqlNames[rel.to]!)} = ${b}.${quoteIdent(target.sqlNames[target.primaryKey]!)}`);
    link = sql.unsafe(`${jb}.${quoteIdent(j.sqlNames[rel.from]!)} = ${alias}.${quoteIdent(t.sqlNames[t.primaryKey]!)}`);
  } else link = sql.unsafe(`${b}.${quoteIdent(target.sqlNames[rel.foreignKey]!)} = ${alias}.${quoteIdent(t.sqlNames[t.primaryKey]!)}`);
  const parts: Sql[] = [];
  if (filter.some !== undefined) parts.push(sql`exists (select 1 from ${from} where ${link} and ${targetWhere(filter.some)})`);
  if (filter.none !== undefined) parts.push(sql`not exists (select 1 from ${from} where ${link} and ${targetWhere(filter.none)})`);
  if (filter.is === null) parts.push(sql`not exists (select 1 from ${from} where ${link})`);
  else if (filter.is !== undefined) parts.push(sql`exists (select 1 from ${from} where ${link} and ${targetWhere(filter.is)})`);
  if (parts.length === 0) throw new Error('a relation filter needs some, none or is');
  return sql.join(parts, ' and ');
}

/** Loads `withs` onto `rows`: one query per relation (and per nested level), keyed by `= any($1)`. */
async function loadRelations(db: Queryable, t: Table, registry: RelationRegistry, rows: Record<string, unknown>[], withs: Record<string, true | FindOptions<Table> | undefined>): Promise<void> {
  const rels = registry.relationsOf(t);
  for (const [name, opts] of Object.entries(withs)) {
    if (opts === undefined) continue;
    const rel = rels[name];
    if (rel === undefined) throw new Error(`${t.name} has no relation "${name}"`);
    const target = rel.target();
    const sub = opts === true ? {} : opts;
    const repo = new Repository(db, target, registry);
    if (rel.kind === 'belongsTo') {
      const ids = [...new Set(rows.map((r) => r[rel.foreignKey]).filter((v) => v !== null && v !== undefined))];
      const found = ids.length === 0 ? [] : await repo.findMany({ ...sub, where: { ...(sub.where ?? {}), [target.primaryKey]: { in: ids } } as Where<Table> });
      const byId = new Map(found.map((r) => [(r as Record<string, unknown>)[target.primaryKey], r]));
      for (const r of rows) r[name] = byId.get(r[rel.foreignKey]) ?? null;
    } else if (rel.kind === 'hasMany' || rel.kind === 'hasOne') {
      const ids = [...new Set(rows.map((r) => r[t.primaryKey]))];
      const found = ids.length === 0 ? [] : await repo.findMany({ ...sub, where: { ...(sub.where ?? {}), [rel.foreignKey]: { in: ids } } as Where<Table> });
      const groups = new Map<unknown, unknown[]>();
      for (const f of found) {
        const k = (f as Record<string, unknown>)[rel.foreignKey];
        const g = groups.get(k);
        if (g === undefined) groups.set(k, [f]);
        else g.push(f);
      }
      for (const r of rows) {
        const g = groups.get(r[t.primaryKey]) ?? [];
        r[name] = rel.kind === 'hasOne' ? (g[0] ?? null) : g;
      }
    } else {
      const j = rel.through();
      const ids = [...new Set(rows.map((r) => r[t.primaryKey]))];
      const pairs = ids.length === 0 ? [] : (await new Repository(db, j, registry).findMany({ where: { [rel.from]: { in: ids } } as Where<Table>, select: [rel.from, rel.to] })) as Record<string, unknown>[];
      const targetIds = [...new Set(pairs.map((p) => p[rel.to]))];
      const found = targetIds.length === 0 ? [] : await repo.findMany({ ...sub, where: { ...(sub.where ?? {}), [target.primaryKey]: { in: targetIds } } as Where<Table> });
      // Each parent's targets in the order the target query gave them (its orderBy), not the join table's.
      const parentsOf = new Map<unknown, unknown[]>();
      for (const p of pairs) {
        const ps = parentsOf.get(p[rel.to]);
        if (ps === undefined) parentsOf.set(p[rel.to], [p[rel.from]]);
        else ps.push(p[rel.from]);
      }
      const groups = new Map<unknown, unknown[]>();
      for (const tgt of found) {
        for (const parent of parentsOf.get((tgt as Record<string, unknown>)[target.primaryKey]) ?? []) {
          const g = groups.get(parent);
          if (g === undefined) groups.set(parent, [tgt]);
          else g.push(tgt);
        }
      }
      for (const r of rows) r[name] = groups.get(r[t.primaryKey]) ?? [];
    }
  }
}
