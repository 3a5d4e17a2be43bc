/**
 * String formats for route schemas (`Type.String({ format: 'email' })`). TypeBox checks a format only
 * through its registry, and without an entry every value fails ("Unknown format"); these are the formats
 * of JSON Schema 2020-12 §7.3 plus OpenAPI's `byte`, `binary` and `password`, registered once when
 * `covet/app` loads. Register more with {@link registerFormat}; a route whose schema names a format that is
 * not registered is refused when it is added, not answered 422 at every request.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { FormatRegistry, Kind, type TSchema } from '@sinclair/typebox';

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// RFC 3339 §5.6 full-time: the offset is required; a leap second (60) is allowed.
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:z|([+-])(\d{2}):(\d{2}))$/i;

function isDate(s: string): boolean {
  const m = DATE.exec(s);
  if (m === null) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= (mo === 2 && leap ? 29 : DAYS[mo]!);
}

function isTime(s: string): boolean {
  const m = TIME.exec(s);
  if (m === null) return false;
  const h = Number(m[1]);
  const min = Number(m[2]);
  const sec = Number(m[3]);
  if (m[4] !== undefined && (Number(m[5]) > 23 || Number(m[6]) > 59)) return false;
  return h <= 23 && min <= 59 && sec <= 60;
}

function isDateTime(s: string): boolean {
  // RFC 3339 §5.6; "T" may be lower case (§5.6 NOTE), as JSON Schema's format tests expect.
  const t = s.length > 10 && (s[10] === 'T' || s[10] === 't') ? 10 : -1;
  return t === 10 && isDate(s.slice(0, 10)) && isTime(s.slice(11));
}

// The local part and domain of RFC 5321 addresses as forms and APIs accept them (no quoted local parts,
// no address literals): the same rule as ajv-formats' `email`.
const EMAIL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const JSON_POINTER = /^(?:\/(?:[^~/]|~0|~1)*)*$/;
const RELATIVE_JSON_POINTER = /^(?:0|[1-9]\d*)(?:#|(?:\/(?:[^~/]|~0|~1)*)*)$/;
const DURATION = /^P(?!$)(?:(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?|\d+W)$/;
const URI_TEMPLATE = /^(?:[^\x00-\x20"'<>\\^`{|}]|\{[+#./;?&=,!@|]?[A-Za-z0-9_%.]+(?::\d{1,4}|\*)?(?:,[A-Za-z0-9_%.]+(?::\d{1,4}|\*)?)*\})*$/;
// Characters RFC 3986 never allows unescaped (controls, space, and "<>\"{}|\\^`"); IRIs add non-ASCII.
const URI_FORBIDDEN = /[\x00-\x20"<>\\^`{|}\x7f]/;
const NON_ASCII = /[^\x00-\x7f]/;

function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  return name.split('.').every((l) => HOSTNAME_LABEL.test(l));
}

function parsesAsUrl(s: string, base?: string): boolean {
  try {
    new URL(s, base);
    return true;
  } catch {
    return false;
  }
}

/** The formats registered when `covet/app` loads: name → check. */
export const STANDARD_FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  date: isDate,
  time: isTime,
  'date-time': isDateTime,
  duration: (s) => DURATION.test(s),
  email: (s) => s.length <= 254 && EMAIL.test(s),
  'idn-email': (s) => {
    const at = s.lastIndexOf('@');
    return at > 0 && s.length <= 254 && !/[\s@"(),:;<>[\\\]]/.test(s.slice(0, at)) && isHostname(domainToASCII(s.slice(at + 1)));
  },
  hostname: isHostname,
  'idn-hostname': (s) => isHostname(domainToASCII(s)),
  ipv4: (s) => isIPv4(s),
  ipv6: (s) => !s.includes('%') && isIPv6(s),
  uri: (s) => SCHEME.test(s) && !URI_FORBIDDEN.test(s) && !NON_ASCII.test(s) && parsesAsUrl(s),
  'uri-reference': (s) => !URI_FORBIDDEN.test(s) && !NON_ASCII.test(s) && parsesAsUrl(s, 'http://base.invalid/'),
  iri: (s) => SCHEME.test(s) && !URI_FORBIDDEN.test(s) && parsesAsUrl(s),
  'iri-reference': (s) => !URI_FORBIDDEN.test(s) && parsesAsUrl(s, 'http://base.invalid/'),
  'uri-template': (s) => URI_TEMPLATE.test(s),
  uuid: (s) => UUID.test(s),
  'json-pointer': (s) => JSON_POINTER.test(s),
  'relative-json-pointer': (s) => RELATIVE_JSON_POINTER.test(s),
  regex: (s) => {
    try {
      new RegExp(s, 'u');
      return true;
    } catch {
      return false;
    }
  },
  // OpenAPI 3.1 §4.2 data types: base64 bytes; `binary` (file contents) and `password` only annotate.
  byte: (s) => s.length % 4 === 0 && BASE64.test(s),
  binary: () => true,
  password: () => true,
};

let registered = false;

/** Registers the standard formats once; a format the user registered first keeps the user's check. */
export function registerStandardFormats(): void {
  if (registered) return;
  registered = true;
  for (const [name, check] of Object.entries(STANDARD_FORMATS)) if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
}

/**
 * Registers (or replaces) a string format for route schemas.
 *
 * @example
 * ```ts
 * import { registerFormat, Type } from 'covet/app';
 * registerFormat('sku', (s) => /^[A-Z]{3}-\d{4}$/.test(s));
 * app.post('/items', { schema: { body: Type.Object({ sku: Type.String({ format: 'sku' }) }) } }, handler);
 * ```
 */
export function registerFormat(name: string, check: (value: string) => boolean): void {
  registerStandardFormats();
  FormatRegistry.Set(name, check);
}

/**
 * Every `format` a string schema names that no check is registered for, with where it stands
 * (`/properties/email`). Walks nested objects, arrays, unions, records and `$defs`.
 */
export function unknownFormats(schema: TSchema): Array<{ format: string; at: string }> {
  registerStandardFormats();
  const out: Array<{ format: string; at: string }> = [];
  const seen = new Set<object>();
  const walk = (s: unknown, at: string): void => {
    if (typeof s !== 'object' || s === null || seen.has(s)) return;
    seen.add(s);
    const o = s as Record<string | symbol, unknown>;
    // TypeBox checks formats on strings only (Kind 'String'); elsewhere `format` is an annotation.
    if (typeof o.format === 'string' && (o[Kind] === 'String' || o.type === 'string') && !FormatRegistry.Has(o.format)) out.push({ format: o.format, at: at || '/' });
    for (const [k, v] of Object.entries(o)) {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}/${k}/${i}`));
      else if (typeof v === 'object') walk(v, `${at}/${k}`);
    }
  };
  walk(schema, '');
  return out;
}
