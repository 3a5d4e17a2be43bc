/**
 * An audit log: who did what to which record, append-only, tamper-evident.
 *
 * - Entries go in one table, numbered without gaps (`seq`), each carrying the SHA-256 of the previous
 *   entry and of itself (a hash chain): changing, removing or inserting an entry anywhere breaks the chain
 *   from there on, and `verify()` names the first entry that does not fit. A one-row head table holds the
 *   last number and hash; taking it (an UPDATE) is the lock that orders concurrent appends, on every
 *   database (PostgreSQL, PGlite, SQLite, MySQL/MariaDB).
 * - The table refuses UPDATE and DELETE (a trigger), so tampering needs the trigger dropped first — and
 *   still shows in `verify()`.
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

interface Row {
  seq: number | string;
  at: string;
  actor: string | null;
  action: string;
  target_table: string | null;
  target_id: string | null;
  data: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditLogOptions {
  /** Default `audit_log` (and `<table>_head`). */
  table?: string;
  /** Names whose values are stored as `[redacted]`. Default: password, secret, token, hash, key, ... */
  redact?: RegExp;
}

/** The log over `db` (see the module comment). */
export class AuditLog implements AuditSink {
  readonly db: Queryable & { kind?: string; exec?(text: string): Promise<void> };
  readonly table: string;
  readonly #head: string;
  readonly #redact: RegExp;
  /** The request's scope, asked when an entry is appended (the actor may be known only after auth). */
  readonly #scope = new AsyncLocalStorage<() => AuditScope>();

  constructor(db: Queryable, options: AuditLogOptions = {}) {
    this.db = db;
    this.table = options.table ?? 'audit_log';
    if (!/^[a-z_][a-z0-9_]*$/.test(this.table)) throw new Error(`audit table name ${JSON.stringify(this.table)}: lowercase letters, digits and _`);
    this.#head = `${this.table}_head`;
    this.#redact = options.redact ?? SECRET_NAMES;
  }

  /** Creates the tables, the head row and the append-only triggers if they are missing. */
  async migrate(): Promise<void> {
    const t = this.table;
    const kind = this.db.kind;
    const run = async (sql: string): Promise<void> => void (await this.db.query(sql));
    await run(`create table if not exists ${t} (seq bigint primary key, at varchar(32) not null, actor varchar(255), action varchar(255) not null, target_table varchar(255), target_id varchar(255), data text, prev_hash char(64) not null, hash char(64) not null)`);
    await run(`create table if not exists ${this.#head} (id integer primary key, seq bigint not null, hash char(64) not null)`);
    if ((await this.db.query(`select 1 from ${this.#head} where id = 1`)).rows.length === 0) await this.db.query(`insert into ${this.#head} (id, seq, hash) values (1, 0, $1)`, [GENESIS]);
    const msg = `${t} is append-only`;
    if (kind === 'postgres' || kind === 'pglite') {
      await run(`create or replace function ${t}_append_only() returns trigger language plpgsql as $$ begin raise exception '${msg}'; end $$`);
      await run(`drop trigger if exists ${t}_append_only on ${t}`);
      await run(`create trigger ${t}_append_only before update or delete on ${t} for each row execute function ${t}_append_only()`);
    } else if (kind === 'sqlite') {
      for (const op of ['update', 'delete']) await run(`create trigger if not exists ${t}_no_${op} before ${op} on ${t} begin select raise(abort, '${msg}'); end`);
    } else if (kind === 'mysql') {
      for (const op of ['update', 'delete']) {
        await run(`drop trigger if exists ${t}_no_${op}`);
        await run(`create trigger ${t}_no_${op} before ${op} on ${t} for each row signal sqlstate '45000' set message_text = '${msg}'`);
      }
    }
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

  /** Appends one entry (inside `on`, a transaction, when given; else in one of its own). */
  record(event: AuditEvent, on?: Queryable): Promise<AuditEntry> {
    return this.#append([event], on).then((e) => e[0]!);
  }

  /** @internal The ORM's writes: an entry per row, in the write's transaction. */
  async ormWrite(on: Queryable, w: Parameters<AuditSink['ormWrite']>[1]): Promise<void> {
    if (w.rows.length === 0) return;
    await this.#append(
      w.rows.map((r) => ({
        action: `${w.table}.${w.action}`,
        target: { table: w.table, id: w.keys.map((k) => String(r[k])).join(',') },
        data: w.action === 'update' ? { set: w.set } : w.action === 'insert' ? { row: r } : { row: r },
      })),
      on,
    );
  }

