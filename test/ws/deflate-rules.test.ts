/**
 * permessage-deflate at its edges (#28, from permessage-deflate.ts's mutants): the extension grammar of
 * RFC 6455 §9.1 as parsed, the parameters of RFC 7692 §7 as answered, and context takeover checked against
 * zlib streams that keep their context (the way `ws` and browsers run it) — in both directions, with windows
 * smaller than the distance back, across several messages.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { acceptOffer, acceptResponse, clientOffer, compressShared, parseExtensions, PerMessageDeflate, type DeflateParams } from '../../lib/ws/codec.js';
import { slide } from '../../lib/ws/permessage-deflate.js';
import { isValidUtf8 } from '../../lib/ws/utf8.js';

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Deterministic bytes that deflate cannot shorten by themselves (so any saving is a reference back). */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >> 16;
  }
  return b;
}

/**
 * A zlib stream kept across messages, as a peer keeps its context: each message written and flushed
 * (Z_SYNC_FLUSH), what came out collected; an error (a reference past the window: "invalid distance too far
 * back") rejects, since no flush completes after it.
 */
async function throughStream(z: zlib.DeflateRaw | zlib.InflateRaw, messages: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const m of messages) {
    const chunks: Buffer[] = [];
    const take = (c: Buffer) => void chunks.push(c);
    z.on('data', take);
    z.write(m);
    await new Promise<void>((resolve, reject) => {
      z.once('error', reject);
      z.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve());
    });
    z.off('data', take);
    out.push(Buffer.concat(chunks));
  }
  z.close();
  return out;
}

/** A peer that keeps its compression context between messages: each message flushed, trailer removed. */
async function peerDeflate(windowBits: number, messages: Buffer[]): Promise<Buffer[]> {
  return (await throughStream(zlib.createDeflateRaw({ windowBits }), messages)).map((b) => {
    expect(b.subarray(-4)).toEqual(TRAILER);
    return b.subarray(0, -4);
  });
}

/** A peer that keeps its inflate context between messages, with the window it agreed to. */
function peerInflate(windowBits: number, messages: Buffer[]): Promise<Buffer[]> {
  return throughStream(zlib.createInflateRaw({ windowBits }), messages.map((m) => Buffer.concat([m, TRAILER])));
}

const params = (o: Partial<DeflateParams>): DeflateParams => ({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...o });

describe('parseExtensions (RFC 6455 §9.1)', () => {
  const one = (h: string) => {
    const [e] = parseExtensions(h);
    return { name: e!.name, params: Object.fromEntries(e!.params), malformed: e!.malformed, duplicate: e!.duplicate };
  };

  it('names and parameters: trimmed, lowercased, quoted values unquoted with their escapes', () => {
    expect(one(' Permessage-Deflate ; Server_Max_Window_Bits = 10 ;client_no_context_takeover')).toEqual({
      name: 'permessage-deflate', params: { server_max_window_bits: '10', client_no_context_takeover: true }, malformed: false, duplicate: false,
    });
    expect(one('x; a="1\\0"')).toMatchObject({ params: { a: '10' }, malformed: false });
    expect(one('x; a=""')).toMatchObject({ params: { a: '' }, malformed: true }); // an empty value is not a token
  });

  it('empty extensions between commas are skipped', () => {
    expect(parseExtensions('a, , b,').map((e) => e.name)).toEqual(['a', 'b']);
    expect(parseExtensions('')).toEqual([]);
  });

  it.each([
    ['a name not a token at its start', '@x'],
    ['a name not a token at its end', 'x@'],
    ['a key not a token', 'x; @=1'],
    ['a key not a token at its end', 'x; a@=1'],
    ['a value not a token', 'x; a=@'],
    ['a value with a quote inside', 'x; a=a"b"'],
    ['a value with a quote at its start', 'x; a="b"a'],
    ['an empty key', 'x; =1'],
  ])('%s is malformed', (_name, h) => {
    expect(one(h).malformed).toBe(true);
  });

  it('an empty key keeps its value under the empty name; a value-less key is true', () => {
    expect(one('x; =1').params).toEqual({ '': '1' });
    expect(one('x; a').params).toEqual({ a: true });
  });
});

