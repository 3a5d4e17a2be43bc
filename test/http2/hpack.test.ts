/**
 * HPACK: RFC 7541 Appendix C examples, the public interop stories in ../shared/vectors/hpack (every story
 * of every implementation's folder decodes exactly; our encoding of raw-data decodes back with ours and
 * with hpack.js), round trips and differential checks against hpack.js, and every decoding limit.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HpackDecoder, HpackEncoder, HpackError, huffmanDecode, huffmanEncode, huffmanLength, type HeaderField } from '../../lib/http2/hpack/index.js';
import { FUZZ_RUNS, FUZZ_SEED } from '../../fuzz/http1/config.js';
import { DynamicTable } from '../../lib/http2/hpack/dynamic-table.js';

const require = createRequire(import.meta.url);
const hpackjs = require('hpack.js') as {
  compressor: { create(o: object): { write(h: Array<{ name: string; value: string }>): void; read(): Buffer | null } };
  decompressor: { create(o: object): { write(b: Buffer): void; execute(): void; read(): { name: string; value: string } | null } };
};

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const plain = (fields: HeaderField[]) => fields.map(([n, v]) => [n, v]);

describe('generated tables', () => {
  it('lib/http2/hpack/tables.ts is what scripts/gen-hpack-tables.mjs produces', async () => {
    const { render } = await import('../../scripts/gen-hpack-tables.mjs');
    expect(readFileSync(join(import.meta.dirname, '../../lib/http2/hpack/tables.ts'), 'utf8')).toBe(render());
  });
});

describe('RFC 7541 Appendix C', () => {
  it('C.3: requests without Huffman, sharing the dynamic table', () => {
    const d = new HpackDecoder();
    expect(plain(d.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d')))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'],
    ]);
    expect(plain(d.decode(hex('8286 84be 5808 6e6f 2d63 6163 6865')))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache'],
    ]);
    expect(plain(d.decode(hex('8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65')))).toEqual([
      [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value'],
    ]);
    expect(d.table.size).toBe(164);
  });

  it('C.4: requests with Huffman', () => {
    const d = new HpackDecoder();
    expect(plain(d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'],
    ]);
    expect(plain(d.decode(hex('8286 84be 5886 a8eb 1064 9cbf')))[4]).toEqual(['cache-control', 'no-cache']);
  });

  it('C.6: responses with Huffman and evictions in a 256-octet table', () => {
    const d = new HpackDecoder({ maxTableSize: 256 });
    d.table.resize(256);
    const r1 = d.decode(hex('4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3'));
    expect(plain(r1)).toEqual([[':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']]);
    expect(d.table.size).toBe(222);
    const r2 = d.decode(hex('4883 640e ffc1 c0bf'));
    expect(plain(r2)[0]).toEqual([':status', '307']);
    expect(d.table.size).toBe(222);
  });

  it('Huffman: RFC examples encode to the RFC bytes', () => {
    const out = Buffer.alloc(64);
    const n = huffmanEncode('www.example.com', out, 0);
    expect(out.subarray(0, n)).toEqual(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'));
    expect(huffmanLength('no-cache')).toBe(6);
  });
});

const vectors = join(import.meta.dirname, '../../../shared/vectors/hpack');

interface Story {
  cases: Array<{ seqno: number; wire?: string; headers: Array<Record<string, string>>; header_table_size?: number }>;
}

describe('interop stories (../shared/vectors/hpack)', () => {
  if (!existsSync(vectors)) {
    it('needs ../shared/vectors/hpack beside the checkout (present in CI)', (ctx) => {
      // Absent: NOT RUN (reported as skipped, never as a pass); under CI the vectors are mandatory.
      if (process.env.CI === 'true') throw new Error(`the HPACK vectors must be present in CI: ${vectors} is absent`);
      const note = `NOT RUN: the HPACK story suite needs ${vectors} (outside this repository; CI has it)`;
      console.warn(`\n*** ${note} ***\n`);
      ctx.skip(note);
    });
    return;
  }
  const folders = readdirSync(vectors, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

  it('has story folders to read', () => {
    expect(folders.length).toBeGreaterThan(1);
    expect(folders).toContain('raw-data');
  });

  for (const folder of folders.filter((f) => f !== 'raw-data')) {
    it(`decodes every story of ${folder} exactly`, () => {
      const files = readdirSync(join(vectors, folder)).filter((f) => f.endsWith('.json'));
      expect(files.length).toBeGreaterThan(0);
      let cases = 0;
      for (const f of files) {
        const story = JSON.parse(readFileSync(join(vectors, folder, f), 'utf8')) as Story;
        const d = new HpackDecoder({ maxTableSize: 1 << 20, maxHeaderListSize: 1 << 24 });
        for (const c of story.cases) {
          const got = plain(d.decode(hex(c.wire!)));
          expect({ f, seq: c.seqno, got }).toEqual({ f, seq: c.seqno, got: c.headers.map((h) => Object.entries(h)[0]) });
          cases++;
        }
      }
      expect(cases).toBeGreaterThan(0);
    });
  }

  it('encodes every raw-data story so that ours and hpack.js decode it back', () => {
    const dir = join(vectors, 'raw-data');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      const story = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Story;
      const enc = new HpackEncoder();
      const ours = new HpackDecoder();
      const theirs = hpackjs.decompressor.create({ table: { size: 4096 } });
      for (const c of story.cases) {
        const fields = c.headers.map((h) => Object.entries(h)[0] as [string, string]);
        const block = enc.encode(fields);
        expect(plain(ours.decode(block))).toEqual(fields);
        theirs.write(block);
        theirs.execute();
        const got: Array<[string, string]> = [];
        for (let h = theirs.read(); h !== null; h = theirs.read()) got.push([h.name, h.value]);
        expect(got).toEqual(fields);
      }
    }
  });

  it('encodes the raw-data stories in no more octets than any other implementation did (4096-octet table)', () => {
    const dir = join(vectors, 'raw-data');
    const files = readdirSync(dir).filter((x) => x.endsWith('.json'));
    let ours = 0;
    for (const f of files) {
      const enc = new HpackEncoder();
      for (const c of (JSON.parse(readFileSync(join(dir, f), 'utf8')) as Story).cases) {
        ours += enc.encode(c.headers.map((h) => Object.entries(h)[0] as [string, string])).length;
      }
    }
    // Each implementation's folder holds its encoder's output of the same stories; one that changed the table
    // size along the way is not comparable, and one that lacks a story is left out.
    const theirs: Record<string, number> = {};
    for (const folder of folders.filter((f) => f !== 'raw-data')) {
      let total = 0;
      for (const f of files) {
        const path = join(vectors, folder, f);
        if (!existsSync(path)) {
          total = NaN;
          break;
        }
        const story = JSON.parse(readFileSync(path, 'utf8')) as Story;
        if (story.cases.some((c) => c.header_table_size !== undefined && c.header_table_size !== 4096)) {
          total = NaN;
          break;
        }
        for (const c of story.cases) total += c.wire!.length / 2;
      }
      if (!Number.isNaN(total)) theirs[folder] = total;
    }
    expect(Object.keys(theirs)).toContain('nghttp2');
    const best = Math.min(...Object.values(theirs));
    expect(ours, `ours ${ours} octets vs ${JSON.stringify(theirs)}`).toBeLessThanOrEqual(best);
  });
});

const tokenName = fc.stringMatching(/^[a-z0-9\-_]{1,16}$/);
const latin1Value = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const fieldArb: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(tokenName, latin1Value),
  fc.tuple(fc.constantFrom(':method', ':path', ':status', 'content-type', 'accept-encoding', 'cookie', 'authorization', 'user-agent'), fc.oneof(latin1Value, fc.constantFrom('GET', '/', '200', 'gzip, deflate'))),
);
const params = { numRuns: FUZZ_RUNS, seed: FUZZ_SEED };

describe('HPACK properties', () => {
  it('decodes a field named like an Object.prototype member (hpack.js cannot encode it)', () => {
    expect(plain(new HpackDecoder().decode(new HpackEncoder().encode([['constructor', 'x'], ['__proto__', 'y']])))).toEqual([['constructor', 'x'], ['__proto__', 'y']]);
  });

  it('round trip: blocks encoded by us decode to the same fields, block after block, any table size', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fieldArb, { maxLength: 12 }), { minLength: 1, maxLength: 6 }), fc.constantFrom(0, 64, 256, 4096), fc.boolean(), (blocks, size, huffman) => {
        const enc = new HpackEncoder({ maxTableSize: 4096, huffman });
        enc.setMaxTableSize(size);
        const dec = new HpackDecoder();
        for (const b of blocks) expect(plain(dec.decode(enc.encode(b)))).toEqual(b);
      }),
      params,
    );
  });

  // hpack.js looks names up in plain objects, so a field named like an Object.prototype member
  // ("constructor", "tostring" is fine, "valueOf" cannot occur lowercase) makes it emit an index that does
  // not exist; found by this property, it is hpack.js's defect, and such names are left out here.
  const protoSafe = fc.array(fieldArb, { minLength: 1, maxLength: 10 }).filter((b) => b.every(([n]) => !(n in Object.prototype)));

  it('differential: hpack.js encodes, we decode; we encode, hpack.js decodes', () => {
    fc.assert(
      fc.property(fc.array(protoSafe, { minLength: 1, maxLength: 5 }), (blocks) => {
        const theirEnc = hpackjs.compressor.create({ table: { size: 4096 } });
        const ourDec = new HpackDecoder();
        const ourEnc = new HpackEncoder();
        const theirDec = hpackjs.decompressor.create({ table: { size: 4096 } });
        for (const b of blocks) {
          theirEnc.write(b.map(([name, value]) => ({ name, value })));
          const chunks: Buffer[] = [];
          for (let c = theirEnc.read(); c !== null; c = theirEnc.read()) chunks.push(c);
          expect(plain(ourDec.decode(Buffer.concat(chunks)))).toEqual(b);
          theirDec.write(ourEnc.encode(b));
          theirDec.execute();
          const got: Array<[string, string]> = [];
          for (let h = theirDec.read(); h !== null; h = theirDec.read()) got.push([h.name, h.value]);
          expect(got).toEqual(b);
        }
      }),
      params,
    );
  });

  it('Huffman round trip on any latin1 string', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 200 }), (s) => {
        const out = Buffer.alloc(huffmanLength(s));
        expect(huffmanEncode(s, out, 0)).toBe(out.length);
        expect(huffmanDecode(out, 0, out.length)).toBe(s);
      }),
      params,
    );
  });

  it('marks never-indexed fields and keeps them out of the dynamic table', () => {
    const enc = new HpackEncoder();
    const block = enc.encode([['authorization', 'Bearer secret'], ['x-a', 'b']]);
    expect(enc.table.find('authorization', 'Bearer secret')).toBe(-1);
    const fields = new HpackDecoder().decode(block);
    expect(fields[0]).toEqual(['authorization', 'Bearer secret', true]);
  });
});

describe('the dynamic table size limit (RFC 7541 §4.1, §4.4), at the limit and one past it', () => {
  // Each entry counts name + value + 32 octets: 'a' + 'x'.repeat(17) = 50 octets.
  const entry = (v: string): [string, string] => ['a', v.padEnd(17, 'x')];
  it('keeps entries that fit exactly and evicts the oldest one octet past', () => {
    const t = new DynamicTable(100);
    t.add(...entry('1'));
    t.add(...entry('2'));
    expect([t.length, t.size]).toEqual([2, 100]); // exactly the limit: both kept
    t.add('a', 'y'.repeat(18)); // 51 octets: the oldest goes
    expect([t.length, t.get(0)?.[1], t.get(1)]).toEqual([1, 'y'.repeat(18), undefined]);
    const one = new DynamicTable(50);
    one.add(...entry('1'));
    expect(one.length).toBe(1); // 50 of 50
    one.add('a', 'z'.repeat(18)); // 51 > 50: fits nowhere, the table is emptied (§4.4)
    expect([one.length, one.size]).toEqual([0, 0]);
    t.resize(50);
    expect(t.length).toBe(0); // 51 > 50
  });

  it('our encoder and hpack.js agree on evictions at a small table size: every block decodes to its fields', () => {
    const require = createRequire(import.meta.url);
    const hpack = require('hpack.js') as { decompressor: { create(o: { table: { size: number } }): { write(b: Buffer): void; execute(): void; read(): { name: string; value: string } | null } } };
    const enc = new HpackEncoder({ maxTableSize: 100 });
    const theirs = hpack.decompressor.create({ table: { size: 100 } });
    const ours = new HpackDecoder({ maxTableSize: 100 });
    for (let i = 0; i < 30; i++) {
      const fields: HeaderField[] = [['x-k', `v${i % 4}`.padEnd(15 + (i % 3), 'q')], ['x-k', `w${i % 3}`.padEnd(14, 'r')]];
      const block = enc.encode(fields);
      theirs.write(block);
      theirs.execute();
      const got: Array<[string, string]> = [];
      for (let f = theirs.read(); f !== null; f = theirs.read()) got.push([f.name, f.value]);
      expect(got).toEqual(fields);
      expect(ours.decode(block)).toEqual(fields);
      expect(ours.table.size).toBeLessThanOrEqual(100);
      expect(enc.table.size).toBeLessThanOrEqual(100);
    }
  });
});

describe('HPACK decoding limits and errors', () => {
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(HpackError);
      return (e as HpackError).code;
    }
    throw new Error('no error');
  };

  it('stops an HPACK bomb at the header list limit', () => {
    // One 4 KiB entry added, then referenced again and again: tiny on the wire, huge decoded.
    const enc = new HpackEncoder();
    const first = enc.encode([['x-bomb', 'y'.repeat(1000)]]);
    const d = new HpackDecoder({ maxHeaderListSize: 16 * 1024 });
    d.decode(first);
    const bomb = Buffer.alloc(200, 0xbe); // index 62 = the entry just added, 200 times
    expect(err(() => d.decode(bomb))).toBe('HEADER_LIST_TOO_LARGE');
  });

  it('refuses table size updates above our limit or after a field', () => {
    expect(err(() => new HpackDecoder({ maxTableSize: 100 }).decode(Buffer.from([0x3f, 0xe1, 0x1f])))).toBe('TABLE_SIZE_TOO_LARGE');
    // The default limit is SETTINGS_HEADER_TABLE_SIZE's default, 4096 (RFC 9113 §6.5.2): 4096 is taken, 4097 is not.
    expect(new HpackDecoder().decode(Buffer.from([0x3f, 0xe1, 0x1f, 0x82]))).toEqual([[':method', 'GET']]);
    expect(err(() => new HpackDecoder().decode(Buffer.from([0x3f, 0xe2, 0x1f])))).toBe('TABLE_SIZE_TOO_LARGE');
    expect(err(() => new HpackDecoder().decode(Buffer.from([0x82, 0x20])))).toBe('LATE_TABLE_SIZE_UPDATE');
    expect(new HpackDecoder().decode(Buffer.from([0x20, 0x3f, 0x01, 0x82]))).toEqual([[':method', 'GET']]);
  });

  it('refuses bad indexes, truncated blocks, bad Huffman, oversized strings and integers', () => {
    expect(err(() => new HpackDecoder().decode(Buffer.from([0x80])))).toBe('INVALID_INDEX');
    expect(err(() => new HpackDecoder().decode(Buffer.from([0xbe])))).toBe('INVALID_INDEX');
    expect(err(() => new HpackDecoder().decode(Buffer.from([0x40, 0x05, 0x61])))).toBe('TRUNCATED');
    expect(err(() => new HpackDecoder().decode(Buffer.from([0x40, 0x81, 0x00, 0x01, 0x61])))).toBe('INVALID_HUFFMAN'); // padding not all ones
    expect(err(() => new HpackDecoder().decode(Buffer.from([0x40, 0x84, 0xff, 0xff, 0xff, 0xff, 0x01, 0x61])))).toBe('INVALID_HUFFMAN'); // EOS inside
    expect(err(() => new HpackDecoder({ maxStringLength: 4 }).decode(Buffer.from([0x40, 0x05, 0x61, 0x61, 0x61, 0x61, 0x61, 0x01, 0x61])))).toBe('STRING_TOO_LONG');
    expect(err(() => new HpackDecoder().decode(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])))).toBe('INTEGER_OVERFLOW');
  });
});
