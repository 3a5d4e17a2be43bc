/**
 * QPACK's decoder (RFC 9204 §2.2, §3.2, §4.3–4.5): the dynamic table the peer's encoder fills through its
 * encoder stream (never past the capacity we advertised), field sections decoded against it — or held as
 * blocked until the inserts they need arrive, for at most `maxBlockedStreams` streams — and the decoder
 * stream's instructions (Section Acknowledgment, Stream Cancellation, Insert Count Increment) to send back.
 * Decoded fields are checked as HTTP/3 requires (RFC 9114 §4.2: lowercase token names, no NUL/CR/LF in
 * values); a section past `maxFieldSectionSize` stops decoding early.
 *
 * @example
 * ```ts
 * const d = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 16 });
 * peerEncoderStream.onData = (b) => decoderStream.write(d.encoderInstructions(b));
 * const r = d.decodeSection(streamId, headersPayload); // fields, or 'blocked' until inserts arrive
 * ```
 */
import { BAD_NAME, BAD_VALUE, fieldProblem } from '../../http2/hpack/decoder.js';
import { QpackError, readInstructions, readInt, readString, Truncated, writeInt, type Cursor } from './primitives.js';
import { QPACK_STATIC_TABLE } from './static-table.js';

const DECOMPRESSION_FAILED = 0x200;
const ENCODER_STREAM_ERROR = 0x201;
/** A decoded line's checks: name and value, the value only (a static name), none (a static line). */
const CHECK_BOTH = 0;
const CHECK_VALUE = 1;
const CHECK_NONE = 2;
/** Nothing to send (asked after every section: most have nothing). */
const NO_INSTRUCTIONS = Buffer.alloc(0);

export interface QpackDecoderOptions {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY we advertise. Default 4096; 0 means no dynamic table. */
  maxTableCapacity?: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS we advertise. Default 16. */
  maxBlockedStreams?: number;
  /** Largest decoded field section (names + values + 32 per field, RFC 9114 §4.2.2). Default 64 KiB. */
  maxFieldSectionSize?: number;
  /** Longest string literal. Default 16 KiB. */
  maxStringLength?: number;
}

/** A decoded section: its fields, and the first malformed field's problem (the request is malformed). */
export interface DecodedSection {
  fields: Array<readonly [string, string]>;
  invalid: string | null;
  /** The section was larger than `maxFieldSectionSize`: decoding stopped (answer 431). */
  tooLarge: boolean;
}

/**
 * One connection's QPACK decoder: the peer encoder's dynamic table and the sections that refer to it.
 *
 * @example
 * ```ts
 * const d = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 16 });
 * const fields = d.decodeSection(streamId, headersPayload); // or 'blocked' until inserts arrive
 * ```
 */
export class QpackDecoder {
  readonly maxTableCapacity: number;
  readonly maxBlockedStreams: number;
  readonly maxFieldSectionSize: number;
  readonly maxStringLength: number;
  /** Entries by absolute index (oldest first, evicted ones dropped from the front). */
  #entries: Array<[string, string]> = [];
  /** Absolute index of `#entries[0]`. */
  #dropped = 0;
  #size = 0;
  #capacity = 0;
  /** Inserts received in all (the Insert Count, §2.1.4). */
  #inserted = 0;
  /** The Insert Count the encoder knows we have (acknowledged by sections and increments). */
  #known = 0;
  /** Unfinished encoder-stream bytes. */
  #pending: Buffer | null = null;
  /** Streams waiting for inserts: their Required Insert Count. */
  readonly #blocked = new Map<number, number>();
  /** Decoder-stream bytes to send (acknowledgments, cancellations, increments). */
  #out: number[] = [];

  constructor(o: QpackDecoderOptions = {}) {
    this.maxTableCapacity = o.maxTableCapacity ?? 4096;
    this.maxBlockedStreams = o.maxBlockedStreams ?? 16;
    this.maxFieldSectionSize = o.maxFieldSectionSize ?? 64 * 1024;
    this.maxStringLength = o.maxStringLength ?? 16 * 1024;
  }

  /** Entries in the dynamic table now. */
  get tableLength(): number {
    return this.#entries.length;
  }

  /** Bytes the dynamic table holds (RFC 9204 §3.2.1 sizes). */
  get tableSize(): number {
    return this.#size;
  }

  /** Streams blocked now. */
  get blockedStreams(): number {
    return this.#blocked.size;
  }

