import { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { defaultBufferPool, type BufferPool } from './buffer-pool.js';
import { defaultSweeper, type Timed, type TimeoutSweeper } from './timeout-sweeper.js';
import { readIntoSharedBuffer, readIntoStream, sharedReadBuffer } from './shared-read.js';
import { directHandle, writeDirect } from './direct-write.js';
import { asRawHandle, errnoError, readResult, shutdownHandle, UV_EOF, writeHandle, type RawHandle, type WriteRequest } from './handle-io.js';
import { CONNECTION_CLOSE, CONNECTION_OPEN } from '../trace/channels.js';

/**
 * What a protocol (HTTP/1.1, HTTP/2, WebSocket, PostgreSQL...) implements to drive a {@link Connection}.
 * All methods are called by the connection; none is called after `onClose`.
 */
export interface ConnectionHandler {
  /** Bytes from the peer. The chunk is owned by the handler (nothing reuses it). */
  onData(chunk: Buffer): void;
  /** The peer half-closed (FIN). The connection is ended after this returns unless the handler wrote. */
  onEnd?(): void;
  /** The connection is gone. `error` is set when it ended abnormally. */
  onClose?(error: Error | undefined): void;
  /** A deadline armed with {@link Connection.setTimeout} passed. Default: destroy the connection. */
  onTimeout?(kind: TimeoutKind): void;
  /** Write backpressure has been relieved (buffered bytes fell below the low-water mark). */
  onDrain?(): void;
  /** The server is shutting down gracefully: finish what is in flight, then close. */
  onShutdown?(idleLingerMs: number): void;
}

/** Names of the deadlines a protocol arms; the handler interprets them. */
export type TimeoutKind = 'idle' | 'headers' | 'request' | 'send' | 'custom';

export interface ConnectionOptions {
  /** Pause reading when this many bytes wait to be written. Default 64 KiB. */
  highWaterMark?: number;
  /** Resume reading when buffered bytes fall to this many. Default 16 KiB. */
  lowWaterMark?: number;
  /**
   * How long the peer may leave our writes above the high-water mark before the connection is
   * timed out with kind `'send'` (ms). Default 60 000.
   */
  sendTimeout?: number;
  pool?: BufferPool;
  sweeper?: TimeoutSweeper;
  /**
   * Use the read and write fast paths that lean on Node internals (shared-read.ts, direct-write.ts), and
   * let a {@link Server} run plain TCP and unix-socket connections on the bare handle (handle-io.ts). `false` keeps every
   * socket on Node's public stream API — slower, more memory per connection, and immune to a Node release
   * that moves those internals. Default: true, unless the environment says `COVET_NET_FAST_PATHS=0`.
   */
  fastPaths?: boolean;
}

/** `COVET_NET_FAST_PATHS=0` turns the fast paths off for every connection that does not say otherwise. */
// Stryker disable next-line ConditionalExpression,StringLiteral: read once at load, so no test in the process can change it; CI runs test/net again under COVET_NET_FAST_PATHS=0 (node-lines.test.ts checks that line)
export const FAST_PATHS_DEFAULT = process.env.COVET_NET_FAST_PATHS !== '0';

const STRING_COALESCE_LIMIT = 16 * 1024;

/**
 * A `net.Socket` (or `tls.TLSSocket`) with batched writes, backpressure, coarse timeouts and byte counters.
 *
 * Writes are coalesced per event-loop turn: small latin1/ASCII strings are concatenated (a rope in V8, no
 * copy) and Buffers are queued; every connection with something queued is flushed — one `write`, or one
 * corked batch that Node turns into a single `writev` — in one pass after the turn's I/O callbacks (a
 * `setImmediate`), the flush consolidation of Netty's FlushConsolidationHandler. Clustering the sends of
 * all connections measured +10–20 % requests/s on loopback keep-alive load here (fewer wake-ups of the
 * peer between sends); the added latency is the rest of the turn's I/O callbacks. Past the high-water mark
 * a write goes out at once, and `end`/`close` flush at once.
 *
 * @example
 * ```ts
 * import { Connection } from 'covet/net';
 * const conn = new Connection(socket, {
 *   onData(chunk) { conn.write(chunk); }, // echo
 * });
 * ```
 */
const OWNER = Symbol('covet.connection');
type OwnedSocket = Socket & { [OWNER]: Connection };

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[OWNER]._read(chunk);
}
function onSocketEnd(this: OwnedSocket): void {
  this[OWNER]._peerEnded();
}
function onSocketError(): void {
  /* reported through 'close'; the error itself stays on the socket (socket.errored) */
}
function onSocketClose(this: OwnedSocket): void {
  this[OWNER]._closed();
}
function onDirectWritten(this: WriteRequest, status: number): void {
  (this.owner as Connection)._directWritten(status, this.queued);
}
type OwnedHandle = RawHandle & { [OWNER]: Connection };
/** A read on a bare handle (handle-io.ts): the bytes are in the shared buffer, their count in Node's state. */
function onHandleRead(this: OwnedHandle): void {
  const n = readResult();
  const conn = this[OWNER];
  if (n > 0) {
    const chunk = Buffer.allocUnsafe(n);
    sharedReadBuffer().copy(chunk, 0, 0, n);
    conn._read(chunk);
  } else if (n === UV_EOF) conn._handleEof();
  // 0: libuv found nothing to read this time (EAGAIN) — not an error, nothing to hand on.
  else if (n < 0) conn.destroy(errnoError(n, 'read'));
}
function onHandleClosed(this: OwnedHandle): void {
  this[OWNER]._closed();
}
function onHandleShutdown(this: { owner: unknown }, status: number): void {
  (this.owner as Connection)._handleShutdown(status);
}
/** Written behind a paused connection's earlier stream writes: its callback says they all completed. */
const MARKER = Buffer.alloc(0);

