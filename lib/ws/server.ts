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

export interface WsServerOptions extends WebSocketOptions {
  /** Only upgrade requests for these paths (exact match); others get 404. Default: any path. */
  paths?: readonly string[];
  /** Subprotocols we speak, in preference order, or a chooser over the client's list. */
  protocols?: readonly string[] | ((offered: string[]) => string | undefined);
  /** permessage-deflate: false (default), true, or parameters. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Check origin, authentication, ... before upgrading. Return true to accept, or a refusal. */
  verify?: (req: Http1Request) => true | Refusal | Promise<true | Refusal>;
  /** Bytes the client may send while `verify` runs (they are kept for the connection). Default 64 KiB. */
  maxPendingBytes?: number;
  /** A new connection, open and ready. */
  onConnection: (ws: WebSocket, req: Http1Request) => void;
}

function refuse(conn: Connection, r: Refusal): void {
  const body = r.body ?? `${r.status} ${STATUS_TEXT[r.status] ?? ''}\n`;
  let head = `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  for (const [k, v] of Object.entries(r.headers ?? {})) head += `${k}: ${v}\r\n`;
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
  const deflateOpts = options.perMessageDeflate === true ? {} : options.perMessageDeflate === false ? undefined : options.perMessageDeflate;
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
      if (verdict !== true) {
        refuse(conn, verdict);
        return;
      }
      const n = negotiate(req, options, deflateOpts);
      conn.write(switchingProtocols(check.key, n.protocol, n.extensions));
      const ws = new WebSocket(conn, 'server', { ...options, protocol: n.protocol, extensions: n.extensions, deflate: n.deflate });
      options.onConnection(ws, req);
      conn.setHandler(ws, pending.length === 0 ? undefined : Buffer.concat(pending));
    });
    return true;
  };
}

/** Runs the verify hook (sync or async), reporting a throw or rejection as a 500 refusal. */
function runVerify(options: WsServerOptions, req: Http1Request, then: (verdict: true | Refusal) => void): void {
  let verdict: true | Refusal | Promise<true | Refusal> = true;
  try {
    verdict = options.verify === undefined ? true : options.verify(req);
  } catch {
    verdict = { status: 500 };
  }
  if (verdict instanceof Promise) verdict.then(then, () => then({ status: 500 }));
  else then(verdict);
}

/** Subprotocol and permessage-deflate negotiation (the same on HTTP/1.1 and HTTP/2). */
function negotiate(req: Http1Request, options: WsServerOptions, deflateOpts: PerMessageDeflateOptions | undefined) {
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
  const deflateOpts = options.perMessageDeflate === true ? {} : options.perMessageDeflate === false ? undefined : options.perMessageDeflate;
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
      if (verdict !== true) {
        tunnel.respond(verdict.status, verdict.headers);
        return;
      }
      const n = negotiate(req, options, deflateOpts);
      const headers: Record<string, string> = {};
      if (n.protocol !== undefined) headers['sec-websocket-protocol'] = n.protocol;
      if (n.extensions !== undefined) headers['sec-websocket-extensions'] = n.extensions;
      tunnel.respond(200, headers);
      const ws = new WebSocket(tunnel, 'server', { ...options, protocol: n.protocol, extensions: n.extensions, deflate: n.deflate });
      tunnel.handler = ws;
      options.onConnection(ws, req);
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