  /**
   * Takes bytes of the peer's encoder stream (§4.3), in any split; returns the streams its inserts unblocked.
   * Throws QpackError QPACK_ENCODER_STREAM_ERROR on a bad instruction.
   */
  encoderInstructions(chunk: Buffer): number[] {
    this.#pending = readInstructions(this.#pending, chunk, ENCODER_STREAM_ERROR, this.#instruction);
    // §4.4.3: tell the encoder what arrived (sections that need these entries will acknowledge them too).
    if (this.#inserted > this.#known) {
      writeInt(this.#out, 0x00, 6, this.#inserted - this.#known);
      this.#known = this.#inserted;
    }
    const unblocked: number[] = [];
    for (const [stream, ric] of this.#blocked) {
      if (ric <= this.#inserted) {
        unblocked.push(stream);
        this.#blocked.delete(stream);
      }
    }
    return unblocked;
  }

  /** One encoder instruction (§4.3), made once per decoder (not a closure per call). */
  readonly #instruction = (c: Cursor, b: number): void => {
    if ((b & 0x80) !== 0) {
      // Insert With Name Reference (§4.3.2): T bit, 6-bit index.
      const isStatic = (b & 0x40) !== 0;
      const index = readInt(c, 6);
      const value = readString(c, 7, this.maxStringLength);
      const name = isStatic ? this.#static(index, ENCODER_STREAM_ERROR)[0] : this.#relative(index, ENCODER_STREAM_ERROR)[0];
      this.#insert(name, value);
    } else if ((b & 0x40) !== 0) {
      // Insert With Literal Name (§4.3.3): H bit and 5-bit length.
      const name = readString(c, 5, this.maxStringLength);
      const value = readString(c, 7, this.maxStringLength);
      this.#insert(name, value);
    } else if ((b & 0x20) !== 0) {
      // Set Dynamic Table Capacity (§4.3.1).
      const cap = readInt(c, 5);
      if (cap > this.maxTableCapacity) throw new QpackError(ENCODER_STREAM_ERROR, `a table capacity of ${cap}, past the ${this.maxTableCapacity} we allow`);
      this.#capacity = cap;
      this.#evict(0);
    } else {
      // Duplicate (§4.3.4).
      const [name, value] = this.#relative(readInt(c, 5), ENCODER_STREAM_ERROR);
      this.#insert(name, value);
    }
  };

