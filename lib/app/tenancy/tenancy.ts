/**
 * Multi-tenancy on PostgreSQL: which tenant a request is for (host, header, path parameter or a JWT
 * claim), and a database the request can only see its tenant's data through — enforced by PostgreSQL,
 * not by remembering a `where`:
 *
 * - `isolation: 'row'`: tenant tables carry a tenant column and a row-level-security policy comparing it
 *   with the transaction's `app.tenant`; every statement of a tenant runs in a transaction that first
 *   takes a role without BYPASSRLS and sets `app.tenant`, both for that transaction only (one
 *   `set_config(..., true)` statement: `SET LOCAL` semantics). The policy is FORCEd, so the tables' owner
 *   outside a tenant transaction sees no tenant rows either (the setting is empty) — unless that role is a
 *   superuser or has BYPASSRLS, which no app role should.
 * - `isolation: 'schema'`: each tenant has a schema and a role granted only that schema (it keeps what
 *   PUBLIC may do — on PostgreSQL's defaults, call functions in `public` — and reads no table it is not
 *   granted: revoke from PUBLIC on `public` where that matters); a tenant's
 *   transaction takes that role and puts the schema first on the `search_path`.
 *
 * Either way raw SQL in the tenant's transaction is bound like the ORM is (the role cannot read other
 * tenants' rows or schemas), and so is anything that reads through the scoped database. This guards
 * against a query that forgets its tenant, not against SQL written to escape (`RESET ROLE`): never run
 * SQL a user wrote. Cache keys, rate
 * limit keys and jobs take the tenant from the same place (`cache`, `key`, `defineJob`).
 *
 * The app connects as it always does (often the tables' owner); tenant work runs under the tenant role,
 * which `setup()` creates (NOLOGIN: only a session that is a member may take it).
 *
 * @example
 * ```ts
 * const tenancy = createTenancy(db, { resolve: fromHost('.example.com'), isolation: 'row' });
 * await tenancy.setup(['notes']);           // role, grants, and the RLS policy on each table
 * app.use(tenancy.middleware());            // 400 without a tenant, 404 for an unknown one
 * app.get('/notes', (ctx) => tenancy.orm(ctx, schema).notes.findMany());
 * ```
 */
import type { Context } from '../context.js';
import type { Cache } from '../cache/cache.js';
import type { Db, Queryable, TransactionOptions } from '../db/db.js';
import { quoteIdent, quoteLiteral, type Sql } from '../db/sql.js';
import type { QueryOptions, QueryResult } from '../db/connection.js';
import { HttpError } from '../errors.js';
import { createOrm, type Orm, type Schema } from '../orm/orm.js';
import type { EnqueueOptions, JobContext, JobOptions, Jobs } from '../jobs/queue.js';
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** How a request names its tenant: the tenant id, or undefined when it names none. */
export type TenantResolver = (ctx: Context) => string | undefined;

/**
 * The first label of the host before `suffix` (`acme.example.com` → `acme`).
 *
 * @example
 * ```ts
 * createTenancy(db, { resolve: fromHost('.notes.example'), isolation: 'row' }); // acme.notes.example → acme
 * ```
 */
export function fromHost(suffix: string): TenantResolver {
  const s = suffix.toLowerCase();
  return (ctx) => {
    const host = (ctx.req.get('host') ?? ctx.req.get(':authority') ?? '').toLowerCase().replace(/:\d+$/, '');
    if (!host.endsWith(s)) return undefined;
    const label = host.slice(0, host.length - s.length);
    return label === '' || label.includes('.') ? undefined : label;
  };
}

/**
 * A request header (`X-Tenant`). Only behind something that sets it (a gateway), never from browsers.
 *
 * @example
 * ```ts
 * createTenancy(db, { resolve: fromHeader('x-tenant'), isolation: 'row' });
 * ```
 */
export function fromHeader(name: string): TenantResolver {
  return (ctx) => ctx.req.get(name) || undefined;
}

/**
 * A route parameter (`/t/{tenant}/notes`).
 *
 * @example
 * ```ts
 * createTenancy(db, { resolve: fromPath('org'), isolation: 'schema' }); // routes under /orgs/:org/...
 * ```
 */
