/**
 * An HTTP/2 client connection (RFC 9113) on the same frame codec and HPACK as the server: h2c with prior
 * knowledge, or h2 by ALPN over TLS. Streams are requests; each sends within both flow-control windows
 * (waiting for WINDOW_UPDATE, never buffering past them unbounded — `write` returns false like a stream)
 * and gives window back only as its body is read, so a reader that stops reading stops the server. GOAWAY
 * fails the streams the server will not process with a retryable error; a connection error is sent as
 * GOAWAY and fails every stream.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Connection, type ConnectionHandler } from '../net/index.js';
import { connectionError, H2, Http2ProtocolError, errorName } from './errors.js';
import { FrameParser, S_ENABLE_PUSH, S_HEADER_TABLE_SIZE, S_INITIAL_WINDOW_SIZE, S_MAX_CONCURRENT_STREAMS, S_MAX_FRAME_SIZE, S_MAX_HEADER_LIST_SIZE, T_DATA, T_GOAWAY, T_HEADERS, T_PING, T_PUSH_PROMISE, T_RST_STREAM, T_SETTINGS, T_WINDOW_UPDATE, type Frame } from './frame-parser.js';
import { dataFrame, goawayFrame, headersFrames, pingFrame, rstStreamFrame, settingsFrame, windowUpdateFrame } from './frame-writer.js';
import { HpackDecoder, HpackEncoder } from './hpack/index.js';
import { PREFACE } from './session.js';
import { StreamTable } from '../net/stream-table.js';

export interface Http2ClientOptions {
  /** TLS options for `https:` URLs (ALPN `h2` is asked for). */
  tls?: tls.ConnectionOptions;
  /** Our receive window per stream. Default 1 MiB. */
  initialWindowSize?: number;
  /** Our receive window for the connection. Default 16 MiB. */
  connectionWindowSize?: number;
  /** Largest header list we accept. Default 64 KiB. */
  maxHeaderListSize?: number;
  /** Connecting (and TLS) gives up after this long. Default 10 000 ms. */
  connectTimeoutMs?: number;
}

/**
 * A stream ended by the peer (RST_STREAM), by GOAWAY, or by the connection ending.
 *
 * @example
 * ```ts
 * try {
 *   await session.request({ ':method': 'GET', ':path': '/' }, true).response;
 * } catch (err) {
 *   if (err instanceof Http2StreamError && err.retryable) retry(); // GOAWAY past it or REFUSED_STREAM: never processed
 * }
 * ```
 */
export class Http2StreamError extends Error {
  override name = 'Http2StreamError';
  /** The RFC 9113 §7 code (RST_STREAM's, GOAWAY's, or CANCEL/INTERNAL_ERROR for a lost connection). */
  readonly code: number;
  /** True when the server did not process the request (GOAWAY past it, REFUSED_STREAM): safe to send again. */
  readonly retryable: boolean;
  constructor(message: string, code: number, retryable = false) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }
}

/** The response head: the final status (1xx skipped) and the fields, in order. */
export interface ResponseHead {
  status: number;
  headers: Array<[string, string]>;
  /** The response ended with its head (no body, no trailers). */
  endStream: boolean;
}

type Waiter = { resolve: (v: IteratorResult<Buffer>) => void; reject: (e: Error) => void };

/**
 * One request/response exchange. Read the body with `for await (const chunk of stream)`.
 *
 * @example
 * ```ts
 * const s = session.request({ ':method': 'POST', ':path': '/upload', 'content-type': 'application/json' });
 * s.end(JSON.stringify(doc));
 * const head = await s.response;
 * for await (const chunk of s) process(chunk);
 * ```
 */
export class ClientStream implements AsyncIterable<Buffer> {
  id = 0;
  /** Resolves with the response head; rejects with an Http2StreamError if the stream ends first. */
  readonly response: Promise<ResponseHead>;
  /** Resolves when the response is complete: its trailers, or null. */
  readonly trailers: Promise<Array<[string, string]> | null>;
  /** @internal */ sendWindow: number;
  /** @internal */ recvWindow: number;
  /** @internal */ uncredited = 0;
  /** @internal */ queue: Buffer[] = [];
  /** @internal */ queued = 0;
  /** @internal */ endQueued = false;
  /** @internal */ localDone = false;
  /** @internal */ remoteDone = false;
  /** @internal */ gotHead = false;
  /** @internal */ head: Array<[string, string]>;
  /** @internal */ error: Http2StreamError | null = null;
  readonly #session: Http2ClientSession;
  #chunks: Buffer[] = [];
  #waiter: Waiter | null = null;
  #drainers: Array<() => void> = [];
  #resolveHead!: (h: ResponseHead) => void;
  #rejectHead!: (e: Error) => void;
  #resolveTrailers!: (t: Array<[string, string]> | null) => void;
  #rejectTrailers!: (e: Error) => void;

