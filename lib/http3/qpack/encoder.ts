/**
 * QPACK's encoder (RFC 9204 §2.1, §4.3, §4.5). A field in the static table is one index. Other fields worth
 * keeping (not sensitive, not a value that changes per message — the rule HPACK's encoder follows too) are
 * inserted into the dynamic table through the encoder stream, and later sections refer to them by index.
 *
 * What the peer's decoder allows bounds what it does: the table's capacity (its
 * SETTINGS_QPACK_MAX_TABLE_CAPACITY, §3.2.3), and how many streams may wait for inserts not yet acknowledged
 * (SETTINGS_QPACK_BLOCKED_STREAMS, §2.1.2) — past that, a section refers only to acknowledged entries. An
 * entry is evicted only when no section awaiting acknowledgment refers to it (§2.1.1). The decoder
 * stream's acknowledgments, cancellations and increments (§4.4) move what is known; a peer that never
 * acknowledges costs at most `maxUnacknowledgedSections` records, after which sections use the static
 * table and literals only.
 *
 * Until `configure` is called with the peer's settings (§3.2.3: capacity 0 until then), and when either
 * capacity is 0, it is static-only: no state, Required Insert Count 0, nothing on the encoder stream.
 *
 * @example
 * ```ts
 * const e = new QpackEncoder({ maxTableCapacity: 4096 });
 * e.configure(peerMaxTableCapacity, peerBlockedStreams); // from the peer's SETTINGS
 * const block = e.encode([[':status', '200'], ['server', 'covet']], streamId);
 * encoderStream.write(e.takeInstructions()); // the inserts the block may refer to
 * ```
 */
import { changesPerMessage, isSensitive } from '../../http2/hpack/indexing.js';
import { intLength, putInt, QpackError, readInstructions, readInt, writeInt, writeString, type Cursor } from './primitives.js';
import { QPACK_STATIC_TABLE } from './static-table.js';

const DECODER_STREAM_ERROR = 0x202;
/** Nothing to send on the encoder stream (asked after every section: most have nothing). */
const NO_INSTRUCTIONS = Buffer.alloc(0);

const EXACT = new Map<string, number>();
const NAMES = new Map<string, number>();
for (let i = QPACK_STATIC_TABLE.length - 1; i >= 0; i--) {
  const [n, v] = QPACK_STATIC_TABLE[i]!;
  EXACT.set(`${n}\0${v}`, i);
  NAMES.set(n, i); // the lowest index of a name wins (iterating down)
}

/** Encoded lines kept for fields seen before (a response's headers repeat), up to this many. */
const CACHE_LIMIT = 512;
/**
 * Field → its static-table or literal line, by name then value (no key string made per field), shared by
 * every connection of the process (those bytes depend on the field alone). Sensitive fields are not kept.
 * Cleared whole when full: a bound, not an LRU.
 */
const LINES = new Map<string, Map<string, Buffer>>();
let cached = 0;
/** The lines of the section being encoded: a Buffer, or a dynamic entry's absolute index (one encode at a time). */
const SCRATCH: Array<Buffer | number> = [];

function lineFor(name: string, value: string): Buffer {
  // Stryker disable all: the cache — with it or without it (or cleared at any count) the same bytes go out
  let byValue = LINES.get(name);
  let line = byValue?.get(value);
  if (line !== undefined) return line;
  const sensitive = isSensitive(name, value, false);
  line = encodeLine(name, value, sensitive);
  if (sensitive) return line;
  if (cached >= CACHE_LIMIT) {
    LINES.clear();
    cached = 0;
    byValue = undefined;
  }
  if (byValue === undefined) LINES.set(name, (byValue = new Map()));
  byValue.set(value, line);
  cached++;
  // Stryker restore all
  return line;
}

/** An Indexed Field Line of the static table (§4.5.2: `11xxxxxx`). */
function isStaticIndex(line: Buffer): boolean {
  return (line[0]! & 0xc0) === 0xc0;
}

export interface QpackEncoderOptions {
  /** The largest dynamic table this encoder fills; the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY caps it. Default 4096; 0: static only. */
  maxTableCapacity?: number;
  /** Sections waiting for the peer's acknowledgment past which new ones refer to no entry. Default 1024. */
  maxUnacknowledgedSections?: number;
}

