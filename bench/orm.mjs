// ORM bench across the databases covet speaks: the same three operations — a row by primary key, a page
// of 50 rows (filter, order, limit), an insert returning the row — through covet's ORM, through the same
// connection with hand-written SQL (the "raw driver" floor), and through Kysely, a peer query builder, on
// the same driver where Kysely has one (SQLite: the same engine; MySQL/MariaDB: mysql2) and on `pg` for
// PostgreSQL (Kysely has no dialect for covet's driver). Interleaved rounds, median ops/s.
import { createRequire } from 'node:module';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { openDatabase } from '../dist/lib/app/db/index.js';
import { createOrm, integer, serial, table as defineTable, text, boolean, diffSchema } from '../dist/lib/app/orm/index.js';
import { fmt, log, table, writeSection, median } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const require = createRequire(import.meta.url);

const items = defineTable('bench_items', { id: serial().primaryKey(), name: text().notNull(), n: integer().notNull(), done: boolean().notNull() });

async function timed(fn) {
  const warm = Date.now() + 200;
  while (Date.now() < warm) await fn();
  let n = 0;
  const t0 = process.hrtime.bigint();
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    await fn();
    n++;
  }
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}


/** The node:sqlite database shaped as Kysely's SqliteDialect expects (better-sqlite3's interface). */
function kyselySqliteOn(path) {
  let Database;
  try {
    const { DatabaseSync } = require('node:sqlite');
    Database = class {
      constructor(p) {
        this.db = new DatabaseSync(p);
      }
      prepare(sql) {
        const s = this.db.prepare(sql);
        return { reader: s.columns().length > 0, all: (p) => s.all(...p), run: (p) => s.run(...p), iterate: (p) => s.iterate(...p) };
      }
      close() {
        this.db.close();
      }
    };
  } catch {
    Database = require('better-sqlite3');
  }
  const db = new Database(path);
  db.prepare('pragma busy_timeout = 5000').run([]);
  return new Kysely({ dialect: new SqliteDialect({ database: db }) });
}

async function backend(kind) {
  const url = kind === 'postgres' ? (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres') : kind === 'sqlite' ? `sqlite://${process.cwd()}/bench/.tmp/orm-bench.db` : (process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/covet_bench');
  if (kind === 'mysql') {
    const admin = openDatabase({ url: url.replace(/\/[^/]*$/, '/mysql') });
    await admin.exec('create database if not exists covet_bench');
    await admin.close();
  }
  if (kind === 'sqlite') (await import('node:fs')).mkdirSync('bench/.tmp', { recursive: true });
  const db = openDatabase({ url });
  await db.exec('drop table if exists bench_items');
  await db.exec((await diffSchema(db, [items])).up.join('\n'));
  const orm = createOrm(db, { tables: { items } });
  for (let i = 0; i < 10; i++) await orm.items.insert(Array.from({ length: 100 }, (_, j) => ({ name: `item ${i * 100 + j}`, n: (i * 100 + j) % 97, done: j % 2 === 0 })));
  const kysely =
    kind === 'postgres'
      ? new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10 }) }) })
      : kind === 'sqlite'
        ? kyselySqliteOn(url.slice('sqlite://'.length))
        : new Kysely({ dialect: new MysqlDialect({ pool: require('mysql2').createPool({ uri: url, connectionLimit: 10 }) }) });
  let id = 0;
  const nextId = () => (id = (id % 1000) + 1);
  const q = kind === 'mysql' ? (s) => s : (s) => s; // hand-written SQL: $n on every driver (covet turns it into ?)
  const ops = {
    'by id': {
      covet: () => orm.items.find(nextId()),
      raw: () => db.query(q('select id, name, n, done from bench_items where id = $1'), [nextId()]),
      kysely: () => kysely.selectFrom('bench_items').selectAll().where('id', '=', nextId()).executeTakeFirst(),
    },
    'page of 50': {
      covet: () => orm.items.findMany({ where: { done: true, n: { lt: 50 } }, orderBy: { id: 'desc' }, limit: 50 }),
      raw: () => db.query('select id, name, n, done from bench_items where done = $1 and n < $2 order by id desc limit 50', [true, 50]),
      kysely: () => kysely.selectFrom('bench_items').selectAll().where('done', '=', kind === 'postgres' ? true : 1).where('n', '<', 50).orderBy('id', 'desc').limit(50).execute(),
    },
    insert: {
      covet: () => orm.items.insert({ name: 'new', n: 1, done: false }),
      raw: () => db.query('insert into bench_items (name, n, done) values ($1, $2, $3) returning id, name, n, done', ['new', 1, false]),
      kysely: () =>
        kind === 'mysql'
          ? kysely.insertInto('bench_items').values({ name: 'new', n: 1, done: 0 }).executeTakeFirst()
          : kysely.insertInto('bench_items').values({ name: 'new', n: 1, done: kind === 'postgres' ? false : 0 }).returningAll().executeTakeFirst(),
    },
  };
  const rows = [];
  for (const [op, fns] of Object.entries(ops)) {
    const got = { covet: [], raw: [], kysely: [] };
    for (let r = 0; r < ROUNDS; r++) for (const k of Object.keys(got)) got[k].push(await timed(fns[k]));
    const m = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, median(v)]));
    log(`  ${kind} ${op}: covet ${fmt(m.covet)}/s, raw ${fmt(m.raw)}/s, kysely ${fmt(m.kysely)}/s`);
    rows.push([`${kind}: ${op}`, `${fmt(m.covet)}/s`, `${fmt(m.raw)}/s`, `${fmt(m.kysely)}/s`, `${(m.covet / m.raw).toFixed(2)}×`, `${(m.covet / m.kysely).toFixed(2)}×`]);
  }
  await kysely.destroy();
  await db.exec('drop table if exists bench_items');
  await db.close();
  return rows;
}

export async function runOrmBench() {
  const rows = [];
  for (const kind of ['postgres', 'sqlite', 'mysql']) {
    log(`== orm on ${kind}`);
    rows.push(...(await backend(kind)));
  }
  writeSection(
    '82-orm',
    `## ORM across databases (one connection's worth of work, ${SECONDS} s × ${ROUNDS} interleaved rounds, median)\n\n` +
      'The same operations through covet\'s ORM, through covet\'s driver with hand-written SQL ("raw": the floor the ORM adds to), and through Kysely. Kysely runs on the same driver for SQLite (the same node:sqlite/better-sqlite3 engine) and MySQL/MariaDB (mysql2); for PostgreSQL on `pg`, since it has no dialect for covet\'s driver. Kysely\'s MySQL insert has no RETURNING (MySQL has none for its dialect) and so does less work there.\n\n' +
      table(['operation', 'covet ORM', 'covet raw SQL', 'Kysely', 'ORM / raw', 'ORM / Kysely'], rows),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runOrmBench();