  /**
   * Decodes a field section (a HEADERS frame's payload) for `stream`: its fields, or `'blocked'` when it
   * refers to entries not yet inserted (call again when `encoderInstructions` returns the stream). Throws
   * QpackError QPACK_DECOMPRESSION_FAILED on a bad section or too many blocked streams.
   */
  decodeSection(stream: number, block: Buffer): DecodedSection | 'blocked' {
    const c: Cursor = { buf: block, at: 0 };
    try {
      const ric = this.#requiredInsertCount(readInt(c, 8));
      if (c.at >= block.length) throw new Truncated();
      const negative = (block[c.at]! & 0x80) !== 0;
      const delta = readInt(c, 7);
      if (negative && delta + 1 > ric) throw new QpackError(DECOMPRESSION_FAILED, 'a negative Base below 0');
      const base = negative ? ric - delta - 1 : ric + delta;
      if (ric > this.#inserted) {
        if (!this.#blocked.has(stream) && this.#blocked.size >= this.maxBlockedStreams) throw new QpackError(DECOMPRESSION_FAILED, `more than ${this.maxBlockedStreams} blocked streams`);
        this.#blocked.set(stream, ric);
        return 'blocked';
      }
      this.#blocked.delete(stream);
      const fields: Array<readonly [string, string]> = [];
      let invalid: string | null = null;
      let size = 0;
      let tooLarge = false;
      let largestRef = 0;
      while (c.at < block.length) {
        const b = block[c.at]!;
        // An indexed line is the table's own entry (entries are never changed: shared, not copied).
        let field: readonly [string, string];
        // What is left to check (RFC 9114 §4.2, §10.3): the static table's names and lines are valid already.
        let check = CHECK_BOTH;
        if ((b & 0x80) !== 0) {
          // Indexed Field Line (§4.5.2).
          const isStatic = (b & 0x40) !== 0;
          const i = readInt(c, 6);
          if (isStatic) {
            field = this.#static(i, DECOMPRESSION_FAILED);
            check = CHECK_NONE;
          }
          else {
            field = this.#ref(base - 1 - i, ric);
            largestRef = Math.max(largestRef, base - i);
          }
        } else if ((b & 0x40) !== 0) {
          // Literal Field Line With Name Reference (§4.5.4): N bit, T bit, 4-bit index.
          const isStatic = (b & 0x10) !== 0;
          const i = readInt(c, 4);
          let name: string;
          if (isStatic) {
            name = this.#static(i, DECOMPRESSION_FAILED)[0];
            check = CHECK_VALUE;
          } else {
            name = this.#ref(base - 1 - i, ric)[0];
            largestRef = Math.max(largestRef, base - i);
          }
          field = [name, readString(c, 7, this.maxStringLength)];
        } else if ((b & 0x20) !== 0) {
          // Literal Field Line With Literal Name (§4.5.6): N bit, H bit, 3-bit length.
          const name = readString(c, 3, this.maxStringLength);
          field = [name, readString(c, 7, this.maxStringLength)];
        } else if ((b & 0x10) !== 0) {
          // Indexed Field Line With Post-Base Index (§4.5.3).
          const a = base + readInt(c, 4);
          field = this.#ref(a, ric);
          largestRef = Math.max(largestRef, a + 1);
        } else {
          // Literal Field Line With Post-Base Name Reference (§4.5.5): N bit, 3-bit index.
          const a = base + readInt(c, 3);
          const name = this.#ref(a, ric)[0];
          largestRef = Math.max(largestRef, a + 1);
          field = [name, readString(c, 7, this.maxStringLength)];
        }
        const [name, value] = field;
        size += name.length + value.length + 32;
        if (size > this.maxFieldSectionSize) {
          tooLarge = true;
          break;
        }
        if (invalid === null && check !== CHECK_NONE && ((check === CHECK_BOTH && BAD_NAME.test(name)) || BAD_VALUE.test(value))) invalid = fieldProblem(name);
        fields.push(field);
      }
      // §2.1.2: a section naming dynamic entries is acknowledged (Section Acknowledgment, §4.4.1).
      if (ric > 0) {
        if (!tooLarge && largestRef !== ric) throw new QpackError(DECOMPRESSION_FAILED, `a Required Insert Count of ${ric}, but the largest reference is ${largestRef} (§4.5.1.1)`);
        writeInt(this.#out, 0x80, 7, stream);
        this.#known = Math.max(this.#known, ric);
      }
      return { fields, invalid, tooLarge };
    } catch (err) {
      if (err instanceof Truncated) throw new QpackError(DECOMPRESSION_FAILED, 'a field section cut short');
      throw err;
    }
  }

  /** A stream was reset or abandoned before its section was decoded (Stream Cancellation, §4.4.2). */
  cancel(stream: number): void {
    const wasBlocked = this.#blocked.delete(stream);
    if (this.maxTableCapacity > 0 && wasBlocked) writeInt(this.#out, 0x40, 6, stream);
  }

  /** Decoder-stream bytes to send now (empty when there are none). */
  takeInstructions(): Buffer {
    if (this.#out.length === 0) return NO_INSTRUCTIONS;
    const b = Buffer.from(this.#out);
    this.#out = [];
    return b;
  }

  /** §4.5.1.1: the Required Insert Count from its encoding modulo 2 × MaxEntries. */
  #requiredInsertCount(encoded: number): number {
    if (encoded === 0) return 0;
    const maxEntries = Math.floor(this.maxTableCapacity / 32);
    const full = 2 * maxEntries;
    if (encoded > full) throw new QpackError(DECOMPRESSION_FAILED, 'an encoded Required Insert Count past 2 × MaxEntries');
    const maxValue = this.#inserted + maxEntries;
    const maxWrapped = Math.floor(maxValue / full) * full;
    let ric = maxWrapped + encoded - 1;
    if (ric > maxValue) {
      if (ric <= full) throw new QpackError(DECOMPRESSION_FAILED, 'an invalid Required Insert Count');
      ric -= full;
    }
    if (ric === 0) throw new QpackError(DECOMPRESSION_FAILED, 'a Required Insert Count of 0 encoded as non-zero');
    return ric;
  }

  #static(i: number, code: number): readonly [string, string] {
    const e = QPACK_STATIC_TABLE[i];
    if (e === undefined) throw new QpackError(code, `static table index ${i} does not exist`);
    return e;
  }

  /** A section's reference to absolute index `a`: below its Required Insert Count (§4.5.1.1), still in the table. */
  #ref(a: number, ric: number): readonly [string, string] {
    if (a >= ric) throw new QpackError(DECOMPRESSION_FAILED, `a reference to entry ${a}, at or past the Required Insert Count ${ric}`);
    return this.#absolute(a);
  }

  /** An entry by absolute index, if still in the table. */
  #absolute(a: number): [string, string] {
    const e = this.#entries[a - this.#dropped];
    if (e === undefined || a < this.#dropped) throw new QpackError(DECOMPRESSION_FAILED, `dynamic table entry ${a} does not exist (or was evicted)`);
    return e;
  }

  /** On the encoder stream, a relative index counts back from the last insert (§3.2.5). */
  #relative(i: number, code: number): [string, string] {
    const a = this.#inserted - 1 - i;
    const e = a >= this.#dropped ? this.#entries[a - this.#dropped] : undefined;
    if (e === undefined) throw new QpackError(code, `relative index ${i} names no entry`);
    return e;
  }

  #insert(name: string, value: string): void {
    const size = name.length + value.length + 32;
    if (size > this.#capacity) throw new QpackError(ENCODER_STREAM_ERROR, `an entry of ${size} bytes, past the table capacity ${this.#capacity} (§3.2.2)`);
    this.#evict(size);
    this.#entries.push([name, value]);
    this.#size += size;
    this.#inserted++;
  }

  /** Evicts the oldest entries until `room` more bytes fit (§3.2.2). */
  #evict(room: number): void {
    while (this.#size + room > this.#capacity && this.#entries.length > 0) {
      const [n, v] = this.#entries.shift()!;
      this.#size -= n.length + v.length + 32;
      this.#dropped++;
    }
  }
}
