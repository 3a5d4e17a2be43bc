/**
 * Bad input that reaches the ORM and the database is the client's fault, answered 4xx — never a 500 —
 * on PostgreSQL, PGlite, SQLite and MariaDB: unknown or prototype-named keys from a JSON body, integers
 * outside a column's range, NUL in text, a duplicate; one mapping on all four, naming the field, never
 * a value or the database's own text (which goes to the log).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, HttpError, Type, type App } from '../../../lib/app/index.js';
import type { Database } from '../../../lib/app/db/index.js';
import { createOrm, integer, serial, table, text } from '../../../lib/app/orm/index.js';
import { testDb, testMysql, testSqlite } from '../db/helpers.js';

const people = table('people', { id: serial().primaryKey(), email: text().notNull().unique(), age: integer() });

const DDL = {
  postgres: 'create table people (id serial primary key, email text not null unique, age integer)',
  sqlite: 'create table people (id integer primary key, email text not null unique, age integer)',
  mysql: 'create table people (id int auto_increment primary key, email varchar(200) not null unique, age int)',
};

for (const kind of ['postgres', 'pglite', 'sqlite', 'mysql'] as const) {
  describe(`hostile input on ${kind}`, () => {
    let t: { db: Database; drop(): Promise<void> };
    let app: App;
    const logged: unknown[] = [];
    let logText = '';
    beforeAll(async () => {
      t = kind === 'sqlite' ? testSqlite() : kind === 'mysql' ? await testMysql() : await testDb(kind);
      await t.db.query(DDL[kind === 'pglite' ? 'postgres' : kind]);
      const orm = createOrm(t.db, { tables: { people } });
      const sink = new Writable({ write: (c: Buffer, _e, cb) => void ((logText += c.toString()), cb()) });
      app = createApp({ onError: (e) => void logged.push(e), logger: pino(sink) });
      // No body schema: the raw JSON reaches the ORM, which must refuse what no column is.
      app.post('/people', async (ctx) => (await orm.people.insert((await ctx.req.json()) as { email: string }))[0]);
      // With a schema, keys it does not declare never reach the handler at all.
      app.post('/people-checked', { schema: { body: Type.Object({ email: Type.String() }) } }, async (ctx) => (await orm.people.insert(ctx.body))[0]);
      app.get('/people/{id:int}', async (ctx) => {
        const p = await orm.people.find(ctx.params.id);
        if (p === undefined) throw new HttpError(404);
        return p;
      });
      app.post('/search', async (ctx) => orm.people.findMany({ where: (await ctx.req.json()) as Record<string, never> }));
    }, 30_000);
    afterAll(async () => {
      await t.drop();
    });
    const post = (url: string, raw: string) => app.inject({ method: 'POST', url, body: raw, headers: { 'content-type': 'application/json' } });

    it('unknown, __proto__ and constructor keys are 422 naming the key (cut short), and no prototype changes', async () => {
      const protoBefore = Object.getOwnPropertyNames(Object.prototype).join();
      for (const raw of ['{"email":"a@x","nope":1}', '{"email":"a@x","__proto__":{"polluted":1}}', '{"email":"a@x","constructor":{"prototype":{"polluted":1}}}']) {
        const r = await post('/people', raw);
        expect(r.status, raw).toBe(422);
        expect(r.json<{ detail: string }>().detail).toMatch(/^people has no column "(nope|__proto__|constructor)"$/);
      }
      for (const raw of ['{"constructor":1}', '{"__proto__":1}', '{"id":{"__proto__":1}}', '{"id":{"constructor":1}}', '{"toString":1}']) {
        expect((await post('/search', raw)).status, raw).toBe(422);
      }
      const checked = await post('/people-checked', '{"email":"c@x","nope":1,"id":999,"__proto__":{"polluted":1}}');
      expect(checked.status).toBe(200);
      expect(checked.json<{ id: number }>().id).not.toBe(999);
      const huge = await post('/people', JSON.stringify({ email: 'b@x', ['k'.repeat(150_000)]: 1 }));
      expect(huge.status).toBe(422);
      expect(huge.text().length).toBeLessThan(400);
      expect(Object.getOwnPropertyNames(Object.prototype).join()).toBe(protoBefore);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(logged).toEqual([]); // nothing of it was a server error
    });

    it('an id beyond its column is the 404 of any absent id; data errors 422 naming the field; a duplicate 409 naming the field, never the value (#27)', async () => {
      expect((await app.inject({ url: '/people/2147483648' })).status).toBe(404);
      expect((await app.inject({ url: '/people/-2147483649' })).status).toBe(404);
      expect((await app.inject({ url: '/people/99999' })).status).toBe(404);
      expect((await app.inject({ url: '/people/99999999999999999999' })).status).toBe(404);
      expect((await post('/search', JSON.stringify({ id: { in: [1, 2 ** 40] } }))).status).toBe(200);
      const big = await post('/people', JSON.stringify({ email: 'n@x', age: 2 ** 31 }));
      const nul = await post('/people', JSON.stringify({ email: 'a\u0000b' }));
      if (kind === 'sqlite') {
        // SQLite stores any integer and any text: nothing to refuse.
        expect([big.status, nul.status]).toEqual([200, 200]);
      } else {
        expect(big.status).toBe(422);
        expect(big.json<{ detail: string }>().detail).toMatch(kind === 'mysql' ? /^age is out of range$/ : /out of range/);
        expect(big.text()).not.toContain('2147483648');
        if (kind === 'mysql') expect(nul.status).toBe(200); // MariaDB keeps NUL in text
        else {
          expect(nul.status).toBe(422);
          expect(nul.json<{ detail: string }>().detail).toMatch(/NUL character or is not valid UTF-8/);
          expect(nul.text()).not.toMatch(/0x00|UTF8|encoding/);
        }
      }
      expect((await post('/people', JSON.stringify({ email: 'dup@x' }))).status).toBe(200);
      const dup = await post('/people', JSON.stringify({ email: 'dup@x' }));
      expect(dup.status).toBe(409);
      expect(dup.json()).toMatchObject({ status: 409, detail: 'a record with this email already exists', fields: ['email'] });
      expect(dup.text()).not.toContain('dup@x');
      expect(dup.text()).not.toMatch(/duplicate|Duplicate entry|constraint/);
      // The database's own text is in the log, with the request id.
      const line = logText.split('\n').filter((l) => l.includes('database refused')).map((l) => JSON.parse(l) as { reqId?: string; err: { message: string } }).find((l) => /duplicate|unique/i.test(l.err.message));
      expect(line?.reqId).toBeTruthy();
      expect(logged).toEqual([]);
    });
  });
}
