/**
 * A copy of a few bytes kept for a connection's life, in memory of its own: a small `Buffer.from` or
 * `Buffer.concat` is a slice of Node's shared 8 KiB pool, and one kept slice keeps the whole slab alive (for
 * idle connections that is most of their memory).
 */
export function own(b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(b.length);
  out.set(b);
  return out;
}
