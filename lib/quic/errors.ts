/**
 * The error that ends a QUIC connection (RFC 9000 §10.2, §20): its transport or CRYPTO_ERROR code, sent in
 * CONNECTION_CLOSE, and what happened.
 */

/**
 * A connection-ending error: the transport (or CRYPTO_ERROR) code sent in CONNECTION_CLOSE.
 *
 * @example
 * ```ts
 * throw new QuicConnectionError(0x0a, 'STREAM data outside 1-RTT packets'); // PROTOCOL_VIOLATION in CONNECTION_CLOSE
 * ```
 */
export class QuicConnectionError extends Error {
  override name = 'QuicConnectionError';
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}
