import net from 'node:net';
import tls from 'node:tls';
import { Connection, FAST_PATHS_DEFAULT, type ConnectionHandler, type ConnectionOptions } from './connection.js';
import { asRawHandle, errnoError, handleIoAvailable, type RawHandle } from './handle-io.js';
import { SlotSet } from './slot-set.js';
import { defaultSweeper, type TimeoutSweeper } from './timeout-sweeper.js';
import type { BufferPool } from './buffer-pool.js';

/** TLS settings; everything `tls.createServer` accepts, plus the ALPN list we offer. */
export interface TlsOptions extends tls.TlsOptions {
  /** Protocols offered via ALPN, in our order of preference, e.g. `['h2', 'http/1.1']`. */
  ALPNProtocols?: string[];
}

export interface ServerOptions extends ConnectionOptions {
  /**
   * Called for each accepted connection; returns the protocol handler. The connection's
   * `alpnProtocol` tells which protocol TLS negotiated.
   */
  onConnection: (conn: Connection) => ConnectionHandler;
  /** Serve TLS instead of plain TCP. */
  tls?: TlsOptions;
  /** Refuse connections beyond this many (they are closed at once). Default: unlimited. */
  maxConnections?: number;
  /** Called for server-level errors that have no connection (listen failures are thrown by `listen`). */
  onError?: (err: Error) => void;
  pool?: BufferPool;
  sweeper?: TimeoutSweeper;
}

export interface ListenOptions {
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Host to bind: `'127.0.0.1'`, `'::'` (IPv6 + IPv4 unless `ipv6Only`), ... Default `'::'` falling back to `'0.0.0.0'`. */
  host?: string;
  /** Unix socket path (instead of port/host). */
  path?: string;
  ipv6Only?: boolean;
  backlog?: number;
  /** Share the port between cluster workers (default true when running in a cluster worker). */
  exclusive?: boolean;
}

export interface CloseOptions {
  /** Hard deadline in ms after which remaining connections are destroyed. Default 30 000. */
  graceMs?: number;
  /**
   * How long an idle keep-alive connection stays open after the close began (default 0: closed at once).
   * A client may be sending its next request on it right then; kept open, that request gets an answer
   * (HTTP/1.1: 503 with `Connection: close` and `Retry-After`) instead of a reset connection. Set it to
   * the keep-alive timeout the server advertises and no client that honours it races the close.
   */
  idleLingerMs?: number;
}

/**
 * A TCP/TLS/unix-socket server that wraps each socket in a {@link Connection} and tracks them for
 * limits and graceful shutdown.
 *
 * @example
 * ```ts
 * import { Server } from 'covet/net';
 * const server = new Server({
 *   onConnection: (conn) => ({ onData: (chunk) => { conn.write(chunk); } }), // echo
 * });
 * const addr = await server.listen({ port: 7000, host: '127.0.0.1' });
 * // ...
 * await server.close({ graceMs: 5000 });
 * ```
 */
export class Server {
  readonly options: ServerOptions;
  /** The open connections (a `SlotSet`: no rehashing as connections come and go). */
  readonly connections = new SlotSet<Connection>();
  readonly sweeper: TimeoutSweeper;
  /** Connections refused because of `maxConnections`. */
  refused = 0;
  #server: net.Server;
  #closing: Promise<void> | null = null;
  /** While closing: asks a connection to finish what it has, and counts it in the close. */
  #shutdown: ((c: Connection) => void) | null = null;
  #listening = false;
  /** One close callback for every connection (none made per connection). */
  readonly #untrack = (_err: Error | undefined, c: Connection): void => void this.connections.delete(c);

  constructor(options: ServerOptions) {
    this.options = options;
    this.sweeper = options.sweeper ?? defaultSweeper;
    const onSocket = (socket: net.Socket): void => this.#accept(socket);
    if (options.tls) {
      const t = options.tls;
      this.#server = tls.createServer({ allowHalfOpen: true, ...t, ALPNProtocols: t.ALPNProtocols }, onSocket);
      // TLS handshake failures are per-connection noise, not server errors.
      this.#server.on('tlsClientError', (_err: Error, socket: net.Socket) => socket.destroy());
    } else {
      // allowHalfOpen: a client's FIN must not cut off the responses it is still owed (RFC 9112 §9.6).
      this.#server = net.createServer({ noDelay: true, allowHalfOpen: true }, onSocket);
    }
    this.#server.on('error', (err: Error) => options.onError?.(err));
  }

