/**
 * `createOrm(db, { tables, relations })`: a repository per table (`orm.notes.findMany(...)`), relations
 * resolved by table, and `orm.transaction` giving the same repositories inside a transaction.
 */
import type { Queryable, TransactionOptions } from '../db/db.js';
import { Repository, type AuditSink, type QueryCache, type RelationRegistry, type Relations } from './repository.js';
import type { Table } from './table.js';

export interface Schema {
  tables: Record<string, Table>;
  relations?: Record<string, Relations>;
}

// A table without relations gets none (`{}`), not "any name is a relation": that would make every
// column filter in `where` a relation filter to the type checker.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no relations
type NoRelations = {};
type Repos<S extends Schema> = {
  [K in keyof S['tables']]: Repository<S['tables'][K], K extends keyof NonNullable<S['relations']> ? NonNullable<S["relations"]>[K] : NoRelations>;
};

export type Orm<S extends Schema> = Repos<S> & {
  /** The executor (database or transaction) the repositories run on. */
  readonly db: Queryable;
  /**
   * Runs `fn` in a transaction with repositories bound to it.
   *
   * @example
   * ```ts
   * await orm.transaction(async (tx) => {
   *   const [u] = await tx.users.insert({ email });
   *   await tx.notes.insert({ ownerId: u.id, title: 'Welcome' });
   * });
   * ```
   */
  transaction<T>(fn: (tx: Orm<S>) => Promise<T>, options?: TransactionOptions): Promise<T>;
};

/**
 * @example
 * ```ts
 * const orm = createOrm(createDb(), {
 *   tables: { users, notes },
 *   relations: { notes: { owner: belongsTo(() => users, 'ownerId') }, users: { notes: hasMany(() => notes, 'ownerId') } },
 * });
 * const withOwners = await orm.notes.findMany({ with: { owner: true } });
 * // With a cache (covet/app/cache): results cached by statement, dropped when the ORM writes their tables.
 * const cached = createOrm(db, schema, { cache });
 * await cached.notes.findMany({ where: { ownerId: 1 }, cache: { ttl: 30_000 } });
 * // Every write recorded in an audit log (covet/app/audit), in the write's transaction.
 * const audited = createOrm(db, schema, { audit: createAuditLog(db) });
 * ```
 */
export function createOrm<S extends Schema>(db: Queryable, schema: S, options: { cache?: QueryCache; audit?: AuditSink } = {}): Orm<S> {
  const byTable = new Map<Table, Relations>();
  // Relations by name without a prototype: a filter key `constructor` is not a relation.
  const noProto = (r: object | undefined): Relations => Object.assign(Object.create(null) as Relations, r);
  for (const [name, t] of Object.entries(schema.tables)) byTable.set(t, noProto(schema.relations?.[name]));
  const none = noProto(undefined);
  const registry: RelationRegistry = { relationsOf: (t) => byTable.get(t) ?? none, cache: options.cache, ...(options.audit === undefined ? {} : { audit: options.audit }) };
  const build = (exec: Queryable): Orm<S> => {
    const orm: Record<string, unknown> = {
      db: exec,
      transaction: <T>(fn: (tx: Orm<S>) => Promise<T>, options?: TransactionOptions) => exec.transaction((tx) => fn(build(tx)), options),
    };
    for (const [name, t] of Object.entries(schema.tables)) orm[name] = new Repository(exec, t, registry);
    return orm as Orm<S>;
  };
  return build(db);
}
