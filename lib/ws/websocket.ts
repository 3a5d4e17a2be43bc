/**
 * One WebSocket connection over a `covet/net` Connection, for either role: sending (text, binary,
 * fragmented, compressed, pre-framed), ping/pong, heartbeat with dead-peer detection, the closing
 * handshake with a timeout (RFC 6455 §7), and backpressure through `bufferedAmount` and `'drain'`.
 */
import { EventEmitter } from 'node:events';
import type { ConnectionHandler, TimeoutKind } from '../net/index.js';
import { WsProtocolError, isValidCloseCode } from './errors.js';
import { closePayload, frame, frameHeader } from './frame-writer.js';
import { OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT } from './frame-parser.js';
import { compressShared, type PerMessageDeflate } from './permessage-deflate.js';
import { Receiver, type ReceiverHandler } from './receiver.js';

export interface WebSocketOptions {
  /** Largest incoming message (after inflation); 1009 beyond. Default 16 MiB. */
  maxMessageSize?: number;
  /** Most frames per incoming message; 1009 beyond. Default: no limit (fragments are not copied one by one; `maxMessageSize` bounds the memory). */
  maxFragments?: number;
  /** Outgoing messages larger than this are sent as several frames. Default 1 MiB. */
  fragmentSize?: number;
  /** How long to wait for the peer's close frame / TCP close after ours (ms). Default 5 000. */
  closeTimeout?: number;
  /** Send a ping when the connection was silent this long, and drop it if the next interval is silent too (ms). 0 = off. Default 0. */
  heartbeatInterval?: number;
  /**
   * When more than this many bytes wait to be sent, `send` applies `backpressurePolicy`. Default: no limit
   * (send queues and returns false above the connection's high-water mark).
   */
  maxBufferedAmount?: number;
  /** `'drop'`: the message is not sent (send returns false); `'close'`: the connection closes with 1008. Default 'drop'. */
  backpressurePolicy?: 'drop' | 'close';
}

export interface SendOptions {
  /** Send as binary even when given a string. Default: strings are text, bytes binary. */
  binary?: boolean;
  /** Compress when permessage-deflate was negotiated and the message is above the threshold. Default true. */
  compress?: boolean;
}

/** A message framed once, to send to many connections (server side, unmasked). */
export interface PreparedMessage {
  /** The uncompressed frame (header and payload in one buffer). */
  readonly plain: Buffer;
  /** The compressed frame, when one was made. */
  readonly compressed: Buffer | null;
  readonly opcode: number;
  /** The uncompressed payload (to frame it again for a connection that cannot take the shared form). */
  readonly data: Buffer;
}

type State = 'open' | 'closing' | 'closed';

/**
 * What a WebSocket needs from its transport: a `covet/net` Connection (HTTP/1.1 Upgrade), or an HTTP/2
 * stream opened with extended CONNECT (RFC 8441). Events come back through the ConnectionHandler methods.
 */
export interface WsTransport {
  write(data: Buffer): boolean;
  flush(): void;
  readonly bufferedAmount: number;
  setTimeout(kind: TimeoutKind, ms: number): void;
  clearTimeout(): void;
  /** Graceful end (FIN, or END_STREAM on HTTP/2). */
  end(): void;
  /** Abrupt end (TCP reset, or RST_STREAM on HTTP/2). */
  destroy(error?: Error): void;
}

/** Frames up to this payload size are written as one buffer (header and payload joined). */
const SMALL_FRAME = 1024;

export interface WebSocketEvents {
  message: [data: Buffer, isBinary: boolean];
  ping: [data: Buffer];
  pong: [data: Buffer];
  close: [code: number, reason: string, wasClean: boolean];
  drain: [];
  error: [error: Error];
}

/**
 * @example
 * ```ts
 * ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })); // echo
 * ws.on('close', (code, reason) => console.log('closed', code, reason));
 * if (!ws.send(big)) ws.once('drain', () => sendMore());
 * ```
 */
