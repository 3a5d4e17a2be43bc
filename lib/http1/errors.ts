/**
 * The catalogue of HTTP/1.1 parse errors: one stable code per rejection path, the RFC section that decides
 * it, and the status a server owes the peer. Verdicts are explained in docs/http1-verdicts.md.
 */
export const HTTP1_ERRORS = {
  INVALID_METHOD: [400, 'RFC 9112 §3.1', 'invalid method'],
  INVALID_TARGET: [400, 'RFC 9112 §3.2', 'invalid character in request-target'],
  URI_TOO_LONG: [414, 'RFC 9110 §15.5.15', 'request-target longer than the limit'],
  INVALID_REQUEST_LINE: [400, 'RFC 9112 §3', 'malformed request-line'],
  INVALID_VERSION: [400, 'RFC 9112 §2.3', 'malformed HTTP-version'],
  VERSION_NOT_SUPPORTED: [505, 'RFC 9110 §15.6.6', 'only HTTP/1.0 and HTTP/1.1 are served'],
  BARE_LF: [400, 'RFC 9112 §2.2', 'bare LF as line terminator'],
  BARE_CR: [400, 'RFC 9112 §2.2', 'bare CR'],
  INVALID_HEADER_NAME: [400, 'RFC 9110 §5.1', 'invalid character in field name'],
  WHITESPACE_BEFORE_COLON: [400, 'RFC 9112 §5.1', 'whitespace between field name and colon'],
  OBS_FOLD: [400, 'RFC 9112 §5.2', 'obsolete line folding'],
  INVALID_HEADER_VALUE: [400, 'RFC 9110 §5.5', 'invalid character in field value'],
  HEADERS_TOO_LARGE: [431, 'RFC 6585 §5', 'header section larger than the limit'],
  TOO_MANY_HEADERS: [431, 'RFC 6585 §5', 'more header fields than the limit'],
  INVALID_CONTENT_LENGTH: [400, 'RFC 9110 §8.6', 'Content-Length is not a decimal number'],
  DUPLICATE_CONTENT_LENGTH: [400, 'RFC 9112 §6.3', 'more than one Content-Length'],
  CONTENT_LENGTH_WITH_TRANSFER_ENCODING: [400, 'RFC 9112 §6.3', 'both Content-Length and Transfer-Encoding'],
  CHUNKED_NOT_LAST: [400, 'RFC 9112 §6.3', 'chunked is not the final transfer coding'],
  CHUNKED_TWICE: [400, 'RFC 9112 §7', 'chunked applied more than once'],
  INVALID_TRANSFER_ENCODING: [400, 'RFC 9112 §6.1', 'malformed Transfer-Encoding'],
  UNSUPPORTED_TRANSFER_CODING: [501, 'RFC 9112 §6.1', 'transfer coding not implemented'],
  TRANSFER_ENCODING_IN_HTTP10: [400, 'RFC 9112 §6.1', 'Transfer-Encoding in an HTTP/1.0 message'],
  INVALID_CHUNK_SIZE: [400, 'RFC 9112 §7.1', 'invalid chunk size'],
  CHUNK_SIZE_OVERFLOW: [400, 'RFC 9112 §7.1', 'chunk size too large'],
  INVALID_CHUNK_EXTENSION: [400, 'RFC 9112 §7.1.1', 'invalid chunk extension'],
  CHUNK_EXTENSIONS_TOO_LARGE: [400, 'RFC 9112 §7.1.1', 'chunk extensions larger than the limit'],
  INVALID_CHUNK_END: [400, 'RFC 9112 §7.1', 'chunk data not followed by CRLF'],
  MISSING_HOST: [400, 'RFC 9112 §3.2', 'HTTP/1.1 request without Host'],
  DUPLICATE_HOST: [400, 'RFC 9112 §3.2', 'more than one Host'],
  INVALID_HOST: [400, 'RFC 9112 §3.2', 'invalid Host'],
  FORBIDDEN_TRAILER: [400, 'RFC 9110 §6.5.1', 'framing or routing field in trailers'],
  BODY_TOO_LARGE: [413, 'RFC 9110 §15.5.14', 'body larger than the limit'],
  INVALID_STATUS: [502, 'RFC 9112 §4', 'malformed status-line'],
  INCOMPLETE_MESSAGE: [400, 'RFC 9112 §8', 'connection closed before the message was complete'],
} as const satisfies Record<string, readonly [number, string, string]>;

export type Http1ErrorCode = keyof typeof HTTP1_ERRORS;

/**
 * A protocol error found while parsing HTTP/1.x. `status` is what a server must answer (the connection is
 * then closed); `rfc` names the rule.
 *
 * @example
 * ```ts
 * parser.onError = (err: Http1ParseError) => respond(err.status, err.message); // 400, 413, 431, 501...
 * ```
 */
export class Http1ParseError extends Error {
  readonly code: Http1ErrorCode;
  readonly status: number;
  readonly rfc: string;
  /** Byte offset in the chunk passed to `execute` where the error was found. */
  readonly offset: number;

  constructor(code: Http1ErrorCode, offset = -1, detail?: string) {
    const [status, rfc, text] = HTTP1_ERRORS[code];
    super(detail === undefined ? `${text} (${rfc})` : `${text}: ${detail} (${rfc})`);
    this.name = 'Http1ParseError';
    this.code = code;
    this.status = status;
    this.rfc = rfc;
    this.offset = offset;
  }
}
