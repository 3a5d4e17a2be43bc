/**
 * HTTP/3 error codes (RFC 9114 §8.1, RFC 9204 §6) and the typed error a rule broken on the wire becomes: a
 * connection error closes the QUIC connection with its code (CONNECTION_CLOSE 0x1d); a stream error resets
 * the request stream (RESET_STREAM and STOP_SENDING) and leaves the connection.
 */
export const H3 = {
  NO_ERROR: 0x100,
  GENERAL_PROTOCOL_ERROR: 0x101,
  INTERNAL_ERROR: 0x102,
  STREAM_CREATION_ERROR: 0x103,
  CLOSED_CRITICAL_STREAM: 0x104,
  FRAME_UNEXPECTED: 0x105,
  FRAME_ERROR: 0x106,
  EXCESSIVE_LOAD: 0x107,
  ID_ERROR: 0x108,
  SETTINGS_ERROR: 0x109,
  MISSING_SETTINGS: 0x10a,
  REQUEST_REJECTED: 0x10b,
  REQUEST_CANCELLED: 0x10c,
  REQUEST_INCOMPLETE: 0x10d,
  MESSAGE_ERROR: 0x10e,
  CONNECT_ERROR: 0x10f,
  VERSION_FALLBACK: 0x110,
  QPACK_DECOMPRESSION_FAILED: 0x200,
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  QPACK_DECODER_STREAM_ERROR: 0x202,
} as const;

/**
 * A broken HTTP/3 rule: `stream` set for a stream error, null for a connection error.
 *
 * @example
 * ```ts
 * if (type === FRAME_DATA && phase === 'headers') throw new Http3Error(H3.FRAME_UNEXPECTED, 'DATA before HEADERS (§4.1)');
 * ```
 */
export class Http3Error extends Error {
  override name = 'Http3Error';
  readonly code: number;
  readonly stream: number | null;
  constructor(code: number, message: string, stream: number | null = null) {
    super(message);
    this.code = code;
    this.stream = stream;
  }
}
