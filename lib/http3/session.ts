/**
 * An HTTP/3 server connection (RFC 9114) on a covet/quic ServerConnection: our control stream with SETTINGS
 * and the QPACK streams (RFC 9204 §4.2), the client's control, encoder and decoder streams read by their
 * rules (§6.2), and each request stream's frames in their order (§4.1: HEADERS, DATA..., trailers) made into
 * the `Http1Request` / response pair every Covet server hands its handler — so one handler serves HTTP/1.1,
 * HTTP/2 and HTTP/3. A malformed request resets its stream with H3_MESSAGE_ERROR (§4.1.2); a broken
 * connection rule closes the connection with its code (§8).
 */
import { Http1Request, type BodySource } from '../http1/index.js';
import { answerFailure, Http2Response, type StreamSink } from '../http2/response.js';
import { requestHead } from '../http2/request-head.js';
import type { QuicStream } from '../quic/stream.js';
import type { ServerConnection } from '../quic/connection.js';
import { encodeVarint, readVarint } from '../quic/varint.js';
import { H3, Http3Error } from './errors.js';
import {
  dataHeader,
  encodeSettings,
  frame,
  FrameReader,
  type FrameSink,
  FRAME_CANCEL_PUSH,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_MAX_PUSH_ID,
  FRAME_PUSH_PROMISE,
  FRAME_SETTINGS,
  parseSettings,
  responseFrames,
  SETTINGS_MAX_FIELD_SECTION_SIZE,
  SETTINGS_QPACK_BLOCKED_STREAMS,
  SETTINGS_QPACK_MAX_TABLE_CAPACITY,
} from './frames.js';
import { QpackDecoder } from './qpack/decoder.js';
import { QpackEncoder } from './qpack/encoder.js';
import { QpackError } from './qpack/primitives.js';
import { StreamTable } from '../net/stream-table.js';

export type Http3Handler = (req: Http1Request, res: Http2Response) => void | Promise<unknown>;

export interface Http3SessionOptions {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY: the dynamic table the client's encoder may use. Default 4096. */
  qpackMaxTableCapacity?: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS. Default 16. */
  qpackBlockedStreams?: number;
  /**
   * The dynamic table our QPACK encoder fills for the response headers (the client's
   * SETTINGS_QPACK_MAX_TABLE_CAPACITY caps it; how many of its streams may wait on inserts, its
   * SETTINGS_QPACK_BLOCKED_STREAMS). Default 4096; 0: the static table and literals only.
   */
  qpackEncoderTableCapacity?: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE: a larger request header section is answered 431. Default 64 KiB. */
  maxFieldSectionSize?: number;
  /** Largest frame other than DATA (a HEADERS frame, SETTINGS). Default 64 KiB + 1 KiB. */
  maxFrameSize?: number;
  /** The peer's address, for `req.remoteAddress`. */
  remoteAddress?: string;
  /** A handler failure or a reset stream (for logging). */
  onError?: (err: Error) => void;
}

/** HTTP/2 frame types that have no place in HTTP/3 (§7.2.8): H3_FRAME_UNEXPECTED. */
const H2_ONLY = new Set([0x02, 0x06, 0x08, 0x09]);
const STREAM_CONTROL = 0x00;
const STREAM_PUSH = 0x01;
const STREAM_ENCODER = 0x02;
const STREAM_DECODER = 0x03;

type Phase = 'headers' | 'body' | 'trailers' | 'done';
/** Encoder-stream bytes waiting for the client's flow control past which sections stop using the table. */
const ENCODER_BACKLOG = 16 * 1024;