/** A connection's settings from its options (fields on every connection would cost each idle one). */
interface Settings {
  readonly pool: BufferPool;
  readonly sweeper: TimeoutSweeper;
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
  readonly sendTimeout: number;
  /** Direct writes allowed (ConnectionOptions.fastPaths). */
  readonly fast: boolean;
}
const NO_OPTIONS: ConnectionOptions = {};
const settingsByOptions = new WeakMap<ConnectionOptions, Settings>();
/** The settings for `o`, made once per options object (a server's connections share its options). */
function settingsOf(o: ConnectionOptions): Settings {
  let s = settingsByOptions.get(o);
  // Stryker disable next-line ConditionalExpression: made again, the settings are the same values (only shared less)
  if (s === undefined) {
    s = {
      pool: o.pool ?? defaultBufferPool,
      sweeper: o.sweeper ?? defaultSweeper,
      highWaterMark: o.highWaterMark ?? 64 * 1024,
      lowWaterMark: o.lowWaterMark ?? 16 * 1024,
      sendTimeout: o.sendTimeout ?? 60_000,
      fast: o.fastPaths ?? FAST_PATHS_DEFAULT,
    };
    // Stryker disable next-line CallExpression: not kept, they are made again with the same values
    settingsByOptions.set(o, s);
  }
  return s;
}

/** A callback for a connection's close: the error it ended with, if any, and the connection. */
export type CloseListener = (err: Error | undefined, conn: Connection) => void;

/** Connections with queued bytes, flushed together once the turn's I/O callbacks are done. */
let dirty: Connection[] = [];
let flushImmediate: NodeJS.Immediate | null = null;

function flushAll(): void {
  flushImmediate = null;
  const list = dirty;
  dirty = [];
  for (let i = 0; i < list.length; i++) list[i]!._flushTick();
}

/**
 * A socket with batched writes, backpressure and deadlines, handed to a protocol's connection handler.
 *
 * @example
 * ```ts
 * const server = new Server({ onConnection: (conn) => ({ onData: (chunk) => conn.write(chunk), onClose: () => {} }) });
 * ```
 */
