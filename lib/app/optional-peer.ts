/**
 * Optional peer dependencies (PGlite, ioredis, prom-client) are loaded when a feature first needs them,
 * so an app that uses none of them installs none of them. A missing one is a clear error naming the
 * package and the command that installs it, not a bare "Cannot find module".
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Thrown when a feature needs an optional package that is not installed.
 *
 * @example
 * ```ts
 * try {
 *   await app.ready();
 * } catch (err) {
 *   if (err instanceof MissingPeerError) console.error(err.message); // '… needs the package "graphql", which is not installed: run `npm install graphql`'
 * }
 * ```
 */
export class MissingPeerError extends Error {
  override readonly name = 'MissingPeerError';
  readonly pkg: string;
  constructor(pkg: string, feature: string) {
    super(`${feature} needs the package "${pkg}", which is not installed: run \`npm install ${pkg}\``);
    this.pkg = pkg;
  }
}

function missing(err: unknown, pkg: string): boolean {
  const e = err as { code?: string; message?: string };
  return (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && (e.message ?? '').includes(pkg);
}

/** `require`s a CommonJS optional peer (synchronously, for APIs that return at once). */
export function requirePeer<T>(pkg: string, feature: string): T {
  try {
    return require(pkg) as T;
  } catch (err) {
    throw missing(err, pkg) ? new MissingPeerError(pkg, feature) : err;
  }
}

/** `import`s an ESM optional peer. */
export async function importPeer<T>(pkg: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw missing(err, pkg) ? new MissingPeerError(pkg, feature) : err;
  }
}
