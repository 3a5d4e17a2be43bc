#!/usr/bin/env node
/**
 * `covet-migrate <up|down|status|generate <name>> [--dir migrations] [--schema ./dist/schema.js]`
 * against `DATABASE_URL` (or PGlite at `pglite:///path`). `generate` imports the schema module and
 * diffs every exported table against the database.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDb } from '../db/db.js';
import { generateMigration, Migrator } from './migrate.js';
import type { Table } from './table.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const [command, name] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const dir = arg('dir', 'migrations');
const db = createDb();
try {
  const m = new Migrator(db, dir);
  m.log = (msg) => console.log(msg);
  switch (command) {
    case 'up':
      console.log(`applied ${(await m.up()).length} migration(s)`);
      break;
    case 'down':
      console.log(`undid ${(await m.down(Number(arg('steps', '1')))).length} migration(s)`);
      break;
    case 'status':
      for (const s of await m.status()) console.log(`${s.appliedAt === null ? 'pending' : `applied ${s.appliedAt.toISOString()}`}  ${s.version}  ${s.name}`);
      break;
    case 'generate': {
      if (name === undefined) throw new Error('generate needs a name: covet-migrate generate add_notes --schema ./dist/schema.js');
      const mod = (await import(pathToFileURL(resolve(arg('schema', 'schema.js'))).href)) as Record<string, unknown>;
      const tables = Object.values(mod).filter((v): v is Table => typeof v === 'object' && v !== null && 'sqlNames' in v && 'columns' in v);
      const path = await generateMigration(db, tables, dir, name);
      console.log(path === null ? 'the database already matches the models' : `wrote ${path}`);
      break;
    }
    default:
      console.error('usage: covet-migrate <up|down|status|generate <name>> [--dir migrations] [--schema schema.js] [--steps n]');
      process.exitCode = 2;
  }
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await db.close();
}
