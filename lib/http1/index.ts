/**
 * `covet/http1`: a hand-written incremental HTTP/1.1 parser (pure, no sockets) and a server on `covet/net`.
 * @module
 */
export {
  Http1Parser,
  type Http1ParserHandler,
  type Http1ParserOptions,
  type MessageHead,
  type ParserKind,
  type ScratchAllocator,
} from './parser.js';
export { Http1ParseError, HTTP1_ERRORS, type Http1ErrorCode } from './errors.js';
export { Http1Request, BodyTooLargeError, RequestAbortedError, DEFAULT_BODY_LIMIT, type BodySource } from './request.js';
export { Http1Response, checkHeader, type HeaderValue, type ResponseSink } from './response.js';
export {
  Http1Connection,
  FRESH_LINGER_MS,
  createHttp1Server,
  type Http1Handler,
  type Http1ServerOptions,
  type UpgradeHandler,
} from './server.js';
export { STATUS_TEXT, statusLine } from './status.js';
export { ResponseEvents, type ResponseEvent } from './response-events.js';
