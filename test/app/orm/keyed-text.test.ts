/**
 * One schema on every database (#30): a `text` column that a key covers — a primary key (alone or composite),
 * UNIQUE, an index — cannot be TEXT on MySQL/MariaDB ("BLOB/TEXT column used in key specification without a key
 * length"; MariaDB hashes a UNIQUE one, MySQL 8 refuses that too). There it is varchar(255); elsewhere text. The
 * DDL runs on MariaDB, the schema then matches (nothing to generate), and a table made with the old TEXT UNIQUE
 * is moved to varchar(255) by the generated migration.
 */
import { describe, expect, it } from 'vitest';
import { createOrm, createSchemaSql, diffSchema, integer, serial, table, text } from '../../../lib/app/orm/index.js';
import { testMysql } from '../db/helpers.js';

const codes = table('codes', { code: text().primaryKey(), email: text().notNull().unique(), tag: text(), note: text() }, { indexes: [{ columns: ['tag'] }] });
const pairs = table('pairs', { a: text(), b: text(), n: integer() }, { primaryKey: ['a', 'b'] });
const plain = table('plain', { id: serial().primaryKey(), body: text().notNull() });

describe('text columns under a key', () => {
  it('are varchar(255) on MySQL only; an unkeyed text stays text everywhere', () => {
    const my = createSchemaSql([codes, pairs, plain], 'mysql').up.join('\n');
    expect(my).toContain('"code" varchar(255) primary key');
    expect(my).toContain('"email" varchar(255) not null unique');
    expect(my).toContain('"tag" varchar(255)');
    expect(my).toContain('"note" text');
    expect(my).toMatch(/"a" varchar\(255\) not null,\s+"b" varchar\(255\) not null/);
    expect(my).toContain('"body" text not null');
    for (const d of ['postgres', 'sqlite'] as const) {
      const ddl = createSchemaSql([codes, pairs], d).up.join('\n');
      expect(ddl).not.toContain('varchar');
      expect(ddl).toContain('"code" text primary key');
    }
  });

  it('an index naming a column the table does not have is refused when the table is declared', () => {
    expect(() => table('t', { id: serial().primaryKey() }, { indexes: [{ columns: ['nope' as 'id'] }] })).toThrow('table t: index column nope is not a column');
  });

  it('the DDL runs on MariaDB, the schema then matches, and rows go in and out', async () => {
    const m = await testMysql();
    try {
      for (const s of createSchemaSql([codes, pairs, plain], 'mysql').up) await m.db.exec(s);
      expect(await diffSchema(m.db, [codes, pairs, plain])).toEqual({ up: [], down: [] });
      const orm = createOrm(m.db, { tables: { codes, pairs } });
      await orm.codes.insert({ code: 'c1', email: 'ann@example.com', tag: 't', note: 'x'.repeat(10_000) });
      await expect(orm.codes.insert({ code: 'c2', email: 'ann@example.com' })).rejects.toMatchObject({ status: 409 });
      await orm.pairs.insert({ a: 'x', b: 'y', n: 1 });
      expect(await orm.codes.findFirst({ where: { tag: 't' } })).toMatchObject({ code: 'c1' });
    } finally {
      await m.drop();
    }
  });

  it('a table made with TEXT UNIQUE (MariaDB took it) is moved to varchar(255) by the generated migration', async () => {
    const m = await testMysql();
    try {
      await m.db.exec('create table "users" ("id" integer auto_increment primary key, "email" text not null unique)');
      const users = table('users', { id: serial().primaryKey(), email: text().notNull().unique() });
      const diff = await diffSchema(m.db, [users]);
      expect(diff.up).toEqual(['alter table "users" modify column "email" varchar(255) not null;']);
      for (const s of diff.up) await m.db.exec(s);
      expect(await diffSchema(m.db, [users])).toEqual({ up: [], down: [] });
    } finally {
      await m.drop();
    }
  });
});
