/**
 * Serving WebSocket on the HTTP/1.1 server's Upgrade hand-off: handshake validation, a verify hook (origin,
 * auth) that may refuse with any HTTP status before upgrading, subprotocol and permessage-deflate
 * negotiation, and the bytes that came after the handshake fed to the new connection.
 */
import type { Connection, ConnectionHandler, Server } from '../net/index.js';
import { createHttp1Server, STATUS_TEXT, type Http1Request, type Http1ServerOptions, type UpgradeHandler, type Http1Handler } from '../http1/index.js';
import { checkUpgrade, selectProtocol, switchingProtocols } from './handshake.js';
import { acceptOffer, PerMessageDeflate, type PerMessageDeflateOptions } from './permessage-deflate.js';
import { WebSocket, type WebSocketOptions, type WsTransport } from './websocket.js';

/** The verify hook's refusal: an HTTP answer instead of the upgrade. */
export interface Refusal {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** What a connection negotiates and how it behaves; the server's, or a verify hook's for one request. */
export interface WsConnectionOptions extends WebSocketOptions {
  /** Subprotocols we speak (the first the client offers that is here is chosen), or a chooser over the client's list. */
  protocols?: readonly string[] | ((offered: string[]) => string | undefined);
  /** permessage-deflate: false (default), true, or parameters. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/**
 * A verify hook's acceptance with settings of its own for this connection (an app routing several
 * WebSocket endpoints through one server): they replace the server's, and `onConnection` is called
 * instead of the server's.
 */
export interface WsAccept {
  options?: WsConnectionOptions;
  onConnection?: (ws: WebSocket, req: Http1Request) => void;
}

/** A verify hook's answer: accept (`true`, or with per-connection settings), or refuse with an HTTP answer. */
export type WsVerdict = true | Refusal | WsAccept;

export interface WsServerOptions extends WsConnectionOptions {
  /** Only upgrade requests for these paths (exact match); others get 404. Default: any path. */
  paths?: readonly string[];
  /** Check origin, authentication, ... before upgrading. Return true to accept, a refusal, or an acceptance with settings. */
  verify?: (req: Http1Request) => WsVerdict | Promise<WsVerdict>;
  /** Bytes the client may send while `verify` runs (they are kept for the connection). Default 64 KiB. */
  maxPendingBytes?: number;
  /** A new connection, open and ready. */
  onConnection: (ws: WebSocket, req: Http1Request) => void;
}

function refuse(conn: Connection, r: Refusal): void {
  const body = r.body ?? `${r.status} ${STATUS_TEXT[r.status] ?? ''}\n`;
  const headers = r.headers ?? {};
  const typed = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  let head = `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? 'Error'}\r\nConnection: close\r\n${typed ? '' : 'Content-Type: text/plain; charset=utf-8\r\n'}Content-Length: ${Buffer.byteLength(body)}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  conn.write(`${head}\r\n`);
  conn.write(body, 'utf8');
  conn.end();
}

/**
 * An `onUpgrade` handler for `createHttp1Server` that turns `Upgrade: websocket` requests into
 * {@link WebSocket}s. Other upgrades are declined (answered by the normal handler).
 *
 * @example
 * ```ts
 * const server = createHttp1Server(httpHandler, {
 *   onUpgrade: webSocketUpgrade({ onConnection: (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })) }),
 * });
 * ```
 */
export function webSocketUpgrade(options: WsServerOptions): UpgradeHandler {
  const deflateOpts = deflateOf(options);
  return (req, conn, head) => {
    if (!req.get('upgrade')?.toLowerCase().split(',').some((t) => t.trim() === 'websocket')) return false;
    const path = req.path;
    if (options.paths !== undefined && !options.paths.includes(path)) {
      refuse(conn, { status: 404 });
      return true;
    }
    const check = checkUpgrade(req);
    if (!check.ok) {
      refuse(conn, { status: check.status, headers: check.headers, body: `${check.reason}\n` });
      return true;
    }
    // Keep what the client sends while we decide (bounded), then hand it to the WebSocket.
    const pending: Buffer[] = head.length > 0 ? [head] : [];
    let pendingBytes = head.length;
    const limit = options.maxPendingBytes ?? 64 * 1024;
    const holding: ConnectionHandler = {
      onData(chunk) {
        pendingBytes += chunk.length;
        if (pendingBytes > limit) conn.destroy();
        else pending.push(chunk);
      },
    };
    conn.setHandler(holding);
    conn.setTimeout('headers', 30_000); // a verify hook that never answers must not hold the socket
    runVerify(options, req, (verdict) => {
      if (conn.closed) return;
      if (isRefusal(verdict)) {
        refuse(conn, verdict);
        return;
      }
      const o = verdict === true || verdict.options === undefined ? options : verdict.options;
      const n = negotiate(req, o, o === options ? deflateOpts : deflateOf(o));
      conn.write(switchingProtocols(check.key, n.protocol, n.extensions));
      const ws = new WebSocket(conn, 'server', { ...o, protocol: n.protocol, extensions: n.extensions, deflate: n.deflate });
      ((verdict !== true && verdict.onConnection) || options.onConnection)(ws, req);
      conn.setHandler(ws, pending.length === 0 ? undefined : Buffer.concat(pending));
    });
    return true;
  };
}

function isRefusal(v: WsVerdict): v is Refusal {
  return v !== true && typeof (v as Partial<Refusal>).status === 'number';
}

function deflateOf(o: WsConnectionOptions): PerMessageDeflateOptions | undefined {
  return o.perMessageDeflate === true ? {} : o.perMessageDeflate === false ? undefined : o.perMessageDeflate;
}

/** Runs the verify hook (sync or async), reporting a throw or rejection as a 500 refusal. */
function runVerify(options: WsServerOptions, req: Http1Request, then: (verdict: WsVerdict) => void): void {
  let verdict: WsVerdict | Promise<WsVerdict> = true;
  try {
    verdict = options.verify === undefined ? true : options.verify(req);
  } catch {
    verdict = { status: 500 };
  }
  if (verdict instanceof Promise) verdict.then(then, () => then({ status: 500 }));
  else then(verdict);
}

/** Subprotocol and permessage-deflate negotiation (the same on HTTP/1.1 and HTTP/2). */
function negotiate(req: Http1Request, options: WsConnectionOptions, deflateOpts: PerMessageDeflateOptions | undefined) {
  const protocol = options.protocols === undefined ? undefined : selectProtocol(req.get('sec-websocket-protocol'), options.protocols);
  const negotiated = deflateOpts === undefined ? null : acceptOffer(req.get('sec-websocket-extensions'), deflateOpts);
  return {
    protocol,
    extensions: negotiated?.response,
    deflate: negotiated === null ? null : new PerMessageDeflate(negotiated.params, 'server', deflateOpts),
  };
}

/** An HTTP/2 stream opened with extended CONNECT, as `covet/http2` hands it over (structurally). */
export interface ConnectTunnel extends WsTransport {
  handler: ConnectionHandler | null;
  respond(status: number, headers?: Record<string, string>): void;
}

/**
 * WebSocket over HTTP/2 (RFC 8441): an `onConnect` handler for `covet/http2` servers. The client opens
 * a stream with `:method CONNECT`, `:protocol websocket`; we answer 200 and the stream carries the
 * WebSocket frames, with every feature of the HTTP/1.1 path (verify hook, subprotocols, deflate).
 *
 * @example
 * ```ts
 * import { createServer } from 'covet/http2';
 * const onConnection = (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b }));
 * createServer(handler, { onUpgrade: webSocketUpgrade({ onConnection }), onConnect: webSocketOverHttp2({ onConnection }) });
 * ```
 */
export function webSocketOverHttp2(options: WsServerOptions): (req: Http1Request, protocol: string, tunnel: ConnectTunnel) => boolean {
  const deflateOpts = deflateOf(options);
  return (req, protocol, tunnel) => {
    if (protocol !== 'websocket') return false;
    if (options.paths !== undefined && !options.paths.includes(req.path)) {
      tunnel.respond(404);
      return true;
    }
    // RFC 8441 §5: no Sec-WebSocket-Key/Accept; the version is still checked (RFC 6455 §4.4).
    if (req.get('sec-websocket-version')?.trim() !== '13') {
      tunnel.respond(426, { 'sec-websocket-version': '13' });
      return true;
    }
    runVerify(options, req, (verdict) => {
      if (isRefusal(verdict)) {
        tunnel.respond(verdict.status, verdict.headers);
        return;
      }
      const o = verdict === true || verdict.options === undefined ? options : verdict.options;
      const n = negotiate(req, o, o === options ? deflateOpts : deflateOf(o));
      const headers: Record<string, string> = {};
      if (n.protocol !== undefined) headers['sec-websocket-protocol'] = n.protocol;
      if (n.extensions !== undefined) headers['sec-websocket-extensions'] = n.extensions;
      tunnel.respond(200, headers);
      const ws = new WebSocket(tunnel, 'server', { ...o, protocol: n.protocol, extensions: n.extensions, deflate: n.deflate });
      tunnel.handler = ws;
      ((verdict !== true && verdict.onConnection) || options.onConnection)(ws, req);
    });
    return true;
  };
}

/**
 * An HTTP/1.1 server that speaks WebSocket (and answers 426 Upgrade Required to plain HTTP requests
 * unless `handler` is given).
 *
 * @example
 * ```ts
 * import { createWsServer } from 'covet/ws';
 * const server = createWsServer({ onConnection: (ws) => ws.on('message', (d, bin) => ws.send(d, { binary: bin })) });
 * await server.listen({ port: 8080 });
 * ```
 */
export function createWsServer(options: WsServerOptions & Http1ServerOptions & { handler?: Http1Handler }): Server {
  const handler: Http1Handler =
    options.handler ??
    ((_req, res) => {
      res.statusCode = 426;
      res.setHeader('Upgrade', 'websocket');
      res.setHeader('Content-Type', 'text/plain');
      res.end('426 Upgrade Required: this endpoint speaks WebSocket\n');
    });
  return createHttp1Server(handler, { ...options, onUpgrade: webSocketUpgrade(options) });
}
