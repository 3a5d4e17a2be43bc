/**
 * Jobs in Redis. Every state change is one Lua script, so it is atomic against every other worker and
 * process; times are the server's (`TIME`), so workers' clocks do not matter.
 *
 * Keys, under the prefix (default `covet:jobs:`; for Redis Cluster put a hash tag in it, `{jobs}:`):
 * - `job:<id>` — a hash: queue, name, payload (JSON), priority, run_at, attempts, max_attempts, key, state,
 *   last_error, locked_by, created_at, finished_at, member;
 * - `ready:<name>` — due jobs of one name, score −priority, member `<run_at, 15 digits>:<id, 20 digits>`: a
 *   claim takes the smallest (score, member) across the names a worker serves — priority, then due time,
 *   then enqueue order, as the PostgreSQL queue orders them;
 * - `delayed` (score run_at) — not due yet, moved to `ready:` by the claim that finds them due;
 * - `leases` (score lease end) — running; a claim puts expired ones back to `ready:` (their worker died);
 * - `due` (score run_at) — the ready jobs by due time (the oldest due job's wait);
 * - `dead` — a set; `key:<key>` — idempotency keys; `seq` — ids; `queues`, `count:<queue>` — stats.
 * Enqueueing publishes on `wake`, which idle workers subscribe to.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Queryable } from '../db/db.js';
import { redisAttributes, redisGuard } from '../redis-client.js';
import { spans } from '../../trace/hook.js';
import { WORKER_LOST, type ClaimedJob, type JobInfo, type JobState, type JobStats, type JobStore, type NewJob } from './store.js';

const LIB = `
local LOST = ${JSON.stringify(WORKER_LOST)}
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ready(p, id, name, prio, runAt)
  local m = string.format('%015d:%020d', runAt, tonumber(id))
  redis.call('ZADD', p .. 'ready:' .. name, -prio, m)
  redis.call('HSET', p .. 'job:' .. id, 'member', m)
  redis.call('ZADD', p .. 'due', runAt, id)
end
local function count(p, q, from, to)
  if from then redis.call('HINCRBY', p .. 'count:' .. q, from, -1) end
  if to then redis.call('HINCRBY', p .. 'count:' .. q, to, 1) end
end
local p = ARGV[1]
`;

/** A script run by its SHA1, loaded on the first NOSCRIPT. */
class Script {
  readonly name: string;
  readonly src: string;
  readonly sha: string;
  constructor(name: string, body: string) {
    this.name = name;
    this.src = LIB + body;
    this.sha = createHash('sha1').update(this.src).digest('hex');
  }
}

const ENQUEUE = new Script('jobs enqueue', `
local q, name, payload, prio, delay, max, key, trace = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9]
if key ~= '' then
  local existing = redis.call('GET', p .. 'key:' .. key)
  if existing then return existing end
end
local id = tostring(redis.call('INCR', p .. 'seq'))
local t = now()
local runAt = t + delay
if key ~= '' then redis.call('SET', p .. 'key:' .. key, id) end
redis.call('HSET', p .. 'job:' .. id, 'queue', q, 'name', name, 'payload', payload, 'priority', prio, 'run_at', runAt,
  'attempts', 0, 'max_attempts', max, 'key', key, 'state', 'queued', 'created_at', t, 'trace', trace)
redis.call('SADD', p .. 'queues', q)
count(p, q, nil, 'queued')
if delay > 0 then redis.call('ZADD', p .. 'delayed', runAt, id) else ready(p, id, name, prio, runAt) end
redis.call('PUBLISH', p .. 'wake', q)
return id
`);

