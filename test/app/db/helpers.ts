/**
 * Test databases: each run creates its own database on the local PostgreSQL (dropped afterwards) or a
 * fresh in-memory PGlite, so the same suite runs against both.
 */
import { randomBytes } from 'node:crypto';
import { createDb, type Db, type DbOptions } from '../../../lib/app/db/index.js';

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
