/**
 * Read replicas against a real PostgreSQL streaming replica: the test's own primary (initdb in a temporary
 * directory) and a hot standby made from it with `pg_basebackup -R`, on ports of their own. Which server
 * answered is read from the answer (`inet_server_port()`).
 */
import diagnostics from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryMessage } from '../../../lib/trace/channels.js';
import { createApp, metrics } from '../../../lib/app/index.js';
import { createDb, isReadStatement, openDatabase, type Db } from '../../../lib/app/db/index.js';
import { startPgServer, type PgServer } from '../../helpers/pg-server.js';
import { waitFor } from '../../helpers/wait-for.js';

describe('which statements read', () => {
  it('reads: SELECT, WITH, VALUES, TABLE, after comments and parentheses, in any case', () => {
    for (const q of ['select 1', '  SELECT * from t', '-- note\nselect 1', '/* x */ (select 1) union (select 2)', 'with a as (select 1) select * from a', 'values (1)', 'table notes', 'Select updated_at from notes']) {
      expect([q, isReadStatement(q)]).toEqual([q, true]);
    }
  });
  it('writes, locks or session state: everything else, and reads that write or lock', () => {
    for (const q of [
      'insert into t values (1)', 'update t set a = 1', 'delete from t', 'explain analyze delete from t', 'show work_mem', 'set x = 1',
      'select * from t for update', 'select * from t for no key update', 'select * from t for share', 'select * from t for key share',
      'select * into copy from t', 'with d as (delete from t returning *) select * from d', 'with u as (update t set a = 1 returning *) select 1',
      "select nextval('s')", "select setval('s', 1)", "select pg_notify('c', 'x')", 'select pg_advisory_lock(1)', "select set_config('a.b', '1', true)",
      'merge into t using s on true when matched then do nothing', '', '(', 'selective',
    ]) {
      expect([q, isReadStatement(q)]).toEqual([q, false]);
    }
  });
});

