// Background jobs bench: covet's queue on PostgreSQL vs pg-boss (same server), and on Redis vs BullMQ
// (same server), same run, interleaved rounds, median. Each measurement is a fresh process pinned to CPU 0
// (bench/tools/jobs-one.mjs); PostgreSQL and Redis have the other core. pg-boss 12 needs Node ≥ 22.12:
// on an older Node the measurements run on Node 24 (scripts/node-line.sh).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { benchDir, fmt, log, recordRatios, root, table, writeSection, median } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const JOBS = Number(process.env.BENCH_JOBS ?? 5000);
const CONC = 16;
const SYSTEMS = ['covet (PostgreSQL)', 'pg-boss', 'covet (Redis)', 'bullmq'];
const ADMIN = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';


export async function runJobsBench() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const node = major > 22 || (major === 22 && minor >= 12) ? process.execPath : execFileSync(join(root, 'scripts', 'node-line.sh'), ['24'], { encoding: 'utf8' }).trim();
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  // A database of its own, made fresh.
  const pgUrl = ADMIN.replace(/\/[^/?]*(\?|$)/, '/covet_jobs_bench$1');
  execFileSync('psql', [ADMIN, '-qc', 'drop database if exists covet_jobs_bench with (force)', '-c', 'create database covet_jobs_bench'], { stdio: 'ignore' });
  const results = Object.fromEntries(SYSTEMS.map((s) => [s, { enqueue: [], process: [] }]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const system of SYSTEMS) {
      const out = execFileSync('taskset', ['-c', '0', node, join(benchDir, 'tools', 'jobs-one.mjs')], {
        env: { ...process.env, SYSTEM: system, JOBS: String(JOBS), CONC: String(CONC), BENCH_JOBS_PG_URL: pgUrl },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const r = JSON.parse(out.trim().split('\n').pop());
      results[system].enqueue.push(r.enqueue);
      results[system].process.push(r.process);
      log(`round ${round}/${ROUNDS} ${system}: enqueue ${fmt(r.enqueue)}/s, process ${fmt(r.process)}/s`);
    }
  }
  const m = (s, k) => median(results[s][k]);
  const ratio = (a, b, k) => m(a, k) / m(b, k);
  const rows = SYSTEMS.map((s) => {
    const peer = s === 'covet (PostgreSQL)' ? 'pg-boss' : s === 'covet (Redis)' ? 'bullmq' : null;
    return [s, fmt(m(s, 'enqueue')), peer ? `${ratio(s, peer, 'enqueue').toFixed(2)}× ${peer}` : '', fmt(m(s, 'process')), peer ? `${ratio(s, peer, 'process').toFixed(2)}× ${peer}` : ''];
  });
  recordRatios('jobs', {
    'jobs enqueue ÷ pg-boss': ratio('covet (PostgreSQL)', 'pg-boss', 'enqueue'),
    'jobs process ÷ pg-boss': ratio('covet (PostgreSQL)', 'pg-boss', 'process'),
    'jobs enqueue ÷ bullmq': ratio('covet (Redis)', 'bullmq', 'enqueue'),
    'jobs process ÷ bullmq': ratio('covet (Redis)', 'bullmq', 'process'),
  }, version);
  writeSection(
    'jobs',
    `## Background jobs (jobs/s; ${JOBS} no-op jobs, ${CONC} enqueues in flight, then one worker of concurrency ${CONC} drains them; each measurement a process on CPU 0, ${version}; median of ${ROUNDS} interleaved rounds)\n\n` +
      `${table(['queue', 'enqueue/s', 'ratio', 'process/s', 'ratio'], rows)}\n\n` +
      'Same server for each pair (the local PostgreSQL 15; the local Redis 7.0, no persistence). Completed jobs kept by all four. ' +
      'pg-boss 12 in its throughput mode (batches of 16 fetched again at once while they come back full; one job per fetch with ' +
      '`localConcurrency` 16 drains 32 jobs/s, polling every 0.5 s). covet records a worker\'s completions in the statement that ' +
      'claims its next jobs, and commits claims and outcomes without waiting for the WAL flush (enqueues wait for it: a crash can ' +
      're-run a job, never lose one); pg-boss commits everything synchronously. BullMQ 5 with its defaults.',
  );
}