const CLAIM = new Script('jobs claim', `
local w, limit, ttl, ndone = ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local t = now()
-- This worker's jobs done since its last claim.
for i = 6, 5 + ndone do
  local id = ARGV[i]
  local k = p .. 'job:' .. id
  if redis.call('HGET', k, 'locked_by') == w then
    local q = redis.call('HGET', k, 'queue')
    redis.call('ZREM', p .. 'leases', id)
    redis.call('HDEL', k, 'locked_by', 'last_error')
    redis.call('HSET', k, 'state', 'done', 'finished_at', t)
    count(p, q, 'running', 'done')
    if ttl ~= '' then
      redis.call('PEXPIRE', k, ttl)
      local key = redis.call('HGET', k, 'key')
      if key and key ~= '' then redis.call('PEXPIRE', p .. 'key:' .. key, ttl) end
    end
  end
end
if limit == 0 then return {} end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'delayed', '-inf', t, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', p .. 'delayed', id)
  local f = redis.call('HMGET', p .. 'job:' .. id, 'name', 'priority', 'run_at')
  ready(p, id, f[1], tonumber(f[2]), tonumber(f[3]))
end
-- A lease that ran out: its worker died. The attempt it began counts: due again, or dead at the limit.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'leases', '-inf', t, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', p .. 'leases', id)
  local k = p .. 'job:' .. id
  local f = redis.call('HMGET', k, 'name', 'priority', 'run_at', 'queue', 'attempts', 'max_attempts')
  redis.call('HDEL', k, 'locked_by')
  if tonumber(f[5]) >= tonumber(f[6]) then
    redis.call('HSET', k, 'state', 'dead', 'last_error', LOST, 'finished_at', t)
    redis.call('SADD', p .. 'dead', id)
    count(p, f[4], 'running', 'dead')
  else
    redis.call('HSET', k, 'state', 'queued', 'last_error', LOST)
    count(p, f[4], 'running', 'queued')
    ready(p, id, f[1], tonumber(f[2]), tonumber(f[3]))
  end
end
local cands, lease = {}, {}
for i = 6 + ndone, #ARGV, 2 do
  local name = ARGV[i]
  lease[name] = tonumber(ARGV[i + 1])
  local r = redis.call('ZRANGE', p .. 'ready:' .. name, 0, limit - 1, 'WITHSCORES')
  for j = 1, #r, 2 do cands[#cands + 1] = { tonumber(r[j + 1]), r[j], name } end
end
table.sort(cands, function(a, b) if a[1] ~= b[1] then return a[1] < b[1] end return a[2] < b[2] end)
local out = {}
for i = 1, math.min(limit, #cands) do
  local c = cands[i]
  local id = tostring(tonumber(string.match(c[2], ':(%d+)$')))
  redis.call('ZREM', p .. 'ready:' .. c[3], c[2])
  redis.call('ZREM', p .. 'due', id)
  local k = p .. 'job:' .. id
  local attempts = redis.call('HINCRBY', k, 'attempts', 1)
  redis.call('HSET', k, 'state', 'running', 'locked_by', w)
  redis.call('ZADD', p .. 'leases', t + lease[c[3]], id)
  local f = redis.call('HMGET', k, 'queue', 'payload', 'max_attempts', 'trace')
  count(p, f[1], 'queued', 'running')
  out[#out + 1] = { id, c[3], f[2], attempts, tonumber(f[3]), f[4] or '' }
end
return out
`);

/** The head of the scripts that change a claimed job: nothing unless the worker still holds it. */
const HELD = `
local id, w = ARGV[2], ARGV[3]
local k = p .. 'job:' .. id
if redis.call('HGET', k, 'locked_by') ~= w then return 0 end
local q = redis.call('HGET', k, 'queue')
local t = now()
redis.call('ZREM', p .. 'leases', id)
redis.call('HDEL', k, 'locked_by')
`;

const FAIL = new Script('jobs fail', `${HELD}
if ARGV[5] == '' then
  redis.call('HSET', k, 'state', 'dead', 'last_error', ARGV[4], 'finished_at', t)
  redis.call('SADD', p .. 'dead', id)
  count(p, q, 'running', 'dead')
else
  local runAt = t + tonumber(ARGV[5])
  redis.call('HSET', k, 'state', 'queued', 'last_error', ARGV[4], 'run_at', runAt)
  redis.call('ZADD', p .. 'delayed', runAt, id)
  count(p, q, 'running', 'queued')
end
return 1
`);

