/**
 * XOR masking (RFC 6455 §5.3), four bytes at a time over the aligned middle of the range (Uint32 words),
 * bytes at the unaligned ends. `mask` is the 4-byte masking key; `offset` is the position of `start`
 * within the frame payload (the key rotates with it).
 */

const SMALL = 32;
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * XORs `buf[start, end)` in place with the key, as if the payload began `phase` bytes earlier.
 *
 * @example
 * ```ts
 * const key = new Uint8Array([1, 2, 3, 4]);
 * const buf = Buffer.from('hello');
 * applyMask(buf, 0, buf.length, key); // masked in place
 * applyMask(buf, 0, buf.length, key); // and back: 'hello'
 * ```
 */
export function applyMask(buf: Uint8Array, start: number, end: number, mask: Uint8Array, phase = 0): void {
  let i = start;
  let p = phase & 3;
  if (end - start < SMALL) {
    for (; i < end; i++, p = (p + 1) & 3) buf[i] ^= mask[p]!;
    return;
  }
  // Unaligned head.
  while (i < end && ((buf.byteOffset + i) & 3) !== 0) {
    buf[i] ^= mask[p]!;
    i++;
    p = (p + 1) & 3;
  }
  const words = (end - i) >>> 2;
  if (words > 0) {
    // The 32-bit key as it lines up with the first aligned byte.
    const k0 = mask[p]!;
    const k1 = mask[(p + 1) & 3]!;
    const k2 = mask[(p + 2) & 3]!;
    const k3 = mask[(p + 3) & 3]!;
    const key = LITTLE ? (k0 | (k1 << 8) | (k2 << 16) | (k3 << 24)) >>> 0 : ((k0 << 24) | (k1 << 16) | (k2 << 8) | k3) >>> 0;
    const u32 = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    for (let w = 0; w < words; w++) u32[w] ^= key;
    i += words * 4; // p is unchanged: a multiple of 4 bytes went by
  }
  for (; i < end; i++, p = (p + 1) & 3) buf[i] ^= mask[p]!;
}
