/** Finding the user's app module and the App it exports, for `covet dev`, `covet routes` and `covet migrate`. */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { App } from '../app/app.js';
import { installTypeScriptHooks } from './ts-hooks.js';

/** A usage or setup error: printed as it is, without a stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** The files tried, in order, when no entry is given (after package.json's `covet.entry`). */
const DEFAULT_ENTRIES = ['src/server.ts', 'src/main.ts', 'src/index.ts', 'src/app.ts', 'server.ts', 'app.ts', 'index.ts', 'src/server.js', 'server.js', 'app.js', 'index.js'];

/**
 * The entry to run: the one given, else package.json's `"covet": { "entry": ... }`, else the first of
 * src/server.ts, src/main.ts, ... that exists. `key` picks another field of package.json's `covet` (`app`).
 */
export function findEntry(cwd: string, given: string | undefined, key: 'entry' | 'app' | 'schema' | 'jobs' | 'seed' = 'entry', fallbacks = DEFAULT_ENTRIES): string {
  if (given !== undefined) {
    const file = resolve(cwd, given);
    if (!existsSync(file)) throw new CliError(`${given}: no such file (from ${cwd})`);
    return file;
  }
  const pkgFile = join(cwd, 'package.json');
  if (existsSync(pkgFile)) {
    const covet = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { covet?: Record<string, string> }).covet;
    const named = covet?.[key] ?? (key === 'app' ? covet?.entry : undefined);
    if (named !== undefined) {
      const file = resolve(cwd, named);
      if (!existsSync(file)) throw new CliError(`package.json names "covet": { "${key}": "${named}" }, which does not exist`);
      return file;
    }
  }
  for (const f of fallbacks) if (existsSync(join(cwd, f))) return join(cwd, f);
  const example = { entry: 'covet dev src/server.ts', app: 'covet routes src/app.ts', schema: 'covet migrate generate <name> --schema src/schema.ts', jobs: 'covet worker src/jobs.ts', seed: 'covet db seed src/seed.ts' }[key];
  const file = { entry: 'src/server.ts', app: 'src/app.ts', schema: 'src/schema.ts', jobs: 'src/jobs.ts', seed: 'src/seed.ts' }[key];
  throw new CliError(`no ${key === 'schema' ? 'schema module' : key === 'jobs' ? 'jobs module' : key === 'seed' ? 'seed module' : 'app module'} found in ${cwd}: pass one (${example}), or name it in package.json: "covet": { "${key}": "${file}" } (tried ${fallbacks.slice(0, 4).join(', ')}, ...)`);
}

/** Imports a module of the user's (TypeScript included, see ts-hooks). */
export async function importUserModule(file: string, command = 'dev'): Promise<Record<string, unknown>> {
  installTypeScriptHooks(file, command);
  return (await import(pathToFileURL(isAbsolute(file) ? file : resolve(file)).href)) as Record<string, unknown>;
}

/** Duck-typed: the user's `covet` may be another copy of the package than the CLI's own. */
function isApp(v: unknown): v is App {
  return typeof v === 'object' && v !== null && typeof (v as App).routes === 'function' && typeof (v as App).listen === 'function' && typeof (v as App).inject === 'function';
}

/** The App a module exports: `default`, `app`, or its only App-valued export. */
export function appOf(mod: Record<string, unknown>): App | undefined {
  if (isApp(mod.default)) return mod.default;
  if (isApp(mod.app)) return mod.app;
  const apps = Object.values(mod).filter(isApp);
  return apps.length === 1 ? apps[0] : undefined;
}

export function shortPath(file: string, cwd = process.cwd()): string {
  const r = relative(cwd, file);
  return r.startsWith('..') ? file : r;
}
