/**
 * Common field names, matched case-insensitively straight from the bytes so the parser (a) knows the
 * framing-relevant fields without building a lowercase string and (b) hands out interned strings for the
 * usual spellings instead of slicing a new one per request.
 */

/** Ids of the fields the parser acts on. Everything else has id `H_OTHER`. */
const H_OTHER = 0;
export const H_CONTENT_LENGTH = 1;
export const H_TRANSFER_ENCODING = 2;
export const H_CONNECTION = 3;
export const H_UPGRADE = 4;
export const H_HOST = 5;
export const H_EXPECT = 6;

const SEMANTIC: Record<string, number> = {
  'content-length': H_CONTENT_LENGTH,
  'transfer-encoding': H_TRANSFER_ENCODING,
  connection: H_CONNECTION,
  upgrade: H_UPGRADE,
  host: H_HOST,
  expect: H_EXPECT,
};

const NAMES = [
  'host', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'accept-charset', 'connection',
  'content-length', 'content-type', 'content-encoding', 'transfer-encoding', 'upgrade', 'cookie', 'referer',
  'origin', 'cache-control', 'pragma', 'authorization', 'if-none-match', 'if-modified-since', 'if-match',
  'if-unmodified-since', 'if-range', 'range', 'expect', 'date', 'server', 'etag', 'last-modified', 'location',
  'set-cookie', 'vary', 'keep-alive', 'te', 'trailer', 'x-forwarded-for', 'x-forwarded-proto',
  'x-forwarded-host', 'x-real-ip', 'x-requested-with', 'x-request-id', 'dnt', 'upgrade-insecure-requests',
  'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-user', 'sec-ch-ua', 'sec-ch-ua-mobile',
  'sec-ch-ua-platform', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions',
  'sec-websocket-protocol', 'sec-websocket-accept', 'http2-settings', 'access-control-request-method',
  'access-control-request-headers', 'priority', 'forwarded', 'via', 'content-range', 'accept-ranges', 'age',
  'expires', 'allow', 'www-authenticate', 'proxy-authorization', 'x-api-key', 'content-disposition',
];

function canonical(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

export interface KnownHeader {
  lower: string;
  canonical: string;
  /** Lowercase bytes. */
  bytes: Uint8Array;
  id: number;
}

/** Candidates indexed by name length. */
const KNOWN_BY_LENGTH: KnownHeader[][] = [];
for (const lower of NAMES) {
  const k: KnownHeader = {
    lower,
    canonical: lower === 'te' ? 'TE' : lower === 'dnt' ? 'DNT' : canonical(lower),
    bytes: Buffer.from(lower, 'latin1'),
    id: SEMANTIC[lower] ?? H_OTHER,
  };
  (KNOWN_BY_LENGTH[lower.length] ??= []).push(k);
}

const LOWER = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const B_HOST = LOWER('host');
const B_EXPECT = LOWER('expect');
const B_UPGRADE = LOWER('upgrade');
const B_CONNECTION = LOWER('connection');
const B_CONTENT_LENGTH = LOWER('content-length');
const B_TRANSFER_ENCODING = LOWER('transfer-encoding');

/** `buf[s, s + lower.length)` equals the lowercase `lower` ignoring ASCII case (names are tokens, so `| 0x20` folds letters only). */
function sameLowerAt(buf: Uint8Array, s: number, lower: Uint8Array): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[s + i]! | 0x20) !== lower[i]) return false;
  return true;
}

/**
 * Id of the field name `buf[s, s + len)` (any case), read from the bytes; only names as long as a framing
 * field are looked at.
 */
export function fieldIdAt(buf: Uint8Array, s: number, len: number): number {
  switch (len) {
    case 4:
      return sameLowerAt(buf, s, B_HOST) ? H_HOST : H_OTHER;
    case 6:
      return sameLowerAt(buf, s, B_EXPECT) ? H_EXPECT : H_OTHER;
    case 7:
      return sameLowerAt(buf, s, B_UPGRADE) ? H_UPGRADE : H_OTHER;
    case 10:
      return sameLowerAt(buf, s, B_CONNECTION) ? H_CONNECTION : H_OTHER;
    case 14:
      return sameLowerAt(buf, s, B_CONTENT_LENGTH) ? H_CONTENT_LENGTH : H_OTHER;
    case 17:
      return sameLowerAt(buf, s, B_TRANSFER_ENCODING) ? H_TRANSFER_ENCODING : H_OTHER;
    default:
      return H_OTHER;
  }
}

/**
 * The known header whose name equals `buf[start, end)` ignoring ASCII case, or undefined.
 * `buf` must already be validated as token characters (so `| 0x20` only folds letters).
 */
export function matchKnown(buf: Uint8Array, start: number, end: number): KnownHeader | undefined {
  const list = KNOWN_BY_LENGTH[end - start];
  if (list === undefined) return undefined;
  outer: for (let k = 0; k < list.length; k++) {
    const cand = list[k]!;
    const b = cand.bytes;
    for (let i = 0, j = start; j < end; i++, j++) {
      if ((buf[j]! | 0x20) !== b[i]) continue outer;
    }
    return cand;
  }
  return undefined;
}
