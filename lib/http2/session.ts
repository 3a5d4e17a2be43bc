/**
 * The server side of one HTTP/2 connection (RFC 9113): connection preface and SETTINGS exchange, the
 * stream state machine of §5.1, request header validation (§8.3), flow control both ways (§5.2, §6.9),
 * PING, GOAWAY and RST_STREAM, and the rapid-reset defence. Requests reach the same handler interface
 * as HTTP/1.1: an `Http1Request` (method, url, headers, body stream with backpressure) and a response
 * with the `Http1Response` surface.
 *
 *        +--------+  recv H   +--------+  recv ES  +---------------------+
 *        |  idle  |---------->|  open  |---------->| half-closed (remote) |
 *        +--------+           +--------+           +---------------------+
 *                               | send ES                     | send ES
 *                               v                             v
 *                   +--------------------+   recv ES   +--------+
 *                   | half-closed (local)|------------>| closed |   (R: any RST_STREAM → closed)
 *                   +--------------------+             +--------+
 */
import type { Connection, ConnectionHandler, TimeoutKind } from '../net/index.js';
import { Http1Request, type BodySource, type MessageHead } from '../http1/index.js';
import { H2, Http2ProtocolError, connectionError, streamError } from './errors.js';
import {
  FrameParser, type Frame, F_END_STREAM, F_END_HEADERS,
  T_DATA, T_HEADERS, T_PRIORITY, T_RST_STREAM, T_SETTINGS, T_PUSH_PROMISE, T_PING, T_GOAWAY, T_WINDOW_UPDATE,
  S_HEADER_TABLE_SIZE, S_INITIAL_WINDOW_SIZE, S_MAX_CONCURRENT_STREAMS, S_MAX_FRAME_SIZE, S_MAX_HEADER_LIST_SIZE, S_ENABLE_PUSH, S_ENABLE_CONNECT_PROTOCOL,
} from './frame-parser.js';
import { dataFrame, frameHeader, frameHeaderLatin1, rawFrame, goawayFrame, headersFrames, pingFrame, rstStreamFrame, settingsFrame, windowUpdateFrame } from './frame-writer.js';
import { HpackDecoder, HpackEncoder, HpackError } from './hpack/index.js';
import { answerFailure, Http2Response, type StreamSink } from './response.js';
import { Http2Tunnel } from './tunnel.js';
import { requestHead } from './request-head.js';
import { StreamTable } from '../net/stream-table.js';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * A SETTINGS payload (as carried base64url-encoded in HTTP2-Settings) → its pairs, checked like a frame.
 *
 * @example
 * ```ts
 * const pairs = parseSettingsPayload(Buffer.from(req.get('http2-settings')!, 'base64url'));
 * // [[S_MAX_CONCURRENT_STREAMS, 100], …]; throws Http2ProtocolError when malformed
 * ```
 */
export function parseSettingsPayload(p: Buffer): Array<[number, number]> {
  let out: Array<[number, number]> = [];
  const parser = new FrameParser({ onFrame: (f) => void (f.type === T_SETTINGS && (out = f.settings)), onStreamError: () => {} });
  parser.push(rawFrame(T_SETTINGS, 0, 0, p));
  return out;
}

const MAX_WINDOW = 0x7fffffff;
const SHUTDOWN_PING = Buffer.from('covet-go');

export type Http2Handler = (req: Http1Request, res: Http2Response) => void | Promise<unknown>;

