/**
 * servePglite: one PGlite shared over the wire protocol by several clients — our driver, Node's `pg`-less
 * peers (psql when installed) — with transactions kept whole, statement names kept apart, and a closed
 * client's transaction rolled back.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb, type Db } from '../../../lib/app/db/index.js';
import { servePglite, type PgliteServer } from '../../../lib/app/db/pglite-server.js';
import type { PGliteLike } from '../../../lib/app/db/transport.js';

let pg: PGlite;
let server: PgliteServer;
const dbs: Db[] = [];
const open = (options: { max?: number } = {}): Db => {
  const db = createDb({ url: server.url, ...options });
  dbs.push(db);
  return db;
};

beforeAll(async () => {
  pg = await PGlite.create();
  server = await servePglite(pg as unknown as PGliteLike);
  await pg.exec('create table t (id int primary key, v text)');
}, 60_000);
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.close()));
  await server.close();
  await pg.close();
});

it('answers our driver: parameters, types and errors pass through', async () => {
  const db = open();
  expect((await db.query('select $1::int + 1 as n, $2::text as s', [41, 'x'])).rows).toEqual([{ n: 42, s: 'x' }]);
  await expect(db.query('select * from nope')).rejects.toMatchObject({ code: '42P01' });
  expect((await db.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
});

it("another client waits while one is inside a transaction, and never sees its uncommitted rows", async () => {
  const a = open();
  const b = open();
  const seen: number[] = [];
  let inside!: () => void;
  const started = new Promise<void>((r) => (inside = r));
  const tx = a.transaction(async (t) => {
    await t.query("insert into t values (1, 'a')");
    inside();
    await new Promise((r) => setTimeout(r, 100));
    await t.query("insert into t values (2, 'b')");
  });
  await started;
  const count = b.query<{ n: number }>('select count(*)::int as n from t').then((r) => void seen.push(r.rows[0]!.n));
  await Promise.all([tx, count]);
  expect(seen).toEqual([2]); // ran after the commit, not between the two inserts
});

it('prepared statements of two clients with the same names do not collide', async () => {
  // Each driver names its statements alike (s1, s2, ...); both prepare different SQL under those names.
  const a = open();
  const b = open();
  for (let i = 0; i < 5; i++) {
    const [ra, rb] = await Promise.all([a.query('select $1::int * 2 as x', [i]), b.query("select $1::text || '!' as y", [String(i)])]);
    expect(ra.rows).toEqual([{ x: i * 2 }]);
    expect(rb.rows).toEqual([{ y: `${i}!` }]);
  }
});

it("a client that disconnects inside a transaction leaves it rolled back and the session free", async () => {
  const a = open({ max: 1 });
  const b = open();
  let drop!: () => void;
  const dropped = new Promise<void>((r) => (drop = r));
  const tx = a.transaction(async (t) => {
    await t.query("insert into t values (100, 'lost')");
    drop();
    await new Promise((r) => setTimeout(r, 10_000));
  });
  tx.catch(() => {});
  await dropped;
  await a.close(); // the socket goes away mid-transaction
  const rows = (await b.query('select * from t where id = 100')).rows;
  expect(rows).toEqual([]);
  expect((await b.query("insert into t values (101, 'kept') returning id")).rows).toEqual([{ id: 101 }]);
}, 20_000);

// psql comes with PostgreSQL, which the suite needs anyway (.ci/run installs it).
it('psql (libpq) reads what the driver wrote, with its own prepared statements and a transaction', async () => {
  const db = open();
  await db.query("insert into t values (7, 'from the driver') on conflict do nothing");
  const psql = (sql: string) => promisify(execFile)('psql', [server.url, '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8', timeout: 10_000 });
  expect((await psql('select v from t where id = 7')).stdout.trim()).toBe('from the driver');
  await psql("begin; insert into t values (8, 'from psql'); commit;");
  expect((await db.query('select v from t where id = 8')).rows).toEqual([{ v: 'from psql' }]);
});
