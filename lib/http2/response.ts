/**
 * The response side of an HTTP/2 stream, with the same surface as `Http1Response` (statusCode,
 * setHeader/getHeader/removeHeader, write/end, trailers, 'drain'/'close') so a handler serves either
 * protocol. Fields become an HPACK header block; the body becomes DATA frames sent within the flow-control
 * windows by the session.
 */
import type { HeaderValue } from '../http1/index.js';
import { checkHeader, ResponseEvents } from '../http1/index.js';

/** What a response needs from its stream. */
export interface StreamSink {
  sendHeaders(fields: Array<[string, string]>, endStream: boolean): void;
  /** Queues body bytes; false when the caller should wait for 'drain'. */
  sendData(data: Buffer, endStream: boolean): boolean;
  /**
   * The whole response at once — its fields and an ASCII body (one octet per character) — when the sink
   * can send it so (HTTP/2: within the windows and one frame). True when taken (or when the stream takes
   * nothing more); false, with nothing sent, to have it sent the usual way.
   */
  sendWhole?(fields: Array<[string, string]>, body: string): boolean;
  readonly isHead: boolean;
  readonly httpDate: string;
  /** The response cannot be completed: reset the stream (see `destroy`). */
  abort(error: Error): void;
}

/** Fields that only mean something to HTTP/1.1 connections and must not be sent on HTTP/2 (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * @example
 * ```ts
 * res.statusCode = 200;
 * res.setHeader('content-type', 'text/plain');
 * res.end('hello over h2');
 * ```
 */
export class Http2Response extends ResponseEvents {
  statusCode = 200;
  headersSent = false;
  finished = false;
  readonly httpMinor = 0;
  #sink: StreamSink;
  #headers: string[] = [];
  #trailers: string[] | null = null;

  /** @internal */
  constructor(sink: StreamSink) {
    super();
    this.#sink = sink;
  }

  setHeader(name: string, value: HeaderValue): this {
    this.removeHeader(name);
    return this.appendHeader(name, value);
  }

  appendHeader(name: string, value: HeaderValue): this {
    if (this.headersSent) throw new Error('headers already sent');
    const lower = name.toLowerCase();
    if (typeof value === 'object') {
      for (const v of value) {
        checkHeader(lower, v);
        this.#headers.push(lower, v);
      }
      return this;
    }
    // One value (most calls): no list made for it.
    const v = typeof value === 'number' ? String(value) : value;
    checkHeader(lower, v);
    this.#headers.push(lower, v);
    return this;
  }

