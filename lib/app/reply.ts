/**
 * Sending what a handler returned: serialized by the route's response schema (or as JSON, text, bytes),
 * answered 304 on a matching ETag, compressed by negotiation, or streamed chunk by chunk with backpressure.
 */
import { pipeline, Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { Context } from './context.js';
import { computeEtag, etagMatches } from './etag.js';
import { compressAsync, compressSync, isCompressible, negotiateEncoding, shouldCompressAsync, type CompressionOptions, type Encoding } from './compression.js';
import type { Serializer } from './serializer.js';

/** Marks a value a handler may return that answers by itself (an SSE stream): it is not serialized. */
export const ANSWERED: unique symbol = Symbol.for('covet.answered') as never;

type StreamBody = AsyncIterable<unknown> & { destroy?: (err?: Error) => void };

/** A Node Readable, a web ReadableStream, or any async iterable of chunks (strings and byte arrays are values, not streams). */
export function isStreamBody(out: unknown): out is StreamBody {
  return typeof out === 'object' && out !== null && !(out instanceof Uint8Array) && typeof (out as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

/**
 * Streams a body chunk by chunk (chunked on HTTP/1.1, DATA frames on HTTP/2), waiting for `drain` when the
 * peer is slow, and stopping — the source destroyed — when the peer goes away.
 */
export async function streamBody(ctx: Context, body: StreamBody, compression: CompressionOptions | undefined): Promise<void> {
  const res = ctx.res;
  if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/octet-stream');
  let src = body;
  if (compression !== undefined) {
    const z = compressStream(ctx, compression);
    // The encoder flushes per write, so a slow stream (events, logs) reaches the client as it is produced.
    if (z !== null) src = pipeline(Readable.from(body), z, () => {}) as unknown as StreamBody;
  }
  let gone = false;
  res.once('close', () => (gone = true));
  for await (const chunk of src) {
    if (gone) break; // leaving the loop returns the iterator, which destroys a Readable
    if (!res.write(typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : String(chunk))) await res.drained();
  }
  if (gone) src.destroy?.();
  else res.end();
}

/** A zlib encoder when the streamed body should be compressed (same rules as whole bodies, no threshold). */
function compressStream(ctx: Context, o: CompressionOptions): Transform | null {
  const enc = chooseEncoding(ctx, o, undefined);
  if (enc === undefined) return null;
  return enc === 'br'
    ? zlib.createBrotliCompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH, params: { [zlib.constants.BROTLI_PARAM_QUALITY]: o.brotliQuality ?? 4 } })
    : zlib.createGzip({ flush: zlib.constants.Z_SYNC_FLUSH, level: o.gzipLevel ?? 6 });
}

/** A handler's return value as bytes or text (object → JSON, string → text, bytes as-is), typing the response. */
export function serialize(ctx: Context, out: unknown, serializers: Record<number, Serializer> | null | undefined): string | Uint8Array {
  let body: string | Uint8Array;
  let type: string;
  if (typeof out === 'string') {
    body = out;
    type = 'text/plain; charset=utf-8';
  } else if (out instanceof Uint8Array) {
    body = out;
    type = 'application/octet-stream';
  } else {
    const ser = serializers?.[ctx.res.statusCode];
    body = ser === undefined ? JSON.stringify(out) : ser(out);
    type = 'application/json; charset=utf-8';
  }
  if (!ctx.res.hasHeader('content-type')) ctx.res.appendHeader('content-type', type); // absent: nothing to replace
  return body;
}

/**
 * Sends a serialized handler result. A successful GET/HEAD carrying an ETag (set by the handler, or
 * computed when the app has `etag: true`) is answered 304 without a body when the client's
 * `If-None-Match` matches it (RFC 9110 §13.1.2).
 */
export function send(ctx: Context, body: string | Uint8Array, etag: boolean, compression: CompressionOptions | undefined): void | Promise<void> {
  const res = ctx.res;
  const method = ctx.req.method;
  if (res.statusCode === 200 && (method === 'GET' || method === 'HEAD')) {
    let tag = res.getHeader('etag');
    if (tag === undefined && etag) res.setHeader('etag', (tag = computeEtag(body)));
    const inm = tag === undefined ? undefined : ctx.req.get('if-none-match');
    if (inm !== undefined && etagMatches(inm, tag!)) {
      res.statusCode = 304;
      res.removeHeader('content-type');
      res.end();
      return;
    }
  }
  if (compression !== undefined) return sendCompressed(ctx, body, compression);
  res.end(body);
}

function sendCompressed(ctx: Context, body: string | Uint8Array, o: CompressionOptions): void | Promise<void> {
  const res = ctx.res;
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const enc = chooseEncoding(ctx, o, bytes.byteLength);
  if (enc === undefined) {
    res.end(bytes);
    return;
  }
  if (!shouldCompressAsync(bytes.byteLength)) return res.end(compressSync(bytes, enc, o));
  return compressAsync(bytes, enc, o).then((out) => res.end(out));
}

/**
 * Decides the content coding of a response about to be sent (`size` undefined for a stream: no
 * threshold). Sets `Vary` whenever the answer depends on Accept-Encoding, and, when encoding, sets
 * `Content-Encoding`, drops a now-wrong `Content-Length`, and weakens a strong ETag (RFC 9110 §8.8.3.3:
 * the encoded bytes are another representation). `undefined` means identity.
 */
function chooseEncoding(ctx: Context, o: CompressionOptions, size: number | undefined): Encoding | undefined {
  const res = ctx.res;
  const status = res.statusCode;
  if (status === 204 || status === 304 || res.hasHeader('content-encoding') || !isCompressible(res.getHeader('content-type'))) return undefined;
  ctx.vary('Accept-Encoding');
  if (size !== undefined && size < (o.threshold ?? 1024)) return undefined;
  const enc = negotiateEncoding(ctx.req.get('accept-encoding'), o.encodings ?? ['br', 'gzip']);
  if (enc === undefined) return undefined;
  res.setHeader('content-encoding', enc);
  res.removeHeader('content-length');
  const tag = res.getHeader('etag');
  if (tag !== undefined && !tag.startsWith('W/')) res.setHeader('etag', `W/${tag}`);
  return enc;
}
