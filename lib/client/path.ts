/**
 * A request path from a route pattern and its params, by the router's own pattern grammar: each value
 * percent-encoded (a `{x:path}` or `*` value segment by segment, its slashes kept), an absent optional last
 * parameter dropped with its slash (as the router's `expandOptional` reads it). Values no URL can carry
 * (missing, empty, a `.` or `..` segment) are refused with the param's name.
 */
import { parsePattern, type ParamToken } from '../router/pattern.js';

/**
 * A param the call did not give, or gave as something that is not a string or a finite number.
 *
 * @example
 * ```ts
 * try {
 *   api.url('/notes/{id}', { params: {} as never });
 * } catch (err) {
 *   if (err instanceof ClientPathError) console.error(err.message); // names the missing param
 * }
 * ```
 */
export class ClientPathError extends TypeError {
  override name = 'ClientPathError';
}

/**
 * @example
 * ```ts
 * fillPath('/users/{id:int}/files/*', { id: 7, '*': 'a b/c' }); // '/users/7/files/a%20b/c'
 * ```
 */
export function fillPath(pattern: string, params: Readonly<Record<string, unknown>> = {}): string {
  let out = '';
  for (const t of parsePattern(pattern)) {
    if (t.kind === 'static') {
      out += t.text;
      continue;
    }
    const v = params[t.name];
    if (v === undefined && t.optional) return out.length > 1 ? out.slice(0, -1) : '/';
    out += encodeParam(pattern, t, v);
  }
  // WHATWG URL parsing (fetch's) resolves "." and ".." segments away, encoded or not: such a path cannot be sent.
  for (const seg of out.split('/')) {
    if (seg === '.' || seg === '..') throw new ClientPathError(`${pattern}: the path segment "${seg}" would be resolved away by the URL parser`);
  }
  return out;
}

function encodeParam(pattern: string, t: ParamToken, v: unknown): string {
  if (typeof v === 'number' ? !Number.isFinite(v) : typeof v !== 'string') {
    throw new ClientPathError(`${pattern}: param "${t.name}" must be a string or a finite number, got ${v === undefined ? 'nothing' : typeof v}`);
  }
  const s = String(v);
  // An empty segment would route elsewhere (or nowhere): refused here, where the caller can see why.
  if (s === '' && t.type !== 'wildcard') throw new ClientPathError(`${pattern}: param "${t.name}" is empty`);
  return t.type === 'path' || t.type === 'wildcard' ? s.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(s);
}
