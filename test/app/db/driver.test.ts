import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeParam, OID, PgError, sql, type Db } from '../../../lib/app/db/index.js';
import { testDb, type TestDb } from './helpers.js';

/** Text PostgreSQL accepts (no NUL), any other UTF-16 code units that form valid UTF-8. */
const pgText = fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/\0/g, ''));

describe('parameter encoding', () => {
  it('bytes go binary to a bytea parameter, hex elsewhere; json parameters are always JSON', () => {
    const b = Buffer.from([0, 1, 255]);
    expect(encodeParam(b, OID.bytea)).toEqual(b);
    expect(Buffer.isBuffer(encodeParam(b, OID.bytea))).toBe(true);
    expect(encodeParam(b)).toBe('\\x0001ff');
    expect(encodeParam('text', OID.jsonb)).toBe('"text"');
    expect(encodeParam([1, 'a b', null, 'NULL', 'x"y'])).toBe('{1,"a b",NULL,"NULL","x\\"y"}');
  });
});

for (const kind of ['postgres', 'pglite'] as const) {
  describe(`driver on ${kind}`, () => {
    let t: TestDb;
    let db: Db;
    beforeAll(async () => {
      t = await testDb(kind, { max: 4 });
      db = t.db;
    }, 30_000);
    afterAll(async () => {
      await t.drop();
    });

    it('round-trips every supported type (property test, values as parameters)', async () => {
      const cases: Array<[string, fc.Arbitrary<unknown>, (v: unknown) => unknown]> = [
        ['int2', fc.integer({ min: -32768, max: 32767 }), (v) => v],
        ['int4', fc.integer(), (v) => v],
        ['int8', fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => String(v)],
        ['float8', fc.double({ noNaN: false }).filter((d) => !Object.is(d, -0)), (v) => v],
        ['numeric', fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 9999 })), (v) => { const [i, f] = v as [bigint, number]; return `${i}.${String(f).padStart(4, '0')}`; }],
        ['bool', fc.boolean(), (v) => v],
        ['text', pgText, (v) => v],
        ['bytea', fc.uint8Array({ maxLength: 64 }), (v) => Buffer.from(v as Uint8Array)],
        ['uuid', fc.uuid(), (v) => v],
        ['jsonb', fc.jsonValue({ maxDepth: 2 }).map((j) => JSON.parse(JSON.stringify(j).replace(/\\u0000/g, '')) as unknown), (v) => v],
        ['timestamptz', fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }), (v) => v],
        ['date', fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)), (v) => v],
        ['int4[]', fc.array(fc.option(fc.integer(), { nil: null }), { maxLength: 5 }), (v) => v],
        ['text[]', fc.array(fc.option(pgText, { nil: null }), { maxLength: 5 }), (v) => v],
        ['float8[]', fc.array(fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)), { maxLength: 5 }), (v) => v],
        ['bool[]', fc.array(fc.boolean(), { maxLength: 5 }), (v) => v],
      ];
      for (const [type, arb, expected] of cases) {
        await fc.assert(
          fc.asyncProperty(arb, async (value) => {
            const param = type === 'numeric' ? expected(value) : value;
            const { rows } = await db.query<{ v: unknown }>(`select $1::${type} as v`, [param]);
            expect(rows[0]!.v, type).toEqual(expected(value));
          }),
          { numRuns: kind === 'pglite' ? 40 : 100 },
        );
      }
    }, 60_000);

    it('parses interval, time, nested arrays and NULLs, and int8 as bigint when asked', async () => {
      const [r] = await db.sql<Record<string, unknown>>`select interval '1 day 02:03:04' as i, '12:34:56'::time as t, '{{1,2},{3,NULL}}'::int[] as m, null::int as n, '{"a,b","c\\"d"}'::text[] as q`;
      expect(r).toEqual({ i: '1 day 02:03:04', t: '12:34:56', m: [[1, 2], [3, null]], n: null, q: ['a,b', 'c"d'] });
    });

    it('rows: columns in order, a later duplicate name wins, __proto__ is an ordinary column', async () => {
      for (let i = 0; i < 2; i++) {
        const [r] = (await db.query('select 1 as "__proto__", 2 as a, 3 as a, 4 as b')).rows;
        expect(Object.keys(r!)).toEqual(['__proto__', 'a', 'b']);
        expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
        expect([Object.getOwnPropertyDescriptor(r, '__proto__')?.value, r!.a, r!.b]).toEqual([1, 3, 4]);
        const [q] = (await db.query('select 2 as a, 3 as a, 4 as b')).rows; // the generated row builder
        expect(q).toEqual({ a: 3, b: 4 });
      }
    });

    it('errors carry SQLSTATE, detail, constraint and the query', async () => {
      await db.exec('create table users (id serial primary key, email text unique not null)');
      await db.sql`insert into users (email) values (${'a@x'})`;
      const err = await db.sql`insert into users (email) values (${'a@x'})`.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PgError);
      const e = err as PgError;
      expect([e.code, e.constraint, e.table]).toEqual(['23505', 'users_email_key', 'users']);
      expect(e.detail).toMatch(/Key \(email\)=\(a@x\) already exists/);
      expect(e.query).toMatch(/insert into users/);
      // The session goes on.
      expect((await db.sql`select count(*)::int as n from users`)[0]).toEqual({ n: 1 });
    });

    it('pipelines: 300 queries at once come back in order; a failure in the middle touches no other', async () => {
      const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => (i === 150 ? db.query('select 1/0') : db.query('select $1::int as i', [i]))));
      results.forEach((r, i) => {
        if (i === 150) expect(r.status === 'rejected' && (r.reason as PgError).code).toBe('22012');
        else expect(r.status === 'fulfilled' && r.value.rows[0]).toEqual({ i });
      });
    });

    it('the sql tag parameterizes every value — hostile strings stay data (property test)', async () => {
      await db.exec('create table if not exists notes_h (id serial primary key, title text)');
      await fc.assert(
        fc.asyncProperty(fc.oneof(pgText, fc.constantFrom("'; drop table notes_h; --", '$1', '\\', "' or '1'='1", '"; select 1; --')), async (s) => {
          const q = sql`insert into notes_h (title) values (${s}) returning title`;
          expect(q.compile().text).toBe('insert into notes_h (title) values ($1) returning title');
          expect((await db.query<{ title: string }>(q)).rows[0]!.title).toBe(s);
        }),
        { numRuns: 50 },
      );
      expect((await db.sql<{ n: number }>`select count(*)::int as n from notes_h`)[0]!.n).toBeGreaterThan(0);
      const cols = sql.join(['id', 'title'].map(sql.ident));
      const r = await db.query(sql`select ${cols} from ${sql.ident('notes_h')} where title = ${"x'y"} limit ${1}`);
      expect(r.rows).toEqual([]);
    });

    it('transactions commit, roll back on throw, nest as savepoints', async () => {
      await db.exec('create table acct (id int primary key, balance int not null)');
      await db.sql`insert into acct values (1, 100), (2, 0)`;
      await db.transaction(async (tx) => {
        await tx.sql`update acct set balance = balance - 30 where id = 1`;
        await tx.sql`update acct set balance = balance + 30 where id = 2`;
      });
      await expect(
        db.transaction(async (tx) => {
          await tx.sql`update acct set balance = 0 where id = 1`;
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      await db.transaction(async (tx) => {
        await tx.sql`update acct set balance = balance + 1 where id = 1`;
        await expect(
          tx.transaction(async (inner) => {
            await inner.sql`update acct set balance = 999 where id = 2`;
            await inner.sql`select 1/0`;
          }),
        ).rejects.toThrow(/division by zero/);
        await tx.transaction(async (inner) => inner.sql`update acct set balance = balance + 1 where id = 2`);
      });
      expect(await db.sql`select id, balance from acct order by id`).toEqual([{ id: 1, balance: 71 }, { id: 2, balance: 31 }]);
    });

    it('LISTEN is refused with a clear error on PGlite (one session, no async notifications)', async () => {
      if (kind === 'pglite') await expect(db.listen('x', () => {})).rejects.toThrow(/LISTEN needs a PostgreSQL server/);
      else await (await db.listen('x', () => {}))();
    });

    it('keeps at most maxStatements prepared statements per session', async () => {
      const r = await db.pool.reserve();
      try {
        for (let i = 0; i < 300; i++) await r.conn.query(`select ${i} as v`);
        const { rows } = await r.conn.query<{ n: number }>('select count(*)::int as n from pg_prepared_statements', [], { prepare: false });
        expect(rows[0]!.n).toBe(256);
      } finally {
        r.release();
      }
    });
  });
}

