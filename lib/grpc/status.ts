/**
 * gRPC status codes (grpc/doc/statuscodes.md), the error that carries one, and the `grpc-message`
 * percent-encoding (PROTOCOL-HTTP2.md, "Responses": printable ASCII but `%` is sent as is, every other
 * byte of the UTF-8 text as `%XX`).
 */
import type { Metadata } from './metadata.js';

export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

const NAMES = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, k])) as Record<number, string>;

/**
 * `NOT_FOUND` for 5.
 *
 * @example
 * ```ts
 * statusName(5);  // 'NOT_FOUND'
 * statusName(99); // 'STATUS_99'
 * ```
 */
export function statusName(code: number): string {
  return NAMES[code] ?? `STATUS_${code}`;
}

export interface GrpcErrorOptions {
  /** Sent in the trailers with the status. */
  metadata?: Metadata;
  /** `grpc-status-details-bin`: a serialized `google.rpc.Status` with richer error details. */
  details?: Uint8Array;
  cause?: unknown;
}

/**
 * A call's failure with its status: thrown by a handler (answered as that status) or by a client call.
 *
 * @example
 * ```ts
 * throw new GrpcError(Status.NOT_FOUND, `no feature at ${req.latitude},${req.longitude}`);
 * ```
 */
export class GrpcError extends Error {
  readonly code: StatusCode;
  readonly metadata: Metadata | undefined;
  readonly details: Uint8Array | undefined;

  constructor(code: StatusCode, message = '', options: GrpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GrpcError';
    this.code = code;
    this.metadata = options.metadata;
    this.details = options.details;
  }

  /** `NOT_FOUND: no such feature` */
  override toString(): string {
    return `${statusName(this.code)}${this.message === '' ? '' : `: ${this.message}`}`;
  }
}

/**
 * `grpc-message` from text: bytes outside printable ASCII (and `%` itself) as `%XX` of their UTF-8.
 *
 * @example
 * ```ts
 * encodeGrpcMessage('héllo 100%'); // 'h%C3%A9llo 100%25'
 * ```
 */
export function encodeGrpcMessage(text: string): string {
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return text;
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/**
 * Text from `grpc-message`: `%XX` sequences decoded as UTF-8; a malformed one is kept as it is (the spec asks receivers not to fail).
 *
 * @example
 * ```ts
 * decodeGrpcMessage('h%C3%A9llo 100%25'); // 'héllo 100%'
 * ```
 */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * The status a client gives a response that is not gRPC (no `grpc-status`): from its HTTP status, as
 * grpc/doc/http-grpc-status-mapping.md says.
 *
 * @example
 * ```ts
 * statusFromHttp(404); // 12, UNIMPLEMENTED
 * statusFromHttp(503); // 14, UNAVAILABLE
 * ```
 */
export function statusFromHttp(httpStatus: number): StatusCode {
  switch (httpStatus) {
    case 400:
      return Status.INTERNAL;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Status.UNAVAILABLE;
    default:
      return Status.UNKNOWN;
  }
}
