/**
 * What a jobs queue needs of the place its jobs live: the PostgreSQL/PGlite table (`pg-store.ts`), the
 * SQLite or MySQL/MariaDB table (`sql-store.ts`) and Redis (`redis-store.ts`) implement it; `queue.ts` (definitions, workers, schedules) is the same over
 * both. Every state change of a claimed job is conditional on the claiming worker still holding it, so
 * a worker whose lease ran out (and whose job another worker took) changes nothing.
 */
import type { Queryable } from '../db/db.js';

export type JobState = 'queued' | 'running' | 'done' | 'dead';

/** The last error of a job whose worker stopped answering: its lease ran out, and the attempt it began counts. */
export const WORKER_LOST = 'worker lost: the lease ran out before the job finished';

/** A job as the store keeps it (`Jobs.get`). */
export interface JobInfo {
  id: string;
  name: string;
  queue: string;
  state: JobState;
  payload: unknown;
  priority: number;
  /** Attempts started (the running one included). */
  attempts: number;
  maxAttempts: number;
  key: string | null;
  lastError: string | null;
  /** When it is (or was) due. */
  runAt: Date;
  createdAt: Date;
  finishedAt: Date | null;
}

/** Counts by queue and state, and the age of the oldest due job (for `/jobs` and metrics). */
export interface JobStats {
  queues: Record<string, Record<JobState, number>>;
  /** Seconds the oldest due, queued job has waited (0 when none). */
  oldestDueSeconds: number;
}

export interface NewJob {
  queue: string;
  name: string;
  payload: unknown;
  priority: number;
  delayMs: number;
  maxAttempts: number;
  key: string | null;
  /** The `traceparent` of the span that enqueued it (tracing on), so its runs join that trace. */
  trace: string | null;
}

/** A job claimed by a worker: its attempt counted, its lease running. */
export interface ClaimedJob {
  id: string;
  name: string;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  trace: string | null;
}

export interface JobStore {
  /** What `Jobs.kind` reports. */
  readonly kind: 'postgres' | 'pglite' | 'sqlite' | 'mysql' | 'redis';
  migrate(): Promise<void>;
  /** Stores the job (inside `tx` when given); a `key` already used returns the first job's id. */
  enqueue(job: NewJob, tx?: Queryable): Promise<string>;
  /**
   * Marks `done` jobs done (this worker's completions since its last claim), then claims up to `limit`
   * due jobs named in `leaseMs` (name → lease), highest priority first, then oldest due; a running job
   * whose lease ran out (its worker died) is due again. One statement or script: one commit for both.
   */
  claim(workerId: string, leaseMs: ReadonlyMap<string, number>, limit: number, done: readonly string[]): Promise<ClaimedJob[]>;
  /** `retryInMs` null: dead. */
  fail(id: string, workerId: string, message: string, retryInMs: number | null): Promise<void>;
  /** Back to the queue as it was, the attempt not counted. */
  handBack(id: string, workerId: string): Promise<void>;
  get(id: string): Promise<JobInfo | null>;
  stats(): Promise<JobStats>;
  retryDead(name: string | null): Promise<number>;
  /** Closes the database or Redis client the queue was made with. */
  close(): Promise<void>;
  /** Calls `wake` when a job is enqueued anywhere (best effort: workers poll as well). */
  subscribe(wake: () => void): Promise<() => Promise<void>>;
}
