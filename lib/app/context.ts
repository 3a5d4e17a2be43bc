/**
 * The per-request context a handler and middleware see, the same whichever protocol carried the request:
 * the request (headers, body readers), the response, typed route params, the parsed query, and
 * per-request state.
 */
import type { Http1Request, Http1Response } from '../http1/index.js';
import type { Http2Response } from '../http2/index.js';
import type { Params } from '../router/index.js';

export type AnyResponse = Http1Response | Http2Response;

/**
 * `P`, `Q`, `B` are the types of params, query and body; a route with a schema gets them inferred from it.
 */
export class Context<P = Params, Q = Record<string, string | string[]>, B = unknown> {
  readonly req: Http1Request;
  readonly res: AnyResponse;
  /** Route params, converted by their types (`{id:int}` → number) and by the route's schema. */
  params: P;
  /** The request body, parsed and validated, when the route has a body schema. */
  body: B = undefined as B;
  /** The route pattern that matched (for logs and metrics), or `''`. */
  readonly route: string;
  /** Per-request data for middleware and handlers. */
  readonly state: Record<string, unknown> = {};
  #rawQuery: string;
  #query: Q | null = null;

  /** @internal */
  constructor(req: Http1Request, res: AnyResponse, params: Params, route: string, rawQuery: string) {
    this.req = req;
    this.res = res;
    this.params = params as P;
    this.route = route;
    this.#rawQuery = rawQuery;
  }

  get method(): string {
    return this.req.method;
  }

  get path(): string {
    return this.req.path;
  }

  /** Query parameters; repeated keys give arrays. Parsed on first use; converted by the route's schema. */
  get query(): Q {
    if (this.#query === null) {
      const q: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
      for (const [k, v] of new URLSearchParams(this.#rawQuery)) {
        const prev = q[k];
        q[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      this.#query = q as Q;
    }
    return this.#query;
  }

  set query(q: Q) {
    this.#query = q;
  }

  /** Sends a JSON body. */
  json(body: unknown, status = 200): void {
    this.res.statusCode = status;
    this.res.setHeader('content-type', 'application/json; charset=utf-8');
    this.res.end(JSON.stringify(body));
  }

  /** Sends a text body. */
  text(body: string, status = 200): void {
    this.res.statusCode = status;
    this.res.setHeader('content-type', 'text/plain; charset=utf-8');
    this.res.end(body);
  }

  /** Redirects (303 by default, so a POST becomes a GET). */
  redirect(location: string, status = 303): void {
    this.res.statusCode = status;
    this.res.setHeader('location', location);
    this.res.end();
  }
}