  /** @internal */
  constructor(session: Http2ClientSession, head: Array<[string, string]>, sendWindow: number, recvWindow: number) {
    this.#session = session;
    this.head = head;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
    this.response = new Promise((resolve, reject) => {
      this.#resolveHead = resolve;
      this.#rejectHead = reject;
    });
    this.trailers = new Promise((resolve, reject) => {
      this.#resolveTrailers = resolve;
      this.#rejectTrailers = reject;
    });
    // Callers may await only one of them: the other's rejection is not unhandled.
    this.response.catch(() => {});
    this.trailers.catch(() => {});
  }

  /** Queues request body bytes; false when the caller should wait for `drained()` (the windows are full). */
  write(data: string | Uint8Array): boolean {
    if (this.localDone || this.endQueued) throw new Error('write after end');
    const b = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.#session._send(this, b, false);
  }

  /** Ends the request (with last bytes). */
  end(data?: string | Uint8Array): void {
    if (this.localDone || this.endQueued) return;
    const b = data === undefined ? Buffer.alloc(0) : typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.#session._send(this, b, true);
  }

  /** Resolves when more can be written (or the stream is over). */
  drained(): Promise<void> {
    if (this.queued === 0 || this.error !== null || this.remoteDone) return Promise.resolve();
    return new Promise((resolve) => this.#drainers.push(resolve));
  }

  /** Cancels the exchange: RST_STREAM (CANCEL by default). */
  reset(code: number = H2.CANCEL): void {
    this.#session._reset(this, code);
  }

  /** Next body chunk, or done at the end of the response. */
  next(): Promise<IteratorResult<Buffer>> {
    const c = this.#chunks.shift();
    if (c !== undefined) {
      this.#session._consumed(this, c.length);
      return Promise.resolve({ value: c, done: false });
    }
    if (this.error !== null) return Promise.reject(this.error);
    if (this.remoteDone) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter !== null) return Promise.reject(new Error('concurrent reads of one response body'));
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return { next: () => this.next(), return: async () => (this.reset(), { value: undefined, done: true }) };
  }

  /** @internal */
  _head(fields: Array<[string, string]>, endStream: boolean): void {
    const status = Number(fields.find(([n]) => n === ':status')?.[1]);
    this.gotHead = true;
    this.#resolveHead({ status, headers: fields.filter(([n]) => n[0] !== ':'), endStream });
  }

  /** @internal */
  _data(chunk: Buffer): void {
    const w = this.#waiter;
    if (w !== null && this.#chunks.length === 0) {
      this.#waiter = null;
      this.#session._consumed(this, chunk.length);
      w.resolve({ value: chunk, done: false });
    } else this.#chunks.push(chunk);
  }

  /** @internal The response is complete. */
  _end(trailers: Array<[string, string]> | null): void {
    this.remoteDone = true;
    this.#resolveTrailers(trailers);
    const w = this.#waiter;
    if (w !== null && this.#chunks.length === 0) {
      this.#waiter = null;
      w.resolve({ value: undefined, done: true });
    }
    this._drained();
  }

  /** @internal */
  _fail(err: Http2StreamError): void {
    if (this.error !== null || this.remoteDone) return;
    this.error = err;
    this.#rejectHead(err);
    this.#rejectTrailers(err);
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.reject(err);
    }
    this._drained();
  }

  /** @internal */
  _drained(): void {
    for (const d of this.#drainers.splice(0)) d();
  }
}

/**
 * @example
 * ```ts
 * const session = await Http2ClientSession.connect('http://127.0.0.1:8080');
 * const s = session.request({ ':method': 'GET', ':path': '/' });
 * s.end();
 * console.log((await s.response).status);
 * await session.close();
 * ```
 */
