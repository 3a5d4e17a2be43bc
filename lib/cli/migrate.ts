/**
 * `covet migrate up|down|status|generate <name>`: the migrations folder (default `migrations`) against
 * DATABASE_URL; without one, the dev database of `covet dev` (`.covet/dev-db`, through the running
 * `covet dev` when there is one, since PGlite is one process's at a time).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDb, openDatabase, type Database } from '../app/db/index.js';
import { generateMigration, MigrationError, Migrator, type Table } from '../app/orm/index.js';
import { CliError, findEntry, importUserModule, shortPath } from './load-app.js';

export interface MigrateOptions {
  command: string | undefined;
  name?: string;
  dir: string;
  schema?: string;
  steps: number;
  cwd: string;
  log: (line: string) => void;
}

/** The database `covet migrate` and `covet db seed` talk to, and how to say which it is. */
export function devDatabase(cwd: string): { db: Database; label: string } {
  const url = process.env.DATABASE_URL;
  if (url !== undefined) return { db: openDatabase({ url }), label: url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@') };
  const running = join(cwd, '.covet', 'dev-db.url');
  if (existsSync(running)) {
    const bridge = readFileSync(running, 'utf8').trim();
    return { db: createDb({ url: bridge }), label: `the dev database, through the running covet dev (${bridge})` };
  }
  const dir = join(cwd, '.covet', 'dev-db');
  mkdirSync(dir, { recursive: true });
  return { db: createDb({ url: `pglite://${dir}` }), label: `the dev database (PGlite in ${shortPath(dir, cwd)}; set DATABASE_URL for another)` };
}

export async function migrate(o: MigrateOptions): Promise<void> {
  const usage = 'usage: covet migrate <up|down|status|generate <name>> [--dir migrations] [--schema src/schema.ts] [--steps n]';
  if (!['up', 'down', 'status', 'generate'].includes(o.command ?? '')) throw new CliError(o.command === undefined ? usage : `unknown migrate command "${o.command}"\n${usage}`);
  const dir = join(o.cwd, o.dir);
  if (o.command !== 'generate' && !existsSync(dir)) throw new CliError(`no migrations folder at ${o.dir} (pass --dir, or create one: covet migrate generate <name>)`);
  // Everything that can be refused is refused before the database is opened (PGlite takes seconds).
  let schemaFile: string | undefined;
  if (o.command === 'generate') {
    if (o.name === undefined) throw new CliError('generate needs a name: covet migrate generate add_notes');
    schemaFile = findEntry(o.cwd, o.schema, 'schema', ['src/schema.ts', 'src/db/schema.ts', 'schema.ts', 'src/schema.js', 'schema.js']);
  }
  const { db, label } = devDatabase(o.cwd);
  o.log(`database: ${label}`);
  try {
    const m = new Migrator(db, dir);
    m.log = o.log;
    const folder = shortPath((await m.folder())!, o.cwd);
    if (o.command !== 'generate') o.log(`migrations: ${folder}`);
    switch (o.command) {
      case 'up':
        o.log(`applied ${(await m.up()).length} migration(s)`);
        break;
      case 'down':
        o.log(`undid ${(await m.down(o.steps)).length} migration(s)`);
        break;
      case 'status': {
        const all = await m.status();
        if (all.length === 0) o.log(`no migrations in ${folder}`);
        for (const s of all) o.log(`${s.appliedAt === null ? 'pending' : `applied ${s.appliedAt.toISOString()}`}  ${s.version}  ${s.name}`);
        break;
      }
      case 'generate': {
        const file = schemaFile!;
        const mod = await importUserModule(file, 'migrate');
        const tables = collectTables(mod);
        if (tables.length === 0) throw new CliError(`${shortPath(file, o.cwd)} exports no tables (define them with table() from covet/app/orm and export them)`);
        // The diff is against the database: with migrations still pending it would repeat them.
        const pending = existsSync(dir) ? (await m.status()).filter((s) => s.appliedAt === null) : [];
        if (pending.length > 0) throw new CliError(`${pending.length} migration(s) not yet applied (${pending.map((p) => p.name).join(', ')}): run covet migrate up first — generate compares the tables with the database`);
        const path = await generateMigration(db, tables, dir, o.name!);
        o.log(path === null ? `the database already matches the ${tables.length} table(s) in ${shortPath(file, o.cwd)}` : `wrote ${shortPath(path, o.cwd)} (${tables.length} table(s) from ${shortPath(file, o.cwd)}); read it, then: covet migrate up`);
        break;
      }
    }
  } catch (err) {
    // Paths in the messages relative to where the command runs, as the user typed them.
    if (err instanceof MigrationError) throw new CliError(err.message.split(`${o.cwd}/`).join(''));
    throw err;
  } finally {
    await db.close();
  }
}

/** Tables exported by the module, directly or inside an exported object (`export const schema = { users, notes }`). */
function collectTables(mod: Record<string, unknown>): Table[] {
  const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && 'sqlNames' in v && 'columns' in v;
  const out = new Set<Table>();
  for (const v of Object.values(mod)) {
    if (isTable(v)) out.add(v);
    else if (typeof v === 'object' && v !== null) for (const w of Object.values(v)) if (isTable(w)) out.add(w);
  }
  return [...out];
}
