/**
 * Entity tags and `If-None-Match` (RFC 9110 §8.8.3, §13.1.2): a strong tag from the body's length and
 * SHA-1, and the weak comparison GET/HEAD revalidation uses.
 */
import { createHash } from 'node:crypto';

/**
 * A strong ETag for a body: `"<length hex>-<sha1 base64url, 27 chars>"`.
 *
 * @example
 * ```ts
 * computeEtag('hello'); // '"5-qvTGHdzF6KLavt4PO0gs2a6pQ00"'
 * ```
 */
export function computeEtag(body: string | Uint8Array): string {
  const len = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (len === 0) return '"0-2jmj7l5rSw0yVb_vlWAYkK_YBwk"';
  return `"${len.toString(16)}-${createHash('sha1').update(body).digest('base64url').slice(0, 27)}"`;
}

/**
 * Whether `If-None-Match` matches `etag` under weak comparison (`W/` ignored; `*` matches any).
 *
 * @example
 * ```ts
 * etagMatches('W/"x", "y"', '"y"'); // true: answer 304
 * etagMatches('*', computeEtag(body)); // true
 * ```
 */
export function etagMatches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  const want = opaque(etag);
  for (const candidate of ifNoneMatch.split(',')) if (opaque(candidate.trim()) === want) return true;
  return false;
}

const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);
