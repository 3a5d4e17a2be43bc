/**
 * Tenancy rules that need no database (#28, from tenancy.ts's mutants): how each resolver reads the
 * tenant at its edges, which ids are well formed (at 63 characters and one past), what the middleware
 * answers, the names a tenant's schema and keys get, and the errors that name their fix.
 */
import { describe, expect, it } from 'vitest';
import type { Context } from '../../lib/app/context.js';
import type { Db } from '../../lib/app/db/db.js';
import { HttpError } from '../../lib/app/errors.js';
import { createTenancy, fromClaim, fromHeader, fromHost, fromPath } from '../../lib/app/tenancy/index.js';

function ctx(o: { headers?: Record<string, string>; params?: Record<string, unknown>; state?: Record<string, unknown> } = {}): Context {
  const headers = o.headers ?? {};
  return { req: { get: (n: string) => headers[n.toLowerCase()] }, params: o.params ?? {}, state: o.state ?? {} } as unknown as Context;
}
/** A database that records the statements of each transaction (text and values) instead of running them. */
function recordingDb(kind = 'postgres') {
  const log: Array<[string, unknown[]?]> = [];
  const tx = {
    query: async (text: string, values?: unknown[]) => (log.push(values === undefined ? [text] : [text, values]), { rows: [], rowCount: 0 }),
    sql: async (strings: TemplateStringsArray, ...values: unknown[]) => (log.push([strings.join('?'), values]), []),
  };
  const db = { kind, transaction: async (fn: (t: typeof tx) => Promise<unknown>) => fn(tx), log };
  return db as unknown as Db & { log: typeof log };
}
const fakeDb = (kind: string) => recordingDb(kind);

describe('resolvers', () => {
  it('fromHost: the one label before the suffix, any case, any port', () => {
    const r = fromHost('.Example.com');
    expect(r(ctx({ headers: { host: 'acme.example.com' } }))).toBe('acme');
    expect(r(ctx({ headers: { host: 'ACME.EXAMPLE.COM:8443' } }))).toBe('acme');
    expect(r(ctx({ headers: { ':authority': 'beta.example.com' } }))).toBe('beta');
    expect(r(ctx({ headers: { host: 'a.b.example.com' } }))).toBeUndefined();
    expect(r(ctx({ headers: { host: '.example.com' } }))).toBeUndefined();
    expect(r(ctx({ headers: { host: 'example.com' } }))).toBeUndefined();
    expect(r(ctx({ headers: { host: 'acme.example.org' } }))).toBeUndefined();
    expect(r(ctx({ headers: { host: 'acme.example.com.evil' } }))).toBeUndefined();
    expect(r(ctx({}))).toBeUndefined();
    expect(r(ctx({ headers: { host: 'acme.example.com:' } }))).toBeUndefined();
  });

  it('fromHeader, fromPath, fromClaim: an empty value names no tenant; a numeric claim is its text', () => {
    expect(fromHeader('X-Tenant')(ctx({ headers: { 'x-tenant': 'acme' } }))).toBe('acme');
    expect(fromHeader('X-Tenant')(ctx({ headers: { 'x-tenant': '' } }))).toBeUndefined();
    expect(fromPath()(ctx({ params: { tenant: 'acme' } }))).toBe('acme');
    expect(fromPath('org')(ctx({ params: { org: 'beta', tenant: 'acme' } }))).toBe('beta');
    expect(fromPath()(ctx({ params: { tenant: '' } }))).toBeUndefined();
    expect(fromPath()(ctx({ params: { tenant: 7 } }))).toBeUndefined();
    expect(fromClaim()(ctx({ state: { user: { tenant: 'acme' } } }))).toBe('acme');
    expect(fromClaim('org', 'auth')(ctx({ state: { auth: { org: 42 } } }))).toBe('42');
    expect(fromClaim()(ctx({ state: { user: { tenant: '' } } }))).toBeUndefined();
    expect(fromClaim()(ctx({ state: { user: { tenant: true } } }))).toBeUndefined();
    expect(fromClaim()(ctx({ state: {} }))).toBeUndefined();
  });
});

