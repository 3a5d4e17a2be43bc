/**
 * Multi-tenancy on the real PostgreSQL: a tenant resolved from host, header, path or JWT claim; row
 * isolation (RLS under a tenant role) and schema isolation (a schema and role per tenant). One tenant
 * never reads or changes another's rows — through the ORM (property test over filters that name the
 * other tenant), through raw SQL in its transaction, or through the cache — and its jobs run in its scope.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, testClient } from '../../lib/app/index.js';
import { MemoryLimiter, rateLimit } from '../../lib/app/auth/index.js';
import { Cache, MemoryBackend } from '../../lib/app/cache/index.js';
import { createJobs } from '../../lib/app/jobs/index.js';
import { serial, table, text } from '../../lib/app/orm/index.js';
import { createDb } from '../../lib/app/db/index.js';
import { createTenancy, fromClaim, fromHeader, fromHost, fromPath } from '../../lib/app/tenancy/index.js';
import { testDb, type TestDb } from './db/helpers.js';
import { waitFor } from '../helpers/wait-for.js';

const notes = table('notes', { id: serial().primaryKey(), tenantId: text().notNull(), title: text().notNull() });
const schema = { tables: { notes } };
const suffix = randomBytes(3).toString('hex');
let t: TestDb;
const roles: string[] = [];

beforeAll(async () => {
  t = await testDb('postgres');
  // The tenant column defaults to the transaction's tenant: inserts need not name it.
  await t.db.query("create table notes (id serial primary key, tenant_id text not null default current_setting('app.tenant', true), title text not null)");
}, 30_000);

afterAll(async () => {
  for (const r of roles) await t.db.exec(`drop owned by "${r}" cascade; drop role if exists "${r}";`).catch(() => {});
  await t.drop();
});

describe('row isolation (row-level security under a tenant role)', () => {
  const role = `covet_tenant_${suffix}`;
  const tenancy = () => createTenancy(t.db, { resolve: fromHeader('x-tenant'), isolation: 'row', role });

  it('setup is idempotent; each tenant writes and reads its own rows; the ORM, raw SQL and writes cannot reach another tenant\'s', async () => {
    roles.push(role);
    const ten = tenancy();
    await ten.setup(['notes']);
    await ten.setup(['notes']);
    const a = ten.orm('acme', schema);
    const b = ten.orm('globex', schema);
    await a.notes.insert([{ title: 'a1' }, { title: 'a2' }] as never);
    await b.notes.insert({ title: 'b1' } as never);
    expect((await a.notes.findMany({ orderBy: { id: 'asc' } })).map((n) => [n.tenantId, n.title])).toEqual([['acme', 'a1'], ['acme', 'a2']]);
    expect((await b.notes.findMany()).map((n) => n.title)).toEqual(['b1']);
    // Raw SQL in the tenant's transaction is bound the same way.
    expect(await ten.transaction('acme', (tx) => tx.sql<{ n: number }>`select count(*)::int as n from notes`)).toEqual([{ n: 2 }]);
    expect(await ten.transaction('acme', (tx) => tx.sql`select title from notes where tenant_id = 'globex'`)).toEqual([]);
    // Writing into another tenant: refused by the policy's check; changing or deleting its rows: no rows match.
    await expect(a.notes.insert({ tenantId: 'globex', title: 'forged' })).rejects.toThrow(/row-level security/);
    expect(await a.notes.update({ title: 'b1' }, { title: 'hacked' })).toEqual([]);
    expect(await a.notes.delete({ tenantId: 'globex' })).toEqual([]);
    expect((await b.notes.findMany()).map((n) => n.title)).toEqual(['b1']);
  });

  it('the tenant and its role last only for the transaction: the session after it is the app\'s again (#28)', async () => {
    // One session, so the next statement runs where the tenant's transaction ran.
    const one = createDb({ url: t.url!, max: 1 });
    try {
      const ten = createTenancy(one, { resolve: fromHeader('x-tenant'), isolation: 'row', role });
      const before = (await one.sql<{ u: string }>`select current_user as u`)[0]!.u;
      expect(await ten.transaction('acme', (tx) => tx.sql<{ u: string; t: string }>`select current_user as u, current_setting('app.tenant', true) as t`)).toEqual([{ u: role, t: 'acme' }]);
      const after = await one.sql<{ u: string; t: string | null }>`select current_user as u, current_setting('app.tenant', true) as t`;
      expect(after[0]!.u).toBe(before);
      expect(after[0]!.t ?? '').toBe('');
    } finally {
      await one.close();
    }
  });

  it('no filter an attacker can write reaches another tenant\'s rows (property test over ORM filters)', async () => {
    const a = tenancy().orm('acme', schema);
    const value = fc.constantFrom('acme', 'globex', 'b1', 'a1', '%', "' or 1=1 --");
    const filter = fc.oneof(
      value.map((v) => ({ tenantId: v })),
      value.map((v) => ({ title: { like: v } })),
      fc.tuple(value, value).map(([x, y]) => ({ OR: [{ tenantId: x }, { title: y }] })),
      value.map((v) => ({ NOT: { tenantId: v } })),
      fc.constant({}),
    );
    await fc.assert(
      fc.asyncProperty(filter, async (where) => {
        const rows = await a.notes.findMany({ where: where as never });
        expect(rows.every((r) => r.tenantId === 'acme')).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('the middleware resolves the tenant (header, host, path, claim): 400 without one, 404 for an ill-formed or unknown one', async () => {
    const known = new Set(['acme', 'globex']);
    const ten = createTenancy(t.db, { resolve: fromHeader('x-tenant'), isolation: 'row', role, exists: (id) => known.has(id) });
    const app = createApp();
    app.use(ten.middleware());
    app.get('/notes', async (ctx) => (await ten.orm(ctx, schema).notes.findMany()).map((n) => n.title));
    expect((await app.inject({ url: '/notes', headers: { 'x-tenant': 'globex' } })).json()).toEqual(['b1']);
    expect((await app.inject({ url: '/notes' })).status).toBe(400);
    expect((await app.inject({ url: '/notes', headers: { 'x-tenant': 'initech' } })).status).toBe(404);
    expect((await app.inject({ url: '/notes', headers: { 'x-tenant': 'acme; drop table notes' } })).status).toBe(404);
    const byHost = fromHost('.example.com');
    const byPath = fromPath('tenant');
    const byClaim = fromClaim('org');
    const other = createApp();
    other.get('/t/{tenant}/who', (ctx) => [byHost(ctx) ?? null, byPath(ctx) ?? null, byClaim(ctx) ?? null]);
    other.use((ctx, next) => ((ctx.state.user = { org: 'acme' }), next()));
    other.get('/who', (ctx) => [byHost(ctx) ?? null, byClaim(ctx) ?? null]);
    expect((await other.inject({ url: '/t/globex/who', headers: { host: 'acme.example.com:8443' } })).json()).toEqual(['acme', 'globex', null]);
    expect((await other.inject({ url: '/who', headers: { host: 'a.b.example.com' } })).json()).toEqual([null, 'acme']);
  });

  it('over real HTTP (node:http, by host): each tenant sees its notes, and rate limits count per tenant', async () => {
    const ten = createTenancy(t.db, { resolve: fromHost('.localtest.me'), isolation: 'row', role });
    const app = createApp();
    app.use(ten.middleware());
    app.use(rateLimit({ limiter: new MemoryLimiter({ kind: 'fixed-window', limit: 2, windowMs: 60_000 }), key: (ctx) => ten.key(ctx, ctx.ip) }));
    app.get('/notes', async (ctx) => (await ten.orm(ctx, schema).notes.findMany({ orderBy: { id: 'asc' } })).map((n) => n.title));
    const client = await testClient(app);
    try {
      // node:http (fetch does not let a caller set Host).
      const get = (tenant: string) =>
        new Promise<{ status: number; body: unknown }>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port: Number(new URL(client.url).port), path: '/notes', headers: { host: `${tenant}.localtest.me` } }, (res) => {
            let b = '';
            res.on('data', (d: Buffer) => (b += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(b) as unknown }));
          }).on('error', reject);
        });
      expect((await get('acme')).body).toEqual(['a1', 'a2']);
      expect((await get('acme')).body).toEqual(['a1', 'a2']);
      expect((await get('acme')).status).toBe(429); // acme's limit
      expect((await get('globex')).body).toEqual(['b1']); // globex has its own
    } finally {
      await client.close();
    }
  });

  it('cache keys are per tenant: one tenant\'s entries and tag invalidations never reach another\'s', async () => {
    const ten = tenancy();
    const cache = new Cache({ backend: new MemoryBackend({ maxEntries: 100 }) });
    const ca = ten.cache('acme', cache);
    const cb = ten.cache('globex', cache);
    await ca.set('profile', { secret: 'acme-data' }, { tags: ['profiles'] });
    expect(await cb.get('profile')).toBeUndefined();
    expect(await cb.getOrSet('profile', () => ({ secret: 'globex-data' }))).toEqual({ secret: 'globex-data' });
    await cb.invalidateTag('profiles');
    expect(await ca.get('profile')).toEqual({ secret: 'acme-data' });
  });

  it('a tenant\'s job runs in its scope: what it writes is its tenant\'s', async () => {
    const ten = tenancy();
    const jobs = createJobs(t.db, { table: 'tenant_jobs' });
    await jobs.migrate();
    const note = ten.defineJob(jobs, 'note', Type.Object({ title: Type.String() }), async ({ title }, { db, tenant }) => {
      await db.query('insert into notes (title) values ($1)', [`${tenant}:${title}`]);
    });
    await note.enqueue('globex', { title: 'from a job' }, { key: 'once' });
    await note.enqueue('acme', { title: 'from a job' }, { key: 'once' }); // same key, other tenant: its own job
    const w = jobs.work({ pollMs: 20, onError: () => {} });
    const b = ten.orm('globex', schema);
    await waitFor(async () => (await b.notes.findMany({ where: { title: { like: '%job' } } })).length === 1, 10_000);
    await waitFor(async () => (await ten.orm('acme', schema).notes.findMany({ where: { title: { like: '%job' } } })).length === 1, 10_000);
    await w.stop();
    expect((await b.notes.findMany({ where: { title: { like: '%job' } } })).map((n) => n.title)).toEqual(['globex:from a job']);
  });
});

describe('as an app role that is not a superuser (as in production)', () => {
  it("setup() lets the app take the tenant role, and FORCE holds the tables' owner to the policy outside a tenant transaction", async () => {
    const app = `covet_app_${suffix}`;
    const role = `covet_tenant_owned_${suffix}`;
    roles.push(role, app);
    await t.db.exec(`create role "${app}" login createrole; grant all on schema public to "${app}";`);
    const url = new URL(t.url!);
    url.username = app;
    const db = createDb({ url: url.toString(), max: 2 });
    try {
      await db.query("create table owned_notes (id serial primary key, tenant_id text not null default current_setting('app.tenant', true), title text not null)");
      const ten = createTenancy(db, { resolve: fromHeader('x-tenant'), isolation: 'row', role });
      await ten.setup(['owned_notes']);
      await ten.transaction('acme', (tx) => tx.query("insert into owned_notes (title) values ('a')"));
      await ten.transaction('globex', (tx) => tx.query("insert into owned_notes (title) values ('g')"));
      expect(await ten.transaction('acme', (tx) => tx.sql`select title from owned_notes`)).toEqual([{ title: 'a' }]);
      // The owner, outside any tenant's transaction: the policy applies to it too (FORCE), no tenant is set.
      expect(await db.sql`select count(*)::int as n from owned_notes`).toEqual([{ n: 0 }]);
      // The superuser (BYPASSRLS) sees both: the rows are there.
      expect(await t.db.sql`select count(*)::int as n from owned_notes`).toEqual([{ n: 2 }]);
    } finally {
      await db.close();
    }
  });
});

describe('schema isolation (a schema and a role per tenant)', () => {
  it('each tenant\'s tables are in its schema; raw SQL naming another tenant\'s schema is refused', async () => {
    const ten = createTenancy(t.db, { resolve: fromHeader('x-tenant'), isolation: 'schema', schemaOf: (id) => `t_${suffix}_${id}` });
    roles.push(`t_${suffix}_acme`, `t_${suffix}_globex`);
    for (const id of ['acme', 'globex']) {
      await ten.addTenant(id, async (tx) => {
        await tx.query('create table if not exists docs (id serial primary key, body text not null)');
        await tx.query('insert into docs (body) values ($1)', [`${id} doc`]);
      });
    }
    await ten.addTenant('acme'); // again: nothing to do
    expect(await ten.transaction('acme', (tx) => tx.sql`select body from docs`)).toEqual([{ body: 'acme doc' }]);
    expect(await ten.transaction('globex', (tx) => tx.sql`select body from docs`)).toEqual([{ body: 'globex doc' }]);
    await expect(ten.transaction('acme', (tx) => tx.query(`select body from "t_${suffix}_globex".docs`))).rejects.toThrow(/permission denied/);
    await expect(ten.transaction('acme', (tx) => tx.query('select * from notes'))).rejects.toThrow(/does not exist|permission denied/);
  });
});
