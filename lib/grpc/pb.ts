/**
 * The little of the protobuf wire format (protobuf.dev/programming-guides/encoding) the standard services
 * need without a .proto at run time: varints, strings, bytes and nested messages, read and written by
 * field number. Unknown fields are skipped, as parsers must.
 */

/** A field read from a message: its number, wire type, and value (a number for varints; bytes for length-delimited and fixed-size fields). */
export interface PbField {
  no: number;
  wire: number;
  value: number | Buffer;
}

/**
 * Fields of one message; throws on malformed input (a truncated field, a bad wire type).
 *
 * @example
 * ```ts
 * const fields = readFields(Buffer.from('0a0767726565746572', 'hex'));
 * // [{ no: 1, wire: 2, value: <Buffer 67 72 65 65 74 65 72> }]; stringField(fields, 1) is 'greeter'
 * ```
 */
export function readFields(buf: Buffer): PbField[] {
  const out: PbField[] = [];
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 10; k++) {
      if (i >= buf.length) throw new RangeError('truncated varint');
      const b = buf[i++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    throw new RangeError('varint too long');
  };
  while (i < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (no === 0) throw new RangeError('field number 0');
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 2) {
      const len = varint();
      if (i + len > buf.length) throw new RangeError('truncated field');
      out.push({ no, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1 || wire === 5) {
      const len = wire === 1 ? 8 : 4;
      if (i + len > buf.length) throw new RangeError('truncated field');
      out.push({ no, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else throw new RangeError(`unsupported wire type ${wire}`);
  }
  return out;
}

/**
 * Builds a message field by field.
 *
 * @example
 * ```ts
 * const bytes = new PbWriter().bytes(1, 'greeter').uint(2, 7).finish(); // <Buffer 0a 07 67 72 65 65 74 65 72 10 07>
 * ```
 */
export class PbWriter {
  readonly #parts: Buffer[] = [];

  #varint(v: number): void {
    const bytes: number[] = [];
    while (v >= 0x80) {
      bytes.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
    this.#parts.push(Buffer.from(bytes));
  }

  /** A varint field (int32 ≥ 0, enum, bool); 0 is left out, as proto3 does, unless `always` (proto2's explicit fields). */
  uint(no: number, v: number, always = false): this {
    if (v === 0 && !always) return this;
    this.#varint(no * 8);
    this.#varint(v);
    return this;
  }

  /** A length-delimited field: a string, bytes, or a nested message's bytes. Empty ones are written too when `always`. */
  bytes(no: number, v: string | Uint8Array, always = false): this {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (b.length === 0 && !always) return this;
    this.#varint(no * 8 + 2);
    this.#varint(b.length);
    this.#parts.push(b);
    return this;
  }

  /** A field as it was read (any wire type): for rewriting a message while keeping what is not changed. */
  field(f: PbField): this {
    if (f.wire === 0) return this.uint(f.no, f.value as number, true);
    if (f.wire === 2) return this.bytes(f.no, f.value as Buffer, true);
    this.#varint(f.no * 8 + f.wire);
    this.#parts.push(f.value as Buffer);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/**
 * The first string in field `no`, or ''.
 *
 * @example
 * ```ts
 * const service = stringField(readFields(request), 1); // '' when field 1 is absent
 * ```
 */
export function stringField(fields: PbField[], no: number): string {
  const f = fields.find((x) => x.no === no && x.wire === 2);
  return f === undefined ? '' : (f.value as Buffer).toString('utf8');
}
