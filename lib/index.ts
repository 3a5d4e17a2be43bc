/**
 * `covet`: re-exports the top layer available so far. Until the app layer lands this is the HTTP/1.1
 * server and the net layer; import the subpaths (`covet/net`, `covet/http1`) to load only what you use.
 * @module
 */
export * from './net/index.js';
export * from './http1/index.js';
