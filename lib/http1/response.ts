import { statusLine } from './status.js';
import { TOKEN } from './chars.js';
import type { Http1Request } from './request.js';
import { ResponseEvents } from './response-events.js';

/** What a response needs from its connection. */
export interface ResponseSink {
  /** Sends bytes if this response is at the head of the pipeline, otherwise they are kept in order. */
  send(res: Http1Response, data: string | Buffer, encoding: 'latin1' | 'utf8'): boolean;
  /** The response is complete. */
  finished(res: Http1Response): void;
  /** Current `Date` header value. */
  readonly httpDate: string;
  /** `Keep-Alive` field line to advertise, or `''`. */
  readonly keepAliveLine: string;
  /**
   * Asked when the head is built: must this response close the connection? `ending` is true when the
   * whole response is being sent now (`end(body)`), so an unread request body can never be read.
   */
  mustClose(res: Http1Response, ending: boolean): boolean;
  /** The response cannot be completed: end the connection after what was queued (see `destroy`). */
  abort(res: Http1Response, error: Error): void;
}

export type HeaderValue = string | number | readonly string[];

/** Names already found to be tokens (bounded: names come from code, rarely from input). */
const TOKEN_NAMES = new Set<string>();
/**
 * Short values already found clean (bounded). Most values are constants in code — content types,
 * policies — which V8 keeps internalized with their hash computed, so a hit costs less than rescanning.
 */
const CLEAN_VALUES = new Set<string>();
const CLEAN_VALUE_MAX = 64;

/**
 * Throws when `name` is not a token or `value` contains CR, LF or NUL (response splitting).
 *
 * @example
 * ```ts
 * checkHeader('x-user', value); // throws on CR, LF, NUL or an invalid name
 * ```
 */
export function checkHeader(name: string, value: string): void {
  if (!TOKEN_NAMES.has(name)) {
    if (name.length === 0) throw new TypeError('empty header name');
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c > 255 || TOKEN[c] !== 1) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    }
    if (TOKEN_NAMES.size < 1024) TOKEN_NAMES.add(name);
  }
  const short = value.length <= CLEAN_VALUE_MAX;
  if (short && CLEAN_VALUES.has(value)) return;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) {
      throw new TypeError(`invalid character in header ${name}: ${JSON.stringify(value)}`);
    }
  }
  if (short && CLEAN_VALUES.size < 1024) CLEAN_VALUES.add(value);
}

/** Field names compared case-insensitively; the length check spares most `toLowerCase` calls. */
function sameName(a: string, b: string): boolean {
  return a === b || (a.length === b.length && a.toLowerCase() === b.toLowerCase());
}

const NO_BODY = 1;
const CHUNKED = 2;
const FIXED = 4;
const UNTIL_CLOSE = 8;

/**
 * An HTTP/1.x response. Headers are kept as flat pairs until the head is sent. `end(body)` with a known
 * body sends `Content-Length`; `write` before `end` streams with chunked encoding (HTTP/1.1) or until
 * close (HTTP/1.0). Pipelined responses are delivered strictly in request order.
 *
 * @example
 * ```ts
 * res.statusCode = 201;
 * res.setHeader('Content-Type', 'application/json');
 * res.end(JSON.stringify({ ok: true }));
 * ```
 */
export class Http1Response extends ResponseEvents {
  statusCode = 200;
  /** Reason phrase override (default: the standard text). */
  statusMessage: string | undefined = undefined;
  /** Set once the head has been sent (or queued). */
  headersSent = false;
  /** Set once `end` was called. */
  finished = false;
  /** Set when the response must close the connection after it. */
  closeAfter: boolean;
  /** @internal Set by the connection for HEAD requests. */
  readonly isHead: boolean;
  readonly httpMinor: number;

  #sink: ResponseSink;
  #headers: string[] = [];
  #mode = 0;
  #remaining = -1;
  #trailers: string[] | null = null;
  /** @internal The request this answers (cleared once retired). */
  _req: Http1Request | null = null;
  /** @internal Output buffered while an earlier pipelined response is still being written. */
  _queued: Array<string | Buffer> | null = null;
  /** @internal Encodings matching `_queued` entries. */
  _queuedEnc: Array<'latin1' | 'utf8'> | null = null;

  /** @internal */
  constructor(sink: ResponseSink, isHead: boolean, httpMinor: number, closeAfter: boolean) {
    super();
    this.#sink = sink;
    this.isHead = isHead;
    this.httpMinor = httpMinor;
    this.closeAfter = closeAfter;
  }