export interface Http2SessionOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise; streams beyond are refused. Default 100. */
  maxConcurrentStreams?: number;
  /** Our receive window per stream (SETTINGS_INITIAL_WINDOW_SIZE). Default 1 MiB. */
  initialWindowSize?: number;
  /** Our receive window for the whole connection. Default 16 MiB. */
  connectionWindowSize?: number;
  /** SETTINGS_MAX_FRAME_SIZE we accept. Default 16 384. */
  maxFrameSize?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE (enforced while decoding HPACK). Default 64 KiB. */
  maxHeaderListSize?: number;
  /** Time allowed for the client preface and for the ACK of our SETTINGS (ms). Default 10 000. */
  settingsTimeout?: number;
  /** Idle time with no open stream before the connection is closed with GOAWAY (ms). Default 60 000. */
  idleTimeout?: number;
  /**
   * A response whose body cannot advance because the peer opens no flow-control window (stream or
   * connection) for this long is reset with RST_STREAM(CANCEL), its buffered data dropped (ms). Default
   * 60 000, as an HTTP/1.1 connection's send timeout.
   */
  sendTimeout?: number;
  /** Rapid-reset budget (CVE-2023-44487): streams the client may reset, refilled per second. Default 200 burst, 100/s. */
  resetBurst?: number;
  resetRate?: number;
  /**
   * Budget for frames that cost us work but carry no request ("glitches", as nghttp2 calls them): PING and
   * SETTINGS (each owes an ACK), empty DATA without END_STREAM, WINDOW_UPDATE on closed streams. Exceeding
   * it ends the connection with ENHANCE_YOUR_CALM. Default 1 000 burst, 200/s.
   */
  glitchBurst?: number;
  glitchRate?: number;
  /**
   * Extended CONNECT (RFC 8441): called for `:method CONNECT` with `:protocol` (e.g. `websocket`) once the
   * stream is open; answer with `tunnel.respond(200)` and take the tunnel, or return false (501). When set,
   * SETTINGS_ENABLE_CONNECT_PROTOCOL is advertised.
   */
  onConnect?: (req: Http1Request, protocol: string, tunnel: Http2Tunnel) => boolean;
  /** A connection error (sent as GOAWAY), or a failure of ours. */
  onError?: (err: Error) => void;
  /**
   * A stream reset for a protocol error (RST_STREAM; the connection goes on): why, for logs — a client
   * sending malformed requests is told only the code.
   */
  onStreamError?: (err: Http2ProtocolError) => void;
  /**
   * Keepalive enforcement as gRPC servers do it (grpc-go's EnforcementPolicy, gRFC A8): a PING sooner than
   * `minIntervalMs` after the previous one — or, with no stream open and `permitWithoutStreams` false,
   * sooner than two hours — is a strike; one strike past `maxStrikes` (default 2) ends the connection with
   * GOAWAY ENHANCE_YOUR_CALM and the debug text `too_many_pings`, which gRPC clients read as "ping less
   * often". Sending headers or data resets the strikes. Off by default (the glitch budget still applies).
   */
  pingPolicy?: { minIntervalMs: number; permitWithoutStreams?: boolean; maxStrikes?: number };
}

/** gRFC A8: without streams (and without permission), one PING per two hours. */
const IDLE_PING_MS = 2 * 3600_000;

type StreamState = 'open' | 'half-closed-remote' | 'half-closed-local' | 'closed';

class Stream implements BodySource, StreamSink {
  readonly id: number;
  state: StreamState;
  sendWindow: number;
  recvWindow: number;
  /** Received bytes not yet given back with WINDOW_UPDATE. */
  uncredited = 0;
  full = false;
  req!: Http1Request;
  res!: Http2Response;
  isHead = false;
  expectedLength = -1;
  receivedLength = 0;
  queue: Buffer[] = [];
  queued = 0;
  endQueued = false;
  headersSent = false;
  /** Trailers waiting for the queued DATA to go out first. */
  trailers: Array<[string, string]> | null = null;
  /** Set for an extended CONNECT stream: its DATA is a byte tunnel, not a request body. */
  tunnel: Http2Tunnel | null = null;
  /** When its queued DATA last found no window (performance.now()); 0 while it flows. */
  stalledSince = 0;
  readonly session: Http2Session;