describe('read replicas on a real streaming replica', () => {
  let primary: PgServer;
  let replica: PgServer;
  let direct: Db; // the replica alone, to see what it has replayed and to pause it
  beforeAll(async () => {
    primary = await startPgServer();
    replica = await primary.replica();
    direct = createDb({ url: replica.url, max: 1 });
    const setup = createDb({ url: primary.url, max: 1 });
    await setup.exec(`create table notes (id serial primary key, title text not null);
      create function add_note(t text) returns int language sql as 'insert into notes (title) values (t) returning id'`);
    await setup.close();
    await waitFor(async () => (await direct.sql<{ n: number }>`select count(*)::int as n from pg_proc where proname = 'add_note'`)[0]!.n === 1, 20_000, 'the replica replays the schema');
  }, 120_000);
  afterAll(async () => {
    await direct?.close();
    replica?.stop();
    primary?.stop();
  });

  const port = async (db: Db, q = 'select inet_server_port() as port'): Promise<number> => (await db.query<{ port: number }>(q)).rows[0]!.port;
  const replayed = (title: string) => waitFor(async () => (await direct.sql<{ n: number }>`select count(*)::int as n from notes where title = ${title}`)[0]!.n === 1, 20_000, `the replica replays "${title}"`);

  it('reads go to the replica, writes to the primary; rows written on the primary are read from the replica', async () => {
    const db = createDb({ url: primary.url, replicas: [replica.url], replica: { lagCheckMs: Infinity, stickyMs: 0 } });
    try {
      expect(await port(db)).toBe(replica.port);
      const [made] = await db.sql<{ id: number; port: number }>`insert into notes (title) values ('first') returning id, inet_server_port() as port`;
      expect(made!.port).toBe(primary.port);
      await replayed('first');
      const rows = await db.sql<{ title: string; port: number }>`select title, inet_server_port() as port from notes where id = ${made!.id}`;
      expect(rows).toEqual([{ title: 'first', port: replica.port }]);
      // Transactions, read-only or not, are the primary's.
      expect(await db.transaction(async (tx) => (await tx.sql<{ port: number }>`select inet_server_port() as port`)[0]!.port, { readOnly: true })).toBe(primary.port);
      // A statement that looks like a read but writes (a function that inserts): the replica refuses it
      // (25006), and it runs on the primary.
      const seen: Array<[number | undefined, string | undefined]> = [];
      const watch = (m: unknown) => {
        const q = m as QueryMessage;
        if (q.text.includes('add_note')) seen.push([q.port, (q.error as { code?: string } | undefined)?.code]);
      };
      diagnostics.subscribe('covet:db.query.end', watch);
      try {
        expect((await db.query<{ id: number; port: number }>(`select add_note('by function') as id, inet_server_port() as port`)).rows[0]!.port).toBe(primary.port);
      } finally {
        diagnostics.unsubscribe('covet:db.query.end', watch);
      }
      expect(seen).toEqual([[replica.port, '25006'], [primary.port, undefined]]);
      expect(await db.onPrimary(() => port(db))).toBe(primary.port);
      expect(db.replicaStats()).toMatchObject([{ name: `127.0.0.1:${replica.port}/postgres`, state: 'up', reads: 2 }]);
      // The same, for Prometheus.
      const app = createApp();
      metrics(app, { databases: { main: db }, defaultMetrics: false });
      await db.checkReplicas();
      const text = (await app.inject({ url: '/metrics' })).text();
      const label = `db="main",replica="127.0.0.1:${replica.port}/postgres"`;
      expect(text).toContain(`covet_db_replica_up{${label}} 1`);
      expect(text).toContain(`covet_db_replica_reads{${label}} 2`);
      expect(text).toContain(`covet_db_replica_lag_seconds{${label}} 0`);
    } finally {
      await db.close();
    }
  });

  it('a request that wrote reads its own writes from the primary; other requests read the replica', async () => {
    const db = createDb({ url: primary.url, replicas: [replica.url], replica: { lagCheckMs: Infinity, stickyMs: 60_000 } });
    const app = createApp()
      .post('/notes', async () => {
        await db.sql`insert into notes (title) values ('in a request')`;
        const [n] = await db.sql<{ n: number; port: number }>`select count(*)::int as n, inet_server_port() as port from notes where title = 'in a request'`;
        return n!;
      })
      .get('/port', async () => ({ port: await port(db) }));
    try {
      const wrote = (await app.inject({ method: 'POST', url: '/notes' })).json<{ n: number; port: number }>();
      expect(wrote).toEqual({ n: 1, port: primary.port }); // its own write, seen
      expect((await app.inject({ url: '/port' })).json()).toEqual({ port: replica.port });
      // A write outside any request (a job queue's polling, a script) does not send requests to the primary.
      await db.sql`insert into notes (title) values ('from outside')`;
      expect((await app.inject({ url: '/port' })).json()).toEqual({ port: replica.port });
    } finally {
      await db.close();
    }
  });

  it('outside a request, reads follow a write to the primary for stickyMs (clock injected)', async () => {
    let now = 1_000_000;
    const db = createDb({ url: primary.url, replicas: [replica.url], replica: { lagCheckMs: Infinity, stickyMs: 2000, now: () => now } });
    try {
      expect(await port(db)).toBe(replica.port);
      await db.sql`insert into notes (title) values ('sticky')`;
      expect(await port(db)).toBe(primary.port);
      now += 1999;
      expect(await port(db)).toBe(primary.port);
      now += 1;
      expect(await port(db)).toBe(replica.port);
    } finally {
      await db.close();
    }
  });

  it('a replica whose replay falls behind leaves the rotation, and comes back when it catches up', async () => {
    const db = createDb({ url: primary.url, replicas: [replica.url], replica: { lagCheckMs: Infinity, stickyMs: 0, maxLagMs: 0 } });
    // Caught up: the replica has replayed everything the primary wrote, earlier tests' rows and the records
    // PostgreSQL writes on its own (the background writer's snapshots), so the check reads no lag.
    const caughtUp = async () => {
      const [r] = await db.checkReplicas();
      return r!.state === 'up' && r!.lagMs === 0 && r!.lagBytes === 0;
    };
    try {
      await waitFor(caughtUp, 20_000, 'the replica catches up');
      await direct.query('select pg_wal_replay_pause()');
      await waitFor(async () => (await direct.sql<{ s: string }>`select pg_get_wal_replay_pause_state() as s`)[0]!.s === 'paused', 10_000, 'replay paused');
      await createDb({ url: primary.url, max: 1 }).exec(`insert into notes (title) values ('while paused')`); // another client's write
      const [lagging] = await db.checkReplicas();
      expect(lagging).toMatchObject({ state: 'lagging' });
      expect(lagging!.lagBytes).toBeGreaterThan(0);
      expect(lagging!.lagMs).toBeGreaterThan(0);
      // Out of rotation: the read goes to the primary, which has the row.
      expect(await db.sql`select inet_server_port() as port from notes where title = 'while paused'`).toEqual([{ port: primary.port }]);
      await direct.query('select pg_wal_replay_resume()');
      await replayed('while paused');
      await waitFor(caughtUp, 20_000, 'the replica catches up again');
      expect(db.replicaStats()).toMatchObject([{ state: 'up', lagMs: 0, lagBytes: 0 }]);
      expect(await db.sql`select inet_server_port() as port from notes where title = 'while paused'`).toEqual([{ port: replica.port }]);
    } finally {
      await direct.query('select pg_wal_replay_resume()').catch(() => {});
      await db.close();
    }
  });

  it('a stopped replica fails no read: it is skipped, retried with backoff, and back once it answers', async () => {
    let now = 5_000_000;
    const db = createDb({ url: primary.url, replicas: [replica.url], replica: { lagCheckMs: Infinity, stickyMs: 0, retryMs: 1000, now: () => now } });
    try {
      expect(await port(db)).toBe(replica.port);
      replica.halt();
      // The read that finds it gone is answered by the primary; so is the next, without trying the replica.
      expect(await port(db)).toBe(primary.port);
      const [down] = db.replicaStats();
      expect(down).toMatchObject({ state: 'down', retryAt: now + 1000 });
      expect(down!.lastError).toMatch(/connect|closed|terminat|shut/i);
      expect(await port(db)).toBe(primary.port);
      // Tried again after the backoff: still down, so the next wait doubles.
      now += 1000;
      expect(await port(db)).toBe(primary.port);
      expect(db.replicaStats()[0]).toMatchObject({ state: 'down', retryAt: now + 2000 });
      replica.start();
      await waitFor(async () => (await direct.query('select 1').then(() => true, () => false)), 20_000, 'the replica restarts');
      now += 2000;
      expect(await port(db)).toBe(replica.port);
      expect(db.replicaStats()[0]).toMatchObject({ state: 'up', lastError: null });
      // Answering again reset the backoff: the next failure waits the first interval again.
      replica.halt();
      expect(await port(db)).toBe(primary.port);
      expect(db.replicaStats()[0]).toMatchObject({ state: 'down', retryAt: now + 1000 });
      replica.start();
    } finally {
      await db.close();
    }
  }, 60_000);

  it('DATABASE_REPLICA_URLS names the replicas; other databases refuse them in words', async () => {
    process.env.DATABASE_REPLICA_URLS = ` ${replica.url} ,`;
    try {
      const db = createDb({ url: primary.url, replica: { lagCheckMs: Infinity } });
      expect(db.replicaStats().map((r) => r.name)).toEqual([`127.0.0.1:${replica.port}/postgres`]);
      await db.close();
    } finally {
      delete process.env.DATABASE_REPLICA_URLS;
    }
    expect(() => createDb({ url: 'pglite:memory', replicas: [replica.url] })).toThrow('read replicas (replicas, DATABASE_REPLICA_URLS) need a PostgreSQL server as the primary (DATABASE_URL=postgres://...), not PGlite');
    expect(() => openDatabase({ url: 'sqlite::memory:', replicas: [replica.url] })).toThrow('read replicas are supported with PostgreSQL; sqlite routes every query to DATABASE_URL');
    expect(() => openDatabase({ url: 'mysql://root@127.0.0.1/x', replicas: [replica.url] })).toThrow(/read replicas are supported with PostgreSQL; mysql/);
  });
});
