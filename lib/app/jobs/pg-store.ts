/**
 * Jobs in one PostgreSQL (or PGlite) table, claimed with `FOR UPDATE SKIP LOCKED`: any number of workers
 * in any number of processes share it, and rows another worker is claiming are skipped, not waited for.
 * Enqueueing inside the app's transaction makes the job part of it. PostgreSQL wakes idle workers at
 * once (LISTEN/NOTIFY, delivered at commit); PGlite workers poll.
 */
import type { Db, Queryable } from '../db/db.js';
import { BACKGROUND_WAIT_MS } from '../db/pool.js';

/** A worker's statements wait for a pooled connection longer than a request does. */
const BG = { acquireTimeoutMs: BACKGROUND_WAIT_MS };
import { WORKER_LOST, type ClaimedJob, type JobInfo, type JobState, type JobStats, type JobStore, type NewJob } from './store.js';

const CHANNEL = 'covet_jobs';

/**
 * Claims and outcomes commit without waiting for the WAL flush (`synchronous_commit` off for that one
 * statement's transaction; `set_config(..., true)` lasts until its commit). A server crash can then forget
 * the last moment's claims and outcomes — whose jobs run again, as the queue's at-least-once promise
 * allows — but never an enqueued job: enqueueing commits synchronously. Measured: 2.5k → 4.5k jobs/s
 * drained, the flush per statement being half the server's work.
 */
const ASYNC_COMMIT = `(select set_config('synchronous_commit', 'off', true)) is not null`;

export class PgJobStore implements JobStore {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  readonly table: string;

