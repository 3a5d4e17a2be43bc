/**
 * PGlite without initdb each time (#30.5): a new database — in memory, or in a data directory not yet
 * initialised (`covet dev`'s first start) — starts from a copy of an initialised, empty data directory;
 * most of PGlite's start is initdb (bench/RESULTS.md, "PGlite start"). The first such database on a machine,
 * for a given PGlite build, makes the copy right after its initdb and a checkpoint, before anything is
 * written to it, and saves it in the system's temporary directory (one file per user and build, written
 * beside and renamed into place, so concurrent processes never read half a file); every later one loads
 * it. A copy that does not load is made again. `COVET_PGLITE_CACHE=0` turns the copy off.
 *
 * The copy is not PGlite's tarball (`loadDataDir`): untarring copies the 40 MB twice more, a third of the
 * start. It is one file — a header naming the directories and files, then the files' bytes (a file's
 * trailing zeros, the unused part of the WAL segment, left out) — read in one call and handed to PGlite's
 * in-memory file system as views into that one buffer, copying nothing; into a data directory, its files
 * are written out before PGlite opens it.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** The parts of Emscripten's file system (PGlite's `Module.FS`) this module uses. */
interface EmscriptenFs {
  readdir(path: string): string[];
  stat(path: string): { mode: number };
  isDir(mode: number): boolean;
  isFile(mode: number): boolean;
  readFile(path: string): Uint8Array;
  mkdirTree(path: string, mode?: number): void;
  writeFile(path: string, data: Uint8Array, options: { canOwn?: boolean; mode?: number }): void;
}

/** A PGlite instance's Emscripten module, as far as its file system (not in PGlite's typings' shape). */
type WithFs = { Module: { FS: EmscriptenFs } };

/** What this module uses of a PGlite instance. */
export interface PGliteInstance {
  readonly waitReady: Promise<void>;
  exec(sql: string): Promise<unknown>;
  close(): Promise<void>;
}

/** What this module uses of PGlite's in-memory file system. */
export interface MemoryFsLike {
  init(pg: never, options: never): Promise<unknown>;
  initialSyncFs(): Promise<void>;
}

/** What this module passes to PGlite's constructor. */
export interface PGliteOptions<F> {
  startParams?: string[];
  fs?: F;
  onStderr?: (line: string) => boolean;
}

/** What this module uses of `@electric-sql/pglite`: the class, and the in-memory file system it extends. */
export interface PGliteModule<T extends PGliteInstance, F extends MemoryFsLike> {
  PGlite: {
    new (dataDir?: string, options?: PGliteOptions<F>): T;
    new (options?: PGliteOptions<F>): T;
    /** The postgres arguments PGlite starts with when given none (PGlite ≥ 0.3). */
    readonly defaultStartParams?: readonly string[];
    /** Where PGlite's file system holds the data directory. */
    readonly paths?: { readonly PGDATA?: string };
  };
  MemoryFS?: new () => F;
}

/**
 * Server settings every embedded database starts with, unless its URL names them (`?shared_buffers=128MB`).
 * PostgreSQL's defaults size shared memory for a server of 100 connections and a 128 MB buffer pool, and
 * PGlite's WebAssembly zeroes all of it at each start: more than half its start (--cpu-prof: `memset`) for
 * one session whose pages already live in memory. bench/pglite-start.mjs measures the difference.
 */
export const PGLITE_START_SETTINGS: Readonly<Record<string, string>> = { shared_buffers: '16MB', max_connections: '8' };

/**
 * The data directory and server settings a `pglite:` URL names: `pglite://memory` or `pglite:memory` (in
 * memory: `dir` undefined), `pglite:///abs/dir` or `pglite:./dir`; settings as a query, each passed to
 * PostgreSQL as `-c name=value` over {@link PGLITE_START_SETTINGS}.
 *
 * @example
 * ```ts
 * parsePgliteUrl('pglite:///var/app/db?shared_buffers=128MB'); // { dir: '/var/app/db', settings: { shared_buffers: '128MB' } }
 * ```
 */
export function parsePgliteUrl(url: string): { dir: string | undefined; settings: Record<string, string> } {
  const rest = url.replace(/^pglite:(?:\/\/)?/, '');
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  const settings: Record<string, string> = {};
  if (q !== -1) {
    for (const [name, value] of new URLSearchParams(rest.slice(q + 1))) {
      if (!/^[a-z][a-z0-9_.]*$/i.test(name) || value === '') throw new Error(`${url}: "${name}=${value}" is not a PostgreSQL setting (pglite:...?name=value, e.g. ?shared_buffers=128MB)`);
      settings[name] = value;
    }
  }
  return { dir: path === 'memory' || path === '' ? undefined : path, settings };
}