describe('acceptOffer and clientOffer (RFC 7692 §7)', () => {
  const accept = (offer: string, o = {}) => acceptOffer(offer, o)?.response ?? null;

  it.each([
    ['window bits of three digits', 'permessage-deflate; server_max_window_bits=100'],
    ['window bits with a leading zero (8)', 'permessage-deflate; client_max_window_bits=08'],
    ['a value on server_no_context_takeover', 'permessage-deflate; server_no_context_takeover=1'],
  ])('declines %s', (_name, offer) => {
    expect(accept(offer)).toBeNull();
  });

  it('the context takeover flags: the offer asks, the options add', () => {
    const off = { serverNoContextTakeover: false, clientNoContextTakeover: false };
    expect(accept('permessage-deflate', off)).toBe('permessage-deflate');
    expect(accept('permessage-deflate; server_no_context_takeover', off)).toBe('permessage-deflate; server_no_context_takeover');
    expect(accept('permessage-deflate; client_no_context_takeover', off)).toBe('permessage-deflate; client_no_context_takeover');
    expect(accept('permessage-deflate', { serverNoContextTakeover: false })).toBe('permessage-deflate; client_no_context_takeover');
    expect(acceptOffer('permessage-deflate; client_no_context_takeover', off)!.params).toEqual(params({ serverNoContextTakeover: false }));
  });

  const off = { serverNoContextTakeover: false, clientNoContextTakeover: false };
  it.each([
    ['server bits offered, 15 too: echoed', 'permessage-deflate; server_max_window_bits=15', {}, 'permessage-deflate; server_max_window_bits=15'],
    ['server bits we want less of: named', 'permessage-deflate', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=12'],
    ['server bits offered below ours: echoed', 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=10'],
    ['server bits 15 and not offered: absent', 'permessage-deflate', { serverMaxWindowBits: 15 }, 'permessage-deflate'],
    ['client bits value-less, ours 15: absent', 'permessage-deflate; client_max_window_bits', {}, 'permessage-deflate'],
    ['client bits offered below ours: absent', 'permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 12 }, 'permessage-deflate'],
    ['client bits offered equal to ours: absent', 'permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 10 }, 'permessage-deflate'],
    ['client bits offered above ours: limited', 'permessage-deflate; client_max_window_bits=11', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
  ] as Array<[string, string, Record<string, number>, string]>)('window bits, %s', (_name, offer, o, answer) => {
    expect(accept(offer, { ...off, ...o })).toBe(answer);
  });

  it('the client offers server_max_window_bits only below 15', () => {
    expect(clientOffer({ serverMaxWindowBits: 14 })).toBe('permessage-deflate; client_max_window_bits; server_max_window_bits=14');
    expect(clientOffer({ serverMaxWindowBits: 15 })).toBe('permessage-deflate; client_max_window_bits');
  });

  it('the client takes a server window at or below what it asked', () => {
    expect(acceptResponse('permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }).serverMaxWindowBits).toBe(10);
    expect(acceptResponse('permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 10 }).serverMaxWindowBits).toBe(9);
    expect(() => acceptResponse('permessage-deflate; server_max_window_bits=11', { serverMaxWindowBits: 10 })).toThrow('server_max_window_bits above what we asked');
  });
});

describe('compression', () => {
  const text = Buffer.from('a message that says the same thing, the same thing, again. '.repeat(40));

  it('compressShared is what a connection without context sends, trailer removed; its level is used', () => {
    const z = compressShared(text);
    expect(z.equals(new PerMessageDeflate(params({}), 'server').compress(text))).toBe(true);
    expect(z.subarray(-4).equals(TRAILER)).toBe(false);
    expect(zlib.inflateRawSync(Buffer.concat([z, TRAILER]), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).equals(text)).toBe(true);
    expect(compressShared(text, 0).length).toBeGreaterThan(text.length); // stored blocks
    expect(compressShared(Buffer.alloc(0))).toEqual(Buffer.from([0x00])); // RFC 7692 §7.2.3.6
    expect(new PerMessageDeflate(params({}), 'server').compress(Buffer.alloc(0))).toEqual(Buffer.from([0x00]));
  });

  it('the level option is used (default: zlib\'s)', () => {
    expect(new PerMessageDeflate(params({}), 'server', { level: 9 }).level).toBe(9);
    expect(new PerMessageDeflate(params({}), 'server', { level: 0 }).compress(text).length).toBeGreaterThan(text.length);
    expect(new PerMessageDeflate(params({}), 'server').level).toBe(zlib.constants.Z_DEFAULT_COMPRESSION);
  });

  it('a client with takeover and a 9-bit window never refers further back than its window; a peer with that window reads it', async () => {
    const p = params({ clientNoContextTakeover: false, clientMaxWindowBits: 9 });
    const client = new PerMessageDeflate(p, 'client');
    const m1 = noise(2000, 1);
    const sent = [client.compress(m1), client.compress(m1), client.compress(Buffer.concat([m1.subarray(1800), noise(100, 2)]))];
    const got = await peerInflate(9, sent);
    expect(got.map((b) => b.toString('hex'))).toEqual([m1, m1, Buffer.concat([m1.subarray(1800), noise(100, 2)])].map((b) => b.toString('hex')));
    expect(sent[2]!.length).toBeLessThan(150); // its first 200 octets are the end of the window (zlib reaches back 2^9 - 262)
  });

  it('a server with takeover and a 15-bit window refers back across messages; the peer reads them', async () => {
    const server = new PerMessageDeflate(params({ serverNoContextTakeover: false }), 'server');
    const m1 = noise(3000, 3);
    const m2 = noise(3000, 4);
    const sent = [server.compress(m1), server.compress(m2), server.compress(Buffer.concat([m1, m2]))];
    expect(sent[2]!.length).toBeLessThan(100); // both earlier messages are in the window
    expect((await peerInflate(15, sent)).map((b) => b.length)).toEqual([3000, 3000, 6000]);
  });

  it('close() drops the kept window: the next message stands alone', () => {
    const p = params({ serverNoContextTakeover: false });
    const a = new PerMessageDeflate(p, 'server');
    const m = noise(1000, 5);
    a.compress(m);
    a.close();
    expect(a.compress(m).equals(new PerMessageDeflate(p, 'server').compress(m))).toBe(true);
  });
});

describe('decompression with the peer keeping its context', () => {
  it("a server reads a client's messages that refer back across messages, within the client's window", async () => {
    // The server sends without takeover and with a 9-bit window; the client keeps a full 15-bit one.
    const server = new PerMessageDeflate(params({ clientNoContextTakeover: false, serverMaxWindowBits: 9 }), 'server');
    const m1 = noise(3000, 6);
    const m2 = noise(400, 7);
    const msgs = [m1, m2, Buffer.concat([m1.subarray(0, 1000), m2]), m1];
    const sent = await peerDeflate(15, msgs);
    expect(sent.map((z) => server.decompress(z, 1 << 20).toString('hex'))).toEqual(msgs.map((b) => b.toString('hex')));
  });

  it("a client reads a server's messages within the server's window", async () => {
    const client = new PerMessageDeflate(params({ serverNoContextTakeover: false, serverMaxWindowBits: 10, clientMaxWindowBits: 9 }), 'client');
    const m1 = noise(900, 8);
    const msgs = [m1, m1, Buffer.concat([noise(50, 9), m1.subarray(800)])];
    const sent = await peerDeflate(10, msgs);
    expect(sent.map((z) => client.decompress(z, 1 << 20).toString('hex'))).toEqual(msgs.map((b) => b.toString('hex')));
  });

  it('without takeover from the peer, nothing is kept: each message inflates alone', async () => {
    const server = new PerMessageDeflate(params({}), 'server');
    const msgs = [noise(500, 10), noise(500, 10)];
    const alone = msgs.map((m) => compressShared(m));
    expect(alone.map((z) => server.decompress(z, 1 << 20).equals(msgs[0]!))).toEqual([true, true]);
  });
});

describe('slide: the window kept between messages', () => {
  it.each([
    ['no window yet', null, 'abc', 8, 'abc'],
    ['data longer than the window', 'xy', 'abcdefghij', 4, 'ghij'],
    ['data exactly the window', 'xy', 'abcd', 4, 'abcd'],
    ['window and data within the size', 'xy', 'ab', 8, 'xyab'],
    ['window trimmed from its start', 'uvwxyz', 'ab', 4, 'yzab'],
    ['data one short of the size', 'uvwxyz', 'abc', 4, 'zabc'],
  ] as Array<[string, string | null, string, number, string]>)('%s', (_name, w, d, size, want) => {
    const out = slide(w === null ? null : Buffer.from(w), Buffer.from(d), size);
    expect(out.toString()).toBe(want);
    expect(out.length).toBeLessThanOrEqual(size);
  });

  it('keeps a copy, not a view of the caller\'s buffer', () => {
    const data = Buffer.from('abcdefgh');
    const kept = [slide(null, data, 16), slide(null, data, 4), slide(Buffer.from('z'), data, 16)];
    data.fill(0x30);
    expect(kept.map(String)).toEqual(['abcdefgh', 'efgh', 'zabcdefgh']);
  });
});

describe('isValidUtf8', () => {
  it('empty is valid; a lone continuation byte is not', () => {
    expect(isValidUtf8(new Uint8Array(0))).toBe(true);
    expect(isValidUtf8(Buffer.from([0x80]))).toBe(false);
    expect(isValidUtf8(Buffer.from('€'))).toBe(true);
  });
});

describe('memory kept between messages', () => {
  it('none without context takeover, in either direction and either role', () => {
    for (const role of ['server', 'client'] as const) {
      const p = new PerMessageDeflate(params({}), role);
      const m = noise(5000, 11);
      p.decompress(p.compress(m), 1 << 20);
      expect(p.keptBytes).toBe(0);
    }
  });

  it('with takeover, at most 2^bits per direction that keeps one (2^9 for an 8-bit window), none after close()', () => {
    const server = new PerMessageDeflate(params({ serverNoContextTakeover: false, serverMaxWindowBits: 10 }), 'server');
    for (let i = 0; i < 5; i++) server.compress(noise(700, 20 + i));
    expect(server.keptBytes).toBe(1024);
    const reader = new PerMessageDeflate(params({ clientNoContextTakeover: false, clientMaxWindowBits: 8 }), 'server');
    for (let i = 0; i < 3; i++) reader.decompress(compressShared(noise(300, 30 + i)), 1 << 20);
    expect(reader.keptBytes).toBe(512);
    reader.close();
    expect(reader.keptBytes).toBe(0);
  });
});
