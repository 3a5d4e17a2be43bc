import { Connection, Server, type ConnectionHandler, type ServerOptions, type TimeoutKind } from '../net/index.js';
import { Http1Parser, type Http1ParserHandler, type Http1ParserOptions, type MessageHead } from './parser.js';
import { Http1ParseError } from './errors.js';
import { Http1Request, type BodySource } from './request.js';
import { Http1Response, type ResponseSink } from './response.js';
import { STATUS_TEXT } from './status.js';

/** A request handler. It may return a promise; a rejection becomes a 500 (or the error's `status`). */
export type Http1Handler = (req: Http1Request, res: Http1Response) => void | Promise<unknown>;

/**
 * Called for `Upgrade`/`CONNECT` requests once the earlier responses on the connection are out. Take the
 * connection (`conn.setHandler(next, head)` or `conn.detach()`) and return true, or return false to let
 * the request go to the normal handler (which answers it like any other).
 */
export type UpgradeHandler = (req: Http1Request, conn: Connection, head: Buffer) => boolean;

export interface Http1ServerOptions extends Http1ParserOptions, Omit<ServerOptions, 'onConnection'> {
  /** Keep-alive idle time before an idle connection is closed (ms). Default 5 000. */
  keepAliveTimeout?: number;
  /** Time allowed to receive a complete request head (ms); answered with 408. Default 20 000. */
  headersTimeout?: number;
  /** Time allowed to receive a complete request body (ms); answered with 408. Default 300 000. */
  requestTimeout?: number;
  /** Most requests parsed ahead of their responses on one connection (pipelining). Default 32. */
  maxPipelinedRequests?: number;
  /** Largest response buffered for a pipelined request that waits for an earlier one (bytes). Default 1 MiB. */
  maxQueuedResponseBytes?: number;
  /** Advertise `Keep-Alive: timeout=N` so clients stop reusing a connection before we close it. Default true. */
  advertiseKeepAlive?: boolean;
  onUpgrade?: UpgradeHandler;
  /** Errors thrown by handlers and protocol errors (for logging). */
  onRequestError?: (err: Error, req: Http1Request | null) => void;
}

interface Resolved {
  /** Idle parsers shared by the server's connections (see Http1Connection's parser). */
  spareParsers: Http1Parser[];
  keepAliveTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  maxPipelined: number;
  maxQueuedBytes: number;
  keepAliveLine: string;
}

/** One Resolved per options object: the connections of a server share it (and its spare parsers). */
const resolvedByOptions = new WeakMap<Http1ServerOptions, Resolved>();

function resolve(o: Http1ServerOptions): Resolved {
  let r = resolvedByOptions.get(o);
  if (r === undefined) resolvedByOptions.set(o, (r = resolveNew(o)));
  return r;
}

/**
 * Spare parsers kept per server: enough for the connections that start a request in one turn; more are
 * left to the GC (a parser is ~0.4 KiB).
 */
const MAX_SPARE_PARSERS = 256;

/** A spare parser's handler: it holds no connection. */
const NO_HANDLER: Http1ParserHandler = { onHeadersComplete() {}, onBody() {}, onMessageComplete() {} };

function resolveNew(o: Http1ServerOptions): Resolved {
  const keepAliveTimeout = o.keepAliveTimeout ?? 5000;
  return {
    spareParsers: [],
    keepAliveTimeout,
    headersTimeout: o.headersTimeout ?? 20_000,
    requestTimeout: o.requestTimeout ?? 300_000,
    maxPipelined: o.maxPipelinedRequests ?? 32,
    maxQueuedBytes: o.maxQueuedResponseBytes ?? 1024 * 1024,
    keepAliveLine:
      (o.advertiseKeepAlive ?? true) && keepAliveTimeout > 0 ? `Keep-Alive: timeout=${Math.floor(keepAliveTimeout / 1000)}\r\n` : '',
  };
}

/** A declared body up to this size is read and dropped when the handler ignores it; larger ones close. */
const DISCARD_LIMIT = 64 * 1024;
/**
 * How long a connection with no request yet stays open once a graceful close begins, for the request its
 * client is most likely sending already (longer when `idleLingerMs` is).
 */
export const FRESH_LINGER_MS = 500;

