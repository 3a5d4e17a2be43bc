/**
 * Runs TypeScript sources without a build step, for `covet dev`, `covet routes` and `covet migrate`:
 * `.ts` files outside node_modules are turned into JavaScript by Node's own `stripTypeScriptTypes`, and
 * a relative `./x.js` import that has only `./x.ts` beside it resolves to it (the import style `tsc`
 * wants for ESM). In-thread hooks (`module.registerHooks`): Node ≥ 22.15. Where Node still has its
 * transform mode (22, 24), enums and parameter properties work too, with source maps; Node 26 strips only
 * (types become spaces, so lines and columns stay where they were): code must be erasable TypeScript
 * (`erasableSyntaxOnly`, as the starter's tsconfig and covet's own sources are).
 *
 * With `COVET_TS_CACHE` set (covet dev sets `.covet/ts-cache`) each file's output is kept by path, size and
 * mtime, so a reload transforms only the files that changed (transforming all of a 130-file app takes
 * ~450 ms; reading them back, a few).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
interface LoadResult {
  format: string;
  source?: string | Buffer | null;
  shortCircuit?: boolean;
}
interface Hooks {
  resolve(specifier: string, context: object, next: (specifier: string, context?: object) => ResolveResult): ResolveResult;
  load(url: string, context: object, next: (url: string, context?: object) => LoadResult): LoadResult;
}
type ModuleWithHooks = typeof module & {
  registerHooks?: (hooks: Hooks) => unknown;
  stripTypeScriptTypes?: (code: string, options: { mode: 'strip' | 'transform'; sourceMap?: boolean; sourceUrl?: string }) => string;
};

/** Thrown on a Node without in-thread hooks and type stripping (Node 20). */
export class TypeScriptUnsupportedError extends Error {
  override readonly name = 'TypeScriptUnsupportedError';
  /** `command`: the covet command that was run (`dev`, `routes`, ...), so the hint repeats it. */
  constructor(file: string, command = 'dev') {
    const rel = relative(process.cwd(), file);
    const shown = rel.startsWith('..') || isAbsolute(rel) ? file : rel;
    const js = isAbsolute(shown) ? shown.replace(/\.([mc]?)ts$/, '.$1js') : join('dist', shown.replace(/\.([mc]?)ts$/, '.$1js'));
    super(
      `${shown} is TypeScript, and Node ${process.versions.node} cannot run TypeScript directly (Node ≥ 22.15 can).\n` +
        `  Either use Node 22.15+ / 24 / 26, or compile first and point covet at the JavaScript:\n` +
        `    npx tsc --watch   (in another terminal)\n    covet ${command} ${js}`,
    );
  }
}

let installed = false;

/** True when this Node can run `.ts` through these hooks. */
export function canRunTypeScript(): boolean {
  const m = module as ModuleWithHooks;
  return typeof m.registerHooks === 'function' && typeof m.stripTypeScriptTypes === 'function';
}

/** Installs the hooks once per process; throws `TypeScriptUnsupportedError` for `entry` where they cannot run. */
export function installTypeScriptHooks(entry: string, command = 'dev'): void {
  if (installed) return;
  const m = module as ModuleWithHooks;
  if (!canRunTypeScript()) {
    if (/\.[mc]?ts$/.test(entry)) throw new TypeScriptUnsupportedError(entry, command);
    return;
  }
  installed = true;
  process.setSourceMapsEnabled(true);
  quietExperimentalWarning();
  const strip = m.stripTypeScriptTypes!;
  const transformMode = hasTransformMode(strip);
  const cacheDir = process.env.COVET_TS_CACHE;
  if (cacheDir !== undefined) mkdirSync(cacheDir, { recursive: true });
  const transform = (url: string): string => {
    const file = fileURLToPath(url);
    let cached: string | undefined;
    if (cacheDir !== undefined) {
      const st = statSync(file);
      cached = join(cacheDir, `${createHash('sha1').update(`${file}\0${st.size}\0${st.mtimeMs}`).digest('hex')}.js`);
      try {
        return readFileSync(cached, 'utf8');
      } catch {
        // not cached yet
      }
    }
    const out = strip(readFileSync(file, 'utf8'), transformMode ? { mode: 'transform', sourceMap: true, sourceUrl: url } : { mode: 'strip' });
    if (cached !== undefined) writeFileSync(cached, out);
    return out;
  };
  m.registerHooks!({
    resolve(specifier, context, next) {
      try {
        return next(specifier, context);
      } catch (err) {
        // `./x.js` written for tsc, with only `./x.ts` on disk.
        if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && /^\.{1,2}\//.test(specifier) && /\.[mc]?js$/.test(specifier)) {
          return next(specifier.replace(/js$/, 'ts'), context);
        }
        throw err;
      }
    },
    load(url, context, next) {
      if (url.startsWith('file:') && /\.m?ts$/.test(url) && !url.includes('/node_modules/')) {
        return { format: 'module', source: transform(url), shortCircuit: true };
      }
      return next(url, context);
    },
  });
}

/** Node warns that stripTypeScriptTypes is experimental at each first use; the dev loop says it once, here. */
function quietExperimentalWarning(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/stripTypeScriptTypes|Type Stripping|registerHooks/i.test(text)) return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

/** Loads the transformer (a WebAssembly module, ~50 ms the first time) ahead of need. */
export function warmTypeScript(): void {
  (module as ModuleWithHooks).stripTypeScriptTypes?.('let a: number = 1;', { mode: 'strip' });
}

/** Node 26 removed the transform mode (it strips only). */
function hasTransformMode(strip: NonNullable<ModuleWithHooks['stripTypeScriptTypes']>): boolean {
  try {
    strip('let a: number = 1;', { mode: 'transform' });
    return true;
  } catch {
    return false;
  }
}