export class Http2ClientSession implements ConnectionHandler {
  readonly authority: string;
  readonly scheme: 'http' | 'https';
  #conn!: Connection;
  readonly #parser: FrameParser;
  readonly #encoder = new HpackEncoder();
  readonly #decoder: HpackDecoder;
  /** Our open streams; the server's limit on them is not known yet, so room for 512 before any overflow. */
  readonly #streams = new StreamTable<ClientStream>(1024);
  /** Requests waiting for a stream slot (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly #pending: ClientStream[] = [];
  readonly #o: Required<Omit<Http2ClientOptions, 'tls'>>;
  #nextId = 1;
  #peerInitialWindow = 65535;
  #peerMaxFrameSize = 16384;
  #peerMaxStreams = Infinity;
  #connSendWindow = 65535;
  #connUncredited = 0;
  #goaway: { lastStreamId: number; code: number } | null = null;
  #closed = false;
  #closeError: Error | undefined;
  #pings: Array<{ data: Buffer; resolve: (ms: number) => void; at: number }> = [];
  #pingSeq = 0;
  #onClose: Array<(err: Error | undefined) => void> = [];

  private constructor(url: URL, options: Http2ClientOptions) {
    this.authority = url.host;
    this.scheme = url.protocol === 'https:' ? 'https' : 'http';
    this.#o = {
      initialWindowSize: options.initialWindowSize ?? 1024 * 1024,
      connectionWindowSize: options.connectionWindowSize ?? 16 * 1024 * 1024,
      maxHeaderListSize: options.maxHeaderListSize ?? 64 * 1024,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    };
    this.#decoder = new HpackDecoder({ maxHeaderListSize: this.#o.maxHeaderListSize });
    this.#parser = new FrameParser(
      {
        onFrame: (f) => this.#frame(f),
        onStreamError: (e) => this.#streamError(e.streamId, e.code, e.message),
      },
      { maxFrameSize: 16384 },
    );
  }

  /** Opens a connection to `url` (`http:` h2c with prior knowledge, `https:` h2 by ALPN). */
  static connect(url: string | URL, options: Http2ClientOptions = {}): Promise<Http2ClientSession> {
    const u = typeof url === 'string' ? new URL(url) : url;
    const session = new Http2ClientSession(u, options);
    return session.#open(u, options);
  }

