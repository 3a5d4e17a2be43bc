/**
 * Column builders: each carries its SQL type and, in its type parameters, the JS type of its values,
 * whether it may be NULL and whether it has a default — from which a table's row and insert types are
 * inferred.
 */
import { Sql, sql } from '../db/sql.js';

export type OnDelete = 'cascade' | 'restrict' | 'set null' | 'no action';

/** @internal The column's settings, read by DDL generation and the migration differ. */
export interface ColumnSpec {
  sqlType: string;
  notNull: boolean;
  primaryKey: boolean;
  unique: boolean;
  /** Covered by a key — primary (alone or composite), unique, an index — set by `table()`: MySQL keys no TEXT column, so such a `text` is varchar(255) there. */
  keyed: boolean;
  /** A value (sent as a parameter) or an SQL expression (`now()`). */
  default: { sql: string } | { value: unknown } | null;
  references: { target: () => Column<unknown, boolean, boolean>; onDelete: OnDelete } | null;
  /** Set when the table is built. */
  table: string;
  column: string;
}

/**
 * `T` the JS value type, `N` true when NULL is allowed, `D` true when the database fills it in.
 *
 * @example
 * ```ts
 * const email = varchar(254).notNull().unique();   // Column<string, false, false>
 * const createdAt = timestamptz().notNull().default(now()); // filled in by the database
 * ```
 */
export class Column<T = unknown, N extends boolean = true, D extends boolean = false> {
  /** @internal Type carriers, never set at run time. */
  declare readonly _t: T;
  declare readonly _n: N;
  declare readonly _d: D;
  /** @internal */
  readonly spec: ColumnSpec;

  constructor(sqlType: string, spec: Partial<ColumnSpec> = {}) {
    this.spec = { sqlType, notNull: false, primaryKey: false, unique: false, keyed: false, default: null, references: null, table: '', column: '', ...spec };
  }

  #with(patch: Partial<ColumnSpec>): Column<T, N, D> {
    return new Column<T, N, D>(this.spec.sqlType, { ...this.spec, ...patch });
  }

  notNull(): Column<T, false, D> {
    return this.#with({ notNull: true }) as unknown as Column<T, false, D>;
  }

  primaryKey(): Column<T, false, D> {
    return this.#with({ primaryKey: true, notNull: true }) as unknown as Column<T, false, D>;
  }

  unique(): Column<T, N, D> {
    return this.#with({ unique: true });
  }

  /** A default value (a parameter) or SQL expression (`sql\`now()\``). */
  default(value: T | Sql): Column<T, N, true> {
    if (value instanceof Sql) {
      const c = value.compile();
      if (c.values.length > 0) throw new Error('a column default expression cannot take parameters');
      return this.#with({ default: { sql: c.text } }) as unknown as Column<T, N, true>;
    }
    return this.#with({ default: { value } }) as unknown as Column<T, N, true>;
  }

  /** A foreign key to another table's column. */
  references(target: () => Column<unknown, boolean, boolean>, options: { onDelete?: OnDelete } = {}): Column<T, N, D> {
    return this.#with({ references: { target: target as () => Column<unknown, boolean, boolean>, onDelete: options.onDelete ?? 'no action' } });
  }

  /** @internal Bound to its table and SQL column name. */
  bind(table: string, column: string): Column<T, N, D> {
    return this.#with({ table, column, keyed: this.spec.keyed || this.spec.primaryKey || this.spec.unique });
  }
}

export const integer = (): Column<number> => new Column('integer');
export const smallint = (): Column<number> => new Column('smallint');
/** int8: as a string, exactly (the driver's default for int8). */
export const bigint = (): Column<string> => new Column('bigint');
export const serial = (): Column<number, false, true> => new Column<number, false, true>('serial', { notNull: true });
export const bigserial = (): Column<string, false, true> => new Column<string, false, true>('bigserial', { notNull: true });
export const text = (): Column<string> => new Column('text');
export const varchar = (length: number): Column<string> => new Column(`varchar(${length})`);
export const boolean = (): Column<boolean> => new Column('boolean');
export const doublePrecision = (): Column<number> => new Column('double precision');
export const real = (): Column<number> => new Column('real');
/** numeric as a string (exact decimal). */
export const numeric = (precision?: number, scale?: number): Column<string> => new Column(precision === undefined ? 'numeric' : `numeric(${precision}${scale === undefined ? '' : `, ${scale}`})`);
export const timestamptz = (): Column<Date> => new Column('timestamptz');
export const timestamp = (): Column<Date> => new Column('timestamp');
/** date as `YYYY-MM-DD`. */
export const date = (): Column<string> => new Column('date');
export const uuid = (): Column<string> => new Column('uuid');
export const bytea = (): Column<Buffer> => new Column('bytea');
export const jsonb = <T = unknown>(): Column<T> => new Column('jsonb');
export const textArray = (): Column<string[]> => new Column('text[]');
export const integerArray = (): Column<number[]> => new Column('integer[]');

/** `now()` as a column default. */
export const now = (): Sql => sql`now()`;
/** `gen_random_uuid()` as a column default. */
export const randomUuid = (): Sql => sql`gen_random_uuid()`;
