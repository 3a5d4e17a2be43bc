/**
 * #29: the diagnostics_channel events (lib/trace/channels.ts) — each published with the message it
 * documents, from a real request, connection, query (PGlite, SQLite, PostgreSQL, MariaDB) and job.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect, type AddressInfo } from 'node:net';
import { Type } from '@sinclair/typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, HttpError } from '../../lib/app/index.js';
import { openDatabase } from '../../lib/app/db/index.js';
import { createJobs } from '../../lib/app/jobs/index.js';
import { Server } from '../../lib/net/index.js';
import { testDb, testMysql } from '../app/db/helpers.js';

const subscriptions: Array<[string, (m: unknown) => void]> = [];
/** Messages published on `name` from now on. */
function record(name: string): Array<Record<string, unknown>> {
  const got: Array<Record<string, unknown>> = [];
  const fn = (m: unknown): void => void got.push(m as Record<string, unknown>);
  subscribe(name, fn);
  subscriptions.push([name, fn]);
  return got;
}
afterEach(() => {
  for (const [name, fn] of subscriptions.splice(0)) unsubscribe(name, fn);
});

describe('diagnostics channels', () => {
  it('requests: start, finish with status and duration, the error a route failed with', async () => {
    const start = record('covet:http.server.request.start');
    const finish = record('covet:http.server.response.finish');
    const errors = record('covet:http.server.request.error');
    const app = createApp({ onError: () => {} });
    app.get('/ok/{id:int}', () => 'ok');
    app.get('/boom', () => {
      throw new Error('kaboom');
    });
    app.get('/gone', () => {
      throw new HttpError(410);
    });
    expect((await app.inject({ method: 'GET', url: '/ok/1' })).status).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/boom' })).status).toBe(500);
    expect((await app.inject({ method: 'GET', url: '/gone' })).status).toBe(410);
    expect(start.map((m) => (m.request as { url: string }).url)).toEqual(['/ok/1', '/boom', '/gone']);
    expect(start[0]!.response).toBeDefined();
    expect(finish.map((m) => m.statusCode)).toEqual([200, 500, 410]);
    for (const m of finish) expect(m.durationMs).toBeGreaterThanOrEqual(0);
    expect(finish[0]!.request).toBe(start[0]!.request);
    expect(errors.map((m) => [(m.error as Error).message, m.route])).toEqual([['kaboom', '/boom'], ['Gone', '/gone']]);
  });

  it("a store bound to the start channels (an APM agent's context) holds for the whole request or job run", async () => {
    const als = new AsyncLocalStorage<string>();
    const req = channel('covet:http.server.request.start');
    const run = channel('covet:jobs.run.start');
    req.bindStore(als, (m) => `request ${(m as { request: { url: string } }).request.url}`);
    run.bindStore(als, (m) => `job ${(m as { name: string }).name}`);
    const db = openDatabase({ url: 'sqlite::memory:' });
    try {
      const app = createApp();
      app.get('/ctx', async () => {
        await new Promise((r) => setTimeout(r, 5)); // across an await
        return { store: als.getStore() ?? null };
      });
      expect((await app.inject({ method: 'GET', url: '/ctx?x=1' })).json()).toEqual({ store: 'request /ctx?x=1' });
      const jobs = createJobs(db);
      await jobs.migrate();
      const seen: Array<string | undefined> = [];
      const j = jobs.define('ctxjob', Type.Object({}), async () => {
        await new Promise((r) => setTimeout(r, 5));
        seen.push(als.getStore());
      });
      await j.enqueue({});
      const worker = jobs.work({ pollMs: 10, onError: () => {} });
      while (seen.length < 1) await new Promise((r) => setTimeout(r, 10));
      await worker.stop();
      expect(seen).toEqual(['job ctxjob']);
      expect(als.getStore()).toBeUndefined(); // nothing leaks outside
    } finally {
      req.unbindStore(als);
      run.unbindStore(als);
      await db.close();
    }
    // Unbound, nothing is entered.
    const app = createApp();
    app.get('/ctx', () => ({ store: als.getStore() ?? null }));
    expect((await app.inject({ method: 'GET', url: '/ctx' })).json()).toEqual({ store: null });
  });

  it('nothing is published to a channel nobody listens to (and listening late sees what follows)', async () => {
    const app = createApp();
    app.get('/', () => 'x');
    await app.inject({ method: 'GET', url: '/' });
    const finish = record('covet:http.server.response.finish');
    await app.inject({ method: 'GET', url: '/' });
    expect(finish).toHaveLength(1);
  });

  it('connections: open and close', async () => {
    const opened = record('covet:net.connection.open');
    const closed = record('covet:net.connection.close');
    const server = new Server({ onConnection: () => ({ onData() {} }) });
    const { port } = (await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo;
    const c = connect(port, '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    while (opened.length === 0) await new Promise((r) => setImmediate(r));
    c.destroy();
    while (closed.length === 0) await new Promise((r) => setImmediate(r));
    expect(closed[0]!.connection).toBe(opened[0]!.connection);
    expect(closed[0]).toHaveProperty('error');
    await server.close({ graceMs: 10 });
  });

  const databases: Array<[string, () => Promise<{ db: ReturnType<typeof openDatabase>; close: () => Promise<void> }>, string]> = [
    ['PGlite', async () => { const db = openDatabase({ url: 'pglite://memory' }); return { db, close: () => db.close() }; }, 'postgresql'],
    ['SQLite', async () => { const db = openDatabase({ url: 'sqlite::memory:' }); return { db, close: () => db.close() }; }, 'sqlite'],
    ['PostgreSQL', async () => { const t = await testDb('postgres'); return { db: t.db, close: t.drop }; }, 'postgresql'],
    ['MariaDB', async () => { const t = await testMysql(); return { db: t.db, close: t.drop }; }, 'mysql'],
  ];
  for (const [name, open, system] of databases) {
    it(`queries on ${name}: start and end, with rows or the error`, async () => {
      const { db, close } = await open();
      try {
        const startQ = record('covet:db.query.start');
        const endQ = record('covet:db.query.end');
        await db.query('select 1 as n union all select 2');
        await expect(db.query('select * from no_such_table_here')).rejects.toThrow();
        expect(startQ.map((m) => [m.system, m.text])).toEqual([[system, 'select 1 as n union all select 2'], [system, 'select * from no_such_table_here']]);
        expect(endQ[0]).toMatchObject({ system, text: 'select 1 as n union all select 2', rowCount: 2 });
        expect(endQ[0]!.durationMs).toBeGreaterThanOrEqual(0);
        expect(endQ[1]!.error).toBeInstanceOf(Error);
      } finally {
        await close();
      }
    });
  }

  it('jobs: each run starts and ends with its outcome (and the error of a failed attempt)', async () => {
    const db = openDatabase({ url: 'sqlite::memory:' });
    const jobs = createJobs(db);
    await jobs.migrate();
    const startJ = record('covet:jobs.run.start');
    const endJ = record('covet:jobs.run.end');
    const ok = jobs.define('ok', Type.Object({}), () => {});
    const bad = jobs.define('bad', Type.Object({}), () => {
      throw new Error('nope');
    }, { attempts: 1 });
    await ok.enqueue({});
    await bad.enqueue({});
    const worker = jobs.work({ pollMs: 10, onError: () => {} });
    try {
      while (endJ.length < 2) await new Promise((r) => setTimeout(r, 10));
    } finally {
      await worker.stop();
      await db.close();
    }
    expect(startJ.map((m) => m.name).sort()).toEqual(['bad', 'ok']);
    const byName = Object.fromEntries(endJ.map((m) => [m.name, m]));
    expect(byName.ok).toMatchObject({ queue: 'default', outcome: 'done', attempt: 1 });
    expect(byName.ok).not.toHaveProperty('error');
    expect(byName.bad).toMatchObject({ outcome: 'dead' });
    expect((byName.bad!.error as Error).message).toBe('nope');
  });
});
