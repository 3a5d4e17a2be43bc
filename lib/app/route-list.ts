/** The app's routes as a person reads them: what `covet routes` prints and `App.routes()` returns. */
import type { RouteInfo } from '../router/index.js';
import type { RouteEntry } from './route.js';

/** One route of an app (see `App.routes()`). */
export interface RouteListing {
  method: string;
  pattern: string;
  /** Path parameters with their types (`int`, `uuid`, ... or `string`). */
  params: Array<{ name: string; type: string }>;
  /** What guards it: the security schemes of its auth deps, with scopes, then `requires` permissions. */
  auth: string[];
  summary?: string;
  /** A WebSocket route (`app.ws`). */
  websocket: boolean;
  /** Left out of the OpenAPI document (`hide: true`, the built-in docs routes). */
  hidden: boolean;
}

export function listRoutes(http: RouteInfo<RouteEntry>[], ws: RouteInfo<RouteEntry>[]): RouteListing[] {
  const one = (r: RouteInfo<RouteEntry>, websocket: boolean): RouteListing => {
    const o = r.store.options;
    const auth: string[] = [];
    for (const d of o.deps ?? []) if (d.security !== undefined) auth.push(d.scopes !== undefined && d.scopes.length > 0 ? `${d.security.name}(${d.scopes.join(' ')})` : d.security.name);
    if (o.requires !== undefined) auth.push(`requires ${o.requires.join(', ')}`);
    return { method: websocket ? 'WS' : r.method, pattern: r.pattern, params: r.params.map((p) => ({ name: p.name, type: p.type })), auth, ...(o.summary === undefined ? {} : { summary: o.summary }), websocket, hidden: o.hide === true };
  };
  return [...http.map((r) => one(r, false)), ...ws.map((r) => one(r, true))];
}

/**
 * The routes as an aligned text table (one line each).
 *
 * @example
 * ```ts
 * console.log(formatRoutes(app.routes()));
 * // METHOD  PATTERN      PARAMS  AUTH  SUMMARY
 * // GET     /notes/{id}  id:int  -     one note
 * ```
 */
export function formatRoutes(routes: readonly RouteListing[]): string {
  const rows = routes.map((r) => [r.method, r.pattern, r.params.map((p) => `${p.name}:${p.type}`).join(' ') || '-', r.auth.join(' + ') || '-', r.summary ?? '']);
  const head = ['METHOD', 'PATTERN', 'PARAMS', 'AUTH', 'SUMMARY'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
