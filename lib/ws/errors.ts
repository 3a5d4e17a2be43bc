/**
 * WebSocket protocol errors: a stable code, the RFC rule, and the close code owed to the peer
 * (RFC 6455 §7.4.1: 1002 protocol error, 1007 invalid payload data, 1009 message too big, 1011 internal).
 */
export const WS_ERRORS = {
  RESERVED_BITS: [1002, 'RFC 6455 §5.2', 'reserved bits set without a negotiated extension'],
  RESERVED_OPCODE: [1002, 'RFC 6455 §5.2', 'reserved opcode'],
  CONTROL_TOO_LONG: [1002, 'RFC 6455 §5.5', 'control frame payload longer than 125 bytes'],
  CONTROL_FRAGMENTED: [1002, 'RFC 6455 §5.5', 'fragmented control frame'],
  UNMASKED_CLIENT_FRAME: [1002, 'RFC 6455 §5.1', 'client frame not masked'],
  MASKED_SERVER_FRAME: [1002, 'RFC 6455 §5.1', 'server frame masked'],
  BAD_LENGTH: [1002, 'RFC 6455 §5.2', 'payload length not in minimal form or 64-bit length with the top bit set'],
  UNEXPECTED_CONTINUATION: [1002, 'RFC 6455 §5.4', 'continuation frame without a message to continue'],
  EXPECTED_CONTINUATION: [1002, 'RFC 6455 §5.4', 'new data frame while a fragmented message is open'],
  RSV1_ON_CONTINUATION: [1002, 'RFC 7692 §6.1', 'RSV1 set on a continuation frame'],
  INVALID_UTF8: [1007, 'RFC 6455 §8.1', 'text message is not valid UTF-8'],
  INVALID_CLOSE_PAYLOAD: [1002, 'RFC 6455 §5.5.1', 'close frame payload of 1 byte'],
  INVALID_CLOSE_CODE: [1002, 'RFC 6455 §7.4', 'close code not allowed on the wire'],
  INVALID_CLOSE_REASON: [1007, 'RFC 6455 §5.5.1', 'close reason is not valid UTF-8'],
  FRAME_TOO_BIG: [1009, 'RFC 6455 §7.4.1', 'frame larger than the limit'],
  MESSAGE_TOO_BIG: [1009, 'RFC 6455 §7.4.1', 'message larger than the limit'],
  TOO_MANY_FRAGMENTS: [1009, 'RFC 6455 §7.4.1', 'message split into more fragments than the limit'],
  INFLATE_FAILED: [1007, 'RFC 7692 §7.2.2', 'compressed message could not be inflated'],
} as const satisfies Record<string, readonly [number, string, string]>;

export type WsErrorCode = keyof typeof WS_ERRORS;

/**
 * A violation of RFC 6455 or 7692 by the peer: `code` names the rule, `closeCode` is what to close with.
 *
 * @example
 * ```ts
 * try {
 *   receiver.push(bytes);
 * } catch (err) {
 *   if (err instanceof WsProtocolError) ws.close(err.closeCode, err.code); // e.g. 1002, 'RESERVED_BITS'
 * }
 * ```
 */
export class WsProtocolError extends Error {
  readonly code: WsErrorCode;
  /** Close code to send to the peer. */
  readonly closeCode: number;
  readonly rfc: string;
  constructor(code: WsErrorCode, detail?: string) {
    const [closeCode, rfc, text] = WS_ERRORS[code];
    super(detail === undefined ? `${text} (${rfc})` : `${text}: ${detail} (${rfc})`);
    this.name = 'WsProtocolError';
    this.code = code;
    this.closeCode = closeCode;
    this.rfc = rfc;
  }
}

/**
 * Close codes a peer may send (RFC 6455 §7.4.1 and §7.4.2): 1000–1003, 1007–1014, 3000–4999.
 * 1004–1006 and 1015 are reserved and never on the wire.
 *
 * @example
 * ```ts
 * isValidCloseCode(1000); // true
 * isValidCloseCode(1005); // false: reserved, never sent
 * ```
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
