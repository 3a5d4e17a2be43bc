/**
 * Proactive content negotiation (RFC 9110 §12): one parser for `Accept`, `Accept-Language` and
 * `Accept-Encoding` lists with q-values, and one chooser per kind of matching. The server offers
 * representations in its order of preference; the client's highest q wins, then the most specific range
 * that matched, then the server's order. q=0 means "not acceptable" (§12.4.2).
 */

export interface AcceptRange {
  /** The range, lower-cased: `text/html`, `text/*`, `en-gb`, `gzip`, `*`. */
  value: string;
  /** Media-type parameters other than q (`level=1`), lower-cased names. */
  params: Record<string, string>;
  q: number;
}

const Q = /^q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i;

/**
 * Parses a comma-separated list of ranges with optional `;q=` weights; malformed weights count as 1.
 *
 * @example
 * ```ts
 * parseAccept('text/html, application/json;q=0.9');
 * // [{ value: 'text/html', params: {}, q: 1 }, { value: 'application/json', params: {}, q: 0.9 }]
 * ```
 */
export function parseAccept(header: string): AcceptRange[] {
  const out: AcceptRange[] = [];
  for (const item of header.split(',')) {
    const parts = item.split(';');
    const value = parts[0]!.trim().toLowerCase();
    if (value === '') continue;
    const range: AcceptRange = { value, params: {}, q: 1 };
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i]!.trim();
      const m = Q.exec(p);
      if (m !== null) {
        range.q = Number(m[1]);
        break; // accept-ext after q is ignored (RFC 9110 §12.5.1)
      }
      const eq = p.indexOf('=');
      if (eq > 0) range.params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    }
    out.push(range);
  }
  return out;
}

/**
 * How well `range` matches `offer`: -1 not at all, higher is more specific. `offer` is lower-case.
 */
type Matcher = (range: AcceptRange, offer: string) => number;

function choose<T extends string>(header: string | undefined, offers: readonly T[], match: Matcher, absent: T | undefined): T | undefined {
  if (header === undefined || header.trim() === '') return absent;
  const ranges = parseAccept(header);
  let best: T | undefined;
  let bestQ = 0;
  let bestSpec = -1;
  for (const offer of offers) {
    const o = offer.toLowerCase();
    // The most specific range matching this offer decides its q (RFC 9110 §12.5.1: "text/html;level=1" over "text/*").
    let q = -1;
    let spec = -1;
    for (const r of ranges) {
      const s = match(r, o);
      if (s > spec) {
        spec = s;
        q = r.q;
      }
    }
    if (q > bestQ || (q === bestQ && q > 0 && spec > bestSpec)) {
      best = offer;
      bestQ = q;
      bestSpec = spec;
    }
  }
  return best;
}

const mediaMatch: Matcher = (r, offer) => {
  const slash = offer.indexOf('/');
  const semi = offer.indexOf(';');
  const type = offer.slice(0, slash);
  const full = (semi === -1 ? offer : offer.slice(0, semi)).trim();
  if (r.value === '*/*') return 0;
  if (r.value === `${type}/*`) return 1;
  if (r.value !== full) return -1;
  const keys = Object.keys(r.params);
  if (keys.length === 0) return 2;
  // Range parameters must all be present in the offer ("text/html;level=1").
  const offered = semi === -1 ? {} : parseAccept(offer)[0]!.params;
  return keys.every((k) => offered[k] === r.params[k]) ? 2 + keys.length : -1;
};

/**
 * The media type to send among `offers` (e.g. `['application/json', 'text/html']`), or `undefined` when
 * none is acceptable (answer 406). No `Accept` header accepts anything: the first offer.
 *
 * @example
 * ```ts
 * negotiateMediaType('text/html;q=0.9, application/json', ['text/html', 'application/json']); // 'application/json'
 * ```
 */
export function negotiateMediaType<T extends string>(accept: string | undefined, offers: readonly T[]): T | undefined {
  return choose(accept, offers, mediaMatch, offers[0]);
}

/** Basic filtering (RFC 4647 §3.3.1): `en` matches `en` and `en-GB`; `*` matches any. */
const languageMatch: Matcher = (r, offer) => {
  if (r.value === '*') return 0;
  if (r.value === offer) return 2;
  return offer.startsWith(r.value) && offer[r.value.length] === '-' ? 1 : -1;
};

/**
 * The language to answer in among `offers` (`['en', 'fr-CA']`), or `undefined`. No header: the first.
 *
 * @example
 * ```ts
 * negotiateLanguage('fr-CA, fr;q=0.9, en;q=0.5', ['en', 'fr-CA']); // 'fr-CA'
 * ```
 */
export function negotiateLanguage<T extends string>(acceptLanguage: string | undefined, offers: readonly T[]): T | undefined {
  return choose(acceptLanguage, offers, languageMatch, offers[0]);
}

const encodingMatch: Matcher = (r, offer) => (r.value === offer || (offer === 'gzip' && r.value === 'x-gzip') ? 1 : r.value === '*' ? 0 : -1);

/**
 * The content coding among `offers` (server order), or `undefined` for identity. Without the header or
 * with an empty one, identity (RFC 9110 §12.5.3).
 *
 * @example
 * ```ts
 * negotiateEncoding('gzip, br;q=1.0, zstd;q=0', ['br', 'gzip']); // 'br' (server order breaks the tie)
 * ```
 */
export function negotiateEncoding<T extends string>(acceptEncoding: string | undefined, offers: readonly T[]): T | undefined {
  return choose(acceptEncoding, offers, encodingMatch, undefined);
}

/** Short names `ctx.accepts` understands besides full media types. */
export const MEDIA_SHORTHANDS: Record<string, string> = {
  json: 'application/json',
  html: 'text/html',
  text: 'text/plain',
  xml: 'application/xml',
  csv: 'text/csv',
  form: 'application/x-www-form-urlencoded',
  problem: 'application/problem+json',
};
