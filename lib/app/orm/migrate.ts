/**
 * Migrations: versioned files with an up and a down part, applied in order inside transactions, recorded
 * in a table, under a lock so two app instances starting together never migrate at once (PostgreSQL:
 * an advisory lock; SQLite: the write lock, the whole run in one transaction, each migration a savepoint). And a generator that diffs the declared tables against the live schema to draft the next one.
 *
 * A migration file is `<version>_<name>.sql` with `-- up` and `-- down` sections, or a `.js`/`.mjs`
 * module exporting `up(db)` and `down(db)`. Versions sort as strings (use a timestamp or zero padding).
 */
import { readdir, readFile, writeFile, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inTransaction, Transaction, type Queryable } from '../db/db.js';
import type { Database } from '../db/open-database.js';
import type { ColumnSpec } from './columns.js';
import { addForeignKeySql, columnDdl, createTableSql, foreignKeyName, indexDdl, indexName, table, type Table } from './table.js';
import { now, text, timestamptz, varchar } from './columns.js';
import { dialectByName, dialectOf, mysqlCanonical, type Dialect, type DialectName } from './dialect.js';
import { splitStatements } from '../db/statements.js';
import { quoteIdent } from '../db/sql.js';

export interface Migration {
  version: string;
  name: string;
  up: string | ((db: Queryable) => Promise<void>);
  down: string | ((db: Queryable) => Promise<void>);
  /** The file it was read from (for messages). */
  file?: string;
  /** The database it was written for (`-- covet:dialect sqlite`, first line of a generated file). */
  dialect?: DialectName;
  /** For a SQL file: the line before each section's first (its marker and blank lines), for messages. */
  lines?: { up: number; down: number };
}

/**
 * A migration that cannot run here — written for another database — or a statement of one that failed:
 * the file, the statement's number and line, and the database's words.
 *
 * @example
 * ```ts
 * try {
 *   await new Migrator(db, './migrations').up();
 * } catch (err) {
 *   if (err instanceof MigrationError) console.error(`${err.file}, statement ${err.statement} (line ${err.line}): ${err.message}`);
 * }
 * ```
 */
export class MigrationError extends Error {
  readonly file: string | undefined;
  /** 1-based number of the failing statement in its section, and its first line in the file. */
  readonly statement: number | undefined;
  readonly line: number | undefined;
  constructor(message: string, where: { file?: string; statement?: number; line?: number } = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
    this.file = where.file;
    this.statement = where.statement;
    this.line = where.line;
  }
}

const DIALECT_LINE = /^--\s*covet:dialect\s+(\w+)\s*$/m;
const DIALECTS: readonly DialectName[] = ['postgres', 'sqlite', 'mysql'];

/**
 * The folder a database's migrations are read from: `<dir>/<dialect>/` when it exists (DDL differs
 * between databases), else `<dir>`. The runner and the generator both ask here.
 *
 * @example
 * ```ts
 * await migrationsFolder('migrations', 'sqlite'); // 'migrations/sqlite' when that folder exists, else 'migrations'
 * ```
 */
export async function migrationsFolder(dir: string, dialect: DialectName): Promise<string> {
  const own = join(dir, dialect);
  return (await stat(own).catch(() => null))?.isDirectory() === true ? own : dir;
}

export interface MigrationStatus {
  version: string;
  name: string;
  appliedAt: Date | null;
}

const FILE = /^(\d+)[_-](.+)\.(sql|js|mjs)$/;

/**
 * Reads the migrations in `dir`, sorted by version.
 *
 * @example
 * ```ts
 * for (const m of await loadMigrations('migrations')) console.log(m.version, m.name);
 * ```
 */