  /** Sets a field, replacing any existing one of the same name (case-insensitive). */
  setHeader(name: string, value: HeaderValue): this {
    if (this.headersSent) throw new Error('headers already sent');
    this.removeHeader(name);
    return this.appendHeader(name, value);
  }

  /** Adds a field line without removing existing ones (e.g. several `Set-Cookie`). */
  appendHeader(name: string, value: HeaderValue): this {
    if (this.headersSent) throw new Error('headers already sent');
    if (typeof value === 'object') {
      for (const v of value) {
        checkHeader(name, v);
        this.#headers.push(name, v);
      }
    } else {
      const v = typeof value === 'number' ? String(value) : value;
      checkHeader(name, v);
      this.#headers.push(name, v);
    }
    return this;
  }

  /** The value of a field set so far (joined with `, ` when repeated), case-insensitive. */
  getHeader(name: string): string | undefined {
    const h = this.#headers;
    let out: string | undefined;
    for (let i = 0; i < h.length; i += 2) {
      if (sameName(h[i]!, name)) out = out === undefined ? h[i + 1]! : `${out}, ${h[i + 1]!}`;
    }
    return out;
  }

  hasHeader(name: string): boolean {
    return this.getHeader(name) !== undefined;
  }

  removeHeader(name: string): this {
    const h = this.#headers;
    for (let i = h.length - 2; i >= 0; i -= 2) if (sameName(h[i]!, name)) h.splice(i, 2);
    return this;
  }

  /** Removes every field set so far. */
  clearHeaders(): this {
    if (this.headersSent) throw new Error('headers already sent');
    this.#headers = [];
    return this;
  }

  /** Raw field pairs set so far. */
  getHeaderPairs(): readonly string[] {
    return this.#headers;
  }

  /** Sets status and fields in one call; the head is sent with the first body bytes. */
  writeHead(status: number, headers?: Record<string, HeaderValue>): this {
    this.statusCode = status;
    if (headers !== undefined) for (const k of Object.keys(headers)) this.setHeader(k, headers[k]!);
    return this;
  }

