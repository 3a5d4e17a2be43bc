/**
 * Identifiers are quoted with `"` doubled (#28: a quoting mutant that stopped escaping `"` survived the
 * suite): a table and a column whose names hold a double quote work through every ORM statement, on
 * PostgreSQL (PGlite) and SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../lib/app/db/index.js';
import { createOrm, integer, serial, table, text } from '../../../lib/app/orm/index.js';
import { quoteIdent, quoteLiteral } from '../../../lib/app/db/sql.js';
import { testDb, testSqlite } from '../db/helpers.js';

const odd = table('t"q', { id: serial().primaryKey(), 'na"me': text().notNull(), n: integer() });

it('quoteIdent doubles a double quote; quoteLiteral a single one', () => {
  expect(quoteIdent('a"b')).toBe('"a""b"');
  expect(quoteIdent('"; drop table x; --')).toBe('"""; drop table x; --"');
  expect(quoteLiteral("it's")).toBe("'it''s'");
  expect(quoteLiteral("'; drop role x; --")).toBe("'''; drop role x; --'");
});

for (const kind of ['pglite', 'sqlite'] as const) {
  describe(`an identifier holding " on ${kind}`, () => {
    let t: { db: Database; drop(): Promise<void> };
    beforeAll(async () => {
      t = kind === 'sqlite' ? testSqlite() : await testDb('pglite');
      await t.db.query(kind === 'sqlite' ? 'create table "t""q" (id integer primary key, "na""me" text not null, n integer)' : 'create table "t""q" (id serial primary key, "na""me" text not null, n integer)');
    });
    afterAll(() => t.drop());

    it('insert, find, filter, aggregate, update and delete', async () => {
      const orm = createOrm(t.db, { tables: { odd } });
      const [a] = await orm.odd.insert({ 'na"me': 'x', n: 1 });
      await orm.odd.insert({ 'na"me': 'y', n: 2 });
      expect((await orm.odd.find(a!.id))?.['na"me']).toBe('x');
      expect((await orm.odd.findMany({ where: { 'na"me': { in: ['y'] } } })).map((r) => r.n)).toEqual([2]);
      expect(await orm.odd.aggregate({ groupBy: ['na"me'], sum: ['n'], orderBy: undefined })).toHaveLength(2);
      await orm.odd.update({ id: a!.id }, { 'na"me': 'z' });
      expect((await orm.odd.find(a!.id))?.['na"me']).toBe('z');
      expect(await orm.odd.delete({ 'na"me': 'z' })).toHaveLength(1);
      expect(await orm.odd.count()).toBe(1);
    });
  });
}
