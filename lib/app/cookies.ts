/**
 * Cookies (RFC 6265): parsing the `Cookie` header, serializing `Set-Cookie` with safe defaults
 * (`HttpOnly`, `SameSite=Lax`, `Path=/`), and HMAC-SHA256 signing with key rotation — values are signed
 * with the first secret and accepted under any of them, compared in constant time.
 */
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../net/constant-time.js';
import { emptyRecord } from './empty-record.js';

export interface CookieOptions {
  /** Seconds until expiry (`Max-Age`); 0 deletes. */
  maxAge?: number;
  expires?: Date;
  domain?: string;
  /** Default `/`. */
  path?: string;
  /** Default true. */
  httpOnly?: boolean;
  /** Default: true when `sameSite` is `none`, else unset. */
  secure?: boolean;
  /** Default `lax`. */
  sameSite?: 'strict' | 'lax' | 'none' | false;
  partitioned?: boolean;
  /** Sign the value with the app's `cookieSecrets` (read it back with `ctx.signedCookie`). */
  signed?: boolean;
}

/** RFC 6265 §4.1.1 cookie-name (a token) and cookie-octets; anything else is refused, not escaped. */
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
const ATTR = /^[\x20-\x3A\x3C-\x7E]*$/;

/**
 * Parses a `Cookie` header; the first occurrence of a name wins, malformed pairs are skipped.
 *
 * @example
 * ```ts
 * parseCookies('a=1; b=2; a=3'); // { a: '1', b: '2' }
 * ```
 */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out = emptyRecord<string>();
  if (header === undefined) return out;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name === '' || name in out) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out[name] = safeDecode(value);
  }
  return out;
}

/**
 * A `Set-Cookie` value. Values outside cookie-octets are percent-encoded so any string round-trips
 * through `parseCookies` + `decodeURIComponent`.
 *
 * @example
 * ```ts
 * serializeCookie('sid', 'abc', { httpOnly: true, secure: true, sameSite: 'lax', maxAge: 3600, path: '/' });
 * // 'sid=abc; Max-Age=3600; Path=/; Secure; HttpOnly; SameSite=Lax'
 * ```
 */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (!NAME.test(name)) throw new TypeError(`invalid cookie name ${JSON.stringify(name)}`);
  const v = VALUE.test(value) && !value.includes('%') ? value : encodeURIComponent(value);
  let s = `${name}=${v}`;
  if (options.maxAge !== undefined) s += `; Max-Age=${Math.floor(options.maxAge)}`;
  if (options.expires !== undefined) s += `; Expires=${options.expires.toUTCString()}`;
  if (options.domain !== undefined) s += `; Domain=${attr('domain', options.domain)}`;
  s += `; Path=${attr('path', options.path ?? '/')}`;
  const sameSite = options.sameSite ?? 'lax';
  if (options.secure ?? sameSite === 'none') s += '; Secure';
  if (options.httpOnly ?? true) s += '; HttpOnly';
  if (sameSite !== false) s += `; SameSite=${sameSite[0]!.toUpperCase()}${sameSite.slice(1)}`;
  if (options.partitioned) s += '; Partitioned';
  return s;
}

function attr(name: string, v: string): string {
  if (!ATTR.test(v)) throw new TypeError(`invalid cookie ${name} ${JSON.stringify(v)}`);
  return v;
}

function safeDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // not percent-encoding after all: keep it as sent
  }
}

/**
 * `value.signature` (base64url HMAC-SHA256 of the value under the first secret).
 *
 * @example
 * ```ts
 * const signed = signCookieValue('u42', [process.env.COOKIE_SECRET!]); // 'u42.<signature>'
 * ```
 */
export function signCookieValue(value: string, secrets: readonly string[]): string {
  if (secrets.length === 0) throw new Error('signed cookies need createApp({ cookieSecrets: [...] })');
  return `${value}.${mac(value, secrets[0]!)}`;
}

/**
 * The value if its signature verifies under any secret, else undefined.
 *
 * @example
 * ```ts
 * unsignCookieValue(signed, [newSecret, oldSecret]); // 'u42': the old secret still verifies while it is rotated out
 * unsignCookieValue('u42.forged', [newSecret]);     // undefined
 * ```
 */
export function unsignCookieValue(signed: string, secrets: readonly string[]): string | undefined {
  const dot = signed.lastIndexOf('.');
  if (dot < 0) return undefined;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  for (const secret of secrets) {
    const want = Buffer.from(mac(value, secret));
    if (constantTimeEqual(want, given)) return value;
  }
  return undefined;
}

const mac = (value: string, secret: string): string => createHmac('sha256', secret).update(value).digest('base64url');
