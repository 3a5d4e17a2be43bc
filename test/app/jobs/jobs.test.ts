/**
 * Background jobs against the real PostgreSQL, PGlite, SQLite, MariaDB and the real Redis, one suite: delivery once,
 * idempotency keys, transactional enqueue (databases; Redis refuses `tx` clearly), retries into the dead
 * state, timeouts, delays and priorities, many workers never running one job twice, cron once per tick
 * across processes, graceful stop handing jobs back — and, on PostgreSQL and Redis, four worker
 * processes never running one job twice and a worker killed with SIGKILL mid-job: the job runs exactly
 * once more (on every backend but PGlite, one process's database).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, openDatabase, type Database } from '../../../lib/app/db/index.js';
import { createJobs, nextCronTick, parseCron, WORKER_LOST } from '../../../lib/app/jobs/index.js';
import { testDb, testMysql, testSqlite, type TestDb } from '../db/helpers.js';
import { REDIS_URL } from '../auth/helpers.js';
import { waitFor } from '../../helpers/wait-for.js';

const quiet = { onError: () => {} };

describe('cron expressions', () => {
  it('next ticks: steps, ranges, lists, weekdays (7 is Sunday), both day fields as "either"', () => {
    const at = (s: string) => new Date(s);
    expect(nextCronTick(parseCron('*/15 * * * *'), at('2026-12-02T10:07:30Z')).toISOString()).toBe('2026-12-02T10:15:00.000Z');
    expect(nextCronTick(parseCron('30 3 * * 1-5'), at('2026-12-04T04:00:00Z')).toISOString()).toBe('2026-12-07T03:30:00.000Z');
    expect(nextCronTick(parseCron('0 0 * * 7'), at('2026-12-02T00:00:00Z')).toISOString()).toBe('2026-12-06T00:00:00.000Z');
    expect(nextCronTick(parseCron('0 12 1 * 1'), at('2026-12-02T13:00:00Z')).toISOString()).toBe('2026-12-07T12:00:00.000Z'); // Monday 7th before the 1st
    expect(nextCronTick(parseCron('0 0 29 2 *'), at('2027-01-01T00:00:00Z')).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(() => parseCron('61 * * * *')).toThrow(/minute: "61" is outside 0–59/);
    expect(() => parseCron('* * *')).toThrow(/five fields/);
  });
});

/** A backend under test: a fresh database, or a fresh key prefix on the local Redis. */
interface Backend {
  /** The database (null on Redis). */
  db: Database | null;
  /** The queue named `name` (its own table or prefix); `client` a second connection's. */
  queue(name: string, second?: boolean): ReturnType<typeof createJobs>;
  /** Environment for a worker process (tests/fixtures/jobs-worker.mjs) on the queue `name`. */
  env(name: string): Record<string, string>;
  /** Where worker processes on the queue `name` record their runs (before they start). */
  prepareRuns(name: string): Promise<void>;
  /** The runs worker processes recorded: job id → worker pids. */
  runs(name: string): Promise<Map<string, string[]>>;
  close(): Promise<void>;
}