export class WebSocket extends EventEmitter<WebSocketEvents> implements ConnectionHandler {
  readonly conn: WsTransport;
  readonly role: 'server' | 'client';
  /** The negotiated subprotocol, or `''`. */
  readonly protocol: string;
  /** The negotiated extensions header value, or `''`. */
  readonly extensions: string;
  state: State = 'open';
  #receiver: Receiver;
  #deflate: PerMessageDeflate | null;
  // The options a connection uses, as fields: the options object itself is made per connection by the
  // server (with the negotiated protocol and extensions), and kept it would cost each idle connection.
  readonly #fragmentSize: number;
  readonly #closeTimeout: number;
  readonly #heartbeatInterval: number;
  readonly #maxBufferedAmount: number | undefined;
  readonly #dropWhenSlow: boolean;
  #mask: boolean;
  #sentClose = false;
  #gotClose = false;
  #closeCode = 1006;
  #closeReason = '';
  #awaitingPong = false;

  constructor(
    conn: WsTransport,
    role: 'server' | 'client',
    options: WebSocketOptions & { deflate?: PerMessageDeflate | null; protocol?: string; extensions?: string } = {},
  ) {
    super();
    this.conn = conn;
    this.role = role;
    this.protocol = options.protocol ?? '';
    this.extensions = options.extensions ?? '';
    this.#deflate = options.deflate ?? null;
    this.#mask = role === 'client';
    this.#fragmentSize = options.fragmentSize ?? 1024 * 1024;
    this.#closeTimeout = options.closeTimeout ?? 5000;
    this.#heartbeatInterval = options.heartbeatInterval ?? 0;
    this.#maxBufferedAmount = options.maxBufferedAmount;
    this.#dropWhenSlow = options.backpressurePolicy !== 'close';
    this.#receiver = new Receiver({ role, maxMessageSize: options.maxMessageSize, maxFragments: options.maxFragments, deflate: this.#deflate }, new WebSocket.#Events(this));
    conn.clearTimeout();
    if (this.#heartbeatInterval > 0) conn.setTimeout('idle', this.#heartbeatInterval);
  }

  /** The receiver's events, on a prototype: one small object per connection, no closures. */
  static #Events = class implements ReceiverHandler {
    readonly ws: WebSocket;
    constructor(ws: WebSocket) {
      this.ws = ws;
    }
    onMessage(data: Buffer, isBinary: boolean): void {
      if (this.ws.state === 'open') this.ws.emit('message', data, isBinary);
    }
    onPing(data: Buffer): void {
      if (this.ws.state === 'open') this.ws.#control(OP_PONG, data); // §5.5.2: answer with the same payload
      this.ws.emit('ping', data);
    }
    onPong(data: Buffer): void {
      this.ws.emit('pong', data);
    }
    onClose(code: number, reason: string): void {
      this.ws.#peerClose(code, reason);
    }
  };