/**
 * One connection's QPACK encoder: the dynamic table it fills and what the peer has acknowledged of it.
 *
 * @example
 * ```ts
 * const e = new QpackEncoder();
 * e.configure(4096, 16);
 * const block = e.encode([[':status', '200'], ['x-powered-by', 'covet']], 0);
 * const inserts = e.takeInstructions(); // goes out on the encoder stream
 * ```
 */
export class QpackEncoder {
  readonly maxTableCapacity: number;
  readonly maxUnacknowledgedSections: number;
  /** The capacity in use: min(ours, the peer's), 0 until configured. */
  #capacity = 0;
  /** The peer's MaxEntries (§3.2.2), from its advertised capacity: what the Required Insert Count wraps at. */
  #maxEntries = 0;
  #peerBlockedStreams = 0;
  #configured = false;
  /** Entries from `#dropped` (oldest) on, by absolute index − `#dropped`. */
  readonly #names: string[] = [];
  readonly #values: string[] = [];
  #dropped = 0;
  #size = 0;
  /** Inserts sent in all (the Insert Count, §2.1.4). */
  #inserted = 0;
  /** The Known Received Count (§2.1.4): inserts the peer has acknowledged. */
  #known = 0;
  /** name → value → absolute index of the newest entry holding that field. */
  readonly #index = new Map<string, Map<string, number>>();
  /** Sections awaiting acknowledgment, per stream, in order: pairs of (Required Insert Count, lowest index referred to). */
  readonly #sections = new Map<number, number[]>();
  #unacknowledged = 0;
  /** Streams with a section the peer may be blocked on: their highest Required Insert Count above `#known`. */
  readonly #blocking = new Map<number, number>();
  /** Encoder-stream bytes to send. */
  #out: number[] = [];
  /** An unfinished decoder-stream instruction. */
  #pending: Buffer | null = null;

  constructor(o: QpackEncoderOptions = {}) {
    this.maxTableCapacity = o.maxTableCapacity ?? 4096;
    this.maxUnacknowledgedSections = o.maxUnacknowledgedSections ?? 1024;
  }

  /** The dynamic table's capacity in use (0: static only). */
  get tableCapacity(): number {
    return this.#capacity;
  }

  /** Bytes the dynamic table holds (§3.2.1 sizes). */
  get tableSize(): number {
    return this.#size;
  }

  /** Inserts made (the Insert Count). */
  get insertCount(): number {
    return this.#inserted;
  }

  /** Inserts the peer has acknowledged (the Known Received Count). */
  get knownReceivedCount(): number {
    return this.#known;
  }

  /** Streams whose sections the peer may still be blocked on. */
  get blockingStreams(): number {
    return this.#blocking.size;
  }

  /** Sections whose acknowledgment is awaited. */
  get unacknowledgedSections(): number {
    return this.#unacknowledged;
  }

