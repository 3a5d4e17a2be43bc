/**
 * API versioning: the versions an API has, where a request names one (a URL prefix, a header, a
 * media-type parameter or a query parameter), routes that exist in a range of versions, and the
 * deprecation and sunset of versions and routes (RFC 9745 `Deprecation`, RFC 8594 `Sunset`, with their
 * `Link` relations).
 *
 * Versions are names in order, oldest first (`['1', '2', '3']`, or dates such as `'2026-01-15'`); a
 * route's `version` is a range over that order: `'2'`, `'>=2'`, `'>=1 <3'`, `'1 || 3'`, `'*'`.
 *
 * @example
 * ```ts
 * const app = createApp({ versioning: { versions: ['1', '2'], by: 'header', deprecated: { '1': { sunset: '2027-06-30', link: 'https://example.com/migrate-to-v2' } } } });
 * app.get('/users/{id:int}', { version: '1' }, (ctx) => ({ id: ctx.params.id, name: 'Ada Lovelace' }));
 * app.get('/users/{id:int}', { version: '>=2' }, (ctx) => ({ id: ctx.params.id, givenName: 'Ada', familyName: 'Lovelace' }));
 * // GET /users/1 with Accept-Version: 1 → the first, with Deprecation, Sunset and Link headers
 * ```
 */
import type { RouteInfo } from '../router/index.js';
import type { Context } from './context.js';
import { HttpError } from './errors.js';
import { definePlugin } from './plugin.js';
import type { Deprecation, RouteDefinition, RouteEntry } from './route.js';

export type { Deprecation } from './route.js';

/** Where a request names its version. */
export type VersionSource = 'url' | 'header' | 'media-type' | 'query';

export interface VersioningOptions {
  /** Every version, oldest first. */
  versions: readonly string[];
  /**
   * Where requests name their version: `url` (`/v2/users`: each route is served under the prefix of each
   * version it exists in), `header` (`Accept-Version: 2`), `media-type` (`Accept:
   * application/vnd.example+json; version=2`) or `query` (`?version=2`).
   */
  by: VersionSource;
  /** The header (`by: 'header'`). Default `accept-version`. */
  header?: string;
  /** The query or media-type parameter (`by: 'query'`, `'media-type'`). Default `version`. */
  param?: string;
  /** The URL prefix before the version (`by: 'url'`). Default `v` (`/v2/...`). */
  prefix?: string;
  /**
   * The version of a request that names none (header, media-type, query). Default the latest; `null`
   * answers such requests 400.
   */
  default?: string | null;
  /** Versions on their way out, by name. */
  deprecated?: Record<string, Deprecation>;
}

/** A compiled range: the indexes of the versions it includes. */
export type VersionSet = ReadonlySet<number>;

/** The resolved settings (see {@link compileVersioning}). */
export interface Versioning {
  readonly options: VersioningOptions;
  readonly versions: readonly string[];
  /** The versions a range includes. */
  range(spec: string | false | undefined, where: string): VersionSet;
  /** The version a request names: its index, `null` for none named; throws 400 for an unknown one. */
  resolve(get: (name: string) => string | undefined, query: string): number | null;
  /** The index of the version used when a request names none (-1: none, answer 400). */
  readonly fallback: number;
  /** Response headers for a version or route on its way out (empty when neither is). */
  deprecationHeaders(version: number | null, route: Deprecation | boolean | undefined): Array<[string, string]>;
}

/**
 * Checks the options and compiles them.
 *
 * @example
 * ```ts
 * const v = compileVersioning({ versions: ['1', '2'], by: 'header' });
 * v.resolve((name) => (name === 'accept-version' ? '2' : undefined), ''); // 1: the index of version '2'
 * ```
 */