async function backend(kind: 'postgres' | 'pglite' | 'sqlite' | 'mysql' | 'redis'): Promise<Backend> {
  if (kind === 'redis') {
    const base = `test:jobs:${randomBytes(4).toString('hex')}:`;
    const clients: Redis[] = [];
    const client = (): Redis => {
      const r = new Redis(REDIS_URL);
      clients.push(r);
      return r;
    };
    const main = client();
    return {
      db: null,
      queue: (name, second) => createJobs(second ? client() : main, { prefix: `${base}${name}:` }),
      env: (name) => ({ REDIS_URL, PREFIX: `${base}${name}:` }),
      prepareRuns: async () => {},
      async runs(name) {
        const m = new Map<string, string[]>();
        for (const r of await main.lrange(`${base}${name}:runs`, 0, -1)) {
          const [id, pid] = r.split(' ');
          m.set(id!, [...(m.get(id!) ?? []), pid!]);
        }
        return m;
      },
      async close() {
        const keys = await main.keys(`${base}*`);
        if (keys.length > 0) await main.del(...keys);
        await Promise.all(clients.map((c) => c.quit()));
      },
    };
  }
  const t: { db: Database; url: string | undefined; drop(): Promise<void> } = kind === 'sqlite' ? testSqlite() : kind === 'mysql' ? await testMysql() : await testDb(kind);
  const extra: Database[] = [];
  const made = new Set<string>();
  return {
    db: t.db,
    queue(name, second) {
      // A second connection (pool) to the same database; PGlite is one process's, one session.
      const db = second && kind === 'postgres' ? createDb({ url: t.url, max: 3 }) : second && kind !== 'pglite' ? openDatabase({ url: t.url }) : t.db;
      if (db !== t.db) extra.push(db);
      return createJobs(db, { table: name });
    },
    env: (name) => ({ DATABASE_URL: t.url!, TABLE: name }),
    async runs(name) {
      const m = new Map<string, string[]>();
      if (!made.has(name)) return m;
      for (const r of (await t.db.query<{ job_id: string | number; worker: number }>(`select job_id, worker from ${name}_runs`)).rows) m.set(String(r.job_id), [...(m.get(String(r.job_id)) ?? []), String(r.worker)]);
      return m;
    },
    async prepareRuns(name) {
      made.add(name);
      await t.db.exec(`create table ${name}_runs (job_id bigint not null, worker int not null)`);
    },
    async close() {
      await Promise.all(extra.map((d) => d.close()));
      await t.drop();
    },
  };
}