  constructor(session: Http2Session, id: number, state: StreamState, sendWindow: number, recvWindow: number) {
    this.session = session;
    this.id = id;
    this.state = state;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  get httpDate(): string {
    return this.session.conn.sweeper.httpDate;
  }

  bodyWanted(): void {
    this.full = false;
    this.session._credit(this, true);
  }

  bodyFull(): void {
    this.full = true;
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

/** Token bucket (nghttp2's ratelim): `burst` tokens, `rate` more per second. */
class Budget {
  #tokens: number;
  #last = Date.now();
  readonly burst: number;
  readonly rate: number;
  constructor(burst: number, rate: number) {
    this.burst = burst;
    this.rate = rate;
    this.#tokens = burst;
  }
  take(): boolean {
    const now = Date.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }
}

/**
 * @example
 * ```ts
 * const server = new Server({ onConnection: (conn) => new Http2Session(conn, (req, res) => res.end('hi')) });
 * ```
 */
export class Http2Session implements ConnectionHandler {
  readonly conn: Connection;
  readonly parser: FrameParser;
  #handler: Http2Handler;
  #o: Required<Omit<Http2SessionOptions, 'onError' | 'onConnect' | 'onStreamError' | 'pingPolicy'>> & Http2SessionOptions;
  #decoder: HpackDecoder;
  #encoder = new HpackEncoder();
  #streams: StreamTable<Stream>;
  #lastStreamId = 0;
  #preface = 0; // bytes of the client preface matched so far
  #gotSettings = false;
  #goaway = false;
  #connSendWindow = 65535;
  #connRecvWindow: number;
  #connUncredited = 0;
  #peerInitialWindow = 65535;
  #peerMaxFrameSize = 16384;
  #resets: Budget;
  #glitches: Budget;
  #settingsAcked = false;
  /** First GOAWAY of a graceful shutdown sent, waiting for the PING round trip. */
  #draining = false;
  /** A connection error was sent (GOAWAY): what still arrives is not read (§5.4.1). */
  #failed = false;
  /** `pingPolicy`: when the last PING came (0: none yet), and the strikes since we last sent something. */
  #lastPingAt = 0;
  #pingStrikes = 0;

  constructor(conn: Connection, handler: Http2Handler, options: Http2SessionOptions = {}) {
    this.conn = conn;
    this.#handler = handler;
    this.#o = {
      maxConcurrentStreams: 100,
      initialWindowSize: 1024 * 1024,
      connectionWindowSize: 16 * 1024 * 1024,
      maxFrameSize: 16384,
      maxHeaderListSize: 64 * 1024,
      settingsTimeout: 10_000,
      idleTimeout: 60_000,
      sendTimeout: 60_000,
      resetBurst: 200,
      resetRate: 100,
      glitchBurst: 1000,
      glitchRate: 200,
      ...options,
    };
    this.#resets = new Budget(this.#o.resetBurst, this.#o.resetRate);
    this.#glitches = new Budget(this.#o.glitchBurst, this.#o.glitchRate);
    this.#decoder = new HpackDecoder({ maxHeaderListSize: this.#o.maxHeaderListSize });
    // Twice the streams a client may open, within reason: a slot each for the live window of ids.
    this.#streams = new StreamTable(Math.min(2 * this.#o.maxConcurrentStreams, 4096));
    this.#connRecvWindow = this.#o.connectionWindowSize;
    this.parser = new FrameParser({ onFrame: (f) => this.#frame(f), onStreamError: (e) => this.#streamError(e) }, { maxFrameSize: this.#o.maxFrameSize });
    // Server preface: our SETTINGS first (§3.4), then the larger connection window.
    conn.write(
      settingsFrame([
        [S_MAX_CONCURRENT_STREAMS, this.#o.maxConcurrentStreams],
        [S_INITIAL_WINDOW_SIZE, this.#o.initialWindowSize],
        [S_MAX_FRAME_SIZE, this.#o.maxFrameSize],
        [S_MAX_HEADER_LIST_SIZE, this.#o.maxHeaderListSize],
        [S_ENABLE_PUSH, 0],
        ...(options.onConnect !== undefined ? ([[S_ENABLE_CONNECT_PROTOCOL, 1]] as Array<[number, number]>) : []),
      ]),
    );
    if (this.#o.connectionWindowSize > 65535) conn.write(windowUpdateFrame(0, this.#o.connectionWindowSize - 65535));
    conn.setTimeout('headers', this.#o.settingsTimeout);
  }

  /**
   * HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2): the client's HTTP2-Settings count as its first SETTINGS, and
   * the upgrade request becomes stream 1, half-closed (its body was read before the switch). Call right
   * after the 101 was written.
   */
  adoptUpgrade(req: Http1Request, settingsPayload: Buffer): void {
    // The 101 acknowledges these settings implicitly: no SETTINGS ACK (RFC 7540 §3.2.1).
    this.#applySettings(parseSettingsPayload(settingsPayload));
    this.#lastStreamId = 1;
    const s = new Stream(this, 1, 'half-closed-remote', this.#peerInitialWindow, this.#o.initialWindowSize);
    s.isHead = req.method === 'HEAD';
    s.req = req;
    s.res = new Http2Response(s);
    this.#streams.set(1, s);
    this.#run(s);
  }

  // ---- input ------------------------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.#failed) return;
    let data = chunk;
    if (this.#preface < PREFACE.length) {
      const need = PREFACE.length - this.#preface;
      const take = Math.min(need, data.length);
      if (!data.subarray(0, take).equals(PREFACE.subarray(this.#preface, this.#preface + take))) {
        return this.#connectionError(connectionError(H2.PROTOCOL_ERROR, 'invalid connection preface (§3.4)'));
      }
      this.#preface += take;
      data = data.subarray(take);
      if (data.length === 0) return;
    }
    try {
      this.parser.push(data);
    } catch (err) {
      if (err instanceof Http2ProtocolError) this.#connectionError(err);
      else throw err;
    }
    this.#flushAll();
  }

  #frame(f: Frame): void {
    if (!this.#gotSettings) {
      if (f.type !== T_SETTINGS || f.ack) throw connectionError(H2.PROTOCOL_ERROR, 'the first frame must be SETTINGS (§3.4)');
      this.#gotSettings = true;
    }
    if (
      ((f.type === T_PING || f.type === T_SETTINGS) && !f.ack) ||
      (f.type === T_DATA && f.data.length === 0 && !f.endStream) ||
      (f.type === T_WINDOW_UPDATE && f.streamId !== 0 && !this.#streams.has(f.streamId))
    ) {
      // Floods of frames that make us work without a request (PING/SETTINGS/empty DATA/WINDOW_UPDATE).
      if (!this.#glitches.take()) throw connectionError(H2.ENHANCE_YOUR_CALM, `too many ${f.type === T_PING ? 'PING' : f.type === T_SETTINGS ? 'SETTINGS' : f.type === T_DATA ? 'empty DATA' : 'WINDOW_UPDATE'} frames`);
    }
    switch (f.type) {
      case T_SETTINGS:
        return this.#settings(f);
      case T_PING:
        if (!f.ack && this.#o.pingPolicy !== undefined) this.#pingStrike();
        if (!f.ack) this.conn.write(pingFrame(f.data, true));
        else if (this.#draining && f.data.equals(SHUTDOWN_PING)) this.#finalGoaway();
        return;
      case T_GOAWAY:
        this.#goaway = true;
        if (this.#streams.size === 0) this.conn.end();
        return;
      case T_WINDOW_UPDATE:
        return this.#windowUpdate(f.streamId, f.increment);
      case T_RST_STREAM:
        return this.#rst(f.streamId, f.code);
      case T_PRIORITY:
        return; // RFC 9113 §5.3.2: priority signals may be ignored
      case T_PUSH_PROMISE:
        throw connectionError(H2.PROTOCOL_ERROR, 'a client cannot push (§8.4)');
      case T_HEADERS:
        return this.#headers(f.streamId, f.block, f.endStream);
      case T_DATA:
        return this.#data(f.streamId, f.data, f.flowLength, f.endStream);
    }
  }

  #settings(f: Extract<Frame, { type: typeof T_SETTINGS }>): void {
    if (f.ack) {
      this.#settingsAcked = true;
      if (this.#streams.size === 0) this.#armIdle();
      else this.conn.clearTimeout();
      return;
    }
    this.#applySettings(f.settings);
    this.conn.write(settingsFrame([], true));
  }

  #applySettings(settings: ReadonlyArray<[number, number]>): void {
    for (const [id, v] of settings) {
      if (id === S_HEADER_TABLE_SIZE) this.#encoder.setMaxTableSize(Math.min(v, 4096));
      else if (id === S_MAX_FRAME_SIZE) this.#peerMaxFrameSize = v;
      else if (id === S_INITIAL_WINDOW_SIZE) {
        // §6.9.2: the change applies to every open stream's send window.
        const delta = v - this.#peerInitialWindow;
        this.#peerInitialWindow = v;
        for (const s of this.#streams.values()) {
          s.sendWindow += delta;
          if (s.sendWindow > MAX_WINDOW) throw connectionError(H2.FLOW_CONTROL_ERROR, 'a stream window exceeds 2^31-1 after SETTINGS_INITIAL_WINDOW_SIZE');
        }
      }
    }
  }

  #windowUpdate(id: number, inc: number): void {
    if (id === 0) {
      this.#connSendWindow += inc;
      if (this.#connSendWindow > MAX_WINDOW) throw connectionError(H2.FLOW_CONTROL_ERROR, 'connection window exceeds 2^31-1 (§6.9.1)');
      return;
    }
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (id > this.#lastStreamId) throw connectionError(H2.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id} (§5.1)`);
      return; // a closed stream: ignored (§6.9)
    }
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) this.#streamError(streamError(H2.FLOW_CONTROL_ERROR, id, 'stream window exceeds 2^31-1 (§6.9.1)'));
  }

  #rst(id: number, code: number): void {
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (id > this.#lastStreamId) throw connectionError(H2.PROTOCOL_ERROR, `RST_STREAM on idle stream ${id} (§5.1)`);
      return;
    }
    void code;
    // Rapid reset (CVE-2023-44487): a client opening and cancelling streams faster than the budget allows.
    if (!this.#resets.take()) throw connectionError(H2.ENHANCE_YOUR_CALM, 'too many stream resets');
    this.#close(s, true);
  }

  #headers(id: number, block: Buffer, endStream: boolean): void {
    let fields: Array<[string, string, boolean?]>;
    try {
      fields = this.#decoder.decode(block);
    } catch (err) {
      // Any HPACK failure desynchronizes the tables: connection error (§4.3).
      if (err instanceof HpackError) throw connectionError(err.code === 'HEADER_LIST_TOO_LARGE' ? H2.ENHANCE_YOUR_CALM : H2.COMPRESSION_ERROR, err.message);
      throw err;
    }
    const existing = this.#streams.get(id);
    if (existing !== undefined) {
      // Trailers (§8.1): must end the stream, no pseudo-headers.
      if (existing.state !== 'open' && existing.state !== 'half-closed-local') return this.#streamError(streamError(H2.STREAM_CLOSED, id, 'HEADERS on a half-closed stream'));
      if (this.#decoder.invalid !== null) return this.#streamError(streamError(H2.PROTOCOL_ERROR, id, `malformed trailers: ${this.#decoder.invalid} (§8.2.1)`));
      if (!endStream) return this.#streamError(streamError(H2.PROTOCOL_ERROR, id, 'trailers without END_STREAM (§8.1)'));
      if (fields.some(([n]) => n.startsWith(':'))) return this.#streamError(streamError(H2.PROTOCOL_ERROR, id, 'pseudo-header in trailers (§8.1)'));
      this.#endOfBody(existing, fields.flatMap(([n, v]) => [n, v]));
      return;
    }
    if ((id & 1) === 0) throw connectionError(H2.PROTOCOL_ERROR, `client stream id ${id} is even (§5.1.1)`);
    if (id <= this.#lastStreamId) throw connectionError(H2.STREAM_CLOSED, `stream ${id} is closed (§5.1)`);
    this.#lastStreamId = id;
    if (this.#goaway) return this.#streamError(streamError(H2.REFUSED_STREAM, id, 'going away'));
    if (this.#streams.size >= this.#o.maxConcurrentStreams) return this.#streamError(streamError(H2.REFUSED_STREAM, id, 'too many concurrent streams (§5.1.2)'));
    const parsed = this.#requestHead(id, fields, endStream);
    if (parsed === null) return;
    const { head, protocol } = parsed;
    const s = new Stream(this, id, endStream ? 'half-closed-remote' : 'open', this.#peerInitialWindow, this.#o.initialWindowSize);
    s.isHead = head.method === 'HEAD';
    s.expectedLength = head.contentLength;
    s.req = new Http1Request(head, s, this.conn.remoteAddress);
    s.res = new Http2Response(s);
    this.#streams.set(id, s);
    // Until our SETTINGS are acknowledged the settings timeout keeps running (§6.5.3).
    if (this.#settingsAcked) this.conn.clearTimeout();
    if (endStream && head.contentLength > 0) return this.#streamError(streamError(H2.PROTOCOL_ERROR, id, 'content-length with no body (§8.1.1)'));
    if (protocol !== '') return this.#openTunnel(s, protocol);
    this.#run(s);
  }

  /** An extended CONNECT stream (RFC 8441): a tunnel handed to `onConnect`, or 501. */
  #openTunnel(s: Stream, protocol: string): void {
    const conn = this.conn;
    const session = this;
    const tunnel = new Http2Tunnel({
      sendData: (d, end) => session._sendData(s, d, end),
      sendHeaders: (f, end) => session._sendHeaders(s, f, end),
      reset: (code) => session.#streamError(streamError(code, s.id, 'tunnel reset')),
      flush: () => conn.flush(),
      get queued() {
        return s.queued + conn.bufferedAmount;
      },
      sweeper: conn.sweeper,
    });
    s.tunnel = tunnel;
    let taken = false;
    try {
      taken = this.#o.onConnect!(s.req, protocol, tunnel);
    } catch (err) {
      this.#o.onError?.(err as Error);
    }
    if (!taken) {
      s.tunnel = null;
      s.res.statusCode = 501;
      s.res.end();
    }
  }

  /** Validates request fields (§8.3) and builds the head; null when the stream was reset for them. */
  #requestHead(id: number, fields: Array<[string, string, boolean?]>, endStream: boolean): { head: MessageHead; protocol: string } | null {
    // Names and values were checked as HPACK decoded them (§8.2.1: lowercase tokens; no NUL, CR, LF).
    const r = this.#decoder.invalid !== null ? this.#decoder.invalid : requestHead(fields, endStream, 2, this.#o.onConnect !== undefined);
    if (typeof r !== 'string') return r;
    this.#streamError(streamError(H2.PROTOCOL_ERROR, id, `malformed request: ${r} (§8.1.1)`));
    return null;
  }

  #data(id: number, data: Buffer, flowLength: number, endStream: boolean): void {
    // Connection window first: every DATA frame counts, even on closed streams (§6.9).
    this.#connRecvWindow -= flowLength;
    if (this.#connRecvWindow < 0) throw connectionError(H2.FLOW_CONTROL_ERROR, 'connection receive window exceeded (§6.9.1)');
    this.#connUncredited += flowLength;
    if (this.#connUncredited >= this.#o.connectionWindowSize / 2) {
      this.conn.write(windowUpdateFrame(0, this.#connUncredited));
      this.#connRecvWindow += this.#connUncredited;
      this.#connUncredited = 0;
    }
    const s = this.#streams.get(id);
    if (s === undefined || (s.state !== 'open' && s.state !== 'half-closed-local')) {
      if (s === undefined && id > this.#lastStreamId) throw connectionError(H2.PROTOCOL_ERROR, `DATA on idle stream ${id} (§5.1)`);
      return this.#streamError(streamError(H2.STREAM_CLOSED, id, 'DATA on a closed stream (§5.1)'));
    }
    s.recvWindow -= flowLength;
    if (s.recvWindow < 0) return this.#streamError(streamError(H2.FLOW_CONTROL_ERROR, id, 'stream receive window exceeded (§6.9.1)'));
    s.uncredited += flowLength - data.length; // padding is credited at once
    s.receivedLength += data.length;
    if (s.expectedLength >= 0 && s.receivedLength > s.expectedLength) return this.#streamError(streamError(H2.PROTOCOL_ERROR, id, 'more data than content-length (§8.1.1)'));
    if (s.tunnel !== null) {
      // Tunnel bytes go straight to the protocol on top, and the window is given back at once.
      s.uncredited += data.length;
      if (data.length > 0) s.tunnel._data(Buffer.from(data));
      this.#credit(s, true);
      if (endStream) {
        s.state = s.state === 'half-closed-local' ? 'closed' : 'half-closed-remote';
        s.tunnel._end();
        if (s.state === 'closed') this.#close(s, false);
      }
      return;
    }
    if (data.length > 0) {
      s.uncredited += data.length;
      s.req._push(Buffer.from(data)); // copied: the frame may be a view of a chunk reused by the parser
      this.#credit(s, false);
    }
    if (endStream) {
      if (s.expectedLength >= 0 && s.receivedLength !== s.expectedLength) return this.#streamError(streamError(H2.PROTOCOL_ERROR, id, 'less data than content-length (§8.1.1)'));
      this.#endOfBody(s, null);
    }
  }

  #endOfBody(s: Stream, trailers: string[] | null): void {
    s.req._end(trailers);
    s.state = s.state === 'half-closed-local' ? 'closed' : 'half-closed-remote';
    if (s.state === 'closed') this.#close(s, false);
  }

  /** Gives receive window back to the client as the body is consumed (memory stays bounded). */
  #credit(s: Stream, wanted: boolean): void {
    if (s.full || s.uncredited === 0 || s.state === 'closed') return;
    if (!wanted && s.uncredited < this.#o.initialWindowSize / 2) return;
    this.conn.write(windowUpdateFrame(s.id, s.uncredited));
    s.recvWindow += s.uncredited;
    s.uncredited = 0;
  }

  /** @internal */
  _credit(s: Stream, wanted: boolean): void {
    this.#credit(s, wanted);
    this.conn.flush();
  }

  // ---- output -----------------------------------------------------------------------------------------

  /** @internal */
  _sendHeaders(s: Stream, fields: Array<[string, string]>, endStream: boolean): void {
    if (s.state === 'closed' || this.conn.closed) return;
    if (s.headersSent && s.queue.length > 0) {
      s.trailers = fields; // trailers go after the body still waiting for window
      return;
    }
    s.headersSent = true;
    this.#writeHeaders(s, fields, endStream);
  }

  /** `pingPolicy`: counts a PING that came too soon; too many end the connection. */
  #pingStrike(): void {
    const p = this.#o.pingPolicy!;
    const now = Date.now();
    const min = this.#streams.size === 0 && p.permitWithoutStreams !== true ? IDLE_PING_MS : p.minIntervalMs;
    if (this.#lastPingAt !== 0 && now - this.#lastPingAt < min && ++this.#pingStrikes > (p.maxStrikes ?? 2)) {
      // The debug data exactly: gRPC clients compare it to slow their keepalive down.
      throw connectionError(H2.ENHANCE_YOUR_CALM, 'too many PINGs (pingPolicy)', 'too_many_pings');
    }
    this.#lastPingAt = now;
  }

  #writeHeaders(s: Stream, fields: Array<[string, string]>, endStream: boolean): void {
    this.#pingStrikes = 0;
    for (const f of headersFrames(s.id, this.#encoder.encode(fields), { endStream, maxFrameSize: this.#peerMaxFrameSize })) this.conn.write(f);
    if (endStream) this.#localEnd(s);
  }

  /**
   * @internal A whole response — fields and an ASCII body that fits both windows and one frame — as one
   * latin1 string: HEADERS then DATA with END_STREAM, no Buffer made (the connection gathers strings into
   * one write). False, with nothing sent, when it does not fit; the caller then sends the usual way.
   */
  _sendWhole(s: Stream, fields: Array<[string, string]>, body: string): boolean {
    const len = body.length;
    if (s.state === 'closed' || this.conn.closed || s.headersSent || len > s.sendWindow || len > this.#connSendWindow || len > this.#peerMaxFrameSize) return false;
    s.headersSent = true;
    this.#pingStrikes = 0;
    const block = this.#encoder.encodeLatin1(fields);
    const max = this.#peerMaxFrameSize;
    if (block.length > max) {
      // Encoded (the table has changed): the block goes in HEADERS + CONTINUATION, the body after it.
      for (const f of headersFrames(s.id, Buffer.from(block, 'latin1'), { endStream: len === 0, maxFrameSize: max })) this.conn.write(f);
    } else this.conn.write(frameHeaderLatin1(T_HEADERS, len === 0 ? F_END_HEADERS | F_END_STREAM : F_END_HEADERS, s.id, block.length) + block);
    if (len > 0) {
      this.#connSendWindow -= len; // the stream's own window is never used again: it has ended
      this.conn.write(frameHeaderLatin1(T_DATA, F_END_STREAM, s.id, len) + body);
    }
    this.#localEnd(s);
    return true;
  }

  /** @internal */
  _sendData(s: Stream, data: Buffer, endStream: boolean): boolean {
    if (s.state === 'closed' || this.conn.closed) return false;
    if (data.length > 0) {
      s.queue.push(data);
      s.queued += data.length;
    }
    if (endStream) s.endQueued = true;
    this.#flush(s);
    return s.queued < this.#o.initialWindowSize && !this.conn.writeBlocked;
  }

  /** Sends what the windows allow (§6.9: DATA only within both the stream's and the connection's window). */
  #flush(s: Stream): void {
    this.#pingStrikes = 0;
    while (s.queue.length > 0) {
      const room = Math.min(s.sendWindow, this.#connSendWindow, this.#peerMaxFrameSize);
      if (room <= 0) {
        if (s.stalledSince === 0) {
          s.stalledSince = performance.now();
          this.#watchStalls();
        }
        return;
      }
      s.stalledSince = 0;
      const head = s.queue[0]!;
      const part = head.length <= room ? head : head.subarray(0, room);
      if (part === head) s.queue.shift();
      else s.queue[0] = head.subarray(room);
      s.queued -= part.length;
      s.sendWindow -= part.length;
      this.#connSendWindow -= part.length;
      const last = s.endQueued && s.queue.length === 0 && s.trailers === null;
      // Header and payload as two writes (one writev): the payload is not copied.
      this.conn.write(frameHeader(T_DATA, last ? F_END_STREAM : 0, s.id, part.length));
      this.conn.write(part);
      if (last) return this.#localEnd(s);
    }
    if (s.trailers !== null) {
      const t = s.trailers;
      s.trailers = null;
      this.#writeHeaders(s, t, true);
    } else if (s.endQueued && s.state !== 'half-closed-local' && s.state !== 'closed') {
      this.conn.write(dataFrame(s.id, Buffer.alloc(0), true));
      this.#localEnd(s);
    } else if (s.queue.length === 0) s.res._emit('drain');
  }

  /**
   * One timer per session, only while a stream waits for window: streams stalled for `sendTimeout` are
   * reset (CANCEL) so a peer that never reads cannot pin a response and its buffers for ever.
   */
  #stallTimer: NodeJS.Timeout | null = null;
  #watchStalls(): void {
    if (this.#stallTimer !== null) return;
    this.#stallTimer = setTimeout(() => {
      this.#stallTimer = null;
      const now = performance.now();
      let waiting = false;
      for (const st of this.#streams.values()) {
        if (st.stalledSince === 0 || st.queue.length === 0) continue;
        if (now - st.stalledSince >= this.#o.sendTimeout) {
          this.conn.write(rstStreamFrame(st.id, H2.CANCEL));
          st.queue = [];
          st.queued = 0;
          this.#close(st, true);
        } else waiting = true;
      }
      if (waiting) this.#watchStalls();
    }, this.#o.sendTimeout);
    this.#stallTimer.unref();
  }

  #flushAll(): void {
    for (const s of this.#streams.values()) if (s.queue.length > 0 || s.endQueued) this.#flush(s);
  }

  #localEnd(s: Stream): void {
    if (s.state === 'half-closed-remote') this.#close(s, false);
    else if (s.state === 'open') s.state = 'half-closed-local';
  }

  #close(s: Stream, reset: boolean): void {
    if (s.state === 'closed' && !this.#streams.has(s.id)) return;
    s.state = 'closed';
    this.#streams.delete(s.id);
    s.tunnel?._close();
    if (reset) {
      s.req._abort();
      s.res._emit('close');
    }
    if (this.#streams.size === 0) {
      if (this.#goaway) this.conn.end();
      else this.#armIdle();
    }
  }

  #armIdle(): void {
    if (this.#streams.size === 0 && this.#settingsAcked) this.conn.setTimeout('idle', this.#o.idleTimeout);
  }

  #run(s: Stream): void {
    let ret: void | Promise<unknown>;
    try {
      ret = this.#handler(s.req, s.res);
    } catch (err) {
      this.#handlerError(s, err);
      return;
    }
    if (ret !== undefined && typeof (ret as Promise<unknown>).then === 'function') {
      (ret as Promise<unknown>).then(undefined, (err: unknown) => this.#handlerError(s, err));
    }
  }

  #handlerError(s: Stream, err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (s.res.headersSent) return this._abort(s, e); // nothing else can be said: reset the stream
    this.#o.onError?.(e);
    if (s.state === 'closed') return;
    answerFailure(s.res, err);
  }

  /** @internal A response gave up (`Http2Response.destroy`): reset its stream. */
  _abort(s: Stream, error: Error): void {
    this.#o.onError?.(error);
    if (s.state === 'closed') return;
    this.#streamError(streamError(H2.INTERNAL_ERROR, s.id, 'response destroyed'));
  }

  #streamError(e: Http2ProtocolError): void {
    this.#o.onStreamError?.(e);
    this.conn.write(rstStreamFrame(e.streamId, e.code));
    const s = this.#streams.get(e.streamId);
    if (s !== undefined) this.#close(s, true);
  }

  #connectionError(e: Http2ProtocolError): void {
    this.#failed = true;
    this.#o.onError?.(e);
    this.conn.write(goawayFrame(this.#lastStreamId, e.code, (e.debugData ?? e.message).slice(0, 200)));
    for (const s of this.#streams.values()) this.#close(s, true);
    this.#goaway = true;
    this.conn.end();
  }

  // ---- ConnectionHandler --------------------------------------------------------------------------------

  onClose(): void {
    if (this.#stallTimer !== null) clearTimeout(this.#stallTimer);
    for (const s of this.#streams.values()) this.#close(s, true);
  }

  onDrain(): void {
    for (const s of this.#streams.values()) if (s.queue.length === 0) s.res._emit('drain');
  }

  onTimeout(kind: TimeoutKind): void {
    if (kind === 'idle' && this.#streams.size === 0) {
      this.conn.write(goawayFrame(this.#lastStreamId, H2.NO_ERROR, 'idle'));
      this.conn.end();
      return;
    }
    if (kind === 'headers') {
      this.#connectionError(connectionError(H2.SETTINGS_TIMEOUT, 'no preface or SETTINGS in time'));
      return;
    }
    if (kind === 'custom' && this.#draining) {
      this.#finalGoaway();
      return;
    }
    this.conn.destroy();
  }

  /**
   * Graceful shutdown in two phases (§6.8): GOAWAY with the largest stream id and a PING, so requests
   * already in flight toward us are still served; when the PING comes back (one round trip, capped at
   * 1 s), GOAWAY with the real last stream id. Streams below it finish; then the connection closes.
   */
  onShutdown(): void {
    if (this.#goaway || this.#draining) return;
    this.#draining = true;
    this.conn.write(goawayFrame(MAX_WINDOW, H2.NO_ERROR, 'shutting down'));
    this.conn.write(pingFrame(SHUTDOWN_PING));
    this.conn.setTimeout('custom', 1000);
  }

  #finalGoaway(): void {
    if (this.#goaway) return;
    this.#goaway = true;
    this.conn.write(goawayFrame(this.#lastStreamId, H2.NO_ERROR, 'shutting down'));
    if (this.#streams.size === 0) this.conn.end();
  }
}
