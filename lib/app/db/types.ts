/**
 * PostgreSQL values in the text format: parsers from the server's text output to JS by type OID, and
 * the encoding of JS values as text parameters. Results come back as text (one format for every type,
 * and the server's text output of numbers and timestamps is cheap to parse in JS).
 */

/** Type OIDs (pg_type.oid) the driver knows. */
export const OID = {
  bool: 16, bytea: 17, char: 18, name: 19, int8: 20, int2: 21, int4: 23, text: 25, oid: 26, json: 114,
  xml: 142, float4: 700, float8: 701, bpchar: 1042, varchar: 1043, date: 1082, time: 1083,
  timestamp: 1114, timestamptz: 1184, interval: 1186, numeric: 1700, uuid: 2950, jsonb: 3802,
} as const;

export type TypeParser = (text: string) => unknown;

export interface TypeOptions {
  /** How int8 (bigint) columns come back: `'string'` (default, exact and JSON-safe), `'bigint'`, or `'number'` (exact only below 2^53). */
  int8?: 'string' | 'bigint' | 'number';
  /** Parsers by type OID, overriding the built-ins (e.g. a numeric → decimal.js parser). */
  parsers?: Record<number, TypeParser>;
}

const identity: TypeParser = (s) => s;
const toNumber: TypeParser = (s) => Number(s);
const toFloat: TypeParser = (s) => (s === 'NaN' ? NaN : s === 'Infinity' ? Infinity : s === '-Infinity' ? -Infinity : Number(s));
const toBool: TypeParser = (s) => s === 't';
const toJson: TypeParser = (s) => JSON.parse(s) as unknown;
const toBytea: TypeParser = (s) => (s.startsWith('\\x') ? Buffer.from(s.slice(2), 'hex') : Buffer.from(unescapeBytea(s), 'latin1'));
/** timestamptz as the server prints it with `DateStyle=ISO`: `2024-01-02 03:04:05.678+00`. */
const toDate: TypeParser = (s) => {
  // Fast path for the usual shape (4-digit year ≥ 100, optional fraction, ±HH[:MM] or no zone):
  // digits read straight from the char codes; anything else takes the general path.
  const n = s.length;
  if (n >= 19 && s.charCodeAt(4) === 45 && s.charCodeAt(10) === 32 && s.charCodeAt(13) === 58) {
    const d2 = (i: number): number => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;
    const year = d2(0) * 100 + d2(2);
    let i = 19;
    let frac = 0;
    if (s.charCodeAt(19) === 46) {
      let scale = 100;
      for (i = 20; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c < 48 || c > 57) break;
        frac += (c - 48) * scale;
        scale /= 10;
      }
    }
    if (year >= 100) {
      let t = Date.UTC(year, d2(5) - 1, d2(8), d2(11), d2(14), d2(17), Math.floor(frac));
      if (i < n) {
        const c = s.charCodeAt(i);
        if ((c !== 43 && c !== 45) || (n !== i + 3 && n !== i + 6)) return toDateSlow(s);
        const off = d2(i + 1) * 60 + (n === i + 6 ? d2(i + 4) : 0);
        t -= (c === 45 ? -1 : 1) * off * 60_000;
      }
      return new Date(t);
    }
  }
  return toDateSlow(s);
};

const toDateSlow: TypeParser = (s) => {
  if (s === 'infinity' || s === '-infinity') return s === 'infinity' ? Infinity : -Infinity;
  // "+00" / "+05:30" offsets: Date.parse wants "±HH:MM"; a timestamp without zone is taken as UTC.
  let iso = s.replace(' ', 'T');
  const m = /([+-]\d\d)(?::?(\d\d))?(?::\d\d)?$/.exec(iso);
  if (m !== null && iso.indexOf('T') < m.index) iso = `${iso.slice(0, m.index)}${m[1]}:${m[2] ?? '00'}`;
  else iso += 'Z';
  if (iso.endsWith(' BC') || /^\d{5}/.test(iso)) return s; // outside what Date represents well: keep the text
  return new Date(iso);
};

function unescapeBytea(s: string): string {
  // Legacy "escape" format (bytea_output = escape): \\ and \ooo octal.
  return s.replace(/\\(\\|[0-7]{3})/g, (_, g: string) => (g === '\\' ? '\\' : String.fromCharCode(parseInt(g, 8))));
}

/** Element OID of each array type OID. */
const ARRAY_OF: Record<number, number> = {
  1000: OID.bool, 1001: OID.bytea, 1002: OID.char, 1003: OID.name, 1005: OID.int2, 1007: OID.int4, 1009: OID.text,
  1014: OID.bpchar, 1015: OID.varchar, 1016: OID.int8, 1021: OID.float4, 1022: OID.float8, 1028: OID.oid,
  1115: OID.timestamp, 1182: OID.date, 1183: OID.time, 1185: OID.timestamptz, 1187: OID.interval,
  1231: OID.numeric, 199: OID.json, 2951: OID.uuid, 3807: OID.jsonb,
};

