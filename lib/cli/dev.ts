/**
 * `covet dev`: run the app, restart it on every saved change, keep the port and the data.
 *
 * - The port is held by this process (node:cluster's primary), so a restart never refuses a connection:
 *   the new generation starts listening before the old one is stopped. A generation that fails to start
 *   is reported and the previous one keeps serving.
 * - The next generation is forked ahead of need, with the framework already loaded, so a reload is only
 *   the user's own modules (measured: bench/RESULTS.md, "Dev loop").
 * - Without DATABASE_URL the database is PGlite, opened once here, persisted in `.covet/dev-db` (data
 *   survives reloads and restarts; `--memory` for a throwaway one) and served to each generation over the
 *   PostgreSQL wire protocol (`servePglite`), which psql can also connect to.
 */
import cluster, { type Worker } from 'node:cluster';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGliteLike } from '../app/db/transport.js';
import { servePglite, type PgliteServer } from '../app/db/pglite-server.js';
import { openPglite, parsePgliteUrl } from '../app/db/pglite-cache.js';
import { importPeer } from '../app/optional-peer.js';
import { CliError, shortPath } from './load-app.js';
import { canRunTypeScript, TypeScriptUnsupportedError } from './ts-hooks.js';

export interface DevOptions {
  entry: string;
  /** The folder watched (default: the current one). */
  root?: string;
  port?: number;
  host?: string;
  /** PGlite in memory instead of `.covet/dev-db`. */
  memory?: boolean;
  /** The port of the dev database's PostgreSQL bridge (for psql and `covet migrate`). Default: any free one. */
  dbPort?: number;
  log?: (line: string) => void;
}

/** Folders never watched. */
const IGNORED = new Set(['node_modules', '.git', 'dist', 'build', 'coverage', '.covet', '.node-lines']);
/** Changes to these files restart the app. */
const WATCHED = /\.(?:[mc]?[jt]s|json|sql)$/;