/** The start arguments for `settings` over PGlite's own, or none when this PGlite does not say its own. */
function startParams(PGlite: { readonly defaultStartParams?: readonly string[] }, settings: Readonly<Record<string, string>>): string[] | undefined {
  const base = PGlite.defaultStartParams;
  if (!Array.isArray(base)) return undefined;
  const params = [...base];
  for (const [name, value] of Object.entries({ ...PGLITE_START_SETTINGS, ...settings })) params.push('-c', `${name}=${value}`);
  return params;
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
    return join(tmpdir(), `covet-pglite-${user}-${wasm.size}-${Math.floor(wasm.mtimeMs)}.copy`);
  } catch {
    return null; // PGlite's files not found where expected: no copy
  }
}

/** A data directory as files: the header, then every file's bytes (trailing zeros left out) in its order. */
interface Copy {
  /** Directories, relative to the data directory, parents first. */
  dirs: string[];
  /** Files: relative path, size, and how many of its bytes are stored (the rest are zeros). */
  files: Array<[path: string, size: number, stored: number]>;
}

const MAGIC = 'covet-pglite-copy 1\n';
/** Trailing zeros shorter than this are stored: leaving them out would cost a copy at each load. */
const ZERO_TAIL = 64 * 1024;

/** The copy of the data directory `root` in `FS`: checkpointed, without the lock file of the process. */
function makeCopy(FS: EmscriptenFs, root: string): Buffer {
  const copy: Copy = { dirs: [], files: [] };
  const parts: Uint8Array[] = [];
  const walk = (rel: string): void => {
    for (const name of FS.readdir(rel === '' ? root : `${root}/${rel}`).sort()) {
      if (name === '.' || name === '..' || (rel === '' && name === 'postmaster.pid')) continue;
      const path = rel === '' ? name : `${rel}/${name}`;
      const { mode } = FS.stat(`${root}/${path}`);
      if (FS.isDir(mode)) {
        copy.dirs.push(path);
        walk(path);
      } else if (FS.isFile(mode)) {
        const bytes = FS.readFile(`${root}/${path}`);
        let stored = bytes.length;
        while (stored > 0 && bytes[stored - 1] === 0) stored--;
        if (bytes.length - stored < ZERO_TAIL) stored = bytes.length;
        copy.files.push([path, bytes.length, stored]);
        parts.push(bytes.subarray(0, stored));
      }
    }
  };
  walk('');
  // PG_VERSION last: a data directory written out from the copy counts as one only once it is whole.
  const last = copy.files.findIndex(([path]) => path === 'PG_VERSION');
  if (last === -1) throw new Error('not a data directory');
  copy.files.push(...copy.files.splice(last, 1));
  parts.push(...parts.splice(last, 1));
  const header = Buffer.from(MAGIC + JSON.stringify(copy) + '\n');
  return Buffer.concat([header, ...parts]);
}

/** A relative path that stays inside the data directory (the copy's file lives in a shared directory). */
function inside(path: unknown): boolean {
  return typeof path === 'string' && path.split('/').every((part) => /^[\w.-]+$/.test(part) && part !== '.' && part !== '..');
}

/** The copy's header and each file's bytes as a view into `bytes`, or null when `bytes` is not a whole copy. */
function readCopy(bytes: Buffer): { copy: Copy; data: (i: number) => Uint8Array } | null {
  if (bytes.toString('latin1', 0, MAGIC.length) !== MAGIC) return null;
  const end = bytes.indexOf(0x0a, MAGIC.length);
  if (end === -1) return null;
  let copy: Copy;
  try {
    copy = JSON.parse(bytes.toString('utf8', MAGIC.length, end)) as Copy;
  } catch {
    return null;
  }
  if (!Array.isArray(copy.dirs) || !Array.isArray(copy.files) || !copy.dirs.every(inside)) return null;
  const offsets: number[] = [];
  let at = end + 1;
  for (const [path, size, stored] of copy.files) {
    if (!inside(path) || !(Number.isSafeInteger(stored) && Number.isSafeInteger(size) && stored >= 0 && stored <= size)) return null;
    offsets.push(at);
    at += stored;
  }
  if (at !== bytes.length) return null; // cut short, or more than it says
  return {
    copy,
    data: (i) => {
      const [, size, stored] = copy.files[i]!;
      const view = new Uint8Array(bytes.buffer, bytes.byteOffset + offsets[i]!, stored);
      if (stored === size) return view;
      const whole = new Uint8Array(size);
      whole.set(view);
      return whole;
    },
  };
}

/**
 * PGlite's in-memory file system, holding the copy when PostgreSQL starts: each file's contents are a view
 * into the copy's buffer (`canOwn`), so nothing is copied until PostgreSQL writes past a file's end.
 */
