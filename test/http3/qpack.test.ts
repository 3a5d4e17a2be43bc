/**
 * QPACK (RFC 9204): the static encoder round-trips through the decoder; the decoder against an encoder
 * written here that uses the dynamic table (inserts of every kind, references before and after the Base,
 * eviction, Required Insert Count wrapping) for any fields and any split of the encoder stream; blocked
 * sections at the limit and one past; every table and size limit at its value and one past; and the
 * decoder stream's acknowledgments.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QPACK_STATIC_TABLE, QpackDecoder, QpackEncoder } from '../../lib/http3/index.js';
import { writeInt, writeString } from '../../lib/http3/qpack/primitives.js';
import { codeOf, errorOf } from './qpack-error-code.js';

/** An encoder that uses the dynamic table, as a peer's would: its stream bytes and sections. */
class DynamicEncoder {
  readonly stream: number[] = [];
  /** The table as the decoder will hold it: absolute index → entry (evicted ones deleted). */
  readonly table = new Map<number, [string, string]>();
  inserted = 0;
  #size = 0;
  #capacity = 0;
  readonly maxCapacity: number;
  constructor(maxCapacity: number) {
    this.maxCapacity = maxCapacity;
  }

  setCapacity(c: number): void {
    writeInt(this.stream, 0x20, 5, c);
    this.#capacity = c;
    this.#evict(0);
  }

  /** Inserts by literal name, by a static name, by a dynamic name, or duplicates — whichever `how` says. */
  insert(name: string, value: string, how: number): number | null {
    const size = name.length + value.length + 32;
    if (size > this.#capacity) return null;
    const staticName = QPACK_STATIC_TABLE.findIndex(([n]) => n === name);
    const dyn = [...this.table].find(([, [n]]) => n === name);
    const dup = [...this.table].find(([, [n, v]]) => n === name && v === value);
    // What is referenced must survive the eviction the insert makes: then fall back to a literal name.
    const survives = (a: number) => this.#survives(a, size);
    if (how % 4 === 1 && dup !== undefined && survives(dup[0])) writeInt(this.stream, 0x00, 5, this.inserted - 1 - dup[0]);
    else if (how % 4 === 2 && staticName >= 0) {
      writeInt(this.stream, 0xc0, 6, staticName);
      writeString(this.stream, 0x00, 7, value);
    } else if (how % 4 === 3 && dyn !== undefined && survives(dyn[0])) {
      writeInt(this.stream, 0x80, 6, this.inserted - 1 - dyn[0]);
      writeString(this.stream, 0x00, 7, value);
    } else {
      writeString(this.stream, 0x40, 5, name);
      writeString(this.stream, 0x00, 7, value);
    }
    this.#evict(size);
    this.table.set(this.inserted, [name, value]);
    this.#size += size;
    return this.inserted++;
  }

  #survives(a: number, room: number): boolean {
    let size = this.#size;
    for (const [i, [n, v]] of this.table) {
      if (size + room <= this.#capacity) return true;
      if (i === a) return false;
      size -= n.length + v.length + 32;
    }
    return true;
  }

  #evict(room: number): void {
    for (const [i, [n, v]] of this.table) {
      if (this.#size + room <= this.#capacity) break;
      this.table.delete(i);
      this.#size -= n.length + v.length + 32;
    }
  }

  /** A section of `lines`: ['abs', i] references entry i (by name only when `nameOnly`), ['lit', n, v] a literal. */
  section(lines: Array<['abs', number, boolean, string] | ['lit', string, string]>, baseChoice: number): Buffer {
    const refs = lines.flatMap((l) => (l[0] === 'abs' ? [l[1]] : []));
    const ric = refs.length === 0 ? 0 : Math.max(...refs) + 1;
    const base = ric === 0 ? 0 : baseChoice % (this.inserted + 1);
    const out: number[] = [];
    const maxEntries = Math.floor(this.maxCapacity / 32);
    writeInt(out, 0x00, 8, ric === 0 ? 0 : (ric % (2 * maxEntries)) + 1);
    if (base >= ric) writeInt(out, 0x00, 7, base - ric);
    else writeInt(out, 0x80, 7, ric - base - 1);
    for (const l of lines) {
      if (l[0] === 'lit') {
        writeString(out, 0x20, 3, l[1]);
        writeString(out, 0x00, 7, l[2]);
        continue;
      }
      const [, a, nameOnly, value] = l;
      if (a < base) {
        if (nameOnly) {
          writeInt(out, 0x40, 4, base - 1 - a);
          writeString(out, 0x00, 7, value);
        } else writeInt(out, 0x80, 6, base - 1 - a);
      } else if (nameOnly) {
        writeInt(out, 0x00, 3, a - base);
        writeString(out, 0x00, 7, value);
      } else writeInt(out, 0x10, 4, a - base);
    }
    return Buffer.from(out);
  }
}

/** Feeds bytes to the decoder's encoder stream cut at `cuts`. */
function feed(d: QpackDecoder, bytes: number[], cuts: number[]): number[] {
  const b = Buffer.from(bytes);
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const unblocked: number[] = [];
  let at = 0;
  for (const p of [...points, b.length]) {
    unblocked.push(...d.encoderInstructions(b.subarray(at, p)));
    at = p;
  }
  return unblocked;
}

const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,14}$/);
const value = fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'));


