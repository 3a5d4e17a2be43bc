/**
 * Sessions, pool and server behaviour against the real PostgreSQL: authentication methods, cancellation,
 * timeouts, LISTEN/NOTIFY across reconnects, pool limits (the server restart is in restart.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, PgConnection, PgError, PoolTimeoutError, ScramClient, parseConnectionString } from '../../../lib/app/db/index.js';
import { ADMIN_URL, testDb, type TestDb } from './helpers.js';
import { waitFor } from '../../helpers/wait-for.js';

describe('SCRAM-SHA-256 client', () => {
  it('computes RFC 7677 §3\'s exchange', () => {
    const c = new ScramClient('pencil', 'rOprNGfwEbeRWgbNEkqO', 'user');
    expect(c.first()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const final = c.final('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    expect(final).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(() => c.verify('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).not.toThrow();
    expect(() => c.verify('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toThrow(/signature/);
  });

  it('parses libpq URLs', () => {
    expect(parseConnectionString('postgresql://u%40x:p%3Aw@db.example:6543/app?sslmode=require&application_name=covet', {})).toEqual({
      host: 'db.example', port: 6543, socketDir: undefined, user: 'u@x', password: 'p:w', database: 'app', sslmode: 'require', params: { application_name: 'covet' },
    });
    expect(parseConnectionString('postgres:///db?host=/var/run/postgresql', { USER: 'me' })).toMatchObject({ socketDir: '/var/run/postgresql', user: 'me', database: 'db' });
  });
});

describe('against the local PostgreSQL', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await testDb('postgres', { max: 4 });
  }, 30_000);
  afterAll(async () => {
    await t.drop();
  });

  it('authenticates with SCRAM-SHA-256, md5 and cleartext passwords (pg_hba rules added for test roles)', async () => {
    const admin = createDb({ url: ADMIN_URL, max: 1 });
    const [{ hba }] = await admin.sql<{ hba: string }>`select setting as hba from pg_settings where name = 'hba_file'`;
    const original = readFileSync(hba, 'utf8');
    const roles = { covet_scram: 'scram-sha-256', covet_md5: 'md5', covet_clear: 'password' } as const;
    try {
      for (const [role, method] of Object.entries(roles)) {
        await admin.exec(`drop role if exists ${role}; set password_encryption = '${method === 'md5' ? 'md5' : 'scram-sha-256'}'; create role ${role} login password 's3cret,=x'`);
      }
      const rules = Object.entries(roles).map(([role, method]) => `host all ${role} 127.0.0.1/32 ${method}`).join('\n');
      writeFileSync(hba, `${rules}\n${original}`);
      await admin.query('select pg_reload_conf()');
      await new Promise((r) => setTimeout(r, 300));
      for (const role of Object.keys(roles)) {
        const c = await PgConnection.connect(parseConnectionString(`postgres://${role}:${encodeURIComponent('s3cret,=x')}@127.0.0.1:5432/postgres`));
        expect((await c.query<{ u: string }>('select current_user as u')).rows[0]!.u, role).toBe(role);
        await c.close();
        const bad = await PgConnection.connect(parseConnectionString(`postgres://${role}:wrong@127.0.0.1:5432/postgres`)).catch((e: unknown) => e);
        expect((bad as PgError).code, role).toBe('28P01');
      }
      const none = await PgConnection.connect(parseConnectionString('postgres://covet_scram@127.0.0.1:5432/postgres', {})).catch((e: unknown) => e);
      expect((none as Error).message).toMatch(/password/);
    } finally {
      writeFileSync(hba, original);
      await admin.query('select pg_reload_conf()');
      for (const role of Object.keys(roles)) await admin.exec(`drop role if exists ${role}`);
      await admin.close();
    }
  });

  it('connects over the unix socket, and over TLS negotiated by SSLRequest (server TLS switched on for the test)', async () => {
    const viaSocket = await PgConnection.connect(parseConnectionString(`postgres:///${t.name}?host=/var/run/postgresql&user=postgres`));
    expect((await viaSocket.query<{ db: string }>('select current_database() as db')).rows[0]!.db).toBe(t.name);
    await viaSocket.close();

    const admin = createDb({ url: ADMIN_URL, max: 1 });
    const [{ dir }] = await admin.sql<{ dir: string }>`select setting as dir from pg_settings where name = 'data_directory'`;
    const key = join(dir, 'covet-test.key');
    const crt = join(dir, 'covet-test.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const { uid, gid } = statSync(dir);
    chownSync(key, uid, gid);
    chownSync(crt, uid, gid);
    chmodSync(key, 0o600);
    try {
      for (const q of [`alter system set ssl_cert_file = '${crt}'`, `alter system set ssl_key_file = '${key}'`, 'alter system set ssl = on']) await admin.exec(q);
      await admin.query('select pg_reload_conf()');
      await new Promise((r) => setTimeout(r, 300));
      const secure = await PgConnection.connect(parseConnectionString(`postgres://postgres@127.0.0.1:5432/${t.name}?sslmode=require`));
      expect((await secure.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows[0]!.ssl).toBe(true);
      await secure.close();
      // verify-full checks the chain: a self-signed certificate is refused.
      const refused = await PgConnection.connect(parseConnectionString(`postgres://postgres@127.0.0.1:5432/${t.name}?sslmode=verify-full`)).catch((e: unknown) => e);
      expect((refused as Error).message).toMatch(/TLS with the server failed/);
    } finally {
      for (const q of ['alter system reset ssl', 'alter system reset ssl_cert_file', 'alter system reset ssl_key_file']) await admin.exec(q);
      await admin.query('select pg_reload_conf()');
      await admin.close();
      rmSync(key, { force: true });
      rmSync(crt, { force: true });
    }
    // TLS off again: sslmode=prefer falls back to plain, require refuses.
    await new Promise((r) => setTimeout(r, 300));
    const plain = await PgConnection.connect(parseConnectionString(`postgres://postgres@127.0.0.1:5432/${t.name}?sslmode=prefer`));
    await plain.close();
    const noTls = await PgConnection.connect(parseConnectionString(`postgres://postgres@127.0.0.1:5432/${t.name}?sslmode=require`)).catch((e: unknown) => e);
    expect((noTls as Error).message).toMatch(/refused TLS/);
  });

  it('cancels a running query through an AbortSignal, and enforces statement timeouts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    const err = await t.db.query('select pg_sleep(10)', [], { signal: ac.signal }).catch((e: unknown) => e);
    expect((err as PgError).code).toBe('57014');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await t.db.sql`select 1 as ok`)[0]).toEqual({ ok: 1 }); // the session is usable after
    const limited = createDb({ url: t.url, max: 1, statementTimeoutMs: 100 });
    try {
      expect(((await limited.query('select pg_sleep(5)').catch((e: unknown) => e)) as PgError).code).toBe('57014');
    } finally {
      await limited.close();
    }
  });

  it('LISTEN/NOTIFY: notifications arrive, and after the session is killed it re-listens and says so', async () => {
    const got: string[] = [];
    let reconnected = 0;
    t.db.onReconnect(() => reconnected++);
    const stop = await t.db.listen('covet_events', (p) => got.push(p));
    await t.db.notify('covet_events', 'one');
    await waitFor(() => got.length === 1);
    // Kill the listening backend: the driver must reconnect and listen again.
    await t.db.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and query ilike 'listen%'`, [t.name]);
    await waitFor(() => reconnected === 1);
    await t.db.notify('covet_events', 'two');
    await waitFor(() => got.length === 2);
    expect(got).toEqual(['one', 'two']);
    await stop();
    await t.db.notify('covet_events', 'three');
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual(['one', 'two']);
  });

  it('LISTEN: stopping a listener after the Db closed resolves (its session went with the Db)', async () => {
    const db = createDb({ url: t.url });
    const stop = await db.listen('covet_closed', () => {});
    await db.close();
    // Was: an UNLISTEN sent on the closed session, rejected — an unhandled rejection where nobody awaited it.
    await expect(stop()).resolves.toBeUndefined();
  });

  it('pool: acquire timeout with a clear error, no leaked session when queries throw, recovery after sessions die', async () => {
    const db = createDb({ url: t.url, max: 2, acquireTimeoutMs: 200 });
    try {
      const a = await db.pool.reserve();
      const b = await db.pool.reserve();
      const err = await db.query('select 1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PoolTimeoutError);
      expect((err as Error).message).toMatch(/no database connection free within 200 ms \(pool of 2/);
      a.release();
      b.release();
      const failures = await Promise.allSettled(Array.from({ length: 50 }, () => db.query('select * from missing_table')));
      expect(failures.every((f) => f.status === 'rejected' && (f.reason as PgError).code === '42P01')).toBe(true);
      await expect(db.transaction(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(db.pool.size).toMatchObject({ open: 2, reserved: 0, waiting: 0 });
      // Every session killed by the server: the pool drops them and opens new ones.
      await t.db.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [t.name]);
      await waitFor(() => db.pool.size.open === 0);
      // A new session is opened for it; on a loaded machine that can take longer than the 200 ms above.
      expect((await db.query<{ n: number }>('select 7 as n', [], { acquireTimeoutMs: 30_000 })).rows[0]!.n).toBe(7);
    } finally {
      await db.close();
    }
  });

  it('pool: min sessions open at start; an idle session that stopped answering is found by the health check', async () => {
    const db = createDb({ url: `${t.url}?application_name=covet_health`, min: 2, max: 3, healthCheckMs: 200, idleTimeoutMs: 60_000 });
    try {
      await waitFor(() => db.pool.size.open === 2);
      // Freeze one backend (SIGSTOP): its socket stays open, it just never answers — like a dead NAT entry.
      const pids = (await t.db.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', ['covet_health'])).rows.map((r) => r.pid);
      expect(pids).toHaveLength(2);
      process.kill(pids[0]!, 'SIGSTOP');
      try {
        await waitFor(() => db.pool.size.open === 1, 10_000);
      } finally {
        process.kill(pids[0]!, 'SIGCONT');
      }
      expect((await db.query<{ n: number }>('select 5 as n')).rows[0]!.n).toBe(5);
    } finally {
      await db.close();
    }
  });

  it('retries a transaction that hit a serialization failure', async () => {
    await t.db.exec('create table counter (id int primary key, n int not null); insert into counter values (1, 0)');
    let attempts = 0;
    const bump = () =>
      t.db.transaction(
        async (tx) => {
          attempts++;
          const [{ n }] = await tx.sql<{ n: number }>`select n from counter where id = 1`;
          await new Promise((r) => setTimeout(r, 20));
          await tx.sql`update counter set n = ${n + 1} where id = 1`;
        },
        { isolation: 'serializable', retries: 10 },
      );
    await Promise.all([bump(), bump(), bump()]);
    expect((await t.db.sql<{ n: number }>`select n from counter where id = 1`)[0]!.n).toBe(3);
    expect(attempts).toBeGreaterThan(3); // some attempts failed with 40001 and were run again
  });
});