for (const kind of ['postgres', 'pglite', 'sqlite', 'mysql', 'redis'] as const) {
  describe(`jobs on ${kind}`, () => {
    let b: Backend;
    beforeAll(async () => {
      b = await backend(kind);
    }, 30_000);
    afterAll(() => b.close());

    const queues = new Map<string, ReturnType<typeof createJobs>>();
    const setup = async (name: string) => {
      const jobs = b.queue(name);
      await jobs.migrate();
      queues.set(name, jobs);
      return jobs;
    };
    const stateOf = async (name: string, id: string) => {
      const j = await queues.get(name)!.get(id);
      return { state: j!.state, attempts: j!.attempts, last_error: j!.lastError };
    };

    it('runs a job once with its payload; refuses a payload that breaks the schema; a key enqueues once', async () => {
      const jobs = await setup('jobs_basic');
      const seen: Array<{ to: string; attempt: number }> = [];
      const mail = jobs.define('mail', Type.Object({ to: Type.String({ format: 'email' }) }), (p, ctx) => void seen.push({ to: p.to, attempt: ctx.attempt }));
      await expect(mail.enqueue({ to: 'not an email' } as never)).rejects.toMatchObject({ status: 422 });
      const id = await mail.enqueue({ to: 'ann@example.com' }, { key: 'welcome:1' });
      expect(await mail.enqueue({ to: 'ann@example.com' }, { key: 'welcome:1' })).toBe(id);
      const w = jobs.work({ pollMs: 20, ...quiet });
      await waitFor(async () => (await stateOf('jobs_basic', id)).state === 'done', 10_000);
      await w.stop();
      expect(seen).toEqual([{ to: 'ann@example.com', attempt: 1 }]);
    });

    if (kind === 'redis') {
      it('done jobs expire after a day by default (with their key); doneTtlMs sets it, Infinity keeps them', async () => {
        const r = new Redis(REDIS_URL);
        const prefix = `test:jobs:ttl:${randomBytes(4).toString('hex')}:`;
        try {
          const ttlOf = async (o: { doneTtlMs?: number }, tag: string) => {
            const jobs = createJobs(r, { prefix: `${prefix}${tag}:`, ...o });
            const j = jobs.define('j', Type.Object({}), () => {});
            const id = await j.enqueue({}, { key: `k-${tag}` });
            const w = jobs.work({ pollMs: 10, ...quiet });
            await waitFor(async () => (await jobs.get(id))?.state === 'done', 10_000);
            await w.stop();
            return [await r.pttl(`${prefix}${tag}:job:${id}`), await r.pttl(`${prefix}${tag}:key:k-${tag}`)];
          };
          const [job, key] = await ttlOf({}, 'default');
          for (const t of [job!, key!]) expect(t > 86_400_000 - 60_000 && t <= 86_400_000).toBe(true);
          const [short] = await ttlOf({ doneTtlMs: 5000 }, 'short');
          expect(short! > 0 && short! <= 5000).toBe(true);
          expect(await ttlOf({ doneTtlMs: Infinity }, 'kept')).toEqual([-1, -1]); // no expiry
        } finally {
          const keys = await r.keys(`${prefix}*`);
          if (keys.length > 0) await r.del(...keys);
          await r.quit();
        }
      });

      it('refuses to enqueue inside a database transaction, saying why', async () => {
        const jobs = await setup('jobs_tx');
        const j = jobs.define('j', Type.Object({}), () => {});
        const db = createDb({ url: 'pglite://memory' });
        await expect(db.transaction((tx) => j.enqueue({}, { tx }))).rejects.toThrow(/cannot be part of a database transaction: use a queue on the database/);
        await db.close();
      });
    }

    if (kind !== 'redis') it('enqueued inside a transaction: exists only if the transaction commits', async () => {
      const jobs = await setup('jobs_tx');
      const t = { db: b.db! };
      const ran: number[] = [];
      const j = jobs.define('j', Type.Object({ n: Type.Integer() }), (p) => void ran.push(p.n));
      await expect(t.db.transaction(async (tx) => {
        await j.enqueue({ n: 1 }, { tx });
        throw new Error('rollback');
      })).rejects.toThrow('rollback');
      await t.db.transaction(async (tx) => void (await j.enqueue({ n: 2 }, { tx })));
      const w = jobs.work({ pollMs: 20, ...quiet });
      await waitFor(() => ran.length === 1, 10_000);
      await new Promise((r) => setTimeout(r, 100));
      await w.stop();
      expect(ran).toEqual([2]);
    });

    it('a failing job is retried with backoff, then dead with its last error; retryDead brings it back', async () => {
      const jobs = await setup('jobs_retry');
      let calls = 0;
      const flaky = jobs.define('flaky', Type.Object({}), () => {
        calls++;
        throw new Error(`boom ${calls}`);
      }, { attempts: 3, backoffMs: () => 10 });
      const id = await flaky.enqueue({});
      const w = jobs.work({ pollMs: 20, ...quiet });
      await waitFor(async () => (await stateOf('jobs_retry', id)).state === 'dead', 10_000);
      expect(await stateOf('jobs_retry', id)).toEqual({ state: 'dead', attempts: 3, last_error: 'boom 3' });
      expect(calls).toBe(3);
      expect(await jobs.retryDead('flaky')).toBe(1);
      await waitFor(async () => (await stateOf('jobs_retry', id)).state === 'dead' && calls === 6, 10_000);
      await w.stop();
      expect((await jobs.stats()).queues.default).toMatchObject({ dead: 1, queued: 0, running: 0 });
    });

    it('a job past its timeout is aborted (its signal fires) and the attempt fails', async () => {
      const jobs = await setup('jobs_timeout');
      let aborted = false;
      const slow = jobs.define('slow', Type.Object({}), (_p, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(signal.reason)))), { attempts: 1, timeoutMs: 100 });
      const id = await slow.enqueue({});
      const w = jobs.work({ pollMs: 20, ...quiet });
      await waitFor(async () => (await stateOf('jobs_timeout', id)).state === 'dead', 10_000);
      await w.stop();
      expect(aborted).toBe(true);
      expect((await stateOf('jobs_timeout', id)).last_error).toMatch(/timed out after 100 ms/);
    });

    it('delays and priorities: a delayed job waits; among due jobs the higher priority runs first', async () => {
      const jobs = await setup('jobs_order');
      const order: string[] = [];
      const j = jobs.define('j', Type.Object({ tag: Type.String() }), (p) => void order.push(p.tag));
      await j.enqueue({ tag: 'later' }, { delayMs: 600 });
      await j.enqueue({ tag: 'low' }, { priority: 0 });
      await j.enqueue({ tag: 'high' }, { priority: 10 });
      const w = jobs.work({ pollMs: 20, concurrency: 1, ...quiet });
      await waitFor(() => order.length === 2, 10_000);
      expect(order).toEqual(['high', 'low']);
      await waitFor(() => order.length === 3, 10_000);
      await w.stop();
      expect(order[2]).toBe('later');
    });

    it('many workers (separate sessions) never run one job twice', async () => {
      const jobs = await setup('jobs_many');
      const runs = new Map<number, number>();
      const defineOn = (j: ReturnType<typeof createJobs>) => j.define('count', Type.Object({ n: Type.Integer() }), async (p) => {
        runs.set(p.n, (runs.get(p.n) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
      });
      const job = defineOn(jobs);
      const N = kind === 'pglite' ? 60 : 300;
      for (let i = 0; i < N; i++) await job.enqueue({ n: i });
      // Four queues over four connections (PGlite: one session, four workers on it).
      const others = kind === 'pglite' ? [jobs, jobs, jobs] : Array.from({ length: 3 }, () => b.queue('jobs_many', true));
      for (const j of others) if (j !== jobs) defineOn(j);
      const workers = [jobs, ...others].map((j) => j.work({ pollMs: 10, concurrency: 3, ...quiet }));
      await waitFor(() => runs.size === N, 30_000);
      await Promise.all(workers.map((w) => w.stop()));
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
    }, 60_000);

    it('a cron schedule fires once per tick, however many processes fire it', async () => {
      const one = await setup('jobs_cron');
      const two = b.queue('jobs_cron', true);
      const tick = one.define('tick', Type.Object({ k: Type.String() }), () => {});
      one.schedule(tick, '*/5 * * * *', { k: 'report' });
      two.schedule(two.define('tick', Type.Object({ k: Type.String() }), () => {}), '*/5 * * * *', { k: 'report' });
      const at = new Date('2026-12-02T10:05:20Z');
      await Promise.all([one.fireSchedules(at), two.fireSchedules(at), one.fireSchedules(new Date('2026-12-02T10:05:50Z'))]);
      await two.fireSchedules(new Date('2026-12-02T10:07:00Z')); // no tick between 10:06 and 10:07
      expect((await one.stats()).queues.default?.queued).toBe(1);
      await one.fireSchedules(new Date('2026-12-02T10:10:01Z'));
      expect((await one.stats()).queues.default?.queued).toBe(2);
      // Each tick's job carries the tick's time as its key: enqueuing it again finds it.
      const id05 = await tick.enqueue({ k: 'report' }, { key: 'cron:tick:2026-12-02T10:05:00.000Z' });
      const id10 = await tick.enqueue({ k: 'report' }, { key: 'cron:tick:2026-12-02T10:10:00.000Z' });
      expect(id05).not.toBe(id10);
      expect([(await one.get(id05))!.key, (await one.get(id10))!.key]).toEqual(['cron:tick:2026-12-02T10:05:00.000Z', 'cron:tick:2026-12-02T10:10:00.000Z']);
      expect((await one.stats()).queues.default?.queued).toBe(2);
    });

    it('a lease that runs out counts as an attempt: at the limit the job is dead with "worker lost", never claimed again (#27)', async () => {
      const jobs = await setup('jobs_lost');
      const starts: string[] = [];
      const once = jobs.define('once', Type.Object({}), () => void starts.push('once'), { attempts: 1 });
      const twice = jobs.define('twice', Type.Object({}), (_p, ctx) => void starts.push(`twice ${ctx.attempt}`), { attempts: 2 });
      const a = await once.enqueue({});
      const b2 = await twice.enqueue({});
      // A worker that claims them and dies: its leases (50 ms) run out with nothing done.
      const ghost = await jobs.store.claim('ghost', new Map([['once', 50], ['twice', 50]]), 10, []);
      expect(ghost.map((g) => g.id).sort()).toEqual([a, b2].sort());
      const w = jobs.work({ pollMs: 20, ...quiet });
      try {
        await waitFor(async () => (await stateOf('jobs_lost', a)).state === 'dead' && (await stateOf('jobs_lost', b2)).state === 'done', 10_000);
        // a few more looks: the dead job stays dead
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        await w.stop();
      }
      expect(await stateOf('jobs_lost', a)).toEqual({ state: 'dead', attempts: 1, last_error: WORKER_LOST });
      expect(await stateOf('jobs_lost', b2)).toMatchObject({ state: 'done', attempts: 2 });
      expect(starts).toEqual(['twice 2']);
      expect((await jobs.stats()).queues.default).toMatchObject({ dead: 1, done: 1, running: 0, queued: 0 });
    });

    it('stop() waits for running jobs within its grace, then hands the rest back (attempt not counted) for the next worker', async () => {
      const jobs = await setup('jobs_stop');
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const starts: number[] = [];
      const j = jobs.define('j', Type.Object({}), async (_p, ctx) => {
        starts.push(ctx.attempt);
        if (starts.length === 1) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
        else await gate;
      });
      const id = await j.enqueue({});
      const w1 = jobs.work({ pollMs: 20, ...quiet });
      await waitFor(() => starts.length === 1, 10_000);
      await w1.stop(100); // grace over: handed back
      expect(await stateOf('jobs_stop', id)).toMatchObject({ state: 'queued', attempts: 0 });
      const w2 = jobs.work({ pollMs: 20, ...quiet });
      await waitFor(() => starts.length === 2, 10_000);
      release();
      await waitFor(async () => (await stateOf('jobs_stop', id)).state === 'done', 10_000);
      await w2.stop();
      expect(starts).toEqual([1, 1]);
    });

    if (kind !== 'pglite') {
      it('four worker processes never run one job twice', async () => {
        const jobs = await setup('jobs_procs');
        await b.prepareRuns('jobs_procs');
        const count = jobs.define('count', Type.Object({ n: Type.Integer() }), () => {});
        // The four are up before the jobs come, so they all claim while the jobs are being enqueued.
        let ready = 0;
        const procs = Array.from({ length: 4 }, () => {
          const p = spawn(process.execPath, [join(import.meta.dirname, '../../fixtures/jobs-worker.mjs')], { env: { ...process.env, ...b.env('jobs_procs'), CONCURRENCY: '4', COUNT_MS: '10' }, stdio: ['ignore', 'pipe', 'inherit'] });
          p.stdout!.on('data', (d: Buffer) => void (d.toString().includes('ready') && ready++));
          return p;
        });
        const ids: string[] = [];
        try {
          await waitFor(() => ready === 4, 15_000, 'four worker processes');
          for (let i = 0; i < 400; i++) ids.push(await count.enqueue({ n: i }));
          await waitFor(async () => (await jobs.stats()).queues.default?.done === 400, 30_000);
        } finally {
          for (const p of procs) p.kill('SIGTERM');
        }
        const runs = await b.runs('jobs_procs');
        expect(runs.size).toBe(400);
        expect([...runs.values()].every((pids) => pids.length === 1)).toBe(true);
        expect([...runs.keys()].sort()).toEqual([...ids].sort());
        expect(new Set([...runs.values()].flat()).size).toBeGreaterThan(1);
      }, 60_000);

      it('a worker killed with SIGKILL mid-job: the job runs again exactly once more, after its lease', async () => {
        const jobs = await setup('jobs_kill');
        await b.prepareRuns('jobs_kill');
        const j = jobs.define('slow', Type.Object({ n: Type.Integer() }), () => {});
        const id = await j.enqueue({ n: 1 });
        const start = () =>
          spawn(process.execPath, [join(import.meta.dirname, '../../fixtures/jobs-worker.mjs')], { env: { ...process.env, ...b.env('jobs_kill'), TIMEOUT_MS: '300', LEASE_MARGIN_MS: '200' }, stdio: ['ignore', 'pipe', 'inherit'] });
        const first = start();
        let out = '';
        first.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        await waitFor(() => out.includes(`started ${id}`), 15_000);
        first.kill('SIGKILL');
        await new Promise((r) => first.once('exit', r));
        const second = start();
        let out2 = '';
        second.stdout!.on('data', (d: Buffer) => (out2 += d.toString()));
        try {
          await waitFor(() => out2.includes(`started ${id}`), 15_000); // after the 500 ms lease ran out
          await new Promise((r) => setTimeout(r, 300));
          expect((await b.runs('jobs_kill')).get(id)).toHaveLength(2);
        } finally {
          second.kill('SIGKILL');
        }
      }, 40_000);
    }
  });
}

