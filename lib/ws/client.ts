import net from 'node:net';
import tls from 'node:tls';
import { Connection } from '../net/index.js';
import { Http1Parser, type MessageHead } from '../http1/index.js';
import { acceptKey, generateKey } from './handshake.js';
import { acceptResponse, clientOffer, PerMessageDeflate, type PerMessageDeflateOptions } from './permessage-deflate.js';
import { WebSocket, type WebSocketOptions } from './websocket.js';

export interface ConnectOptions extends WebSocketOptions {
  protocols?: string[];
  headers?: Record<string, string>;
  /** Offer permessage-deflate. Default false. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** TLS options for `wss:` (ca, servername, rejectUnauthorized, ...). */
  tls?: tls.ConnectionOptions;
  /** Give up on the handshake after this many ms. Default 10 000. */
  handshakeTimeout?: number;
}

/**
 * The handshake failed: `status` is the HTTP status the server answered (0 when there was none).
 *
 * @example
 * ```ts
 * try {
 *   await connectWebSocket('ws://127.0.0.1:8080/chat');
 * } catch (err) {
 *   if (err instanceof HandshakeError && err.status === 401) console.log('sign in first');
 * }
 * ```
 */
export class HandshakeError extends Error {
  readonly status: number;
  constructor(message: string, status = 0) {
    super(message);
    this.name = 'HandshakeError';
    this.status = status;
  }
}

/**
 * A WebSocket client (RFC 6455 §4.1): connects over TCP or TLS, sends the opening handshake, checks the
 * answer (status 101, Sec-WebSocket-Accept, subprotocol, extensions), and returns a {@link WebSocket} in
 * the client role (masked frames), with any bytes that followed the 101 already fed to it.
 *
 * @example
 * ```ts
 * import { connectWebSocket } from 'covet/ws';
 * const ws = await connectWebSocket('ws://127.0.0.1:8080/chat', { protocols: ['chat.v1'] });
 * ws.on('message', (data) => console.log(data.toString()));
 * ws.send('hello');
 * ```
 */
export function connectWebSocket(url: string, options: ConnectOptions = {}): Promise<WebSocket> {
  const u = new URL(url);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return Promise.reject(new TypeError(`not a WebSocket URL: ${url}`));
  const secure = u.protocol === 'wss:';
  const port = Number(u.port || (secure ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const key = generateKey();
  const deflateOpts = options.perMessageDeflate === true ? {} : options.perMessageDeflate === false ? undefined : options.perMessageDeflate;
  let req = `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (options.protocols?.length) req += `Sec-WebSocket-Protocol: ${options.protocols.join(', ')}\r\n`;
  if (deflateOpts !== undefined) req += `Sec-WebSocket-Extensions: ${clientOffer(deflateOpts)}\r\n`;
  for (const [k, v] of Object.entries(options.headers ?? {})) req += `${k}: ${v}\r\n`;
  req += '\r\n';

  return new Promise((resolve, reject) => {
    const socket = secure ? tls.connect({ host, port, servername: host, ...options.tls }) : net.connect(port, host);
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      conn.destroy();
      reject(err);
    };
    let head: MessageHead | null = null;
    const parser = new Http1Parser('response', {
      onHeadersComplete(h) {
        head = h;
      },
      onBody() {},
      onMessageComplete() {},
    });
    const conn = new Connection(socket, {
      onData(chunk) {
        let used: number;
        try {
          used = parser.execute(chunk);
        } catch (err) {
          fail(new HandshakeError(`invalid handshake response: ${(err as Error).message}`));
          return;
        }
        if (head === null || head.statusCode === 100) return;
        const h = head as MessageHead;
        const get = (name: string): string | undefined => {
          for (let i = 0; i < h.headers.length; i += 2) if (h.headers[i]!.toLowerCase() === name) return h.headers[i + 1];
          return undefined;
        };
        if (h.statusCode !== 101) return fail(new HandshakeError(`server answered ${h.statusCode} ${h.statusMessage}`, h.statusCode));
        if (get('upgrade')?.toLowerCase() !== 'websocket') return fail(new HandshakeError('missing Upgrade: websocket', 101));
        if (get('sec-websocket-accept') !== acceptKey(key)) return fail(new HandshakeError('wrong Sec-WebSocket-Accept', 101));
        const protocol = get('sec-websocket-protocol');
        if (protocol !== undefined && !options.protocols?.includes(protocol)) return fail(new HandshakeError(`server chose unoffered subprotocol ${protocol}`, 101));
        const ext = get('sec-websocket-extensions');
        let deflate: PerMessageDeflate | null = null;
        if (ext !== undefined) {
          if (deflateOpts === undefined) return fail(new HandshakeError(`server chose unoffered extensions ${ext}`, 101));
          try {
            deflate = new PerMessageDeflate(acceptResponse(ext, deflateOpts), 'client', deflateOpts);
          } catch (err) {
            return fail(new HandshakeError((err as Error).message, 101));
          }
        }
        settled = true;
        const ws = new WebSocket(conn, 'client', { ...options, protocol, extensions: ext, deflate });
        // Frames that came with the handshake answer wait until the caller has the socket and its
        // listeners (a message sent on open must not be emitted to nobody); reading stays paused so
        // later bytes cannot overtake them.
        const rest = Buffer.from(chunk.subarray(used));
        conn.setHandler(ws);
        conn.pauseReading();
        resolve(ws);
        setImmediate(() => {
          if (rest.length > 0) conn.setHandler(ws, rest);
          conn.resumeReading();
        });
      },
      onClose() {
        fail(new HandshakeError('connection closed during the handshake'));
      },
      onTimeout() {
        fail(new HandshakeError('handshake timed out'));
      },
    });
    conn.setTimeout('headers', options.handshakeTimeout ?? 10_000);
    socket.once(secure ? 'secureConnect' : 'connect', () => conn.write(req));
  });
}