export async function loadMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => FILE.test(f)).sort();
  const out: Migration[] = [];
  for (const f of files) {
    const [, version, name, ext] = FILE.exec(f)!;
    if (ext === 'sql') {
      const text = await readFile(join(dir, f), 'utf8');
      const m = /^--\s*up\s*$([\s\S]*?)(?:^--\s*down\s*$([\s\S]*))?$(?![\s\S])/im.exec(text);
      if (m === null) throw new Error(`${f}: expected a "-- up" section (and optionally "-- down")`);
      const d = DIALECT_LINE.exec(text.slice(0, m.index))?.[1]?.toLowerCase();
      if (d !== undefined && !DIALECTS.includes(d as DialectName)) throw new Error(`${f}: "-- covet:dialect ${d}" names no database covet speaks (postgres, sqlite, mysql)`);
      const lines = { up: sectionStart(text, m.index + m[0].indexOf(m[1]!)), down: m[2] === undefined ? 0 : sectionStart(text, m.index + m[0].lastIndexOf(m[2])) };
      out.push({ version: version!, name: name!, up: m[1]!.trim(), down: (m[2] ?? '').trim(), file: join(dir, f), lines, ...(d === undefined ? {} : { dialect: d as DialectName }) });
    } else {
      const mod = (await import(pathToFileURL(resolve(dir, f)).href)) as { up?: Migration['up']; down?: Migration['down'] };
      if (typeof mod.up !== 'function') throw new Error(`${f}: no up() export`);
      out.push({ version: version!, name: name!, up: mod.up, down: mod.down ?? '', file: join(dir, f) });
    }
  }
  const seen = new Set<string>();
  for (const m of out) {
    if (seen.has(m.version)) throw new Error(`two migrations with version ${m.version}`);
    seen.add(m.version);
  }
  return out;
}

/** Key of the advisory lock (any constant; this one spells "covetmig"). */
const LOCK_KEY = 0x636f7665746d6967n;

/** One locked session of the migrator: queries, scripts, and a transaction per migration. */
interface MigrationSession {
  q: Queryable;
  dialect: DialectName;
  exec(text: string): Promise<void>;
  inTransaction<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * Applies, undoes and lists a database's migrations (a folder, or a list of them), under the lock the module
 * comment describes.
 *
 * @example
 * ```ts
 * const m = new Migrator(db, './migrations');
 * await m.up();                 // apply what is pending
 * console.table(await m.status());
 * await m.down();               // undo the last one
 * ```
 */
export class Migrator {
  readonly #db: Database;
  readonly #source: string | Migration[];
  readonly #table: string;
  /** Progress messages (default: none). */
  log: (msg: string) => void = () => {};

  constructor(db: Database, source: string | Migration[], options: { table?: string } = {}) {
    this.#db = db;
    this.#source = source;
    this.#table = options.table ?? 'covet_migrations';
  }

  /** The folder migrations are read from for this database ({@link migrationsFolder}); null for a list. */
  async folder(): Promise<string | null> {
    return typeof this.#source === 'string' ? migrationsFolder(this.#source, dialectOf(this.#db).name) : null;
  }

  /**
   * The migrations: a folder's, or — when it has a subfolder named for this database's dialect
   * (`migrations/sqlite/`) — that subfolder's. One written for another database is refused before any runs.
   */
  async #migrations(): Promise<Migration[]> {
    const all = typeof this.#source !== 'string' ? [...this.#source].sort((a, b) => (a.version < b.version ? -1 : 1)) : await loadMigrations((await this.folder())!);
    const here = dialectOf(this.#db).name;
    const foreign = all.find((m) => m.dialect !== undefined && m.dialect !== here);
    if (foreign !== undefined) {
      const file = foreign.file ?? `${foreign.version}_${foreign.name}`;
      const top = typeof this.#source === 'string' ? this.#source : 'migrations';
      throw new MigrationError(
        `${file} was generated for ${foreign.dialect}, and this database is ${here}: its SQL would not run here. ` +
          `Generate this database's own migrations (covet migrate generate <name> with DATABASE_URL set to it: they go to ${join(top, here)}/), ` +
          `or move the ${foreign.dialect} ones to ${join(top, foreign.dialect!)}/.`,
        { file },
      );
    }
    return all;
  }

