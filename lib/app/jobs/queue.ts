/**
 * Durable background jobs, in PostgreSQL (PGlite too: `pg-store.ts`) or in Redis (`redis-store.ts`), one
 * API over both: any number of workers in any number of processes share a queue and no job runs twice at
 * once.
 *
 * - A job is defined once (`defineJob`: a name, a TypeBox schema for its payload, a handler) and enqueued
 *   with a delay, a priority and an idempotency key — inside a transaction when given one (`{ tx }`): the
 *   job exists only if the transaction commits.
 * - A worker claims due jobs under a lease (the job's timeout plus a margin). A handler that throws is
 *   retried with exponential backoff up to `attempts`, then the job is `dead` (kept, with its last error).
 *   A handler past its timeout is aborted (`signal`) and counts as failed. A worker killed mid-job leaves
 *   its lease to expire: another worker takes the job again (at-least-once; handlers should be idempotent).
 * - Cron schedules fire once per tick across every process: each tick is a job whose idempotency key is
 *   the tick's time, so a second process enqueuing it finds it there.
 * - `stop()` claims nothing more, waits for running jobs up to a grace period, and hands back (as queued,
 *   the attempt not counted) any still running when it ends.
 * - Enqueueing wakes idle workers at once (PostgreSQL LISTEN/NOTIFY, Redis pub/sub); PGlite workers poll.
 *
 * @example
 * ```ts
 * const jobs = createJobs(db);
 * const sendWelcome = jobs.define('send-welcome', Type.Object({ userId: Type.Integer() }), async ({ userId }, { signal }) => {
 *   await mailer.send(userId, { signal });
 * }, { attempts: 5, timeoutMs: 30_000 });
 * await db.transaction(async (tx) => {
 *   const [u] = await tx.sql`insert into users (email) values (${email}) returning id`;
 *   await sendWelcome.enqueue({ userId: u.id }, { tx, key: `welcome:${u.id}` });
 * });
 * await jobs.migrate();          // the jobs table, once
 * jobs.work({ concurrency: 4 }); // in this process, or in a separate one
 * // or in Redis, with the same API (no `tx` there):
 * const queue = createJobs(new Redis(process.env.REDIS_URL!), { prefix: 'myapp:jobs:' });
 * ```
 */
import { randomBytes } from 'node:crypto';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import type { Queryable } from '../db/db.js';
import type { Database } from '../db/open-database.js';
import { registerStandardFormats, unknownFormats } from '../formats.js';
import { nextCronTick, parseCron, type Cron } from './cron.js';
import { requirePeer } from '../optional-peer.js';
import { PgJobStore } from './pg-store.js';
import { SqlJobStore } from './sql-store.js';
import { RedisJobStore, type RedisJobsOptions } from './redis-store.js';
import type { ClaimedJob, JobInfo, JobStats, JobStore, NewJob } from './store.js';
import { spans } from '../../trace/hook.js';
import { JOB_END, JOB_START } from '../../trace/channels.js';
import { definePlugin } from '../plugin.js';

export type { JobInfo, JobState, JobStats } from './store.js';
export type { RedisJobsOptions } from './redis-store.js';

export interface JobOptions {
  /** Runs before the job is dead (the first included). Default 3. */
  attempts?: number;
  /** Longest run before the handler is aborted and the attempt fails. Default 60 s. */
  timeoutMs?: number;
  /** Delay before retry n (1-based): default 1 s × 2^(n−1), capped at an hour. */
  backoffMs?: (attempt: number) => number;
  /** Queue name (workers may serve some queues only). Default `default`. */
  queue?: string;
}

export interface EnqueueOptions {
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
  /** Higher runs first among due jobs. Default 0. */
  priority?: number;
  /** At most one job with this key ever: a second enqueue returns the first's id. */
  key?: string;
  /** Enqueue inside this transaction: the job exists only if it commits (database queues only). */
  tx?: Queryable;
}

