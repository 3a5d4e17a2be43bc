/**
 * `covet db seed [module]`: runs the app's seed module against DATABASE_URL, else the dev database of
 * `covet dev` (as `covet migrate` does). The module exports `seed(db)` (or a default function) that writes
 * the data — with the ORM and the factories of `covet/app/orm`, say — on whatever database it is given.
 */
import { CliError, findEntry, importUserModule, shortPath } from './load-app.js';
import { devDatabase } from './migrate.js';
import type { Database } from '../app/db/index.js';

export async function seed(o: { cwd: string; module?: string; log: (line: string) => void }): Promise<void> {
  const file = findEntry(o.cwd, o.module, 'seed', ['src/seed.ts', 'src/db/seed.ts', 'seed.ts', 'src/seed.js', 'seed.js']);
  const mod = await importUserModule(file, 'db seed');
  const run = (typeof mod.seed === 'function' ? mod.seed : mod.default) as ((db: Database) => unknown) | undefined;
  if (typeof run !== 'function') throw new CliError(`${shortPath(file, o.cwd)} exports no seed function: export async function seed(db) { ... }`);
  const { db, label } = devDatabase(o.cwd);
  o.log(`database: ${label}`);
  try {
    await run(db);
    o.log(`seeded from ${shortPath(file, o.cwd)}`);
  } finally {
    await db.close();
  }
}
