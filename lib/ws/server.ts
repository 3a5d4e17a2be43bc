/**
 * Serving WebSocket on the HTTP/1.1 server's Upgrade hand-off: handshake validation, a verify hook (origin,
 * auth) that may refuse with any HTTP status before upgrading, subprotocol and permessage-deflate
 * negotiation, and the bytes that came after the handshake fed to the new connection.
 */
import type { Connection, ConnectionHandler, Server } from '../net/index.js';
import { createHttp1Server, STATUS_TEXT, type Http1Request, type Http1ServerOptions, type UpgradeHandler, type Http1Handler } from '../http1/index.js';
import { checkUpgrade, selectProtocol, switchingProtocols } from './handshake.js';
import { acceptOffer, PerMessageDeflate, type PerMessageDeflateOptions } from './permessage-deflate.js';
import { WebSocket, type WebSocketOptions } from './websocket.js';

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
    const finish = (verdict: true | Refusal): void => {
      if (conn.closed) return;
      if (verdict !== true) {
        refuse(conn, verdict);
        return;
      }
      const protocol = options.protocols === undefined ? undefined : selectProtocol(req.get('sec-websocket-protocol'), options.protocols);
      const negotiated = deflateOpts === undefined ? null : acceptOffer(req.get('sec-websocket-extensions'), deflateOpts);
      conn.write(switchingProtocols(check.key, protocol, negotiated?.response));
      const ws = new WebSocket(conn, 'server', {
        ...options,
        protocol,
        extensions: negotiated?.response,
        deflate: negotiated === null ? null : new PerMessageDeflate(negotiated.params, 'server', deflateOpts),
      });
      options.onConnection(ws, req);
      conn.setHandler(ws, pending.length === 0 ? undefined : Buffer.concat(pending));
    };
    let verdict: true | Refusal | Promise<true | Refusal> = true;
    try {
      verdict = options.verify === undefined ? true : options.verify(req);
    } catch {
      verdict = { status: 500 };
    }
    if (verdict instanceof Promise) verdict.then(finish, () => finish({ status: 500 }));
    else finish(verdict);
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