  /**
   * The underlying `net.Server` / `tls.Server` (for options this wrapper does not expose). Plain TCP and
   * unix-socket connections are taken from its accept callback as bare handles (handle-io.ts; not with `fastPaths:
   * false`), so for them it emits no `'connection'` event and `getConnections()` counts none: use
   * {@link connections}.
   */
  get raw(): net.Server {
    return this.#server;
  }

  #accept(transport: net.Socket | RawHandle): void {
    const max = this.options.maxConnections;
    if (max !== undefined && this.connections.size >= max) {
      this.refused++;
      if (transport instanceof net.Socket) transport.destroy();
      else transport.close();
      return;
    }
    let conn: Connection | null = null;
    // The real handler needs the Connection, so it is created with a forwarding stub and swapped in.
    conn = new Connection(transport, { onData() {} }, this.options);
    const c = conn;
    this.connections.add(c);
    c.onceClosed(this.#untrack);
    try {
      c.setHandler(this.options.onConnection(c));
    } catch (err) {
      c.destroy(err as Error);
      return;
    }
    // Accepted while closing (a cluster worker can be handed one as it stops): its client connected
    // before the port went away, so it is asked to finish like the others, not dropped.
    this.#shutdown?.(c);
  }

  /** Starts listening; resolves with the bound address. */
  listen(options: ListenOptions = {}): Promise<net.AddressInfo | string> {
    return new Promise((resolve, reject) => {
      const s = this.#server;
      const onError = (err: Error): void => {
        s.off('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        s.off('error', onError);
        this.#takeHandles();
        this.#listening = true;
        this.sweeper.ref();
        const a = s.address();
        resolve(a === null ? '' : a);
      };
      s.once('error', onError);
      s.once('listening', onListening);
      if (options.path !== undefined) {
        s.listen({ path: options.path, backlog: options.backlog, exclusive: options.exclusive });
      } else {
        s.listen({
          port: options.port ?? 0,
          host: options.host,
          ipv6Only: options.ipv6Only,
          backlog: options.backlog,
          exclusive: options.exclusive,
        });
      }
    });
  }

  /**
   * Accepted TCP and unix-socket connections go to a {@link Connection} as bare handles, skipping the `net.Socket` Node
   * would make (handle-io.ts): its accept callback on the listening handle — a real TCP handle, or in a
   * cluster worker the stand-in Node's round-robin hands connections through — is replaced by ours.
   */
  #takeHandles(): void {
    if (this.options.tls || !(this.options.fastPaths ?? FAST_PATHS_DEFAULT) || !handleIoAvailable()) return;
    const listening = (this.#server as unknown as { _handle?: { onconnection?: unknown } | null })._handle;
    if (listening == null || typeof listening.onconnection !== 'function') return;
    listening.onconnection = (err: number, handle: unknown): void => {
      if (err !== 0) {
        this.options.onError?.(errnoError(err, 'accept'));
        return;
      }
      const raw = asRawHandle(handle);
      this.#accept(raw ?? new net.Socket({ handle, allowHalfOpen: true, readable: true, writable: true } as net.SocketConstructorOpts));
    };
  }

  /** The bound address (`{address, port, family}`), or the socket path. */
  address(): net.AddressInfo | string | null {
    return this.#server.address();
  }

  get closing(): boolean {
    return this.#closing !== null;
  }

  /**
   * Graceful close: stop accepting, ask every connection to finish what is in flight (`onShutdown`: idle
   * keep-alive connections close at once, or after `idleLingerMs`), and destroy whatever remains after
   * `graceMs`.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const graceMs = options.graceMs ?? 30_000;
    this.#closing = new Promise<void>((resolve) => {
      const finish = (): void => {
        if (this.#listening) {
          this.#listening = false;
          this.sweeper.unref();
        }
        resolve();
      };
      let listenerClosed = !this.#server.listening;
      const maybeDone = (): void => {
        if (listenerClosed && this.connections.size === 0) {
          clearTimeout(hard);
          finish();
        }
      };
      const hard = setTimeout(() => {
        for (const c of this.connections) c.destroy();
      }, graceMs);
      hard.unref();
      if (!listenerClosed) {
        this.#server.close(() => {
          listenerClosed = true;
          maybeDone();
        });
      }
      this.#shutdown = (c) => {
        c.onceClosed(maybeDone);
        const h = c.handler;
        if (h.onShutdown !== undefined) {
          try {
            h.onShutdown(Math.min(options.idleLingerMs ?? 0, graceMs));
            c.flush();
          } catch (err) {
            c.destroy(err as Error);
          }
        } else c.end();
      };
      for (const c of this.connections) this.#shutdown(c);
      maybeDone();
    });
    return this.#closing;
  }
}
