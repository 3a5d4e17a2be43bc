/**
 * The one constant-time comparison of secrets (MACs, token hashes, signatures) in Covet.
 */
import { timingSafeEqual } from 'node:crypto';

/**
 * Whether `a` and `b` hold the same bytes, in a time that depends on their length and not on where they
 * first differ (strings compare as UTF-8). Different lengths are unequal at once: compare values of a
 * fixed length — a MAC, a hash — so the length tells an attacker nothing. Unlike `timingSafeEqual`, never
 * throws on a length mismatch.
 *
 * @example
 * ```ts
 * constantTimeEqual(hmac(value), given); // false for a wrong or truncated MAC, never a RangeError
 * ```
 */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === 'string' ? Buffer.from(a) : a;
  const y = typeof b === 'string' ? Buffer.from(b) : b;
  return x.length === y.length && timingSafeEqual(x, y);
}