function errorStatus(err: unknown): number {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s < 600 ? s : 500;
}

/**
 * The HTTP/1.1 protocol on one connection: parses requests, runs the handler, writes responses in order.
 * Use it directly to speak HTTP/1.1 on a connection you accepted yourself (e.g. after ALPN).
 *
 * @example
 * ```ts
 * const server = new Server({ onConnection: (conn) => new Http1Connection(conn, (req, res) => res.end('hi'), {}) });
 * ```
 */
export class Http1Connection implements ConnectionHandler, BodySource, ResponseSink {
  readonly conn: Connection;
  /**
   * This connection's parser while a request is being read or answered; between requests it goes back to
   * the server's spares (an idle keep-alive connection holds none: ~0.4 KiB each, #34) — see {@link parser}.
   */
  #parser: Http1Parser | null = null;
  /** True inside the parser's `execute` (its callbacks must not give it away). */
  #parsing = false;
  #handler: Http1Handler;
  #opts: Http1ServerOptions;
  #r: Resolved;
  /** Responses in request order; the first is the one on the wire. */
  #queue: Http1Response[] = [];
  /** Request whose body is being parsed. */
  #bodyReq: Http1Request | null = null;
  #stash: Buffer | null = null;
  #closing = false;
  #pendingUpgrade: { req: Http1Request; res: Http1Response } | null = null;
  #continueOwed: Http1Request | null = null;
  #trailers: string[] | null = null;
  /** Close once the queued responses are out (peer half-closed, shutdown, error). */
  #endWhenDrained = false;
  /** The server is shutting down: requests that arrive from now on get 503 (they can retry elsewhere). */
  #shuttingDown = false;
  /** Requests begun on this connection (0: none yet — see onShutdown). */
  #requests = 0;

  constructor(conn: Connection, handler: Http1Handler, options: Http1ServerOptions = {}) {
    this.conn = conn;
    this.#handler = handler;
    this.#opts = options;
    // Made once per options object: a server's connections share it (and its spare parsers).
    this.#r = resolve(options);
    conn.setTimeout('headers', this.#r.headersTimeout);
  }

  /** The request parser: this connection's, or a spare taken for it (made when there is none). */
  get parser(): Http1Parser {
    const p = this.#parser;
    if (p !== null) return p;
    const spare = this.#r.spareParsers.pop();
    if (spare !== undefined) {
      spare.handler = this;
      return (this.#parser = spare);
    }
    // Split tokens are gathered in a buffer from the connection's pool, returned when it is done.
    return (this.#parser = new Http1Parser('request', this, { ...this.#opts, scratch: this.conn.pool }));
  }

  /** Between requests (or at the close): the parser holds nothing of this connection, so it is a spare. */
  #releaseParser(): void {
    const p = this.#parser;
    if (p === null || this.#parsing || !p.idle || p.paused || p.upgraded || p.error !== null || this.#stash !== null) return;
    this.#parser = null;
    p.dispose();
    p.handler = NO_HANDLER;
    const spares = this.#r.spareParsers;
    if (spares.length < MAX_SPARE_PARSERS) spares.push(p);
  }

  /** No request begun and none being read (true without a parser). */
  #parserIdle(): boolean {
    return this.#parser === null || this.#parser.idle;
  }

  get httpDate(): string {
    return this.conn.sweeper.httpDate;
  }

  get keepAliveLine(): string {
    return this.#r.keepAliveLine;
  }

  // ---- ConnectionHandler ------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.conn.timeoutKind === 'idle') this.conn.setTimeout('headers', this.#r.headersTimeout);
    this.#parse(chunk);
  }

  #parse(chunk: Buffer): void {
    const p = this.parser;
    let used: number;
    this.#parsing = true;
    try {
      used = p.execute(chunk);
    } catch (err) {
      if (err instanceof Http1ParseError) {
        this.#protocolError(err);
        return;
      }
      throw err;
    } finally {
      this.#parsing = false;
    }
    if (used < chunk.length) {
      if (p.upgraded) {
        this.#stash = chunk.subarray(used);
        this.conn.pauseReading();
        this.#tryUpgrade();
      } else {
        // Paused for pipelining depth: keep the rest until responses drain.
        this.#stash = chunk.subarray(used);
        this.conn.pauseReading();
      }
    } else if (p.upgraded && this.#pendingUpgrade !== null) {
      this.conn.pauseReading();
      this.#tryUpgrade();
    }
    this.#armIdle();
  }