describe('jobs: a worker stopped while it subscribes', () => {
  it('a subscription that completes after stop() began is undone; its failure is no unhandled rejection', async () => {
    const t = testSqlite();
    try {
      const jobs = createJobs(t.db, { table: 'jobs_late_sub' });
      await jobs.migrate();
      let subscribed!: () => void;
      let undone = 0;
      // The store's subscription (LISTEN on PostgreSQL) answers only after the worker was told to stop, and
      // undoing it then fails (the Db is closing): `covet worker` exited 1 on such a rejection.
      jobs.store.subscribe = () =>
        new Promise((resolve) => {
          subscribed = () =>
            resolve(async () => {
              undone++;
              throw new Error('the session is closed');
            });
        });
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        const w = jobs.work({ pollMs: 20, ...quiet });
        await w.stop();
        subscribed();
        await new Promise((r) => setTimeout(r, 50)); // unhandled rejections are reported after a macrotask
        expect({ undone, unhandled }).toEqual({ undone: 1, unhandled: [] });
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    } finally {
      await t.drop();
    }
  });
});

describe('jobs: the /jobs view, metrics, and `covet worker`', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await testDb('postgres');
  }, 30_000);
  afterAll(() => t.drop());

  it('/jobs and /metrics tell the counts and attempts', async () => {
    const { createApp, metrics } = await import('../../../lib/app/index.js');
    const { jobsMetrics, jobsView } = await import('../../../lib/app/jobs/index.js');
    const jobs = createJobs(t.db, { table: 'jobs_view' });
    await jobs.migrate();
    const ok = jobs.define('ok', Type.Object({}), () => {});
    const bad = jobs.define('bad', Type.Object({}), () => {
      throw new Error('no');
    }, { attempts: 1 });
    const app = createApp();
    jobsMetrics(metrics(app), jobs);
    jobsView(app, jobs);
    await ok.enqueue({});
    await bad.enqueue({});
    await ok.enqueue({}, { delayMs: 60_000 });
    const w = jobs.work({ pollMs: 20, ...quiet });
    await waitFor(async () => (await jobs.stats()).queues.default?.done === 1 && (await jobs.stats()).queues.default?.dead === 1, 10_000);
    await w.stop();
    expect((await app.inject({ url: '/jobs' })).json()).toEqual({ queues: { default: { queued: 1, running: 0, done: 1, dead: 1 } }, oldestDueSeconds: 0 });
    const text = (await app.inject({ url: '/metrics' })).text();
    expect(text).toMatch(/^covet_jobs\{queue="default",state="done"\} 1$/m);
    expect(text).toMatch(/^covet_jobs\{queue="default",state="queued"\} 1$/m);
    expect(text).toMatch(/^covet_job_attempts_total\{job="ok",queue="default",outcome="done"\} 1$/m);
    expect(text).toMatch(/^covet_job_attempts_total\{job="bad",queue="default",outcome="dead"\} 1$/m);
    expect(text).toMatch(/^covet_job_duration_seconds_count\{job="ok",queue="default"\} 1$/m);
  });

  it('covet worker runs a module\'s queue until SIGTERM, then stops gracefully', async () => {
    await t.db.exec('create table job_notes (text text not null)');
    const jobs = createJobs(t.db, { table: 'jobs_cli' });
    await jobs.migrate();
    const note = jobs.define('note', Type.Object({ text: Type.String() }), () => {});
    const root = join(import.meta.dirname, '../../..');
    const child = spawn(process.execPath, [join(root, 'dist/lib/cli/main.js'), 'worker', 'test/fixtures/jobs-module.mjs', '--concurrency', '2'], { cwd: root, env: { ...process.env, DATABASE_URL: t.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('covet worker:'), 15_000, `the worker to start: ${out}`);
    expect(out).toContain('1 queue(s), concurrency 2');
    await note.enqueue({ text: 'from the test' });
    await waitFor(async () => (await t.db.query('select 1 from job_notes')).rows.length === 1, 10_000);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const code = await exited;
    // On one line, next to the failure's code frame (CI keeps only the end of a failed run's output).
    expect(code, `the worker exited ${code}; its last words: ${out.trim().split('\n').filter((l) => !/^\s+at /.test(l)).slice(-4).join(' ⏎ ')}`).toBe(0);
    expect(out).toMatch(/SIGTERM: stopping[\s\S]*stopped/);
  });

  it('covet worker says so in words and exits 1 when stopping fails', async () => {
    const root = join(import.meta.dirname, '../../..');
    const child = spawn(process.execPath, [join(root, 'dist/lib/cli/main.js'), 'worker', 'test/fixtures/jobs-module-failing-stop.mjs'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('covet worker:'), 15_000, `the worker to start: ${out}`);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect({ code: await exited, out }).toMatchObject({ code: 1 });
    expect(out).toContain('covet worker: stopping failed: the database went away');
    expect(out).not.toMatch(/\n\s+at /); // no stack
  });
});
