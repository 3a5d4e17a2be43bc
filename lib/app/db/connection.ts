/**
 * One PostgreSQL session: startup and authentication (trust, cleartext, md5, SCRAM-SHA-256), then
 * queries over the extended protocol with a per-connection prepared-statement cache (LRU), pipelined —
 * every query is written at once and answers are matched in order — with one Sync per query, so a
 * failing query never affects the next. Messages are encoded and decoded by `pg-protocol`.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import { serialize } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser.js';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { observeQuery, queriesObserved } from '../../trace/channels.js';
import { ConnectionError, PgError } from './errors.js';
import { ScramClient } from './scram.js';
import { connectSocket, pgliteTransport, type PGliteLike, type Transport } from './transport.js';
import { encodeParam, typeParsers, type TypeOptions, type TypeParser } from './types.js';
import type { ConnectionConfig } from './url.js';

/** A column of a result. */
export interface FieldInfo {
  name: string;
  /** Type OID. */
  dataTypeID: number;
}

/** What a query returns. */
export interface QueryResult<R = Record<string, unknown>> {
  rows: R[];
  /** Rows affected or returned, from the command tag (`INSERT 0 3` → 3). */
  rowCount: number;
  /** The command tag's verb: `SELECT`, `INSERT`, ... */
  command: string;
  fields: FieldInfo[];
  /** MySQL/MariaDB: the first AUTO_INCREMENT value an INSERT generated (as a decimal string). */
  insertId?: string;
}

export interface QueryOptions {
  /** Cancels the query on the server when aborted (the query rejects with SQLSTATE 57014). */
  signal?: AbortSignal;
  /** Skip the prepared-statement cache (a one-off statement). */
  prepare?: boolean;
  /**
   * Longest wait for a pooled connection, overriding the pool's `acquireTimeoutMs` (background work, such
   * as the jobs queue, waits longer than a request should).
   */
  acquireTimeoutMs?: number;
}

export interface ConnectionOptions extends TypeOptions {
  /** Most prepared statements kept per connection (least recently used are closed). Default 256. */
  maxStatements?: number;
  /** Milliseconds to connect and authenticate. Default 10 000. */
  connectTimeoutMs?: number;
  /** Server-side `statement_timeout` in ms (0 = none). */
  statementTimeoutMs?: number;
  /** Called for each NOTIFY on a channel this session listens to. */
  onNotification?: (channel: string, payload: string, pid: number) => void;
}

const noop = (): void => {};

type RowBuilder = (values: Array<string | null>, parsers: TypeParser[]) => Record<string, unknown>;

/** Row builders of prepared statements, by their column-name array (built once per statement). */
const builders = new WeakMap<string[], RowBuilder | null>();

/**
 * A function making a statement's rows as object literals with the columns in order: every row of a
 * statement gets the same shape at once (no per-column property additions).
 */
function rowBuilder(names: readonly string[]): RowBuilder | null {
  // `__proto__` as a literal key would set the prototype: such rows take the generic path.
  if (names.includes('__proto__')) return null;
  const props = names.map((n, i) => `${JSON.stringify(n)}: v[${i}] === null ? null : p[${i}](v[${i}])`);
  return new Function('v', 'p', `return { ${props.join(', ')} };`) as RowBuilder;
}

interface Statement {
  name: string;
  /** Parameter type OIDs from the Describe answer. */
  paramTypes: number[];
  /** Settles when the Describe answer arrived (null once it has). */
  ready: Promise<void> | null;
  /** Use stamp for LRU eviction. */
  used: number;
  /** Column names and parsers, known once the Describe answer arrived. */
  names: string[] | null;
  parsers: TypeParser[] | null;
  fields: FieldInfo[] | null;
}