  async #append(events: readonly AuditEvent[], on: Queryable | undefined): Promise<AuditEntry[]> {
    const scope = this.#scope.getStore()?.();
    const run = async (q: Queryable): Promise<AuditEntry[]> => {
      // Taking the head row is the lock: concurrent appends queue here until this transaction ends.
      await q.query(`update ${this.#head} set seq = seq + ${events.length} where id = 1`);
      const head = (await q.query<{ seq: number | string; hash: string }>(`select seq, hash from ${this.#head} where id = 1`)).rows[0];
      if (head === undefined) throw new Error(`${this.#head} has no head row: run audit.migrate()`);
      let seq = Number(head.seq) - events.length;
      let prev = head.hash;
      const at = new Date().toISOString();
      const out: AuditEntry[] = [];
      const values: unknown[] = [];
      for (const ev of events) {
        seq++;
        const dataObj = ev.data === undefined && scope?.meta === undefined ? null : (redact({ ...(ev.data ?? {}), ...(scope?.meta === undefined ? {} : { meta: scope.meta }) }, this.#redact) as Record<string, unknown>);
        const e = { seq, at, actor: ev.actor !== undefined ? ev.actor : (scope?.actor ?? null), action: ev.action, targetTable: ev.target?.table ?? null, targetId: ev.target?.id == null ? null : String(ev.target.id), data: dataObj === null ? null : JSON.stringify(dataObj) };
        const hash = digest(prev, e);
        values.push(seq, at, e.actor, e.action, e.targetTable, e.targetId, e.data, prev, hash);
        out.push({ ...e, data: dataObj, prevHash: prev, hash });
        prev = hash;
      }
      // The entries of an append (an ORM write of many rows) in one statement per 1000 (9 parameters each).
      for (let from = 0; from < events.length; from += 1000) {
        const n = Math.min(1000, events.length - from);
        const rows = Array.from({ length: n }, (_, i) => `(${Array.from({ length: 9 }, (__, k) => `$${i * 9 + k + 1}`).join(', ')})`).join(', ');
        await q.query(`insert into ${this.table} (seq, at, actor, action, target_table, target_id, data, prev_hash, hash) values ${rows}`, values.slice(from * 9, (from + n) * 9));
      }
      await q.query(`update ${this.#head} set hash = $1 where id = 1`, [prev]);
      return out;
    };
    return on === undefined ? this.db.transaction(run) : run(on);
  }

  /** Entries matching `q`, newest first. */
  async find(q: AuditQuery = {}): Promise<AuditEntry[]> {
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
    const limit = Math.min(1000, Math.max(1, Math.floor(q.limit ?? 100)));
    const rows = (await this.db.query<Row>(`select * from ${this.table}${where.length > 0 ? ` where ${where.join(' and ')}` : ''} order by seq desc limit ${limit}`, values)).rows;
    return rows.map(toEntry);
  }

  /**
   * Recomputes the chain from the first entry: numbers without gaps, each entry's `prev_hash` the hash
   * before it, each hash its content's, and the head at the last. The first entry that does not fit is
   * named (changed, removed, inserted or reordered entries all show there).
   */
  async verify(): Promise<AuditVerdict> {
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

/** The audit log over `db` (see {@link AuditLog}). */
export function createAuditLog(db: Queryable, options: AuditLogOptions = {}): AuditLog {
  return new AuditLog(db, options);
}
