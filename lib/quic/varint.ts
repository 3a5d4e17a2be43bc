/**
 * QUIC variable-length integers (RFC 9000 §16): the two high bits of the first byte give the length (1, 2,
 * 4 or 8 bytes), the rest is the value, big-endian — up to 2^62-1. Numbers up to 2^53-1 are returned as
 * numbers (every length, stream offset and id a connection will see); larger ones are refused.
 */

/**
 * A varint that cannot be read: truncated, or past what a JavaScript number holds exactly.
 *
 * @example
 * ```ts
 * try {
 *   readVarint(Buffer.from([0x40]), 0); // a 2-byte varint cut short
 * } catch (err) {
 *   if (err instanceof VarintError) closeWith(0x07, err.message);
 * }
 * ```
 */
export class VarintError extends RangeError {
  override name = 'VarintError';
}

/**
 * Bytes a varint of `v` takes (the shortest encoding).
 *
 * @example
 * ```ts
 * varintLength(63);    // 1
 * varintLength(15293); // 2
 * ```
 */
export function varintLength(v: number): 1 | 2 | 4 | 8 {
  if (v < 0x40) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x40000000) return 4;
  if (v <= Number.MAX_SAFE_INTEGER) return 8;
  throw new VarintError(`${v} is past the largest varint we write (2^53-1)`);
}

/**
 * Reads the varint at `offset`: its value and where the next field starts. Values past 2^53 - 1 are refused,
 * unless `lossy` (identifiers only compared with small known ones: HTTP/3's reserved frame, stream and
 * setting types reach 2^62), when they come back rounded.
 *
 * @example
 * ```ts
 * readVarint(Buffer.from('7bbd', 'hex'), 0); // { value: 15293, next: 2 } (RFC 9000 A.1)
 * ```
 */
export function readVarint(buf: Uint8Array, offset: number, lossy = false): { value: number; next: number } {
  if (offset >= buf.length) throw new VarintError('truncated varint');
  const first = buf[offset]!;
  const len = 1 << (first >> 6);
  if (offset + len > buf.length) throw new VarintError('truncated varint');
  let v = first & 0x3f;
  for (let i = 1; i < len; i++) {
    v = v * 256 + buf[offset + i]!;
    if (v > Number.MAX_SAFE_INTEGER && !lossy) throw new VarintError('varint past 2^53-1');
  }
  return { value: v, next: offset + len };
}

/**
 * Writes `v` at `offset` in `length` bytes (default: the shortest); returns the offset after it.
 *
 * @example
 * ```ts
 * const buf = Buffer.alloc(8);
 * let at = writeVarint(buf, 0, 37);   // 1 byte: 0x25
 * at = writeVarint(buf, at, 37, 2);   // the same value in 2 bytes: 0x4025
 * ```
 */
export function writeVarint(buf: Uint8Array, offset: number, v: number, length: 1 | 2 | 4 | 8 = varintLength(v)): number {
  if (!Number.isInteger(v) || v < 0) throw new VarintError(`not a varint: ${v}`);
  if (length < varintLength(v)) throw new VarintError(`${v} does not fit in ${length} bytes`);
  let x = v;
  for (let i = length - 1; i >= 1; i--) {
    buf[offset + i] = x % 256;
    x = Math.floor(x / 256);
  }
  buf[offset] = x | ((Math.log2(length) as 0 | 1 | 2 | 3) << 6);
  return offset + length;
}

/**
 * `v` as its own buffer.
 *
 * @example
 * ```ts
 * encodeVarint(15293); // <Buffer 7b bd>
 * ```
 */
export function encodeVarint(v: number, length?: 1 | 2 | 4 | 8): Buffer {
  const out = Buffer.alloc(length ?? varintLength(v));
  writeVarint(out, 0, v, length);
  return out;
}
