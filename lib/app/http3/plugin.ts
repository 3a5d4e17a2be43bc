/**
 * The HTTP/3 plugin: an `Http3Server` calling the app's own handler (the request pipeline is the same for
 * every protocol), `Alt-Svc` on the responses that came another way, and the listener closed with the app.
 */
import type { App } from '../app.js';
import { altSvc, createHttp3Server, type Http3Server, type Http3ServerOptions } from '../../http3/index.js';

/** `app.value<Http3Server>(HTTP3)`: the plugin's listener (its bound port, its open connections). */
export const HTTP3 = Symbol.for('covet.http3');

export interface Http3PluginOptions extends Http3ServerOptions {
  /** UDP port (0: any free one; `app.value<Http3Server>(HTTP3)?.port` after `ready()`). */
  port: number;
  host?: string;
  /** Advertise the listener with `Alt-Svc` on responses that came over HTTP/1.1 or HTTP/2. Default true. */
  altSvc?: boolean;
  /** The port to advertise, when clients reach the listener through another (a load balancer). */
  advertisedPort?: number;
  /** How long clients may remember the advertisement (`ma`, seconds). Default 86 400. */
  altSvcMaxAge?: number;
}

/**
 * Its `Alt-Svc` goes on every answer that came over TCP, whether it was registered before the routes or
 * after them (an `onReceive` hook: the app's, not a scope's).
 *
 * @example
 * ```ts
 * const app = createApp();
 * app.register(http3, { port: 443, cert: readFileSync('cert.pem'), key: readFileSync('key.pem') });
 * app.get('/', (ctx) => `hello over HTTP/${ctx.req.httpVersion}`);
 * await app.listen({ port: 443, tls: { cert, key } }); // TCP answers carry Alt-Svc: h3=":443"
 * ```
 */
export function http3(app: App, options: Http3PluginOptions): Promise<void> {
  const server: Http3Server = createHttp3Server((req, res) => void app.handle(req, res), options);
  app.decorate(HTTP3, server);
  app.onClose(() => server.close(0));
  // The port is known once bound.
  let value: string | null = null;
  if (options.altSvc !== false) {
    app.addHook('onReceive', (req, res) => {
      if (value !== null && req.httpVersion !== '3.0') res.setHeader('alt-svc', value);
    });
  }
  return server.listen({ port: options.port, host: options.host }).then((bound) => {
    value = altSvc(options.advertisedPort ?? bound.port, options.altSvcMaxAge);
  });
}
http3.pluginName = 'http3';
http3.encapsulate = false;
