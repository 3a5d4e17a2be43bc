/**
 * Read replicas (PostgreSQL streaming standbys): statements that only read, outside transactions, go to a
 * replica in turn; everything else to the primary. A request or job that wrote reads the primary for the
 * rest of it (its own writes, which a replica may not have replayed yet); other code, for `stickyMs` after
 * a write. A replica that fails to answer is skipped and retried after a backoff; one whose replay falls
 * more than `maxLagMs` behind the primary is out of rotation until it catches up. A read a replica cannot
 * run — it writes after all (`25006`), or it was cancelled by a recovery conflict — runs on the primary.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { JOB_START, REQUEST_START } from '../../trace/channels.js';
import { PgConnection, type ConnectionOptions, type QueryOptions, type QueryResult } from './connection.js';
import { ConnectionError, PgError } from './errors.js';
import { Pool, type PoolOptions } from './pool.js';
import { parseConnectionString } from './url.js';

export interface ReplicaOptions {
  /** Reads go to the primary this long after a write made outside a request or job. Default 2000 ms. */
  stickyMs?: number;
  /** Out of rotation while its replay is further behind the primary than this. Default 10 000 ms. */
  maxLagMs?: number;
  /** How often each replica's lag is measured (`checkReplicas()` measures at once). Default 5000 ms; `Infinity`: never. */
  lagCheckMs?: number;
  /** The first wait before a failed replica is tried again; doubled at each failure, up to 30 s. Default 1000 ms. */
  retryMs?: number;
  /** Connecting to a replica gives up after this long (it is then skipped). Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** One replica as `db.replicaStats()` reports it. */
export interface ReplicaStats {
  /** `host:port/database`. */
  name: string;
  /** `up`: in rotation; `down`: failed, retried after `retryAt`; `lagging`: behind more than `maxLagMs`; `not-standby`: it is not replaying from a primary. */
  state: 'up' | 'down' | 'lagging' | 'not-standby';
  /** Reads it answered. */
  reads: number;
  /** Replay lag at the last check (ms; 0 when caught up; null before the first check). */
  lagMs: number | null;
  /** WAL bytes it was behind the primary at the last check. */
  lagBytes: number | null;
  /** When a down replica is tried again (ms, the clock's). */
  retryAt: number | null;
  /** Why it is down. */
  lastError: string | null;
}

/** Leading blanks, comments and parentheses before a statement's first word. */
const LEAD = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/;
/** Words that make a SELECT (or WITH) write, lock, or depend on its session: it runs on the primary. */
const WRITES = /\b(?:insert|update|delete|merge|into|share|nextval|setval|pg_notify|pg_advisory\w*|lo_\w+|set_config|txid_current|pg_current_xact_id)\b/i;

/**
 * Whether a statement only reads, conservatively: a SELECT, WITH, VALUES or TABLE with none of the words
 * that write or lock (`for update`, `select ... into`, a data-modifying CTE, `nextval`...). A false "no"
 * costs a primary read; a read-only function that writes is caught by the replica (`25006`) and re-run.
 *
 * @example
 * ```ts
 * isReadStatement('select * from notes where id = $1'); // true
 * isReadStatement('with d as (delete from notes returning *) select * from d'); // false
 * ```
 */
export function isReadStatement(text: string): boolean {
  const at = LEAD.exec(text)![0].length;
  if (!/^(?:select|with|values|table)\b/i.test(text.slice(at, at + 7))) return false;
  return !WRITES.test(text);
}

/** Errors after which a replica is skipped for a while: it is gone, shutting down, or not yet accepting. */
function replicaFailed(err: unknown): boolean {
  if (err instanceof ConnectionError) return true;
  return err instanceof PgError && (err.code.startsWith('08') || err.code === '57P01' || err.code === '57P02' || err.code === '57P03');
}

/** A read the replica refused that the primary will run: it writes (25006), or recovery cancelled it (40001). */
function primaryInstead(err: unknown): boolean {
  return err instanceof PgError && (err.code === '25006' || err.code === '40001');
}

class Replica {
  readonly name: string;
  readonly pool: Pool;
  reads = 0;
  failures = 0;
  retryAt = 0;
  lastError: string | null = null;
  lagMs: number | null = null;
  lagBytes: number | null = null;
  lagging = false;
  notStandby = false;

  constructor(url: string, options: ConnectionOptions & PoolOptions) {
    const config = parseConnectionString(url);
    this.name = `${config.socketDir ?? config.host}:${config.port}/${config.database}`;
    this.pool = new Pool(() => PgConnection.connect(config, options), options);
  }
}

/** @internal The replicas of one `Db` (see the module comment); the Db routes its queries through it. */
export class ReplicaSet {
  readonly #replicas: Replica[];
  readonly #primary: Pool;
  readonly #now: () => number;
  readonly #stickyMs: number;
  readonly #maxLagMs: number;
  readonly #retryMs: number;
  /** Per request or job: whether it wrote. */
  readonly #scope = new AsyncLocalStorage<{ wrote: boolean }>();
  #primaryUntil = 0;
  #next = 0;
  #timer: NodeJS.Timeout | null = null;
  #checking: Promise<ReplicaStats[]> | null = null;

