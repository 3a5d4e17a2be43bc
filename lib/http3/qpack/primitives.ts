/**
 * QPACK's primitives (RFC 9204 §4.1): integers with an N-bit prefix (as HPACK's, RFC 7541 §5.1) and string
 * literals whose Huffman flag sits just above the length's prefix (RFC 7541 §5.2, Huffman code of
 * covet/http2's HPACK). Readers work on a byte offset and throw `QpackError` on truncation or excess.
 */
import { huffmanDecode, huffmanEncode, huffmanLength } from '../../http2/hpack/huffman.js';

/**
 * A QPACK encoding error: the connection error its stream calls for (RFC 9204 §6).
 *
 * @example
 * ```ts
 * try {
 *   decoder.decodeSection(id, block);
 * } catch (err) {
 *   if (err instanceof QpackError) conn.close(err.code, err.message); // QPACK_DECOMPRESSION_FAILED…
 * }
 * ```
 */
export class QpackError extends Error {
  override name = 'QpackError';
  /** QPACK_DECOMPRESSION_FAILED 0x200, QPACK_ENCODER_STREAM_ERROR 0x201, QPACK_DECODER_STREAM_ERROR 0x202. */
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** Thrown when the bytes end inside an instruction: wait for more (on the encoder and decoder streams). */
export class Truncated extends Error {}

export interface Cursor {
  buf: Buffer;
  at: number;
}

/**
 * Reads the instructions of an encoder or decoder stream (RFC 9204 §4.3, §4.4) in `pending` + `chunk`: one
 * `read` per instruction, at the cursor, given its first byte. One cut short waits in the returned rest
 * (null: none) — bounded, as the readers refuse an integer past 10 bytes and a string past its limit before
 * waiting for it. A QpackError from `read` becomes the stream's `code`.
 */
export function readInstructions(pending: Buffer | null, chunk: Buffer, code: number, read: (c: Cursor, first: number) => void): Buffer | null {
  const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
  const c: Cursor = { buf, at: 0 };
  let done = 0;
  try {
    while (c.at < buf.length) {
      read(c, buf[c.at]!);
      done = c.at;
    }
  } catch (err) {
    if (!(err instanceof Truncated)) throw err instanceof QpackError ? new QpackError(code, err.message) : err;
  }
  return done < buf.length ? Buffer.from(buf.subarray(done)) : null;
}

/** An integer with an `bits`-bit prefix in the byte at the cursor (the rest of that byte is the caller's). */
export function readInt(c: Cursor, bits: number): number {
  if (c.at >= c.buf.length) throw new Truncated();
  const max = (1 << bits) - 1;
  let v = c.buf[c.at++]! & max;
  if (v < max) return v;
  let m = 0;
  for (;;) {
    if (c.at >= c.buf.length) throw new Truncated();
    const b = c.buf[c.at++]!;
    v += (b & 0x7f) * 2 ** m;
    m += 7;
    if (v > Number.MAX_SAFE_INTEGER || m > 63) throw new QpackError(0x200, 'an integer past 2^53');
    if ((b & 0x80) === 0) return v;
  }
}

/** A string literal: the Huffman flag is bit `bits` of the first byte, the length its `bits`-bit prefix. */
export function readString(c: Cursor, bits: number, maxLength: number): string {
  if (c.at >= c.buf.length) throw new Truncated();
  const huffman = (c.buf[c.at]! & (1 << bits)) !== 0;
  const len = readInt(c, bits);
  if (len > maxLength) throw new QpackError(0x200, `a string of ${len} bytes, past the limit of ${maxLength}`);
  if (c.at + len > c.buf.length) throw new Truncated();
  const start = c.at;
  c.at += len;
  if (!huffman) return c.buf.latin1Slice(start, start + len);
  const s = huffmanDecode(c.buf, start, start + len);
  if (s === null) throw new QpackError(0x200, 'an invalid Huffman code');
  if (s.length > maxLength) throw new QpackError(0x200, `a string past the limit of ${maxLength}`);
  return s;
}

/** Appends an integer with a `bits`-bit prefix, `first` holding the byte's other bits. */
export function writeInt(out: number[], first: number, bits: number, v: number): void {
  const max = (1 << bits) - 1;
  if (v < max) {
    out.push(first | v);
    return;
  }
  out.push(first | max);
  v -= max;
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** Bytes of an integer with a `bits`-bit prefix (§4.1.1). */
export function intLength(v: number, bits: number): number {
  const max = (1 << bits) - 1;
  if (v < max) return 1;
  let n = 2;
  for (v -= max; v >= 128; v = Math.floor(v / 128)) n++;
  return n;
}

/** Writes an integer with a `bits`-bit prefix at `at`, `first` holding the byte's other bits; the next offset. */
export function putInt(out: Buffer, at: number, first: number, bits: number, v: number): number {
  const max = (1 << bits) - 1;
  if (v < max) {
    out[at] = first | v;
    return at + 1;
  }
  out[at++] = first | max;
  for (v -= max; v >= 128; v = Math.floor(v / 128)) out[at++] = (v % 128) | 128;
  out[at] = v;
  return at + 1;
}

/** Appends a string literal, Huffman-coded when shorter; `first` holds the bits above the flag. */
export function writeString(out: number[], first: number, bits: number, s: string): void {
  const h = huffmanLength(s);
  if (h < s.length) {
    writeInt(out, first | (1 << bits), bits, h);
    const tmp = new Uint8Array(h);
    huffmanEncode(s, tmp, 0);
    for (const b of tmp) out.push(b);
    return;
  }
  writeInt(out, first, bits, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
}
