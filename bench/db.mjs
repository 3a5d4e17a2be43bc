// PostgreSQL driver bench against the local server: ours vs pg (node-postgres) vs postgres (postgres.js),
// same run, interleaved rounds, median; pgbench -M prepared (C, libpq) as the native reference.
// Runs on one core (taskset by `npm run bench`); the server has the other.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import postgres from 'postgres';
import { createDb } from '../dist/lib/app/db/index.js';
import { createOrm, integer, serial, table as defineTable, text, timestamptz, now } from '../dist/lib/app/orm/index.js';
import { fmt, log, table, writeSection } from './lib.mjs';

const URL_ = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

async function timed(fn, seconds = SECONDS) {
  // Warm up, then count operations for `seconds`.
  const warmEnd = Date.now() + 300;
  while (Date.now() < warmEnd) await fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) n += await fn();
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

function contenders(poolSize) {
  return {
    covet: async () => {
      const db = createDb({ url: URL_, max: poolSize, min: poolSize });
      return {
        one: async () => ((await db.query('select 1 as x', [])), 1),
        rows: async () => (await db.query('select i, i::text as t, now() as at from generate_series(1, 1000) i', [])).rows.length,
        insert: async (values) => (await db.query(`insert into bench_t (a, b) select * from unnest($1::int[], $2::text[])`, values)).rowCount,
        end: () => db.close(),
      };
    },
    pg: async () => {
      const p = new pg.Pool({ connectionString: URL_, max: poolSize });
      return {
        one: async () => ((await p.query({ text: 'select 1 as x', name: 's1' })), 1),
        rows: async () => (await p.query({ text: 'select i, i::text as t, now() as at from generate_series(1, 1000) i', name: 's2' })).rows.length,
        insert: async (values) => (await p.query({ text: `insert into bench_t (a, b) select * from unnest($1::int[], $2::text[])`, values, name: 's3' })).rowCount,
        end: () => p.end(),
      };
    },
    'postgres.js': async () => {
      const s = postgres(URL_, { max: poolSize, prepare: true });
      return {
        one: async () => ((await s.unsafe('select 1 as x', [], { prepare: true })), 1),
        rows: async () => (await s.unsafe('select i, i::text as t, now() as at from generate_series(1, 1000) i', [], { prepare: true })).length,
        insert: async (values) => (await s.unsafe(`insert into bench_t (a, b) select * from unnest($1::int[], $2::text[])`, values, { prepare: true })).count,
        end: () => s.end(),
      };
    },
  };
}

