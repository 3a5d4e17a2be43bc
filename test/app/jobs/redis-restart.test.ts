/**
 * Jobs in Redis through a Redis crash under load: a Redis of the test's own, with the append-only file
 * synced on every write (`appendfsync always`, how a Redis that holds jobs should run), is killed with
 * SIGKILL while producers enqueue and workers work, then started again on the same data. Every job whose
 * enqueue was answered ends done — none lost — and a job runs twice only where its completion was lost
 * in the crash (at-least-once).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { createJobs } from '../../../lib/app/jobs/index.js';
import { waitFor } from '../../helpers/wait-for.js';
import { freePort } from '../../helpers/free-port.js';
import { startRedisServer } from '../../helpers/redis-server.js';
import { producer } from './producer.js';

// A port the OS says is free now (a random one could be an ephemeral port in use).
const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'covet-jobs-redis-'));
let server: ChildProcess | null = null;

async function startRedis(): Promise<void> {
  server = await startRedisServer(port, ['--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always']);
}

afterAll(() => {
  if (server !== null && server.exitCode === null) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('Redis killed (SIGKILL) and restarted under enqueue-and-work load: every answered enqueue ends done, none lost', async () => {
  await startRedis();
  const redis = new Redis({ port, retryStrategy: () => 50 });
  redis.on('error', () => {});
  const jobs = createJobs(redis, { prefix: 'restart:' });
  const runs = new Map<number, number>();
  const job = jobs.define('j', Type.Object({ n: Type.Integer() }), (p) => void runs.set(p.n, (runs.get(p.n) ?? 0) + 1), { timeoutMs: 1000, backoffMs: () => 50 });
  const workers = [1, 2].map(() => jobs.work({ pollMs: 20, concurrency: 4, leaseMarginMs: 500, onError: () => {} }));
  const p = producer((n, key) => job.enqueue({ n }, { key }));
  const enqueued = p.enqueued;
  try {
    await waitFor(() => runs.size > 50, 10_000);
    server!.kill('SIGKILL');
    await new Promise((r) => server!.once('exit', r));
    await new Promise((r) => setTimeout(r, 300)); // down for a while: enqueues fail, workers wait
    const atCrash = enqueued.length;
    await startRedis();
    await waitFor(() => enqueued.length > atCrash + 100, 20_000, 'enqueuing to go on after the restart');
    await p.stop();
    await waitFor(async () => (await jobs.stats().catch(() => null))?.queues.default?.done === enqueued.length, 30_000, 'every job done');
    expect(enqueued.every((n) => (runs.get(n) ?? 0) >= 1)).toBe(true);
    // Nothing enqueued twice: the keys survived the crash.
    expect((await jobs.stats()).queues.default).toMatchObject({ queued: 0, running: 0, dead: 0 });
    expect([...runs.values()].filter((c) => c > 1).length).toBeLessThan(20);
  } finally {
    await p.stop();
    await Promise.all(workers.map((w) => w.stop(1000)));
    redis.disconnect();
  }
}, 60_000);