interface Op {
  text: string;
  stmt: Statement | null;
  /** This op's Parse created `stmt` (if the Parse fails, it leaves the cache). */
  prepares: boolean;
  simple: boolean;
  names: string[] | null;
  parsers: TypeParser[] | null;
  fields: FieldInfo[];
  rows: unknown[];
  command: string;
  rowCount: number;
  results: QueryResult[] | null;
  error: Error | null;
  resolve: (r: unknown) => void;
  reject: (e: unknown) => void;
  /** Row callback instead of collecting (streaming reads). */
  onRow: ((row: unknown) => void) | null;
  /** COPY: CopyInResponse / CopyOutResponse / CopyData handlers. */
  copy: CopyHandlers | null;
}

interface CopyHandlers {
  onStart(): void;
  onData(chunk: Buffer): void;
}

type Wait = { resolve: () => void; reject: (e: Error) => void };

/**
 * One PostgreSQL session (see the module comment); most apps use {@link createDb}'s pool instead.
 *
 * @example
 * ```ts
 * const conn = await PgConnection.connect(parseConnectionString('postgres://postgres@127.0.0.1/app'));
 * const { rows } = await conn.query('select $1::int + 1 as n', [41]); // [{ n: 42 }]
 * await conn.close();
 * ```
 */
export class PgConnection {
  readonly #transport: Transport;
  readonly #parser = new Parser();
  readonly #onMessage = (msg: BackendMessage): void => this.#dispatch(msg);
  readonly #ops: Op[] = [];
  #head = 0;
  readonly #statements = new Map<string, Statement>();
  #lastOp: Op | null = null;
  #useClock = 0;
  #drainWaiters: Array<() => void> = [];
  /** Set while executions wait for a Describe; later executions chain behind it. */
  #gate: Promise<void> | null = null;
  readonly #maxStatements: number;
  #nextStatement = 0;
  readonly #parserFor: (oid: number) => TypeParser;
  #startup: Wait | null = null;
  #scram: ScramClient | null = null;
  readonly #config: ConnectionConfig | null;
  #closedError: Error | null = null;
  #closeWaiters: Array<() => void> = [];
  /** Server process id and cancel key (for CancelRequest). */
  processId = 0;
  secretKey = 0;
  /** `I` idle, `T` in a transaction, `E` in a failed transaction. */
  txStatus = 'I';
  readonly parameters: Record<string, string> = {};
  onNotification: ConnectionOptions['onNotification'];
  /** Called once when the connection is gone. */
  onClose: ((error: Error | undefined) => void) | null = null;
  /** Called after each query settles (the pool uses it to hand freed capacity to waiters). */
  onSettle: (() => void) | null = null;

  private constructor(transportFactory: (c: PgConnection) => Transport, config: ConnectionConfig | null, options: ConnectionOptions) {
    this.#config = config;
    this.#maxStatements = options.maxStatements ?? 256;
    this.#parserFor = typeParsers(options);
    this.onNotification = options.onNotification;
    this.#transport = transportFactory(this);
  }

  /**
   * Connects and authenticates.
   *
   * @example
   * ```ts
   * const c = await PgConnection.connect(parseConnectionString('postgres://postgres@127.0.0.1/postgres'));
   * const { rows } = await c.query('select $1::int + 1 as n', [41]); // [{ n: 42 }]
   * ```
   */
  static async connect(config: ConnectionConfig, options: ConnectionOptions = {}): Promise<PgConnection> {
    let conn!: PgConnection;
    const sink = { onData: (b: Buffer) => conn._data(b), onClose: (e: Error | undefined) => conn._closed(e), onDrain: () => conn._drained() };
    const transport = await connectSocket(config, sink, options.connectTimeoutMs);
    conn = new PgConnection(() => transport, config, options);
    const params: Record<string, string> = {
      user: config.user,
      database: config.database,
      client_encoding: 'UTF8',
      DateStyle: 'ISO, MDY',
      ...config.params,
    };
    if (options.statementTimeoutMs !== undefined) params.options = `${params.options ?? ''} -c statement_timeout=${options.statementTimeoutMs}`.trim();
    await new Promise<void>((resolve, reject) => {
      conn.#startup = { resolve, reject };
      const timer = setTimeout(() => {
        reject(new ConnectionError(`PostgreSQL did not complete the startup within ${options.connectTimeoutMs ?? 10_000} ms`));
        conn.close();
      }, options.connectTimeoutMs ?? 10_000);
      conn.#startup = { resolve: () => (clearTimeout(timer), resolve()), reject: (e) => (clearTimeout(timer), reject(e)) };
      transport.write(serialize.startup(params));
    });
    return conn;
  }