describe('the tenancy', () => {
  it('needs PostgreSQL or PGlite', () => {
    for (const kind of ['mysql', 'sqlite']) {
      expect(() => createTenancy(fakeDb(kind), { resolve: fromPath(), isolation: 'row' })).toThrow('tenancy isolates tenants with PostgreSQL roles and row-level security: it needs PostgreSQL or PGlite');
    }
    for (const kind of ['postgres', 'pglite']) expect(() => createTenancy(fakeDb(kind), { resolve: fromPath(), isolation: 'row' })).not.toThrow();
  });

  it('defaults: role covet_tenant, column tenant_id, schema tenant_<id> (lowercase, - as _); each can be set', () => {
    const t = createTenancy(fakeDb('postgres'), { resolve: fromPath(), isolation: 'schema' });
    expect([t.role, t.column, t.schemaOf('Acme-Co')]).toEqual(['covet_tenant', 'tenant_id', 'tenant_acme_co']);
    const u = createTenancy(fakeDb('postgres'), { resolve: fromPath(), isolation: 'schema', role: 'r', column: 'org', schemaOf: (id) => `s_${id}` });
    expect([u.role, u.column, u.schemaOf('x')]).toEqual(['r', 'org', 's_x']);
  });

  it('setup() is for row isolation and addTenant() for schema isolation, each saying so', async () => {
    const row = createTenancy(fakeDb('postgres'), { resolve: fromPath(), isolation: 'row' });
    const schema = createTenancy(fakeDb('postgres'), { resolve: fromPath(), isolation: 'schema' });
    await expect(schema.setup(['notes'])).rejects.toThrow('setup() is for row isolation; schema isolation uses addTenant()');
    await expect(row.addTenant('acme')).rejects.toThrow('addTenant() is for schema isolation; row isolation uses setup()');
  });

  it('the middleware: 400 without a tenant, 404 for an ill-formed or unknown one, 63 characters at most', async () => {
    const known = new Set(['acme', 'a'.repeat(63)]);
    const t = createTenancy(fakeDb('postgres'), { resolve: fromPath(), isolation: 'row', exists: async (id) => known.has(id) });
    const mw = t.middleware();
    const run = async (tenant: unknown): Promise<string> => {
      const c = ctx({ params: { tenant } });
      try {
        await mw(c, async () => undefined);
        return `ok ${t.tenantOf(c)}`;
      } catch (e) {
        return `${(e as HttpError).status} ${(e as HttpError).message}`;
      }
    };
    expect(await run(undefined)).toBe('400 this request names no tenant');
    expect(await run('acme')).toBe('ok acme');
    expect(await run('a'.repeat(63))).toBe(`ok ${'a'.repeat(63)}`);
    known.add('a'.repeat(64));
    expect(await run('a'.repeat(64))).toBe('404 no such tenant');
    expect(await run('other')).toBe('404 no such tenant');
    for (const bad of ['-acme', '_acme', 'ac me', 'ac.me', "ac'me", 'acmé']) {
      known.add(bad);
      expect(await run(bad), bad).toBe('404 no such tenant');
    }
    const open = createTenancy(fakeDb('postgres'), { resolve: fromPath(), isolation: 'row' }).middleware();
    const c = ctx({ params: { tenant: 'A9_b-c' } });
    await open(c, async () => undefined);
  });

  it('tenantOf without the middleware, and ill-formed ids anywhere, are errors', async () => {
    const t = createTenancy(fakeDb('postgres'), { resolve: fromPath(), isolation: 'row' });
    expect(() => t.tenantOf(ctx())).toThrow('no tenant resolved for this request: app.use(tenancy.middleware()) before the routes');
    expect(() => t.scoped('bad id')).toThrow(HttpError);
    expect(() => t.transaction('bad id', async () => 1)).toThrow(HttpError);
    await expect(t.addTenant('x')).rejects.toThrow(/schema isolation/);
  });

  it("setup() and addTenant() write these statements, names quoted as identifiers or literals", async () => {
    const db = recordingDb();
    await createTenancy(db, { resolve: fromPath(), isolation: 'row', role: "o'role", column: 'org"id' }).setup(['notes', 'a"b']);
    expect(db.log).toEqual([
      [`do $$ begin if not exists (select 1 from pg_roles where rolname = 'o''role') then create role "o'role" nologin; end if; end $$`],
      [`grant "o'role" to current_user`],
      [`grant usage on schema public to "o'role"`],
      ['alter table "notes" enable row level security'],
      ['alter table "notes" force row level security'],
      ['drop policy if exists covet_tenant_isolation on "notes"'],
      [`create policy covet_tenant_isolation on "notes" using ("org""id" = current_setting('app.tenant', true)) with check ("org""id" = current_setting('app.tenant', true))`],
      [`grant select, insert, update, delete on "notes" to "o'role"`],
      [`do $$ declare s record; begin for s in select c.oid::regclass as seq from pg_class c join pg_depend d on d.objid = c.oid where c.relkind = 'S' and d.refobjid = '"notes"'::regclass and d.deptype in ('a', 'i') loop execute format('grant usage, select on sequence %s to %I', s.seq, 'o''role'); end loop; end $$`],
      ['alter table "a""b" enable row level security'],
      ['alter table "a""b" force row level security'],
      ['drop policy if exists covet_tenant_isolation on "a""b"'],
      [`create policy covet_tenant_isolation on "a""b" using ("org""id" = current_setting('app.tenant', true)) with check ("org""id" = current_setting('app.tenant', true))`],
      [`grant select, insert, update, delete on "a""b" to "o'role"`],
      [`do $$ declare s record; begin for s in select c.oid::regclass as seq from pg_class c join pg_depend d on d.objid = c.oid where c.relkind = 'S' and d.refobjid = '"a""b"'::regclass and d.deptype in ('a', 'i') loop execute format('grant usage, select on sequence %s to %I', s.seq, 'o''role'); end loop; end $$`],
    ]);
    const sdb = recordingDb();
    const schema = createTenancy(sdb, { resolve: fromPath(), isolation: 'schema' });
    await schema.addTenant('Acme-1', async (tx) => void (await tx.query('create table notes (id int)')));
    expect(sdb.log).toEqual([
      [`do $$ begin if not exists (select 1 from pg_roles where rolname = 'tenant_acme_1') then create role "tenant_acme_1" nologin; end if; end $$`],
      ['grant "tenant_acme_1" to current_user'],
      ['create schema if not exists "tenant_acme_1" authorization "tenant_acme_1"'],
      ["select set_config('role', $1, true), set_config('search_path', $2, true)", ['tenant_acme_1', '"tenant_acme_1"']],
      ['create table notes (id int)'],
    ]);
    await expect(schema.addTenant('bad id')).rejects.toThrow('no such tenant');
    expect(sdb.log).toHaveLength(5);
  });

  it('a tenant transaction first takes the role and the tenant (row) or the schema (schema), for that transaction only', async () => {
    const db = recordingDb();
    const t = createTenancy(db, { resolve: fromPath(), isolation: 'row' });
    const c = ctx({ params: { tenant: 'acme' } });
    await t.middleware()(c, async () => undefined);
    expect(await t.transaction(c, async (tx) => (await tx.query('select 1'), 'done'))).toBe('done');
    const scoped = t.scoped('beta');
    await scoped.query('select 2', [5]);
    await scoped.sql`select ${3}`;
    expect(await scoped.transaction(async (tx) => (await tx.query('select 4'), 'in'))).toBe('in');
    const set = "select set_config('role', $1, true), set_config('app.tenant', $2, true)";
    expect(db.log).toEqual([
      [set, ['covet_tenant', 'acme']],
      ['select 1'],
      [set, ['covet_tenant', 'beta']],
      ['select 2', [5]],
      [set, ['covet_tenant', 'beta']],
      ['select ?', [3]],
      [set, ['covet_tenant', 'beta']],
      ['select 4'],
    ]);
    expect(() => t.scoped('bad id')).toThrow('no such tenant');
  });

  it('keys are prefixed with the tenant; an absent key stays absent; the cache is seen under tenant:<id>:', async () => {
    const t = createTenancy(fakeDb('postgres'), { resolve: fromPath(), isolation: 'row' });
    const c = ctx({ params: { tenant: 'acme' } });
    await t.middleware()(c, async () => undefined);
    expect(t.key(c, 'ip-1')).toBe('acme:ip-1');
    expect(t.key(c, undefined)).toBeUndefined();
    const prefixes: string[] = [];
    const cache = { within: (p: string) => (prefixes.push(p), 'scoped') } as never;
    expect(t.cache(c, cache)).toBe('scoped');
    expect(t.cache('beta', cache)).toBe('scoped');
    expect(prefixes).toEqual(['tenant:acme:', 'tenant:beta:']);
    expect(() => t.cache('no good', cache)).toThrow(HttpError);
  });
});