export interface JobContext {
  /** Aborted at the job's timeout, and when the worker stops and hands the job back. */
  signal: AbortSignal;
  id: string;
  /** 1 on the first run. */
  attempt: number;
}

export interface Job<P> {
  readonly name: string;
  /** Checks the payload against the schema and stores the job; resolves with its id. */
  enqueue(payload: P, options?: EnqueueOptions): Promise<string>;
}

interface Definition {
  name: string;
  check: TypeCheck<TSchema>;
  handler: (payload: unknown, ctx: JobContext) => unknown;
  attempts: number;
  timeoutMs: number;
  backoffMs: (attempt: number) => number;
  queue: string;
}

export interface WorkOptions {
  /** Jobs run at once by this worker. Default 1. */
  concurrency?: number;
  /** Queues served. Default every queue. */
  queues?: readonly string[];
  /** How often an idle worker looks for due jobs (PGlite, and delayed jobs on PostgreSQL). Default 500 ms. */
  pollMs?: number;
  /**
   * Added to a job's timeout to make its lease: a job whose worker died is taken again once its lease
   * runs out. Default 30 000 ms.
   */
  leaseMarginMs?: number;
  /** Reports failures (a handler's error, a lost lease). Default: the process's stderr. */
  onError?: (err: unknown, job: { id: string; name: string; attempt: number }) => void;
}

/** What a worker reports of each finished attempt (metrics hook in here). */
export interface JobOutcome {
  name: string;
  queue: string;
  outcome: 'done' | 'retry' | 'dead' | 'handed back';
  /** Run time of the attempt. */
  ms: number;
}

export interface Worker {
  readonly id: string;
  /** Jobs running now. */
  readonly running: number;
  /**
   * Claims nothing more and waits up to `graceMs` (default 30 s) for running jobs; those still running
   * then are aborted and handed back to the queue (their attempt not counted).
   */
  stop(graceMs?: number): Promise<void>;
}


/** Options of {@link createJobs}. */
export interface JobsOptions extends RedisJobsOptions {
  /** The jobs table (database queues). Default `covet_jobs`. */
  table?: string;
}

/**
 * The queue over a database or Redis (see the module comment).
 *
 * @example
 * ```ts
 * const jobs = createJobs(db);
 * const email = jobs.define('email', Type.Object({ to: Type.String() }), async ({ to }) => send(to));
 * await email.enqueue({ to: 'ann@example.com' });
 * jobs.work({ concurrency: 4 });
 * ```
 */
export class Jobs {
  /** @internal Where the jobs live. */
  readonly store: JobStore;
  readonly #defs = new Map<string, Definition>();
  readonly #schedules: Array<{ name: string; cron: Cron; payload: unknown }> = [];
  /** @internal Called by this queue's workers after every attempt. */
  readonly observers: Array<(o: JobOutcome) => void> = [];

  constructor(backend: Database | Redis, options: JobsOptions = {}) {
    const table = options.table ?? 'covet_jobs';
    this.store = isRedis(backend) ? new RedisJobStore(backend, options) : backend.kind === 'sqlite' || backend.kind === 'mysql' ? new SqlJobStore(backend, table) : new PgJobStore(backend, table);
  }

  /** Where the jobs live. */
  get kind(): JobStore['kind'] {
    return this.store.kind;
  }

  /** Creates the jobs table and its indexes if they are missing (nothing to do on Redis). */
  migrate(): Promise<void> {
    return this.store.migrate();
  }