  /** A session on a PGlite instance (embedded PostgreSQL). */
  static pglite(db: PGliteLike, options: ConnectionOptions = {}): PgConnection {
    let conn!: PgConnection;
    conn = new PgConnection((c) => pgliteTransport(db, { onData: (b) => c._data(b), onClose: (e) => c._closed(e) }), null, options);
    return conn;
  }

  /**
   * Queries written and not yet answered, and those waiting to be written behind a statement's Describe.
   * The waiting ones count: a pool must not reserve this session for a transaction (BEGIN written) while
   * an autocommit execution is about to be written after it — it would run inside that transaction.
   */
  get inFlight(): number {
    return this.#ops.length - this.#head + this.#unwritten;
  }

  /** Executions waiting for a statement's Describe (or an earlier one's), not yet written. */
  #unwritten = 0;

  get closed(): boolean {
    return this.#closedError !== null;
  }

  /**
   * Runs one statement with `$1...` parameters over the extended protocol (prepared and cached unless
   * `prepare: false`). Values are sent as parameters, never spliced into the text.
   */
  query<R = Record<string, unknown>>(text: string, values: readonly unknown[] = [], options: QueryOptions = {}): Promise<QueryResult<R>> {
    if (queriesObserved()) return this.#traced(text, () => this.#extended(text, values, options, null) as Promise<QueryResult<unknown>>) as Promise<QueryResult<R>>;
    return this.#extended(text, values, options, null) as Promise<QueryResult<R>>;
  }

  /** Like `query`, calling `onRow` for each row as it arrives instead of collecting them. */
  each(text: string, values: readonly unknown[], onRow: (row: Record<string, unknown>) => void, options: QueryOptions = {}): Promise<QueryResult<never>> {
    if (queriesObserved()) return this.#traced(text, () => this.#extended(text, values, options, onRow as (row: unknown) => void) as Promise<QueryResult<unknown>>) as Promise<QueryResult<never>>;
    return this.#extended(text, values, options, onRow as (row: unknown) => void) as Promise<QueryResult<never>>;
  }

