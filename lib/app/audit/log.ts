/**
 * An audit log: who did what to which record, append-only, tamper-evident.
 *
 * - Entries go in one table, numbered without gaps (`seq`), each carrying the SHA-256 of the previous
 *   entry and of itself (a hash chain): changing, removing or inserting an entry anywhere breaks the chain
 *   from there on, and `verify()` names the first entry that does not fit.
 * - Off the write's path: a write's transaction only inserts its entries (no lock, no number yet). A
 *   sequencer chains committed entries in batches, in the order they were inserted — one transaction per
 *   batch that takes the one-row head (an UPDATE: the lock that orders sequencers of several processes,
 *   on PostgreSQL, PGlite, SQLite and MySQL/MariaDB), numbers the entries, hashes them and moves the head.
 *   It runs shortly after each append in this process (and keeps looking for a moment, for transactions
 *   that commit later); `flush()` chains what is committed now, and `find()`/`verify()` call it first.
 * - The table refuses DELETE, and UPDATE except the sequencer's one filling in an unchained entry's
 *   number and hashes (triggers), so tampering needs the triggers dropped first — and still shows in `verify()`.
 * - ORM writes are recorded in the same transaction as the write (`createOrm(db, schema, { audit })`):
 *   the table, the action, the record's key, the values written; the actor is whoever
 *   `log.context(...)` says handled the request. Application events (sign-in, sign-out, a failed
 *   sign-in) are `log.record(...)`.
 * - Values under names that look like secrets (password, secret, token, hash, key, credential,
 *   authorization, cookie) are stored as `[redacted]`, at any depth.
 *
 * @example
 * ```ts
 * const audit = createAuditLog(db);
 * await audit.migrate();
 * app.use(audit.context((ctx) => ({ actor: (ctx.state.user as { sub?: string } | undefined)?.sub })));
 * const orm = createOrm(db, schema, { audit });
 * await audit.record({ action: 'auth.sign-in', actor: email, data: { ok: true } });
 * const { ok } = await audit.verify();
 * ```
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { Queryable } from '../db/db.js';
import type { AuditSink } from '../orm/repository.js';

export type { AuditSink } from '../orm/repository.js';

/** What a request's entries say about who made them (see `context`). */
export interface AuditScope {
  actor?: string | null;
  /** Anything else to keep with each entry of the request (request id, address). */
  meta?: Record<string, unknown>;
}

/** An entry as the app records it. */
export interface AuditEvent {
  action: string;
  /** Default: the request's actor (`context`), else none. */
  actor?: string | null;
  target?: { table: string; id?: string | number | null };
  data?: Record<string, unknown>;
}

/** An entry as stored. */
export interface AuditEntry {
  seq: number;
  /** ISO-8601 time of the append. */
  at: string;
  actor: string | null;
  action: string;
  targetTable: string | null;
  targetId: string | null;
  data: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  table?: string;
  id?: string | number;
  /** ISO-8601 times, inclusive. */
  since?: string | Date;
  until?: string | Date;
  /** Newest first; default 100, at most 1000. */
  limit?: number;
  /** Entries before this `seq` (paging back). */
  before?: number;
}

export type AuditVerdict = { ok: true; entries: number } | { ok: false; entries: number; seq: number; problem: string };


const GENESIS = '0'.repeat(64);
const SECRET_NAMES = /pass(word|phrase)?|secret|token|hash|(^|_|-)key$|apikey|credential|authorization|cookie/i;

