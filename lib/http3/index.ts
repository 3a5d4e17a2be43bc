/**
 * `covet/http3`: HTTP/3 (RFC 9114) with QPACK (RFC 9204) on covet/quic — frames, the QPACK decoder (dynamic
 * table, blocked streams) and the encoder (static table and the dynamic table it fills), the session on a QUIC connection, and a server whose
 * handler is the one covet/http1 and covet/http2 call.
 * @module
 */
export { H3, Http3Error } from './errors.js';
export {
  dataHeader,
  encodeSettings,
  frame,
  FrameReader,
  FRAME_CANCEL_PUSH,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_MAX_PUSH_ID,
  FRAME_PUSH_PROMISE,
  FRAME_SETTINGS,
  parseSettings,
  SETTINGS_MAX_FIELD_SECTION_SIZE,
  SETTINGS_QPACK_BLOCKED_STREAMS,
  SETTINGS_QPACK_MAX_TABLE_CAPACITY,
  type FrameSink,
} from './frames.js';
export { QPACK_STATIC_TABLE } from './qpack/static-table.js';
export { QpackDecoder, type DecodedSection, type QpackDecoderOptions } from './qpack/decoder.js';
export { QpackEncoder, type QpackEncoderOptions } from './qpack/encoder.js';
export { QpackError } from './qpack/primitives.js';
export { Http3Session, type Http3Handler, type Http3SessionOptions } from './session.js';
export { altSvc, createHttp3Server, Http3Server, type Http3ServerOptions } from './server.js';
export { TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, type CipherSuite } from '../tls13/cipher-suite.js';
