/**
 * `covet/app/jobs`: durable background jobs in PostgreSQL, PGlite or Redis — retries with backoff, dead letters,
 * timeouts, delays, priorities, idempotency keys, enqueue inside a transaction, cron schedules firing once
 * per tick across processes, graceful stop.
 * @module
 */
export { createJobs, jobsMetrics, jobsView, jobsViewPlugin, Jobs, type Job, type JobOutcome, type JobContext, type JobOptions, type JobsOptions, type RedisJobsOptions, type EnqueueOptions, type WorkOptions, type Worker, type JobStats, type JobState, type JobInfo } from './queue.js';
export { parseCron, nextCronTick, type Cron } from './cron.js';
export { WORKER_LOST } from './store.js';