describe('QPACK', () => {
  it('the static encoder round-trips any fields through the decoder (no dynamic table, nothing blocked)', () => {
    const fields = fc.array(fc.tuple(fc.oneof(token, fc.constantFrom(...QPACK_STATIC_TABLE.map(([n]) => n))), fc.oneof(value, fc.constantFrom(...QPACK_STATIC_TABLE.map(([, v]) => v)))), { maxLength: 20 });
    fc.assert(
      fc.property(fields, (f) => {
        const d = new QpackDecoder({ maxTableCapacity: 0 });
        const r = d.decodeSection(0, new QpackEncoder().encode(f));
        expect(r).not.toBe('blocked');
        expect((r as { fields: unknown }).fields).toEqual(f);
        expect(d.takeInstructions().length).toBe(0);
      }),
    );
  });

  it('the encoder uses the static table: an exact entry is one byte, a name reference a short line', () => {
    expect(new QpackEncoder().encode([[':status', '200']])).toEqual(Buffer.from([0x00, 0x00, 0xc0 | 25]));
    expect(new QpackEncoder().encode([[':path', '/']])[2]).toBe(0xc1);
    const withName = new QpackEncoder().encode([['content-type', 'text/x']]);
    expect(withName[2]).toBe(0x5f); // name reference, static: index 44 fills the 4-bit prefix (15 + 29 follows)
  });

  it('decodes sections against a dynamic table filled any way, for any split of the encoder stream', () => {
    const entry = fc.tuple(token, value, fc.nat(3));
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 1024 }), fc.array(entry, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 6 }), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.boolean(), value)), (cap, entries, cuts, baseChoice, picks) => {
        const e = new DynamicEncoder(cap);
        e.setCapacity(cap);
        for (const [n, v, how] of entries) e.insert(n, v, how);
        const live = [...e.table.keys()];
        const lines: Array<['abs', number, boolean, string] | ['lit', string, string]> = picks.map(([p, nameOnly, v]) => (live.length === 0 ? ['lit', 'x-none', v] : ['abs', live[p % live.length]!, nameOnly, v]));
        lines.push(['lit', 'x-last', 'y']);
        const d = new QpackDecoder({ maxTableCapacity: cap });
        feed(d, e.stream, cuts);
        const r = d.decodeSection(4, e.section(lines, baseChoice));
        expect(r).not.toBe('blocked');
        const want = lines.map((l) => (l[0] === 'lit' ? [l[1], l[2]] : l[2] ? [e.table.get(l[1])![0], l[3]] : e.table.get(l[1])!));
        expect((r as { fields: unknown }).fields).toEqual(want);
        expect(d.tableLength).toBe(e.table.size);
      }),
      { numRuns: 300 },
    );
  });

  it('wraps the Required Insert Count modulo 2 × MaxEntries (§4.5.1.1)', () => {
    const cap = 68; // MaxEntries 2 (the count wraps every 4 inserts), and room for two entries of 34 bytes
    const e = new DynamicEncoder(cap);
    const d = new QpackDecoder({ maxTableCapacity: cap });
    e.setCapacity(cap);
    for (let i = 0; i < 9; i++) {
      const a = e.insert('n', String(i).padStart(1, '0'), 0)!;
      feed(d, e.stream.splice(0), []);
      const r = d.decodeSection(0, e.section([['abs', a, false, '']], a + 1));
      expect((r as { fields: unknown }).fields).toEqual([['n', String(i)]]);
      // The older live entry: a Required Insert Count one below the Insert Count.
      if (i > 0) expect((d.decodeSection(4, e.section([['abs', a - 1, false, '']], a + 1)) as { fields: unknown }).fields).toEqual([['n', String(i - 1)]]);
    }
  });

  it('holds a section that needs inserts not yet arrived, and releases it when they come', () => {
    const e = new DynamicEncoder(4096);
    e.setCapacity(4096);
    const a = e.insert('x-later', 'v', 0)!;
    const d = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 2 });
    const block = e.section([['abs', a, false, '']], 1);
    expect(d.decodeSection(0, block)).toBe('blocked');
    expect(d.decodeSection(4, block)).toBe('blocked'); // at the limit of 2
    expect(codeOf(() => d.decodeSection(8, block))).toBe(0x200); // one past
    expect(feed(d, e.stream, [3]).sort()).toEqual([0, 4]);
    expect(d.blockedStreams).toBe(0);
    expect((d.decodeSection(0, block) as { fields: unknown }).fields).toEqual([['x-later', 'v']]);
  });

  it('refuses a capacity past ours, an entry past the capacity, and a reference to an evicted entry', () => {
    const d = new QpackDecoder({ maxTableCapacity: 100 });
    const cap = (c: number) => {
      const b: number[] = [];
      writeInt(b, 0x20, 5, c);
      return Buffer.from(b);
    };
    expect(codeOf(() => d.encoderInstructions(cap(100)))).toBe(null); // at ours
    expect(codeOf(() => new QpackDecoder({ maxTableCapacity: 100 }).encoderInstructions(cap(101)))).toBe(0x201);
    const e = new DynamicEncoder(100);
    e.setCapacity(100);
    e.insert('a', 'x'.repeat(67), 0); // 1 + 67 + 32 = 100: exactly the capacity
    const fits = new QpackDecoder({ maxTableCapacity: 100 });
    expect(codeOf(() => feed(fits, e.stream, []))).toBe(null);
    const over: number[] = [];
    writeInt(over, 0x20, 5, 100);
    writeString(over, 0x40, 5, 'a');
    writeString(over, 0x00, 7, 'x'.repeat(68)); // 101 bytes
    expect(codeOf(() => new QpackDecoder({ maxTableCapacity: 100 }).encoderInstructions(Buffer.from(over)))).toBe(0x201);
    // Two entries of 50 in a table of 100, then a third evicts the first: a reference to it fails.
    const e2 = new DynamicEncoder(100);
    const d2 = new QpackDecoder({ maxTableCapacity: 100 });
    e2.setCapacity(100);
    for (const v of ['a'.repeat(17), 'b'.repeat(17), 'c'.repeat(17)]) e2.insert('n', v, 0);
    feed(d2, e2.stream, []);
    expect(d2.tableLength).toBe(2);
    expect(codeOf(() => d2.decodeSection(0, e2.section([['abs', 0, false, ''], ['abs', 2, false, '']], 3)))).toBe(0x200);
    expect(codeOf(() => d2.decodeSection(0, e2.section([['abs', 1, false, ''], ['abs', 2, false, '']], 3)))).toBe(null);
  });

  it('stops a section at maxFieldSectionSize: at the limit decoded, one byte past marked too large', () => {
    const size = (n: string, v: string) => n.length + v.length + 32;
    const limit = size('x-a', 'v'.repeat(10)) + size('x-b', 'w'.repeat(20));
    const at = new QpackEncoder().encode([['x-a', 'v'.repeat(10)], ['x-b', 'w'.repeat(20)]]);
    const past = new QpackEncoder().encode([['x-a', 'v'.repeat(10)], ['x-b', 'w'.repeat(21)]]);
    const d = new QpackDecoder({ maxFieldSectionSize: limit });
    expect(d.decodeSection(0, at)).toMatchObject({ tooLarge: false });
    expect(d.decodeSection(4, past)).toMatchObject({ tooLarge: true });
  });

  it('marks fields HTTP/3 forbids (§4.2): an uppercase name, a CR in a value', () => {
    const d = new QpackDecoder();
    expect(d.decodeSection(0, new QpackEncoder().encode([['X-Up', '1']]))).toMatchObject({ invalid: 'invalid field name "X-Up"' });
    expect(d.decodeSection(0, new QpackEncoder().encode([['x-cr', 'a\rb']]))).toMatchObject({ invalid: 'NUL, CR or LF in the value of x-cr' });
    // A static name with a literal value: the name is not checked again, the value is (each line kind).
    const staticName = new QpackEncoder().encode([['user-agent', 'a\nb']]);
    expect(staticName[2]! & 0xf0).toBe(0x50); // Literal Field Line With Name Reference, static
    expect(d.decodeSection(0, staticName)).toMatchObject({ invalid: 'NUL, CR or LF in the value of user-agent' });
    expect(d.decodeSection(0, new QpackEncoder().encode([['user-agent', 'a\x00b']]))).toMatchObject({ invalid: 'NUL, CR or LF in the value of user-agent' });
    expect(d.decodeSection(0, new QpackEncoder().encode([[':method', 'GET'], ['user-agent', 'x']]))).toMatchObject({ invalid: null });
  });

  it('acknowledges sections that used the table and tells the encoder what arrived (§4.4)', () => {
    const e = new DynamicEncoder(4096);
    e.setCapacity(4096);
    const a = e.insert('x-a', '1', 0)!;
    e.insert('x-b', '2', 0);
    const d = new QpackDecoder({ maxTableCapacity: 4096 });
    feed(d, e.stream, []);
    expect([...d.takeInstructions()]).toEqual([0x02]); // Insert Count Increment of 2
    d.decodeSection(200, e.section([['abs', a, false, '']], 2));
    expect([...d.takeInstructions()]).toEqual([0xff, 200 - 127]); // Section Acknowledgment, stream 200 (7-bit prefix)
    d.decodeSection(4, new QpackEncoder().encode([['x', 'y']]));
    expect(d.takeInstructions().length).toBe(0); // no dynamic reference: nothing to acknowledge
  });

  it('refuses each malformed section for its own reason (§4.5.1, §3.2.5, Appendix A)', () => {
    const d = new QpackDecoder({ maxTableCapacity: 4096 }); // MaxEntries 128: the count wraps at 256
    const sec = (...b: number[]) => Buffer.from(b);
    expect(errorOf(() => d.decodeSection(0, sec(0xff, 0x02, 0x00)))).toEqual([0x200, 'an encoded Required Insert Count past 2 × MaxEntries']); // 255 + 2 = 257
    expect(errorOf(() => d.decodeSection(0, sec(200, 0x00)))).toEqual([0x200, 'an invalid Required Insert Count']);
    expect(errorOf(() => d.decodeSection(0, sec(0x01, 0x00)))).toEqual([0x200, 'a Required Insert Count of 0 encoded as non-zero']);
    expect(errorOf(() => d.decodeSection(0, sec(0x00)))).toEqual([0x200, 'a field section cut short']);
    expect(errorOf(() => d.decodeSection(0, sec(0x00, 0x00, 0xff, 0x70)))).toEqual([0x200, 'static table index 175 does not exist']);
    const e = new DynamicEncoder(4096);
    e.setCapacity(4096);
    e.insert('x-a', '1', 0);
    e.insert('x-b', '2', 0);
    feed(d, e.stream, []);
    // Required Insert Count 1 (encoded 2) with a negative Base of −1 (sign 1, delta 1).
    expect(errorOf(() => d.decodeSection(0, sec(0x02, 0x81)))).toEqual([0x200, 'a negative Base below 0']);
    // Required Insert Count 1, Base 2: relative index 0 is entry 1, not below the count.
    expect(errorOf(() => d.decodeSection(0, sec(0x02, 0x01, 0x80)))).toEqual([0x200, 'a reference to entry 1, at or past the Required Insert Count 1']);
    // Required Insert Count 2, but the only reference is entry 0.
    expect(errorOf(() => d.decodeSection(0, sec(0x03, 0x00, 0x81)))).toEqual([0x200, 'a Required Insert Count of 2, but the largest reference is 1 (§4.5.1.1)']);
    expect(d.decodeSection(0, sec(0x03, 0x00, 0x81, 0x80))).toMatchObject({ fields: [['x-a', '1'], ['x-b', '2']] });
    // An entry evicted: capacity 68 holds two of 34 bytes; a third insert drops entry 0.
    const small = new DynamicEncoder(68);
    small.setCapacity(68);
    for (const v of ['0', '1', '2']) small.insert('n', v, 0);
    const ds = new QpackDecoder({ maxTableCapacity: 68 }); // MaxEntries 2: wraps at 4
    feed(ds, small.stream, []);
    expect(errorOf(() => ds.decodeSection(0, sec(0x04, 0x00, 0x82)))).toEqual([0x200, 'dynamic table entry 0 does not exist (or was evicted)']); // RIC 3, Base 3, relative 2: entry 0
  });

  it('reads each encoder instruction as its kind, and refuses a broken one for its own reason (§4.3)', () => {
    const d = new QpackDecoder({ maxTableCapacity: 200 }); // MaxEntries 6
    const ins: number[] = [];
    writeInt(ins, 0x20, 5, 200); // capacity 200
    writeString(ins, 0x40, 5, 'x-a'); // Insert With Literal Name
    writeString(ins, 0x00, 7, '1');
    writeInt(ins, 0x80, 6, 0); // Insert With Name Reference, dynamic (T = 0): relative 0 is x-a
    writeString(ins, 0x00, 7, '2');
    writeInt(ins, 0x00, 5, 1); // Duplicate: relative 1 is x-a: 1
    d.encoderInstructions(Buffer.from(ins));
    expect(d.tableLength).toBe(3);
    // Required Insert Count 3 (encoded 4, MaxEntries 3), Base 3: relative 2, 1, 0 are entries 0, 1, 2.
    expect(d.decodeSection(0, Buffer.from([0x04, 0x00, 0x82, 0x81, 0x80]))).toMatchObject({ fields: [['x-a', '1'], ['x-a', '2'], ['x-a', '1']] });
    expect(errorOf(() => d.encoderInstructions(Buffer.from([0x05])))).toEqual([0x201, 'relative index 5 names no entry']);
    const over: number[] = [];
    writeInt(over, 0x20, 5, 201);
    expect(errorOf(() => new QpackDecoder({ maxTableCapacity: 200 }).encoderInstructions(Buffer.from(over)))).toEqual([0x201, 'a table capacity of 201, past the 200 we allow']);
    const big: number[] = [];
    writeString(big, 0x40, 5, 'x-big');
    writeString(big, 0x00, 7, 'v'.repeat(164));
    expect(errorOf(() => d.encoderInstructions(Buffer.from(big)))).toEqual([0x201, 'an entry of 201 bytes, past the table capacity 200 (§3.2.2)']);
    // A smaller capacity evicts at once.
    d.encoderInstructions(Buffer.from([0x20 | 0]));
    expect([d.tableLength, d.tableSize]).toEqual([0, 0]);
  });

  it('a Stream Cancellation for a section left blocked, and only for one, and only with a table (§4.4.2)', () => {
    const e = new DynamicEncoder(4096);
    e.setCapacity(4096);
    const a = e.insert('x-later', 'v', 0)!;
    const d = new QpackDecoder({ maxTableCapacity: 4096 });
    expect(d.decodeSection(0, e.section([['abs', a, false, '']], 1))).toBe('blocked');
    d.cancel(4); // never blocked
    d.cancel(0);
    expect([...d.takeInstructions()]).toEqual([0x40 | 0]);
    expect(d.blockedStreams).toBe(0);
    const none = new QpackDecoder({ maxTableCapacity: 0 });
    none.cancel(0);
    expect(none.takeInstructions().length).toBe(0);
  });

  it('never throws anything but QpackError on any bytes, in any stream', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (enc, sec) => {
        const d = new QpackDecoder({ maxTableCapacity: 256 });
        const code = codeOf(() => d.encoderInstructions(Buffer.from(enc)));
        expect(code === null || code === 0x201).toBe(true);
        const c2 = codeOf(() => d.decodeSection(0, Buffer.from(sec)));
        expect(c2 === null || c2 === 0x200).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
