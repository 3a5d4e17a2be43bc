/**
 * Static files: a route handler serving a directory, with validators (weak ETag from size + mtime,
 * Last-Modified) and 304s, single byte ranges (206/416, If-Range), precompressed `.br`/`.gz` siblings
 * chosen by Accept-Encoding, index files, and streaming with backpressure. A path can never leave the
 * root: `..` and NUL are refused, dotfiles hidden, and symlinks are resolved and checked against the root.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Stats } from 'node:fs';
import type { Handler } from './route.js';
import { definePlugin } from './plugin.js';
import type { Context } from './context.js';
import { HttpError } from './errors.js';
import { etagMatches } from './etag.js';
import { negotiateEncoding, type Encoding } from './compression.js';

export interface StaticOptions {
  /** The route param holding the file path (declare it `{name:path}`). Default `path`. */
  param?: string;
  /** File served for a directory; `false` for none. Default `index.html`. */
  index?: string | false;
  /** Serve `file.br` / `file.gz` when present and accepted. Default true. */
  precompressed?: boolean;
  /** `Cache-Control: max-age` in seconds. Default 0 (revalidate each time). */
  maxAge?: number;
  /** Add `immutable` (for fingerprinted assets). Default false. */
  immutable?: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8', '.txt': 'text/plain; charset=utf-8', '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8', '.xml': 'application/xml', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.avif': 'image/avif',
  '.ico': 'image/x-icon', '.woff': 'font/woff', '.woff2': 'font/woff2', '.wasm': 'application/wasm',
  '.pdf': 'application/pdf', '.mp4': 'video/mp4', '.webm': 'video/webm', '.mp3': 'audio/mpeg', '.zip': 'application/zip',
};
const SUFFIX: Record<Encoding, string> = { br: '.br', gzip: '.gz' };

/**
 * @example
 * ```ts
 * app.get('/assets/{path:path}', serveStatic('public', { maxAge: 31536000, immutable: true }));
 * ```
 */
export function serveStatic(root: string, options: StaticOptions = {}): Handler {
  const param = options.param ?? 'path';
  const index = options.index ?? 'index.html';
  const cacheControl = `public, max-age=${options.maxAge ?? 0}${options.immutable ? ', immutable' : ''}`;
  let realRoot: Promise<string> | null = null;
  const notFound = (): HttpError => new HttpError(404);
  return async (ctx: Context) => {
    realRoot ??= realpath(path.resolve(root));
    const base = await realRoot;
    const rel = String(ctx.params[param] ?? '');
    const segments = rel.split('/').filter((s) => s !== '');
    if (rel.includes('\0') || rel.includes('\\') || segments.some((s) => s === '..' || s.startsWith('.'))) throw notFound();
    let file = path.join(base, ...segments);
    let st = await statOrNull(file);
    if (st?.isDirectory() && index !== false) {
      file = path.join(file, index);
      st = await statOrNull(file);
    }
    if (st === null || !st.isFile()) throw notFound();
    // Symlinks may point anywhere: the resolved file must still be under the resolved root.
    const real = await realpath(file);
    if (real !== base && !real.startsWith(base + path.sep)) throw notFound();

    const res = ctx.res;
    const rangeHeader = ctx.req.get('range');
    // Ranges address the identity bytes; a precompressed variant is chosen only for whole-file requests.
    let variant = real;
    let vst = st;
    if (options.precompressed !== false) {
      ctx.vary('Accept-Encoding');
      const enc = rangeHeader === undefined ? negotiateEncoding(ctx.req.get('accept-encoding'), ['br', 'gzip']) : undefined;
      if (enc !== undefined) {
        const pst = await statOrNull(real + SUFFIX[enc]);
        if (pst?.isFile()) {
          variant = real + SUFFIX[enc];
          vst = pst;
          res.setHeader('content-encoding', enc);
        }
      }
    }
    const etag = `W/"${vst.size.toString(16)}-${Math.floor(vst.mtimeMs).toString(16)}"`;
    const lastModified = vst.mtime.toUTCString();
    // A handler wrapping this one may have chosen the type (files stored under opaque names).
    if (!res.hasHeader('content-type')) res.setHeader('content-type', TYPES[path.extname(real).toLowerCase()] ?? 'application/octet-stream');
    res.setHeader('etag', etag);
    res.setHeader('last-modified', lastModified);
    res.setHeader('cache-control', cacheControl);
    res.setHeader('accept-ranges', 'bytes');
    if (notModified(ctx, etag, vst)) {
      res.statusCode = 304;
      res.removeHeader('content-type');
      res.end();
      return;
    }
    let start = 0;
    let end = vst.size - 1;
    if (rangeHeader !== undefined && ifRangeHolds(ctx.req.get('if-range'), lastModified)) {
      const r = parseRange(rangeHeader, vst.size);
      if (r === 'unsatisfiable') {
        res.statusCode = 416;
        res.setHeader('content-range', `bytes */${vst.size}`);
        res.removeHeader('content-type');
        res.end();
        return;
      }
      if (r !== undefined) {
        [start, end] = r;
        res.statusCode = 206;
        res.setHeader('content-range', `bytes ${start}-${end}/${vst.size}`);
      }
    }
    const length = Math.max(0, end - start + 1);
    res.setHeader('content-length', String(length));
    if (ctx.req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    return createReadStream(variant, { start, end, highWaterMark: 64 * 1024 });
  };
}

async function statOrNull(file: string): Promise<Stats | null> {
  try {
    return await stat(file);
  } catch {
    return null;
  }
}

/** RFC 9110 §13.1.2/§13.1.3: If-None-Match decides when present; otherwise If-Modified-Since (GET/HEAD). */
function notModified(ctx: Context, etag: string, st: Stats): boolean {
  const inm = ctx.req.get('if-none-match');
  if (inm !== undefined) return etagMatches(inm, etag);
  const ims = ctx.req.get('if-modified-since');
  if (ims === undefined) return false;
  const t = Date.parse(ims);
  return !Number.isNaN(t) && Math.floor(st.mtimeMs / 1000) * 1000 <= t;
}

/** RFC 9110 §13.1.5: a Range applies only if If-Range (when sent) still names this representation. Weak tags never match. */
function ifRangeHolds(ifRange: string | undefined, lastModified: string): boolean {
  if (ifRange === undefined) return true;
  // Our tags are weak and If-Range compares strongly, so only the date form can hold.
  return ifRange === lastModified;
}

/**
 * One `bytes=` range (RFC 9110 §14.1.2) → [start, end] inclusive. Several ranges, other units or bad syntax
 * → undefined (the whole file is sent, as the RFC allows); no satisfiable byte → 'unsatisfiable'.
 *
 * @example
 * ```ts
 * parseRange('bytes=0-99', 1000);  // [0, 99]
 * parseRange('bytes=2000-', 1000); // 'unsatisfiable': answer 416
 * parseRange('bytes=0-1,5-9', 1000); // undefined: several ranges, send the whole file
 * ```
 */
export function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  if (m === null || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return [start, end];
}

/**
 * The static-files plugin: `root`'s files under the plugin's `prefix` (GET and HEAD), with the options of
 * {@link serveStatic}.
 *
 * @example
 * ```ts
 * app.register(staticFiles, { root: 'public', prefix: '/assets', maxAge: 31536000, immutable: true });
 * ```
 */
export const staticFiles = definePlugin<StaticOptions & { root: string }>('static', (app, options) => {
  const { root, ...rest } = options;
  const param = rest.param ?? 'path';
  app.get(`/{${param}:path}`, { hide: true }, serveStatic(root, rest));
});
