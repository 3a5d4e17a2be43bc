/**
 * HTTP errors as RFC 9457 problem details (`application/problem+json`): throw `new HttpError(404)` or
 * `new HttpError(422, { detail, errors })` from a handler; anything else thrown becomes a 500 whose
 * details stay in the logs (the stack is shown only in dev mode).
 */
import { STATUS_TEXT } from '../http1/index.js';
import type { Http1Response } from '../http1/index.js';
import type { Http2Response } from '../http2/index.js';

export interface ProblemFields {
  /** A URI reference for the problem type. Default `about:blank` (RFC 9457 §4.2.1). */
  type?: string;
  title?: string;
  detail?: string;
  instance?: string;
  /** Extension members (e.g. `errors` listing every failing field). */
  [extension: string]: unknown;
}

/**
 * An error answered with its status as problem+json: throw it from a handler, a dep or middleware.
 *
 * @example
 * ```ts
 * app.get('/notes/{id:int}', async (ctx) => {
 *   const note = await orm.notes.find(ctx.params.id);
 *   if (note === undefined) throw new HttpError(404, { detail: `no note ${ctx.params.id}` });
 *   if (note.ownerId !== ctx.state.userId) throw new HttpError(403);
 *   return note;
 * });
 * ```
 */
export class HttpError extends Error {
  readonly status: number;
  readonly fields: ProblemFields;
  /** Extra response headers (e.g. `Allow` for 405, `Retry-After` for 429). */
  readonly headers: Record<string, string>;

  constructor(status: number, fields: ProblemFields = {}, headers: Record<string, string> = {}) {
    super(fields.detail ?? fields.title ?? STATUS_TEXT[status] ?? `HTTP ${status}`);
    this.name = 'HttpError';
    this.status = status;
    this.fields = fields;
    this.headers = headers;
  }
}

/**
 * An HttpError without a stack trace, for answers the framework itself makes (404, 405, 415, 422): they
 * are expected outcomes, not bugs, and capturing a stack costs more than the rest of a 404.
 */
export function answerError(status: number, fields: ProblemFields = {}, headers: Record<string, string> = {}): HttpError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new HttpError(status, fields, headers);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * The problem+json body for an error (RFC 9457 §3).
 *
 * @example
 * ```ts
 * problemBody(404, { detail: 'no note 7' });
 * // '{"type":"about:blank","title":"Not Found","status":404,"detail":"no note 7"}'
 * ```
 */
export function problemBody(status: number, fields: ProblemFields): string {
  return JSON.stringify({ type: 'about:blank', title: STATUS_TEXT[status] ?? 'Error', status, ...fields });
}

/** Dropped from a response when an error replaces it; they described the body that is no longer sent. */
const REPRESENTATION_HEADERS = [
  'content-type', 'content-length', 'content-encoding', 'content-language', 'content-range', 'content-disposition',
  'transfer-encoding', 'etag', 'last-modified', 'cache-control', 'expires', 'location',
];

/**
 * Replaces a response not yet sent with a problem answer. Headers about the representation that failed
 * go; the rest (CORS, security, request ID, cookies) stay, so a browser can read the error and policies
 * hold on every answer.
 *
 * @example
 * ```ts
 * app.use(async (ctx, next) => {
 *   if (maintenance) return sendProblem(ctx.res, 503, { detail: 'back soon' }, { 'retry-after': '120' });
 *   return next();
 * });
 * ```
 */
export function sendProblem(res: Http1Response | Http2Response, status: number, fields: ProblemFields, headers: Record<string, string> = {}): void {
  for (const h of REPRESENTATION_HEADERS) res.removeHeader(h);
  res.statusCode = status;
  for (const k of Object.keys(headers)) res.setHeader(k, headers[k]!);
  res.setHeader('content-type', 'application/problem+json');
  res.end(problemBody(status, fields));
}
