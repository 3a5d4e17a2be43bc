/**
 * A pool of sessions that pipelines: a query goes to the least busy session — written at once even if
 * that session is still answering others — so 16 concurrent queries on 4 sessions cost 4 round trips'
 * worth of latency, not 16. Transactions reserve a session exclusively. Limits are real: `max`
 * sessions, `maxPipeline` queries per session, an acquire timeout with a clear error, idle sessions
 * above `min` closed after `idleTimeoutMs`; a session that dies is dropped and replaced on demand.
 */
import { ConnectionError, PoolTimeoutError } from './errors.js';
import type { PgConnection, QueryOptions, QueryResult } from './connection.js';

/** How long schema set-up, migrations, jobs and bulk copies wait for a session (not a request's budget). */
export const BACKGROUND_WAIT_MS = 30_000;

export interface PoolOptions {
  /** Most sessions. Default 10. */
  max?: number;
  /** Sessions kept open when idle. Default 0. */
  min?: number;
  /** Close sessions idle this long (above `min`). Default 30 000 ms. */
  idleTimeoutMs?: number;
  /**
   * Fail a query or reservation that waited this long for a session: a `PoolTimeoutError`, which the app
   * answers 503 with Retry-After. Default 2000 ms — sized for a request; a caller doing background work
   * passes its own (`{ acquireTimeoutMs }` on a query or transaction).
   */
  acquireTimeoutMs?: number;
  /**
   * Most callers waiting for a session; one more fails at once (`POOL_BUSY`, 503) instead of queueing
   * without end under overload. Default 16 per session of `max`.
   */
  maxWaiting?: number;
  /** Most queries written ahead on one session. Default 64. */
  maxPipeline?: number;
  /**
   * An idle session unused this long is checked with a ping (`select 1`, answer within 5 s) and dropped
   * if it fails — a connection a firewall or NAT silently dropped is found before a query needs it.
   * Default 30 000 ms.
   */
  healthCheckMs?: number;
}

interface Member {
  conn: PgConnection;
  reserved: boolean;
  lastUsed: number;
  /**
   * Queries handed this session by `#serveWaiters` whose callers have not written them yet (they run a
   * microtask later): busy all the same, or a transaction waiting behind them could take the session and
   * write BEGIN first — their autocommit statement would then run inside that transaction.
   */
  handed: number;
}

/** Queries on a session: written and unanswered, waiting for a Describe, or handed out and about to be written. */
const load = (m: Member): number => m.conn.inFlight + m.handed;

interface Waiter {
  exclusive: boolean;
  resolve: (m: Member) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** A session reserved for one user (a transaction, LISTEN, COPY): give it back with `release()`. */
export interface Reserved {
  conn: PgConnection;
  /** Returns the session to the pool (`destroy` closes it instead, e.g. after a broken transaction). */
  release(destroy?: boolean): void;
}

/**
 * Normally made by `createDb`; usable alone with any session factory.
 *
 * @example
 * ```ts
 * const pool = new Pool(() => PgConnection.connect(parseConnectionString(url)), { max: 8, acquireTimeoutMs: 2000 });
 * const { rows } = await pool.query('select now() as t', []);
 * ```
 */
/** A database's connections now (for `metrics()`). */
export interface PoolStats {
  /** Connections open (or opening). */
  open: number;
  /** Connections running something (a query in flight, or reserved by a transaction). */
  busy: number;
  /** Callers waiting for a connection. */
  waiting: number;
  /** The most connections the pool opens. */
  max: number;
}

/**
 * Sessions shared by pipelining (see the module comment): what {@link createDb} queries through.
 *
 * @example
 * ```ts
 * const pool = new Pool(() => PgConnection.connect(config), { max: 10, acquireTimeoutMs: 2000 });
 * const { rows } = await pool.query('select now()', []);
 * console.log(pool.stats()); // sessions, busy, waiting
 * await pool.end();
 * ```
 */
export class Pool {
  readonly #factory: () => Promise<PgConnection>;
  readonly #members: Member[] = [];
  #connecting = 0;
  readonly #waiters: Waiter[] = [];
  readonly #max: number;
  readonly #min: number;
  readonly #idleMs: number;
  readonly #acquireMs: number;
  readonly #maxWaiting: number;
  readonly #maxPipeline: number;
  readonly #healthMs: number;
  #sweep: NodeJS.Timeout | null = null;
  #ended = false;
  /** Completion hook shared by all queries (no closure per query). */
  readonly #settled = (): void => this.#serveWaiters();

