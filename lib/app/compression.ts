/**
 * Response compression for what a handler returns (whole bodies here; stream bodies in app.ts): negotiation
 * over `Accept-Encoding` with q-values (RFC 9110 §12.5.3), a size threshold, compressible types only,
 * never on top of an existing `Content-Encoding`, `Vary: Accept-Encoding` whenever the answer depends on
 * it. Brotli runs at quality 4 (dynamic content: close to gzip's speed, smaller output); bodies above
 * 64 KiB are compressed on the zlib thread pool so the event loop is not held.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
export { negotiateEncoding } from './negotiate.js';

export type Encoding = 'br' | 'gzip';

export interface CompressionOptions {
  /** Smallest body worth compressing, in bytes. Default 1024. */
  threshold?: number;
  /** Encodings offered, in server preference order. Default `['br', 'gzip']`. */
  encodings?: readonly Encoding[];
  /** Brotli quality 0–11. Default 4. */
  brotliQuality?: number;
  /** gzip level 1–9. Default 6. */
  gzipLevel?: number;
}

const COMPRESSIBLE = /^(?:text\/|application\/(?:[\w.+-]+\+)?(?:json|xml|javascript|x-www-form-urlencoded)\b|image\/svg\+xml)/i;
const ASYNC_ABOVE = 64 * 1024;
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * Whether a content type is worth compressing (text, JSON, XML, JavaScript, SVG…; not images, video or archives).
 *
 * @example
 * ```ts
 * isCompressible('application/json; charset=utf-8'); // true
 * isCompressible('image/png');                       // false: already compressed
 * ```
 */
export function isCompressible(contentType: string | undefined): boolean {
  return contentType !== undefined && COMPRESSIBLE.test(contentType);
}

export function compressSync(body: Uint8Array, enc: Encoding, o: CompressionOptions): Buffer {
  return enc === 'br'
    ? zlib.brotliCompressSync(body, brotliParams(body.byteLength, o))
    : zlib.gzipSync(body, { level: o.gzipLevel ?? 6 });
}

export function compressAsync(body: Uint8Array, enc: Encoding, o: CompressionOptions): Promise<Buffer> {
  return enc === 'br' ? brotli(body, brotliParams(body.byteLength, o)) : gzip(body, { level: o.gzipLevel ?? 6 });
}

export const shouldCompressAsync = (size: number): boolean => size > ASYNC_ABOVE;

function brotliParams(size: number, o: CompressionOptions): zlib.BrotliOptions {
  return {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: o.brotliQuality ?? 4,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
    },
  };
}
