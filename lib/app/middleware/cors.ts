/**
 * CORS (Fetch standard, "CORS protocol"): answers preflights (OPTIONS + Access-Control-Request-Method)
 * itself, whether or not an OPTIONS route exists, and adds the response headers to actual requests from
 * allowed origins. `Vary: Origin` is always set when the answer depends on the origin.
 */
import type { Middleware } from '../route.js';

export interface CorsOptions {
  /** Allowed origins: `'*'`, one origin, a list, a RegExp, or a predicate. Default `'*'`. */
  origin?: '*' | string | readonly string[] | RegExp | ((origin: string) => boolean);
  /** Methods allowed in preflights. Default GET, HEAD, PUT, PATCH, POST, DELETE. */
  methods?: readonly string[];
  /** Request headers allowed; default: whatever the preflight asks for. */
  allowedHeaders?: readonly string[];
  /** Response headers the browser may read. */
  exposedHeaders?: readonly string[];
  /**
   * Allow cookies/credentials (then the allowed origin is echoed, never `*`). Default false. Needs an
   * `origin` that names the sites: with `'*'` (or none) every site could send signed-in requests and read
   * the answers, so that configuration is refused when the middleware is created.
   */
  credentials?: boolean;
  /** Preflight cache time in seconds. Default 600. */
  maxAge?: number;
}

/**
 * @example
 * ```ts
 * app.use(cors({ origin: ['https://app.example.com'], credentials: true }));
 * ```
 */
export function cors(options: CorsOptions = {}): Middleware {
  const origin = options.origin ?? '*';
  // The Fetch standard refuses `*` with credentials; echoing every origin instead would be the same hole.
  if (options.credentials === true && origin === '*') {
    throw new TypeError("cors({ credentials: true }) needs an `origin` naming the sites allowed to send credentials (a string, a list, a RegExp or a predicate): with '*' or no origin, every site could make signed-in requests and read the answers");
  }
  const methods = (options.methods ?? ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE']).join(', ');
  const allowed = (o: string): boolean =>
    origin === '*' ? true : typeof origin === 'string' ? o === origin : origin instanceof RegExp ? origin.test(o) : typeof origin === 'function' ? origin(o) : origin.includes(o);
  const wildcard = origin === '*' && options.credentials !== true;
  return async (ctx, next) => {
    const o = ctx.req.get('origin');
    const res = ctx.res;
    if (!wildcard) ctx.vary('Origin');
    if (o === undefined || !allowed(o)) return next();
    const allowOrigin = wildcard ? '*' : o;
    if (ctx.req.method === 'OPTIONS' && ctx.req.get('access-control-request-method') !== undefined) {
      // Preflight: answered here, the route never runs.
      res.statusCode = 204;
      res.setHeader('access-control-allow-origin', allowOrigin);
      res.setHeader('access-control-allow-methods', methods);
      const asked = ctx.req.get('access-control-request-headers');
      const headers = options.allowedHeaders?.join(', ') ?? asked;
      if (headers) res.setHeader('access-control-allow-headers', headers);
      if (options.allowedHeaders === undefined && asked) ctx.vary('Access-Control-Request-Headers');
      if (options.credentials) res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-max-age', String(options.maxAge ?? 600));
      res.setHeader('content-length', '0');
      res.end();
      return;
    }
    res.setHeader('access-control-allow-origin', allowOrigin);
    if (options.credentials) res.setHeader('access-control-allow-credentials', 'true');
    if (options.exposedHeaders?.length) res.setHeader('access-control-expose-headers', options.exposedHeaders.join(', '));
    return next();
  };
}
