import { Readable } from 'node:stream';
import type { MessageHead } from './parser.js';

/**
 * Thrown by the body readers when the body exceeds their limit; a server answers 413.
 *
 * @example
 * ```ts
 * const body = await req.json(64 * 1024).catch((err: unknown) => {
 *   if (err instanceof BodyTooLargeError) throw new HttpError(413);
 *   throw err;
 * });
 * ```
 */
export class BodyTooLargeError extends Error {
  readonly status = 413;
  readonly code = 'BODY_TOO_LARGE';
  constructor(limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Thrown by the body readers when the connection closed before the body was complete.
 *
 * @example
 * ```ts
 * const body = await req.buffer().catch((err: unknown) => {
 *   if (err instanceof RequestAbortedError) return null; // the client went away mid-upload
 *   throw err;
 * });
 * ```
 */
export class RequestAbortedError extends Error {
  readonly status = 400;
  readonly code = 'REQUEST_ABORTED';
  constructor() {
    super('the client closed the connection before the request body was complete');
    this.name = 'RequestAbortedError';
  }
}

/** The connection side of a request body: flow control and `100 Continue`. */
export interface BodySource {
  /** The reader wants more: resume reading from the socket (and send `100 Continue` if owed). */
  bodyWanted(req: Http1Request): void;
  /** Enough is buffered: stop reading from the socket. */
  bodyFull(req: Http1Request): void;
}

/** Buffered body bytes above which the connection stops reading until the body is consumed. */
const BODY_HIGH_WATER = 64 * 1024;
/** Default limit of the buffering readers (`buffer`, `text`, `json`). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

type Waiter = { resolve: (v: IteratorResult<Buffer>) => void; reject: (e: Error) => void };

/**
 * An HTTP/1.x request. The head is available at once; the body arrives as a stream with backpressure:
 * read it with `for await (const chunk of req)`, `buffer()`, `text()`, `json()` or `stream()`.
 * A body that is not read is discarded when the response ends.
 *
 * @example
 * ```ts
 * const server = createHttp1Server(async (req, res) => {
 *   const data = await req.json(); // 413 error beyond 1 MiB
 *   res.end(JSON.stringify({ got: data, ua: req.get('user-agent') }));
 * });
 * ```
 */
export class Http1Request implements AsyncIterable<Buffer> {
  readonly method: string;
  /** Request-target as sent (path and query). */
  readonly url: string;
  /** `"1.1"`, `"1.0"`, `"2.0"` when HTTP/2 carried the request, `"3.0"` when HTTP/3 did. */
  readonly httpVersion: string;
  /** Raw fields, flat pairs `[name, value, ...]` as the client sent them. */
  readonly rawHeaders: string[];
  /** Whether the client intends to keep the connection open (RFC 9112 §9.3). */
  readonly keepAlive: boolean;
  readonly upgrade: boolean;
  /** Declared body length, or -1 (chunked or none). */
  readonly contentLength: number;
  readonly chunked: boolean;
  readonly expectContinue: boolean;
  /** Peer address. */
  readonly remoteAddress: string | undefined;
  /** Per-request data for middleware. */
  locals: Record<string, unknown> | undefined = undefined;

  #source: BodySource;
  #headers: Record<string, string> | null = null;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #complete = false;
  #error: Error | null = null;
  #waiter: Waiter | null = null;
  #full = false;
  #discarding = false;
  #trailers: string[] | null = null;
  #pathEnd = -1;

  /** @internal */
  constructor(head: MessageHead, source: BodySource, remoteAddress: string | undefined) {
    this.method = head.method;
    this.url = head.url;
    this.httpVersion = head.versionMajor === 2 ? '2.0' : head.versionMajor === 3 ? '3.0' : head.versionMinor === 1 ? '1.1' : '1.0';
    this.rawHeaders = head.headers;
    this.keepAlive = head.keepAlive;
    this.upgrade = head.upgrade;
    this.contentLength = head.contentLength;
    this.chunked = head.chunked;
    this.expectContinue = head.expectContinue;
    this.remoteAddress = remoteAddress;
    this.#source = source;
    this.#complete = !head.chunked && head.contentLength <= 0;
  }

  /** Path part of the target (before `?`). */
  get path(): string {
    if (this.#pathEnd < 0) {
      const q = this.url.indexOf('?');
      this.#pathEnd = q < 0 ? this.url.length : q;
    }
    return this.#pathEnd === this.url.length ? this.url : this.url.slice(0, this.#pathEnd);
  }

  /** Query string without the `?` (`''` when none). */
  get query(): string {
    const p = this.path.length;
    return p < this.url.length ? this.url.slice(p + 1) : '';
  }

  /**
   * The value of a field, case-insensitive. Repeated fields are joined with `, ` (RFC 9110 §5.3), except
   * `set-cookie`-style lookups should use {@link getAll}.
   */
  get(name: string): string | undefined {
    const h = this.rawHeaders;
    const len = name.length;
    let out: string | undefined;
    for (let i = 0; i < h.length; i += 2) {
      const n = h[i]!;
      if (n.length === len && (n === name || n.toLowerCase() === name.toLowerCase())) {
        out = out === undefined ? h[i + 1]! : `${out}, ${h[i + 1]!}`;
      }
    }
    return out;
  }

  /** Every value of a field, case-insensitive, in order. */
  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    const h = this.rawHeaders;
    const out: string[] = [];
    for (let i = 0; i < h.length; i += 2) if (h[i]!.toLowerCase() === lower) out.push(h[i + 1]!);
    return out;
  }

  /** Fields as an object with lowercase names (repeated fields joined with `, `). Built on first use. */
  get headers(): Record<string, string> {
    if (this.#headers === null) {
      const o: Record<string, string> = Object.create(null) as Record<string, string>;
      const h = this.rawHeaders;
      for (let i = 0; i < h.length; i += 2) {
        const k = h[i]!.toLowerCase();
        const prev = o[k];
        o[k] = prev === undefined ? h[i + 1]! : `${prev}, ${h[i + 1]!}`;
      }
      this.#headers = o;
    }
    return this.#headers;
  }

  /** Trailer fields of a chunked body (flat pairs), available once the body has been read. */
  get trailers(): string[] {
    return this.#trailers ?? [];
  }

  /** True once the whole body has arrived. */
  get complete(): boolean {
    return this.#complete;
  }

  // ---- fed by the connection ----------------------------------------------------------------------

  /** @internal */
  _push(chunk: Buffer): void {
    if (this.#discarding) return;
    const w = this.#waiter;
    if (w !== null && this.#chunks.length === 0) {
      this.#waiter = null;
      w.resolve({ value: chunk, done: false });
      return;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (!this.#full && this.#buffered >= BODY_HIGH_WATER) {
      this.#full = true;
      this.#source.bodyFull(this);
    }
  }

  /** @internal */
  _end(trailers: string[] | null): void {
    this.#complete = true;
    this.#trailers = trailers;
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.resolve({ value: undefined, done: true });
    }
  }

  /** @internal The connection closed before the body completed. */
  _abort(): void {
    if (this.#complete) return;
    this.#error = new RequestAbortedError();
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.reject(this.#error);
    }
  }

  /** @internal The response ended: drop whatever body remains. */
  _discard(): void {
    this.#discarding = true;
    this.#chunks = [];
    this.#buffered = 0;
    if (this.#full) {
      this.#full = false;
      this.#source.bodyWanted(this);
    }
  }

  // ---- readers --------------------------------------------------------------------------------------

  /** Next body chunk, or `done` at the end. */
  next(): Promise<IteratorResult<Buffer>> {
    if (this.#chunks.length > 0) {
      const c = this.#chunks.shift()!;
      this.#buffered -= c.length;
      if (this.#full && this.#buffered < BODY_HIGH_WATER / 2) {
        this.#full = false;
        this.#source.bodyWanted(this);
      }
      return Promise.resolve({ value: c, done: false });
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#complete) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter !== null) return Promise.reject(new Error('concurrent reads of one request body'));
    this.#source.bodyWanted(this);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return { next: () => this.next() };
  }

  /** The whole body, refusing more than `limit` bytes (default 1 MiB) with {@link BodyTooLargeError}. */
  async buffer(limit: number = DEFAULT_BODY_LIMIT): Promise<Buffer> {
    if (this.contentLength > limit) {
      this._discard();
      throw new BodyTooLargeError(limit);
    }
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const r = await this.next();
      if (r.done === true) break;
      total += r.value.length;
      if (total > limit) {
        this._discard();
        throw new BodyTooLargeError(limit);
      }
      parts.push(r.value);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  }

  /** The body decoded as UTF-8. */
  async text(limit?: number): Promise<string> {
    return (await this.buffer(limit)).toString('utf8');
  }

  /** The body parsed as JSON. A syntax error is thrown with `status: 400`. */
  async json<T = unknown>(limit?: number): Promise<T> {
    const text = await this.text(limit);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw Object.assign(new SyntaxError(`invalid JSON body: ${(err as Error).message}`), { status: 400 });
    }
  }

  /** The body as a Node `Readable` (for `pipeline`). */
  stream(): Readable {
    return Readable.from(this, { objectMode: false });
  }
}