export class Connection implements Timed {
  /** Bytes received and sent (as handed to the socket). */
  bytesRead = 0;
  bytesWritten = 0;
  /** Deadline on the sweeper clock (see {@link setTimeout}). */
  deadline = 0;
  timeoutKind: TimeoutKind = 'idle';
  /** True once `close`/`destroy` was called or the socket closed. */
  closed = false;
  /** Arbitrary per-connection data for the protocol above. */
  data: unknown = undefined;

  #handler: ConnectionHandler;
  #pendingStr = '';
  /** Buffers queued this turn (null when none: an idle connection holds no array). */
  #pendingBufs: Buffer[] | null = null;
  #pendingBytes = 0;
  #flushScheduled = false;
  #readPaused = 0; // bit 1: backpressure, bit 2: protocol asked
  #ending = false;
  #savedDeadline = 0;
  // Stryker disable next-line StringLiteral: always set before it is read (when reading pauses for backpressure)
  #savedKind: TimeoutKind = 'idle';
  /** {@link onceClosed}'s callbacks: one in a field (the server's), more in an array. */
  #closeListener: CloseListener | null = null;
  #closeListeners: CloseListener[] | null = null;
  /** Write-completion callback, only passed to the socket while reading is paused for backpressure. */
  #onWritten: ((err?: Error | null) => void) | null = null;
  /** Bytes of direct writes libuv queued that have not completed (stream writes count in writableLength). */
  #directQueued = 0;
  /** What the options say, shared by every connection made with the same options object. */
  readonly #s: Settings;
  /** The socket, once there is one (see {@link socket}). */
  #socket: Socket | null = null;
  /** The bare handle while the connection runs without a socket (handle-io.ts), else null. */
  #handle: OwnedHandle | null = null;
  /** Handle mode: the peer's FIN was read (ours went out when `#ending` was set); why it closed. */
  #eof = false;
  #error: Error | undefined = undefined;

  /**
   * `transport` is a `net.Socket` (or `tls.TLSSocket`), or — from {@link Server}, where Node allows it — an
   * accepted TCP or unix-socket handle, which the connection drives without a socket (handle-io.ts).
   */
  constructor(transport: Socket | RawHandle, handler: ConnectionHandler, options: ConnectionOptions = NO_OPTIONS) {
    this.#handler = handler;
    this.#s = settingsOf(options);
    // Anything but a TCP or pipe handle is taken as a socket (a TLSSocket, or a Duplex that behaves like one).
    const raw = asRawHandle(transport);
    if (raw === null) this.#attach(transport as Socket);
    else {
      const h = raw as OwnedHandle;
      this.#handle = h;
      h[OWNER] = this;
      h.setNoDelay?.(true); // TCP only (a unix socket's pipe has no Nagle)
      h.useUserBuffer(sharedReadBuffer());
      h.onread = onHandleRead;
      const err = h.readStart();
      if (err < 0) this.destroy(errnoError(err, 'read'));
    }
    this.sweeper.add(this);
    // Stryker disable next-line ConditionalExpression: a speed guard — publishing to no subscriber does nothing
    if (CONNECTION_OPEN.hasSubscribers) CONNECTION_OPEN.publish({ connection: this });
  }

  get pool(): BufferPool {
    return this.#s.pool;
  }
  get sweeper(): TimeoutSweeper {
    return this.#s.sweeper;
  }
  /** Reading pauses when this many bytes wait to be written ({@link ConnectionOptions.highWaterMark}). */
  get highWaterMark(): number {
    return this.#s.highWaterMark;
  }
  get lowWaterMark(): number {
    return this.#s.lowWaterMark;
  }
  get sendTimeout(): number {
    return this.#s.sendTimeout;
  }

