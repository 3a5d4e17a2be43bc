/**
 * HTTP/2 servers: h2c with prior knowledge, and one port that serves HTTP/1.1 and HTTP/2 together —
 * chosen by ALPN under TLS (`h2`, falling back to `http/1.1`), by the connection preface in cleartext.
 */
import { Server, type ConnectionHandler, type ServerOptions } from '../net/index.js';
import { FRESH_LINGER_MS, Http1Connection, type Http1Handler, type Http1ServerOptions, type Http1Request, type Http1Response, type UpgradeHandler } from '../http1/index.js';
import { Http2Session, PREFACE, type Http2SessionOptions } from './session.js';
import { Http2ProtocolError } from './errors.js';
import type { Http2Response } from './response.js';

/** A handler for both protocols: the response is an `Http1Response` or an `Http2Response` (same surface). */
export type AnyHandler = (req: Http1Request, res: Http1Response | Http2Response) => void | Promise<unknown>;

/**
 * An HTTP/2-only server (h2c with prior knowledge, or h2 when `tls` is given).
 *
 * @example
 * ```ts
 * const server = createHttp2Server((req, res) => res.end(`hello over ${req.httpVersion}`));
 * await server.listen({ port: 8080 }); // curl --http2-prior-knowledge http://localhost:8080/
 * ```
 */
export function createHttp2Server(
  handler: (req: Http1Request, res: Http2Response) => void | Promise<unknown>,
  options: Http2SessionOptions & Omit<ServerOptions, 'onConnection'> = {},
): Server {
  const tls = options.tls ? { ...options.tls, ALPNProtocols: ['h2'] } : undefined;
  return new Server({ ...options, tls, onConnection: (conn) => new Http2Session(conn, handler, options) });
}

/**
 * An `onUpgrade` handler for HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2; deprecated by RFC 9113 §3.1 but still
 * sent by curl --http2 on cleartext): answers 101, then serves the request as stream 1 over HTTP/2.
 * Declines (returns false) for other upgrades, or when HTTP2-Settings is missing or repeated.
 *
 * @example
 * ```ts
 * const server = createHttp1Server(handler, { onUpgrade: h2cUpgrade(handler) });
 * // curl --http2 http://127.0.0.1:8080/ now talks HTTP/2 after the 101
 * ```
 */
export function h2cUpgrade(handler: (req: Http1Request, res: Http2Response) => void | Promise<unknown>, options: Http2SessionOptions = {}): UpgradeHandler {
  return (req, conn, head) => {
    if (!req.get('upgrade')?.split(',').some((t) => t.trim().toLowerCase() === 'h2c')) return false;
    const settings = req.getAll('http2-settings');
    if (settings.length !== 1 || !req.get('connection')?.toLowerCase().includes('http2-settings')) return false;
    let payload: Buffer;
    try {
      payload = Buffer.from(settings[0]!, 'base64url');
      if (payload.length % 6 !== 0) return false;
    } catch {
      return false;
    }
    conn.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
    const session = new Http2Session(conn, handler, options);
    try {
      session.adoptUpgrade(req, payload);
    } catch (err) {
      if (!(err instanceof Http2ProtocolError)) throw err;
      conn.destroy(err);
      return true;
    }
    conn.setHandler(session, head);
    return true;
  };
}

/**
 * HTTP/1.1 and HTTP/2 on one port. Under TLS the protocol comes from ALPN; in cleartext a connection that
 * starts with the HTTP/2 preface is HTTP/2 (prior knowledge), anything else HTTP/1.1, which may still
 * switch with `Upgrade: h2c`.
 *
 * @example
 * ```ts
 * const server = createServer((req, res) => res.end(`you speak HTTP/${req.httpVersion}`));
 * await server.listen({ port: 3000 });
 * ```
 */
export function createServer(handler: AnyHandler, options: Http1ServerOptions & Http2SessionOptions = {}): Server {
  const tls = options.tls ? { ...options.tls, ALPNProtocols: ['h2', 'http/1.1'] } : undefined;
  // HTTP/1.1 connections may also switch with Upgrade: h2c; other upgrades go to the caller's handler.
  const h2c = h2cUpgrade(handler, options);
  const user = options.onUpgrade;
  options = { ...options, onUpgrade: (req, conn, head) => h2c(req, conn, head) || (user?.(req, conn, head) ?? false) };
  return new Server({
    ...options,
    tls,
    onConnection: (conn) => {
      if (tls) {
        return conn.alpnProtocol === 'h2' ? new Http2Session(conn, handler, options) : new Http1Connection(conn, handler as Http1Handler, options);
      }
      // Cleartext: look at the first bytes (the preface is 24 bytes; its first 3 already tell "PRI").
      let seen: Buffer = Buffer.alloc(0);
      /** The server began closing before this connection said anything: its idleLingerMs. */
      let closing: number | null = null;
      const sniff: ConnectionHandler = {
        onData(chunk) {
          seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
          const n = Math.min(seen.length, PREFACE.length);
          const isH2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
          if (isH2 && seen.length < PREFACE.length) return; // need more to be sure
          if (isH2) {
            const session = new Http2Session(conn, handler, options);
            conn.setHandler(session, seen);
            if (closing !== null) session.onShutdown(); // after its preface: the streams it opened are served, then GOAWAY
          } else {
            const h1 = new Http1Connection(conn, handler as Http1Handler, options);
            if (closing !== null) h1.onShutdown(closing); // before its first request: answered, then Connection: close
            conn.setHandler(h1, seen);
          }
        },
        // A connection made just before a graceful close that has sent nothing yet: its first request is
        // most likely on its way, so it is waited for (see Http1Connection.onShutdown), not cut off.
        onShutdown(idleLingerMs) {
          closing = idleLingerMs;
          conn.setTimeout('idle', Math.max(idleLingerMs, FRESH_LINGER_MS));
        },
      };
      conn.setTimeout('headers', options.headersTimeout ?? 20_000);
      return sniff;
    },
  });
}