  getHeader(name: string): string | undefined {
    const lower = name.toLowerCase();
    let out: string | undefined;
    for (let i = 0; i < this.#headers.length; i += 2) if (this.#headers[i] === lower) out = out === undefined ? this.#headers[i + 1] : `${out}, ${this.#headers[i + 1]}`;
    return out;
  }

  hasHeader(name: string): boolean {
    return this.getHeader(name) !== undefined;
  }

  removeHeader(name: string): this {
    if (this.headersSent) throw new Error('headers already sent');
    const lower = name.toLowerCase();
    for (let i = this.#headers.length - 2; i >= 0; i -= 2) if (this.#headers[i] === lower) this.#headers.splice(i, 2);
    return this;
  }

  clearHeaders(): this {
    this.#headers = [];
    return this;
  }

  writeHead(status: number, headers?: Record<string, HeaderValue>): this {
    this.statusCode = status;
    if (headers) for (const k of Object.keys(headers)) this.setHeader(k, headers[k]!);
    return this;
  }

  addTrailers(trailers: Record<string, string>): this {
    const t = (this.#trailers ??= []);
    for (const k of Object.keys(trailers)) {
      checkHeader(k.toLowerCase(), trailers[k]!);
      t.push(k.toLowerCase(), trailers[k]!);
    }
    return this;
  }

  #fields(contentLength: number): Array<[string, string]> {
    const st = this.statusCode;
    if (!Number.isInteger(st) || st < 200 || st > 999) throw new RangeError(`invalid status code ${st} for a final HTTP/2 response`);
    const f: Array<[string, string]> = [[':status', String(st)]];
    const h = this.#headers;
    let hasLength = false;
    for (let i = 0; i < h.length; i += 2) {
      if (CONNECTION_SPECIFIC.has(h[i]!)) continue;
      if (h[i] === 'content-length') hasLength = true;
      f.push([h[i]!, h[i + 1]!]);
    }
    f.push(['date', this.#sink.httpDate]);
    if (!hasLength && contentLength >= 0 && st !== 204 && st !== 304) f.push(['content-length', String(contentLength)]);
    return f;
  }

  write(chunk: string | Buffer | Uint8Array): boolean {
    if (this.finished) throw new Error('write after end');
    if (!this.headersSent) {
      this._emit('head'); // last chance to set headers (sessions, cookies)
      this.headersSent = true;
      this.#sink.sendHeaders(this.#fields(-1), false);
    }
    if (this.#sink.isHead) return true;
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    return b.length === 0 ? true : this.#sink.sendData(b, false);
  }

  /**
   * Gives up on a response that cannot be completed (a body source failed after the head was sent): the
   * stream is reset with INTERNAL_ERROR (RFC 9113 §8.1), so the client knows the message is incomplete.
   *
   * @example
   * ```ts
   * source.on('error', (err) => res.destroy(err)); // a body stream failed half-way
   * ```
   */
  destroy(error: Error = new Error('response destroyed')): void {
    if (this.finished) return;
    this.finished = true;
    this.#sink.abort(error);
  }

  end(chunk?: string | Buffer | Uint8Array): void {
    if (this.finished) return;
    const first = !this.headersSent;
    if (first) {
      this._emit('head'); // last chance to set headers (sessions, cookies)
      this.headersSent = true;
    }
    const noBody = this.#sink.isHead || this.statusCode === 204 || this.statusCode === 304;
    const trailers = this.#trailers;
    // A small ASCII body with its fields in one piece, when the sink can (HTTP/2: one string, no Buffers).
    // Its length in octets is its length in characters: a refused one keeps the fields made for it.
    let fields: Array<[string, string]> | null = null;
    if (first && trailers === null && typeof chunk === 'string' && chunk.length <= WHOLE_MAX && this.#sink.sendWhole !== undefined && Buffer.byteLength(chunk, 'utf8') === chunk.length) {
      fields = this.#fields(chunk.length);
      if (this.#sink.sendWhole(fields, noBody ? '' : chunk)) {
        this.finished = true;
        this._emit('finish');
        return;
      }
    }
    const b = chunk === undefined ? null : typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (first) {
      const len = b === null ? 0 : b.length;
      const bodyless = noBody || len === 0;
      this.#sink.sendHeaders(fields ?? this.#fields(len), bodyless && trailers === null);
      if (!bodyless) this.#sink.sendData(b!, trailers === null);
    } else if (b !== null && b.length > 0 && !noBody) {
      this.#sink.sendData(b, trailers === null);
    } else if (trailers === null) {
      this.#sink.sendData(Buffer.alloc(0), true);
    }
    if (trailers !== null) {
      const t: Array<[string, string]> = [];
      for (let i = 0; i < trailers.length; i += 2) t.push([trailers[i]!, trailers[i + 1]!]);
      this.#sink.sendHeaders(t, true);
    }
    this.finished = true;
    this._emit('finish');
  }
}

/** Bodies up to this many characters may go in one piece (`sendWhole`): an HTTP/2 frame's default size. */
const WHOLE_MAX = 16384;

/**
 * The answer to a handler that failed before its response began (HTTP/2 and HTTP/3 sessions): the error's own
 * 4xx/5xx `status` when it has one, else 500, as a bare text body — nothing of the error's text.
 */
export function answerFailure(res: Http2Response, err: unknown): void {
  const st = (err as { status?: unknown } | null)?.status;
  res.clearHeaders();
  res.statusCode = typeof st === 'number' && st >= 400 && st < 600 ? st : 500;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(`${res.statusCode}\n`);
}