export function fromPath(param = 'tenant'): TenantResolver {
  return (ctx) => {
    const v = (ctx.params as Record<string, unknown>)[param];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
}

/**
 * A claim of the verified token an auth dependency put in `ctx.state.user` (run the auth first).
 *
 * @example
 * ```ts
 * createTenancy(db, { resolve: fromClaim('tid'), isolation: 'row' }); // the verified token's tid claim
 * ```
 */
export function fromClaim(claim = 'tenant', state = 'user'): TenantResolver {
  return (ctx) => {
    const v = (ctx.state[state] as Record<string, unknown> | undefined)?.[claim];
    return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
  };
}

export interface TenancyOptions {
  resolve: TenantResolver;
  /** `row` (one set of tables, row-level security) or `schema` (a schema per tenant). */
  isolation: 'row' | 'schema';
  /** Whether a tenant exists (else 404). Default: any well-formed id. */
  exists?: (tenant: string) => boolean | Promise<boolean>;
  /** Row isolation: the role tenant work runs as. Default `covet_tenant`. */
  role?: string;
  /** Row isolation: the tenant column of the tenant tables. Default `tenant_id`. */
  column?: string;
  /** Schema isolation: a tenant's schema (and role) name. Default `tenant_<id>`. */
  schemaOf?: (tenant: string) => string;
}

/** Tenant ids are names in SQL and keys in caches: letters, digits, `_` and `-`, up to 63. */
const TENANT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const tenants = new WeakMap<Context, string>();

/**
 * The tenancy of an app (see the module comment).
 *
 * @example
 * ```ts
 * const tenancy = createTenancy(db, { resolve: fromHost('.notes.example'), isolation: 'row' });
 * app.use(tenancy.middleware());
 * app.get('/notes', (ctx) => tenancy.transaction(ctx, (tx) => tx.query(sql`select * from notes`)));
 * ```
 */
export class Tenancy {
  readonly db: Db;
  readonly options: TenancyOptions;
  readonly role: string;
  readonly column: string;

  constructor(db: Db, options: TenancyOptions) {
    if (db.kind !== 'postgres' && db.kind !== 'pglite') throw new Error('tenancy isolates tenants with PostgreSQL roles and row-level security: it needs PostgreSQL or PGlite');
    this.db = db;
    this.options = options;
    this.role = options.role ?? 'covet_tenant';
    this.column = options.column ?? 'tenant_id';
  }

  /** The schema (and role) of a tenant under schema isolation. */
  schemaOf(tenant: string): string {
    return this.options.schemaOf?.(tenant) ?? `tenant_${tenant.toLowerCase().replace(/-/g, '_')}`;
  }

  /**
   * Row isolation: creates the tenant role (if missing), lets the connecting user take it, grants it the
   * tables, and puts the policy on each (`tables` carry the tenant column). Idempotent.
   */
  async setup(tables: readonly string[]): Promise<void> {
    if (this.options.isolation !== 'row') throw new Error('setup() is for row isolation; schema isolation uses addTenant()');
    const r = quoteIdent(this.role);
    const c = quoteIdent(this.column);
    await this.db.transaction(async (tx) => {
      await tx.query(`do $$ begin if not exists (select 1 from pg_roles where rolname = ${quoteLiteral(this.role)}) then create role ${r} nologin; end if; end $$`);
      await tx.query(`grant ${r} to current_user`);
      await tx.query(`grant usage on schema public to ${r}`);
      for (const t of tables) {
        const n = quoteIdent(t);
        await tx.query(`alter table ${n} enable row level security`);
        await tx.query(`alter table ${n} force row level security`); // the owner too
        await tx.query(`drop policy if exists covet_tenant_isolation on ${n}`);
        // An unset tenant is the empty string: no row matches, nothing can be written.
        await tx.query(`create policy covet_tenant_isolation on ${n} using (${c} = current_setting('app.tenant', true)) with check (${c} = current_setting('app.tenant', true))`);
        await tx.query(`grant select, insert, update, delete on ${n} to ${r}`);
        // The table's own sequences (serial, identity) — not every sequence of the schema, which the app's
        // role may not own (then the grant fails) and the tenant role has no business with.
        await tx.query(
          `do $$ declare s record; begin for s in select c.oid::regclass as seq from pg_class c join pg_depend d on d.objid = c.oid where c.relkind = 'S' and d.refobjid = ${quoteLiteral(n)}::regclass and d.deptype in ('a', 'i') loop execute format('grant usage, select on sequence %s to %I', s.seq, ${quoteLiteral(this.role)}); end loop; end $$`,
        );
      }
    });
  }

  /**
   * Schema isolation: creates the tenant's schema and role (granted only that schema), then runs
   * `create` inside the tenant's transaction (its tables land in its schema). Idempotent.
   */
  async addTenant(tenant: string, create?: (tx: Queryable) => Promise<void>): Promise<void> {
    if (this.options.isolation !== 'schema') throw new Error('addTenant() is for schema isolation; row isolation uses setup()');
    checkId(tenant);
    const s = quoteIdent(this.schemaOf(tenant));
    await this.db.transaction(async (tx) => {
      await tx.query(`do $$ begin if not exists (select 1 from pg_roles where rolname = ${quoteLiteral(this.schemaOf(tenant))}) then create role ${s} nologin; end if; end $$`);
      await tx.query(`grant ${s} to current_user`);
      await tx.query(`create schema if not exists ${s} authorization ${s}`);
    });
    if (create !== undefined) await this.transaction(tenant, create);
  }

  /**
   * Middleware: resolves the request's tenant — 400 when the request names none, 404 when it names one
   * that does not exist (or is not a well-formed id).
   */
  middleware(): (ctx: Context, next: () => Promise<void>) => Promise<void> {
    return async (ctx, next) => {
      const t = this.options.resolve(ctx);
      if (t === undefined) throw new HttpError(400, { detail: 'this request names no tenant' });
      if (!TENANT.test(t) || (this.options.exists !== undefined && !(await this.options.exists(t)))) throw new HttpError(404, { detail: 'no such tenant' });
      tenants.set(ctx, t);
      await next();
    };
  }

  /** The request's tenant (after `middleware()`). */
  tenantOf(ctx: Context): string {
    const t = tenants.get(ctx);
    if (t === undefined) throw new Error('no tenant resolved for this request: app.use(tenancy.middleware()) before the routes');
    return t;
  }

  /** Runs `fn` in a transaction bound to `tenant` (its role, its rows or schema). */
  transaction<T>(tenant: string | Context, fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> {
    const t = typeof tenant === 'string' ? checkId(tenant) : this.tenantOf(tenant);
    return this.db.transaction(async (tx) => {
      // One statement: set_config('role', …, true) is SET LOCAL ROLE (values as parameters, not SQL text).
      if (this.options.isolation === 'row') await tx.query(`select set_config('role', $1, true), set_config('app.tenant', $2, true)`, [this.role, t]);
      else {
        const s = this.schemaOf(t);
        await tx.query(`select set_config('role', $1, true), set_config('search_path', $2, true)`, [s, quoteIdent(s)]);
      }
      return fn(tx);
    }, options);
  }

  /**
   * A database bound to the tenant: each query runs in a tenant transaction of its own, `transaction`
   * in one — hand it to `createOrm` or use it for raw SQL.
   */
  scoped(tenant: string | Context): Queryable {
    const t = typeof tenant === 'string' ? checkId(tenant) : this.tenantOf(tenant);
    const q: Queryable = {
      query: <R = Record<string, unknown>>(text: string | Sql, values?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> => this.transaction(t, (tx) => tx.query<R>(text, values, options)),
      sql: <R = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> => this.transaction(t, (tx) => tx.sql<R>(strings, ...values)),
      transaction: <T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> => this.transaction(t, fn, options),
    };
    return q;
  }

  /** The ORM over the tenant's scoped database. */
  orm<S extends Schema>(tenant: string | Context, schema: S): Orm<S> {
    return createOrm(this.scoped(tenant), schema);
  }

  /** The cache seen under the tenant's prefix: no key or tag of another tenant is reachable. */
  cache(tenant: string | Context, cache: Cache): Cache {
    const t = typeof tenant === 'string' ? checkId(tenant) : this.tenantOf(tenant);
    return cache.within(`tenant:${t}:`);
  }

  /**
   * A job that runs for a tenant: enqueued with the tenant (its idempotency key per tenant), run with
   * the tenant's scoped database (`ctx.db`) and id (`ctx.tenant`).
   *
   * @example
   * ```ts
   * const welcome = tenancy.defineJob(jobs, 'welcome', Type.Object({ userId: Type.Integer() }), async ({ userId }, { db }) => {
   *   await db.query('insert into notes (title) values ($1)', [`welcome ${userId}`]);
   * });
   * await welcome.enqueue(ctx, { userId: 7 });
   * ```
   */
  defineJob<S extends TSchema>(jobs: Jobs, name: string, schema: S, handler: (payload: Static<S>, ctx: JobContext & { tenant: string; db: Queryable }) => unknown, options?: JobOptions): { name: string; enqueue(tenant: string | Context, payload: Static<S>, options?: EnqueueOptions): Promise<string> } {
    const wrapped = Type.Object({ tenant: Type.String({ pattern: TENANT.source }), payload: schema }) as TSchema;
    const job = jobs.define(name, wrapped, (p, c) => {
      const { tenant, payload } = p as { tenant: string; payload: Static<S> };
      return handler(payload, { ...c, tenant, db: this.scoped(tenant) });
    }, options);
    return {
      name,
      enqueue: (tenant, payload, o = {}) => {
        const t = typeof tenant === 'string' ? checkId(tenant) : this.tenantOf(tenant);
        return job.enqueue({ tenant: t, payload } as never, { ...o, ...(o.key === undefined ? {} : { key: `${t}:${o.key}` }) });
      },
    };
  }

  /** A key (rate limit, lock, idempotency) prefixed with the request's tenant. */
  key(ctx: Context, key: string | undefined): string | undefined {
    return key === undefined ? undefined : `${this.tenantOf(ctx)}:${key}`;
  }
}

function checkId(t: string): string {
  if (!TENANT.test(t)) throw new HttpError(404, { detail: 'no such tenant' });
  return t;
}

/**
 * The tenancy of an app over `db` (see {@link Tenancy}).
 *
 * @example
 * ```ts
 * const tenancy = createTenancy(db, { resolve: fromHeader('x-tenant'), isolation: 'row' });
 * await tenancy.setup(['notes']);
 * ```
 */
export function createTenancy(db: Db, options: TenancyOptions): Tenancy {
  return new Tenancy(db, options);
}
