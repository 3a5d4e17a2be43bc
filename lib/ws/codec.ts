/**
 * `covet/ws/codec`: the WebSocket codec alone (RFC 6455 §5, RFC 7692) — frame parser and writer, masking,
 * the receiver that reassembles messages and validates UTF-8 as it goes, and permessage-deflate's
 * negotiation and (de)compression; no handshake, no sockets.
 *
 * @example
 * ```ts
 * import { Receiver, frameBytes, OP_TEXT } from 'covet/ws/codec';
 * const rx = new Receiver({ role: 'client' }, {
 *   onMessage: (data, isBinary) => console.log(isBinary, data.toString()),
 *   onPing() {}, onPong() {}, onClose() {},
 * });
 * rx.push(frameBytes(OP_TEXT, Buffer.from('hi'))); // logs: false hi
 * ```
 * @module
 */
export { FrameParser, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, type FrameHandler, type FrameParserOptions } from './frame-parser.js';
export { frame, frameBytes, frameHeader, closePayload, type FrameOptions } from './frame-writer.js';
export { applyMask } from './mask.js';
export { Receiver, type ReceiverHandler, type ReceiverOptions } from './receiver.js';
export { Utf8Validator, isValidUtf8 } from './utf8.js';
export { WsProtocolError, WS_ERRORS, isValidCloseCode, type WsErrorCode } from './errors.js';
export { PerMessageDeflate, acceptOffer, clientOffer, acceptResponse, parseExtensions, compressShared, type PerMessageDeflateOptions, type DeflateParams, type ExtensionOffer } from './permessage-deflate.js';
