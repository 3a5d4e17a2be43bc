/**
 * HTTP/2 error codes (RFC 9113 §7) and the protocol error type: the code owed to the peer, and whether it
 * ends the connection (GOAWAY) or one stream (RST_STREAM), per RFC 9113 §5.4.
 */
export const H2 = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

export type H2ErrorName = keyof typeof H2;

const NAMES = Object.fromEntries(Object.entries(H2).map(([k, v]) => [v, k])) as Record<number, H2ErrorName>;

/**
 * Name of an error code (unknown codes are reported as such, RFC 9113 §7).
 *
 * @example
 * ```ts
 * errorName(0xb);  // 'ENHANCE_YOUR_CALM'
 * errorName(0x42); // 'UNKNOWN_0x42'
 * ```
 */
export function errorName(code: number): string {
  return NAMES[code] ?? `UNKNOWN_0x${code.toString(16)}`;
}

/**
 * A violation of RFC 9113 by the peer: the code to send, and whether it ends the connection or one stream.
 *
 * @example
 * ```ts
 * try {
 *   parser.push(bytes);
 * } catch (err) {
 *   if (err instanceof Http2ProtocolError && err.scope === 'stream') send(rstStreamFrame(err.streamId, err.code));
 *   else if (err instanceof Http2ProtocolError) send(goawayFrame(lastStreamId, err.code, err.debugData ?? err.message));
 * }
 * ```
 */
export class Http2ProtocolError extends Error {
  /** RFC 9113 §7 code to send. */
  readonly code: number;
  /** `'connection'`: GOAWAY and close; `'stream'`: RST_STREAM on `streamId`. */
  readonly scope: 'connection' | 'stream';
  readonly streamId: number;
  /** GOAWAY debug data that peers match exactly (gRPC's `too_many_pings`); otherwise the message is sent. */
  readonly debugData: string | undefined;
  constructor(code: number, scope: 'connection' | 'stream', message: string, streamId = 0, debugData?: string) {
    super(`${errorName(code)}: ${message}`);
    this.name = 'Http2ProtocolError';
    this.code = code;
    this.scope = scope;
    this.streamId = streamId;
    this.debugData = debugData;
  }
}

export const connectionError = (code: number, message: string, debugData?: string): Http2ProtocolError => new Http2ProtocolError(code, 'connection', message, 0, debugData);
export const streamError = (code: number, streamId: number, message: string): Http2ProtocolError =>
  new Http2ProtocolError(code, 'stream', message, streamId);
