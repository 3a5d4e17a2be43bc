/**
 * An HTTP/3 server: covet/quic's UDP endpoint with an `Http3Session` on each connection — the handler is
 * the same `(req, res)` one covet/http1 and covet/http2 call. TCP servers advertise it with
 * `Alt-Svc: h3=":port"` (`altSvc`), so browsers move over by themselves (RFC 9114 §3.1.1).
 */
import { createPrivateKey, KeyObject } from 'node:crypto';
import { QuicServer } from '../quic/endpoint.js';
import { pemCertificates } from '../tls13/server-flight.js';
import type { TransportParameters } from '../quic/transport-params.js';
import type { CipherSuite } from '../tls13/cipher-suite.js';
import { Http3Session, type Http3Handler, type Http3SessionOptions } from './session.js';

export interface Http3ServerOptions extends Omit<Http3SessionOptions, 'remoteAddress'> {
  /** PEM: the certificate chain (leaf first) and its P-256 private key. */
  cert: string | Buffer;
  key: string | Buffer | KeyObject;
  /** Connections at once. Default 10 000. */
  maxConnections?: number;
  /** Handshakes in progress past which new clients must prove their address with a Retry (0: always). Default 100. */
  retryAbove?: number;
  /** The key of stateless reset tokens: the same 32 bytes on every instance, so a restart resets old connections. */
  statelessResetKey?: Buffer;
  /** The key of address tokens (Retry, NEW_TOKEN): the same 32 bytes on every instance, so a returning client skips validation anywhere. */
  addressTokenKey?: Buffer;
  /** QUIC limits offered to each client (streams, flow control, idle timeout). */
  transportParameters?: Partial<TransportParameters>;
  /** The UDP socket's receive and send buffers, bytes (QuicServerOptions.socketBufferSize). Default 4 MiB. */
  socketBufferSize?: number;
  /** TLS 1.3 cipher suites served (`covet/tls13`); the client's first choice among them is taken. Default all three. */
  cipherSuites?: readonly CipherSuite[];
  /** Congestion control, 'cubic' (RFC 9438) or 'newreno' (RFC 9002). Default 'cubic'. */
  congestionControl?: 'newreno' | 'cubic';
}

/**
 * @example
 * ```ts
 * const h3 = createHttp3Server((req, res) => res.end(`hello over HTTP/${req.httpVersion}`), { cert, key });
 * await h3.listen({ port: 443, host: '0.0.0.0' });
 * ```
 */
export class Http3Server {
  readonly quic: QuicServer;
  /** Connections' sessions now. */
  readonly sessions = new Set<Http3Session>();
  #port = 0;

  constructor(handler: Http3Handler, o: Http3ServerOptions) {
    // Refused here, with the reason: without them every handshake would fail later, one by one.
    const chain = typeof o.cert === 'string' || Buffer.isBuffer(o.cert) ? pemCertificates(String(o.cert)) : [];
    if (chain.length === 0) throw new TypeError('HTTP/3: `cert` must be a PEM certificate chain, leaf first (the same one as TLS\'s)');
    if (typeof o.key !== 'string' && !Buffer.isBuffer(o.key) && !(o.key instanceof KeyObject)) throw new TypeError('HTTP/3: `key` must be the certificate\'s private key (PEM or a KeyObject)');
    const privateKey = o.key instanceof KeyObject ? o.key : createPrivateKey(o.key);
    this.quic = new QuicServer({
      certificateChain: chain,
      privateKey,
      alpn: ['h3'],
      maxConnections: o.maxConnections,
      retryAbove: o.retryAbove,
      statelessResetKey: o.statelessResetKey,
      addressTokenKey: o.addressTokenKey,
      transportParameters: o.transportParameters,
      socketBufferSize: o.socketBufferSize,
      cipherSuites: o.cipherSuites,
      congestionControl: o.congestionControl,
      onConnection: (conn, address) => {
        const session = new Http3Session(conn, handler, { ...o, remoteAddress: address });
        this.sessions.add(session);
        conn.onClosed = () => this.sessions.delete(session);
      },
    });
  }

  /** Open connections. */
  get connections(): number {
    return this.quic.connections;
  }

  async listen(options: { port?: number; host?: string } = {}): Promise<{ port: number; address: string }> {
    const a = await this.quic.listen(options);
    this.#port = a.port;
    return a;
  }

  /** The UDP port listened on (0 before `listen`). */
  get port(): number {
    return this.#port;
  }

  /** GOAWAY to every connection (requests in flight finish), then the socket closes once they are done or after `graceMs`. */
  async close(graceMs = 5000): Promise<void> {
    for (const s of this.sessions) s.goaway();
    const until = Date.now() + graceMs;
    while (this.quic.connections > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await this.quic.close();
  }
}

/**
 * `createHttp3Server(handler, { cert, key })`: see `Http3Server`.
 *
 * @example
 * ```ts
 * const h3 = createHttp3Server((req, res) => res.end('hi'), { cert: readFileSync('cert.pem'), key: readFileSync('key.pem') });
 * await h3.listen({ port: 443 });
 * ```
 */
export function createHttp3Server(handler: Http3Handler, options: Http3ServerOptions): Http3Server {
  return new Http3Server(handler, options);
}

/**
 * The Alt-Svc field value that points clients at an HTTP/3 listener on `port` (RFC 7838, RFC 9114 §3.1.1).
 *
 * @example
 * ```ts
 * res.setHeader('alt-svc', altSvc(443)); // h3=":443"; ma=86400
 * ```
 */
export function altSvc(port: number, maxAgeSeconds = 86_400): string {
  return `h3=":${port}"; ma=${maxAgeSeconds}`;
}
