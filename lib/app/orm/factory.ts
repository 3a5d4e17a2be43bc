/**
 * Test and demo data (#30.11): a factory makes rows of one table — `build` the values, `create` inserts
 * them through the table's repository (so audit, cache and dialect apply as to any insert) — from a
 * function of a sequence number, with overrides per call. A default may be a function, called only when
 * the value is not overridden: that is how a related row is made (`ownerId: async () => (await
 * users.create()).id`) — and not made when the test gives its own.
 *
 * @example
 * ```ts
 * const users = factory(orm.users, (n) => ({ name: `user ${n}` }));
 * const todos = factory(orm.todos, (n) => ({ title: `todo ${n}`, ownerId: async () => (await users.create()).id }));
 * const [a, b] = await todos.createMany(2, { done: true }); // two users made on the way
 * const mine = await todos.create({ ownerId: ann.id });     // none made
 * ```
 */
import type { Relations, Repository } from './repository.js';
import type { Insert, Row, Table } from './table.js';

export interface Factory<T extends Table> {
  /** The values of one row: the defaults for the next number, then `overrides`. Nothing is written. */
  build(overrides?: Partial<Insert<T>>): Promise<Insert<T>>;
  /** One row inserted, as the database returns it. */
  create(overrides?: Partial<Insert<T>>): Promise<Row<T>>;
  /** `count` rows inserted, in order (one insert each: their defaults may make related rows). */
  createMany(count: number, overrides?: Partial<Insert<T>> | ((i: number) => Partial<Insert<T>>)): Promise<Row<T>[]>;
}

/** A factory's defaults: each value as it is, or a function making it (called only when not overridden). */
export type FactoryDefaults<T extends Table> = { [K in keyof Insert<T>]: Insert<T>[K] | (() => Insert<T>[K] | Promise<Insert<T>[K]>) };

/**
 * A factory for the rows of `repo`'s table. `defaults(n)` gives the values of the n-th row (1, 2, …; one
 * sequence per factory, so unique columns can use it).
 *
 * @example
 * ```ts
 * const users = factory(orm.users, (n) => ({ email: `user${n}@example.com`, name: `User ${n}` }));
 * const alice = await users.create({ name: 'Alice' });
 * await users.createMany(3);
 * ```
 */
export function factory<T extends Table, R extends Relations>(repo: Repository<T, R>, defaults: (n: number) => FactoryDefaults<T>): Factory<T> {
  let n = 0;
  const build = async (overrides: Partial<Insert<T>> = {}): Promise<Insert<T>> => {
    const base = defaults(++n) as Record<string, unknown>;
    const given = overrides as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of new Set([...Object.keys(base), ...Object.keys(given)])) {
      const v = given[k] !== undefined ? given[k] : base[k];
      out[k] = typeof v === 'function' ? await (v as () => unknown)() : v;
    }
    return out as Insert<T>;
  };
  const create = async (overrides?: Partial<Insert<T>>): Promise<Row<T>> => {
    const [row] = await repo.insert(await build(overrides));
    if (row === undefined) throw new Error(`${repo.table.name}: the insert returned no row`);
    return row;
  };
  return {
    build,
    create,
    async createMany(count, overrides) {
      const out: Row<T>[] = [];
      for (let i = 0; i < count; i++) out.push(await create(typeof overrides === 'function' ? overrides(i) : overrides));
      return out;
    },
  };
}
