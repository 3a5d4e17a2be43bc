/**
 * QPACK's encoder, static only (RFC 9204 §4.5): a field that is in the static table is one index; a name
 * that is, a name reference with a literal value; anything else, a literal name and value — Huffman-coded
 * when shorter. It never inserts into a dynamic table, so its sections need no acknowledgment and never
 * block the peer (Required Insert Count 0), and it sends nothing on its encoder stream.
 *
 * @example
 * ```ts
 * const block = new QpackEncoder().encode([[':status', '200'], ['content-type', 'text/plain']]);
 * ```
 */
import { writeInt, writeString } from './primitives.js';
import { QPACK_STATIC_TABLE } from './static-table.js';

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
 * Field → its encoded line, by name then value (no key string made per field), shared by every connection
 * of the process (the encoding is the same for all: no dynamic table). Cleared whole when full: a bound,
 * not an LRU.
 */
const LINES = new Map<string, Map<string, Buffer>>();
let cached = 0;
/** The lines of the section being encoded (one encode at a time: JavaScript is single-threaded). */
const SCRATCH: Buffer[] = [];

function lineFor(name: string, value: string): Buffer {
  let byValue = LINES.get(name);
  let line = byValue?.get(value);
  if (line !== undefined) return line;
  line = encodeLine(name, value, `${name}\0${value}`);
  if (cached >= CACHE_LIMIT) {
    LINES.clear();
    cached = 0;
    byValue = undefined;
  }
  if (byValue === undefined) LINES.set(name, (byValue = new Map()));
  byValue.set(value, line);
  cached++;
  return line;
}

/**
 * A static-only QPACK encoder: no state, so one serves every stream of every connection.
 *
 * @example
 * ```ts
 * const block = new QpackEncoder().encode([[':status', '200'], ['content-type', 'text/plain']]);
 * ```
 */
export class QpackEncoder {
  /** A field section: the prefix (Required Insert Count 0, Base 0), then one line per field. */
  encode(fields: ReadonlyArray<readonly [string, string]>): Buffer {
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
    for (let k = 0; k < SCRATCH.length; k++) at += SCRATCH[k]!.copy(out, at);
    SCRATCH.length = 0;
    return out;
  }
}

function encodeLine(name: string, value: string, key: string): Buffer {
  const out: number[] = [];
  const exact = EXACT.get(key);
  if (exact !== undefined) writeInt(out, 0xc0, 6, exact); // Indexed Field Line, static (§4.5.2)
  else {
    const ni = NAMES.get(name);
    if (ni !== undefined) {
      writeInt(out, 0x50, 4, ni); // Literal With Name Reference, static, N = 0 (§4.5.4)
      writeString(out, 0x00, 7, value);
    } else {
      writeString(out, 0x20, 3, name); // Literal With Literal Name, N = 0 (§4.5.6)
      writeString(out, 0x00, 7, value);
    }
  }
  return Buffer.from(out);
}
