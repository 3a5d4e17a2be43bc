/**
 * A shared HTTP cache in front of routes (RFC 9111): GET/HEAD answers that say they may be stored
 * (`Cache-Control: public, max-age` / `s-maxage`, no `no-store`/`private`, no `Set-Cookie`, `Vary` not
 * `*`) are kept in the cache service and replayed, per variant of the request headers named in `Vary`;
 * a replay honours `If-None-Match` with a 304. `Age` tells how old a replay is; `X-Cache: HIT/MISS`.
 */
import type { Context } from '../context.js';
import { etagMatches } from '../etag.js';
import type { Cache } from './cache.js';

interface Stored {
  status: number;
  headers: Array<[string, string]>;
  body: string; // base64
  storedAt: number;
}

export interface HttpCacheOptions {
  cache: Cache;
  /** The cache key of a request (before Vary). Default method-independent `path?query`. */
  key?: (ctx: Context) => string;
  /** Tags for stored answers (invalidate with `cache.invalidateTag`). */
  tags?: (ctx: Context) => readonly string[];
}

const NOT_REPLAYED = new Set(['date', 'age', 'connection', 'transfer-encoding', 'keep-alive', 'set-cookie', 'x-cache']);

/**
 * Seconds a shared cache may keep this answer, or 0 (not storable).
 *
 * @example
 * ```ts
 * sharedMaxAge('public, max-age=60, s-maxage=300'); // 300 (seconds)
 * sharedMaxAge('private, max-age=60'); // 0: not for a shared cache
 * ```
 */
export function sharedMaxAge(cacheControl: string | undefined): number {
  if (cacheControl === undefined) return 0;
  const cc = cacheControl.toLowerCase();
  if (/(^|,)\s*(no-store|private|no-cache)\b/.test(cc)) return 0;
  const s = /(?:^|,)\s*s-maxage\s*=\s*"?(\d+)/.exec(cc) ?? /(?:^|,)\s*max-age\s*=\s*"?(\d+)/.exec(cc);
  return s === null ? 0 : Number(s[1]);
}

/**
 * @example
 * ```ts
 * app.use(httpCache({ cache }));
 * app.get('/articles/{id}', (ctx) => { ctx.res.setHeader('cache-control', 'public, max-age=60'); return article; });
 * ```
 */
export function httpCache(options: HttpCacheOptions) {
  const cache = options.cache;
  const baseKey = options.key ?? ((ctx: Context) => ctx.req.url);
  return async (ctx: Context, next: () => Promise<void>): Promise<void> => {
    const method = ctx.method;
    const reqCc = ctx.req.get('cache-control') ?? '';
    if ((method !== 'GET' && method !== 'HEAD') || /no-store/i.test(reqCc)) return next();
    const base = `http:${baseKey(ctx)}`;
    const vary = await cache.get<string[]>(`${base}#vary`);
    const key = vary === undefined ? base : `${base}#${vary.map((h) => `${h}=${ctx.req.get(h) ?? ''}`).join('&')}`;
    // A request with `no-cache` (or `max-age=0`) revalidates: go to the origin.
    const stored = /no-cache|max-age=0/i.test(reqCc) ? undefined : await cache.get<Stored>(key);
    const res = ctx.res;
    if (stored !== undefined) {
      res.statusCode = stored.status;
      for (const [k, v] of stored.headers) res.appendHeader(k, v);
      res.setHeader('age', String(Math.max(0, Math.floor((Date.now() - stored.storedAt) / 1000))));
      res.setHeader('x-cache', 'HIT');
      const tag = stored.headers.find(([k]) => k === 'etag')?.[1];
      const inm = ctx.req.get('if-none-match');
      if (tag !== undefined && inm !== undefined && etagMatches(inm, tag)) {
        res.statusCode = 304;
        res.removeHeader('content-length');
        res.end();
        return;
      }
      res.end(method === 'HEAD' ? undefined : Buffer.from(stored.body, 'base64'));
      return;
    }
    // Record what goes out (the handler may answer by returning a value or through res directly).
    const chunks: Buffer[] = [];
    let capturing = true;
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.setHeader('x-cache', 'MISS');
    res.write = ((chunk: string | Uint8Array) => {
      if (capturing) chunks.push(Buffer.from(chunk as Uint8Array));
      return write(chunk as Buffer);
    }) as typeof res.write;
    res.end = ((chunk?: string | Uint8Array) => {
      if (capturing && chunk !== undefined) chunks.push(Buffer.from(chunk as Uint8Array));
      return end(chunk as Buffer);
    }) as typeof res.end;
    try {
      await next();
    } finally {
      capturing = false;
      res.write = write as typeof res.write;
      res.end = end as typeof res.end;
    }
    const maxAge = sharedMaxAge(res.getHeader('cache-control'));
    const varyHeader = res.getHeader('vary');
    if (res.statusCode !== 200 || maxAge <= 0 || res.hasHeader('set-cookie') || method === 'HEAD' || /\*/.test(varyHeader ?? '')) return;
    if (res.hasHeader('content-encoding')) return; // encoded per client: leave it to the origin
    const varyNames = varyHeader === undefined ? [] : varyHeader.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
    const headers: Array<[string, string]> = [];
    for (const name of ['content-type', 'content-language', 'etag', 'last-modified', 'cache-control', 'vary', 'expires']) {
      const v = res.getHeader(name);
      if (v !== undefined && !NOT_REPLAYED.has(name)) headers.push([name, v]);
    }
    const ttl = maxAge * 1000;
    const tags = options.tags?.(ctx) ?? [];
    const variantKey = varyNames.length === 0 ? base : `${base}#${varyNames.map((h) => `${h}=${ctx.req.get(h) ?? ''}`).join('&')}`;
    if (varyNames.length > 0) await cache.set(`${base}#vary`, varyNames, { ttl, tags });
    await cache.set(variantKey, { status: 200, headers, body: Buffer.concat(chunks).toString('base64'), storedAt: Date.now() } satisfies Stored, { ttl, tags });
  };
}
