/**
 * `covet/ws`: RFC 6455 WebSocket with permessage-deflate (RFC 7692). The codec (frame parser/writer,
 * receiver, UTF-8 validator) is pure and usable alone; the server plugs into `covet/http1`'s Upgrade
 * hand-off; the client connects over TCP or TLS.
 * @module
 */
export * from './codec.js';
export { acceptKey, generateKey, checkUpgrade, selectProtocol, switchingProtocols } from './handshake.js';
export { WebSocket, prepareMessage, type WebSocketOptions, type SendOptions, type PreparedMessage, type WebSocketEvents, type WsTransport } from './websocket.js';
export { webSocketUpgrade, webSocketOverHttp2, createWsServer, type WsServerOptions, type WsConnectionOptions, type WsAccept, type WsVerdict, type Refusal, type ConnectTunnel } from './server.js';
export { connectWebSocket, HandshakeError, type ConnectOptions } from './client.js';