  /** Runs `fn` on one session holding the migration lock. */
  async #locked<T>(fn: (s: MigrationSession) => Promise<T>): Promise<T> {
    const db = this.#db;
    // The record of applied migrations, declared once and written in each database's DDL.
    const record = table(this.#table, { version: varchar(255).primaryKey(), name: text().notNull(), appliedAt: timestamptz().notNull().default(now()) });
    const ddl = createTableSql(record, undefined, dialectOf(db)).replace(/^create table/, 'create table if not exists');
    if (db.kind === 'sqlite' || db.kind === 'mysql') {
      // The database's own lock: SQLite's write lock for the whole run, MySQL's GET_LOCK. (MySQL commits
      // DDL as it goes: there a migration's transaction covers its data changes and its record.)
      return db.withLock(async (s) => {
        await s.exec(ddl);
        return fn({ q: s, dialect: dialectOf(db).name, exec: (t) => s.exec(t), inTransaction: (f) => s.transaction(() => f()) });
      });
    }
    const r = await db.pool.reserve();
    try {
      await r.conn.query('select pg_advisory_lock($1)', [LOCK_KEY.toString()], { prepare: false });
      try {
        await r.conn.simple(ddl);
        const conn = r.conn;
        return await fn({ q: new Transaction(conn, 1), dialect: 'postgres', exec: async (t) => void (await conn.simple(t)), inTransaction: (f) => inTransaction(conn, f) });
      } finally {
        await r.conn.query('select pg_advisory_unlock($1)', [LOCK_KEY.toString()], { prepare: false });
      }
    } finally {
      r.release();
    }
  }

  async status(): Promise<MigrationStatus[]> {
    const all = await this.#migrations();
    return this.#locked(async ({ q }) => {
      const applied = new Map((await q.query<{ version: string; applied_at: Date | string }>(`select version, applied_at from ${quoteIdent(this.#table)}`)).rows.map((r) => [r.version, new Date(r.applied_at)]));
      return all.map((m) => ({ version: m.version, name: m.name, appliedAt: applied.get(m.version) ?? null }));
    });
  }

  /** Applies every pending migration in order, each in its own transaction. Returns their versions. */
  async up(): Promise<string[]> {
    const all = await this.#migrations();
    return this.#locked(async (session) => {
      const { q } = session;
      const applied = new Set((await q.query<{ version: string }>(`select version from ${quoteIdent(this.#table)}`)).rows.map((r) => r.version));
      const done: string[] = [];
      for (const m of all) {
        if (applied.has(m.version)) continue;
        this.log(`migrate up ${m.version} ${m.name}`);
        await session.inTransaction(async () => {
          await run(m, 'up', session);
          await q.query(`insert into ${quoteIdent(this.#table)} (version, name) values ($1, $2)`, [m.version, m.name]);
        });
        done.push(m.version);
      }
      return done;
    });
  }

  /** Undoes the last `steps` applied migrations (default 1). */
  async down(steps = 1): Promise<string[]> {
    const all = await this.#migrations();
    return this.#locked(async (session) => {
      const { q } = session;
      const applied = (await q.query<{ version: string }>(`select version from ${quoteIdent(this.#table)} order by version desc limit $1`, [steps])).rows;
      const done: string[] = [];
      for (const { version } of applied) {
        const m = all.find((x) => x.version === version);
        if (m === undefined) throw new Error(`migration ${version} is applied but its file is gone: cannot undo it`);
        this.log(`migrate down ${m.version} ${m.name}`);
        await session.inTransaction(async () => {
          await run(m, 'down', session);
          await q.query(`delete from ${quoteIdent(this.#table)} where version = $1`, [m.version]);
        });
        done.push(m.version);
      }
      return done;
    });
  }
}

/** One section of a migration; a SQL one statement by statement, so a failure names its statement. */
async function run(m: Migration, part: 'up' | 'down', s: MigrationSession): Promise<void> {
  const step = m[part];
  const file = m.file ?? `${m.version}_${m.name}`;
  if (typeof step === 'function') {
    try {
      await step(s.q);
    } catch (err) {
      throw new MigrationError(`${file} (${part}): ${(err as Error).message}`, { file }, { cause: err });
    }
    return;
  }
  const statements = splitStatements(step, s.dialect);
  const offset = m.lines?.[part] ?? 0;
  for (let i = 0; i < statements.length; i++) {
    const st = statements[i]!;
    try {
      await s.exec(st.text);
    } catch (err) {
      const line = st.line + offset;
      const first = st.text.split('\n', 1)[0]!;
      throw new MigrationError(`${file}:${line}, ${part} statement ${i + 1} of ${statements.length} failed: ${(err as Error).message}\n  ${first.length > 120 ? `${first.slice(0, 120)}…` : first}`, { file, statement: i + 1, line }, { cause: err });
    }
  }
}