  /** Trailer fields sent after a chunked body (ignored when the body is not chunked). */
  addTrailers(trailers: Record<string, string>): this {
    const t = (this.#trailers ??= []);
    for (const k of Object.keys(trailers)) {
      checkHeader(k, trailers[k]!);
      t.push(k, trailers[k]!);
    }
    return this;
  }

  /** Sends an interim `100 Continue` (normally done for you when the body is read). */
  writeContinue(): void {
    if (this.headersSent) return;
    this.#sink.send(this, 'HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
  }

  /**
   * Sends a body chunk (head first if needed). Returns false when the peer is slow: wait for `'drain'`.
   */
  write(chunk: string | Buffer | Uint8Array): boolean {
    if (this.finished) throw new Error('write after end');
    if (!this.headersSent) this.#sendHead(-1, '');
    return this.#body(chunk);
  }

  /**
   * Gives up on a response that cannot be completed — typically a body source that failed after the head
   * was sent. HTTP/1.1 has no other honest signal than closing the connection: what was already written
   * is flushed, then the connection is cut, and the client tells the truncated message by its framing.
   * Before the head is sent, answering an error status is usually better.
   *
   * @example
   * ```ts
   * source.on('error', (err) => res.destroy(err)); // a body stream failed half-way
   * ```
   */
  destroy(error: Error = new Error('response destroyed')): void {
    if (this.finished) return;
    this.finished = true;
    this.closeAfter = true;
    this.#sink.abort(this, error);
  }

  /** Finishes the response, optionally with a last chunk. */
  end(chunk?: string | Buffer | Uint8Array): void {
    if (this.finished) return;
    if (!this.headersSent) {
      // Whole body known: one write with Content-Length.
      if (chunk === undefined) {
        this.#sendHead(0, '');
      } else if (typeof chunk === 'string') {
        const len = Buffer.byteLength(chunk, 'utf8');
        if (len === chunk.length) {
          // ASCII: head and body go out as one latin1 string.
          this.#sendHead(len, chunk);
        } else {
          this.#sendHead(len, '');
          if ((this.#mode & NO_BODY) === 0) this.#sink.send(this, chunk, 'utf8');
        }
      } else {
        this.#sendHead(chunk.byteLength, '');
        if ((this.#mode & NO_BODY) === 0 && chunk.byteLength > 0) this.#sink.send(this, toBuffer(chunk), 'latin1');
      }
      this.#remaining = 0;
    } else if (chunk !== undefined) {
      this.#body(chunk);
    }
    if ((this.#mode & (CHUNKED | NO_BODY)) === CHUNKED) {
      const t = this.#trailers;
      let tail = '0\r\n';
      if (t !== null) for (let i = 0; i < t.length; i += 2) tail += `${t[i]}: ${t[i + 1]}\r\n`;
      this.#sink.send(this, `${tail}\r\n`, 'latin1');
    } else if (this.#mode & FIXED && this.#remaining > 0) {
      // Fewer bytes than the declared Content-Length: the peer would wait for ever; close instead.
      this.closeAfter = true;
    }
    this.finished = true;
    this.#sink.finished(this);
    this._emit('finish');
  }

  #body(chunk: string | Buffer | Uint8Array): boolean {
    if (this.#mode & NO_BODY) return true;
    const isStr = typeof chunk === 'string';
    const len = isStr ? Buffer.byteLength(chunk, 'utf8') : chunk.byteLength;
    if (len === 0) return true;
    if (this.#mode & FIXED) {
      if (len > this.#remaining) throw new RangeError('body longer than the Content-Length set');
      this.#remaining -= len;
    }
    const enc = isStr && len !== chunk.length ? 'utf8' : 'latin1';
    const data = isStr ? chunk : toBuffer(chunk);
    if (this.#mode & CHUNKED) {
      this.#sink.send(this, `${len.toString(16)}\r\n`, 'latin1');
      this.#sink.send(this, data, enc);
      return this.#sink.send(this, '\r\n', 'latin1');
    }
    return this.#sink.send(this, data, enc);
  }

  /**
   * Builds and sends the head. `bodyLength` >= 0 when the whole body is known (`end(body)`), -1 when
   * streaming. `inlineBody` is an ASCII body to send in the same write.
   */
  #sendHead(bodyLength: number, inlineBody: string): void {
    this._emit('head'); // last chance to set headers (sessions, cookies)
    const st = this.statusCode;
    if (!Number.isInteger(st) || st < 100 || st > 999) throw new RangeError(`invalid status code ${st}`);
    const sink = this.#sink;
    let head = this.statusMessage === undefined ? statusLine(st) : statusLine(st, this.statusMessage);
    const h = this.#headers;
    let userLength = -1;
    let userConnClose = false;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!;
      const value = h[i + 1]!;
      // Framing fields set by the user are honoured (and checked) rather than duplicated.
      if (name.length === 14 && name.toLowerCase() === 'content-length') {
        userLength = Number(value);
        if (!Number.isSafeInteger(userLength) || userLength < 0) throw new RangeError(`invalid Content-Length ${value}`);
        continue; // written once below, with the framing
      } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
        continue; // we decide the transfer coding ourselves
      } else if (name.length === 10 && name.toLowerCase() === 'connection') {
        if (value.toLowerCase().includes('close')) userConnClose = true;
        continue;
      }
      head += `${name}: ${value}\r\n`;
    }
    head += `Date: ${sink.httpDate}\r\n`;

    const noBody = st < 200 || st === 204 || st === 304;
    let mode = 0;
    if (noBody) {
      mode = NO_BODY;
      if (st === 304 && userLength >= 0) head += `Content-Length: ${userLength}\r\n`;
    } else {
      if (userLength >= 0) {
        if (bodyLength >= 0 && bodyLength !== userLength && !this.isHead) {
          throw new RangeError(`Content-Length ${userLength} does not match the body (${bodyLength} bytes)`);
        }
        mode = FIXED;
        this.#remaining = userLength;
        head += `Content-Length: ${userLength}\r\n`;
      } else if (bodyLength >= 0) {
        mode = FIXED;
        this.#remaining = bodyLength;
        head += `Content-Length: ${bodyLength}\r\n`;
      } else if (this.httpMinor === 1) {
        mode = CHUNKED;
        head += 'Transfer-Encoding: chunked\r\n';
      } else {
        mode = UNTIL_CLOSE; // HTTP/1.0 has no chunked coding (RFC 9112 §6.3 ¶8)
        this.closeAfter = true;
      }
      if (this.isHead) mode |= NO_BODY;
    }
    if (userConnClose || (!this.closeAfter && sink.mustClose(this, bodyLength >= 0))) this.closeAfter = true;
    if (this.closeAfter) head += 'Connection: close\r\n';
    else if (this.httpMinor === 0) head += `Connection: keep-alive\r\n${sink.keepAliveLine}`;
    else head += sink.keepAliveLine;
    this.#mode = mode;
    this.headersSent = true;
    sink.send(this, mode & NO_BODY ? `${head}\r\n` : `${head}\r\n${inlineBody}`, 'latin1');
  }
}

function toBuffer(chunk: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