/** Runs the dev loop until SIGINT/SIGTERM. Resolves with a handle (for tests) once the first generation listens. */
export async function dev(options: DevOptions): Promise<{ stop(): Promise<void> }> {
  const log = options.log ?? ((l: string) => console.log(l));
  const root = resolve(options.root ?? process.cwd());
  const entry = options.entry;
  if (/\.[mc]?ts$/.test(entry) && !canRunTypeScript()) throw new TypeScriptUnsupportedError(shortPath(entry));
  const port = options.port ?? Number(process.env.PORT ?? 3000);
  const host = options.host ?? process.env.HOST ?? '127.0.0.1';
  const t0 = performance.now();

  // The database, opened once for every generation.
  let pglite: PGliteLike | null = null;
  let urlFile: string | null = null;
  let bridge: PgliteServer | null = null;
  let dbLine: string;
  const url = process.env.DATABASE_URL;
  if (url === undefined || url.startsWith('pglite:')) {
    const given = url === undefined ? null : parsePgliteUrl(url); // pglite://memory, pglite:memory, pglite:///dir, ?setting=value
    const dir = options.memory === true || (given !== null && given.dir === undefined) ? undefined : (given?.dir ?? join(root, '.covet', 'dev-db'));
    const fresh = dir !== undefined && !existsSync(join(dir, 'PG_VERSION'));
    if (dir !== undefined) mkdirSync(dir, { recursive: true });
    if (fresh || dir === undefined) log(`creating the ${dir === undefined ? 'in-memory' : 'dev'} database${dir === undefined ? '' : ` in ${shortPath(dir, root)}`} (the first time takes a few seconds)`);
    const pgliteModule = await importPeer('@electric-sql/pglite', 'covet dev without DATABASE_URL', () => import('@electric-sql/pglite'));
    // A new database (in memory, or the dev database's first start) from the saved copy of an initialised
    // one (pglite-cache.ts), not initdb.
    pglite = (await openPglite(pgliteModule, dir, given?.settings)).pglite as unknown as PGliteLike;
    bridge = await servePglite(pglite, options.dbPort === undefined ? {} : { port: options.dbPort });
    // `covet migrate` (another process) reaches the dev database through this server while it runs.
    if (dir !== undefined) writeFileSync(`${dir}.url`, `${bridge.url}\n`);
    urlFile = dir === undefined ? null : `${dir}.url`;
    dbLine = `PGlite ${dir === undefined ? 'in memory (gone when covet dev stops)' : `in ${shortPath(dir, root)} (kept across reloads; delete the folder to start over)`}\n    psql '${bridge.url}'`;
  } else {
    dbLine = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  }

  cluster.setupPrimary({ exec: fileURLToPath(new URL('./dev-worker.js', import.meta.url)), execArgv: process.execArgv.filter((a) => !a.startsWith('--inspect')) });
  const env = { COVET_DEV_ENTRY: entry, COVET_TS_CACHE: join(root, '.covet', 'ts-cache'), PORT: String(port), HOST: host, NODE_ENV: process.env.NODE_ENV ?? 'development', ...(bridge === null ? {} : { DATABASE_URL: bridge.url }) };

  interface Gen {
    worker: Worker;
    ready: Promise<void>;
  }
  const fork = (): Gen => {
    const worker = cluster.fork(env);
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type?: string }) => m?.type === 'ready' && resolve());
      worker.once('exit', () => reject(new Error('exited before it was ready')));
    });
    ready.catch(() => {});
    return { worker, ready };
  };

  let current: Gen | null = null;
  let spare: Gen = fork();
  let starting = false;
  let again: string | null = null;
  let first = true;
  let firstListening!: () => void;
  let firstFailed!: (err: Error) => void;
  const started = new Promise<void>((res, rej) => {
    firstListening = res;
    firstFailed = rej;
  });
  started.catch(() => {});

  /** Starts the spare generation; on success it replaces the current one. */
  const reload = async (why: string | null): Promise<void> => {
    if (starting) {
      again = why ?? again;
      return;
    }
    starting = true;
    const t = performance.now();
    const gen = spare;
    try {
      await gen.ready;
    } catch {
      spare = fork();
      starting = false;
      return void reload(why);
    }
    spare = fork(); // the one after, loading while this one starts
    const outcome = await new Promise<{ ok: true; docs: string | null; routes: number | null } | { ok: false; error: string }>((res) => {
      let listening = false;
      let info: { docs: string | null; routes: number } | null = null;
      const done = (): void => {
        if (listening && info !== null) res({ ok: true, ...info });
      };
      gen.worker.on('listening', () => {
        listening = true;
        // An entry that listens without exporting its app is done once it listens.
        setTimeout(() => res({ ok: true, docs: null, routes: null }), 1000).unref();
        done();
      });
      gen.worker.on('message', (m: { type?: string; docs?: string | null; routes?: number; error?: string }) => {
        if (m?.type === 'imported') {
          info = { docs: m.docs ?? null, routes: m.routes ?? 0 };
          if (!listening) setTimeout(() => res(listening ? { ok: true, ...info! } : { ok: false, error: `${shortPath(entry, root)} ran, but nothing listens: export the app (export default app, or export const app) or call app.listen()` }), 500).unref();
          done();
        } else if (m?.type === 'failed') res({ ok: false, error: m.error ?? 'failed' });
      });
      gen.worker.once('exit', (code, signal) => res({ ok: false, error: `exited (${signal ?? code}) while starting` }));
      gen.worker.send({ type: 'start' });
    });
    const ms = Math.round(performance.now() - t);
    if (outcome.ok) {
      const old = current;
      current = gen;
      // The old generation closes its idle keep-alive connections as it stops; said "reloaded" once it
      // is gone, a client's next request cannot meet one of them closing.
      if (old !== null) await stopWorker(old.worker);
      if (first) {
        first = false;
        const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
        log(
          [
            '',
            `  covet dev  ${shortPath(entry, root)}  ready in ${Math.round(performance.now() - t0)} ms`,
            '',
            `  ➜ app:      ${base}/`,
            ...(outcome.docs !== null ? [`  ➜ docs:     ${base}${outcome.docs}`] : []),
            `  ➜ database: ${dbLine}`,
            `  ➜ watching  ${shortPath(root) || '.'} — save a file to reload; rs + enter restarts; ctrl-c stops`,
            '',
          ].join('\n'),
        );
        firstListening();
      } else {
        log(`↻ reloaded in ${ms} ms${why === null ? '' : ` (${why})`}`);
      }
    } else {
      stopWorker(gen.worker);
      log(`✗ ${shortPath(entry, root)} failed to start${why === null ? '' : ` after ${why} changed`}:\n${indent(outcome.error)}\n  ${current === null ? 'fix it and save: covet dev is waiting for changes' : 'the previous version keeps serving; fix it and save'}`);
      if (first) firstFailed(new CliError('the app failed to start'));
    }
    starting = false;
    if (again !== null) {
      const w = again;
      again = null;
      void reload(w);
    }
  };

  // Watch every folder under root but the ignored ones (inotify watches are per folder).
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | null = null;
  let changed = new Set<string>();
  const onChange = (file: string): void => {
    changed.add(shortPath(file, root));
    if (timer !== null) clearTimeout(timer);
    // Editors save in bursts (write, rename, chmod): one reload per burst.
    timer = setTimeout(() => {
      timer = null;
      const what = [...changed].join(', ');
      changed = new Set();
      void reload(what);
    }, 30);
  };
  const watchDir = (dir: string): void => {
    if (watchers.has(dir)) return;
    let w: FSWatcher;
    try {
      w = watch(dir, (_event, name) => {
        if (name === null) return;
        const file = join(dir, name.toString());
        if (WATCHED.test(file)) onChange(file);
        else if (!IGNORED.has(name.toString()) && isDir(file)) watchDir(file);
      });
    } catch {
      return;
    }
    w.on('error', () => {
      w.close();
      watchers.delete(dir);
    });
    watchers.set(dir, w);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory() && !IGNORED.has(e.name) && !e.name.startsWith('.')) watchDir(join(dir, e.name));
  };
  watchDir(root);

  const onStdin = (d: Buffer): void => {
    if (d.toString().trim() === 'rs') void reload('rs');
  };
  if (process.stdin.isTTY) process.stdin.on('data', onStdin);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const w of watchers.values()) w.close();
      if (timer !== null) clearTimeout(timer);
      process.stdin.off('data', onStdin);
      if (process.stdin.isTTY) process.stdin.pause();
      await Promise.all(Object.values(cluster.workers ?? {}).map((w) => (w === undefined ? undefined : stopWorker(w))));
      if (urlFile !== null) rmSync(urlFile, { force: true });
      await bridge?.close();
      await pglite?.close(); // flushes the dev database to disk
    })());
  const onSignal = (): void => void stop().then(() => process.exit(0));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  void reload(null);
  try {
    await started;
  } catch (err) {
    // The first start failed: keep watching (the user fixes the file); only tests await this.
    void err;
  }
  return { stop };
}

/** SIGTERM (the app closes gracefully), then SIGKILL after 2 s; resolves on exit. */
function stopWorker(w: Worker): Promise<void> {
  return new Promise((resolve) => {
    if (w.isDead()) return resolve();
    const kill = setTimeout(() => w.process.kill('SIGKILL'), 2000);
    w.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    w.process.kill('SIGTERM');
  });
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

