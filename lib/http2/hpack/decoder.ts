import { DynamicTable } from './dynamic-table.js';
import { huffmanDecode } from './huffman.js';
import { STATIC_TABLE } from './tables.js';

function latin1(buf: Uint8Array, start: number, len: number): string {
  return Buffer.isBuffer(buf) ? buf.latin1Slice(start, start + len) : Buffer.from(buf.buffer, buf.byteOffset + start, len).latin1Slice(0, len);
}

/**
 * A malformed header block: `code` names the rule; HTTP/2 answers it with COMPRESSION_ERROR (RFC 9113 §4.3).
 *
 * @example
 * ```ts
 * try {
 *   decoder.decode(block);
 * } catch (err) {
 *   if (err instanceof HpackError) send(goawayFrame(lastStreamId, H2.COMPRESSION_ERROR, err.message));
 * }
 * ```
 */
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

// RFC 9113 §8.2.1 (and RFC 9114 §4.2, which QPACK's decoder checks with these): names are lowercase tokens
// (pseudo-header names start with ':'); values carry no NUL, CR or LF (which HTTP/1.1 would read as the end
// of the field).
export const BAD_NAME = /^$|[^!#$%&'*+\-.^_`|~0-9a-z:]|.:/;
export const BAD_VALUE = /[\0\r\n]/;

/** Why a decoded field is malformed (the message of the stream error). */
export function fieldProblem(name: string): string {
  return BAD_NAME.test(name) ? `invalid field name ${JSON.stringify(name.slice(0, 64))}` : `NUL, CR or LF in the value of ${name}`;
}

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

  /**
   * After `decode`: why the block is not a valid HTTP field section (RFC 9113 §8.2.1: a name with
   * characters outside lowercase tokens, a value with NUL, CR or LF), or null. HPACK itself carries any
   * octets, so such a block still decodes (the tables stay in step); the session treats the message as
   * malformed. Literals are checked as they are decoded; an indexed field only when its table entry was
   * added invalid — so requests made of indexed fields cost nothing here.
   */
  invalid: string | null = null;

  /** Decodes one complete header block. @throws HpackError */
  decode(buf: Uint8Array): HeaderField[] {
    const out: HeaderField[] = [];
    let listSize = 0;
    let fieldsSeen = false;
    const n = buf.length;
    this.#pos = 0;
    this.invalid = null;
    while (this.#pos < n) {
      const b = buf[this.#pos]!;
      let name: string;
      let value: string;
      let sensitive = false;
      if (b & 0x80) {
        // §6.1 Indexed Header Field.
        const idx = this.#int(buf, 7);
        if (idx > 0 && idx <= STATIC_TABLE.length) {
          const e = STATIC_TABLE[idx - 1]!;
          name = e[0];
          value = e[1];
        } else {
          const d = this.#dynamicIndex(idx);
          name = this.table.nameAt(d);
          value = this.table.valueAt(d);
          if (this.table.invalidCount > 0 && this.table.invalidAt(d)) this.invalid ??= fieldProblem(name);
        }
      } else if ((b & 0xe0) === 0x20) {
        // §6.3 Dynamic Table Size Update: only before the first field of a block (§4.2).
        if (fieldsSeen) throw new HpackError('LATE_TABLE_SIZE_UPDATE', 'dynamic table size update after a field');
        const size = this.#int(buf, 5);
        if (size > this.maxTableSize) throw new HpackError('TABLE_SIZE_TOO_LARGE', `table size ${size} above the limit ${this.maxTableSize}`);
        this.table.resize(size);
        continue;
      } else {
        // §6.2 literals: with incremental indexing (01), without (0000), never indexed (0001).
        const indexing = (b & 0xc0) === 0x40;
        sensitive = (b & 0xf0) === 0x10;
        const idx = this.#int(buf, indexing ? 6 : 4);
        let nameInvalid = false;
        if (idx === 0) {
          name = this.#string(buf);
          nameInvalid = BAD_NAME.test(name);
        } else if (idx <= STATIC_TABLE.length) name = STATIC_TABLE[idx - 1]![0];
        else {
          const d = this.#dynamicIndex(idx);
          name = this.table.nameAt(d);
          nameInvalid = this.table.invalidCount > 0 && this.table.invalidAt(d) && BAD_NAME.test(name);
        }
        value = this.#string(buf);
        const invalid = nameInvalid || BAD_VALUE.test(value);
        if (invalid) this.invalid ??= fieldProblem(name);
        if (indexing) this.table.add(name, value, invalid);
      }
      fieldsSeen = true;
      listSize += name.length + value.length + 32;
      if (listSize > this.maxHeaderListSize) throw new HpackError('HEADER_LIST_TOO_LARGE', `header list above ${this.maxHeaderListSize} bytes`);
      out.push(sensitive ? [name, value, true] : [name, value]);
    }
    return out;
  }

  /** Position in the dynamic table of a field index above the static table (§2.3.3). */
  #dynamicIndex(idx: number): number {
    if (idx === 0) throw new HpackError('INVALID_INDEX', 'index 0');
    const d = idx - STATIC_TABLE.length - 1;
    if (d >= this.table.length) throw new HpackError('INVALID_INDEX', `index ${idx} beyond the tables`);
    return d;
  }

  /** Read offset in the block being decoded. */
  #pos = 0;

  /** §5.1 integer with an N-bit prefix, read at `#pos`. */
  #int(buf: Uint8Array, prefix: number): number {
    let i = this.#pos;
    const max = (1 << prefix) - 1;
    let v = buf[i]! & max;
    i++;
    if (v < max) {
      this.#pos = i;
      return v;
    }
    let m = 0;
    for (;;) {
      if (i >= buf.length) throw new HpackError('TRUNCATED', 'integer runs past the block');
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** m;
      m += 7;
      if (v > 0x7fffffff) throw new HpackError('INTEGER_OVERFLOW', 'integer too large');
      if ((b & 0x80) === 0) {
        this.#pos = i;
        return v;
      }
    }
  }

  /** §5.2 string literal, read at `#pos`. */
  #string(buf: Uint8Array): string {
    if (this.#pos >= buf.length) throw new HpackError('TRUNCATED', 'string literal missing');
    const huffman = (buf[this.#pos]! & 0x80) !== 0;
    const len = this.#int(buf, 7);
    const j = this.#pos;
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
    } else s = latin1(buf, j, len);
    this.#pos = j + len;
    return s;
  }
}