/**
 * Parses an array literal (`{1,2,NULL}`, `{{"a b","c\"d"}}`) into nested arrays, each element through
 * `parse` (NULL → null).
 *
 * @example
 * ```ts
 * parseArray('{1,2,NULL}', typeParsers()(OID.int4)); // [1, 2, null]
 * ```
 */
export function parseArray(text: string, parse: TypeParser): unknown[] {
  let i = 0;
  // An explicit dimension prefix ("[0:1]={...}") carries bounds we do not keep.
  if (text[0] === '[') i = text.indexOf('=') + 1;
  const read = (): unknown[] => {
    const out: unknown[] = [];
    i++; // '{'
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      const c = text[i];
      if (c === '{') out.push(read());
      else if (c === '"') {
        let s = '';
        i++;
        while (text[i] !== '"') {
          if (text[i] === '\\') i++;
          s += text[i++];
        }
        i++;
        out.push(parse(s));
      } else {
        let j = i;
        while (text[j] !== ',' && text[j] !== '}') j++;
        const raw = text.slice(i, j);
        i = j;
        out.push(raw === 'NULL' ? null : parse(raw));
      }
      if (text[i] === ',') i++;
      else {
        i++; // '}'
        return out;
      }
    }
  };
  return read();
}

/**
 * The parser for each type OID under `options`; unknown types stay text.
 *
 * @example
 * ```ts
 * const parse = typeParsers({ int8: 'bigint' });
 * parse(OID.int8)('9007199254740993'); // 9007199254740993n
 * ```
 */
export function typeParsers(options: TypeOptions = {}): (oid: number) => TypeParser {
  const int8: TypeParser = options.int8 === 'bigint' ? (s) => BigInt(s) : options.int8 === 'number' ? toNumber : identity;
  const base: Record<number, TypeParser> = {
    [OID.bool]: toBool, [OID.bytea]: toBytea, [OID.int8]: int8, [OID.int2]: toNumber, [OID.int4]: toNumber,
    [OID.oid]: toNumber, [OID.float4]: toFloat, [OID.float8]: toFloat, [OID.json]: toJson, [OID.jsonb]: toJson,
    [OID.timestamp]: toDate, [OID.timestamptz]: toDate,
    ...options.parsers,
  };
  const cache = new Map<number, TypeParser>();
  return (oid) => {
    let p = cache.get(oid);
    if (p === undefined) {
      const el = ARRAY_OF[oid];
      if (options.parsers?.[oid] !== undefined || el === undefined) p = base[oid] ?? identity;
      else {
        const e = base[el] ?? identity;
        p = (s) => parseArray(s, e);
      }
      cache.set(oid, p);
    }
    return p;
  };
}

/**
 * A JS value as a parameter: null/undefined → SQL NULL, Date → ISO 8601, bytes → binary for a bytea
 * parameter (else `\x` hex),
 * arrays → array literals, booleans → `t`/`f`, other objects → JSON; any value for a `json`/`jsonb`
 * parameter (`oid`, from the statement's Describe) → JSON. Values always travel as
 * parameters, never inside the SQL text.
 *
 * @example
 * ```ts
 * encodeParam(new Date(0)); // '1970-01-01T00:00:00.000Z'
 * encodeParam([1, 2]);      // '{1,2}'
 * encodeParam(true);        // 't'
 * ```
 */
export function encodeParam(v: unknown, oid?: number): string | Buffer | null {
  if (v === null || v === undefined) return null;
  // A json parameter is always JSON, even a string or an array (as postgres.js does).
  if (oid === OID.json || oid === OID.jsonb) return JSON.stringify(v);
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'bigint':
      return String(v);
    case 'boolean':
      return v ? 't' : 'f';
    default:
      if (v instanceof Date) return v.toISOString();
      if (v instanceof Uint8Array) {
        const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        // A bytea parameter goes in the binary format: the bytes as they are, not twice their size in hex.
        return oid === OID.bytea ? b : `\\x${b.toString('hex')}`;
      }
      if (Array.isArray(v)) return encodeArray(v);
      return JSON.stringify(v);
  }
}

/** Elements that need no quotes in an array literal: no delimiters, quotes, braces, spaces or backslashes. */
const BARE = /^[^\s",\\{}]+$/;

function encodeArray(a: readonly unknown[]): string {
  let out = '{';
  for (let i = 0; i < a.length; i++) {
    if (i > 0) out += ',';
    const e = a[i];
    if (Array.isArray(e)) {
      out += encodeArray(e);
      continue;
    }
    const s = typeof e === 'number' ? String(e) : (encodeParam(e) as string | null);
    if (s === null) out += 'NULL';
    else if (typeof e === 'number' || (BARE.test(s) && s.toUpperCase() !== 'NULL')) out += s;
    else out += `"${s.replace(/[\\"]/g, '\\$&')}"`;
  }
  return out + '}';
}