  constructor(db: Db, table: string) {
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`jobs table name ${JSON.stringify(table)}: lowercase letters, digits and _`);
    this.db = db;
    this.kind = db.kind;
    this.table = table;
  }

  async migrate(): Promise<void> {
    const t = this.table;
    await this.db.exec(`
      create table if not exists ${t} (
        id bigserial primary key,
        queue text not null,
        name text not null,
        payload jsonb not null,
        state text not null default 'queued',
        priority integer not null default 0,
        run_at timestamptz not null default now(),
        attempts integer not null default 0,
        max_attempts integer not null,
        key text unique,
        last_error text,
        locked_by text,
        locked_until timestamptz,
        created_at timestamptz not null default now(),
        finished_at timestamptz,
        trace text
      );
      alter table ${t} add column if not exists trace text;
      drop index if exists ${t}_due_idx;
      create index if not exists ${t}_ready_idx on ${t} (priority desc, run_at, id) where state = 'queued';
      create index if not exists ${t}_lease_idx on ${t} (locked_until) where state = 'running';`);
  }

  async enqueue(j: NewJob, tx?: Queryable): Promise<string> {
    const q = tx ?? this.db;
    const t = this.table;
    const rows = (
      await q.query<{ id: string }>(
        `insert into ${t} (queue, name, payload, priority, run_at, max_attempts, key, trace)
           values ($1, $2, $3, $4, now() + make_interval(secs => $5::float8 / 1000), $6, $7, $8)
           on conflict (key) do nothing returning id::text as id`,
        [j.queue, j.name, j.payload, j.priority, j.delayMs, j.maxAttempts, j.key, j.trace], // the driver sends jsonb parameters as JSON
      )
    ).rows;
    if (rows.length > 0) {
      // Wakes idle workers (delivered at commit in a transaction). A statement of its own: measured twice
      // as fast as the same NOTIFY inside the insert (a CTE), 7k vs 3.5k enqueues/s.
      if (this.kind === 'postgres') await q.query('select pg_notify($1, $2)', [CHANNEL, j.queue]);
      return rows[0]!.id;
    }
    // The key exists: the job enqueued first is the job.
    return (await q.query<{ id: string }>(`select id::text as id from ${t} where key = $1`, [j.key])).rows[0]!.id;
  }

  #recovered = 0;

  async claim(workerId: string, leaseMs: ReadonlyMap<string, number>, limit: number, done: readonly string[]): Promise<ClaimedJob[]> {
    const t = this.table;
    // Running jobs whose lease ran out (their worker died): the attempt they began counts, so they are due
    // again, or dead at their limit (looked for at most once a second per process: a scan of the lease index).
    if (performance.now() - this.#recovered > 1000) {
      this.#recovered = performance.now();
      await this.db.query(
        `update ${t} set state = case when attempts >= max_attempts then 'dead' else 'queued' end,
           finished_at = case when attempts >= max_attempts then now() end, last_error = $1, locked_by = null, locked_until = null
         where state = 'running' and locked_until < now()`,
        [WORKER_LOST],
        BG,
      );
    }
    // The jobs done since the last claim; then due jobs by priority, due time and age, through the partial
    // index (SKIP LOCKED: rows another worker is claiming right now are not waited for).
    const rows = (
      await this.db.query<ClaimedJob>(
        `with fin as (
           update ${t} set state = 'done', finished_at = now(), locked_by = null, locked_until = null, last_error = null
           where ${ASYNC_COMMIT} and id = any($5::bigint[]) and locked_by = $1)
         update ${t} j set state = 'running', attempts = j.attempts + 1, locked_by = $1,
           locked_until = now() + make_interval(secs => (select l.ms from unnest($3::text[], $2::float8[]) as l(name, ms) where l.name = j.name) / 1000)
         where ${ASYNC_COMMIT} and j.id in (
           select id from ${t}
           where state = 'queued' and run_at <= now() and name = any($3)
           order by priority desc, run_at, id
           limit $4 for update skip locked)
         returning j.id::text as id, j.name, j.payload, j.attempts, j.max_attempts as "maxAttempts", j.trace`,
        [workerId, [...leaseMs.values()], [...leaseMs.keys()], limit, done],
        BG,
      )
    ).rows;
    return rows;
  }

  async fail(id: string, workerId: string, message: string, retryInMs: number | null): Promise<void> {
    const t = this.table;
    await this.db.query(
      retryInMs === null
        ? `update ${t} set state = 'dead', finished_at = now(), last_error = $3, locked_by = null, locked_until = null where ${ASYNC_COMMIT} and id = $1 and locked_by = $2`
        : `update ${t} set state = 'queued', run_at = now() + make_interval(secs => $4::float8 / 1000), last_error = $3, locked_by = null, locked_until = null where ${ASYNC_COMMIT} and id = $1 and locked_by = $2`,
      retryInMs === null ? [id, workerId, message] : [id, workerId, message, retryInMs],
      BG,
    );
  }

  async handBack(id: string, workerId: string): Promise<void> {
    await this.db.query(`update ${this.table} set state = 'queued', attempts = attempts - 1, locked_by = null, locked_until = null where ${ASYNC_COMMIT} and id = $1 and locked_by = $2`, [id, workerId], BG);
  }

  async get(id: string): Promise<JobInfo | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    // Columns under the JobInfo names: the row is the answer.
    const r = await this.db.query<JobInfo>(
      `select id::text as id, name, queue, state, payload, priority, attempts, max_attempts as "maxAttempts", key, last_error as "lastError", run_at as "runAt", created_at as "createdAt", finished_at as "finishedAt" from ${this.table} where id = $1`,
      [id],
    );
    return r.rows[0] ?? null;
  }

  async stats(): Promise<JobStats> {
    const rows = (await this.db.query<{ queue: string; state: JobState; n: number }>(`select queue, state, count(*)::int as n from ${this.table} group by queue, state`)).rows;
    const queues: JobStats['queues'] = {};
    for (const r of rows) (queues[r.queue] ??= { queued: 0, running: 0, done: 0, dead: 0 })[r.state] = r.n;
    const oldest = (await this.db.query<{ s: number | null }>(`select extract(epoch from now() - min(run_at))::float8 as s from ${this.table} where state = 'queued' and run_at <= now()`)).rows[0]?.s ?? 0;
    return { queues, oldestDueSeconds: Math.max(0, oldest ?? 0) };
  }

  async retryDead(name: string | null): Promise<number> {
    const r = await this.db.query(`update ${this.table} set state = 'queued', attempts = 0, run_at = now(), last_error = null, finished_at = null where state = 'dead' and ($1::text is null or name = $1)`, [name]);
    return r.rowCount;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async subscribe(wake: () => void): Promise<() => Promise<void>> {
    if (this.kind !== 'postgres') return async () => {};
    return this.db.listen(CHANNEL, wake);
  }
}