  #open(u: URL, options: Http2ClientOptions): Promise<this> {
    const secure = u.protocol === 'https:';
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port || (secure ? 443 : 80));
    return new Promise((resolve, reject) => {
      const socket = secure ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['h2'], ...options.tls }) : net.connect(port, host);
      const timer = setTimeout(() => socket.destroy(new Error(`connecting to ${u.host} timed out after ${this.#o.connectTimeoutMs} ms`)), this.#o.connectTimeoutMs);
      const failed = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', failed);
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', failed);
        if (secure && (socket as tls.TLSSocket).alpnProtocol !== 'h2') {
          socket.destroy();
          reject(new Error(`${u.host} did not agree to HTTP/2 (ALPN: ${String((socket as tls.TLSSocket).alpnProtocol)})`));
          return;
        }
        this.#conn = new Connection(socket, this);
        // The preface, our settings (no push), and the connection window raised to ours (§6.9.2).
        this.#conn.write(PREFACE);
        this.#conn.write(settingsFrame([[S_ENABLE_PUSH, 0], [S_INITIAL_WINDOW_SIZE, this.#o.initialWindowSize], [S_MAX_HEADER_LIST_SIZE, this.#o.maxHeaderListSize]]));
        if (this.#o.connectionWindowSize > 65535) this.#conn.write(windowUpdateFrame(0, this.#o.connectionWindowSize - 65535));
        resolve(this);
      });
    });
  }

  /** Whether the connection is gone (or going: GOAWAY received or sent). */
  get closed(): boolean {
    return this.#closed || this.#goaway !== null;
  }

  /** Streams open now. */
  get streams(): number {
    return this.#streams.size;
  }

  /** Calls `fn` once when the connection ends (`err` set when it failed). */
  whenClosed(fn: (err: Error | undefined) => void): void {
    if (this.#closed) fn(this.#closeError);
    else this.#onClose.push(fn);
  }

  /**
   * Starts a request. `:method` and `:path` are required; `:scheme` and `:authority` default to the
   * connection's. With `endStream`, the request has no body.
   */
  request(headers: Record<string, string> | ReadonlyArray<readonly [string, string]>, endStream = false): ClientStream {
    const fields: Array<[string, string]> = Array.isArray(headers) ? headers.map(([n, v]) => [n.toLowerCase(), v]) : Object.entries(headers as Record<string, string>).map(([n, v]) => [n.toLowerCase(), v]);
    const pseudo = (name: string, value: string): void => {
      if (!fields.some(([n]) => n === name)) fields.unshift([name, value]);
    };
    pseudo(':authority', this.authority);
    pseudo(':scheme', this.scheme);
    if (!fields.some(([n]) => n === ':method') || !fields.some(([n]) => n === ':path')) throw new TypeError('a request needs :method and :path');
    // Pseudo-header fields first (§8.3).
    fields.sort((a, b) => (a[0][0] === ':' ? 0 : 1) - (b[0][0] === ':' ? 0 : 1));
    const s = new ClientStream(this, fields, this.#peerInitialWindow, this.#o.initialWindowSize);
    if (endStream) s.endQueued = true;
    if (this.#closed || this.#goaway !== null) {
      s._fail(new Http2StreamError(this.#closed ? 'the connection is closed' : 'the server is going away (GOAWAY)', H2.REFUSED_STREAM, true));
      return s;
    }
    if (this.#streams.size >= this.#peerMaxStreams) this.#pending.push(s);
    else this.#start(s);
    return s;
  }

  #start(s: ClientStream): void {
    s.id = this.#nextId;
    this.#nextId += 2;
    this.#streams.set(s.id, s);
    const endNow = s.endQueued && s.queued === 0;
    for (const f of headersFrames(s.id, this.#encoder.encode(s.head), { endStream: endNow, maxFrameSize: this.#peerMaxFrameSize })) this.#conn.write(f);
    if (endNow) s.localDone = true;
    this.#flush(s);
  }

  /** @internal Queues body bytes (and the end), sends what the windows allow. */
  _send(s: ClientStream, data: Buffer, end: boolean): boolean {
    if (s.error !== null) return false;
    if (data.length > 0) {
      s.queue.push(data);
      s.queued += data.length;
    }
    if (end) s.endQueued = true;
    if (s.id !== 0) this.#flush(s);
    // Up to one stream window may wait here; past it the writer waits (`drained`).
    return s.queued < this.#o.initialWindowSize;
  }

  #flush(s: ClientStream): void {
    if (s.id === 0 || s.localDone || s.error !== null) return;
    while (s.queue.length > 0) {
      const room = Math.min(s.sendWindow, this.#connSendWindow, this.#peerMaxFrameSize);
      if (room <= 0) return;
      const head = s.queue[0]!;
      const n = Math.min(room, head.length);
      const piece = n === head.length ? head : head.subarray(0, n);
      if (n === head.length) s.queue.shift();
      else s.queue[0] = head.subarray(n);
      s.queued -= n;
      s.sendWindow -= n;
      this.#connSendWindow -= n;
      const last = s.queue.length === 0 && s.endQueued;
      this.#conn.write(dataFrame(s.id, piece, last));
      if (last) s.localDone = true;
    }
    if (s.endQueued && !s.localDone) {
      this.#conn.write(dataFrame(s.id, Buffer.alloc(0), true));
      s.localDone = true;
    }
    if (s.queued < this.#o.initialWindowSize) s._drained();
    if (s.localDone && s.remoteDone) this.#forget(s);
  }

  /** @internal The reader took `n` body bytes: give the stream's window back once half of it is used. */
  _consumed(s: ClientStream, n: number): void {
    s.uncredited += n;
    if (s.uncredited >= this.#o.initialWindowSize / 2 && !s.remoteDone && s.error === null && !this.#closed) {
      this.#conn.write(windowUpdateFrame(s.id, s.uncredited));
      s.recvWindow += s.uncredited;
      s.uncredited = 0;
    }
  }

  /** @internal */
  _reset(s: ClientStream, code: number): void {
    if (s.error !== null || (s.remoteDone && s.localDone)) return;
    if (s.id === 0) {
      const i = this.#pending.indexOf(s);
      if (i >= 0) this.#pending.splice(i, 1);
    } else if (!this.#closed) this.#conn.write(rstStreamFrame(s.id, code));
    s._fail(new Http2StreamError(`stream reset by us (${errorName(code)})`, code));
    this.#forget(s);
  }

  #forget(s: ClientStream): void {
    if (!this.#streams.delete(s.id)) return;
    while (this.#pending.length > 0 && this.#streams.size < this.#peerMaxStreams) this.#start(this.#pending.shift()!);
    if (this.#streams.size === 0 && this.#goaway !== null) this.#conn.end();
  }

  /** Round-trip time of a PING (ms). */
  ping(): Promise<number> {
    if (this.#closed) return Promise.reject(new Error('the connection is closed'));
    const data = Buffer.alloc(8);
    data.writeUInt32BE(++this.#pingSeq, 4);
    return new Promise((resolve) => {
      this.#pings.push({ data, resolve, at: performance.now() });
      this.#conn.write(pingFrame(data));
    });
  }

  /** Graceful close: GOAWAY, then the connection ends once the open streams are done. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.whenClosed(() => resolve());
      if (this.#goaway === null) this.#goaway = { lastStreamId: 0, code: H2.NO_ERROR };
      this.#conn.write(goawayFrame(0, H2.NO_ERROR));
      for (const p of this.#pending.splice(0)) p._fail(new Http2StreamError('the session is closing', H2.REFUSED_STREAM, true));
      if (this.#streams.size === 0) this.#conn.end();
    });
  }

  /** Ends the connection now; open streams fail. */
  destroy(err?: Error): void {
    this.#conn.destroy(err);
  }

  // ---- ConnectionHandler ----------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    try {
      this.#parser.push(chunk);
    } catch (err) {
      if (!(err instanceof Http2ProtocolError)) throw err;
      this.#conn.write(goawayFrame(0, err.code, (err.debugData ?? err.message).slice(0, 200)));
      this.#conn.destroy(err);
    }
  }

  /** @internal The connection ended. */
  onClose(err: Error | undefined): void {
    this.#closed = true;
    this.#closeError = err;
    const why = err instanceof Http2ProtocolError ? err.code : H2.CANCEL;
    for (const s of [...this.#streams.values(), ...this.#pending.splice(0)]) {
      // A request never sent (still waiting for a slot) may be sent again elsewhere.
      if (!s.remoteDone) s._fail(new Http2StreamError(`the connection closed${err instanceof Error ? `: ${err.message}` : ''}`, why, s.id === 0));
    }
    this.#streams.clear();
    for (const fn of this.#onClose.splice(0)) fn(err);
  }

  onDrain(): void {
    for (const s of this.#streams.values()) if (s.queue.length > 0) this.#flush(s);
  }

  // ---- frames ---------------------------------------------------------------------------------------

  #frame(f: Frame): void {
    switch (f.type) {
      case T_SETTINGS:
        return this.#settings(f);
      case T_PING:
        if (!f.ack) this.#conn.write(pingFrame(f.data, true));
        else {
          const i = this.#pings.findIndex((p) => p.data.equals(f.data));
          if (i >= 0) {
            const p = this.#pings.splice(i, 1)[0]!;
            p.resolve(performance.now() - p.at);
          }
        }
        return;
      case T_GOAWAY: {
        this.#goaway = { lastStreamId: f.lastStreamId, code: f.code };
        // Streams past the last one the server will process were not processed: safe to retry (§6.8).
        for (const s of this.#streams.values()) {
          if (s.id > f.lastStreamId) {
            s._fail(new Http2StreamError(`the server is going away (GOAWAY ${errorName(f.code)}) and did not process the request`, f.code === H2.NO_ERROR ? H2.REFUSED_STREAM : f.code, true));
            this.#streams.delete(s.id);
          }
        }
        for (const p of this.#pending.splice(0)) p._fail(new Http2StreamError('the server is going away (GOAWAY)', H2.REFUSED_STREAM, true));
        if (this.#streams.size === 0) this.#conn.end();
        return;
      }
      case T_WINDOW_UPDATE:
        if (f.streamId === 0) {
          this.#connSendWindow += f.increment;
          if (this.#connSendWindow > 2 ** 31 - 1) throw connectionError(H2.FLOW_CONTROL_ERROR, 'connection window past 2^31-1 (§6.9.1)');
          for (const s of this.#streams.values()) if (s.queue.length > 0) this.#flush(s);
        } else {
          const s = this.#streams.get(f.streamId);
          if (s === undefined) return;
          s.sendWindow += f.increment;
          if (s.sendWindow > 2 ** 31 - 1) return this.#streamError(s.id, H2.FLOW_CONTROL_ERROR, 'stream window past 2^31-1 (§6.9.1)');
          this.#flush(s);
        }
        return;
      case T_RST_STREAM: {
        const s = this.#streams.get(f.streamId);
        if (s === undefined) return;
        this.#streams.delete(s.id);
        s._fail(new Http2StreamError(`the server reset the stream (${errorName(f.code)})`, f.code, f.code === H2.REFUSED_STREAM));
        this.#forget(s);
        return;
      }
      case T_HEADERS:
        return this.#headers(f.streamId, f.block, f.endStream);
      case T_DATA:
        return this.#data(f.streamId, f.data, f.flowLength, f.endStream);
      case T_PUSH_PROMISE:
        throw connectionError(H2.PROTOCOL_ERROR, 'PUSH_PROMISE after SETTINGS_ENABLE_PUSH=0 (§8.4)');
      default:
        return; // PRIORITY and unknown frames: ignored (§5.3.2, §4.1)
    }
  }

  #settings(f: Extract<Frame, { type: typeof T_SETTINGS }>): void {
    if (f.ack) return;
    for (const [id, v] of f.settings) {
      if (id === S_INITIAL_WINDOW_SIZE) {
        if (v > 2 ** 31 - 1) throw connectionError(H2.FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE past 2^31-1 (§6.5.2)');
        // §6.9.2: the change applies to every open stream's window.
        const delta = v - this.#peerInitialWindow;
        this.#peerInitialWindow = v;
        for (const s of this.#streams.values()) s.sendWindow += delta;
      } else if (id === S_MAX_FRAME_SIZE) this.#peerMaxFrameSize = v;
      else if (id === S_MAX_CONCURRENT_STREAMS) this.#peerMaxStreams = v;
      else if (id === S_HEADER_TABLE_SIZE) this.#encoder.setMaxTableSize(Math.min(v, 4096));
    }
    this.#conn.write(settingsFrame([], true));
    for (const s of this.#streams.values()) if (s.queue.length > 0) this.#flush(s);
    while (this.#pending.length > 0 && this.#streams.size < this.#peerMaxStreams) this.#start(this.#pending.shift()!);
  }

  #headers(id: number, block: Buffer, endStream: boolean): void {
    // Decoded whatever the stream: the HPACK tables must stay in step (§4.3).
    const fields = this.#decoder.decode(block).map(([n, v]) => [n, v] as [string, string]);
    const s = this.#streams.get(id);
    if (s === undefined) return;
    if (!s.gotHead) {
      const status = Number(fields.find(([n]) => n === ':status')?.[1]);
      if (!Number.isInteger(status) || status < 100 || status > 999) return this.#streamError(id, H2.PROTOCOL_ERROR, 'a response without a valid :status (§8.3.2)');
      if (status < 200) return; // informational: the final response follows
      s._head(fields, endStream);
      if (endStream) this.#remoteEnd(s, null);
      return;
    }
    if (!endStream) return this.#streamError(id, H2.PROTOCOL_ERROR, 'trailers without END_STREAM (§8.1)');
    this.#remoteEnd(s, fields);
  }

  #data(id: number, data: Buffer, flowLength: number, endStream: boolean): void {
    // The connection window is given back as data arrives (each stream's own window bounds what is held).
    this.#connUncredited += flowLength;
    if (this.#connUncredited >= this.#o.connectionWindowSize / 2) {
      this.#conn.write(windowUpdateFrame(0, this.#connUncredited));
      this.#connUncredited = 0;
    }
    const s = this.#streams.get(id);
    if (s === undefined) return;
    if (!s.gotHead) return this.#streamError(id, H2.PROTOCOL_ERROR, 'DATA before the response head (§8.1)');
    s.recvWindow -= flowLength;
    if (s.recvWindow < 0) return this.#streamError(id, H2.FLOW_CONTROL_ERROR, 'the server sent past the stream window (§6.9.1)');
    // Padding counts against the window but is never read: credited now.
    if (flowLength > data.length) this._consumed(s, flowLength - data.length);
    if (data.length > 0) s._data(data);
    if (endStream) this.#remoteEnd(s, null);
  }

  #remoteEnd(s: ClientStream, trailers: Array<[string, string]> | null): void {
    s._end(trailers);
    if (s.localDone) this.#forget(s);
    else if (s.queue.length === 0 && !s.endQueued) {
      // The server answered before the request ended: nothing more of ours is wanted (§8.1).
      this.#conn.write(rstStreamFrame(s.id, H2.NO_ERROR));
      s.localDone = true;
      this.#forget(s);
    }
  }

  #streamError(id: number, code: number, message: string): void {
    this.#conn.write(rstStreamFrame(id, code));
    const s = this.#streams.get(id);
    if (s === undefined) return;
    this.#streams.delete(id);
    s._fail(new Http2StreamError(message, code));
    this.#forget(s);
  }
}