export function compileVersioning(o: VersioningOptions): Versioning {
  const versions = [...o.versions];
  if (versions.length === 0) throw new Error('versioning: give at least one version');
  if (new Set(versions).size !== versions.length) throw new Error('versioning: a version is listed twice');
  for (const v of versions) if (!/^[A-Za-z0-9._-]+$/.test(v)) throw new Error(`versioning: version ${JSON.stringify(v)}: letters, digits, '.', '_' and '-' only`);
  const index = new Map(versions.map((v, i) => [v, i]));
  const fallback = o.default === null ? -1 : o.default === undefined ? versions.length - 1 : index.get(o.default) ?? -2;
  if (fallback === -2) throw new Error(`versioning: the default version ${JSON.stringify(o.default)} is not one of ${versions.join(', ')}`);
  for (const v of Object.keys(o.deprecated ?? {})) if (!index.has(v)) throw new Error(`versioning: deprecated version ${JSON.stringify(v)} is not one of ${versions.join(', ')}`);
  const header = (o.header ?? 'accept-version').toLowerCase();
  const param = o.param ?? 'version';
  const paramRe = new RegExp(`;\\s*${param.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=\\s*"?([A-Za-z0-9._-]+)"?`, 'i');
  const known = (v: string): number => {
    const i = index.get(v);
    if (i === undefined) throw new HttpError(400, { detail: `API version ${JSON.stringify(v.slice(0, 40))} does not exist; the versions are ${versions.join(', ')}` });
    return i;
  };
  return {
    options: o,
    versions,
    fallback,
    range(spec, where) {
      if (spec === undefined || spec === false || spec.trim() === '*') return new Set(versions.map((_, i) => i));
      const out = new Set<number>();
      for (const alt of spec.split('||')) {
        const terms = alt.trim().split(/\s+/).filter(Boolean);
        if (terms.length === 0) throw new Error(`${where}: version range ${JSON.stringify(spec)} has an empty alternative`);
        let lo = 0;
        let hi = versions.length - 1;
        for (const t of terms) {
          const m = /^(>=|<=|>|<|=)?(.+)$/.exec(t)!;
          const i = index.get(m[2]!);
          if (i === undefined) throw new Error(`${where}: version ${JSON.stringify(m[2])} in ${JSON.stringify(spec)} is not one of ${versions.join(', ')}`);
          const op = m[1] ?? '=';
          if (op === '=') [lo, hi] = [Math.max(lo, i), Math.min(hi, i)];
          else if (op === '>=') lo = Math.max(lo, i);
          else if (op === '>') lo = Math.max(lo, i + 1);
          else if (op === '<=') hi = Math.min(hi, i);
          else hi = Math.min(hi, i - 1);
        }
        for (let i = lo; i <= hi; i++) out.add(i);
      }
      if (out.size === 0) throw new Error(`${where}: version range ${JSON.stringify(spec)} includes no version of ${versions.join(', ')}`);
      return out;
    },
    resolve(get, query) {
      if (o.by === 'header') {
        const v = get(header)?.trim();
        return v === undefined || v === '' ? null : known(v);
      }
      if (o.by === 'media-type') {
        const m = paramRe.exec(get('accept') ?? '');
        return m === null ? null : known(m[1]!);
      }
      if (o.by === 'query') {
        const v = new URLSearchParams(query).get(param);
        return v === null || v === '' ? null : known(v);
      }
      return null; // by URL: the route itself is of one version
    },
    deprecationHeaders(version, route) {
      const d: Deprecation | undefined = route === true ? {} : route === false || route === undefined ? (version === null ? undefined : o.deprecated?.[versions[version]!]) : route;
      if (d === undefined) return [];
      const out: Array<[string, string]> = [];
      // RFC 9745 §2.1: an Item of type Date, `@` and seconds since the epoch; `?1` when no date is known.
      out.push(['deprecation', d.since === undefined ? '?1' : `@${Math.floor(new Date(d.since).getTime() / 1000)}`]);
      if (d.sunset !== undefined) out.push(['sunset', new Date(d.sunset).toUTCString()]); // RFC 8594 §3: an HTTP-date
      const links: string[] = [];
      if (d.link !== undefined) links.push(`<${d.link}>; rel="deprecation"`);
      if (d.link !== undefined && d.sunset !== undefined) links.push(`<${d.link}>; rel="sunset"`);
      if (links.length > 0) out.push(['link', links.join(', ')]);
      return out;
    },
  };
}

/** Where the versioning plugin leaves its compiled settings for other plugins (`app.value(VERSIONING)`). */
export const VERSIONING = Symbol.for('covet.versioning');

/**
 * The versioning plugin (`createApp({ versioning })` registers it): routes are added per version range —
 * under each version's prefix (`by: 'url'`), or as variants of one router slot — and each request is
 * served by the variant of the version it names, with Deprecation/Sunset headers. A route with
 * `version: false` belongs to no version.
 */
