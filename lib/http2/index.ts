/**
 * `covet/http2`: HPACK and the frame codec (pure), the server session (streams, flow control, GOAWAY,
 * rapid-reset defence), and servers for h2c prior knowledge and HTTP/1.1 + HTTP/2 on one port.
 * @module
 */
export * from './hpack/index.js';
export * from './frames.js';
export { Http2Session, PREFACE, parseSettingsPayload, type Http2Handler, type Http2SessionOptions } from './session.js';
export { Http2Response } from './response.js';
export { createHttp2Server, createServer, h2cUpgrade, type AnyHandler } from './server.js';
export { Http2Tunnel, type TunnelHost } from './tunnel.js';
export { ClientStream, Http2ClientSession, Http2StreamError, type Http2ClientOptions, type ResponseHead } from './client.js';