  /**
   * Defines a job: `name` unique, `payload` checked against `schema` when enqueued and again when run.
   */
  define<S extends TSchema>(name: string, schema: S, handler: (payload: Static<S>, ctx: JobContext) => unknown, options: JobOptions = {}): Job<Static<S>> {
    if (this.#defs.has(name)) throw new Error(`job ${name} is defined twice`);
    // The string formats (email, uuid, date-time, ...) as route schemas have them; an unknown one is an
    // error now, not a payload refused later.
    registerStandardFormats();
    const unknown = unknownFormats(schema);
    if (unknown.length > 0) throw new Error(`job ${name}: unknown string format ${unknown.map((u) => `"${u.format}" at ${u.at}`).join(', ')} (registerFormat adds one)`);
    const def: Definition = {
      name,
      check: TypeCompiler.Compile(schema),
      handler: handler as Definition['handler'],
      attempts: options.attempts ?? 3,
      timeoutMs: options.timeoutMs ?? 60_000,
      backoffMs: options.backoffMs ?? ((n) => Math.min(3_600_000, 1000 * 2 ** (n - 1))),
      queue: options.queue ?? 'default',
    };
    this.#defs.set(name, def);
    return { name, enqueue: (payload, o) => this.#enqueue(def, payload, o) };
  }

  async #enqueue(def: Definition, payload: unknown, o: EnqueueOptions = {}): Promise<string> {
    if (!def.check.Check(payload)) {
      const e = def.check.Errors(payload).First();
      throw Object.assign(new Error(`job ${def.name}: payload ${e?.path || '/'} ${e?.message ?? 'does not match its schema'}`), { status: 422 });
    }
    const job: NewJob = { queue: def.queue, name: def.name, payload, priority: o.priority ?? 0, delayMs: Math.max(0, Math.floor(o.delayMs ?? 0)), maxAttempts: def.attempts, key: o.key ?? null, trace: null };
    if (spans === null) return this.store.enqueue(job, o.tx);
    // A producer span; the job carries its context, so each run is a consumer span in the same trace.
    return spans.around(
      `send ${def.queue}`,
      'producer',
      { 'messaging.system': 'covet', 'messaging.operation.type': 'send', 'messaging.destination.name': def.queue, 'covet.job.name': def.name },
      () => {
        job.trace = spans!.traceparent();
        return this.store.enqueue(job, o.tx);
      },
      (id) => ({ 'messaging.message.id': id }),
    );
  }


  /**
   * Fires `job` with `payload` on every tick of `cron` (5 fields: minute hour day month weekday, UTC;
   * `*`, lists, ranges and steps), once per tick whatever the number of processes working.
   */
  schedule<P>(job: Job<P>, cron: string, payload: P): void {
    this.#schedules.push({ name: job.name, cron: parseCron(cron), payload });
  }

  /**
   * Enqueues the scheduled jobs whose last tick is at or before `now` and within the minute before it
   * (workers call it on every poll; a tick is enqueued once whoever calls it, keyed by its time).
   */
  async fireSchedules(now: Date = new Date()): Promise<void> {
    for (const s of this.#schedules) {
      // The last tick at or before now: its time is the idempotency key, so each tick fires once.
      const tick = nextCronTick(s.cron, new Date(now.getTime() - 60_000));
      if (tick.getTime() > now.getTime()) continue;
      const def = this.#defs.get(s.name)!;
      await this.#enqueue(def, s.payload, { key: `cron:${s.name}:${tick.toISOString()}` });
    }
  }

  /** Starts a worker in this process. */
  work(options: WorkOptions = {}): Worker {
    return new JobWorker(this, this.#defs, options, (now) => this.fireSchedules(now));
  }

  /** Counts by queue and state; the wait of the oldest due job. */
  stats(): Promise<JobStats> {
    return this.store.stats();
  }

  /** One job by id (`null` when there is none): its state, attempts, last error. */
  get(id: string): Promise<JobInfo | null> {
    return this.store.get(id);
  }

  /** Dead jobs go back to the queue for another round of attempts (after a fix). Returns how many. */
  retryDead(name?: string): Promise<number> {
    return this.store.retryDead(name ?? null);
  }

  /** Closes the database or Redis client the queue was made with (stop its workers first). */
  close(): Promise<void> {
    return this.store.close();
  }
}

function isRedis(b: Database | Redis): b is Redis {
  return typeof (b as Redis).evalsha === 'function';
}

class JobWorker implements Worker {
  readonly id = `w-${process.pid}-${randomBytes(4).toString('hex')}`;
  readonly #jobs: Jobs;
  readonly #defs: Map<string, Definition>;
  readonly #concurrency: number;
  readonly #queues: readonly string[] | null;
  readonly #pollMs: number;
  readonly #leaseMarginMs: number;
  readonly #onError: NonNullable<WorkOptions['onError']>;
  readonly #fire: (now: Date) => Promise<void>;
  readonly #running = new Map<string, AbortController>();
  #stopping = false;
  #timer: NodeJS.Timeout | null = null;
  #looking: Promise<void> | null = null;
  #again = false;
  #unlisten: (() => Promise<void>) | null = null;
  #idle: Array<() => void> = [];
  /** Jobs done and not yet recorded: the next claim records them in the same statement (or script). */
  #done: string[] = [];
  #firedAt = 0;

  constructor(jobs: Jobs, defs: Map<string, Definition>, o: WorkOptions, fire: (now: Date) => Promise<void>) {
    this.#jobs = jobs;
    this.#defs = defs;
    this.#concurrency = Math.max(1, o.concurrency ?? 1);
    this.#queues = o.queues ?? null;
    this.#pollMs = o.pollMs ?? 500;
    this.#leaseMarginMs = o.leaseMarginMs ?? 30_000;
    this.#onError = o.onError ?? ((err, job) => console.error(`job ${job.name} #${job.id} (attempt ${job.attempt}) failed:`, err));
    this.#fire = fire;
    void jobs.store.subscribe(() => this.#wake()).then(
      // Subscribed after stop() began: unsubscribe at once, and a failure then (the store may be closing)
      // must not be an unhandled rejection, which would end `covet worker` with exit code 1.
      (un) => (this.#stopping ? void un().catch(() => {}) : (this.#unlisten = un)),
      () => {}, // polling still finds the jobs
    );
    this.#wake();
  }

  get running(): number {
    return this.#running.size;
  }

  #wake(): void {
    if (this.#stopping) return;
    if (this.#looking !== null) {
      this.#again = true;
      return;
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#looking = this.#look()
      .catch((err: unknown) => this.#onError(err, { id: '-', name: '(claiming)', attempt: 0 }))
      .finally(() => {
        this.#looking = null;
        if (this.#stopping) return;
        if (this.#again) {
          this.#again = false;
          this.#wake();
        } else {
          // Not unref'd: a working worker keeps its process alive until stop(), whatever else does — on
          // SQLite or PGlite nothing else does (no socket), and it would exit at its first idle look.
          this.#timer = setTimeout(() => this.#wake(), this.#pollMs);
        }
      });
  }

  /**
   * Fires due schedules (at most once a second: ticks are minutes), then records the jobs done since the
   * last look and claims as many due jobs as there are free slots — one statement (or script), one
   * commit, for both — and starts them. Completions that come while a look is in flight wait for the
   * next: a busy worker writes in batches, an idle one at once.
   */
  async #look(): Promise<void> {
    const now = Date.now();
    if (now - this.#firedAt >= 1000) {
      this.#firedAt = now;
      await this.#fire(new Date(now));
    }
    const free = this.#concurrency - this.#running.size;
    if (free <= 0 && this.#done.length === 0) return;
    const done = this.#done.splice(0);
    let claimed: ClaimedJob[];
    try {
      claimed = await this.#jobs.store.claim(this.id, free > 0 ? this.#leases() : new Map(), Math.max(0, free), done);
    } catch (err) {
      this.#done.unshift(...done); // recorded by the next look (or, if none comes, the lease runs out)
      throw err;
    }
    for (const job of claimed) this.#run(job);
    if (free > 0 && claimed.length === free) this.#again = true; // there may be more
  }

  /** The jobs this worker knows, in the queues it serves, each with its lease: its timeout + the margin. */
  #leases(): Map<string, number> {
    const lease = new Map<string, number>();
    for (const d of this.#defs.values()) if (this.#queues === null || this.#queues.includes(d.queue)) lease.set(d.name, d.timeoutMs + this.#leaseMarginMs);
    return lease;
  }

  #run(job: ClaimedJob): void {
    const def = this.#defs.get(job.name)!;
    const ac = new AbortController();
    this.#running.set(job.id, ac);
    const timer = setTimeout(() => ac.abort(new Error(`job ${job.name} timed out after ${def.timeoutMs} ms`)), def.timeoutMs);
    const t0 = performance.now();
    let outcome: JobOutcome['outcome'] = 'done';
    let failure: unknown;
    const store = this.#jobs.store;
    const body = async (): Promise<void> => {
      try {
        if (!def.check.Check(job.payload)) throw new Error(`payload no longer matches the schema of ${job.name}`);
        // A handler that ignores its signal still ends the attempt at the timeout.
        const attempt = (): Promise<unknown> =>
          Promise.race([
            Promise.resolve().then(() => def.handler(job.payload, { signal: ac.signal, id: job.id, attempt: job.attempts })),
            new Promise((_, reject) => ac.signal.addEventListener('abort', () => reject(ac.signal.reason as Error), { once: true })),
          ]);
        if (spans === null) await attempt();
        else {
          const attributes = { 'messaging.system': 'covet', 'messaging.operation.type': 'process', 'messaging.destination.name': def.queue, 'messaging.message.id': job.id, 'covet.job.name': job.name, 'covet.job.attempt': job.attempts };
          await spans.around(`process ${def.queue}`, 'consumer', attributes, attempt, undefined, job.trace);
        }
        this.#done.push(job.id);
      } catch (err) {
        if (this.#stopping && ac.signal.aborted && ac.signal.reason === HANDED_BACK) {
          // Stopped mid-job: back to the queue, this attempt not counted.
          outcome = 'handed back';
          await store.handBack(job.id, this.id).catch(() => {});
        } else {
          this.#onError(err, { id: job.id, name: job.name, attempt: job.attempts });
          failure = err;
          const message = err instanceof Error ? err.message : String(err);
          const dead = job.attempts >= job.maxAttempts;
          outcome = dead ? 'dead' : 'retry';
          await store.fail(job.id, this.id, message.slice(0, 2000), dead ? null : def.backoffMs(job.attempts)).catch((e: unknown) => this.#onError(e, { id: job.id, name: job.name, attempt: job.attempts }));
        }
      } finally {
        clearTimeout(timer);
        const ms = performance.now() - t0;
        for (const f of this.#jobs.observers) f({ name: job.name, queue: def.queue, outcome, ms });
        if (JOB_END.hasSubscribers) JOB_END.publish({ queue: def.queue, name: job.name, id: job.id, attempt: job.attempts, outcome, durationMs: ms, ...(failure === undefined ? {} : { error: failure }) });
        this.#running.delete(job.id);
        if (this.#running.size === 0) for (const f of this.#idle.splice(0)) f();
        this.#wake(); // a slot is free
      }
    };
    // Published with runStores: an AsyncLocalStorage bound to the channel holds for the whole run.
    if (JOB_START.hasSubscribers) void JOB_START.runStores({ queue: def.queue, name: job.name, id: job.id, attempt: job.attempts }, body);
    else void body();
  }

  async stop(graceMs = 30_000): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#looking;
    await this.#unlisten?.().catch(() => {});
    if (this.#running.size > 0) {
      const idle = new Promise<void>((r) => this.#idle.push(r));
      const grace = new Promise<void>((r) => setTimeout(r, graceMs).unref());
      await Promise.race([idle, grace]);
      if (this.#running.size > 0) {
        for (const ac of this.#running.values()) ac.abort(HANDED_BACK);
        await idle;
      }
    }
    // Completions no look has recorded yet.
    if (this.#done.length > 0) await this.#jobs.store.claim(this.id, new Map(), 0, this.#done.splice(0)).catch((err: unknown) => this.#onError(err, { id: '-', name: '(recording done jobs)', attempt: 0 }));
  }
}

/** The abort reason of a job handed back by `stop()`. */
const HANDED_BACK = new Error('the worker stopped: the job goes back to the queue');

/**
 * The queue over a database (`createDb`/`openDatabase` on PostgreSQL or PGlite: a table, `table`) or an
 * ioredis client (keys under `prefix`); see {@link Jobs}.
 *
 * @example
 * ```ts
 * const jobs = createJobs(db);                                   // PostgreSQL / PGlite
 * const fast = createJobs(redis, { prefix: 'app:jobs:', doneTtlMs: 86_400_000 }); // Redis
 * ```
 */
export function createJobs(backend: Database | Redis, options: JobsOptions = {}): Jobs {
  return new Jobs(backend, options);
}

/** The parts of an app `jobsView` needs (covet/app's App fits). */
interface RouteHost {
  get(path: string, options: { summary?: string; tags?: string[] }, handler: () => unknown): unknown;
}

/**
 * `GET /jobs` (or `path`): the queue's counts by queue and state and the oldest due job's wait, as JSON —
 * for dashboards and alerts. Guard it like any route (`deps`), it tells how busy the system is.
 *
 * @example
 * ```ts
 * jobsView(app, jobs); // GET /jobs → { queues: { default: { queued: 3, running: 1, done: 120, dead: 0 } }, oldestDueSeconds: 0.4 }
 * ```
 */
export function jobsView(app: RouteHost, jobs: Jobs, path = '/jobs'): void {
  app.get(path, { summary: 'Background jobs: counts by queue and state', tags: ['jobs'] }, () => jobs.stats());
}

/** The jobs view as a plugin: `app.register(jobsViewPlugin, { jobs, path })` (see {@link jobsView}). */
export const jobsViewPlugin = definePlugin<{ jobs: Jobs; path?: string }>('jobs-view', (app, o) => jobsView(app, o.jobs, o.path));

/**
 * Prometheus metrics of a queue on a prom-client registry (as `metrics(app)` returns): gauges of jobs by
 * queue and state and of the oldest due job's wait (read at scrape time), and from this process's
 * workers a counter of finished attempts by outcome and a histogram of their run time.
 *
 * @example
 * ```ts
 * jobsMetrics(metrics(app), jobs);
 * ```
 */
export function jobsMetrics(registry: import('prom-client').Registry, jobs: Jobs): void {
  const { Counter, Gauge, Histogram } = requirePeer<typeof import('prom-client')>('prom-client', 'jobsMetrics()');
  // One read of the table per scrape, shared by both gauges (prom-client calls `collect` at scrape time).
  let pending: Promise<void> | null = null;
  const refresh = (): Promise<void> => (pending ??= collect().finally(() => (pending = null)));
  const byState = new Gauge({ name: 'covet_jobs', help: 'Jobs by queue and state', labelNames: ['queue', 'state'], registers: [registry], collect: refresh });
  const oldest = new Gauge({ name: 'covet_jobs_oldest_due_seconds', help: 'How long the oldest due job has waited', registers: [registry], collect: refresh });
  async function collect(): Promise<void> {
    const s = await jobs.stats();
    byState.reset();
    for (const [queue, states] of Object.entries(s.queues)) for (const [state, n] of Object.entries(states)) byState.set({ queue, state }, n);
    oldest.set(s.oldestDueSeconds);
  }
  const attempts = new Counter({ name: 'covet_job_attempts_total', help: 'Finished job attempts by outcome', labelNames: ['job', 'queue', 'outcome'], registers: [registry] });
  const duration = new Histogram({ name: 'covet_job_duration_seconds', help: 'Run time of job attempts', labelNames: ['job', 'queue'], buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120], registers: [registry] });
  jobs.observers.push((o) => {
    attempts.inc({ job: o.name, queue: o.queue, outcome: o.outcome });
    duration.observe({ job: o.name, queue: o.queue }, o.ms / 1000);
  });
}
