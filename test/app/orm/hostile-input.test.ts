/**
 * Bad input that reaches the ORM and the database is the client's fault, answered 4xx — never a 500 —
 * on PostgreSQL and PGlite: unknown or prototype-named keys from a JSON body, integers outside a column's
 * range, NUL in text, a duplicate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, Type, type App } from '../../../lib/app/index.js';
import { createOrm, integer, serial, table, text } from '../../../lib/app/orm/index.js';
import { testDb, type TestDb } from '../db/helpers.js';

const people = table('people', { id: serial().primaryKey(), email: text().notNull().unique(), age: integer() });

for (const kind of ['postgres', 'pglite'] as const) {
  describe(`hostile input on ${kind}`, () => {
    let t: TestDb;
    let app: App;
    const logged: unknown[] = [];
    beforeAll(async () => {
      t = await testDb(kind);
      await t.db.exec('create table people (id serial primary key, email text not null unique, age integer)');
      const orm = createOrm(t.db, { tables: { people } });
      app = createApp({ onError: (e) => void logged.push(e) });
      // No body schema: the raw JSON reaches the ORM, which must refuse what no column is.
      app.post('/people', async (ctx) => (await orm.people.insert((await ctx.req.json()) as { email: string }))[0]);
      // With a schema, keys it does not declare never reach the handler at all.
      app.post('/people-checked', { schema: { body: Type.Object({ email: Type.String() }) } }, async (ctx) => (await orm.people.insert(ctx.body))[0]);
      app.get('/people/{id:int}', async (ctx) => (await orm.people.find(ctx.params.id)) ?? null);
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

    it('integers outside the column, NUL in text: 422; a duplicate: 409', async () => {
      expect((await app.inject({ url: '/people/2147483648' })).status).toBe(422);
      expect((await post('/people', JSON.stringify({ email: 'n@x', age: 2 ** 31 }))).status).toBe(422);
      expect((await post('/people', JSON.stringify({ email: 'a\u0000b' }))).status).toBe(422);
      expect((await post('/people', JSON.stringify({ email: 'dup@x' }))).status).toBe(200);
      const dup = await post('/people', JSON.stringify({ email: 'dup@x' }));
      expect(dup.status).toBe(409);
      expect(dup.json<{ detail: string }>().detail).toMatch(/duplicate key/);
      expect(logged).toEqual([]);
    });
  });
}