async function measure(name, make, poolSize, work) {
  const c = await make();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

export async function runDbBench() {
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const setup = createDb({ url: URL_ });
  await setup.exec('drop table if exists bench_t; create table bench_t (id serial primary key, a int, b text)');
  const batch = [Array.from({ length: 100 }, (_, i) => i), Array.from({ length: 100 }, (_, i) => `row ${i}`)];
  const cases = {
    'SELECT 1, sequential, 1 connection (queries/s)': [1, (c) => timed(() => c.one())],
    '16 concurrent SELECT 1, pool of 4 (queries/s)': [4, (c) => timed(async () => (await Promise.all(Array.from({ length: 16 }, () => c.one()))).length)],
    '1,000-row select (rows/s)': [1, (c) => timed(() => c.rows())],
    '100-row insert batch (rows/s)': [1, (c) => timed(() => c.insert(batch))],
  };
  const results = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [label, [poolSize, work]] of Object.entries(cases)) {
      for (const [who, make] of Object.entries(contenders(poolSize))) {
        const v = await measure(who, make, poolSize, work);
        ((results[label] ??= {})[who] ??= []).push(v);
        log(`  round ${r + 1}: ${label}: ${who} ${fmt(v)}`);
      }
    }
  }
  // ORM overhead: the same 20-row select through the ORM and as SQL on the raw driver.
  await setup.exec(`drop table if exists bench_notes; create table bench_notes (id serial primary key, owner_id int not null, title text not null, created_at timestamptz not null default now());
    insert into bench_notes (owner_id, title) select i % 50, 'note ' || i from generate_series(1, 5000) i; create index on bench_notes (owner_id, created_at)`);
  const notes = defineTable('bench_notes', { id: serial().primaryKey(), ownerId: integer().notNull(), title: text().notNull(), createdAt: timestamptz().notNull().default(now()) });
  const ormDb = createDb({ url: URL_, max: 1 });
  const orm = createOrm(ormDb, { tables: { notes } });
  const raw = 'select t0."id" as "id", t0."owner_id" as "ownerId", t0."title" as "title", t0."created_at" as "createdAt" from "bench_notes" t0 where t0."owner_id" = $1 order by t0."created_at" desc limit $2';
  const ormRuns = { raw: [], orm: [] };
  for (let r = 0; r < ROUNDS; r++) {
    ormRuns.raw.push(await timed(async () => (await ormDb.query(raw, [7, 20])).rows.length));
    ormRuns.orm.push(await timed(async () => (await orm.notes.findMany({ where: { ownerId: 7 }, orderBy: { createdAt: 'desc' }, limit: 20 })).length));
    log(`  round ${r + 1}: ORM ${fmt(ormRuns.orm.at(-1))} rows/s, raw ${fmt(ormRuns.raw.at(-1))} rows/s`);
  }
  await ormDb.close();
  await setup.exec('drop table bench_t; drop table bench_notes');
  await setup.close();
  let pgbench = 'n/a';
  try {
    const script = '/tmp/covet-pgbench.sql';
    (await import('node:fs')).writeFileSync(script, 'select 1 as x;\n');
    const out = execFileSync('pgbench', ['-n', '-M', 'prepared', '-c', '1', '-T', String(SECONDS), '-f', script, '-h', '127.0.0.1', '-U', 'postgres', 'postgres'], { encoding: 'utf8' });
    pgbench = Number(/tps = ([\d.]+)/.exec(out)[1]);
  } catch (err) {
    log(`  pgbench failed: ${err.message}`);
  }
  const med = (l) => l.slice().sort((a, b) => a - b)[Math.floor(l.length / 2)];
  const rows = Object.entries(results).map(([label, m]) => {
    const [c, p, j] = ['covet', 'pg', 'postgres.js'].map((k) => med(m[k]));
    return [label, fmt(c), fmt(p), fmt(j), `${(c / p).toFixed(2)}×`, `${(c / j).toFixed(2)}×`];
  });
  const seq = med(results['SELECT 1, sequential, 1 connection (queries/s)'].covet);
  const [ormMed, rawMed] = [med(ormRuns.orm), med(ormRuns.raw)];
  writeSection(
    '80-db',
    `## PostgreSQL driver (local PostgreSQL over loopback, client pinned to one core, median of ${ROUNDS} interleaved rounds of ${SECONDS} s)\n\n` +
      `All three use prepared statements. Targets: ≥ the better of pg and postgres.js on all four; ≥ 1.5× pg with 16 concurrent queries on 4 connections (pipelining); sequential ≥ 0.7× pgbench.\n\n` +
      table(['', 'covet', 'pg', 'postgres.js', 'vs pg', 'vs postgres.js'], rows) +
      `\npgbench -M prepared, 1 client, \`select 1\`: ${typeof pgbench === 'number' ? `${fmt(pgbench)} tps → covet sequential = ${(seq / pgbench).toFixed(2)}× pgbench` : pgbench}.\n` +
      `\nORM overhead (20-row select by owner, ordered, limit; same SQL): ORM ${fmt(ormMed)} rows/s vs raw driver ${fmt(rawMed)} rows/s → the ORM is ${((1 - ormMed / rawMed) * 100).toFixed(1)}% slower (target ≤ 10%).\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runDbBench();