/** Lines before the first non-blank character of a section whose text begins at offset `at`. */
function sectionStart(text: string, at: number): number {
  let i = at;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  let k = 0;
  for (let j = 0; j < i; j++) if (text.charCodeAt(j) === 10) k++;
  return k;
}


/** What the declared tables need of the live schema: statements to apply and to undo. */
export interface SchemaDiff {
  up: string[];
  down: string[];
}

/** The type as `format_type` prints it, for comparing declared with live columns. */
function canonicalType(sqlType: string): string {
  const t = sqlType.toLowerCase().replace(/\s+/g, ' ').trim();
  const map: Record<string, string> = { serial: 'integer', bigserial: 'bigint', timestamptz: 'timestamp with time zone', timestamp: 'timestamp without time zone', int: 'integer', int4: 'integer', int8: 'bigint', bool: 'boolean', float8: 'double precision' };
  if (map[t] !== undefined) return map[t]!;
  const vc = /^varchar\((\d+)\)$/.exec(t);
  if (vc !== null) return `character varying(${vc[1]})`;
  return t.replace(/numeric\((\d+), ?(\d+)\)/, 'numeric($1,$2)');
}

/**
 * Compares declared tables with the database: missing tables, columns and indexes are created; changed
 * types and nullability altered; columns the models no longer declare are listed as commented-out
 * drops (dropping data is left to a human).
 *
 * @example
 * ```ts
 * const diff = await diffSchema(db, [users, notes]);
 * console.log(migrationText(diff, 'postgres')); // what `covet migrate generate` would write
 * ```
 */
export async function diffSchema(db: Queryable, tables: readonly Table[]): Promise<SchemaDiff> {
  const dialect = dialectOf(db);
  return diffLive(dialect.name === 'sqlite' ? await liveSqlite(db) : dialect.name === 'mysql' ? await liveMysql(db) : await livePostgres(db), tables, dialect);
}

/**
 * The statements that create `tables` in an empty database of that kind — the first migration, written
 * without a database (`covet new` writes one per database this way).
 *
 * @example
 * ```ts
 * const text = migrationText(createSchemaSql([users, notes], 'sqlite'), 'sqlite'); // -- covet:dialect sqlite …
 * ```
 */
export function createSchemaSql(tables: readonly Table[], dialect: DialectName): SchemaDiff {
  return diffLive({ live: new Map(), indexes: new Set() }, tables, dialectByName(dialect));
}

/**
 * A migration file's text: the dialect line, then the up and down sections.
 *
 * @example
 * ```ts
 * const text = migrationText(await diffSchema(db, [users, notes]), 'sqlite'); // '-- covet:dialect sqlite', '-- up', …, '-- down', …
 * ```
 */
export function migrationText(d: SchemaDiff, dialect: DialectName): string {
  return `-- covet:dialect ${dialect}\n-- up\n${d.up.join('\n')}\n\n-- down\n${d.down.join('\n')}\n`;
}

