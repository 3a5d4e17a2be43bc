/**
 * `covet/http2/frames`: the HTTP/2 frame codec alone (RFC 9113 §4, §6) — a push-based frame parser, frame
 * writers and the protocol errors with their codes; no session, no sockets. HPACK is `covet/http2/hpack`.
 *
 * @example
 * ```ts
 * import { FrameParser, pingFrame } from 'covet/http2/frames';
 * const parser = new FrameParser({ onFrame: (f) => console.log(f.type), onStreamError: (e) => console.log(e.code) });
 * parser.push(pingFrame(Buffer.alloc(8))); // logs 6 (PING); a connection error throws Http2ProtocolError
 * ```
 * @module
 */
export * from './errors.js';
export * from './frame-parser.js';
export * from './frame-writer.js';
