/**
 * PGlite without initdb each time (#30.5): a new database — in memory, or in a data directory not yet
 * initialised (`covet dev`'s first start) — starts from a copy of an initialised, empty data directory;
 * most of PGlite's start is initdb (bench/RESULTS.md, "PGlite start"). The first such database on a machine,
 * for a given PGlite build, makes the copy right after its initdb, before anything is written to it, and
 * saves it in the system's temporary directory (one file per user and build, written beside and renamed
 * into place, so concurrent processes never read half a file); every later one loads it. A copy that does
 * not load is removed and made again. `COVET_PGLITE_CACHE=0` turns the copy off.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';

/** What this module uses of PGlite's constructor and instances. */
export interface PGliteClass<T extends PGliteInstance> {
  new (dataDir?: string, options?: { loadDataDir?: Blob }): T;
  new (options?: { loadDataDir?: Blob }): T;
}
export interface PGliteInstance {
  readonly waitReady: Promise<void>;
  dumpDataDir(compression?: 'none'): Promise<Blob>;
  close(): Promise<void>;
}

/** The copy's file for the installed PGlite build (its WebAssembly file's size and time name the build). */
async function copyFile(): Promise<string | null> {
  try {
    const main = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const wasm = await stat(join(dirname(main), 'pglite.wasm'));
    let user = 'user';
    try {
      user = String(userInfo().uid);
    } catch {
      // no user database entry: one name for all
    }
    return join(tmpdir(), `covet-pglite-${user}-${wasm.size}-${Math.floor(wasm.mtimeMs)}.tar`);
  } catch {
    return null; // PGlite's files not found where expected: no copy
  }
}

/**
 * A PGlite database: in memory (`dir` undefined) or in `dir`. A new one — in memory, or a `dir` with no
 * database yet — starts from the saved copy when there is one, else by initdb (then saving the copy); an
 * existing `dir` opens as it is.
 *
 * @example
 * ```ts
 * const { PGlite } = await import('@electric-sql/pglite');
 * const { pglite, fromCopy } = await openPglite(PGlite); // fromCopy: true from the second time on
 * ```
 */
export async function openPglite<T extends PGliteInstance>(PGlite: PGliteClass<T>, dir?: string): Promise<{ pglite: T; fromCopy: boolean }> {
  if (dir !== undefined && existsSync(join(dir, 'PG_VERSION'))) {
    const pglite = new PGlite(dir);
    await pglite.waitReady;
    return { pglite, fromCopy: false };
  }
  const file = process.env.COVET_PGLITE_CACHE === '0' ? null : await copyFile();
  if (file !== null) {
    const bytes = await readFile(file).catch(() => null);
    if (bytes !== null) {
      try {
        // In memory, the options alone: PGlite reads options given after an undefined directory as nothing.
        const loadDataDir = new Blob([bytes]);
        const pglite = dir === undefined ? new PGlite({ loadDataDir }) : new PGlite(dir, { loadDataDir });
        await pglite.waitReady;
        return { pglite, fromCopy: true };
      } catch {
        await rm(file, { force: true }); // a copy that does not load: made again below
        if (dir !== undefined) for (const f of await readdir(dir).catch(() => [])) await rm(join(dir, f), { recursive: true, force: true });
      }
    }
  }
  const pglite = new PGlite(dir);
  await pglite.waitReady;
  if (file !== null) {
    try {
      const dump = await pglite.dumpDataDir('none');
      const part = `${file}.${process.pid}.part`;
      await writeFile(part, Buffer.from(await dump.arrayBuffer()));
      await rename(part, file);
    } catch {
      // best effort: the next database runs initdb again
    }
  }
  return { pglite, fromCopy: false };
}