function diffLive({ live, indexes }: LiveSchema, tables: readonly Table[], dialect: Dialect): SchemaDiff {
  const up: string[] = [];
  const down: string[] = [];
  // New tables first, each after the tables it references (foreign-key order); foreign keys that close a
  // cycle are added once all its tables exist. `down` undoes in the reverse order.
  const created = tables.filter((t) => !live.has(t.name));
  const { order, deferred: cycle } = creationOrder(created);
  // SQLite checks a foreign key when it is used, not when it is declared: a cycle needs no later ALTER.
  const deferred = dialect.alterAddForeignKey ? cycle : new Set<ColumnSpec>();
  for (const t of order) {
    up.push(createTableSql(t, deferred, dialect));
    down.unshift(`drop table ${quoteIdent(t.name)};`);
  }
  // SQLite: dropping a referenced table deletes its rows, checked against the keys at once unless
  // deferred to the commit (by when every table of the cycle is gone).
  if (!dialect.alterAddForeignKey && order.some((t) => Object.values(t.columns).some((c) => c.spec.references !== null))) down.unshift('pragma defer_foreign_keys = on;');
  for (const spec of deferred) {
    up.push(addForeignKeySql(spec));
    down.unshift(dialect.dropForeignKey(quoteIdent(spec.table), quoteIdent(foreignKeyName(spec))));
  }
  for (const t of tables) {
    const existing = live.get(t.name);
    if (existing === undefined) continue;
    for (const col of Object.values(t.columns)) {
      const s = col.spec;
      const cur = existing.get(s.column);
      if (cur === undefined) {
        up.push(`alter table ${quoteIdent(t.name)} add column ${columnDdl(s, dialect.inlineReferences, dialect)};`);
        if (!dialect.inlineReferences && s.references !== null) up.push(addForeignKeySql(s));
        down.unshift(`alter table ${quoteIdent(t.name)} drop column ${quoteIdent(s.column)};`);
        continue;
      }
      if (dialect.name === 'sqlite') {
        // SQLite alters neither a column's type nor its nullability: the table must be rebuilt by hand.
        const want = dialect.columnType(s);
        if (want !== cur.type || (s.notNull && !s.primaryKey) !== cur.notNull) up.push(`-- ${t.name}.${s.column}: declared ${want}${s.notNull ? ' not null' : ''}, is ${cur.type}${cur.notNull ? ' not null' : ''}; SQLite cannot alter a column: rebuild the table (create, copy, drop, rename)`);
        continue;
      }
      if (dialect.name === 'mysql') {
        // MODIFY COLUMN restates the whole column: type and nullability together.
        const want = mysqlCanonical(dialect.columnType(s));
        const wantNotNull = s.notNull || s.primaryKey;
        if (want !== cur.type || wantNotNull !== cur.notNull) {
          up.push(`alter table ${quoteIdent(t.name)} modify column ${columnDdl({ ...s, references: null, unique: false }, false, dialect).replace(' primary key', '')};`);
          down.unshift(`alter table ${quoteIdent(t.name)} modify column ${quoteIdent(s.column)} ${cur.type}${cur.notNull ? ' not null' : ''};`);
        }
        continue;
      }
      const want = canonicalType(s.sqlType);
      if (want !== cur.type) {
        up.push(`alter table ${quoteIdent(t.name)} alter column ${quoteIdent(s.column)} type ${s.sqlType.replace(/^(big)?serial$/, (m) => (m === 'serial' ? 'integer' : 'bigint'))};`);
        down.unshift(`alter table ${quoteIdent(t.name)} alter column ${quoteIdent(s.column)} type ${cur.type};`);
      }
      if (s.notNull !== cur.notNull) {
        up.push(`alter table ${quoteIdent(t.name)} alter column ${quoteIdent(s.column)} ${s.notNull ? 'set' : 'drop'} not null;`);
        down.unshift(`alter table ${quoteIdent(t.name)} alter column ${quoteIdent(s.column)} ${s.notNull ? 'drop' : 'set'} not null;`);
      }
    }
    const declared = new Set(Object.values(t.columns).map((c) => c.spec.column));
    for (const name of existing.keys()) if (!declared.has(name)) up.push(`-- alter table ${quoteIdent(t.name)} drop column ${quoteIdent(name)}; -- no longer declared: uncomment to drop its data`);
    for (const ix of t.indexes) {
      if (indexes.has(indexName(t, ix))) continue;
      up.push(`${indexDdl(t, ix)};`);
      down.unshift(dialect.dropIndex(quoteIdent(t.name), quoteIdent(indexName(t, ix))));
    }
  }
  return { up, down };
}

type LiveSchema = { live: Map<string, Map<string, { type: string; notNull: boolean }>>; indexes: Set<string> };

async function livePostgres(db: Queryable): Promise<LiveSchema> {
  const cols = (
    await db.query<{ table: string; column: string; type: string; not_null: boolean }>(
      `select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = current_schema() and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped`,
    )
  ).rows;
  const indexes = new Set((await db.query<{ name: string }>(`select indexname as name from pg_indexes where schemaname = current_schema()`)).rows.map((r) => r.name));
  const live = new Map<string, Map<string, { type: string; notNull: boolean }>>();
  for (const c of cols) {
    let t = live.get(c.table);
    if (t === undefined) live.set(c.table, (t = new Map()));
    t.set(c.column, { type: c.type, notNull: c.not_null });
  }
  return { live, indexes };
}

