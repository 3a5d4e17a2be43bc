/**
 * The audit log on PostgreSQL, PGlite, SQLite and MariaDB: ORM writes recorded in their own transaction
 * (a rolled-back write leaves no entry), the actor from the request, application events, queries,
 * secrets redacted, the table refusing UPDATE and DELETE, concurrent appends keeping one unbroken chain,
 * and `verify()` finding a changed, a removed and a truncated entry (with the trigger out of the way, as
 * an attacker with the database's owner role would do).
 */
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, testClient } from '../../lib/app/index.js';
import { createAuditLog } from '../../lib/app/audit/index.js';
import { openDatabase, type Database } from '../../lib/app/db/index.js';
import { createOrm, integer, serial, table, text } from '../../lib/app/orm/index.js';
import { testDb, testMysql, testSqlite } from './db/helpers.js';

const accounts = table('accounts', { id: serial().primaryKey(), email: text().notNull(), passwordHash: text().notNull(), credits: integer().notNull() });
const ddl: Record<string, string> = {
  postgres: 'create table accounts (id serial primary key, email text not null, password_hash text not null, credits integer not null)',
  sqlite: 'create table accounts (id integer primary key, email text not null, password_hash text not null, credits integer not null)',
  mysql: 'create table accounts (id int auto_increment primary key, email varchar(200) not null, password_hash varchar(200) not null, credits int not null)',
};

/** Runs `sql` with the append-only triggers out of the way (what tampering takes). */
async function tamper(db: Database, sql: string): Promise<void> {
  if (db.kind === 'sqlite') {
    await db.exec('drop trigger if exists audit_log_no_update;\ndrop trigger if exists audit_log_no_delete;');
    await db.query(sql);
  } else if (db.kind === 'mysql') {
    await db.query('drop trigger if exists audit_log_no_update');
    await db.query('drop trigger if exists audit_log_no_delete');
    await db.query(sql);
  } else {
    await db.transaction(async (tx) => {
      await tx.query('alter table audit_log disable trigger audit_log_append_only');
      await tx.query(sql);
      await tx.query('alter table audit_log enable trigger audit_log_append_only');
    });
  }
}

