/**
 * `openDatabase()`: the database a URL names — PostgreSQL or PGlite, SQLite, MySQL/MariaDB — behind one
 * `Queryable`.
 */
import { Db, type DbOptions } from './db.js';
import { MysqlDb } from './mysql.js';
import { SqliteDb, sqlitePath } from './sqlite.js';

/** Any database covet speaks: PostgreSQL or PGlite ({@link Db}), SQLite ({@link SqliteDb}), MySQL/MariaDB ({@link MysqlDb}). */
export type Database = Db | SqliteDb | MysqlDb;

/**
 * Opens the database `url` names (default `DATABASE_URL`): `postgres://...` a server, `pglite:...` or no
 * URL at all PGlite, `sqlite:///path.db` or `sqlite::memory:` SQLite, `mysql://user:pass@host/db` (or
 * `mariadb://`) MySQL/MariaDB. What they share — `query`, `sql`,
 * `exec`, `transaction`, `ping`, `close`, and the ORM and migrations on top — works the same on each;
 * narrow by `db.kind` for the rest (COPY and LISTEN are PostgreSQL's).
 *
 * @example
 * ```ts
 * const db = openDatabase(); // DATABASE_URL=sqlite:///var/data/app.db, or postgres://..., or PGlite
 * const orm = createOrm(db, schema);
 * ```
 */
export function openDatabase(options: DbOptions = {}): Database {
  const url = options.url ?? process.env.DATABASE_URL;
  if (url !== undefined && /^(sqlite|mysql|mariadb):/i.test(url) && options.replicas !== undefined && options.replicas.length > 0) {
    throw new Error(`read replicas are supported with PostgreSQL; ${url.split(':')[0]} routes every query to DATABASE_URL`);
  }
  if (url !== undefined && /^sqlite:/i.test(url)) return new SqliteDb(sqlitePath(url));
  if (url !== undefined && /^(mysql|mariadb):/i.test(url)) return new MysqlDb(url.replace(/^mariadb:/i, 'mysql:'), { max: options.max });
  return new Db(options);
}