let dateSecond = 0;
let dateText = '';
/** The Date field's value, made once a second. */
function httpDate(): string {
  const now = Date.now();
  const sec = Math.floor(now / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** A request stream's handlers, one of each for all (the stream is `this`; its RequestStream its context). */
function onRequestData(this: QuicStream, chunk: Buffer): void {
  const r = this.context as RequestStream;
  r.session._requestData(r, chunk);
}
function onRequestEnd(this: QuicStream): void {
  const r = this.context as RequestStream;
  r.session._requestEnd(r);
}
function onRequestReset(this: QuicStream): void {
  const r = this.context as RequestStream;
  r.session._requestReset(r);
}

/** One request stream: its frames' order, the request and response, and the response's way out. */
class RequestStream implements BodySource, StreamSink, FrameSink {
  readonly quic: QuicStream;
  readonly session: Http3Session;
  phase: Phase = 'headers';
  reader: FrameReader;
  /** Frames after a HEADERS frame blocked on QPACK inserts, replayed when it is decoded. */
  held: Array<[number, Buffer] | Buffer> | null = null;
  blockedHeaders: Buffer | null = null;
  req: Http1Request | null = null;
  res: Http2Response | null = null;
  isHead = false;
  expected = -1;
  received = 0;
  finished = false;

  constructor(session: Http3Session, quic: QuicStream, maxFrame: number) {
    this.session = session;
    this.quic = quic;
    this.reader = new FrameReader(this, maxFrame);
  }

  frame(type: number, payload: Buffer): void {
    this.session._frame(this, type, payload);
  }

  data(chunk: Buffer): void {
    this.session._data(this, chunk);
  }

  get httpDate(): string {
    return httpDate();
  }

  bodyWanted(): void {
    this.quic.resume();
  }

  bodyFull(): void {
    this.quic.pause();
  }

  sendHeaders(fields: Array<[string, string]>, endStream: boolean): void {
    this.session._sendHeaders(this, fields, endStream);
  }

  sendData(data: Buffer, endStream: boolean): boolean {
    return this.session._sendData(this, data, endStream);
  }

  sendWhole(fields: Array<[string, string]>, body: string): boolean {
    return this.session._sendWhole(this, fields, body);
  }

  abort(error: Error): void {
    this.session._abort(this, error);
  }
}

/**
 * @example
 * ```ts
 * const server = new QuicServer({ certificateChain, privateKey, alpn: ['h3'],
 *   onConnection: (conn) => new Http3Session(conn, (req, res) => res.end('hello over h3')) });
 * ```
 */
export class Http3Session {
  readonly conn: ServerConnection;
  readonly #handler: Http3Handler;
  readonly #o: Http3SessionOptions;
  readonly decoder: QpackDecoder;
  readonly encoder: QpackEncoder;
  #control: QuicStream | null = null;
  #decoderOut: QuicStream | null = null;
  /** Our QPACK encoder stream, once the client's settings allow a dynamic table (RFC 9204 §4.2). */
  #encoderOut: QuicStream | null = null;
  /** The client's critical streams, once each (§6.2.1, RFC 9204 §4.2). */
  #peerControl = false;
  #peerEncoder = false;
  #peerDecoder = false;
  #peerSettings: Map<number, number> | null = null;
  /** Request streams being read or answered (a slot table: a Map's churn kept dead requests alive through GCs). */
  readonly #requests = new StreamTable<RequestStream>(1024, 2);
  /** The next request stream id not yet seen (GOAWAY names it, §5.2). */
  #nextRequest = 0;
  /** The client's control and QPACK streams: closing one is a connection error (§6.2.1). */
  readonly #critical = new Set<QuicStream>();
  #goaway = false;

  constructor(conn: ServerConnection, handler: Http3Handler, options: Http3SessionOptions = {}) {
    this.conn = conn;
    this.#handler = handler;
    this.#o = options;
    this.decoder = new QpackDecoder({ maxTableCapacity: options.qpackMaxTableCapacity ?? 4096, maxBlockedStreams: options.qpackBlockedStreams ?? 16, maxFieldSectionSize: options.maxFieldSectionSize ?? 64 * 1024 });
    this.encoder = new QpackEncoder({ maxTableCapacity: options.qpackEncoderTableCapacity ?? 4096 });
    conn.onStream = (s) => this.#stream(s);
    conn.beforePoll = () => this.#guard(() => this.#flushDecoder(), null);
    if (conn.state === 'established') this.#open();
    else conn.onEstablished = () => this.#open();
  }

  /** The client's SETTINGS, once its control stream brought them. */
  get peerSettings(): ReadonlyMap<number, number> | null {
    return this.#peerSettings;
  }

  /** Our control stream (SETTINGS) and QPACK decoder stream (§6.2.1; the encoder stream waits for the client's SETTINGS). */
  #open(): void {
    try {
      const settings = new Map([
        [SETTINGS_QPACK_MAX_TABLE_CAPACITY, this.decoder.maxTableCapacity],
        [SETTINGS_QPACK_BLOCKED_STREAMS, this.decoder.maxBlockedStreams],
        [SETTINGS_MAX_FIELD_SECTION_SIZE, this.decoder.maxFieldSectionSize],
      ]);
      this.#control = this.conn.openUniStream();
      this.#control.write(Buffer.concat([encodeVarint(STREAM_CONTROL), frame(FRAME_SETTINGS, encodeSettings(settings))]));
      if (this.decoder.maxTableCapacity > 0) {
        this.#decoderOut = this.conn.openUniStream();
        this.#decoderOut.write(encodeVarint(STREAM_DECODER));
      }
    } catch (err) {
      this.#fail(err); // the client allows too few unidirectional streams (§6.2: at least 3)
    }
  }

  /**
   * Stops taking requests (GOAWAY with the first request id not served, §5.2); requests in flight finish.
   */
  goaway(): void {
    if (this.#goaway || this.#control === null) return;
    this.#goaway = true;
    this.#control.write(frame(FRAME_GOAWAY, encodeVarint(this.#nextRequest)));
  }

  #stream(s: QuicStream): void {
    if ((s.id & 2) === 0) {
      const r = new RequestStream(this, s, this.#o.maxFrameSize ?? 65 * 1024);
      if (this.#goaway && s.id >= this.#nextRequest) {
        s.stopSending(H3.REQUEST_REJECTED);
        s.reset(H3.REQUEST_REJECTED);
        return;
      }
      this.#nextRequest = Math.max(this.#nextRequest, s.id + 4);
      this.#requests.set(s.id, r);
      // Handlers shared by every request stream, finding theirs in `context`: no closures per request.
      s.context = r;
      s.onData = onRequestData;
      s.onEnd = onRequestEnd;
      s.onReset = onRequestReset;
      return;
    }
    // A unidirectional stream: its type first (§6.2).
    let head: Buffer | null = null;
    let handle: ((chunk: Buffer) => void) | null = null;
    s.onData = (chunk) =>
      this.#guard(() => {
        if (handle !== null) return handle(chunk);
        const buf = head === null ? chunk : Buffer.concat([head, chunk]);
        let t: { value: number; next: number };
        try {
          t = readVarint(buf, 0, true); // reserved stream types reach 2^62 (§6.2.3)
        } catch {
          head = buf;
          return;
        }
        head = null;
        handle = this.#uniStream(s, t.value);
        const rest = buf.subarray(t.next);
        if (handle !== null && rest.length > 0) handle(rest);
      }, null);
    s.onEnd = () => this.#criticalClosed(s);
    s.onReset = () => this.#criticalClosed(s);
  }

  /** The reader for a unidirectional stream of `type`, or null when it is ignored. */
  #uniStream(s: QuicStream, type: number): ((chunk: Buffer) => void) | null {
    const once = (seen: boolean, what: string) => {
      if (seen) throw new Http3Error(H3.STREAM_CREATION_ERROR, `a second ${what} stream (§6.2.1)`);
    };
    switch (type) {
      case STREAM_CONTROL: {
        once(this.#peerControl, 'control');
        this.#peerControl = true;
        this.#critical.add(s);
        const reader = new FrameReader({ frame: (t, p) => this.#controlFrame(t, p), data: () => this.#controlFrame(FRAME_DATA, Buffer.alloc(0)) }, this.#o.maxFrameSize ?? 65 * 1024);
        return (chunk) => reader.push(chunk);
      }
      case STREAM_PUSH:
        throw new Http3Error(H3.STREAM_CREATION_ERROR, 'a client opened a push stream (§6.2.2)');
      case STREAM_ENCODER:
        once(this.#peerEncoder, 'QPACK encoder');
        this.#peerEncoder = true;
        this.#critical.add(s);
        return (chunk) => this.#encoderInstructions(chunk);
      case STREAM_DECODER:
        once(this.#peerDecoder, 'QPACK decoder');
        this.#peerDecoder = true;
        this.#critical.add(s);
        return (chunk) => this.#decoderInstructions(chunk);
      default:
        // Reserved and unknown types (§6.2.3, §9): not read.
        s.stopSending(H3.STREAM_CREATION_ERROR);
        return null;
    }
  }

  /** A critical stream (control, QPACK) must stay open for the connection's life (§6.2.1). */
  #criticalClosed(s: QuicStream): void {
    if (this.#critical.has(s)) this.#fail(new Http3Error(H3.CLOSED_CRITICAL_STREAM, 'the client closed a critical stream (§6.2.1)'));
  }

  #controlFrame(type: number, payload: Buffer): void {
    if (this.#peerSettings === null) {
      if (type !== FRAME_SETTINGS) throw new Http3Error(H3.MISSING_SETTINGS, 'the control stream does not start with SETTINGS (§6.2.1)');
      this.#peerSettings = parseSettings(payload);
      this.#startEncoder(this.#peerSettings);
      return;
    }
    if (type === FRAME_SETTINGS) throw new Http3Error(H3.FRAME_UNEXPECTED, 'a second SETTINGS frame (§7.2.4)');
    if (type === FRAME_DATA || type === FRAME_HEADERS || type === FRAME_PUSH_PROMISE || H2_ONLY.has(type)) throw new Http3Error(H3.FRAME_UNEXPECTED, `a frame of type 0x${type.toString(16)} on the control stream (§7.2)`);
    if (type === FRAME_GOAWAY || type === FRAME_MAX_PUSH_ID || type === FRAME_CANCEL_PUSH) {
      try {
        readVarint(payload, 0);
      } catch {
        throw new Http3Error(H3.FRAME_ERROR, `a frame of type 0x${type.toString(16)} without its id`);
      }
    }
    // GOAWAY from a client names push ids (we push none); MAX_PUSH_ID, CANCEL_PUSH: nothing to do; unknown: ignored.
  }

  /** The client's QPACK settings size our encoder's table (RFC 9204 §3.2.3); a table needs our encoder stream. */
  #startEncoder(settings: ReadonlyMap<number, number>): void {
    const capacity = settings.get(SETTINGS_QPACK_MAX_TABLE_CAPACITY) ?? 0;
    if (Math.min(capacity, this.encoder.maxTableCapacity) === 0) return;
    let out: QuicStream;
    try {
      out = this.conn.openUniStream();
    } catch {
      return; // a client allowing fewer than the three unidirectional streams §6.2 asks for: static only
    }
    this.encoder.configure(capacity, settings.get(SETTINGS_QPACK_BLOCKED_STREAMS) ?? 0);
    this.#encoderOut = out;
    out.write(Buffer.concat([encodeVarint(STREAM_ENCODER), this.encoder.takeInstructions()]));
  }

  /**
   * A response's field section. Its inserts go on the encoder stream first; a client that leaves that
   * stream's data unread (no flow-control credit) gets sections without the table instead of a backlog.
   */
  #encode(r: RequestStream, fields: Array<[string, string]>): Buffer {
    const out = this.#encoderOut;
    if (out === null || out.bufferedAmount > ENCODER_BACKLOG) return this.encoder.encode(fields);
    const block = this.encoder.encode(fields, r.quic.id);
    const inserts = this.encoder.takeInstructions();
    if (inserts.length > 0) out.write(inserts);
    return block;
  }

  #encoderInstructions(chunk: Buffer): void {
    let unblocked: number[];
    try {
      unblocked = this.decoder.encoderInstructions(chunk);
    } catch (err) {
      if (err instanceof QpackError) throw new Http3Error(err.code, err.message); // QPACK_ENCODER_STREAM_ERROR
      throw err;
    }
    this.#flushDecoder();
    for (const id of unblocked) {
      const r = this.#requests.get(id);
      if (r === undefined || r.blockedHeaders === null) continue;
      const block = r.blockedHeaders;
      r.blockedHeaders = null;
      this.#guard(() => {
        this.#headers(r, block);
        const held = r.held ?? [];
        r.held = null;
        for (const h of held) {
          if (Buffer.isBuffer(h)) this._data(r, h);
          else this._frame(r, h[0], h[1]);
        }
        if (r.quic.ended) this.#requestEnd(r);
      }, r);
    }
  }

  /** The client's decoder stream: acknowledgments of our sections and inserts (RFC 9204 §4.4). */
  #decoderInstructions(chunk: Buffer): void {
    try {
      this.encoder.decoderInstructions(chunk);
    } catch (err) {
      if (err instanceof QpackError) throw new Http3Error(err.code, err.message); // QPACK_DECODER_STREAM_ERROR
      throw err;
    }
  }

  #flushDecoder(): void {
    const out = this.decoder.takeInstructions();
    if (out.length > 0) this.#decoderOut?.write(out);
  }

  /** @internal A whole frame on a request stream. */
  _frame(r: RequestStream, type: number, payload: Buffer): void {
    if (r.phase === 'done') return; // answered or reset: the rest is not read
    if (r.held !== null) {
      r.held.push([type, payload]);
      return;
    }
    if (type === FRAME_HEADERS) {
      if (r.phase === 'headers') return this.#headers(r, payload);
      if (r.phase === 'body') return this.#trailers(r, payload);
      throw new Http3Error(H3.FRAME_UNEXPECTED, 'a HEADERS frame after the trailers (§4.1)');
    }
    if (type === FRAME_PUSH_PROMISE || type === FRAME_SETTINGS || type === FRAME_GOAWAY || type === FRAME_MAX_PUSH_ID || type === FRAME_CANCEL_PUSH || H2_ONLY.has(type)) {
      throw new Http3Error(H3.FRAME_UNEXPECTED, `a frame of type 0x${type.toString(16)} on a request stream (§7.2)`);
    }
    // Unknown and reserved types (§9): ignored.
  }

  /** @internal DATA payload bytes on a request stream. */
  _data(r: RequestStream, chunk: Buffer): void {
    if (r.held !== null) {
      r.held.push(Buffer.from(chunk));
      return;
    }
    if (r.phase === 'headers' || r.phase === 'trailers') throw new Http3Error(H3.FRAME_UNEXPECTED, r.phase === 'headers' ? 'DATA before HEADERS (§4.1)' : 'DATA after the trailers (§4.1)');
    if (r.phase === 'done') return;
    r.received += chunk.length;
    if (r.expected >= 0 && r.received > r.expected) return this.#streamError(r, H3.MESSAGE_ERROR, 'more data than content-length (§4.1.2)');
    if (chunk.length > 0) r.req!._push(Buffer.from(chunk));
  }

  /** A field section decoded for a request stream; a QPACK failure is the connection error it names. */
  #decode(r: RequestStream, block: Buffer): ReturnType<QpackDecoder['decodeSection']> {
    try {
      return this.decoder.decodeSection(r.quic.id, block);
    } catch (err) {
      if (err instanceof QpackError) throw new Http3Error(err.code, err.message);
      throw err;
    }
  }

  #headers(r: RequestStream, block: Buffer): void {
    const decoded = this.#decode(r, block);
    if (decoded === 'blocked') {
      r.blockedHeaders = block;
      r.held = [];
      return;
    }
    // Its Section Acknowledgment goes with the others of this batch (conn.beforePoll), not in a write of its own.
    r.phase = 'body';
    if (decoded.tooLarge) {
      r.phase = 'done';
      r.quic.stopSending(H3.NO_ERROR);
      r.res = new Http2Response(r);
      r.res.statusCode = 431;
      r.res.end();
      return;
    }
    if (decoded.invalid !== null) return this.#streamError(r, H3.MESSAGE_ERROR, `malformed request: ${decoded.invalid}`);
    const parsed = requestHead(decoded.fields, r.quic.ended && r.reader.atBoundary, 3, false);
    if (typeof parsed === 'string') return this.#streamError(r, H3.MESSAGE_ERROR, `malformed request: ${parsed}`);
    const head = parsed.head;
    if (head.method === 'CONNECT') return this.#streamError(r, H3.REQUEST_REJECTED, 'CONNECT is not served over HTTP/3 here');
    r.isHead = head.method === 'HEAD';
    r.expected = head.contentLength;
    r.req = new Http1Request(head, r, this.#o.remoteAddress);
    r.res = new Http2Response(r);
    let ret: void | Promise<unknown>;
    try {
      ret = this.#handler(r.req, r.res);
    } catch (err) {
      this.#handlerError(r, err);
      return;
    }
    if (ret !== undefined && typeof (ret as Promise<unknown>).then === 'function') (ret as Promise<unknown>).then(undefined, (err: unknown) => this.#handlerError(r, err));
  }

  #trailers(r: RequestStream, block: Buffer): void {
    const decoded = this.#decode(r, block);
    if (decoded === 'blocked') {
      // Trailers waiting for inserts: held like a request's headers, replayed in order.
      r.blockedHeaders = null;
      r.held = [[FRAME_HEADERS, block]];
      return;
    }
    this.#flushDecoder();
    r.phase = 'trailers';
    if (decoded.invalid !== null || decoded.fields.some(([n]) => n.startsWith(':'))) return this.#streamError(r, H3.MESSAGE_ERROR, 'malformed trailers (§4.1.2)');
    if (r.expected >= 0 && r.received !== r.expected) return this.#streamError(r, H3.MESSAGE_ERROR, 'a body shorter than content-length (§4.1.2)');
    r.req!._end(decoded.fields.flatMap(([n, v]) => [n, v]));
  }

  #requestEnd(r: RequestStream): void {
    if (r.held !== null) return; // replayed when the headers are decoded
    if (!r.reader.atBoundary) throw new Http3Error(H3.FRAME_ERROR, 'a request stream ended inside a frame (§7.1)');
    if (r.phase === 'headers') return this.#streamError(r, H3.REQUEST_INCOMPLETE, 'a request stream ended before its HEADERS (§4.1)');
    if (r.phase === 'body') {
      if (r.expected >= 0 && r.received !== r.expected) return this.#streamError(r, H3.MESSAGE_ERROR, 'a body shorter than content-length (§4.1.2)');
      r.req!._end(null);
    }
  }

  /** @internal A request stream reset by the client. */
  _requestReset(r: RequestStream): void {
    this.decoder.cancel(r.quic.id);
    this.#flushDecoder();
    r.req?._abort();
    if (r.res !== null && !r.finished) r.res._emit('close');
    r.finished = true;
    r.quic.reset(H3.REQUEST_CANCELLED);
    this.#requests.delete(r.quic.id);
  }

  /** A stream error: the request stream reset both ways with `code` (§8). */
  #streamError(r: RequestStream, code: number, message: string): void {
    this.#o.onError?.(new Http3Error(code, message, r.quic.id));
    r.phase = 'done';
    r.finished = true;
    r.req?._abort();
    this.decoder.cancel(r.quic.id);
    this.#flushDecoder();
    r.quic.stopSending(code);
    r.quic.reset(code);
    this.#requests.delete(r.quic.id);
  }

  /** Runs `fn`; an Http3Error becomes the stream or connection error it names. */
  #guard(fn: () => void, r: RequestStream | null): void {
    try {
      fn();
    } catch (err) {
      this.#caught(err, r);
    }
  }

  /** @internal A request stream's data (see onRequestData). */
  _requestData(r: RequestStream, chunk: Buffer): void {
    try {
      r.reader.push(chunk);
    } catch (err) {
      this.#caught(err, r);
    }
  }

  /** @internal A request stream's end. */
  _requestEnd(r: RequestStream): void {
    try {
      this.#requestEnd(r);
    } catch (err) {
      this.#caught(err, r);
    }
  }

  /** An error thrown while reading a stream: the stream error or connection error it names. */
  #caught(err: unknown, r: RequestStream | null): void {
    if (err instanceof Http3Error && err.stream !== null && r !== null) this.#streamError(r, err.code, err.message);
    else this.#fail(err);
  }

  #fail(err: unknown): void {
    const e = err instanceof Http3Error ? err : new Http3Error(H3.INTERNAL_ERROR, err instanceof Error ? err.message : String(err));
    if (!(err instanceof Http3Error)) this.#o.onError?.(err instanceof Error ? err : new Error(String(err)));
    for (const r of this.#requests.values()) {
      r.req?._abort();
      if (r.res !== null && !r.finished) r.res._emit('close');
    }
    this.#requests.clear();
    this.conn.close(e.code, e.code === H3.INTERNAL_ERROR ? 'internal error' : e.message);
  }

  #handlerError(r: RequestStream, err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (r.res!.headersSent) return this._abort(r, e);
    this.#o.onError?.(e);
    if (r.finished) return;
    answerFailure(r.res!, err);
  }

  /** @internal */
  _sendHeaders(r: RequestStream, fields: Array<[string, string]>, endStream: boolean): void {
    if (r.finished) return;
    const f = frame(FRAME_HEADERS, this.#encode(r, fields));
    if (endStream) this.#finish(r, f);
    else r.quic.write(f);
  }

  /**
   * @internal A whole small response (fields and an ASCII body) as one chunk: HEADERS and DATA in one
   * allocation, which goes out as one STREAM frame with FIN instead of three (HEADERS, DATA's header, body).
   */
  _sendWhole(r: RequestStream, fields: Array<[string, string]>, body: string): boolean {
    if (r.finished) return true; // as _sendHeaders: nothing more goes on a finished or reset stream
    this.#finish(r, responseFrames(this.#encode(r, fields), body));
    return true;
  }

  /** @internal */
  _sendData(r: RequestStream, data: Buffer, endStream: boolean): boolean {
    if (r.finished) return true;
    if (r.isHead) {
      if (endStream) this.#finish(r);
      return true;
    }
    if (data.length === 0) {
      if (endStream) this.#finish(r);
      return true;
    }
    r.quic.write(dataHeader(data.length));
    if (endStream) {
      this.#finish(r, data);
      return true;
    }
    const ok = r.quic.write(data);
    if (!ok) r.quic.onDrain = () => r.res?._emit('drain');
    return ok;
  }

  /** The response is complete: FIN, and the request's unread body is dropped (STOP_SENDING if unread, §4.1.1). */
  #finish(r: RequestStream, last?: Buffer): void {
    r.finished = true;
    r.quic.end(last);
    // The request's end not yet known (its FIN may sit in the frame being read): not wanted any more.
    if (r.quic.recv.finalSize === null && r.quic.resetCode === null) {
      r.req?._discard();
      r.quic.stopSending(H3.NO_ERROR); // §4.1.1: the response is complete without the rest of the request
    }
    this.#requests.delete(r.quic.id);
  }

  /** @internal A response gave up (`destroy`): reset the stream. */
  _abort(r: RequestStream, error: Error): void {
    this.#o.onError?.(error);
    if (r.finished) return;
    r.finished = true;
    r.quic.reset(H3.INTERNAL_ERROR);
    this.#requests.delete(r.quic.id);
  }
}
