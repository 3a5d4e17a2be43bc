/**
 * The SQLite driver (node:sqlite on Node ≥ 22.13, better-sqlite3 on Node 20): one connection shared
 * safely by concurrent async work, transactions that take the write lock at once, a clear error when
 * another process holds it too long, exact integers, WAL, foreign keys, `$n` parameters as on PostgreSQL.
 */
import { afterAll, expect, it } from 'vitest';
import { createApp } from '../../../lib/app/index.js';
import { SqliteDb, SqliteError } from '../../../lib/app/db/index.js';
import { testSqlite } from './helpers.js';

const t = testSqlite();
afterAll(() => t.drop());

it('files run in WAL mode with foreign keys on; $n parameters may repeat', async () => {
  expect(await t.db.sql`pragma journal_mode`).toEqual([{ journal_mode: 'wal' }]);
  await t.db.exec('create table parents (id integer primary key); create table kids (id integer primary key, parent_id integer references parents (id))');
  await expect(t.db.query('insert into kids (parent_id) values ($1)', [42])).rejects.toMatchObject({ name: 'SqliteError', status: 422 });
  expect((await t.db.query('select $1 as a, $1 || $2 as b', ['x', 'y'])).rows).toEqual([{ a: 'x', b: 'xy' }]);
});

it('a query issued while a transaction runs waits for it, and never sees its uncommitted rows', async () => {
  await t.db.exec('create table log (id integer primary key, msg text)');
  const seen: number[] = [];
  let inside!: () => void;
  const started = new Promise<void>((r) => (inside = r));
  const tx = t.db.transaction(async (q) => {
    await q.query('insert into log (msg) values ($1)', ['a']);
    inside();
    await new Promise((r) => setTimeout(r, 50));
    await q.query('insert into log (msg) values ($1)', ['b']);
  });
  await started;
  const count = t.db.sql<{ n: number }>`select count(*) as n from log`.then((r) => void seen.push(r[0]!.n));
  await Promise.all([tx, count]);
  expect(seen).toEqual([2]);
  // A failed transaction leaves nothing.
  await expect(t.db.transaction(async (q) => {
    await q.query("insert into log (msg) values ('c')");
    throw new Error('abort');
  })).rejects.toThrow('abort');
  expect(await t.db.sql`select count(*) as n from log`).toEqual([{ n: 2 }]);
});

it('a writer locked out by another connection past busyTimeoutMs gets a SqliteError saying so', async () => {
  const other = new SqliteDb(t.url.slice('sqlite://'.length), { busyTimeoutMs: 100 });
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const holder = t.db.transaction(async (q) => {
    await q.query("insert into log (msg) values ('holding')");
    locked();
    await held;
  });
  await isLocked;
  const err = await other.transaction(async () => 'never').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SqliteError);
  expect((err as SqliteError).busy).toBe(true);
  expect((err as SqliteError).message).toMatch(/locked|busy/i);
  release();
  await holder;
  expect(await other.transaction(async (q) => (await q.query('select count(*) as n from log')).rows)).toEqual([{ n: 3 }]);
  await other.close();
});

it('waiting for another connection of this process to commit does not block the event loop: the holder commits, the waiter goes on', async () => {
  // The holder commits only after a timer fires: had the waiter slept in SQLite's busy handler, the event
  // loop would stand still, the timer would never fire before the wait ran out, and the waiter would fail.
  await t.db.exec('create table waits (id integer primary key, who text)');
  const other = new SqliteDb(t.url.slice('sqlite://'.length), { busyTimeoutMs: 10_000 });
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const order: string[] = [];
  const holder = t.db.transaction(async (q) => {
    await q.query("insert into waits (who) values ('holder')");
    locked();
    await new Promise((r) => setTimeout(r, 30));
    order.push('holder commits');
  });
  await isLocked;
  // A transaction and a statement outside one, both from the other connection, both while the lock is held.
  const tx = other.transaction(async (q) => {
    order.push('waiter begins');
    await q.query("insert into waits (who) values ('waiter tx')");
  });
  const single = other.query("insert into waits (who) values ('waiter statement')");
  await Promise.all([holder, tx, single]);
  expect(order).toEqual(['holder commits', 'waiter begins']);
  expect((await t.db.query('select who from waits order by id')).rows).toEqual([{ who: 'holder' }, { who: 'waiter tx' }, { who: 'waiter statement' }]);
  await other.close();
});

it('a statement outside a transaction waits for the lock too, and past busyTimeoutMs fails busy', async () => {
  const patient = new SqliteDb(t.url.slice('sqlite://'.length), { busyTimeoutMs: 10_000 });
  let nowLocked!: () => void;
  const lockTaken = new Promise<void>((r) => (nowLocked = r));
  const briefly = t.db.transaction(async (q) => {
    await q.query("insert into waits (who) values ('briefly')");
    nowLocked();
    await new Promise((r) => setTimeout(r, 30));
  });
  await lockTaken;
  await patient.query("insert into waits (who) values ('patient')"); // issued while the lock is held
  await briefly;
  expect((await t.db.query("select who from waits where who in ('briefly', 'patient') order by id")).rows).toEqual([{ who: 'briefly' }, { who: 'patient' }]);
  await patient.close();

  const other = new SqliteDb(t.url.slice('sqlite://'.length), { busyTimeoutMs: 50 });
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const holder = t.db.transaction(async (q) => {
    await q.query("insert into waits (who) values ('holding')");
    locked();
    await held;
  });
  await isLocked;
  const err = await other.query("insert into waits (who) values ('late')").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SqliteError);
  expect((err as SqliteError).busy).toBe(true);
  // Through an app: overload, so 503 with Retry-After, and none of SQLite's words.
  const app = createApp({ logger: false });
  app.get('/late', async () => (await other.query("insert into waits (who) values ('late')")).rowCount);
  const res = await app.inject({ method: 'GET', url: '/late' });
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('1');
  expect(res.body.toString()).not.toMatch(/locked|SQLITE/i);
  release();
  await holder;
  await other.query("insert into waits (who) values ('after')");
  expect((await t.db.query("select count(*) as n from waits where who in ('late', 'after')")).rows).toEqual([{ n: 1 }]);
  await other.close();
});

it('integers are exact: numbers where they fit, bigints beyond 2^53', async () => {
  const rows = await t.db.sql`select 42 as small, 9007199254740993 as big, -9007199254740991 as edge`;
  expect(rows).toEqual([{ small: 42, big: 9007199254740993n, edge: -9007199254740991 }]);
});
