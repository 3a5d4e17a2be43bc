/**
 * `covet/ws`: RFC 6455 WebSocket with permessage-deflate (RFC 7692). The codec (frame parser/writer,
 * receiver, UTF-8 validator) is pure and usable alone; the server plugs into `covet/http1`'s Upgrade
 * hand-off; the client connects over TCP or TLS.
 * @module
 */
export { FrameParser, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, type FrameHandler, type FrameParserOptions } from './frame-parser.js';
export { frame, frameBytes, frameHeader, closePayload, type FrameOptions } from './frame-writer.js';
export { applyMask } from './mask.js';
export { Receiver, type ReceiverHandler, type ReceiverOptions } from './receiver.js';
export { Utf8Validator, isValidUtf8 } from './utf8.js';
export { WsProtocolError, WS_ERRORS, isValidCloseCode, type WsErrorCode } from './errors.js';
export { PerMessageDeflate, acceptOffer, clientOffer, acceptResponse, parseExtensions, compressShared, type PerMessageDeflateOptions, type DeflateParams, type ExtensionOffer } from './permessage-deflate.js';
export { acceptKey, generateKey, checkUpgrade, selectProtocol, switchingProtocols } from './handshake.js';
export { WebSocket, prepareMessage, type WebSocketOptions, type SendOptions, type PreparedMessage, type WebSocketEvents, type WsTransport } from './websocket.js';
export { webSocketUpgrade, webSocketOverHttp2, createWsServer, type WsServerOptions, type WsConnectionOptions, type WsAccept, type WsVerdict, type Refusal, type ConnectTunnel } from './server.js';
export { connectWebSocket, HandshakeError, type ConnectOptions } from './client.js';