for (const kind of ['postgres', 'pglite'] as const) {
  describe(`COPY on ${kind}`, () => {
    it('streams rows in with COPY FROM and out with COPY TO', async () => {
      const t = await testDb(kind);
      try {
        await t.db.exec('create table items (id int, name text)');
        const rows = Array.from({ length: 5000 }, (_, i) => `${i}\titem "${i}", ok\n`);
        await pipeline(Readable.from(rows.map((r) => Buffer.from(r))), await t.db.copyFrom('copy items from stdin'));
        expect((await t.db.sql<{ n: number }>`select count(*)::int as n from items`)[0]!.n).toBe(5000);
        const chunks: Buffer[] = [];
        for await (const c of await t.db.copyTo('copy (select * from items order by id) to stdout')) chunks.push(c as Buffer);
        expect(Buffer.concat(chunks).toString()).toBe(rows.join(''));
        // A bad row fails the COPY with the server's error; the pool goes on.
        const bad = await pipeline(Readable.from([Buffer.from('x\ty\n')]), await t.db.copyFrom('copy items from stdin')).catch((e: unknown) => e);
        expect((bad as PgError).code).toBe('22P02');
        expect((await t.db.sql<{ n: number }>`select count(*)::int as n from items`)[0]!.n).toBe(5000);
      } finally {
        await t.drop();
      }
    });
  });
}