function memoryFsWithCopy<T extends PGliteInstance, F extends MemoryFsLike>(mod: PGliteModule<T, F>, loaded: NonNullable<ReturnType<typeof readCopy>>): F | null {
  const root = mod.PGlite.paths?.PGDATA;
  // Typed as the constraint: TypeScript cannot extend a class of a type parameter.
  const Base = mod.MemoryFS as (new () => MemoryFsLike) | undefined;
  if (root === undefined || Base === undefined) return null;
  const fs = new (class extends Base {
    #pg: WithFs | null = null;
    override async init(pg: never, options: never): Promise<unknown> {
      this.#pg = pg as WithFs;
      return super.init(pg, options);
    }
    // Called once PGlite has made its module (so its file system), before it looks for a database.
    override async initialSyncFs(): Promise<void> {
      await super.initialSyncFs();
      const FS = this.#pg!.Module.FS;
      FS.mkdirTree(root, 0o700);
      for (const dir of loaded.copy.dirs) FS.mkdirTree(`${root}/${dir}`, 0o700);
      loaded.copy.files.forEach(([path], i) => FS.writeFile(`${root}/${path}`, loaded.data(i), { canOwn: true, mode: 0o600 }));
    }
  })();
  return fs as unknown as F;
}

/** Writes the copy out into `dir` (PostgreSQL wants its data directory private: 0700). */
async function writeCopy(dir: string, loaded: NonNullable<ReturnType<typeof readCopy>>): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  for (const sub of loaded.copy.dirs) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  for (let i = 0; i < loaded.copy.files.length; i++) await writeFile(join(dir, loaded.copy.files[i]![0]), loaded.data(i), { mode: 0o600 });
}

/**
 * A PGlite database: in memory (`dir` undefined) or in `dir`, started with `settings` over
 * {@link PGLITE_START_SETTINGS}. A new one — in memory, or a `dir` with no database yet — starts from the
 * saved copy when there is one, else by initdb (then saving the copy); an existing `dir` opens as it is.
 *
 * @example
 * ```ts
 * const { pglite, fromCopy } = await openPglite(await import('@electric-sql/pglite')); // fromCopy: true from the second time on
 * ```
 */
export async function openPglite<T extends PGliteInstance, F extends MemoryFsLike>(mod: PGliteModule<T, F>, dir?: string, settings: Readonly<Record<string, string>> = {}): Promise<{ pglite: T; fromCopy: boolean }> {
  const { PGlite } = mod;
  const params = startParams(PGlite, settings);
  const open = async (fs?: F): Promise<T> => {
    // PGlite says only "failed to initialize" when PostgreSQL refuses to start; PostgreSQL says why.
    let fatal = '';
    const onStderr = (line: string): boolean => {
      const m = /\b(?:FATAL|PANIC):\s+(.*)/.exec(line);
      if (m !== null) fatal = m[1]!.slice(0, 500);
      return false;
    };
    const options: PGliteOptions<F> = { onStderr, ...(params === undefined ? {} : { startParams: params }), ...(fs === undefined ? {} : { fs }) };
    // In memory, the options alone: PGlite reads options given after an undefined directory as nothing.
    const pglite = dir === undefined ? new PGlite(options) : new PGlite(dir, options);
    try {
      await pglite.waitReady;
    } catch (err) {
      throw fatal === '' ? err : new Error(`PGlite did not start: ${fatal}`, { cause: err });
    }
    return pglite;
  };
  if (dir !== undefined && existsSync(join(dir, 'PG_VERSION'))) return { pglite: await open(), fromCopy: false };
  const file = process.env.COVET_PGLITE_CACHE === '0' ? null : await copyFile();
  if (file !== null) {
    // Only a copy this user made: the system's temporary directory is shared.
    const mine = await stat(file).then((st) => process.getuid === undefined || st.uid === process.getuid(), () => false);
    const bytes = mine ? await readFile(file).catch(() => null) : null;
    const loaded = bytes === null ? null : readCopy(bytes);
    // In memory, the copy goes in through PGlite's file system (none without the parts of PGlite it needs);
    // into a directory, as files.
    const fs = loaded !== null && dir === undefined ? memoryFsWithCopy(mod, loaded) : null;
    if (loaded !== null && (dir !== undefined || fs !== null)) {
      try {
        if (dir !== undefined) await writeCopy(dir, loaded);
        return { pglite: await open(fs ?? undefined), fromCopy: true };
      } catch {
        // A copy that does not load is made again below (the new one replaces it); the error may be a
        // setting's, not the copy's, so the copy is not removed first.
        if (dir !== undefined) for (const f of await readdir(dir).catch(() => [])) await rm(join(dir, f), { recursive: true, force: true });
      }
    }
  }
  const pglite = await open();
  const root = PGlite.paths?.PGDATA;
  if (file !== null && root !== undefined) {
    try {
      await pglite.exec('CHECKPOINT'); // the data files whole: a copy that needs no recovery
      const copy = makeCopy((pglite as unknown as WithFs).Module.FS, root);
      const part = `${file}.${process.pid}.part`;
      await writeFile(part, copy);
      await rename(part, file);
      // The tarballs earlier versions saved (40 MB each): nothing reads them any more.
      const dir = dirname(file);
      const prefix = basename(file).split('-').slice(0, 3).join('-'); // covet-pglite-<user>
      for (const f of await readdir(dir)) if (f.startsWith(`${prefix}-`) && f.endsWith('.tar')) await rm(join(dir, f), { force: true });
    } catch {
      // best effort: the next database runs initdb again
    }
  }
  return { pglite, fromCopy: false };
}
