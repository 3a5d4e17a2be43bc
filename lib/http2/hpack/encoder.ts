import { DynamicTable } from './dynamic-table.js';
import type { HeaderField } from './decoder.js';
import { huffmanEncode, huffmanLength } from './huffman.js';
import { changesPerMessage, isSensitive } from './indexing.js';
import { STATIC_TABLE } from './tables.js';

/** name → static index of the first entry with that name; name → value → index of the exact entry. */
const STATIC_NAME = new Map<string, number>();
const STATIC_EXACT = new Map<string, Map<string, number>>();
STATIC_TABLE.forEach(([n, v], i) => {
  if (!STATIC_NAME.has(n)) STATIC_NAME.set(n, i + 1);
  let m = STATIC_EXACT.get(n);
  if (m === undefined) STATIC_EXACT.set(n, (m = new Map()));
  m.set(v, i + 1);
});

export interface HpackEncoderOptions {
  /** Dynamic table size (the peer's SETTINGS_HEADER_TABLE_SIZE, at most). Default 4096. */
  maxTableSize?: number;
  /** Use Huffman coding when shorter. Default true. */
  huffman?: boolean;
}

/**
 * HPACK encoding (RFC 7541 §6). Index choice: an exact match in the static or dynamic table is sent as
 * one index; sensitive fields (authorization, proxy-authorization, set-cookie, cookies under 20 octets,
 * fields flagged sensitive — RFC 7541 §7.1.3) as never-indexed literals; values that change per message
 * (`:path`, content-length, etags, last-modified...) as literals without indexing, so they do not evict
 * useful entries; everything else with incremental indexing. Strings are Huffman-coded when shorter. On
 * the hpack-test-case stories its output is no larger than nghttp2's.
 *
 * @example
 * ```ts
 * const e = new HpackEncoder();
 * const block = e.encode([[':status', '200'], ['content-type', 'text/plain']]);
 * ```
 */
export class HpackEncoder {
  readonly table: DynamicTable;
  readonly huffman: boolean;
  #pendingSizeUpdate: number | null = null;
  /** Last literal-without-indexing encoding per name (`content-length` and `last-modified` repeat across responses). */
  #literalCache = new Map<string, { value: string; bytes: Buffer }>();
  #buf = Buffer.allocUnsafe(4096);
  #at = 0;

  constructor(options: HpackEncoderOptions = {}) {
    this.table = new DynamicTable(options.maxTableSize ?? 4096);
    this.huffman = options.huffman ?? true;
  }

  /** Changes the table size; the update is signalled at the start of the next block (§4.2, §6.3). */
  setMaxTableSize(size: number): void {
    this.table.resize(size);
    this.#pendingSizeUpdate = size;
  }

  /** Encodes one header block. Names must be lowercase (HTTP/2 requires it, RFC 9113 §8.2.1). */
  encode(fields: ReadonlyArray<HeaderField | readonly [string, string]>): Buffer {
    this.#encode(fields);
    return Buffer.from(this.#buf.subarray(0, this.#at));
  }

  /**
   * The same block as a latin1 string (one character per octet): what a connection writing strings sends
   * without making a Buffer (a small response goes out as one string).
   */
  encodeLatin1(fields: ReadonlyArray<HeaderField | readonly [string, string]>): string {
    this.#encode(fields);
    return this.#buf.latin1Slice(0, this.#at);
  }

  #encode(fields: ReadonlyArray<HeaderField | readonly [string, string]>): void {
    this.#at = 0;
    if (this.#pendingSizeUpdate !== null) {
      this.#int(this.#pendingSizeUpdate, 5, 0x20);
      this.#pendingSizeUpdate = null;
    }
    for (const f of fields) {
      const name = f[0];
      const value = f[1];
      const sensitive = isSensitive(name, value, (f as HeaderField)[2] === true);
      if (!sensitive) {
        const exact = STATIC_EXACT.get(name)?.get(value);
        if (exact !== undefined) {
          this.#int(exact, 7, 0x80);
          continue;
        }
        const d = this.table.find(name, value);
        if (d >= 0) {
          this.#int(STATIC_TABLE.length + 1 + d, 7, 0x80);
          continue;
        }
      }
      // Name index: static first, then dynamic.
      let nameIdx = STATIC_NAME.get(name) ?? 0;
      if (nameIdx === 0) {
        const d = this.table.find(name, value);
        if (d <= -2) nameIdx = STATIC_TABLE.length + 1 + (-d - 2);
      }
      if (sensitive) this.#int(nameIdx, 4, 0x10);
      else if (changesPerMessage(name) || name.length + value.length + 32 > this.table.maxSize / 2) {
        // Not indexed: the bytes depend only on the field, so a repeated value is copied, not re-encoded.
        // Only fields named by a static index are cached (below): a dynamic index moves as entries are added.
        const cached = this.#literalCache.get(name);
        // Stryker disable next-line ConditionalExpression,LogicalOperator,BlockStatement: not taking the cache writes the same bytes, only slower
        if (cached !== undefined && cached.value === value) {
          this.#ensure(cached.bytes.length);
          cached.bytes.copy(this.#buf, this.#at);
          this.#at += cached.bytes.length;
          continue;
        }
        const start = this.#at;
        this.#int(nameIdx, 4, 0x00);
        if (nameIdx === 0) this.#string(name);
        this.#string(value);
        if (nameIdx !== 0 && nameIdx <= STATIC_TABLE.length) this.#literalCache.set(name, { value, bytes: Buffer.from(this.#buf.subarray(start, this.#at)) });
        continue;
      } else {
        this.#int(nameIdx, 6, 0x40);
        this.table.add(name, value);
      }
      if (nameIdx === 0) this.#string(name);
      this.#string(value);
    }
  }

  #ensure(n: number): void {
    // Stryker disable next-line EqualityOperator: growing one byte early writes the same bytes
    if (this.#at + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(next, 0, 0, this.#at);
    this.#buf = next;
  }

  /** §5.1: `v` with an N-bit prefix, the rest of the first byte being `flags`. */
  #int(v: number, prefix: number, flags: number): void {
    this.#ensure(6);
    const max = (1 << prefix) - 1;
    const b = this.#buf;
    if (v < max) {
      b[this.#at++] = flags | v;
      return;
    }
    b[this.#at++] = flags | max;
    v -= max;
    while (v >= 128) {
      b[this.#at++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    b[this.#at++] = v;
  }

  /** §5.2: a string literal, Huffman-coded when shorter. */
  #string(s: string): void {
    const raw = s.length;
    const h = this.huffman ? huffmanLength(s) : raw;
    if (h < raw) {
      this.#int(h, 7, 0x80);
      this.#ensure(h);
      this.#at = huffmanEncode(s, this.#buf, this.#at);
    } else {
      this.#int(raw, 7, 0x00);
      this.#ensure(raw);
      this.#buf.latin1Write(s, this.#at, raw);
      this.#at += raw;
    }
  }
}