  /** One statement told to the query channels (see trace/channels.ts; tracing listens there). */
  #traced(text: string, exec: () => Promise<QueryResult<unknown>>): Promise<QueryResult<unknown>> {
    const c = this.#config;
    return observeQuery('postgresql', text, exec, c === null ? undefined : { namespace: c.database, host: c.socketDir ?? c.host, port: c.port });
  }

  #extended(text: string, values: readonly unknown[], options: QueryOptions, onRow: Op['onRow']): Promise<unknown> {
    if (this.#closedError !== null) return Promise.reject(this.#closedError);
    const t = this.#transport;
    if (options.prepare === false) {
      t.write(serialize.parse({ text, name: '' }));
      t.write(serialize.bind({ values: values.map((v) => encodeParam(v)) }));
      t.write(serialize.describe({ type: 'P' }));
      t.write(serialize.execute({}));
      t.write(serialize.sync());
      return this.#enqueue(text, null, false, false, onRow, options.signal);
    }
    let stmt = this.#statements.get(text);
    if (stmt !== undefined) {
      stmt.used = ++this.#useClock; // LRU by use stamp: no map re-insertion on the hot path
      if (this.#gate === null) return this.#execute(text, stmt, values, options, onRow);
    } else {
      stmt = this.#prepare(text);
    }
    // Executions wait for a Describe: later ones queue behind, so the server sees them in call order.
    const s = stmt;
    this.#unwritten++;
    const run = (this.#gate ?? Promise.resolve()).then(() => s.ready).then(
      () => {
        this.#unwritten--;
        return this.#execute(text, s, values, options, onRow);
      },
      (err: unknown) => {
        this.#unwritten--;
        this.onSettle?.(); // no longer waiting: room for someone else
        throw err;
      },
    );
    const gate = run.then(noop, noop);
    this.#gate = gate;
    void gate.then(() => {
      if (this.#gate === gate) this.#gate = null;
    });
    return run;
  }

  /**
   * Parse + Describe + Sync for a new statement: its parameter types (so values are encoded for them —
   * JSON for json columns, arrays as array literals) and its columns, once; then only Bind/Execute.
   */
  #prepare(text: string): Statement {
    const t = this.#transport;
    const stmt: Statement = { name: `c${this.#nextStatement++}`, names: null, parsers: null, fields: null, paramTypes: [], ready: null, used: ++this.#useClock };
    if (this.#statements.size >= this.#maxStatements) {
      // Evict the least recently used (a scan, only when the cache is full and a new statement comes).
      let oldText = '';
      let old: Statement | null = null;
      for (const [k, v] of this.#statements) {
        if (old === null || v.used < old.used) {
          old = v;
          oldText = k;
        }
      }
      this.#statements.delete(oldText);
      t.write(serialize.close({ type: 'S', name: old!.name }));
    }
    this.#statements.set(text, stmt);
    t.write(serialize.parse({ text, name: stmt.name }));
    t.write(serialize.describe({ type: 'S', name: stmt.name }));
    t.write(serialize.sync());
    stmt.ready = this.#enqueue(text, stmt, true, false, null, undefined).then(
      () => {
        stmt.ready = null;
      },
      (err: unknown) => {
        if (this.#statements.get(text) === stmt) this.#statements.delete(text);
        throw err;
      },
    );
    return stmt;
  }

  #execute(text: string, stmt: Statement, values: readonly unknown[], options: QueryOptions, onRow: Op['onRow']): Promise<unknown> {
    if (this.#closedError !== null) return Promise.reject(this.#closedError);
    const t = this.#transport;
    const types = stmt.paramTypes;
    const params = new Array<string | Buffer | null>(values.length);
    for (let i = 0; i < values.length; i++) params[i] = encodeParam(values[i], types[i]);
    t.write(serialize.bind({ statement: stmt.name, values: params }));
    t.write(serialize.execute({}));
    t.write(serialize.sync());
    return this.#enqueue(text, stmt, false, false, onRow, options.signal);
  }

  /**
   * Runs SQL over the simple protocol: several statements separated by `;`, no parameters (migrations,
   * `BEGIN`/`COMMIT`). Resolves with one result per statement.
   */
  simple(text: string): Promise<QueryResult[]> {
    if (this.#closedError !== null) return Promise.reject(this.#closedError);
    this.#transport.write(serialize.query(text));
    return this.#enqueue(text, null, false, true, null, undefined) as Promise<QueryResult[]>;
  }

  #enqueue(text: string, stmt: Statement | null, prepares: boolean, simple: boolean, onRow: Op['onRow'], signal: AbortSignal | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const op: Op = { text, stmt, prepares, simple, names: null, parsers: null, fields: [], rows: [], command: '', rowCount: 0, results: simple ? [] : null, error: null, resolve, reject, onRow, copy: null };
      this.#lastOp = op;
      this.#ops.push(op);
      if (signal !== undefined) {
        if (signal.aborted) void this.cancel();
        else {
          const onAbort = (): void => void this.cancel();
          signal.addEventListener('abort', onAbort, { once: true });
          const done = (): void => signal.removeEventListener('abort', onAbort);
          op.resolve = (r) => (done(), resolve(r));
          op.reject = (e) => (done(), reject(e));
        }
      }
    });
  }

  /**
   * Asks the server to cancel the statement running on this session (CancelRequest on a new socket,
   * protocol §55.2.8). The query then fails with SQLSTATE 57014.
   */
  async cancel(): Promise<void> {
    const c = this.#config;
    if (c === null || this.processId === 0) return;
    const msg = serialize.cancel(this.processId, this.secretKey);
    await new Promise<void>((resolve) => {
      const s = c.socketDir !== undefined ? net.connect(`${c.socketDir}/.s.PGSQL.${c.port}`) : net.connect(c.port, c.host);
      s.once('connect', () => s.end(msg));
      s.once('close', () => resolve());
      s.once('error', () => resolve());
    });
  }

  /** Sends Terminate and closes. In-flight queries fail with a ConnectionError. */
  close(): Promise<void> {
    if (this.#closedError !== null) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    this.#transport.write(serialize.end());
    this.#transport.close();
    return done;
  }

  /**
   * `COPY ... FROM STDIN` as a Writable: what is written goes to the table (backpressure from the
   * socket); `end()` completes the COPY, and `'finish'` fires once the server confirmed it.
   * Use on a session of your own (`pool.reserve()`), not one shared with other queries.
   */
  copyFrom(text: string): Writable {
    const t = this.#transport;
    if (!t.streaming) {
      // PGlite: gather the data, then send the whole COPY in one batch.
      const parts: Buffer[] = [];
      return new Writable({
        write: (chunk: Buffer, _enc, cb) => {
          parts.push(serialize.copyData(chunk));
          cb();
        },
        final: (cb) => {
          const done = this.simple(text);
          for (const p of parts) t.write(p);
          t.write(serialize.copyDone());
          done.then(() => cb(), cb);
        },
      });
    }
    let started: (() => void) | null = null;
    const ready = new Promise<void>((r) => (started = r));
    const done = this.simple(text);
    const op = this.#lastOp!;
    op.copy = { onStart: () => started!(), onData: () => {} };
    done.catch(() => {}); // surfaced through the stream
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        Promise.race([ready, done]).then(() => {
          if (op.error !== null || this.closed) return cb(op.error ?? this.#closedError);
          if (t.write(serialize.copyData(chunk))) cb();
          else this.#drainWaiters.push(() => cb());
        }, cb);
      },
      final: (cb) => {
        Promise.race([ready, done]).then(() => {
          if (op.error === null) t.write(serialize.copyDone());
          done.then(() => cb(), cb);
        }, cb);
      },
      destroy: (err, cb) => {
        // Abandoned: fail the COPY so the session is left usable.
        if (err !== null && op.error === null && !this.closed) void ready.then(() => t.write(serialize.copyFail(err.message)));
        cb(err);
      },
    });
  }

  /**
   * `COPY ... TO STDOUT` as a Readable of the rows' bytes, read from the socket only as fast as it is
   * consumed. Use on a session of your own (`pool.reserve()`).
   */
  copyTo(text: string): Readable {
    const t = this.#transport;
    const out = new Readable({ read: () => t.resume() });
    const done = this.simple(text);
    this.#lastOp!.copy = {
      onStart: () => {},
      onData: (chunk) => {
        if (!out.push(chunk)) t.pause();
      },
    };
    // The rest of a paused chunk may already hold the end: reading must not stay paused after it.
    done.then(
      () => (t.resume(), out.push(null)),
      (err: Error) => (t.resume(), out.destroy(err)),
    );
    return out;
  }

  // ---- from the transport ---------------------------------------------------------------------------

  /** @internal */
  _drained(): void {
    const w = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const fn of w) fn();
  }

  /** @internal */
  _data(chunk: Buffer): void {
    this.#parser.parse(chunk, this.#onMessage);
  }

  /** @internal */
  _closed(error: Error | undefined): void {
    if (this.#closedError !== null) return;
    const err = new ConnectionError(`the database connection closed${error !== undefined ? `: ${error.message}` : ''}`, { cause: error });
    this.#closedError = err;
    this.#startup?.reject(err);
    this.#startup = null;
    for (let i = this.#head; i < this.#ops.length; i++) this.#ops[i]!.reject(this.#ops[i]!.error ?? err);
    this.#ops.length = 0;
    this.#head = 0;
    for (const w of this.#closeWaiters) w();
    this.#closeWaiters = [];
    this.onClose?.(error);
  }

  // ---- protocol -------------------------------------------------------------------------------------

  #dispatch(msg: BackendMessage): void {
    const op = this.#head < this.#ops.length ? this.#ops[this.#head]! : null;
    switch (msg.name) {
      case 'dataRow': {
        if (op === null) return;
        if (op.parsers === null) this.#useStatementColumns(op);
        const values = (msg as unknown as { fields: Array<string | null> }).fields;
        const names = op.names!;
        const parsers = op.parsers!;
        let build = builders.get(names);
        if (build === undefined && op.stmt !== null && values.length === names.length) builders.set(names, (build = rowBuilder(names)));
        let row: Record<string, unknown>;
        if (build !== undefined && build !== null) row = build(values, parsers);
        else {
          row = {};
          for (let i = 0; i < values.length; i++) {
            const v = values[i]!;
            const value = v === null ? null : parsers[i]!(v);
            // A column named __proto__ is data, not the prototype.
            if (names[i] === '__proto__') Object.defineProperty(row, '__proto__', { value, enumerable: true, writable: true, configurable: true });
            else row[names[i]!] = value;
          }
        }
        if (op.onRow !== null) op.onRow(row);
        else op.rows.push(row);
        return;
      }
      case 'rowDescription': {
        if (op === null) return;
        const fields = (msg as unknown as { fields: Array<{ name: string; dataTypeID: number }> }).fields;
        op.fields = fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
        op.names = fields.map((f) => f.name);
        op.parsers = fields.map((f) => this.#parserFor(f.dataTypeID));
        if (op.prepares && op.stmt !== null) {
          op.stmt.names = op.names;
          op.stmt.parsers = op.parsers;
          op.stmt.fields = op.fields;
        }
        return;
      }
      case 'noData':
        if (op?.prepares === true && op.stmt !== null) {
          op.stmt.names = [];
          op.stmt.parsers = [];
          op.stmt.fields = [];
        }
        return;
      case 'commandComplete': {
        if (op === null) return;
        if (op.parsers === null && !op.simple) this.#useStatementColumns(op);
        const tag = (msg as unknown as { text: string }).text;
        const sp = tag.lastIndexOf(' ');
        const n = sp === -1 ? NaN : Number(tag.slice(sp + 1));
        op.command = tag.slice(0, tag.indexOf(' ') === -1 ? tag.length : tag.indexOf(' '));
        op.rowCount = Number.isNaN(n) ? 0 : n;
        if (op.simple) {
          op.results!.push({ rows: op.rows as Record<string, unknown>[], rowCount: op.rowCount, command: op.command, fields: op.fields });
          op.rows = [];
          op.fields = [];
          op.names = null;
          op.parsers = null;
        }
        return;
      }
      case 'readyForQuery': {
        this.txStatus = (msg as unknown as { status: string }).status;
        if (this.#startup !== null) {
          const s = this.#startup;
          this.#startup = null;
          s.resolve();
          return;
        }
        if (op === null) return;
        this.#ops[this.#head++] = undefined as unknown as Op;
        if (this.#head > 1024 && this.#head * 2 > this.#ops.length) {
          this.#ops.splice(0, this.#head);
          this.#head = 0;
        }
        if (op.error !== null) op.reject(op.error);
        else if (op.simple) op.resolve(op.results);
        else op.resolve({ rows: op.rows, rowCount: op.rowCount, command: op.command, fields: op.fields });
        this.onSettle?.();
        return;
      }
      case 'error': {
        const err = new PgError(msg as unknown as Record<string, string | undefined>, op?.text);
        if (this.#startup !== null) {
          this.#startup.reject(err);
          this.#startup = null;
          this.#transport.close();
          return;
        }
        if (op === null) return; // a FATAL outside any query (admin shutdown): the socket closes next
        op.error ??= err;
        return;
      }
      case 'notification': {
        const n = msg as unknown as { channel: string; payload: string; processId: number };
        this.onNotification?.(n.channel, n.payload, n.processId);
        return;
      }
      case 'parameterStatus': {
        const p = msg as unknown as { parameterName: string; parameterValue: string };
        this.parameters[p.parameterName] = p.parameterValue;
        return;
      }
      case 'backendKeyData': {
        const k = msg as unknown as { processID: number; secretKey: number };
        this.processId = k.processID;
        this.secretKey = k.secretKey;
        return;
      }
      case 'copyInResponse':
      case 'copyOutResponse':
        op?.copy?.onStart();
        return;
      case 'copyData':
        op?.copy?.onData(Buffer.from((msg as unknown as { chunk: Buffer }).chunk));
        return;
      case 'parameterDescription':
        if (op?.prepares === true && op.stmt !== null) op.stmt.paramTypes = (msg as unknown as { dataTypeIDs: number[] }).dataTypeIDs;
        return;
      case 'authenticationOk':
        return;
      case 'authenticationCleartextPassword':
        this.#transport.write(serialize.password(this.#password()));
        return;
      case 'authenticationMD5Password': {
        // md5(md5(password + user) + salt), hex, prefixed "md5" (protocol §55.2.2).
        const salt = (msg as unknown as { salt: Buffer }).salt;
        const inner = createHash('md5').update(this.#password() + this.#config!.user).digest('hex');
        const outer = createHash('md5').update(Buffer.concat([Buffer.from(inner), salt])).digest('hex');
        this.#transport.write(serialize.password(`md5${outer}`));
        return;
      }
      case 'authenticationSASL': {
        const mechanisms = (msg as unknown as { mechanisms: string[] }).mechanisms;
        if (!mechanisms.includes('SCRAM-SHA-256')) return this.#failStartup(`the server offers no supported SASL mechanism (${mechanisms.join(', ')})`);
        this.#scram = new ScramClient(this.#password());
        this.#transport.write(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', this.#scram.first()));
        return;
      }
      case 'authenticationSASLContinue':
        try {
          this.#transport.write(serialize.sendSCRAMClientFinalMessage(this.#scram!.final((msg as unknown as { data: string }).data)));
        } catch (err) {
          this.#failStartup((err as Error).message);
        }
        return;
      case 'authenticationSASLFinal':
        try {
          this.#scram!.verify((msg as unknown as { data: string }).data);
        } catch (err) {
          this.#failStartup((err as Error).message);
        }
        return;
      default:
        // parseComplete, bindComplete, closeComplete, emptyQuery, notice, portalSuspended
        return;
    }
  }

  /** Rows of a cached statement carry no RowDescription: its Describe answer (earlier in the pipeline) did. */
  #useStatementColumns(op: Op): void {
    const s = op.stmt;
    op.names = s?.names ?? [];
    op.parsers = s?.parsers ?? [];
    op.fields = s?.fields ?? [];
  }

  #password(): string {
    const p = this.#config?.password;
    if (p === undefined) {
      this.#failStartup('the server asks for a password and none was given');
      return '';
    }
    return p;
  }

  #failStartup(message: string): void {
    this.#startup?.reject(new ConnectionError(message));
    this.#startup = null;
    this.#transport.close();
  }
}
