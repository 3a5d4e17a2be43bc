/**
 * Jobs in one SQLite or MySQL/MariaDB table — the same queue as pg-store.ts on the other databases covet
 * speaks. Times are milliseconds since the epoch on the database's clock, so processes' clocks do not matter.
 *
 * - **MySQL 8 / MariaDB 10.6+**: a claim is a transaction that selects due rows `FOR UPDATE SKIP LOCKED`
 *   (rows another worker is claiming are skipped, not waited for), marks them running and reads them back.
 * - **SQLite**: one writer at a time — a claim is one `BEGIN IMMEDIATE` transaction (the write lock at once;
 *   other connections on the file wait for it, without blocking their event loop), so no two workers take
 *   one row.
 *
 * Enqueueing inside the app's transaction (`{ tx }`) makes the job part of it. Workers poll (no
 * LISTEN/NOTIFY on these databases).
 */
import type { Queryable } from '../db/db.js';
import type { MysqlDb } from '../db/mysql.js';
import type { SqliteDb } from '../db/sqlite.js';
import { WORKER_LOST, type ClaimedJob, type JobInfo, type JobState, type JobStats, type JobStore, type NewJob } from './store.js';

/** The database's clock in milliseconds since the epoch (an integer). */
const NOW = {
  sqlite: `cast((julianday('now') - 2440587.5) * 86400000 as integer)`,
  mysql: 'cast(unix_timestamp(now(3)) * 1000 as signed)',
};

type Row = { id: string | number; name: string; queue: string; state: JobState; payload: string; priority: number; attempts: number; max_attempts: number; job_key: string | null; last_error: string | null; run_at: string | number; created_at: string | number; finished_at: string | number | null; trace: string | null };

const placeholders = (from: number, n: number): string => Array.from({ length: n }, (_, i) => `$${from + i}`).join(', ');

export class SqlJobStore implements JobStore {
  readonly kind: 'sqlite' | 'mysql';
  readonly db: SqliteDb | MysqlDb;
  readonly table: string;
  readonly #now: string;