  constructor(urls: readonly string[], primary: Pool, connection: ConnectionOptions & PoolOptions, options: ReplicaOptions = {}) {
    this.#primary = primary;
    this.#now = options.now ?? Date.now;
    this.#stickyMs = options.stickyMs ?? 2000;
    this.#maxLagMs = options.maxLagMs ?? 10_000;
    this.#retryMs = options.retryMs ?? 1000;
    this.#replicas = urls.map((u) => new Replica(u, { ...connection, connectTimeoutMs: options.connectTimeoutMs ?? 2000 }));
    // A fresh scope for each request and job run (both channels publish with runStores).
    const fresh = (): { wrote: boolean } => ({ wrote: false });
    REQUEST_START.bindStore(this.#scope, fresh);
    JOB_START.bindStore(this.#scope, fresh);
    const every = options.lagCheckMs ?? 5000;
    if (Number.isFinite(every)) {
      this.#timer = setInterval(() => void this.check().catch(() => {}), every);
      this.#timer.unref();
    }
  }

  /** A write went to the primary: this request or job (or, outside one, everyone for `stickyMs`) reads it there. */
  noteWrite(): void {
    const s = this.#scope.getStore();
    if (s !== undefined) s.wrote = true;
    else this.#primaryUntil = this.#now() + this.#stickyMs;
  }

  /** Runs `fn` with its reads on the primary. */
  onPrimary<T>(fn: () => Promise<T>): Promise<T> {
    return this.#scope.run({ wrote: true }, fn);
  }

  /**
   * Whether reads here and now should see the primary's latest writes: a request or job by its own writes
   * only (a job queue polling the database writes all the time), other code for `stickyMs` after any write.
   */
  #sticky(): boolean {
    const s = this.#scope.getStore();
    return s !== undefined ? s.wrote : this.#now() < this.#primaryUntil;
  }

  #pick(): Replica | null {
    const now = this.#now();
    const n = this.#replicas.length;
    for (let i = 0; i < n; i++) {
      const r = this.#replicas[(this.#next + i) % n]!;
      if (r.lagging || r.notStandby || r.retryAt > now) continue;
      this.#next = (this.#next + i + 1) % n;
      return r;
    }
    return null;
  }

  #fail(r: Replica, err: unknown): void {
    r.failures++;
    r.lastError = err instanceof Error ? err.message : String(err);
    r.retryAt = this.#now() + Math.min(30_000, this.#retryMs * 2 ** (r.failures - 1));
  }

  /** Runs a read on a replica in rotation (the next one if it fails), or on the primary. */
  async read<R>(text: string, values: readonly unknown[], options: QueryOptions | undefined): Promise<QueryResult<R>> {
    if (!this.#sticky()) {
      for (let tries = 0; tries < this.#replicas.length; tries++) {
        const r = this.#pick();
        if (r === null) break;
        try {
          const out = await r.pool.query<R>(text, values, options);
          r.reads++;
          r.failures = 0;
          return out;
        } catch (err) {
          if (primaryInstead(err)) break;
          if (!replicaFailed(err)) throw err;
          this.#fail(r, err);
        }
      }
    }
    return this.#primary.query<R>(text, values, options);
  }

  /**
   * Measures each replica's lag against the primary's WAL position now: caught up (0), or the time since
   * it last replayed a transaction. A replica over `maxLagMs` leaves the rotation; one that caught up
   * comes back. Also tries replicas that are down.
   */
  check(): Promise<ReplicaStats[]> {
    this.#checking ??= this.#check().finally(() => (this.#checking = null));
    return this.#checking;
  }

  async #check(): Promise<ReplicaStats[]> {
    const { rows } = await this.#primary.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn', []);
    const lsn = rows[0]!.lsn;
    await Promise.all(
      this.#replicas.map(async (r) => {
        try {
          const q = await r.pool.query<{ standby: boolean; behind: number | null; since: number | null }>(
            'select pg_is_in_recovery() as standby, pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::float8 as behind, ' +
              '(extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000)::float8 as since',
            [lsn],
          );
          const { standby, behind, since } = q.rows[0]!;
          r.notStandby = !standby;
          r.failures = 0;
          r.retryAt = 0;
          r.lastError = null;
          r.lagBytes = behind === null ? null : Math.max(0, behind);
          // Caught up with where the primary was a moment ago: no lag, however long ago it last replayed.
          r.lagMs = behind !== null && behind <= 0 ? 0 : since === null ? Infinity : Math.max(0, since);
          r.lagging = r.lagMs > this.#maxLagMs;
        } catch (err) {
          if (!replicaFailed(err)) throw err;
          this.#fail(r, err);
        }
      }),
    );
    return this.stats();
  }

  stats(): ReplicaStats[] {
    const now = this.#now();
    return this.#replicas.map((r) => ({
      name: r.name,
      state: r.retryAt > now ? 'down' : r.notStandby ? 'not-standby' : r.lagging ? 'lagging' : 'up',
      reads: r.reads,
      lagMs: r.lagMs,
      lagBytes: r.lagBytes,
      retryAt: r.retryAt > now ? r.retryAt : null,
      lastError: r.retryAt > now ? r.lastError : null,
    }));
  }

  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    REQUEST_START.unbindStore(this.#scope);
    JOB_START.unbindStore(this.#scope);
    await Promise.all(this.#replicas.map((r) => r.pool.end()));
  }
}