const HAND_BACK = new Script('jobs hand back', `${HELD}
redis.call('HINCRBY', k, 'attempts', -1)
redis.call('HSET', k, 'state', 'queued')
local f = redis.call('HMGET', k, 'name', 'priority', 'run_at')
count(p, q, 'running', 'queued')
ready(p, id, f[1], tonumber(f[2]), tonumber(f[3]))
redis.call('PUBLISH', p .. 'wake', q)
return 1
`);

const RETRY_DEAD = new Script('jobs retry dead', `
local n, t = 0, now()
for _, id in ipairs(redis.call('SMEMBERS', p .. 'dead')) do
  local k = p .. 'job:' .. id
  local f = redis.call('HMGET', k, 'name', 'priority', 'queue')
  if ARGV[2] == '' or f[1] == ARGV[2] then
    redis.call('SREM', p .. 'dead', id)
    redis.call('HSET', k, 'state', 'queued', 'attempts', 0, 'run_at', t)
    redis.call('HDEL', k, 'last_error', 'finished_at')
    count(p, f[3], 'dead', 'queued')
    ready(p, id, f[1], tonumber(f[2]), t)
    n = n + 1
  end
end
if n > 0 then redis.call('PUBLISH', p .. 'wake', '') end
return n
`);

const STATS = new Script('jobs stats', `
local out = {}
for _, q in ipairs(redis.call('SMEMBERS', p .. 'queues')) do
  out[#out + 1] = q
  out[#out + 1] = redis.call('HGETALL', p .. 'count:' .. q)
end
local t = now()
local oldest = t
local d = redis.call('ZRANGE', p .. 'due', 0, 0, 'WITHSCORES')
if d[2] then oldest = math.min(oldest, tonumber(d[2])) end
local l = redis.call('ZRANGEBYSCORE', p .. 'delayed', '-inf', t, 'LIMIT', 0, 1, 'WITHSCORES')
if l[2] then oldest = math.min(oldest, tonumber(l[2])) end
return { out, tostring(t - oldest) }
`);

/** How long a done job stays in Redis by default: a day. */
const DONE_TTL_MS = 86_400_000;

export interface RedisJobsOptions {
  /** Key prefix. Default `covet:jobs:`. */
  prefix?: string;
  /**
   * Done jobs (and their idempotency keys) expire this long after they finish: Redis is memory, and a
   * queue of many jobs would otherwise grow for ever. Default one day; `Infinity` keeps them (the `done`
   * count counts every job ever done either way). Dead jobs are kept until retried or deleted.
   */
  doneTtlMs?: number;
}

export class RedisJobStore implements JobStore {
  readonly kind = 'redis' as const;
  readonly redis: Redis;
  readonly prefix: string;
  readonly #doneTtl: string;

  constructor(redis: Redis, o: RedisJobsOptions = {}) {
    this.redis = redis;
    this.prefix = o.prefix ?? 'covet:jobs:';
    const ttl = o.doneTtlMs ?? DONE_TTL_MS;
    this.#doneTtl = ttl === Infinity ? '' : String(Math.max(1, Math.floor(ttl)));
  }

  /** Runs a script by SHA, loading it on NOSCRIPT. The routing key keeps Cluster on the prefix's slot. */
  #run<T>(s: Script, args: Array<string | number>): Promise<T> {
    if (spans === null) return this.#eval(s, args);
    return spans.around(`EVALSHA ${s.name}`, 'client', redisAttributes(this.redis, 'EVALSHA'), () => this.#eval<T>(s, args));
  }