  /**
   * Takes the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY and SETTINGS_QPACK_BLOCKED_STREAMS (§3.2.3, §2.1.2);
   * once, as settings come once. A capacity above 0 queues Set Dynamic Table Capacity (§4.3.1).
   */
  configure(peerMaxTableCapacity: number, peerBlockedStreams: number): void {
    if (this.#configured) return;
    this.#configured = true;
    this.#capacity = Math.min(this.maxTableCapacity, peerMaxTableCapacity);
    this.#maxEntries = Math.floor(peerMaxTableCapacity / 32);
    this.#peerBlockedStreams = peerBlockedStreams;
    if (this.#capacity > 0) writeInt(this.#out, 0x20, 5, this.#capacity);
  }

  /**
   * A field section for `stream` (a HEADERS frame's payload). With no stream, or no table, it refers to the
   * static table only. Call `takeInstructions` after: the inserts the section may refer to.
   */
  encode(fields: ReadonlyArray<readonly [string, string]>, stream = -1): Buffer {
    if (this.#capacity === 0 || stream < 0) return encodeStatic(fields);
    // References only while the peer keeps up with acknowledgments (a bound on `#sections`).
    const refer = this.#unacknowledged < this.maxUnacknowledgedSections;
    let ric = 0;
    let lowest = Number.MAX_SAFE_INTEGER;
    const mayBlock = this.#blocking.has(stream) || this.#blocking.size < this.#peerBlockedStreams;
    for (let k = 0; k < fields.length; k++) {
      const name = fields[k]![0];
      const value = fields[k]![1];
      let a = this.#index.get(name)?.get(value);
      if (a === undefined) {
        const line = lineFor(name, value);
        if (!refer || isStaticIndex(line) || !this.#worthKeeping(name, value) || (a = this.#insert(name, value, lowest)) < 0 || (a >= this.#known && !mayBlock)) {
          SCRATCH.push(line);
          continue;
        }
      } else if (!refer || (a >= this.#known && !mayBlock)) {
        SCRATCH.push(lineFor(name, value));
        continue;
      }
      SCRATCH.push(a);
      if (a + 1 > ric) ric = a + 1;
      if (a < lowest) lowest = a;
    }
    return this.#assemble(stream, ric, lowest);
  }

  /** Encoder-stream bytes to send now (empty when there are none). */
  takeInstructions(): Buffer {
    if (this.#out.length === 0) return NO_INSTRUCTIONS;
    const b = Buffer.from(this.#out);
    this.#out = [];
    return b;
  }

  /**
   * Takes bytes of the peer's decoder stream (§4.4), in any split. Throws QpackError
   * QPACK_DECODER_STREAM_ERROR on an acknowledgment of no section or an increment past the inserts.
   */
  decoderInstructions(chunk: Buffer): void {
    this.#pending = readInstructions(this.#pending, chunk, DECODER_STREAM_ERROR, this.#instruction);
  }

  /** One decoder instruction (§4.4), made once per encoder (not a closure per call). */
  readonly #instruction = (c: Cursor, b: number): void => {
    if ((b & 0x80) !== 0) this.#acknowledged(readInt(c, 7));
    else if ((b & 0x40) !== 0) this.#cancelled(readInt(c, 6));
    else {
      const n = readInt(c, 6);
      if (n === 0 || this.#known + n > this.#inserted) throw new QpackError(DECODER_STREAM_ERROR, `an Insert Count Increment of ${n}, with ${this.#inserted - this.#known} inserts unacknowledged (§4.4.3)`);
      this.#known += n;
      this.#unblocked();
    }
  };

  /** §4.4.1: the stream's first section awaiting acknowledgment is acknowledged. */
  #acknowledged(stream: number): void {
    const list = this.#sections.get(stream);
    if (list === undefined) throw new QpackError(DECODER_STREAM_ERROR, `a Section Acknowledgment for stream ${stream}, which has no section awaiting one (§4.4.1)`);
    const ric = list[0]!;
    list.splice(0, 2);
    this.#unacknowledged--;
    if (list.length === 0) this.#sections.delete(stream);
    if (ric > this.#known) this.#known = ric;
    this.#blocking.delete(stream);
    if (list.length > 0) this.#blockOn(stream, list);
    this.#unblocked();
  }

  /** §4.4.2: the stream's sections will not be acknowledged; their references are released. */
  #cancelled(stream: number): void {
    const list = this.#sections.get(stream);
    if (list === undefined) return;
    this.#unacknowledged -= list.length / 2;
    this.#sections.delete(stream);
    this.#blocking.delete(stream);
  }

  /** The stream stays blocking while one of its sections needs more than is known. */
  #blockOn(stream: number, list: number[]): void {
    let max = 0;
    for (let i = 0; i < list.length; i += 2) if (list[i]! > max) max = list[i]!;
    if (max > this.#known) this.#blocking.set(stream, max);
  }

  #unblocked(): void {
    for (const [s, ric] of this.#blocking) if (ric <= this.#known) this.#blocking.delete(s);
  }

  /** Not sensitive, not a per-message value, and at most a quarter of the table (it would evict too much). */
  #worthKeeping(name: string, value: string): boolean {
    return !isSensitive(name, value, false) && !changesPerMessage(name) && (name.length + value.length + 32) * 4 <= this.#capacity;
  }

  /**
   * Inserts the field (§4.3.2, §4.3.3), evicting what must go — only entries no section awaiting
   * acknowledgment refers to (§2.1.1), nor the one being encoded (`pinned` and above). Its absolute index,
   * or −1 when the room cannot be made.
   */
  #insert(name: string, value: string, pinned: number): number {
    const size = name.length + value.length + 32;
    let free = this.#capacity - this.#size;
    if (free < size) {
      const limit = Math.min(pinned, this.#lowestReferenced());
      let n = 0;
      while (free < size) {
        const a = this.#dropped + n;
        if (a >= limit || n >= this.#names.length) return -1;
        free += this.#names[n]!.length + this.#values[n]!.length + 32;
        n++;
      }
      for (let i = 0; i < n; i++) this.#evictOldest();
    }
    const s = NAMES.get(name);
    if (s !== undefined) {
      writeInt(this.#out, 0xc0, 6, s); // Insert With Name Reference, static (§4.3.2)
      writeString(this.#out, 0x00, 7, value);
    } else {
      writeString(this.#out, 0x40, 5, name); // Insert With Literal Name (§4.3.3)
      writeString(this.#out, 0x00, 7, value);
    }
    this.#names.push(name);
    this.#values.push(value);
    this.#size += size;
    let byValue = this.#index.get(name);
    if (byValue === undefined) this.#index.set(name, (byValue = new Map()));
    byValue.set(value, this.#inserted);
    return this.#inserted++;
  }

  #evictOldest(): void {
    const name = this.#names.shift()!;
    const value = this.#values.shift()!;
    this.#size -= name.length + value.length + 32;
    // A field is inserted only when the index has none: each entry is its field's only one.
    const byValue = this.#index.get(name)!;
    byValue.delete(value);
    if (byValue.size === 0) this.#index.delete(name);
    this.#dropped++;
  }

  /** The lowest absolute index a section awaiting acknowledgment refers to. */
  #lowestReferenced(): number {
    let low = Number.MAX_SAFE_INTEGER;
    for (const list of this.#sections.values()) for (let i = 1; i < list.length; i += 2) if (list[i]! < low) low = list[i]!;
    return low;
  }

  /** The section's bytes (§4.5.1: Base = Required Insert Count, every reference before it), and its record. */
  #assemble(stream: number, ric: number, lowest: number): Buffer {
    const encodedRic = ric === 0 ? 0 : (ric % (2 * this.#maxEntries)) + 1;
    let size = intLength(encodedRic, 8) + 1;
    for (let k = 0; k < SCRATCH.length; k++) {
      const l = SCRATCH[k]!;
      size += typeof l === 'number' ? intLength(ric - 1 - l, 6) : l.length;
    }
    const out = Buffer.allocUnsafe(size);
    let at = putInt(out, 0, 0x00, 8, encodedRic);
    out[at++] = 0x00; // Sign 0, Delta Base 0
    for (let k = 0; k < SCRATCH.length; k++) {
      const l = SCRATCH[k]!;
      if (typeof l === 'number') at = putInt(out, at, 0x80, 6, ric - 1 - l); // Indexed Field Line, dynamic (§4.5.2)
      else at += l.copy(out, at);
    }
    SCRATCH.length = 0;
    if (ric > 0) {
      const list = this.#sections.get(stream);
      if (list === undefined) this.#sections.set(stream, [ric, lowest]);
      else list.push(ric, lowest);
      this.#unacknowledged++;
      if (ric > this.#known && (this.#blocking.get(stream) ?? 0) < ric) this.#blocking.set(stream, ric);
    }
    return out;
  }
}

/** A section of static references and literals only (Required Insert Count 0, Base 0). */
function encodeStatic(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  let size = 2;
  for (let k = 0; k < fields.length; k++) {
    const line = lineFor(fields[k]![0], fields[k]![1]);
    SCRATCH.push(line);
    size += line.length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = 0x00;
  out[1] = 0x00;
  let at = 2;
  for (let k = 0; k < SCRATCH.length; k++) at += (SCRATCH[k] as Buffer).copy(out, at);
  SCRATCH.length = 0;
  return out;
}

/** A field's line without the dynamic table; a sensitive one never indexed by whoever forwards it (N, §4.5.4). */
function encodeLine(name: string, value: string, sensitive: boolean): Buffer {
  const out: number[] = [];
  const exact = sensitive ? undefined : EXACT.get(`${name}\0${value}`);
  if (exact !== undefined) writeInt(out, 0xc0, 6, exact); // Indexed Field Line, static (§4.5.2)
  else {
    const ni = NAMES.get(name);
    if (ni !== undefined) {
      writeInt(out, sensitive ? 0x70 : 0x50, 4, ni); // Literal With Name Reference, static (§4.5.4)
      writeString(out, 0x00, 7, value);
    } else {
      writeString(out, sensitive ? 0x30 : 0x20, 3, name); // Literal With Literal Name (§4.5.6)
      writeString(out, 0x00, 7, value);
    }
  }
  return Buffer.from(out);
}
