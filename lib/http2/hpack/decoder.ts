/**
 * HPACK decoding (RFC 7541 §6): indexed fields, literals with and without indexing, never-indexed
 * literals, and dynamic table size updates (only at the start of a header block, and never above the
 * limit we advertised). The decoded header list is limited (SETTINGS_MAX_HEADER_LIST_SIZE semantics,
 * RFC 9113 §6.5.2) while decoding, so an HPACK bomb stops early. Errors are {@link HpackError}: a
 * connection error COMPRESSION_ERROR in HTTP/2 (RFC 9113 §4.3).
 *
 * @example
 * ```ts
 * const d = new HpackDecoder();
 * const fields = d.decode(headerBlock); // [[':method', 'GET'], [':path', '/'], ...]
 * ```
 */
import { DynamicTable } from './dynamic-table.js';
import { huffmanDecode } from './huffman.js';
import { STATIC_TABLE } from './tables.js';

export class HpackError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`${message} (RFC 7541)`);
    this.name = 'HpackError';
    this.code = code;
  }
}

export interface HpackDecoderOptions {
  /** SETTINGS_HEADER_TABLE_SIZE we advertise: the largest dynamic table the peer may ask for. Default 4096. */
  maxTableSize?: number;
  /** Largest decoded header list (sum of name + value + 32 per field). Default 64 KiB. */
  maxHeaderListSize?: number;
  /** Longest single string literal accepted. Default 16 KiB. */
  maxStringLength?: number;
}

/** A decoded field; `sensitive` marks never-indexed literals (to be re-encoded the same way). */
export type HeaderField = [name: string, value: string, sensitive?: boolean];

export class HpackDecoder {
  readonly table: DynamicTable;
  maxTableSize: number;
  readonly maxHeaderListSize: number;
  readonly maxStringLength: number;

  constructor(options: HpackDecoderOptions = {}) {
    this.maxTableSize = options.maxTableSize ?? 4096;
    this.table = new DynamicTable(this.maxTableSize);
    this.maxHeaderListSize = options.maxHeaderListSize ?? 64 * 1024;
    this.maxStringLength = options.maxStringLength ?? 16 * 1024;
  }

  /** Decodes one complete header block. @throws HpackError */
  decode(buf: Uint8Array): HeaderField[] {
    const out: HeaderField[] = [];
    let listSize = 0;
    let i = 0;
    let fieldsSeen = false;
    const n = buf.length;
    while (i < n) {
      const b = buf[i]!;
      let name: string;
      let value: string;
      let sensitive = false;
      if (b & 0x80) {
        // §6.1 Indexed Header Field.
        const [idx, j] = this.#int(buf, i, 7);
        i = j;
        [name, value] = this.#entry(idx);
      } else if ((b & 0xe0) === 0x20) {
        // §6.3 Dynamic Table Size Update: only before the first field of a block (§4.2).
        if (fieldsSeen) throw new HpackError('LATE_TABLE_SIZE_UPDATE', 'dynamic table size update after a field');
        const [size, j] = this.#int(buf, i, 5);
        i = j;
        if (size > this.maxTableSize) throw new HpackError('TABLE_SIZE_TOO_LARGE', `table size ${size} above the limit ${this.maxTableSize}`);
        this.table.resize(size);
        continue;
      } else {
        // §6.2 literals: with incremental indexing (01), without (0000), never indexed (0001).
        const indexing = (b & 0xc0) === 0x40;
        sensitive = (b & 0xf0) === 0x10;
        const [idx, j] = this.#int(buf, i, indexing ? 6 : 4);
        i = j;
        if (idx === 0) {
          [name, i] = this.#string(buf, i);
        } else name = this.#entry(idx)[0];
        [value, i] = this.#string(buf, i);
        if (indexing) this.table.add(name, value);
      }
      fieldsSeen = true;
      listSize += name.length + value.length + 32;
      if (listSize > this.maxHeaderListSize) throw new HpackError('HEADER_LIST_TOO_LARGE', `header list above ${this.maxHeaderListSize} bytes`);
      out.push(sensitive ? [name, value, true] : [name, value]);
    }
    return out;
  }

  #entry(idx: number): readonly [string, string] {
    if (idx === 0) throw new HpackError('INVALID_INDEX', 'index 0');
    if (idx <= STATIC_TABLE.length) return STATIC_TABLE[idx - 1]!;
    const e = this.table.get(idx - STATIC_TABLE.length - 1);
    if (e === undefined) throw new HpackError('INVALID_INDEX', `index ${idx} beyond the tables`);
    return e;
  }

  /** §5.1 integer with an N-bit prefix. Returns [value, next offset]. */
  #int(buf: Uint8Array, i: number, prefix: number): [number, number] {
    const max = (1 << prefix) - 1;
    let v = buf[i]! & max;
    i++;
    if (v < max) return [v, i];
    let m = 0;
    for (;;) {
      if (i >= buf.length) throw new HpackError('TRUNCATED', 'integer runs past the block');
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** m;
      m += 7;
      if (v > 0x7fffffff) throw new HpackError('INTEGER_OVERFLOW', 'integer too large');
      if ((b & 0x80) === 0) return [v, i];
    }
  }

  /** §5.2 string literal. Returns [string, next offset]. */
  #string(buf: Uint8Array, i: number): [string, number] {
    if (i >= buf.length) throw new HpackError('TRUNCATED', 'string literal missing');
    const huffman = (buf[i]! & 0x80) !== 0;
    const [len, j] = this.#int(buf, i, 7);
    if (j + len > buf.length) throw new HpackError('TRUNCATED', 'string literal runs past the block');
    if (len > (huffman ? Math.ceil((this.maxStringLength * 30) / 8) : this.maxStringLength)) {
      throw new HpackError('STRING_TOO_LONG', `string literal of ${len} bytes`);
    }
    let s: string;
    if (huffman) {
      const d = huffmanDecode(buf, j, j + len);
      if (d === null) throw new HpackError('INVALID_HUFFMAN', 'invalid Huffman code or padding');
      if (d.length > this.maxStringLength) throw new HpackError('STRING_TOO_LONG', `decoded string of ${d.length} bytes`);
      s = d;
    } else s = Buffer.from(buf.buffer, buf.byteOffset + j, len).latin1Slice(0, len);
    return [s, j + len];
  }
}
