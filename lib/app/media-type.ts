/**
 * Content-Type as RFC 9110 §8.3 defines it: `type "/" subtype *( OWS ";" OWS parameter )`, parameters
 * `token "=" ( token / quoted-string )`. One media type only: a list (what a repeated header becomes when
 * joined) or a malformed value is refused, never read as JSON by its first bytes.
 */

export interface MediaType {
  /** `type/subtype`, lowercased. */
  essence: string;
  /** Parameter names lowercased; values as sent (quotes removed). */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses one media type; `null` when the value is not one (malformed, or a list). */
export function parseMediaType(value: string): MediaType | null {
  const slash = value.indexOf('/');
  let semi = value.indexOf(';');
  if (semi < 0) semi = value.length;
  if (slash <= 0 || slash > semi) return null;
  const type = value.slice(0, slash).trim();
  const subtype = value.slice(slash + 1, semi).trim();
  if (!TOKEN.test(type) || !TOKEN.test(subtype)) return null;
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  let i = semi;
  const n = value.length;
  while (i < n) {
    // at ';'
    i++;
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
    if (i >= n) break; // a trailing ';' is allowed
    const eq = value.indexOf('=', i);
    if (eq < 0) return null;
    const name = value.slice(i, eq).toLowerCase();
    if (!TOKEN.test(name)) return null;
    i = eq + 1;
    let v = '';
    if (value[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = value[i]!;
        if (c === '\\' && i + 1 < n) {
          v += value[i + 1];
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          v += c;
          i++;
        }
      }
      if (!closed) return null;
    } else {
      const end = value.indexOf(';', i);
      v = value.slice(i, end < 0 ? n : end).trimEnd();
      if (!TOKEN.test(v)) return null;
      i = end < 0 ? n : end;
    }
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
    if (i < n && value[i] !== ';') return null;
    if (name in params) return null;
    params[name] = v;
  }
  return { essence: `${type}/${subtype}`.toLowerCase(), params };
}

/** Whether `essence` is JSON: `application/json` or a `+json` structured syntax suffix (RFC 6839). */
export function isJsonType(essence: string): boolean {
  return essence === 'application/json' || (essence.startsWith('application/') && essence.endsWith('+json'));
}