  async #eval<T>(s: Script, args: Array<string | number>): Promise<T> {
    const key = `${this.prefix}seq`;
    try {
      return (await this.redis.evalsha(s.sha, 1, key, this.prefix, ...args)) as T;
    } catch (err) {
      if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
      return (await this.redis.eval(s.src, 1, key, this.prefix, ...args)) as T;
    }
  }

  async migrate(): Promise<void> {
    // Nothing to create; scripts load on first use.
  }

  async enqueue(j: NewJob, tx?: Queryable): Promise<string> {
    if (tx !== undefined) throw new Error('a job queued in Redis cannot be part of a database transaction: use a queue on the database (createJobs(db)) for that, or enqueue after the transaction commits');
    const payload = JSON.stringify(j.payload);
    // Enqueueing is on a request's path: while Redis is unreachable it fails at once (503) instead of
    // waiting in ioredis's offline queue. An answer that comes late may still have stored the job: a
    // retried enqueue should carry a key.
    return redisGuard(this.redis).run(() => this.#run<string>(ENQUEUE, [j.queue, j.name, payload, j.priority, j.delayMs, j.maxAttempts, j.key ?? '', j.trace ?? '']), 2000);
  }

  async claim(workerId: string, leaseMs: ReadonlyMap<string, number>, limit: number, done: readonly string[]): Promise<ClaimedJob[]> {
    const args: Array<string | number> = [workerId, limit, this.#doneTtl, done.length, ...done];
    for (const [name, ms] of leaseMs) args.push(name, Math.ceil(ms));
    const rows = await this.#run<Array<[string, string, string, number, number, string]>>(CLAIM, args);
    return rows.map(([id, name, payload, attempts, maxAttempts, trace]) => ({ id, name, payload: JSON.parse(payload) as unknown, attempts, maxAttempts, trace: trace === '' ? null : trace }));
  }

  async fail(id: string, workerId: string, message: string, retryInMs: number | null): Promise<void> {
    await this.#run(FAIL, [id, workerId, message, retryInMs === null ? '' : Math.max(0, Math.ceil(retryInMs))]);
  }

  async handBack(id: string, workerId: string): Promise<void> {
    await this.#run(HAND_BACK, [id, workerId]);
  }

  async get(id: string): Promise<JobInfo | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    const h = await this.redis.hgetall(`${this.prefix}job:${id}`);
    if (h.name === undefined) return null;
    const time = (v: string | undefined): Date | null => (v === undefined || v === '' ? null : new Date(Number(v)));
    return {
      id,
      name: h.name,
      queue: h.queue!,
      state: h.state as JobState,
      payload: JSON.parse(h.payload!) as unknown,
      priority: Number(h.priority),
      attempts: Number(h.attempts),
      maxAttempts: Number(h.max_attempts),
      key: h.key === '' || h.key === undefined ? null : h.key,
      lastError: h.last_error ?? null,
      runAt: time(h.run_at)!,
      createdAt: time(h.created_at)!,
      finishedAt: time(h.finished_at),
    };
  }

  async stats(): Promise<JobStats> {
    const [flat, waitMs] = await this.#run<[Array<string | string[]>, string]>(STATS, []);
    const queues: JobStats['queues'] = {};
    for (let i = 0; i < flat.length; i += 2) {
      const c: Record<JobState, number> = { queued: 0, running: 0, done: 0, dead: 0 };
      const pairs = flat[i + 1] as string[];
      for (let j = 0; j < pairs.length; j += 2) c[pairs[j] as JobState] = Number(pairs[j + 1]);
      queues[flat[i] as string] = c;
    }
    return { queues, oldestDueSeconds: Number(waitMs) / 1000 };
  }

  async retryDead(name: string | null): Promise<number> {
    return this.#run<number>(RETRY_DEAD, [name ?? '']);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  async subscribe(wake: () => void): Promise<() => Promise<void>> {
    // A subscribed connection can do nothing else: a connection of its own.
    const sub = this.redis.duplicate();
    sub.on('error', () => {}); // reconnects by itself; workers poll meanwhile
    sub.on('message', () => wake());
    await sub.subscribe(`${this.prefix}wake`);
    return async () => void sub.disconnect();
  }
}
