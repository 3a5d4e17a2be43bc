/**
 * Test databases: each run creates its own database on the local PostgreSQL (dropped afterwards) or a
 * fresh in-memory PGlite, so the same suite runs against both.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, MysqlDb, SqliteDb, type Db, type DbOptions } from '../../../lib/app/db/index.js';
import type { SqliteOptions } from '../../../lib/app/db/sqlite.js';

export const ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDb {
  db: Db;
  url: string | undefined;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty database: `kind` `postgres` (a real server) or `pglite` (embedded). */
export async function testDb(kind: 'postgres' | 'pglite', options: DbOptions = {}): Promise<TestDb> {
  if (kind === 'pglite') {
    const db = createDb({ ...options, url: 'pglite://memory' });
    return { db, url: undefined, name: 'pglite', drop: () => db.close() };
  }
  const name = `covet_test_${randomBytes(5).toString('hex')}`;
  const admin = createDb({ url: ADMIN_URL, max: 1 });
  await admin.exec(`create database ${name}`);
  const url = ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  const db = createDb({ ...options, url });
  return {
    db,
    url,
    name,
    async drop() {
      await db.close();
      await admin.exec(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
}

export interface TestSqlite {
  db: SqliteDb;
  /** `sqlite:///...`: a second connection to the same file opens it. */
  url: string;
  drop(): Promise<void>;
}

/** A new SQLite database in a temporary file (a file, not :memory:, so two connections can share it). */
export function testSqlite(options: SqliteOptions = {}): TestSqlite {
  const path = join(tmpdir(), `covet_test_${randomBytes(5).toString('hex')}.db`);
  const db = new SqliteDb(path, options);
  return {
    db,
    url: `sqlite://${path}`,
    async drop() {
      await db.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    },
  };
}

export const MYSQL_ADMIN_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql';

export interface TestMysql {
  db: MysqlDb;
  url: string;
  drop(): Promise<void>;
}

/**
 * A new, empty database on the local MariaDB/MySQL (dropped afterwards). `query`: URL parameters of the
 * test's connections (`returning=false` makes MariaDB take MySQL's way: no INSERT/DELETE ... RETURNING).
 */
export async function testMysql(query = ''): Promise<TestMysql> {
  const name = `covet_test_${randomBytes(5).toString('hex')}`;
  const admin = new MysqlDb(MYSQL_ADMIN_URL, { max: 1 });
  await admin.exec(`create database ${name} character set utf8mb4`);
  const url = MYSQL_ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${name}$1`) + query;
  const db = new MysqlDb(url);
  return {
    db,
    url,
    async drop() {
      await db.close();
      await admin.exec(`drop database if exists ${name}`);
      await admin.close();
    },
  };
}