  /** Bytes accepted by `send` and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.conn.bufferedAmount;
  }

  /**
   * Sends a message (strings as text unless `binary`). Returns false when the caller should wait for
   * `'drain'`, or when the message was dropped by the backpressure policy.
   */
  send(data: string | Buffer | ArrayBuffer | ArrayBufferView, options: SendOptions = {}): boolean {
    if (this.state !== 'open') return false;
    if (this.#overLimit()) return false;
    const isString = typeof data === 'string';
    let payload = isString ? Buffer.from(data, 'utf8') : toBuffer(data);
    const opcode = isString && options.binary !== true ? OP_TEXT : options.binary === false ? OP_TEXT : OP_BINARY;
    let rsv1 = false;
    if (this.#deflate !== null && options.compress !== false && payload.length >= this.#deflate.threshold) {
      payload = this.#deflate.compress(payload);
      rsv1 = true;
    }
    return this.#sendFrames(opcode, payload, rsv1);
  }

  /** Sends a message framed once by {@link prepareMessage} (server connections only). */
  sendPrepared(msg: PreparedMessage): boolean {
    if (this.state !== 'open') return false;
    if (this.#mask) throw new Error('prepared messages are unmasked: server connections only');
    if (this.#overLimit()) return false;
    const d = this.#deflate;
    if (d !== null && msg.compressed !== null && msg.data.length >= d.threshold) {
      // With context takeover or a smaller window the shared compressed frame would not inflate right.
      if (!d.acceptsShared) return this.#sendFrames(msg.opcode, d.compress(msg.data), true);
      return this.#writeNow(msg.compressed);
    }
    return this.#writeNow(msg.plain);
  }

  /**
   * A broadcast frame is complete in itself: hand it to the socket at once rather than at the end of the
   * tick, so the first receivers get it while the loop over the others is still running.
   */
  #writeNow(frame: Buffer): boolean {
    const ok = this.conn.write(frame);
    this.conn.flush();
    return ok;
  }

  #overLimit(): boolean {
    const max = this.#maxBufferedAmount;
    if (max === undefined || this.conn.bufferedAmount <= max) return false;
    if (!this.#dropWhenSlow) this.close(1008, 'peer too slow');
    return true;
  }

  #sendFrames(opcode: number, payload: Buffer, rsv1: boolean): boolean {
    const size = this.#fragmentSize;
    if (payload.length <= size) return this.#writeFrame(opcode, payload, true, rsv1);
    let ok = true;
    for (let off = 0; off < payload.length; off += size) {
      const last = off + size >= payload.length;
      ok = this.#writeFrame(off === 0 ? opcode : OP_CONTINUATION, payload.subarray(off, off + size), last, off === 0 && rsv1);
    }
    return ok;
  }

  #writeFrame(opcode: number, payload: Buffer, fin: boolean, rsv1: boolean): boolean {
    const [head, body] = frame(opcode, payload, { fin, rsv1, mask: this.#mask });
    // Small frames go out as one buffer: a copy of a few bytes is cheaper than a second write.
    if (body.length <= SMALL_FRAME) return this.conn.write(body.length === 0 ? head : Buffer.concat([head, body], head.length + body.length));
    this.conn.write(head);
    return this.conn.write(body);
  }

  #control(opcode: number, data: Buffer): void {
    if (this.#sentClose) return;
    this.#writeFrame(opcode, data, true, false);
  }

  ping(data: string | Buffer = Buffer.alloc(0)): void {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    if (b.length > 125) throw new RangeError('ping payload longer than 125 bytes (RFC 6455 §5.5)');
    if (this.state === 'open') this.#control(OP_PING, b);
  }

  pong(data: string | Buffer = Buffer.alloc(0)): void {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    if (b.length > 125) throw new RangeError('pong payload longer than 125 bytes (RFC 6455 §5.5)');
    if (this.state === 'open') this.#control(OP_PONG, b);
  }

  /**
   * Starts the closing handshake (§7.1.2). `code` must be 1000, 1001–1003, 1007–1014 or 3000–4999; the
   * reason at most 123 UTF-8 bytes.
   */
  close(code = 1000, reason = ''): void {
    if (!isValidCloseCode(code)) throw new RangeError(`close code ${code} may not be sent`);
    if (Buffer.byteLength(reason) > 123) throw new RangeError('close reason longer than 123 bytes');
    this.#startClose(code, reason);
  }

  #startClose(code: number | undefined, reason: string): void {
    if (this.state === 'closed' || this.#sentClose) return;
    this.state = 'closing';
    this.#sentClose = true;
    this.#writeFrame(OP_CLOSE, closePayload(code, reason), true, false);
    if (this.#gotClose) this.#closeTransport();
    else this.conn.setTimeout('custom', this.#closeTimeout);
  }

  /** Closes the TCP connection at once, without the closing handshake (§7.1.1). */
  terminate(): void {
    this.conn.destroy();
  }

  #peerClose(code: number, reason: string): void {
    this.#gotClose = true;
    this.#closeCode = code;
    this.#closeReason = reason;
    // §5.5.1: echo the status code; a close without one is answered without one.
    if (!this.#sentClose) this.#startClose(code === 1005 ? undefined : code, '');
    else this.#closeTransport();
  }

  /** §7.1.1: the server closes TCP first; the client waits for it (with the close timeout). */
  #closeTransport(): void {
    if (this.role === 'server') this.conn.end();
    else this.conn.setTimeout('custom', this.#closeTimeout);
  }

  #fail(err: WsProtocolError): void {
    // Reported to listeners only: a protocol error from the peer must never throw in our process.
    if (this.listenerCount('error') > 0) this.emit('error', err);
    if (!this.#sentClose) {
      this.state = 'closing';
      this.#sentClose = true;
      this.#writeFrame(OP_CLOSE, closePayload(err.closeCode, err.message.slice(0, 100)), true, false);
    }
    this.#closeCode = err.closeCode;
    this.conn.end();
  }

  /** A listener threw while handling a message: close with 1011 (RFC 6455 §7.4.1) instead of dropping TCP. */
  #internalError(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('error') > 0) this.emit('error', e);
    if (!this.#sentClose) {
      this.state = 'closing';
      this.#sentClose = true;
      this.#writeFrame(OP_CLOSE, closePayload(1011, 'internal error'), true, false);
    }
    this.#closeCode = 1011;
    this.conn.end();
  }

  // ---- ConnectionHandler ----------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    this.#awaitingPong = false;
    if (this.#gotClose) return; // nothing is processed after a close frame (§5.5.1)
    try {
      this.#receiver.push(chunk);
    } catch (err) {
      if (err instanceof WsProtocolError) this.#fail(err);
      else this.#internalError(err);
    }
  }

  onEnd(): void {
    this.conn.end();
  }

  onClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.#deflate?.close();
    const clean = this.#sentClose && this.#gotClose;
    this.emit('close', this.#gotClose ? this.#closeCode : 1006, this.#closeReason, clean);
  }

  onTimeout(kind: TimeoutKind): void {
    if (kind === 'idle' && this.state === 'open') {
      // Heartbeat: a silent interval after our ping means the peer is gone.
      if (this.#awaitingPong) {
        this.conn.destroy();
        return;
      }
      this.#awaitingPong = true;
      this.#control(OP_PING, Buffer.alloc(0));
      this.conn.setTimeout('idle', this.#heartbeatInterval);
      return;
    }
    this.conn.destroy();
  }

  onDrain(): void {
    this.emit('drain');
  }

  onShutdown(): void {
    if (this.state === 'open') this.close(1001, 'server shutting down');
  }
}

/**
 * Frames a message once for many server connections (broadcast): each `sendPrepared` only queues the
 * same buffers. With `compress: true` a compressed form is made once too (no context, 15-bit window);
 * connections that negotiated permessage-deflate without server context takeover get it, the others the
 * plain form (or their own compression when their parameters need it).
 *
 * @example
 * ```ts
 * const msg = prepareMessage(JSON.stringify({ price: 101.5 }), { compress: true });
 * for (const ws of subscribers) ws.sendPrepared(msg);
 * ```
 */
export function prepareMessage(data: string | Buffer | ArrayBufferView, options: SendOptions = {}): PreparedMessage {
  const isString = typeof data === 'string';
  const payload = isString ? Buffer.from(data, 'utf8') : toBuffer(data);
  const opcode = isString && options.binary !== true ? OP_TEXT : OP_BINARY;
  let compressed: Buffer | null = null;
  if (options.compress === true) {
    const c = compressShared(payload);
    compressed = Buffer.concat([frameHeader(opcode, c.length, { fin: true, rsv1: true }), c]);
  }
  return { plain: Buffer.concat([frameHeader(opcode, payload.length, { fin: true }), payload]), compressed, opcode, data: payload };
}

function toBuffer(data: Buffer | ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
