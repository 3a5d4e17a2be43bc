/**
 * `covet/http2` (in progress): the HPACK codec and the frame codec, both pure. The connection, streams,
 * flow control and server are not built yet (see the issue "lib/http2").
 * @module
 */
export * from './hpack/index.js';
export * from './errors.js';
export * from './frame-parser.js';
export * from './frame-writer.js';