for (const kind of ['postgres', 'pglite', 'sqlite', 'mysql'] as const) {
  describe(`audit log on ${kind}`, () => {
    let t: { db: Database; url?: string | undefined; drop(): Promise<void> };
    beforeAll(async () => {
      t = kind === 'sqlite' ? testSqlite() : kind === 'mysql' ? await testMysql() : await testDb(kind);
      await t.db.query(ddl[kind === 'pglite' ? 'postgres' : kind]!);
    }, 30_000);
    afterAll(() => t.drop());

    it('records ORM writes with the request\'s actor in the write\'s transaction, application events, redacted secrets; queryable; verifies', async () => {
      const audit = createAuditLog(t.db);
      await audit.migrate();
      await audit.migrate(); // again: nothing to do
      const orm = createOrm(t.db, { tables: { accounts } }, { audit });
      const app = createApp();
      app.use(audit.context((ctx) => ({ actor: ctx.req.get('x-user') ?? null, meta: { path: ctx.path } })));
      app.post('/accounts', { schema: { body: Type.Object({ email: Type.String(), password: Type.String() }) } }, async (ctx) => {
        const [a] = await orm.accounts.insert({ email: ctx.body.email, passwordHash: `hashed:${ctx.body.password}`, credits: 10 });
        await audit.record({ action: 'auth.sign-up', target: { table: 'accounts', id: a!.id }, data: { email: ctx.body.email, password: ctx.body.password } });
        return a;
      });
      app.post('/accounts/{id:int}/spend', async (ctx) => (await orm.accounts.update({ id: ctx.params.id }, { credits: 3 }))[0]);
      // A real client over HTTP: the actor of each request reaches its entries through the async context.
      const client = await testClient(app);
      const created = (await (await fetch(`${client.url}/accounts`, { method: 'POST', headers: { 'x-user': 'admin@x', 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ann@x', password: 'hunter2' }) })).json()) as { id: number };
      await fetch(`${client.url}/accounts/${created.id}/spend`, { method: 'POST', headers: { 'x-user': 'ann@x' } });
      await client.close();
      // A write whose transaction rolls back leaves no entry.
      await expect(orm.transaction(async (tx) => {
        await tx.accounts.insert({ email: 'ghost@x', passwordHash: 'x', credits: 0 });
        throw new Error('rollback');
      })).rejects.toThrow('rollback');
      await orm.accounts.delete({ id: created.id });

      const all = await audit.find();
      expect(all.map((e) => [e.seq, e.actor, e.action, e.targetTable, e.targetId])).toEqual([
        [4, null, 'accounts.delete', 'accounts', String(created.id)],
        [3, 'ann@x', 'accounts.update', 'accounts', String(created.id)],
        [2, 'admin@x', 'auth.sign-up', 'accounts', String(created.id)],
        [1, 'admin@x', 'accounts.insert', 'accounts', String(created.id)],
      ]);
      expect(all[3]!.data).toEqual({ row: { id: created.id, email: 'ann@x', passwordHash: '[redacted]', credits: 10 }, meta: { path: '/accounts' } });
      expect(all[2]!.data).toEqual({ email: 'ann@x', password: '[redacted]', meta: { path: '/accounts' } });
      expect(all[1]!.data).toEqual({ set: { credits: 3 }, meta: { path: `/accounts/${created.id}/spend` } });
      expect(JSON.stringify(all)).not.toContain('hunter2');
      expect((await audit.find({ actor: 'ann@x' })).map((e) => e.seq)).toEqual([3]);
      expect((await audit.find({ table: 'accounts', id: created.id, limit: 2 })).map((e) => e.seq)).toEqual([4, 3]);
      expect((await audit.find({ action: 'auth.sign-up', since: new Date(Date.now() - 60_000) })).map((e) => e.seq)).toEqual([2]);
      expect(await audit.verify()).toEqual({ ok: true, entries: 4 });
    });

    it('an ORM write of many rows is one append (entries past the 1000 of one statement included), the chain intact', async () => {
      const audit = createAuditLog(t.db, { table: 'audit_bulk' }); // a log of its own: the other tests count theirs
      await audit.migrate();
      const orm = createOrm(t.db, { tables: { accounts } }, { audit });
      const made = await orm.accounts.insert(Array.from({ length: 1200 }, (_, i) => ({ email: `bulk${i}@x`, passwordHash: 'x', credits: i })));
      expect((await audit.find({ action: 'accounts.insert', limit: 1000 })).length).toBe(1000);
      expect(await audit.verify()).toEqual({ ok: true, entries: 1200 });
      await orm.transaction(async (tx) => void (await tx.accounts.delete({ email: { like: 'bulk%' } })));
      expect(await audit.verify()).toEqual({ ok: true, entries: 2400 });
      expect(made).toHaveLength(1200);
    }, 30_000);

    if (kind === 'postgres' || kind === 'mysql') it('a write does not wait for another write\'s open transaction; the sequencer chains both, in order, once committed (#27)', async () => {
      const audit = createAuditLog(t.db, { table: 'audit_nowait' });
      await audit.migrate();
      const other = openDatabase({ url: t.url! });
      const audit2 = createAuditLog(other, { table: 'audit_nowait' });
      try {
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let appended!: () => void;
        const inserted = new Promise<void>((r) => (appended = r));
        const a = t.db.transaction(async (tx) => {
          await audit.record({ action: 'slow' }, tx);
          appended();
          await held;
        });
        await inserted;
        // With the head taken by every write, this append would wait until the first transaction ends.
        const b = audit2.record({ action: 'fast' }).then(() => 'appended');
        expect(await Promise.race([b, new Promise((r) => setTimeout(() => r('waited'), 10_000))])).toBe('appended');
        // and it is chained while the first is still open
        expect((await audit2.find()).map((e) => [e.seq, e.action])).toEqual([[1, 'fast']]);
        release();
        await a;
        await audit.flush();
        expect((await audit.find()).map((e) => [e.seq, e.action])).toEqual([[2, 'slow'], [1, 'fast']]);
        expect(await audit.verify()).toEqual({ ok: true, entries: 2 });
        // An entry not yet chained cannot be changed or removed either (the sequencers stopped, so it stays unchained).
        await audit.close();
        await audit2.close();
        await t.db.query("insert into audit_nowait (at, action) values ('2026-01-01', 'raw')");
        expect((await t.db.query('select id from audit_nowait where seq is null')).rows).toHaveLength(1);
        await expect(t.db.query("update audit_nowait set action = 'forged' where seq is null")).rejects.toThrow(/append-only/);
        await expect(t.db.query('delete from audit_nowait where seq is null')).rejects.toThrow(/append-only/);
        expect(await createAuditLog(t.db, { table: 'audit_nowait' }).verify()).toEqual({ ok: true, entries: 3 });
      } finally {
        await audit.close();
        await audit2.close();
        await other.close();
      }
    });

    it('the table refuses UPDATE and DELETE', async () => {
      await expect(t.db.query("update audit_log set actor = 'mallory' where seq = 1")).rejects.toThrow(/append-only/);
      await expect(t.db.query('delete from audit_log where seq = 1')).rejects.toThrow(/append-only/);
    });

    it('concurrent appends (separate connections where the database has them) keep one unbroken chain', async () => {
      const others = kind === 'postgres' || kind === 'mysql' ? [openDatabase({ url: t.url! }), openDatabase({ url: t.url! })] : [];
      const logs = [createAuditLog(t.db), ...others.map((d) => createAuditLog(d))];
      await Promise.all(Array.from({ length: 30 }, (_, i) => logs[i % logs.length]!.record({ action: 'tick', data: { i } })));
      await Promise.all(others.map((d) => d.close()));
      const v = await createAuditLog(t.db).verify();
      // Every entry is there and chained (entries were lost once: the pool let a transaction take a session a
      // query was on its way to — test/app/db/pipelining.test.ts).
      const rows = (await t.db.query<{ chained: number | string; unchained: number | string }>('select count(seq) as chained, count(*) - count(seq) as unchained from audit_log')).rows[0];
      expect({ ...v, rows: { chained: Number(rows?.chained), unchained: Number(rows?.unchained) } }).toEqual({ ok: true, entries: 34, rows: { chained: 34, unchained: 0 } });
    });

    it('verify() names the first entry that does not fit: changed, removed, or cut from the end', async () => {
      const audit = createAuditLog(t.db);
      await tamper(t.db, "update audit_log set actor = 'mallory' where seq = 2");
      expect(await audit.verify()).toMatchObject({ ok: false, seq: 2, problem: 'entry 2 was changed (its hash does not match its content)' });
      await tamper(t.db, "update audit_log set actor = 'admin@x' where seq = 2");
      expect(await audit.verify()).toEqual({ ok: true, entries: 34 });
      await tamper(t.db, 'delete from audit_log where seq = 10');
      expect(await audit.verify()).toMatchObject({ ok: false, seq: 10, problem: 'entry 10 is missing (the next is 11)' });
      await tamper(t.db, 'delete from audit_log where seq >= 10');
      expect(await audit.verify()).toMatchObject({ ok: false, entries: 9, problem: 'the log ends at entry 9 but 34 were appended (entries removed from the end, or the head changed)' });
    });
  });
}
