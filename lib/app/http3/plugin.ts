/**
 * The HTTP/3 plugin: an `Http3Server` calling the app's own handler (the request pipeline is the same for
 * every protocol), `Alt-Svc` on the responses that came another way, and the listener closed with the app.
 */
import type { App } from '../app.js';
import { altSvc, createHttp3Server, type Http3Server, type Http3ServerOptions } from '../../http3/index.js';

/** `app.value<Http3Server>(HTTP3)`: the plugin's listener (its bound port, its open connections). */
export const HTTP3 = Symbol.for('covet.http3');

export interface Http3PluginOptions extends Omit<Http3ServerOptions, 'cert' | 'key'> {
  /**
   * PEM certificate chain, leaf first. Default: `listen()`'s `tls.cert` — then the listener starts when the
   * app listens (one certificate for TCP and UDP, given once).
   */
  cert?: Http3ServerOptions['cert'];
  /** Its private key (PEM or a KeyObject). Default: `listen()`'s `tls.key`, with `cert`. */
  key?: Http3ServerOptions['key'];
  /**
   * UDP port (0: any free one; `app.value<Http3Server>(HTTP3)?.port` once bound). Default: the TCP port,
   * bound when `app.listen()` has it (HTTP/3 on the port number the browser already uses).
   */
  port?: number;
  /** Default: the TCP listener's host, when the port is too. */
  host?: string;
  /** Advertise the listener with `Alt-Svc` on responses that came over HTTP/1.1 or HTTP/2. Default true. */
  altSvc?: boolean;
  /** The port to advertise, when clients reach the listener through another (a load balancer). */
  advertisedPort?: number;
  /** How long clients may remember the advertisement (`ma`, seconds). Default 86 400. */
  altSvcMaxAge?: number;
}

const ONE_PROCESS = 'http3: served by one process (QUIC connections are not routed between cluster workers): listen with workers: 1';

/**
 * Its `Alt-Svc` goes on every answer that came over TCP, whether it was registered before the routes or
 * after them (an `onReceive` hook: the app's, not a scope's). Without a `port` it binds UDP on the TCP
 * listener's port when `app.listen()` runs (an `onListen` hook); without `cert` and `key` it takes
 * `listen()`'s `tls` ones. One process only — with `workers` above 1 `listen()` fails, as QUIC connections
 * are not routed between cluster workers.
 *
 * @example
 * ```ts
 * const tls = { cert: readFileSync('cert.pem'), key: readFileSync('key.pem') };
 * const app = createApp();
 * app.get('/', (ctx) => `hello over HTTP/${ctx.req.httpVersion}`);
 * app.register(http3); // UDP on the TCP port below, with its certificate
 * await app.listen({ port: 443, tls }); // TCP answers carry Alt-Svc: h3=":443"
 * ```
 */
export function http3(app: App, options: Http3PluginOptions = {}): Promise<void> | void {
  let server: Http3Server | null = null;
  const start = (cert: Http3ServerOptions['cert'], key: Http3ServerOptions['key']): Http3Server => {
    server = createHttp3Server((req, res) => void app.handle(req, res), { ...options, cert, key });
    app.decorate(HTTP3, server);
    return server;
  };
  // Given a certificate (or half of one: createHttp3Server says what is missing), the listener exists now.
  const deferred = options.cert === undefined && options.key === undefined;
  if (!deferred) start(options.cert!, options.key!);
  app.onClose(() => server?.close(0));
  let value: string | null = null;
  if (options.altSvc !== false) {
    app.addHook('onReceive', (req, res) => {
      if (value !== null && req.httpVersion !== '3.0') res.setHeader('alt-svc', value);
    });
  }
  const bind = (h3: Http3Server, port: number, host: string | undefined): Promise<void> =>
    h3.listen({ port, host }).then((bound) => {
      value = altSvc(options.advertisedPort ?? bound.port, options.altSvcMaxAge);
    });
  // Given a port and a certificate, the listener binds now (below); otherwise when the app listens.
  const now = !deferred && options.port !== undefined;
  app.addHook('onListen', (tcp, listen) => {
    if (tcp === null || (listen.workers ?? 1) > 1) throw new Error(ONE_PROCESS);
    if (now) return;
    if (deferred) {
      const cert = listen.tls?.cert;
      const key = listen.tls?.key;
      if (!(typeof cert === 'string' || Buffer.isBuffer(cert)) || !(typeof key === 'string' || Buffer.isBuffer(key))) {
        throw new Error('http3: no certificate: give `cert` and `key` (PEM) to the plugin, or `tls: { cert, key }` to listen()');
      }
      start(cert, key);
    }
    // The TCP listener's port (and host) unless the plugin was given a port.
    const address = tcp.address();
    if (options.port === undefined && (address === null || typeof address === 'string')) {
      throw new Error('http3: the app listens on a unix socket, which has no port for UDP: give the plugin a `port`');
    }
    const port = options.port ?? (address as { port: number }).port;
    return bind(server!, port, options.host ?? (options.port === undefined ? listen.host : undefined));
  });
  if (now) return bind(server!, options.port!, options.host);
}
http3.pluginName = 'http3';
http3.encapsulate = false;