  /** Between requests with nothing in flight, the keep-alive timeout runs. */
  #armIdle(): void {
    if (this.#queue.length === 0 && this.#bodyReq === null && this.#parserIdle() && !this.conn.closed) {
      if (this.conn.timeoutKind !== 'idle') this.conn.setTimeout('idle', this.#r.keepAliveTimeout);
      this.#releaseParser();
    }
  }

  onEnd(): void {
    // Half-close from the client: finish what is queued, then close (RFC 9112 §9.6).
    try {
      this.#parser?.finish();
    } catch {
      /* an incomplete request: nothing to answer on a half-closed connection */
    }
    if (this.#bodyReq !== null) this.#bodyReq._abort();
    this.#closing = true;
    this.#endWhenDrained = true;
    if (this.#queue.length === 0) this.conn.end();
  }

  onClose(): void {
    this.#releaseParser();
    this.#parser?.dispose();
    if (this.#bodyReq !== null) this.#bodyReq._abort();
    for (const res of this.#queue) res._emit('close');
    this.#queue = [];
  }

  onTimeout(kind: TimeoutKind): void {
    if (kind === 'idle' || (kind === 'headers' && this.#parserIdle() && this.#queue.length === 0)) {
      this.conn.destroy(); // nothing to answer: an idle keep-alive or silent connection
      return;
    }
    if ((kind === 'headers' || kind === 'request') && this.#queue.length === 0) {
      this.#sendError(408, 'request not received in time');
      return;
    }
    this.conn.destroy();
  }

  onDrain(): void {
    const head = this.#queue[0];
    if (head !== undefined) head._emit('drain');
    this.#maybeResume();
  }

  onShutdown(idleLingerMs = 0): void {
    this.#closing = true;
    if (this.#queue.length !== 0 || !this.#parserIdle()) {
      this.#shuttingDown = true;
      return;
    }
    if (this.#requests === 0) {
      // Accepted before the close began, nothing read yet: a client sends its first request as it connects,
      // so that request is most likely on its way — it is answered as usual (then Connection: close), not
      // refused or reset; a connection that stays silent closes after FRESH_LINGER_MS.
      this.conn.setTimeout('idle', Math.max(idleLingerMs, FRESH_LINGER_MS));
      return;
    }
    this.#shuttingDown = true;
    // Idle: a request may be on its way. Lingering, it is answered (503 + Connection: close) instead of
    // meeting a closed connection; the idle timeout closes the connection if none comes.
    if (idleLingerMs > 0) this.conn.setTimeout('idle', idleLingerMs);
    else this.conn.end();
  }

  // ---- parser events --------------------------------------------------------------------------------

  onHeadersComplete(head: MessageHead): void {
    this.#requests++;
    const req = new Http1Request(head, this, this.conn.remoteAddress);
    const closeAfter = !head.keepAlive || this.#closing;
    const res = new Http1Response(this, head.method === 'HEAD', head.versionMinor, closeAfter);
    res._req = req;
    this.#queue.push(res);
    if (!req.complete) {
      this.#bodyReq = req;
      this.conn.setTimeout('request', this.#r.requestTimeout);
      if (head.expectContinue) this.#continueOwed = req;
    } else {
      this.conn.clearTimeout();
    }
    if (this.#shuttingDown) {
      // RFC 9110 §15.6.4: 503 with Connection: close; the handler never sees the request.
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('Retry-After', '1');
      res.statusCode = 503;
      res.end('503 Service Unavailable: shutting down\n');
      return;
    }
    if (head.upgrade && this.#opts.onUpgrade !== undefined) {
      this.#pendingUpgrade = { req, res };
      return; // the handler runs only if the upgrade is declined
    }
    if (this.#queue.length >= this.#r.maxPipelined) this.parser.pause();
    this.#run(req, res);
  }

  onBody(chunk: Buffer): void {
    this.#bodyReq?._push(chunk);
  }

  onTrailers(trailers: string[]): void {
    this.#trailers = trailers;
  }

  onMessageComplete(): void {
    const r = this.#bodyReq;
    if (r !== null) {
      this.#bodyReq = null;
      if (this.#continueOwed === r) this.#continueOwed = null;
      r._end(this.#trailers);
      this.#trailers = null;
      this.conn.clearTimeout();
    }
  }

  // ---- BodySource -------------------------------------------------------------------------------------

  bodyWanted(req: Http1Request): void {
    if (this.#continueOwed === req) {
      this.#continueOwed = null;
      // RFC 9110 §10.1.1: the client waits for this before sending the body.
      this.conn.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
    if (this.#stash === null) this.conn.resumeReading();
  }

  bodyFull(): void {
    this.conn.pauseReading();
  }

  // ---- ResponseSink ---------------------------------------------------------------------------------

  send(res: Http1Response, data: string | Buffer, encoding: 'latin1' | 'utf8'): boolean {
    if (this.#queue[0] === res) return this.conn.write(data, encoding);
    if (this.conn.closed) return false;
    // Not at the head of the pipeline: keep in order until the earlier responses are out.
    (res._queued ??= []).push(data);
    (res._queuedEnc ??= []).push(encoding);
    let bytes = 0;
    for (const q of res._queued) bytes += q.length;
    if (bytes > this.#r.maxQueuedBytes) return false;
    return true;
  }

  mustClose(res: Http1Response, ending: boolean): boolean {
    if (this.#closing) return true;
    const req = res._req;
    return ending && req !== null && !req.complete && this.#unreadBodyCloses(req);
  }

  /**
   * A body the handler will not read is read and dropped, unless we still owe a 100 Continue (the client
   * may or may not send it) or the remainder is large or unknown: then the connection is not reused
   * (RFC 9112 §9.3).
   */
  #unreadBodyCloses(req: Http1Request): boolean {
    return this.#continueOwed === req || req.contentLength < 0 || req.contentLength > DISCARD_LIMIT;
  }

  finished(res: Http1Response): void {
    const req = res._req;
    if (req !== null && !req.complete) {
      if (this.#unreadBodyCloses(req)) res.closeAfter = true;
      if (this.#continueOwed === req) this.#continueOwed = null;
      req._discard();
    }
    if (this.#queue[0] === res) this.#advance();
    // The peer is not reading our answers: stop parsing more requests until it does.
    if (this.conn.writeBlocked) this.parser.pause();
  }

  /** Retires finished responses at the head of the queue and starts the next one's output. */
  #advance(): void {
    const q = this.#queue;
    while (q.length > 0) {
      const head = q[0]!;
      if (head._queued !== null) {
        const data = head._queued;
        const enc = head._queuedEnc!;
        head._queued = null;
        head._queuedEnc = null;
        for (let i = 0; i < data.length; i++) this.conn.write(data[i]!, enc[i]!);
      }
      if (!head.finished) {
        if (this.#pendingUpgrade?.res === head) this.#tryUpgrade();
        return;
      }
      q.shift();
      head._req = null;
      if (head.closeAfter) {
        this.#closing = true;
        for (const r of q) r._emit('close');
        q.length = 0;
        this.conn.end();
        return;
      }
    }
    // Queue empty.
    if (this.#pendingUpgrade !== null) {
      this.#tryUpgrade();
      return;
    }
    if (this.#endWhenDrained || (this.#closing && this.#parserIdle())) {
      this.conn.end();
      return;
    }
    this.#maybeResume();
    this.#armIdle();
  }

  /** Resumes parsing (and reading) paused for pipelining depth or write backpressure, once both allow. */
  #maybeResume(): void {
    const p = this.#parser;
    if (p === null || !p.paused || this.conn.writeBlocked || this.#queue.length >= this.#r.maxPipelined || this.#pendingUpgrade !== null) return;
    if (p.upgraded || this.conn.closed) return;
    p.resume();
    const rest = this.#stash;
    this.#stash = null;
    if (rest !== null) this.#parse(rest);
    if (this.#stash === null && !p.paused) this.conn.resumeReading();
  }

  #tryUpgrade(): void {
    const pu = this.#pendingUpgrade;
    if (pu === null || this.#queue[0] !== pu.res || this.#parser?.upgraded !== true) return;
    this.#pendingUpgrade = null;
    const rest = this.#stash ?? Buffer.alloc(0);
    this.#stash = null;
    let taken = false;
    this.conn.clearTimeout(); // the next protocol arms its own timeouts
    try {
      taken = this.#opts.onUpgrade!(pu.req, this.conn, rest);
    } catch (err) {
      this.#opts.onRequestError?.(err as Error, pu.req);
      this.conn.destroy(err as Error);
      return;
    }
    if (taken) {
      this.#queue = [];
      this.conn.resumeReading();
      return;
    }
    // Declined: answer as a normal request, then carry on with HTTP on this connection.
    this.parser.resumeAfterUpgrade();
    if (pu.req.method === 'CONNECT') pu.res.closeAfter = true;
    this.#stash = rest.length > 0 ? rest : null;
    this.parser.pause();
    this.#run(pu.req, pu.res);
  }

  // ---- handler and errors -----------------------------------------------------------------------

  #run(req: Http1Request, res: Http1Response): void {
    let ret: void | Promise<unknown>;
    try {
      ret = this.#handler(req, res);
    } catch (err) {
      this.#handlerError(err, req, res);
      return;
    }
    if (ret !== undefined && typeof (ret as Promise<unknown>).then === 'function') {
      (ret as Promise<unknown>).then(undefined, (err: unknown) => this.#handlerError(err, req, res));
    }
  }

  abort(res: Http1Response, error: Error): void {
    this.#opts.onRequestError?.(error, res._req);
    this.#cut(error);
  }

  /**
   * Mid-body failure: the only honest signal left is to cut the connection — after what was written,
   * which the client may use (a truncated body is still told apart by its framing).
   */
  #cut(e: Error): void {
    if (this.conn.closed) return;
    this.conn.flush();
    this.conn.destroy(e);
  }

  #handlerError(err: unknown, req: Http1Request, res: Http1Response): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.#opts.onRequestError?.(e, req);
    if (this.conn.closed) return;
    if (res.headersSent) {
      this.#cut(e);
      return;
    }
    if (res.finished) return;
    const status = errorStatus(err);
    res.clearHeaders();
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    if (status === 413) res.closeAfter = true; // do not read the oversized body just to drop it
    res.end(`${status} ${STATUS_TEXT[status] ?? ''}\n`);
  }

  /** Answers a parse error once (after earlier pipelined responses) and closes. */
  #protocolError(err: Http1ParseError): void {
    this.#opts.onRequestError?.(err, null);
    const req = this.#bodyReq;
    if (req !== null) {
      // The error is in the body of a request the handler already has: answer it on that request's
      // response if nothing was sent yet, otherwise the connection can only be cut.
      this.#bodyReq = null;
      const res = this.#queue.find((r) => r._req === req);
      req._abort();
      if (res !== undefined && !res.finished) {
        if (res.headersSent) {
          this.conn.destroy(err);
          return;
        }
        this.#closing = true;
        this.conn.pauseReading();
        res.clearHeaders();
        res.statusCode = err.status;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end(`${err.status} ${STATUS_TEXT[err.status] ?? ''}: ${err.message}\n`);
        return;
      }
    }
    this.#sendError(err.status, err.message);
  }

  #sendError(status: number, message: string): void {
    this.#closing = true;
    this.conn.pauseReading();
    const res = new Http1Response(this, false, 1, true);
    this.#queue.push(res);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.statusCode = status;
    res.end(`${status} ${STATUS_TEXT[status] ?? ''}: ${message}\n`);
  }
}

/**
 * An HTTP/1.1 server on `lib/net`: keep-alive, pipelining, chunked bodies both ways, `Expect: 100-continue`,
 * Upgrade hand-off, limits and timeouts, graceful close.
 *
 * @example
 * ```ts
 * import { createHttp1Server } from 'covet/http1';
 * const server = createHttp1Server((req, res) => {
 *   res.setHeader('Content-Type', 'text/plain');
 *   res.end('Hello, World!');
 * });
 * await server.listen({ port: 3000 });
 * ```
 */
export function createHttp1Server(handler: Http1Handler, options: Http1ServerOptions = {}): Server {
  return new Server({
    ...options,
    onConnection: (conn) => new Http1Connection(conn, handler, options),
  });
}