async function liveMysql(db: Queryable): Promise<LiveSchema> {
  const cols = (
    await db.query<{ table: string; column: string; type: string; nullable: string }>(
      `select table_name as "table", column_name as "column", column_type as "type", is_nullable as "nullable" from information_schema.columns where table_schema = database() order by ordinal_position`,
    )
  ).rows;
  const live = new Map<string, Map<string, { type: string; notNull: boolean }>>();
  for (const c of cols) {
    let t = live.get(c.table);
    if (t === undefined) live.set(c.table, (t = new Map()));
    t.set(c.column, { type: mysqlCanonical(c.type), notNull: c.nullable === 'NO' });
  }
  const indexes = new Set((await db.query<{ name: string }>(`select distinct index_name as "name" from information_schema.statistics where table_schema = database()`)).rows.map((r) => r.name));
  return { live, indexes };
}

async function liveSqlite(db: Queryable): Promise<LiveSchema> {
  const tables = (await db.query<{ name: string }>(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`)).rows;
  const live = new Map<string, Map<string, { type: string; notNull: boolean }>>();
  for (const { name } of tables) {
    const cols = (await db.query<{ name: string; type: string; notnull: number }>(`select name, type, "notnull" from pragma_table_info($1)`, [name])).rows;
    live.set(name, new Map(cols.map((c) => [c.name, { type: c.type.toLowerCase(), notNull: Number(c.notnull) === 1 }])));
  }
  const indexes = new Set((await db.query<{ name: string }>(`select name from sqlite_master where type = 'index'`)).rows.map((r) => r.name));
  return { live, indexes };
}

/**
 * The order to create `tables` in so each comes after the ones it references (depth-first topological
 * order, declaration order among independent tables), and the foreign keys that must wait because they
 * close a cycle (`a` → `b` → `a`): those tables are created without them, and the keys added after.
 * References to tables outside `tables` (already in the database) and to the table itself do not order.
 */
function creationOrder(tables: readonly Table[]): { order: Table[]; deferred: Set<ColumnSpec> } {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const order: Table[] = [];
  const deferred = new Set<ColumnSpec>();
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: Table): void => {
    state.set(t.name, 'visiting');
    for (const col of Object.values(t.columns)) {
      const ref = col.spec.references;
      if (ref === null) continue;
      const target = byName.get(ref.target().spec.table);
      if (target === undefined || target === t) continue;
      const st = state.get(target.name);
      if (st === 'visiting') deferred.add(col.spec); // a back edge: this key closes a cycle
      else if (st === undefined) visit(target);
    }
    state.set(t.name, 'done');
    order.push(t);
  };
  for (const t of tables) if (!state.has(t.name)) visit(t);
  return { order, deferred };
}

/**
 * Writes the next migration file from {@link diffSchema}; returns its path, or null when the schema
 * already matches.
 *
 * @example
 * ```ts
 * const file = await generateMigration(db, [users, notes], 'migrations', 'add_notes');
 * console.log(file ?? 'the schema already matches'); // e.g. migrations/20261206120000_add_notes.sql
 * ```
 */
export async function generateMigration(db: Queryable, tables: readonly Table[], dir: string, name: string): Promise<string | null> {
  const d = await diffSchema(db, tables);
  if (d.up.filter((s) => !s.startsWith('--')).length === 0) return null;
  const dialect = dialectOf(db).name;
  const target = await generationFolder(dir, dialect);
  await mkdir(target, { recursive: true });
  const version = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const path = join(target, `${version}_${name.replace(/\W+/g, '_')}.sql`);
  await writeFile(path, migrationText(d, dialect));
  return path;
}

/**
 * Where the next migration for `dialect` goes: where the runner reads for it ({@link migrationsFolder}) —
 * unless that is the shared top folder and it holds migrations written for another database; then this
 * one's own subfolder, which the runner reads from then on.
 */
async function generationFolder(dir: string, dialect: DialectName): Promise<string> {
  const folder = await migrationsFolder(dir, dialect);
  if (folder !== dir) return folder;
  const others = (await loadMigrations(dir).catch(() => [] as Migration[])).some((m) => m.dialect !== undefined && m.dialect !== dialect);
  return others ? join(dir, dialect) : dir;
}