export const versioning = definePlugin<VersioningOptions>(
  'versioning',
  (app, options) => {
    const v = compileVersioning(options);
    app.decorate(VERSIONING, v);
    const slots = new Map<string, RouteEntry>();
    app.addHook('onRoute', (def) => {
      if (def.entry.options.version === false) return undefined; // served whatever the request names
      const versions = v.range(def.entry.options.version, def.where);
      if (v.options.by === 'url') {
        const prefix = v.options.prefix ?? 'v';
        return [...versions].map((i) => ({ ...def, path: `/${prefix}${v.versions[i]!}${def.path === '/' ? '' : def.path}`, entry: { ...def.entry, versions: new Set([i]) } }));
      }
      // One router slot per method and path; the routes on it split the versions between them.
      const out: RouteDefinition[] = [];
      for (const m of Array.isArray(def.method) ? def.method : [def.method]) {
        const key = `${m.toUpperCase()} ${def.path}`;
        const variant: RouteEntry = { ...def.entry, versions };
        const slot = slots.get(key);
        if (slot === undefined) {
          const first: RouteEntry = { ...variant, variants: [variant] };
          slots.set(key, first);
          out.push({ ...def, method: m, entry: first });
          continue;
        }
        const taken = [...versions].filter((i) => slot.variants!.some((e) => e.versions!.has(i)));
        if (taken.length > 0) throw new Error(`${def.where}: version ${taken.map((i) => v.versions[i]).join(', ')} of this route is already handled by another`);
        slot.variants!.push(variant);
        slot.versions = new Set([...slot.versions!, ...versions]);
      }
      return out;
    });
    app.addHook('onMatch', (ctx, store, query) => pickVersion(v, ctx, store, query));
  },
  { encapsulate: false },
);

/**
 * The route a versioned request is served by (and its response headers set), or the error to answer:
 * 400 for an unknown version (or none named, without a default), 404 when the route does not exist in
 * the version asked for.
 */
function pickVersion(v: Versioning, ctx: Context, store: RouteEntry, query: string): RouteEntry | HttpError {
  const { req, res } = ctx;
  if (store.versions === undefined) return store; // a route of no version (documents, docs page)
  let version: number | null;
  if (v.options.by === 'url') version = store.versions.values().next().value!;
  else {
    // The answer depends on the header that named the version (by query, the URL already keys caches).
    if (v.options.by !== 'query') ctx.vary(v.options.by === 'header' ? (v.options.header ?? 'Accept-Version') : 'Accept');
    try {
      version = v.resolve((n) => req.get(n), query) ?? v.fallback;
    } catch (err) {
      return err as HttpError;
    }
    if (version < 0) return new HttpError(400, { detail: `name the API version (${v.options.by === 'header' ? `the ${v.options.header ?? 'Accept-Version'} header` : v.options.by === 'query' ? `the "${v.options.param ?? 'version'}" query parameter` : `the "${v.options.param ?? 'version'}" parameter of Accept`}): ${v.versions.join(', ')}` });
  }
  const entry = store.variants === undefined ? (store.versions.has(version) ? store : undefined) : store.variants.find((e) => e.versions!.has(version));
  if (entry === undefined) return new HttpError(404, { detail: `${req.method} ${req.path} does not exist in API version ${v.versions[version]}` });
  for (const [name, value] of v.deprecationHeaders(version, entry.options.deprecated)) {
    if (name === 'link') res.appendHeader(name, value); // other Link relations may be set too
    else res.setHeader(name, value);
  }
  ctx.apiVersion = v.versions[version];
  return entry;
}

/** The routes of version `i` (each slot's variant for it), for its OpenAPI document. */
export function routesInVersion(routes: Array<RouteInfo<RouteEntry>>, i: number): Array<RouteInfo<RouteEntry>> {
  const out: Array<RouteInfo<RouteEntry>> = [];
  for (const r of routes) {
    const s = r.store;
    if (s.variants !== undefined) {
      const e = s.variants.find((x) => x.versions!.has(i));
      if (e !== undefined) out.push({ ...r, store: e });
    } else if (s.versions === undefined || s.versions.has(i)) out.push(r);
  }
  return out;
}

/** What a version's OpenAPI document adds to each versioned operation: the version parameter, deprecation. */
export function versionDoc(v: Versioning, i: number): { parameter?: Record<string, unknown>; deprecated?: boolean } {
  const name = v.versions[i]!;
  const by = v.options.by;
  const parameter =
    by === 'header'
      ? { name: v.options.header ?? 'Accept-Version', in: 'header', required: v.fallback < 0, schema: { type: 'string', const: name } }
      : by === 'query'
        ? { name: v.options.param ?? 'version', in: 'query', required: v.fallback < 0, schema: { type: 'string', const: name } }
        : undefined;
  return { ...(parameter === undefined ? {} : { parameter }), deprecated: v.options.deprecated?.[name] !== undefined };
}
