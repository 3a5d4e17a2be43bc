/**
 * Message compression (doc/compression.md): `identity`, `gzip` and `deflate` (zlib format). Inflating is
 * bounded by the receive limit — zlib stops at `maxOutputLength`, so a small bomb cannot expand into memory.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { GrpcError, Status } from './status.js';

export type Encoding = 'identity' | 'gzip' | 'deflate';

/** What we accept and may send, in our order of preference. */
export const ENCODINGS: readonly Encoding[] = ['identity', 'gzip', 'deflate'];

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);

/**
 * The encoding `name` as we know it, or null.
 *
 * @example
 * ```ts
 * knownEncoding(req.get('grpc-encoding')); // 'gzip', or null for 'br' (answered UNIMPLEMENTED)
 * ```
 */
export function knownEncoding(name: string | undefined): Encoding | null {
  return name === 'identity' || name === 'gzip' || name === 'deflate' ? name : null;
}

/**
 * Decompresses one message; a result past `max` bytes is RESOURCE_EXHAUSTED, corrupt data INTERNAL.
 *
 * @example
 * ```ts
 * const message = await decompress('gzip', compressedBytes, 4 * 1024 * 1024); // past 4 MiB: GrpcError RESOURCE_EXHAUSTED
 * ```
 */
export async function decompress(encoding: Encoding, data: Buffer, max: number): Promise<Buffer> {
  if (encoding === 'identity') return data;
  try {
    // maxOutputLength must be ≥ 1; one byte more than allowed tells "too large" from "exactly the limit".
    return await (encoding === 'gzip' ? gunzip : inflate)(data, { maxOutputLength: Math.max(1, Math.min(max + 1, 2 ** 31 - 1)) }).then((out) => {
      if (out.length > max) throw new RangeError('too large');
      return out;
    });
  } catch (err) {
    if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, `received message larger than max after decompression (more than ${max} bytes)`);
    }
    throw new GrpcError(Status.INTERNAL, `could not decompress a ${encoding} message: ${(err as Error).message}`);
  }
}

/**
 * Compresses one message in `encoding` (identity: the bytes as they are).
 *
 * @example
 * ```ts
 * const body = encodeEnvelope(await compress('gzip', bytes), COMPRESSED);
 * ```
 */
export function compress(encoding: Encoding, data: Uint8Array): Promise<Buffer> {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return encoding === 'gzip' ? gzip(b) : encoding === 'deflate' ? deflate(b) : Promise.resolve(b);
}
