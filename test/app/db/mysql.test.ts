/**
 * The MySQL/MariaDB driver against the local MariaDB: `$n` parameters (repeated too), strict values (an
 * over-long string is refused, never cut), errors answered with the status the client's data calls for,
 * UTC dates, transactions with savepoints, and a deadlock retried when `retries` allows.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MysqlError, type MysqlDb } from '../../../lib/app/db/index.js';
import { testMysql, type TestMysql } from './helpers.js';

let t: TestMysql;
let db: MysqlDb;
beforeAll(async () => {
  t = await testMysql();
  db = t.db;
  await db.exec(`
    create table parents (id integer primary key, name varchar(5) not null unique);
    create table kids (id integer auto_increment primary key, parent_id integer not null, at datetime(3), constraint kids_parent foreign key (parent_id) references parents (id));
  `);
}, 30_000);
afterAll(() => t.drop());

it('$n parameters may repeat and come in any order', async () => {
  expect((await db.query('select $2 as a, $1 as b, concat($1, $2, $1) as c', ['x', 'y'])).rows).toEqual([{ a: 'y', b: 'x', c: 'xyx' }]);
});

it('errors carry the status the data calls for: duplicate 409; foreign key, NULL, too long, out of range 422', async () => {
  await db.query('insert into parents (id, name) values ($1, $2)', [1, 'ann']);
  const fail = (text: string, values: unknown[]) => db.query(text, values).then(() => null, (e: unknown) => e as MysqlError);
  expect(await fail('insert into parents (id, name) values ($1, $2)', [2, 'ann'])).toMatchObject({ name: 'MysqlError', errno: 1062, status: 409 });
  expect(await fail('insert into kids (parent_id) values ($1)', [99])).toMatchObject({ errno: 1452, status: 422 });
  expect(await fail('insert into parents (id, name) values ($1, $2)', [3, null])).toMatchObject({ errno: 1048, status: 422 });
  expect(await fail('insert into parents (id, name) values ($1, $2)', [4, 'much too long'])).toMatchObject({ errno: 1406, status: 422 }); // strict: not truncated
  expect(await fail('insert into parents (id, name) values ($1, $2)', [2 ** 40, 'big'])).toMatchObject({ errno: 1264, status: 422 });
});

it('dates go in and come out in UTC, to the millisecond', async () => {
  const at = new Date('2026-12-02T23:59:58.123Z');
  await db.query('insert into kids (parent_id, at) values ($1, $2)', [1, at]);
  const [row] = await db.sql<{ at: Date }>`select at from kids order by id desc limit 1`;
  expect(row!.at).toEqual(at);
});

it('transactions roll back on throw, savepoints nest', async () => {
  await expect(db.transaction(async (tx) => {
    await tx.query("insert into parents (id, name) values (10, 'tx')");
    await tx.transaction(async (inner) => inner.query("insert into parents (id, name) values (11, 'in')"));
    throw new Error('abort');
  })).rejects.toThrow('abort');
  expect(await db.sql`select count(*) as n from parents where id in (10, 11)`).toEqual([{ n: 0 }]);
  await db.transaction(async (tx) => {
    await tx.query("insert into parents (id, name) values (12, 'ok')");
    await expect(tx.transaction(async (inner) => {
      await inner.query("insert into parents (id, name) values (13, 'no')");
      throw new Error('inner');
    })).rejects.toThrow('inner');
  });
  expect((await db.sql<{ id: number }>`select id from parents where id in (12, 13)`).map((r) => r.id)).toEqual([12]);
});

it('a deadlock is retried with retries set: both transactions end up committed', async () => {
  await db.exec("insert into parents (id, name) values (20, 'a'), (21, 'b')");
  let both!: () => void;
  let arrived = 0;
  const gate = new Promise<void>((r) => (both = r));
  const swap = (first: number, second: number) =>
    db.transaction(
      async (tx) => {
        await tx.query('update parents set name = name where id = $1', [first]);
        if (++arrived === 2) both();
        await gate;
        await tx.query('update parents set name = name where id = $1', [second]);
      },
      { retries: 3 },
    );
  // Opposite lock orders: InnoDB picks a victim (1213), which runs again and succeeds.
  await expect(Promise.all([swap(20, 21), swap(21, 20)])).resolves.toHaveLength(2);
});
