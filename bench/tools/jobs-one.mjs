// One measurement of the jobs bench (bench/jobs.mjs spawns it pinned to one core): SYSTEM's enqueue
// rate (JOBS jobs, CONC enqueues in flight) and its processing rate (a worker with concurrency CONC
// draining those JOBS no-op jobs, from its start to the last handler). Prints one JSON line.
import { Type } from '@sinclair/typebox';
import { Redis } from 'ioredis';
import { createDb } from '../../dist/lib/app/db/index.js';
import { createJobs } from '../../dist/lib/app/jobs/index.js';

const SYSTEM = process.env.SYSTEM;
const N = Number(process.env.JOBS ?? 5000);
const CONC = Number(process.env.CONC ?? 16);
const PG = process.env.BENCH_JOBS_PG_URL;
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Runs `n` calls of `fn(i)` with `conc` in flight; resolves with calls per second. */
async function rate(n, conc, fn) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => {
    while (next < n) await fn(next++);
  }));
  return n / ((performance.now() - t0) / 1000);
}

/** Starts `start(onJob)`, resolves with jobs per second once `onJob` was called N times. */
async function drain(start) {
  let seen = 0;
  let done;
  const all = new Promise((r) => (done = r));
  const t0 = performance.now();
  const stop = await start(() => {
    if (++seen === N) done();
  });
  await all;
  const s = (performance.now() - t0) / 1000;
  await stop();
  return N / s;
}

/** covet's queue (either store): enqueue N, then drain them with one worker. */
async function covet(jobs) {
  await jobs.migrate();
  let onJob = () => {};
  const job = jobs.define('j', Type.Object({ i: Type.Integer() }), () => onJob());
  const enqueue = await rate(N, CONC, (i) => job.enqueue({ i }));
  const process_ = await drain(async (f) => {
    onJob = f;
    const w = jobs.work({ concurrency: CONC });
    return () => w.stop();
  });
  return { enqueue, process: process_ };
}

const systems = {
  async 'covet (PostgreSQL)'() {
    const db = createDb({ url: PG, max: CONC + 2 });
    await db.exec('drop table if exists bench_jobs');
    const r = await covet(createJobs(db, { table: 'bench_jobs' }));
    await db.exec('drop table bench_jobs');
    await db.close();
    return r;
  },
  async 'covet (Redis)'() {
    const redis = new Redis(REDIS);
    const prefix = `bench:jobs:${process.pid}:`;
    const r = await covet(createJobs(redis, { prefix }));
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    return r;
  },
  async 'pg-boss'() {
    const { PgBoss } = await import('pg-boss');
    const boss = new PgBoss({ connectionString: PG, max: CONC + 2, schema: 'bench_pgboss' });
    boss.on('error', () => {});
    await boss.start();
    await boss.deleteQueue('j').catch(() => {});
    await boss.createQueue('j');
    const enqueue = await rate(N, CONC, (i) => boss.send('j', { i }));
    const process_ = await drain(async (f) => {
      // Its throughput mode: batches of CONC, fetched again at once while they come back full. (One job per
      // fetch with localConcurrency CONC polls every 0.5 s per worker: 32 jobs/s here.)
      await boss.work('j', { batchSize: CONC, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true }, async (batch) => batch.forEach(() => f()));
      return async () => {};
    });
    await boss.stop({ graceful: false, wait: true, close: true });
    return { enqueue, process: process_ };
  },
  async bullmq() {
    const { Queue, Worker } = await import('bullmq');
    const connection = new Redis(REDIS, { maxRetriesPerRequest: null });
    const name = `bench-${process.pid}`;
    const queue = new Queue(name, { connection });
    const enqueue = await rate(N, CONC, (i) => queue.add('j', { i }));
    const process_ = await drain(async (f) => {
      const w = new Worker(name, async () => f(), { connection: new Redis(REDIS, { maxRetriesPerRequest: null }), concurrency: CONC });
      return () => w.close();
    });
    await queue.obliterate({ force: true });
    await queue.close();
    await connection.quit();
    return { enqueue, process: process_ };
  },
};

const r = await systems[SYSTEM]();
process.stdout.write(`${JSON.stringify(r)}\n`);
process.exit(0);