  /** Takes events from `socket` (shared listeners, no closures per connection: it points back here). */
  #attach(socket: Socket): void {
    this.#socket = socket;
    socket.setNoDelay(true);
    (socket as OwnedSocket)[OWNER] = this;
    if (!(this.#s.fast && readIntoSharedBuffer(socket as OwnedSocket, onSocketData))) socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  }

  /**
   * The `net.Socket` (or `tls.TLSSocket`). A connection a {@link Server} runs on its bare handle gets one made
   * around the handle on first use, and goes on through it from then on (its bytes, order and state kept):
   * asking costs the memory the handle path saves, so protocols use the connection's own methods.
   */
  get socket(): Socket {
    if (this.#socket !== null) return this.#socket;
    const h = this.#handle!;
    if (this.closed) {
      // Its handle is gone: a socket that is already destroyed says so.
      const dead = new Socket();
      dead.destroy();
      return dead;
    }
    // The socket takes the handle's `onread` over (it must stay a function: Node asserts so) and starts
    // reading itself: libuv refuses a second start (EALREADY), which would destroy the new socket.
    this.#handle = null;
    h.readStop();
    const s = new Socket({ handle: h, allowHalfOpen: true, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
    this.#attach(s);
    // Reading stays paused as it was; a FIN already sent stays sent (the connection's send deadline ends it).
    if (this.#readPaused !== 0) s.pause();
    return s;
  }

  /** True while the connection runs on its bare handle (no `net.Socket` made). */
  get bare(): boolean {
    return this.#handle !== null;
  }

  /** The handler receiving events; swap it to hand the connection to another protocol (Upgrade, ALPN). */
  get handler(): ConnectionHandler {
    return this.#handler;
  }

  /**
   * Hands the connection to another protocol. `unread` (bytes that arrived after the switch point) is fed
   * to the new handler right away.
   */
  setHandler(handler: ConnectionHandler, unread?: Buffer): void {
    this.#handler = handler;
    if (unread !== undefined && unread.length > 0) this.#read(unread, true);
  }

  /** The negotiated ALPN protocol on TLS connections (`'h2'`, `'http/1.1'`), otherwise `false`. */
  get alpnProtocol(): string | false {
    return this.#socket === null ? false : ((this.#socket as TLSSocket).alpnProtocol ?? false);
  }

  /** The peer's address (asked of the socket once: Node's getter re-checks its cache on every read). */
  get remoteAddress(): string | undefined {
    // Stryker disable next-line ConditionalExpression: a cache — asking again gives the same address
    if (this.#remoteAddress === undefined) this.#remoteAddress = this.#peer()?.address ?? this.#socket?.remoteAddress;
    return this.#remoteAddress;
  }
  #remoteAddress: string | undefined = undefined;

  get remotePort(): number | undefined {
    if (this.#handle !== null) return this.#peer()?.port;
    return this.#socket!.remotePort;
  }

  /** The handle's peer address (handle mode), or undefined. */
  #peer(): { address?: string; port?: number } | undefined {
    if (this.#handle === null) return undefined;
    const out: { address?: string; port?: number } = {};
    // A unix socket's pipe has no peer address (undefined, as net.Socket says).
    return this.#handle.getpeername?.(out) === 0 ? out : undefined;
  }

  get encrypted(): boolean {
    return this.#socket !== null && (this.#socket as TLSSocket).encrypted === true;
  }

  /** Bytes queued in this connection and in the socket, not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#pendingStr.length + this.#pendingBytes + this.#unsent();
  }

  /**
   * Bytes handed to the socket that the kernel has not taken: the stream's (which counts its writes until
   * they complete, in libuv's queue or not) and direct writes libuv still holds.
   */
  #unsent(): number {
    return this.#socket === null ? this.#directQueued : this.#socket.writableLength + this.#directQueued;
  }

  /** True while reading is paused because the peer is not taking our writes. */
  get writeBlocked(): boolean {
    return (this.#readPaused & 1) !== 0;
  }

  /** @internal Socket listener entry points. */
  _read(chunk: Buffer): void {
    this.#read(chunk);
  }
  /** @internal */
  _peerEnded(): void {
    this.#peerEnded();
  }
  /** @internal */
  _closed(): void {
    this.#closed();
  }
  /** @internal The peer's FIN, read on a bare handle. */
  _handleEof(): void {
    if (this.#eof) return; // reading again after the FIN reports it again
    this.#eof = true;
    if (this.#ending) this.#closeHandle();
    else this.#peerEnded();
  }
  /** @internal Our FIN went out on a bare handle. */
  _handleShutdown(status: number): void {
    if (status < 0) this.destroy(errnoError(status, 'shutdown'));
    else if (this.#eof) this.#closeHandle();
  }
  /** @internal */
  _flushTick(): void {
    this.#flushScheduled = false;
    this.flush();
  }

  #read(chunk: Buffer, replay = false): void {
    this.bytesRead += replay ? 0 : chunk.length;
    try {
      this.#handler.onData(chunk);
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  #peerEnded(): void {
    if (this.#handler.onEnd !== undefined) {
      try {
        this.#handler.onEnd();
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      this.flush();
    } else {
      this.end();
    }
  }

  /**
   * Queues bytes. Strings are sent as latin1 unless `encoding` says otherwise (callers pass ASCII/latin1
   * heads, and utf8 bodies with 'utf8'). Returns false when the caller should wait for `onDrain`.
   */
  // Stryker disable next-line StringLiteral: only 'utf8' is looked for; any other default is latin1 too
  write(data: Buffer | Uint8Array | string, encoding: 'latin1' | 'utf8' = 'latin1'): boolean {
    if (this.closed || this.#ending) return false;
    if (typeof data === 'string') {
      // Stryker disable next-line StringLiteral: Buffer.from's default encoding is utf8 too
      if (encoding === 'utf8') data = Buffer.from(data, 'utf8');
      else if (this.#pendingStr.length + data.length <= STRING_COALESCE_LIMIT) {
        this.#pendingStr += data;
        this.#schedule();
        return !this.writeBlocked;
      } else {
        data = Buffer.from(data, 'latin1');
      }
    }
    if (this.#pendingStr.length > 0) {
      this.#pendingBytes += this.#pendingStr.length;
      (this.#pendingBufs ??= []).push(Buffer.from(this.#pendingStr, 'latin1'));
      this.#pendingStr = '';
    }
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    (this.#pendingBufs ??= []).push(b);
    this.#pendingBytes += b.length;
    // Batching must not hold more than a high-water mark: past it, hand the bytes to the socket now so
    // backpressure (writeBlocked) is known even in the middle of handling one large read.
    if (this.#pendingBytes >= this.highWaterMark) this.flush();
    else this.#schedule();
    return !this.writeBlocked;
  }

  #schedule(): void {
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: a speed guard — a connection listed twice is flushed twice, the second time with nothing queued
    if (this.#flushScheduled) return;
    // Stryker disable next-line BooleanLiteral: the same
    this.#flushScheduled = true;
    dirty.push(this);
    flushImmediate ??= setImmediate(flushAll);
  }

  /** Sends everything queued now. Called automatically once per event-loop turn. */
  flush(): void {
    if (this.closed) return;
    const bufs = this.#pendingBufs;
    const str = this.#pendingStr;
    if (bufs === null) {
      if (str.length === 0) return;
      this.#pendingStr = '';
      this.bytesWritten += str.length;
      if (!this.#writeOne(str)) return;
    } else {
      if (str.length > 0) bufs.push(Buffer.from(str, 'latin1'));
      this.#pendingStr = '';
      this.#pendingBufs = null;
      this.#pendingBytes = 0;
      if (bufs.length === 1) {
        this.bytesWritten += bufs[0]!.length;
        if (!this.#writeOne(bufs[0]!)) return;
      } else if (!this.#writeMany(bufs)) return;
    }
    if ((this.#readPaused & 1) === 0 && this.#unsent() >= this.highWaterMark) {
      // The peer is not reading: stop reading from it too, and give it sendTimeout to catch up.
      this.#readPaused |= 1;
      const s = this.#socket;
      if (s === null) this.#handle!.readStop();
      else {
        s.pause();
        // From now on every write reports its completion, so the low-water mark is seen as it is crossed.
        // The stream writes already made carry no callback: an empty write behind them reports when they
        // are done (the stream completes writes in order). Not 'drain': the stream emits it only if its own
        // high-water mark was reached, which ours need not match (Node 22 raised it to 64 KiB). Direct
        // writes (and every write on a bare handle) report through their own completion.
        this.#onWritten = (err) => this.#written(err);
        // Stryker disable next-line ConditionalExpression,EqualityOperator: an empty write behind nothing reports at once, and the unsent count decides as before
        if (s.writableLength > 0) s.write(MARKER, this.#onWritten);
      }
      this.#savedDeadline = this.deadline;
      this.#savedKind = this.timeoutKind;
      this.setTimeout('send', this.sendTimeout);
    }
  }

  /**
   * One write: straight to the handle when nothing waits in the stream and no write is being watched for
   * backpressure (see direct-write.ts), else through `socket.write`. False when the connection failed.
   */
  #writeOne(data: string | Buffer): boolean {
    if (this.#handle !== null) return this.#writeHandle(data);
    const s = this.#socket!;
    if (this.#s.fast && this.#onWritten === null && s.writableLength === 0) {
      const h = directHandle(s, () => (typeof data === 'string' ? s.write(data, 'latin1') : s.write(data)));
      if (h === undefined) return !this.closed; // written by the probe that learned how
      if (h !== null) {
        const r = writeDirect(h, data, this, onDirectWritten, this.#directQueued === 0);
        if (r < 0) {
          this.destroy(errnoError(r, 'write'));
          return false;
        }
        this.#directQueued += r;
        return true;
      }
    }
    if (typeof data === 'string') {
      if (this.#onWritten === null) s.write(data, 'latin1');
      else s.write(data, 'latin1', this.#onWritten);
    } else if (this.#onWritten === null) s.write(data);
    else s.write(data, this.#onWritten);
    return true;
  }

  /** Several buffers in one `writev`: corked stream writes, or one request on a bare handle. */
  #writeMany(bufs: Buffer[]): boolean {
    for (const b of bufs) this.bytesWritten += b.length;
    if (this.#handle !== null) return this.#writeHandle(bufs);
    const s = this.#socket!;
    // Stryker disable next-line CallExpression: uncorked, the same bytes leave in the same order, in more system calls
    s.cork();
    for (const b of bufs) {
      if (this.#onWritten === null) s.write(b);
      else s.write(b, this.#onWritten);
    }
    s.uncork();
    return true;
  }

  #writeHandle(data: string | Buffer | Buffer[]): boolean {
    // Every write on a bare handle comes through here: none of ours pending means libuv's queue is empty.
    const r = writeHandle(this.#handle!, data, this, onDirectWritten, this.#directQueued === 0);
    if (r < 0) {
      this.destroy(errnoError(r, 'write'));
      return false;
    }
    this.#directQueued += r;
    return true;
  }

  /** @internal A direct write the kernel did not take at once completed. */
  _directWritten(status: number, queued: number): void {
    this.#directQueued -= queued;
    if (status < 0) {
      this.destroy(errnoError(status, 'write'));
      return;
    }
    // Stryker disable next-line ConditionalExpression: #written checks the same bit first
    if ((this.#readPaused & 1) !== 0) this.#written(null);
  }

  #written(err?: Error | null): void {
    if (err) return; // 'close' follows
    if ((this.#readPaused & 1) !== 0 && this.#unsent() <= this.lowWaterMark) {
      this.#readPaused &= ~1;
      this.#onWritten = null;
      if (this.timeoutKind === 'send') {
        this.deadline = this.#savedDeadline;
        this.timeoutKind = this.#savedKind;
      }
      if (this.#readPaused === 0 && !this.closed) this.#resume();
      this.#handler.onDrain?.();
    }
  }

  /** Stop delivering `onData` (protocol-level backpressure, e.g. a request body nobody reads yet). */
  pauseReading(): void {
    if (this.#readPaused === 0) {
      if (this.#handle !== null) this.#handle.readStop();
      else this.#socket!.pause();
    }
    this.#readPaused |= 2;
  }

  resumeReading(): void {
    this.#readPaused &= ~2;
    if (this.#readPaused === 0 && !this.closed) this.#resume();
  }

  #resume(): void {
    if (this.#handle !== null) this.#handle.readStart();
    else this.#socket!.resume();
  }

  /**
   * Arms the connection's single deadline: `kind` is reported to `onTimeout` after `ms`
   * (precision: the sweeper's resolution). `ms <= 0` clears it.
   */
  setTimeout(kind: TimeoutKind, ms: number): void {
    this.timeoutKind = kind;
    this.deadline = this.sweeper.deadline(ms);
  }

  clearTimeout(): void {
    this.deadline = 0;
  }

  /** @internal Sweeper callback. */
  onDeadline(): void {
    if (this.closed) return;
    const h = this.#handler;
    if (h.onTimeout !== undefined) {
      try {
        h.onTimeout(this.timeoutKind);
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      this.flush();
    } else {
      this.destroy();
    }
  }

  /** Graceful close: flush what is queued, send FIN, let the socket close after the peer's FIN or error. */
  end(): void {
    if (this.closed || this.#ending) return;
    this.flush();
    if (this.closed) return;
    this.#ending = true;
    const h = this.#handle;
    if (h === null) this.#socket!.end();
    else {
      // The FIN goes out behind what libuv still holds; the handle closes once the peer's FIN is read too
      // (allowHalfOpen, as the sockets: RFC 9112 §9.6).
      const err = shutdownHandle(h, this, onHandleShutdown);
      if (err < 0) {
        this.destroy(errnoError(err, 'shutdown'));
        return;
      }
    }
    // A peer that never reads or never closes must not keep us alive for ever.
    this.setTimeout('send', 30_000);
  }

  /** Immediate close, dropping anything unsent. */
  destroy(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.#pendingBufs = null;
    this.#pendingBytes = 0;
    this.#pendingStr = '';
    if (this.#handle !== null) {
      this.#error = error;
      this.#closeHandle();
    } else this.#socket!.destroy(error);
  }

  #closeHandle(): void {
    const h = this.#handle!;
    this.closed = true;
    // Stryker disable next-line CallExpression: closing the handle stops its reading too; stopping first is only explicit
    h.readStop();
    h.close(onHandleClosed);
  }

  /**
   * Registers a callback for when the connection has closed (used by servers to track connections). It is
   * given the connection, so one function can serve every connection (no closure per connection).
   */
  onceClosed(fn: CloseListener): void {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the first callback kept in the array instead is called in the same order
    if (this.#closeListener === null) this.#closeListener = fn;
    // Stryker disable next-line EqualityOperator: the same
    else if (this.#closeListeners === null) this.#closeListeners = [fn];
    else this.#closeListeners.push(fn);
  }

  /** Calls and forgets the close callbacks. */
  #fireClose(err: Error | undefined): void {
    const first = this.#closeListener;
    const rest = this.#closeListeners;
    this.#closeListener = null;
    this.#closeListeners = null;
    if (first !== null) first(err, this);
    if (rest !== null) for (const fn of rest) fn(err, this);
  }

  /**
   * Detaches the socket from this wrapper (for libraries that want a raw socket, such as `ws`'s
   * `handleUpgrade`). The connection stops tracking it; the caller owns it from now on.
   */
  detach(): Socket {
    this.flush();
    const s = this.socket;
    readIntoStream(s); // the new owner gets a plain Readable
    s.removeAllListeners('data');
    s.removeAllListeners('end');
    this.sweeper.delete(this);
    this.closed = true;
    s.removeAllListeners('close');
    s.once('close', () => this.#fireClose(undefined));
    return s;
  }

  #closed(): void {
    const s = this.#socket as (Socket & { errored?: Error | null }) | null;
    const err = s === null ? this.#error : (s.errored ?? undefined);
    this.closed = true;
    this.sweeper.delete(this);
    this.#handler.onClose?.(err);
    // Stryker disable next-line ConditionalExpression: a speed guard — publishing to no subscriber does nothing
    if (CONNECTION_CLOSE.hasSubscribers) CONNECTION_CLOSE.publish({ connection: this, error: err });
    this.#fireClose(err);
  }
}