  constructor(db: SqliteDb | MysqlDb, table: string) {
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`jobs table name ${JSON.stringify(table)}: lowercase letters, digits and _`);
    this.db = db;
    this.kind = db.kind;
    this.table = table;
    this.#now = NOW[db.kind];
  }

  async migrate(): Promise<void> {
    const t = this.table;
    if (this.kind === 'sqlite') {
      await this.db.exec(`
        create table if not exists ${t} (
          id integer primary key autoincrement, queue text not null, name text not null, payload text not null,
          state text not null default 'queued', priority integer not null default 0, run_at integer not null,
          attempts integer not null default 0, max_attempts integer not null, job_key text unique, last_error text,
          locked_by text, locked_until integer, created_at integer not null, finished_at integer, trace text);
        create index if not exists ${t}_ready_idx on ${t} (state, priority desc, run_at, id);
        create index if not exists ${t}_lease_idx on ${t} (state, locked_until);`);
      return;
    }
    await this.db.exec(`
      create table if not exists ${t} (
        id bigint not null auto_increment primary key, queue varchar(255) not null, name varchar(255) not null,
        payload longtext not null, state varchar(8) not null default 'queued', priority int not null default 0,
        run_at bigint not null, attempts int not null default 0, max_attempts int not null,
        job_key varchar(255) null unique, last_error text null, locked_by varchar(64) null, locked_until bigint null,
        created_at bigint not null, finished_at bigint null, trace varchar(255) null,
        index ${t}_ready_idx (state, priority, run_at, id), index ${t}_lease_idx (state, locked_until)
      ) character set utf8mb4;`);
  }

  async enqueue(j: NewJob, tx?: Queryable): Promise<string> {
    const q = tx ?? this.db;
    const t = this.table;
    const values = [j.queue, j.name, JSON.stringify(j.payload), j.priority, j.delayMs, j.maxAttempts, j.key, j.trace];
    const insert = `insert into ${t} (queue, name, payload, priority, run_at, max_attempts, job_key, trace, created_at)
      values ($1, $2, $3, $4, ${this.#now} + $5, $6, $7, $8, ${this.#now})`;
    if (this.kind === 'sqlite') {
      const rows = (await q.query<{ id: number }>(`${insert} on conflict (job_key) do nothing returning id`, values)).rows;
      if (rows.length > 0) return String(rows[0]!.id);
    } else {
      try {
        // Inside the caller's transaction a deadlock is the caller's to retry (the whole transaction is gone).
        const r = tx === undefined ? await this.#retrying(() => q.query(insert, values)) : await q.query(insert, values);
        return r.insertId!;
      } catch (err) {
        // A key already used (ER_DUP_ENTRY): the job enqueued first is the job. Inside a transaction the
        // failed statement leaves the transaction as it was (MySQL undoes the statement only).
        if ((err as { errno?: number }).errno !== 1062 || j.key === null) throw err;
      }
    }
    return String((await q.query<{ id: string | number }>(`select id from ${t} where job_key = $1`, [j.key])).rows[0]!.id);
  }

  #recovered = 0;

  async claim(workerId: string, leaseMs: ReadonlyMap<string, number>, limit: number, done: readonly string[]): Promise<ClaimedJob[]> {
    const t = this.table;
    const now = this.#now;
    const names = [...leaseMs.keys()];
    // MySQL: read committed takes no gap locks (the claim's locking read would otherwise deadlock with
    // concurrent inserts); a deadlock still met is rolled back and the claim tried again.
    return this.db.transaction(async (tx) => {
      if (done.length > 0) {
        await tx.query(`update ${t} set state = 'done', finished_at = ${now}, locked_by = null, locked_until = null, last_error = null where locked_by = $1 and id in (${placeholders(2, done.length)})`, [workerId, ...done]);
      }
      // Running jobs whose lease ran out (their worker died): the attempt they began counts (at most once a second).
      if (performance.now() - this.#recovered > 1000) {
        this.#recovered = performance.now();
        await tx.query(
          `update ${t} set state = case when attempts >= max_attempts then 'dead' else 'queued' end,
             finished_at = case when attempts >= max_attempts then ${now} else null end, last_error = $1, locked_by = null, locked_until = null
           where state = 'running' and locked_until < ${now}`,
          [WORKER_LOST],
        );
      }
      if (names.length === 0 || limit <= 0) return [];
      const due = (
        await tx.query<{ id: string | number }>(
          `select id from ${t} where state = 'queued' and run_at <= ${now} and name in (${placeholders(2, names.length)})
           order by priority desc, run_at, id limit $1${this.kind === 'mysql' ? ' for update skip locked' : ''}`,
          [limit, ...names],
        )
      ).rows.map((r) => String(r.id));
      if (due.length === 0) return [];
      // The lease of each job by its name: CASE name WHEN $n THEN $n+1 ... END.
      const lease = `case name ${names.map((_, i) => `when $${2 + 2 * i} then $${3 + 2 * i}`).join(' ')} end`;
      const ids = placeholders(2 + 2 * names.length, due.length);
      await tx.query(`update ${t} set state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = ${now} + ${lease} where id in (${ids})`, [
        workerId,
        ...names.flatMap((n) => [n, Math.ceil(leaseMs.get(n)!)]),
        ...due,
      ]);
      const rows = (await tx.query<Row>(`select id, name, payload, attempts, max_attempts, trace from ${t} where id in (${placeholders(1, due.length)})`, due)).rows;
      return rows.map((r) => ({ id: String(r.id), name: r.name, payload: JSON.parse(r.payload) as unknown, attempts: Number(r.attempts), maxAttempts: Number(r.max_attempts), trace: r.trace }));
    }, this.kind === 'mysql' ? { isolation: 'read committed', retries: 5 } : {});
  }

  /** A statement of its own, run again when MySQL picked it as a deadlock's victim (it was rolled back). */
  async #retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if ((err as { retryable?: boolean }).retryable !== true || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
      }
    }
  }

  async fail(id: string, workerId: string, message: string, retryInMs: number | null): Promise<void> {
    const t = this.table;
    await this.#retrying(() => this.db.query(
      retryInMs === null
        ? `update ${t} set state = 'dead', finished_at = ${this.#now}, last_error = $3, locked_by = null, locked_until = null where id = $1 and locked_by = $2`
        : `update ${t} set state = 'queued', run_at = ${this.#now} + $4, last_error = $3, locked_by = null, locked_until = null where id = $1 and locked_by = $2`,
      retryInMs === null ? [id, workerId, message] : [id, workerId, message, Math.ceil(retryInMs)],
    ));
  }

  async handBack(id: string, workerId: string): Promise<void> {
    await this.#retrying(() => this.db.query(`update ${this.table} set state = 'queued', attempts = attempts - 1, locked_by = null, locked_until = null where id = $1 and locked_by = $2`, [id, workerId]));
  }

  async get(id: string): Promise<JobInfo | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    const r = (await this.db.query<Row>(`select * from ${this.table} where id = $1`, [id])).rows[0];
    if (r === undefined) return null;
    return {
      id: String(r.id),
      name: r.name,
      queue: r.queue,
      state: r.state,
      payload: JSON.parse(r.payload) as unknown,
      priority: Number(r.priority),
      attempts: Number(r.attempts),
      maxAttempts: Number(r.max_attempts),
      key: r.job_key,
      lastError: r.last_error,
      runAt: new Date(Number(r.run_at)),
      createdAt: new Date(Number(r.created_at)),
      finishedAt: r.finished_at === null ? null : new Date(Number(r.finished_at)),
    };
  }

  async stats(): Promise<JobStats> {
    const t = this.table;
    const rows = (await this.db.query<{ queue: string; state: JobState; n: number | string }>(`select queue, state, count(*) as n from ${t} group by queue, state`)).rows;
    const queues: JobStats['queues'] = {};
    for (const r of rows) (queues[r.queue] ??= { queued: 0, running: 0, done: 0, dead: 0 })[r.state] = Number(r.n);
    const oldest = (await this.db.query<{ ms: number | string | null }>(`select ${this.#now} - min(run_at) as ms from ${t} where state = 'queued' and run_at <= ${this.#now}`)).rows[0]?.ms ?? null;
    return { queues, oldestDueSeconds: oldest === null ? 0 : Math.max(0, Number(oldest) / 1000) };
  }

  async retryDead(name: string | null): Promise<number> {
    const r =
      name === null
        ? await this.db.query(`update ${this.table} set state = 'queued', attempts = 0, run_at = ${this.#now}, last_error = null, finished_at = null where state = 'dead'`)
        : await this.db.query(`update ${this.table} set state = 'queued', attempts = 0, run_at = ${this.#now}, last_error = null, finished_at = null where state = 'dead' and name = $1`, [name]);
    return r.rowCount;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** No notifications on these databases: workers poll. */
  async subscribe(): Promise<() => Promise<void>> {
    return async () => {};
  }
}