/** A value with the fields named like secrets replaced, at any depth. */
function redact(v: unknown, names: RegExp, depth = 0): unknown {
  if (depth > 16 || v === null || typeof v !== 'object') return typeof v === 'bigint' ? String(v) : v;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return `[${v.length} bytes]`;
  if (Array.isArray(v)) return v.map((x) => redact(x, names, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = names.test(k) ? '[redacted]' : redact(x, names, depth + 1);
  return out;
}

/** The hashed form of an entry: its fields in a fixed order, one JSON array. */
function digest(prev: string, e: Omit<AuditEntry, 'hash' | 'prevHash' | 'data'> & { data: string | null }): string {
  return createHash('sha256').update(`${prev}\n${JSON.stringify([e.seq, e.at, e.actor, e.action, e.targetTable, e.targetId, e.data])}`).digest('hex');
}

/** An entry as the write inserted it (before the sequencer chains it). */
interface PendingRow {
  id: number | string;
  at: string;
  actor: string | null;
  action: string;
  target_table: string | null;
  target_id: string | null;
  data: string | null;
}

/** A chained entry. */
interface Row extends Omit<PendingRow, 'id'> {
  seq: number | string;
  prev_hash: string;
  hash: string;
}

export interface AuditLogOptions {
  /** Default `audit_log` (and `<table>_head`). */
  table?: string;
  /** Names whose values are stored as `[redacted]`. Default: password, secret, token, hash, key, ... */
  redact?: RegExp;
  /** Entries chained per sequencer transaction. Default 500. */
  batch?: number;
  /** How long after an append the sequencer looks for it (its transaction may commit later). Default 20 ms. */
  chainDelayMs?: number;
  /** How long after this process's last append the sequencer keeps looking, for transactions that commit late. Default 2000 ms. */
  settleMs?: number;
  /** Reports a sequencer failure (the entries stay, unchained, for the next run). Default: one line on stderr. */
  onError?: (err: unknown) => void;
}

const COLUMNS = 'at, actor, action, target_table, target_id, data';

/**
 * The log over `db` (see the module comment).
 *
 * @example
 * ```ts
 * const audit = createAuditLog(db);
 * await audit.migrate();
 * await db.transaction(async (tx) => {
 *   await tx.query(sql`update notes set body = ${body} where id = ${id}`);
 *   await audit.record({ actor: userId, action: 'note.update', target: { table: 'notes', id } }, tx);
 * });
 * ```
 */
export class AuditLog implements AuditSink {
  readonly db: Queryable & { kind?: string; closed?: boolean };
  readonly table: string;
  readonly #head: string;
  readonly #redact: RegExp;
  readonly #batch: number;
  readonly #delayMs: number;
  readonly #settleMs: number;
  readonly #onError: (err: unknown) => void;
  /** The request's scope, asked when an entry is appended (the actor may be known only after auth). */
  readonly #scope = new AsyncLocalStorage<() => AuditScope>();
  /** Sequencer runs of this process, one after another. */
  #busy: Promise<unknown> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #lastAppend = -Infinity;
  #closed = false;

  constructor(db: Queryable, options: AuditLogOptions = {}) {
    this.db = db;
    this.table = options.table ?? 'audit_log';
    if (!/^[a-z_][a-z0-9_]*$/.test(this.table)) throw new Error(`audit table name ${JSON.stringify(this.table)}: lowercase letters, digits and _`);
    this.#head = `${this.table}_head`;
    this.#redact = options.redact ?? SECRET_NAMES;
    this.#batch = Math.max(1, Math.min(2000, Math.floor(options.batch ?? 500)));
    this.#delayMs = options.chainDelayMs ?? 20;
    this.#settleMs = options.settleMs ?? 2000;
    this.#onError = options.onError ?? ((err) => process.stderr.write(`covet audit: chaining entries failed (they stay for the next run): ${err instanceof Error ? err.message : String(err)}\n`));
  }

  /** Creates the tables, the head row and the append-only triggers if they are missing; chains what a stopped process left unchained. */
  async migrate(): Promise<void> {
    const t = this.table;
    const kind = this.db.kind;
    const run = async (sql: string): Promise<void> => void (await this.db.query(sql));
    const id = kind === 'sqlite' ? 'id integer primary key autoincrement' : kind === 'mysql' ? 'id bigint auto_increment primary key' : 'id bigint generated always as identity primary key';
    await run(`create table if not exists ${t} (${id}, seq bigint unique, at varchar(32) not null, actor varchar(255), action varchar(255) not null, target_table varchar(255), target_id varchar(255), data text, prev_hash char(64), hash char(64))`);
    try {
      await this.db.query(`select id from ${t} where 1 = 0`);
    } catch {
      throw new Error(`${t} has the layout of an earlier covet (no id column: entries were chained as they were written); rename it (the old chain still verifies with that version) and run migrate() again`);
    }
    if (kind !== 'mysql') await run(`create index if not exists ${t}_unchained on ${t} (id) where seq is null`);
    await run(`create table if not exists ${this.#head} (id integer primary key, seq bigint not null, hash char(64) not null)`);
    if ((await this.db.query(`select 1 from ${this.#head} where id = 1`)).rows.length === 0) await this.db.query(`insert into ${this.#head} (id, seq, hash) values (1, 0, $1)`, [GENESIS]);
    const msg = `${t} is append-only`;
    // The one UPDATE allowed: the sequencer filling in an unchained entry's number and hashes.
    const content = ['id', 'at', 'actor', 'action', 'target_table', 'target_id', 'data'];
    if (kind === 'postgres' || kind === 'pglite') {
      const changed = `(${content.map((c) => `new.${c}`).join(', ')}) is distinct from (${content.map((c) => `old.${c}`).join(', ')})`;
      await run(`create or replace function ${t}_append_only() returns trigger language plpgsql as $$ begin
        if tg_op = 'DELETE' or old.seq is not null or new.seq is null or ${changed} then raise exception '${msg}'; end if;
        return new; end $$`);
      await run(`drop trigger if exists ${t}_append_only on ${t}`);
      await run(`create trigger ${t}_append_only before update or delete on ${t} for each row execute function ${t}_append_only()`);
    } else if (kind === 'sqlite') {
      const changed = content.map((c) => `new.${c} is not old.${c}`).join(' or ');
      await run(`drop trigger if exists ${t}_no_update`);
      await run(`create trigger ${t}_no_update before update on ${t} when old.seq is not null or new.seq is null or ${changed} begin select raise(abort, '${msg}'); end`);
      await run(`create trigger if not exists ${t}_no_delete before delete on ${t} begin select raise(abort, '${msg}'); end`);
    } else if (kind === 'mysql') {
      const changed = content.map((c) => `not (new.${c} <=> old.${c})`).join(' or ');
      await run(`drop trigger if exists ${t}_no_update`);
      await run(`create trigger ${t}_no_update before update on ${t} for each row begin if old.seq is not null or new.seq is null or ${changed} then signal sqlstate '45000' set message_text = '${msg}'; end if; end`);
      await run(`drop trigger if exists ${t}_no_delete`);
      await run(`create trigger ${t}_no_delete before delete on ${t} for each row signal sqlstate '45000' set message_text = '${msg}'`);
    }
    // Entries a stopped process appended but did not chain are chained now.
    await this.flush();
  }

  /**
   * Middleware that tells the entries of each request who made them. `scope` is asked when an entry is
   * appended, so an actor set later by an auth dependency (`ctx.state.user`) is seen.
   *
   * @example
   * ```ts
   * app.use(audit.context((ctx) => ({ actor: (ctx.state.user as { sub?: string } | undefined)?.sub, meta: { ip: ctx.ip } })));
   * ```
   */
  context<C>(scope: (ctx: C) => AuditScope): (ctx: C, next: () => Promise<void>) => Promise<void> {
    return (ctx, next) => this.#scope.run(() => scope(ctx), next);
  }

  /**
   * Appends one entry: inside `on` (a transaction) when given, so it exists only if that commits; else on
   * its own. It is chained (numbered and hashed) by the sequencer shortly after it commits.
   */
  record(event: AuditEvent, on?: Queryable): Promise<void> {
    return this.#append([event], on ?? this.db);
  }

  /** @internal The ORM's writes: an entry per row, in the write's transaction. */
  async ormWrite(on: Queryable, w: Parameters<AuditSink['ormWrite']>[1]): Promise<void> {
    if (w.rows.length === 0) return;
    await this.#append(
      w.rows.map((r) => ({
        action: `${w.table}.${w.action}`,
        target: { table: w.table, id: w.keys.map((k) => String(r[k])).join(',') },
        data: w.action === 'update' ? { set: w.set } : { row: r },
      })),
      on,
    );
  }

  /** Inserts the entries, unchained: no lock is taken, so concurrent writes do not wait for one another. */
  async #append(events: readonly AuditEvent[], q: Queryable): Promise<void> {
    const scope = this.#scope.getStore()?.();
    const at = new Date().toISOString();
    const values: unknown[] = [];
    for (const ev of events) {
      const dataObj = ev.data === undefined && scope?.meta === undefined ? null : redact({ ...(ev.data ?? {}), ...(scope?.meta === undefined ? {} : { meta: scope.meta }) }, this.#redact);
      values.push(at, ev.actor !== undefined ? ev.actor : (scope?.actor ?? null), ev.action, ev.target?.table ?? null, ev.target?.id == null ? null : String(ev.target.id), dataObj === null ? null : JSON.stringify(dataObj));
    }
    // An ORM write of many rows: one statement per 1000 entries (6 parameters each).
    for (let from = 0; from < events.length; from += 1000) {
      const n = Math.min(1000, events.length - from);
      const rows = Array.from({ length: n }, (_, i) => `(${Array.from({ length: 6 }, (__, k) => `$${i * 6 + k + 1}`).join(', ')})`).join(', ');
      await q.query(`insert into ${this.table} (${COLUMNS}) values ${rows}`, values.slice(from * 6, (from + n) * 6));
    }
    this.#lastAppend = performance.now();
    this.#schedule();
  }

  /** Runs the sequencer soon, and again while this process's recent appends may still be committing. */
  #schedule(): void {
    if (this.#timer !== null || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      // The app closed its database: the entries wait for the next process's sequencer.
      if (this.db.closed === true) return;
      const started = performance.now();
      this.flush().then(
        () => {
          if (performance.now() - this.#lastAppend < this.#settleMs) this.#schedule();
        },
        (err: unknown) => {
          if (this.db.closed === true) return;
          this.#onError(err);
          // Tried again only when something new is appended (no error loop while the database is down).
          if (this.#lastAppend > started) this.#schedule();
        },
      );
    }, this.#delayMs);
    this.#timer.unref?.();
  }

  /**
   * Chains every committed, unchained entry now (in batches); resolves with how many it chained.
   *
   * @example
   * ```ts
   * await audit.record({ action: 'export', actor: 'ann' });
   * await audit.flush(); // numbered and hashed
   * ```
   */
  flush(): Promise<number> {
    const run = this.#busy.then(async () => {
      let total = 0;
      for (;;) {
        const n = await this.db.transaction((q) => this.#chainBatch(q), { acquireTimeoutMs: 30_000 });
        total += n;
        if (n < this.#batch) return total;
      }
    });
    this.#busy = run.catch(() => {});
    return run;
  }

  /** Stops the sequencer of this process (entries not yet chained are chained by the next flush or process). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#busy;
  }

  /** One sequencer transaction: take the head, number and hash up to a batch of entries, move the head. */
  async #chainBatch(q: Queryable): Promise<number> {
    // Taking the head row is the lock: another process's sequencer waits here until this one commits.
    await q.query(`update ${this.#head} set seq = seq + 0 where id = 1`);
    const head = (await q.query<{ seq: number | string; hash: string }>(`select seq, hash from ${this.#head} where id = 1`)).rows[0];
    if (head === undefined) throw new Error(`${this.#head} has no head row: run audit.migrate()`);
    const rows = (await q.query<PendingRow>(`select id, ${COLUMNS} from ${this.table} where seq is null order by id limit ${this.#batch}`)).rows;
    if (rows.length === 0) return 0;
    let seq = Number(head.seq);
    let prev = head.hash.trim();
    const ids: unknown[] = [];
    const seqCase: string[] = [];
    const prevCase: string[] = [];
    const hashCase: string[] = [];
    const values: unknown[] = [];
    const p = (v: unknown): string => {
      values.push(v);
      return `$${values.length}`;
    };
    const big = this.db.kind === 'postgres' || this.db.kind === 'pglite' ? '::bigint' : '';
    for (const r of rows) {
      seq++;
      const hash = digest(prev, { seq, at: r.at, actor: r.actor, action: r.action, targetTable: r.target_table, targetId: r.target_id, data: r.data });
      const id = p(r.id);
      ids.push(id);
      seqCase.push(`when ${id}${big} then ${p(seq)}${big}`);
      prevCase.push(`when ${id}${big} then ${p(prev)}`);
      hashCase.push(`when ${id}${big} then ${p(hash)}`);
      prev = hash;
    }
    await q.query(
      `update ${this.table} set seq = case id ${seqCase.join(' ')} end, prev_hash = case id ${prevCase.join(' ')} end, hash = case id ${hashCase.join(' ')} end where id in (${ids.map((i) => `${i}${big}`).join(', ')})`,
      values,
    );
    await q.query(`update ${this.#head} set seq = $1, hash = $2 where id = 1`, [seq, prev]);
    return rows.length;
  }

  /** Entries matching `q`, newest first (what is committed is chained first). */
  async find(q: AuditQuery = {}): Promise<AuditEntry[]> {
    await this.flush();
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: string, v: unknown): void => {
      values.push(v);
      where.push(sql.replace('?', `$${values.length}`));
    };
    if (q.actor !== undefined) add('actor = ?', q.actor);
    if (q.action !== undefined) add('action = ?', q.action);
    if (q.table !== undefined) add('target_table = ?', q.table);
    if (q.id !== undefined) add('target_id = ?', String(q.id));
    if (q.since !== undefined) add('at >= ?', new Date(q.since).toISOString());
    if (q.until !== undefined) add('at <= ?', new Date(q.until).toISOString());
    if (q.before !== undefined) add('seq < ?', q.before);
    where.push('seq is not null');
    const limit = Math.min(1000, Math.max(1, Math.floor(q.limit ?? 100)));
    const rows = (await this.db.query<Row>(`select * from ${this.table} where ${where.join(' and ')} order by seq desc limit ${limit}`, values)).rows;
    return rows.map(toEntry);
  }

  /**
   * Recomputes the chain from the first entry: numbers without gaps, each entry's `prev_hash` the hash
   * before it, each hash its content's, and the head at the last. The first entry that does not fit is
   * named (changed, removed, inserted or reordered entries all show there).
   */
  async verify(): Promise<AuditVerdict> {
    await this.flush();
    let prev = GENESIS;
    let expect = 1;
    let n = 0;
    const page = 1000;
    for (;;) {
      const rows = (await this.db.query<Row>(`select * from ${this.table} where seq >= $1 order by seq limit ${page}`, [expect])).rows;
      for (const r of rows) {
        const e = toEntry(r);
        if (e.seq !== expect) return { ok: false, entries: n, seq: expect, problem: `entry ${expect} is missing (the next is ${e.seq})` };
        if (e.prevHash !== prev) return { ok: false, entries: n, seq: e.seq, problem: `entry ${e.seq} does not follow entry ${e.seq - 1} (its previous hash differs)` };
        if (digest(prev, { ...e, data: r.data }) !== e.hash) return { ok: false, entries: n, seq: e.seq, problem: `entry ${e.seq} was changed (its hash does not match its content)` };
        prev = e.hash;
        expect++;
        n++;
      }
      if (rows.length < page) break;
    }
    const head = (await this.db.query<{ seq: number | string; hash: string }>(`select seq, hash from ${this.#head} where id = 1`)).rows[0];
    if (head !== undefined && (Number(head.seq) !== n || head.hash !== prev)) return { ok: false, entries: n, seq: n + 1, problem: `the log ends at entry ${n} but ${Number(head.seq)} were appended (entries removed from the end, or the head changed)` };
    return { ok: true, entries: n };
  }
}

function toEntry(r: Row): AuditEntry {
  return { seq: Number(r.seq), at: r.at, actor: r.actor, action: r.action, targetTable: r.target_table, targetId: r.target_id, data: r.data === null ? null : (JSON.parse(r.data) as Record<string, unknown>), prevHash: r.prev_hash.trim(), hash: r.hash.trim() };
}

/**
 * The audit log over `db` (see {@link AuditLog}).
 *
 * @example
 * ```ts
 * const audit = createAuditLog(db);
 * const verdict = await audit.verify(); // the hash chain, checked
 * ```
 */
export function createAuditLog(db: Queryable, options: AuditLogOptions = {}): AuditLog {
  return new AuditLog(db, options);
}