  constructor(factory: () => Promise<PgConnection>, options: PoolOptions = {}) {
    this.#factory = factory;
    this.#max = options.max ?? 10;
    this.#min = options.min ?? 0;
    this.#idleMs = options.idleTimeoutMs ?? 30_000;
    this.#acquireMs = options.acquireTimeoutMs ?? 2000;
    this.#maxWaiting = options.maxWaiting ?? this.#max * 16;
    this.#maxPipeline = options.maxPipeline ?? 64;
    this.#healthMs = options.healthCheckMs ?? 30_000;
    // A warm pool: `min` sessions are opened now (failures are retried on demand).
    for (let i = 0; i < this.#min; i++) this.#grow();
  }

  /** Open sessions, and how many are reserved. */
  get size(): { open: number; reserved: number; connecting: number; waiting: number } {
    return { open: this.#members.length, reserved: this.#members.filter((m) => m.reserved).length, connecting: this.#connecting, waiting: this.#waiters.length };
  }

  /** Connections open, busy and waited for (see {@link PoolStats}). */
  stats(): PoolStats {
    let busy = 0;
    for (const m of this.#members) if (m.reserved || load(m) > 0) busy++;
    return { open: this.#members.length + this.#connecting, busy, waiting: this.#waiters.length, max: this.#max };
  }

  /** Runs a query on the least busy session (pipelined). */
  query<R>(text: string, values?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    const m = this.#pickShared();
    if (m !== null) return this.#run<R>(m, text, values, options);
    return this.#wait(false, options?.acquireTimeoutMs).then((w) => {
      w.handed--;
      return this.#run<R>(w, text, values, options);
    });
  }

  #run<R>(m: Member, text: string, values: readonly unknown[] | undefined, options: QueryOptions | undefined): Promise<QueryResult<R>> {
    m.lastUsed = Date.now();
    return m.conn.query<R>(text, values, options);
  }

  /** Reserves a session exclusively (waits for one with nothing in flight). */
  async reserve(acquireTimeoutMs?: number): Promise<Reserved> {
    const free = this.#members.find((m) => !m.reserved && load(m) === 0) ?? null;
    const m = free ?? (await this.#wait(true, acquireTimeoutMs));
    m.reserved = true;
    m.lastUsed = Date.now();
    let released = false;
    return {
      conn: m.conn,
      release: (destroy = false) => {
        if (released) return;
        released = true;
        m.reserved = false;
        m.lastUsed = Date.now();
        if (destroy || m.conn.closed) this.#drop(m, true);
        this.#serveWaiters();
      },
    };
  }

  /** Closes every session; queries in flight finish first. */
  async end(): Promise<void> {
    this.#ended = true;
    if (this.#sweep !== null) clearInterval(this.#sweep);
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new ConnectionError('the pool is closed'));
    }
    await Promise.all(this.#members.splice(0).map((m) => m.conn.close()));
  }

  /** The least busy unreserved session with room, or null. Grows the pool when every session is busy. */
  #pickShared(): Member | null {
    let best: Member | null = null;
    for (const m of this.#members) {
      if (m.reserved) continue;
      if (best === null || load(m) < load(best)) best = m;
    }
    if (best !== null && load(best) > 0) this.#grow();
    if (best === null || load(best) >= this.#maxPipeline) return null;
    return best;
  }

  #wait(exclusive: boolean, timeoutMs = this.#acquireMs): Promise<Member> {
    if (this.#ended) return Promise.reject(new ConnectionError('the pool is closed'));
    // Overload: more waiting would only be served after their callers gave up. Not while the pool is still
    // opening sessions (a burst on a cold pool waits for them; the acquire timeout still bounds it).
    if (this.#waiters.length >= this.#maxWaiting && this.#members.length >= this.#max) return Promise.reject(new PoolTimeoutError(this.#acquireMs, this.#max, this.#waiters.length, true));
    return new Promise<Member>((resolve, reject) => {
      const w: Waiter = {
        exclusive,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.#waiters.indexOf(w);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(new PoolTimeoutError(timeoutMs, this.#members.length, this.#waiters.length));
        }, timeoutMs),
      };
      this.#waiters.push(w);
      this.#grow();
    });
  }

  /** Opens one more session if the pool may grow and someone could use it. */
  #grow(): void {
    if (this.#ended || this.#members.length + this.#connecting >= this.#max) return;
    this.#connecting++;
    this.#factory().then(
      (conn) => {
        this.#connecting--;
        if (this.#ended) return void conn.close();
        const m: Member = { conn, reserved: false, lastUsed: Date.now(), handed: 0 };
        conn.onClose = () => this.#drop(m, false);
        conn.onSettle = this.#settled; // a finished query may free room for someone waiting
        this.#members.push(m);
        this.#startSweep();
        this.#serveWaiters();
      },
      (err: Error) => {
        this.#connecting--;
        // The server is unreachable: those waiting learn it now rather than at their timeout.
        if (this.#members.length === 0) {
          for (const w of this.#waiters.splice(0)) {
            clearTimeout(w.timer);
            w.reject(err);
          }
        }
      },
    );
  }

  #serveWaiters(): void {
    if (this.#waiters.length === 0) return;
    while (this.#waiters.length > 0) {
      const w = this.#waiters[0]!;
      const m = w.exclusive ? (this.#members.find((x) => !x.reserved && load(x) === 0) ?? null) : this.#pickShared();
      if (m === null) {
        if (w.exclusive) this.#grow();
        return;
      }
      this.#waiters.shift();
      clearTimeout(w.timer);
      if (w.exclusive) m.reserved = true; // claimed before anyone else can pipeline onto it
      else m.handed++; // counted until its caller writes the query
      w.resolve(m);
    }
  }

  #drop(m: Member, close: boolean): void {
    const i = this.#members.indexOf(m);
    if (i >= 0) this.#members.splice(i, 1);
    if (close) void m.conn.close();
    if (this.#waiters.length > 0) this.#grow();
  }

  /** Pings an idle session; one that does not answer is dropped (and replaced on demand). */
  async #check(m: Member): Promise<void> {
    m.lastUsed = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([m.conn.query('select 1', [], { prepare: false }), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('ping timed out')), 5000)))]);
    } catch {
      this.#drop(m, true);
    } finally {
      clearTimeout(timer);
    }
  }

  #startSweep(): void {
    if (this.#sweep !== null || (!Number.isFinite(this.#idleMs) && !Number.isFinite(this.#healthMs))) return;
    this.#sweep = setInterval(() => {
      const now = Date.now();
      for (const m of [...this.#members]) {
        if (m.reserved || load(m) > 0) continue;
        if (this.#members.length > this.#min && now - m.lastUsed > this.#idleMs) this.#drop(m, true);
        else if (now - m.lastUsed > this.#healthMs) void this.#check(m);
      }
    }, Math.max(250, Math.min(this.#idleMs, this.#healthMs) / 2));
    this.#sweep.unref();
  }
}
