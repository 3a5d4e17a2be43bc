/**
 * HPACK (RFC 7541) for `covet/http2`: pure, usable alone.
 * @module
 */
export { HpackDecoder, HpackError, type HpackDecoderOptions, type HeaderField } from './decoder.js';
export { HpackEncoder, type HpackEncoderOptions } from './encoder.js';
export { DynamicTable } from './dynamic-table.js';
export { huffmanDecode, huffmanEncode, huffmanLength } from './huffman.js';
export { STATIC_TABLE } from './tables.js';
