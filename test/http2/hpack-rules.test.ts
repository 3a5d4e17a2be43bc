/**
 * HPACK at its edges (#28, from the hpack modules' mutants): the encoder's exact bytes — RFC 7541
 * Appendix C's request examples, every representation it chooses and why, integers and string lengths at
 * each prefix boundary, its buffer growing past 4 KiB — and the decoder's every refusal with its code and
 * words, the limits at the limit and one past, the dynamic table's eviction and growth.
 */
import { describe, expect, it } from 'vitest';
import { DynamicTable, HpackDecoder, HpackEncoder, HpackError, huffmanDecode, huffmanEncode, huffmanLength } from '../../lib/http2/hpack/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
/** The HpackError a decode throws, as `CODE: message`, or the fields. */
function decodeOutcome(d: HpackDecoder, block: Uint8Array): string {
  try {
    return JSON.stringify(d.decode(block));
  } catch (e) {
    if (!(e instanceof HpackError)) throw e;
    expect(e.name).toBe('HpackError');
    return `${e.code}: ${e.message}`;
  }
}
const entries = (t: DynamicTable) => Array.from({ length: t.length }, (_, i) => t.get(i));

describe('encoder: RFC 7541 Appendix C', () => {
  it('C.3: requests without Huffman coding, byte for byte, with the table after each', () => {
    const e = new HpackEncoder({ huffman: false });
    expect(hex(e.encode([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]))).toBe('828684410f7777772e6578616d706c652e636f6d');
    expect(e.table.size).toBe(57);
    expect(hex(e.encode([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']]))).toBe('828684be58086e6f2d6361636865');
    expect(e.table.size).toBe(110);
    expect(hex(e.encode([[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]))).toBe('828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565');
    expect(e.table.size).toBe(164);
    expect(entries(e.table)).toEqual([['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']]);
  });

  it('C.4: the same requests with Huffman coding', () => {
    const e = new HpackEncoder();
    expect(hex(e.encode([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]))).toBe('828684418cf1e3c2e5f23a6ba0ab90f4ff');
    expect(hex(e.encode([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']]))).toBe('828684be5886a8eb10649cbf');
    expect(hex(e.encode([[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]))).toBe('828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf');
  });

  it('C.2: a literal without indexing (:path) and a never-indexed one (flagged sensitive)', () => {
    const e = new HpackEncoder({ huffman: false });
    expect(hex(e.encode([[':path', '/sample/path']]))).toBe('040c2f73616d706c652f70617468');
    expect(hex(e.encode([['password', 'secret', true]]))).toBe('100870617373776f726406736563726574');
    expect(e.table.length).toBe(0);
  });
});

describe('encoder: what it chooses', () => {
  it('sensitive names are never indexed, even with an exact static match', () => {
    const e = new HpackEncoder({ huffman: false });
    expect(hex(e.encode([['cookie', '']]))).toBe('1f1100'); // not 0xa0 (static 32 exactly): a short cookie
    expect(hex(e.encode([['authorization', 'x']]))).toBe('1f080178'); // static name 23: 15 + 8
    expect(hex(e.encode([['proxy-authorization', 'x']]))).toBe('1f220178'); // static name 49: 15 + 34
    expect(hex(e.encode([['set-cookie', 'x']]))).toBe('1f280178'); // static name 55: 15 + 40
    expect(hex(e.encode([['x-secret', 'v', true]]))).toBe('1008782d73656372657401' + '76');
    expect(e.table.length).toBe(0);
  });

  it('a cookie is never indexed under 20 octets, and indexed from 20 (RFC 7541 §7.1.3: a short value could be guessed)', () => {
    const e = new HpackEncoder({ huffman: false });
    const short = 's='.padEnd(19, 'x');
    expect(hex(e.encode([['cookie', short]]))).toBe(`1f1113${Buffer.from(short).toString('hex')}`); // static name 32: 15 + 17
    expect(e.table.length).toBe(0);
    const long = 's='.padEnd(20, 'x');
    expect(hex(e.encode([['cookie', long]]))).toBe(`6014${Buffer.from(long).toString('hex')}`); // incremental, static name 32
    expect(e.table.length).toBe(1);
    expect(hex(e.encode([['cookie', long]]))).toBe('be'); // the entry: 62
    const d = new HpackDecoder();
    expect(d.decode(new HpackEncoder().encode([['cookie', short], ['cookie', long]]))).toEqual([['cookie', short, true], ['cookie', long]]);
  });

  it('date and expires are indexed: responses of one second share them', () => {
    for (const name of ['date', 'expires']) {
      const e = new HpackEncoder({ huffman: false });
      const v = 'Sun, 06 Dec 2026 12:00:00 GMT';
      expect(e.encode([[name, v]])[0]! & 0xc0, name).toBe(0x40); // literal with incremental indexing
      expect(hex(e.encode([[name, v]])), name).toBe('be');
    }
  });

  it('an exact static match is one index; a dynamic one after it is added, static first', () => {
    const e = new HpackEncoder({ huffman: false });
    expect(hex(e.encode([[':status', '200'], [':status', '404']]))).toBe('888d');
    expect(hex(e.encode([['x-a', '1']]))).toBe('4003782d610131');
    expect(hex(e.encode([['x-a', '1'], ['x-a', '1']]))).toBe('bebe');
    expect(hex(e.encode([['x-a', '2']]))).toBe('7e0132'); // the dynamic entry's name (62), incremental
    expect(hex(e.encode([['x-a', '1']]))).toBe('bf'); // now 63: the newer x-a=2 is 62
  });

  it('values that change per message are literals without indexing, by static or dynamic name', () => {
    for (const [name, idx] of [[':path', 4], ['content-length', 28], ['etag', 34], ['last-modified', 44], ['if-none-match', 41], ['if-modified-since', 40], ['age', 21], ['location', 46], ['content-range', 30]] as const) {
      const e = new HpackEncoder({ huffman: false });
      const out = e.encode([[name, 'v']]);
      expect(out[0]! & 0xf0, name).toBe(0); // literal without indexing
      expect(e.table.length, name).toBe(0);
      const i = out[0]! & 0x0f;
      expect(i === 15 ? 15 + out[1]! : i, name).toBe(idx);
    }
    const e = new HpackEncoder({ huffman: false });
    expect(hex(e.encode([['x-request-id', 'r1']]))).toBe('000c782d726571756573742d6964027231');
    expect(e.table.length).toBe(0);
  });

  it('a field larger than half the table is sent without indexing; at half, it is indexed', () => {
    const e = new HpackEncoder({ maxTableSize: 100, huffman: false });
    e.encode([['x-b', 'a'.repeat(15)]]); // 3 + 15 + 32 = 50 = 100 / 2
    expect(e.table.length).toBe(1);
    const out = e.encode([['x-c', 'a'.repeat(16)]]); // 51
    expect(out[0]).toBe(0x00);
    expect(e.table.length).toBe(1);
  });

  it('a static name beside a dynamic entry of that name: the static name is used', () => {
    const e = new HpackEncoder({ huffman: false });
    expect(hex(e.encode([['content-type', 'a']]))).toBe('5f0161');
    expect(hex(e.encode([['content-type', 'b']]))).toBe('5f0162'); // name 31, not the dynamic content-type (62)
  });

  it('a literal without indexing by a dynamic name is never reused from the cache: the name moves as entries are added', () => {
    const e = new HpackEncoder({ huffman: false });
    const d = new HpackDecoder();
    const long = 'L'.repeat(3000); // larger than half the table: not indexed
    const blocks = [[['x-custom', 'v']], [['x-custom', long]], [['x-other', 'w']], [['x-custom', long]]] as Array<Array<[string, string]>>;
    const out = blocks.map((b) => d.decode(e.encode(b)).map(([n, v]) => [n, v.length > 10 ? `${v.length}` : v]));
    expect(out).toEqual([[['x-custom', 'v']], [['x-custom', '3000']], [['x-other', 'w']], [['x-custom', '3000']]]);
  });

  it('a cached literal copied across the end of the 4 KiB buffer grows it first', () => {
    const e = new HpackEncoder({ huffman: false });
    const date = 'Sun, 06 Dec 2026 12:00:00 GMT';
    e.encode([['last-modified', date]]); // cached
    // 1 + 1 + 5 + 3 + 4080 = 4090 octets, then the cached last-modified field (32 octets) crosses 4096.
    const out = e.encode([['x-pad', 'a'.repeat(4080)], ['last-modified', date]]);
    expect(out.length).toBe(4090 + 3 + date.length); // index 44 in two octets, the length in one
    expect(new HpackDecoder().decode(out).map(([n, v]) => [n, v.length])).toEqual([['x-pad', 4080], ['last-modified', date.length]]);
  });

  it('repeated literals without indexing are the same bytes; another value is encoded anew', () => {
    const e = new HpackEncoder({ huffman: false });
    const a = hex(e.encode([['last-modified', 'Mon, 1 Jan']]));
    expect(hex(e.encode([['last-modified', 'Mon, 1 Jan']]))).toBe(a);
    expect(hex(e.encode([['last-modified', 'Tue, 2 Jan']]))).toBe(`0f1d0a${Buffer.from('Tue, 2 Jan').toString('hex')}`);
    expect(hex(e.encode([['last-modified', 'Mon, 1 Jan']]))).toBe(a);
  });

  it('a table size change is signalled once, at the start of the next block', () => {
    const e = new HpackEncoder({ huffman: false });
    e.setMaxTableSize(0);
    expect(hex(e.encode([[':method', 'GET']]))).toBe('2082');
    expect(hex(e.encode([[':method', 'GET']]))).toBe('82');
    e.setMaxTableSize(4096);
    expect(hex(e.encode([]))).toBe('3fe11f');
    expect(hex(e.encode([]))).toBe('');
  });

  it('Huffman only when shorter; off by option', () => {
    expect(hex(new HpackEncoder().encode([['x-h', '&&&']]))).toBe('4003782d6803262626'); // 19 and 24 bits: no gain, raw
    expect(hex(new HpackEncoder().encode([['aaaa', 'aaaa']]))).toBe(`4083${huffmanHex('aaaa')}83${huffmanHex('aaaa')}`); // 20 bits: 3 bytes, shorter
    expect(hex(new HpackEncoder({ huffman: false }).encode([['x-h', 'aaaa']]))).toBe('4003782d680461616161');
    expect(new HpackEncoder().huffman).toBe(true);
    expect(new HpackEncoder({ huffman: false }).huffman).toBe(false);
  });

  it('string lengths and indexes at each prefix boundary (RFC 7541 §5.1)', () => {
    const len = (n: number) => hex(new HpackEncoder({ huffman: false }).encode([['content-length', 'x'.repeat(n)]])).slice(4, 4 + 8);
    expect(len(126).slice(0, 2)).toBe('7e');
    expect(len(127).slice(0, 4)).toBe('7f00');
    expect(len(128).slice(0, 4)).toBe('7f01');
    expect(len(254).slice(0, 4)).toBe('7f7f');
    expect(len(255).slice(0, 6)).toBe('7f8001');
    expect(len(16510).slice(0, 6)).toBe('7fff7f'); // 127 + 16383
    expect(len(16511).slice(0, 8)).toBe('7f808001');
  });

  it('grows its buffer past 4 KiB, and what it writes decodes', () => {
    const e = new HpackEncoder({ huffman: false });
    const fields: Array<[string, string]> = [['x-big', 'v'.repeat(5000)], ['x-more', 'w'.repeat(9000)], ['content-length', '1']];
    const block = e.encode(fields);
    expect(block.length).toBeGreaterThan(14000);
    expect(new HpackDecoder({ maxHeaderListSize: 1 << 20 }).decode(block)).toEqual(fields);
    const many = Array.from({ length: 600 }, (_, i) => [`x-k${i}`, `value-${i}`] as [string, string]);
    expect(new HpackDecoder({ maxHeaderListSize: 1 << 20 }).decode(new HpackEncoder().encode(many))).toEqual(many);
  });
});

function huffmanHex(s: string): string {
  const out = Buffer.alloc(64);
  return hex(out.subarray(0, huffmanEncode(s, out, 0)));
}

describe('decoder: refusals, with their codes and words', () => {
  it('each malformed block', () => {
    const d = () => new HpackDecoder();
    expect(decodeOutcome(d(), bytes('80'))).toBe('INVALID_INDEX: index 0 (RFC 7541)');
    expect(decodeOutcome(d(), bytes('be'))).toBe('INVALID_INDEX: index 62 beyond the tables (RFC 7541)');
    expect(decodeOutcome(d(), bytes('7e'))).toBe('INVALID_INDEX: index 62 beyond the tables (RFC 7541)'); // literal, dynamic name
    expect(decodeOutcome(d(), bytes('ff'))).toBe('TRUNCATED: integer runs past the block (RFC 7541)');
    expect(decodeOutcome(d(), bytes('ff80'))).toBe('TRUNCATED: integer runs past the block (RFC 7541)');
    expect(decodeOutcome(d(), bytes('ffffffffff0f'))).toBe('INTEGER_OVERFLOW: integer too large (RFC 7541)');
    expect(decodeOutcome(d(), bytes('40'))).toBe('TRUNCATED: string literal missing (RFC 7541)');
    expect(decodeOutcome(d(), bytes('4001'))).toBe('TRUNCATED: string literal runs past the block (RFC 7541)');
    expect(decodeOutcome(d(), bytes('400178'))).toBe('TRUNCATED: string literal missing (RFC 7541)'); // name, no value
    expect(decodeOutcome(d(), bytes('4181ff'))).toBe('INVALID_HUFFMAN: invalid Huffman code or padding (RFC 7541)');
    expect(decodeOutcome(d(), bytes('8220'))).toBe('LATE_TABLE_SIZE_UPDATE: dynamic table size update after a field (RFC 7541)');
    expect(decodeOutcome(d(), bytes('3fe21f'))).toBe('TABLE_SIZE_TOO_LARGE: table size 4097 above the limit 4096 (RFC 7541)');
    expect(decodeOutcome(d(), bytes('3fe11f82'))).toBe('[[":method","GET"]]'); // 4096: at the limit
  });

  it('the integer limit: 2^31 - 1 decodes, one more is refused', () => {
    // A size update is the one place a bare integer is read: 0x1f prefix + continuation bytes.
    const d = new HpackDecoder({ maxTableSize: 0x7fffffff });
    expect(decodeOutcome(d, bytes('3fe0ffffff07'))).toBe('[]'); // 31 + 0x7fffffe0 = 2^31 - 1
    expect(decodeOutcome(new HpackDecoder({ maxTableSize: 0x7fffffff }), bytes('3fe1ffffff07'))).toBe('INTEGER_OVERFLOW: integer too large (RFC 7541)');
  });

  it('string lengths: at the limit and one past, raw and Huffman (whose bound is 30/8 of it)', () => {
    const raw = (n: number) => Buffer.concat([bytes('0001'), Buffer.from('x'), Buffer.from([0x7f]), encodeInt(n - 127), Buffer.alloc(n, 0x61)]);
    expect(decodeOutcome(new HpackDecoder({ maxStringLength: 200 }), raw(200))).toMatch(/^\[\["x","a{200}"\]\]$/);
    expect(decodeOutcome(new HpackDecoder({ maxStringLength: 200 }), raw(201))).toBe('STRING_TOO_LONG: string literal of 201 bytes (RFC 7541)');
    // Huffman: 'a' is 5 bits, so 160 bytes decode to 256 characters.
    const huff = (chars: number) => {
      const out = Buffer.alloc(chars);
      const n = huffmanEncode('a'.repeat(chars), out, 0);
      return Buffer.concat([bytes('0001'), Buffer.from('x'), Buffer.from([0xff]), encodeInt(n - 127), out.subarray(0, n)]);
    };
    expect(decodeOutcome(new HpackDecoder({ maxStringLength: 256 }), huff(256))).toMatch(/^\[\["x","a{256}"\]\]$/);
    expect(decodeOutcome(new HpackDecoder({ maxStringLength: 255 }), huff(256))).toBe('STRING_TOO_LONG: decoded string of 256 bytes (RFC 7541)');
    // The encoded length's own bound: ceil(255 * 30 / 8) = 957 bytes.
    const long = (n: number) => Buffer.concat([bytes('0001'), Buffer.from('x'), Buffer.from([0xff]), encodeInt(n - 127), Buffer.alloc(n, 0xff)]);
    expect(decodeOutcome(new HpackDecoder({ maxStringLength: 255 }), long(957))).toMatch(/^INVALID_HUFFMAN/);
    expect(decodeOutcome(new HpackDecoder({ maxStringLength: 255 }), long(958))).toBe('STRING_TOO_LONG: string literal of 958 bytes (RFC 7541)');
  });

  it('the header list limit counts name + value + 32 per field: at the limit, and one past', () => {
    const block = new HpackEncoder({ huffman: false }).encode([['x-a', 'b'.repeat(65)]]); // 3 + 65 + 32 = 100
    expect(decodeOutcome(new HpackDecoder({ maxHeaderListSize: 100 }), block)).toMatch(/^\[\["x-a"/);
    expect(decodeOutcome(new HpackDecoder({ maxHeaderListSize: 99 }), block)).toBe('HEADER_LIST_TOO_LARGE: header list above 99 bytes (RFC 7541)');
    expect(new HpackDecoder().maxHeaderListSize).toBe(65536);
    expect(new HpackDecoder().maxStringLength).toBe(16384);
  });

  it('fields invalid for HTTP are decoded (tables in step) and named: in literals, and in indexed entries added invalid', () => {
    const d = new HpackDecoder();
    const bad = new HpackEncoder({ huffman: false }).encode([['x-v', 'a\nb']]);
    expect(d.decode(bad)).toEqual([['x-v', 'a\nb']]);
    expect(d.invalid).toBe('NUL, CR or LF in the value of x-v');
    expect(d.decode(bytes('be'))).toEqual([['x-v', 'a\nb']]); // the indexed copy: still invalid
    expect(d.invalid).toBe('NUL, CR or LF in the value of x-v');
    expect(d.decode(bytes('82'))).toEqual([[':method', 'GET']]);
    expect(d.invalid).toBeNull();
    const upper = Buffer.concat([bytes('4003'), Buffer.from('X-Up'.slice(0, 3)), bytes('0131')]);
    expect(d.decode(upper)).toEqual([['X-U', '1']]);
    expect(d.invalid).toBe('invalid field name "X-U"');
    expect(d.decode(bytes('be'))).toEqual([['X-U', '1']]);
    expect(d.invalid).toBe('invalid field name "X-U"');
    expect(d.decode(bytes('7e0132'))).toEqual([['X-U', '2']]); // a literal naming the invalid entry's name
    expect(d.invalid).toBe('invalid field name "X-U"');
    const longName = 'N'.repeat(100);
    expect(new HpackDecoder().decode(Buffer.concat([bytes('0064'), Buffer.from(longName), bytes('0131')]))).toEqual([[longName, '1']]);
    const d2 = new HpackDecoder();
    d2.decode(Buffer.concat([bytes('0064'), Buffer.from(longName), bytes('0131')]));
    expect(d2.invalid).toBe(`invalid field name ${JSON.stringify('N'.repeat(64))}`);
    const ok = new HpackDecoder();
    ok.decode(new HpackEncoder().encode([['x-fine', 'v']]));
    expect(ok.decode(bytes('be'))).toEqual([['x-fine', 'v']]);
    expect(ok.invalid).toBeNull();
  });

  it('a size update shrinks the table at once (evicting), and a never-indexed literal comes back marked', () => {
    const d = new HpackDecoder();
    d.decode(new HpackEncoder({ huffman: false }).encode([['x-a', '1'], ['x-b', '2']]));
    expect(d.table.length).toBe(2);
    expect(d.decode(bytes('3f0a'))).toEqual([]); // size 41: room for one 36-byte entry
    expect(entries(d.table)).toEqual([['x-b', '2']]);
    expect(d.decode(bytes('1003782d7301' + '31'))).toEqual([['x-s', '1', true]]);
    expect(d.table.length).toBe(1);
  });

  it('decodes from any Uint8Array view, not only Buffers', () => {
    const block = new HpackEncoder({ huffman: false }).encode([['x-a', 'hello']]);
    const backing = new Uint8Array(block.length + 7);
    backing.set(block, 7);
    expect(new HpackDecoder().decode(new Uint8Array(backing.buffer, 7, block.length))).toEqual([['x-a', 'hello']]);
  });
});

function encodeInt(v: number): Buffer {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

describe('the dynamic table', () => {
  it('adds at the front, evicts from the back, finds exact (>= 0) and name-only (<= -2) matches', () => {
    const t = new DynamicTable(200);
    t.add('a', '1');
    t.add('b', '2');
    t.add('a', '3');
    expect(entries(t)).toEqual([['a', '3'], ['b', '2'], ['a', '1']]);
    expect(t.size).toBe(3 * 34);
    expect(t.find('a', '1')).toBe(2);
    expect(t.find('a', '3')).toBe(0);
    expect(t.find('b', '9')).toBe(-3); // name at 1
    expect(t.find('a', '9')).toBe(-2); // the newest entry of that name
    expect(t.find('c', '1')).toBe(-1);
    t.add('c', '4'); // 4 * 34 = 136
    t.add('d', '5'); // 170
    t.add('e', '6'); // 204 > 200: the oldest goes
    expect(entries(t).map((x) => x![0])).toEqual(['e', 'd', 'c', 'a', 'b']);
    expect(t.size).toBe(170);
    expect(t.get(5)).toBeUndefined();
  });

  it('an entry larger than the table empties it (RFC 7541 §4.4); at exactly the size it fits', () => {
    const t = new DynamicTable(40);
    t.add('a', '1');
    t.add('x', 'y'.repeat(7)); // 1 + 7 + 32 = 40: fits alone
    expect(entries(t)).toEqual([['x', 'yyyyyyy']]);
    t.add('x', 'y'.repeat(8)); // 41
    expect(t.length).toBe(0);
    expect(t.size).toBe(0);
  });

  it('resize evicts down to the new size; growth keeps order across the ring', () => {
    const t = new DynamicTable(10_000);
    for (let i = 0; i < 40; i++) t.add(`k${i}`, `v${i}`, i % 3 === 0);
    expect(t.length).toBe(40);
    expect(t.get(0)).toEqual(['k39', 'v39']);
    expect(t.get(39)).toEqual(['k0', 'v0']);
    expect(t.invalidAt(0)).toBe(true); // 39
    expect(t.invalidAt(1)).toBe(false);
    expect(t.invalidCount).toBe(14);
    t.resize(3 * 38);
    expect(entries(t)).toEqual([['k39', 'v39'], ['k38', 'v38'], ['k37', 'v37']]);
    expect(t.invalidCount).toBe(1);
    t.resize(0);
    expect(t.length).toBe(0);
    expect(t.invalidCount).toBe(0);
    for (let i = 0; i < 20; i++) t.add('n', String(i));
    expect(t.length).toBe(0);
    t.resize(10_000);
    for (let i = 0; i < 20; i++) t.add('n', String(i));
    expect(t.get(0)).toEqual(['n', '19']);
    expect(t.get(19)).toEqual(['n', '0']);
    expect(t.find('n', '0')).toBe(19);
  });
});

describe('Huffman', () => {
  it('lengths and codes of RFC 7541 Appendix B, and padding rules', () => {
    expect(huffmanLength('www.example.com')).toBe(12);
    expect(huffmanHex('www.example.com')).toBe('f1e3c2e5f23a6ba0ab90f4ff');
    expect(huffmanHex('no-cache')).toBe('a8eb10649cbf');
    expect(huffmanDecode(bytes('f1e3c2e5f23a6ba0ab90f4ff'), 0, 12)).toBe('www.example.com');
    expect(huffmanDecode(bytes('ff'), 0, 1)).toBeNull(); // 8 bits of padding: more than 7
    expect(huffmanDecode(bytes('fe'), 0, 1)).toBeNull(); // padding not all ones
    expect(huffmanDecode(bytes('1f'), 0, 1)).toBe('a'); // 'a' (00011) + 111 padding
    expect(huffmanDecode(bytes('00'), 0, 0)).toBe('');
    const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const out = Buffer.alloc(1024);
    const n = huffmanEncode(all, out, 0);
    expect(n).toBe(huffmanLength(all));
    expect(huffmanDecode(out, 0, n)).toBe(all);
    const big = 'abc'.repeat(2000); // decoded in chunks
    const o2 = Buffer.alloc(huffmanLength(big));
    expect(huffmanDecode(o2, 0, huffmanEncode(big, o2, 0))).toBe(big);
    expect(huffmanDecode(Buffer.concat([bytes('ffffffff'), o2]), 4, 4 + o2.length)).toBe(big);
  });
});

describe('more edges (from the mutants that survived the first rules)', () => {
  it('the table’s ring wraps without growing: entries read back across the wrap; adds are valid unless said', () => {
    const t = new DynamicTable(100); // room for two 34-byte entries: count stays 2, the ring (16 slots) cycles
    for (let i = 0; i < 33; i++) t.add('n', `${i % 10}`); // the newest in slot 0, the one before in slot 15
    expect(entries(t)).toEqual([['n', '2'], ['n', '1']]);
    expect(t.find('n', '1')).toBe(1);
    expect(t.invalidAt(1)).toBe(false);
    expect(t.invalidCount).toBe(0);
  });

  it('the encoder grows its buffer wherever a write crosses its end: an integer, a Huffman string', () => {
    // First field: 0x40, name length, 'x-a', a 3-byte length, 4087 bytes = 4095 of a 4096-byte buffer.
    const fields: Array<[string, string]> = [['x-a', 'v'.repeat(4087)], ['x-b', 'w'.repeat(200)]];
    const block = new HpackEncoder({ huffman: false }).encode(fields);
    expect(block.length).toBe(4095 + 1 + 1 + 3 + 2 + 200);
    expect(new HpackDecoder({ maxHeaderListSize: 1 << 20 }).decode(block)).toEqual(fields);
    const huff: Array<[string, string]> = [['x-big', 'a'.repeat(10_000)]]; // 6250 bytes of Huffman code
    expect(new HpackDecoder({ maxHeaderListSize: 1 << 20, maxStringLength: 1 << 20 }).decode(new HpackEncoder().encode(huff))).toEqual(huff);
  });

  it('Huffman: the EOS symbol inside a string is an error (RFC 7541 §5.2)', () => {
    expect(huffmanDecode(bytes('ffffffff'), 0, 4)).toBeNull();
    expect(huffmanDecode(bytes('1fffffffff'), 0, 5)).toBeNull(); // 'a', then EOS
  });
});

describe('encodeLatin1', () => {
  it('is encode as a latin1 string, one character per octet, with the same effect on the table', () => {
    const fields: Array<[string, string]> = [[':status', '200'], ['content-type', 'text/plain'], ['x-long', 'é'.repeat(40)], ['date', 'Sun, 06 Dec 2026 12:00:00 GMT']];
    const a = new HpackEncoder();
    const b = new HpackEncoder();
    for (let round = 0; round < 3; round++) {
      const bytes = a.encode(fields);
      const text = b.encodeLatin1(fields);
      expect(Buffer.from(text, 'latin1')).toEqual(bytes);
      expect(text.length).toBe(bytes.length);
    }
    expect(b.table.size).toBe(a.table.size);
    const dec = new HpackDecoder();
    expect(dec.decode(Buffer.from(new HpackEncoder().encodeLatin1(fields), 'latin1'))).toEqual(fields);
  });
});
