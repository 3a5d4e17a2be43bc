/**
 * permessage-deflate negotiation exactly as RFC 7692 §7 says (the shapes of Autobahn 13.x), and the
 * receiver's fragment handling (Autobahn 9.3/9.4, 6.4.3/6.4.4): fine fragmentation accepted with memory
 * bounded by the bytes, and invalid UTF-8 failing at once inside a frame still arriving.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { acceptOffer, acceptResponse, frameBytes, OP_BINARY, OP_CONTINUATION, OP_TEXT, PerMessageDeflate, Receiver, WsProtocolError } from '../../lib/ws/index.js';

describe('acceptOffer (RFC 7692 §7)', () => {
  const accept = (offer: string) => acceptOffer(offer, {})?.response ?? null;

  it('honours server_max_window_bits 8–15 with that value in the response', () => {
    for (let b = 8; b <= 15; b++) expect(accept(`permessage-deflate; server_max_window_bits=${b}`)).toBe(`permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=${b}`);
  });

  it('takes the first acceptable offer: a declined one falls through to the next', () => {
    expect(accept('permessage-deflate; server_max_window_bits, permessage-deflate')).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    expect(accept('x-unknown-ext, permessage-deflate; server_max_window_bits=10, permessage-deflate')).toMatch(/server_max_window_bits=10$/);
  });

  const declined: Array<[string, string]> = [
    ['value-less server_max_window_bits', 'permessage-deflate; server_max_window_bits'],
    ['a repeated parameter', 'permessage-deflate; client_max_window_bits=10; client_max_window_bits=12'],
    ['a repeated flag', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['a leading zero', 'permessage-deflate; server_max_window_bits=010'],
    ['window bits out of range', 'permessage-deflate; server_max_window_bits=7'],
    ['window bits out of range (16)', 'permessage-deflate; client_max_window_bits=16'],
    ['an unknown parameter', 'permessage-deflate; mux=1'],
    ['a value on a flag', 'permessage-deflate; client_no_context_takeover=1'],
    ['a value that is not a token', 'permessage-deflate; server_max_window_bits=1 0'],
    ['an empty parameter', 'permessage-deflate; ; server_no_context_takeover'],
  ];
  for (const [name, offer] of declined) {
    it(`declines ${name}`, () => {
      expect(accept(offer)).toBeNull();
    });
  }

  it('client_max_window_bits: value-less means "supported" (we may limit it); a value is an upper bound we answer within', () => {
    expect(acceptOffer('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 })!.response).toMatch(/client_max_window_bits=10$/);
    expect(acceptOffer('permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 })!.response).toMatch(/client_max_window_bits=10$/);
    expect(acceptOffer('permessage-deflate; client_max_window_bits=9', {})!.params.clientMaxWindowBits).toBe(9);
    // Not offered: never limited (the client may not support the parameter).
    expect(acceptOffer('permessage-deflate', { clientMaxWindowBits: 10 })!.response).not.toMatch(/client_max_window_bits/);
    expect(accept('permessage-deflate; client_max_window_bits="12"')).not.toBeNull(); // quoted-string form
  });

  it('the client refuses a malformed or repeated response', () => {
    expect(() => acceptResponse('permessage-deflate; server_max_window_bits', {})).toThrow(/invalid/);
    expect(() => acceptResponse('permessage-deflate; server_no_context_takeover; server_no_context_takeover', {})).toThrow(/invalid/);
    expect(acceptResponse('permessage-deflate; server_max_window_bits=9', {}).serverMaxWindowBits).toBe(9);
  });

  it('what we send with an 8- or 9-bit server window inflates within that window', () => {
    const data = Buffer.from(Array.from({ length: 20_000 }, (_, i) => String.fromCharCode(97 + ((i * 7 + (i >> 5)) % 26))).join('').repeat(3));
    for (const b of [8, 9, 10, 15]) {
      const { params } = acceptOffer(`permessage-deflate; server_max_window_bits=${b}`, {})!;
      const z = new PerMessageDeflate(params, 'server').compress(data);
      // Node's raw inflate takes 9 as its smallest window; our 8-bit stream refers back at most 250 bytes.
      const out = zlib.inflateRawSync(Buffer.concat([z, Buffer.from([0, 0, 0xff, 0xff])]), { windowBits: Math.max(9, b), finishFlush: zlib.constants.Z_SYNC_FLUSH });
      expect(out.equals(data), `window ${b}`).toBe(true);
    }
  });
});

/** A server-side receiver fed client frames; collects messages and the protocol error, if any. */
function receiver(options: { maxMessageSize?: number; maxFragments?: number } = {}) {
  const messages: Buffer[] = [];
  const r = new Receiver({ role: 'server', ...options }, { onMessage: (d) => void messages.push(Buffer.from(d)), onPing() {}, onPong() {}, onClose() {} });
  const feed = (b: Buffer): WsProtocolError | null => {
    try {
      r.push(b);
      return null;
    } catch (err) {
      return err as WsProtocolError;
    }
  };
  return { messages, feed };
}

describe('fragments (Autobahn 9.3/9.4)', () => {
  for (const [size, frag] of [
    [64 * 1024, 64],
    [1024 * 1024, 64],
    [4 * 1024 * 1024, 4096],
    [1024 * 1024, 1],
  ] as const) {
    it(`a ${size / 1024} KiB message in ${frag}-byte fragments is accepted with the default options`, () => {
      const { messages, feed } = receiver();
      const data = Buffer.alloc(size, 0x41);
      const frames: Buffer[] = [];
      for (let off = 0; off < size; off += frag) frames.push(frameBytes(off === 0 ? OP_TEXT : OP_CONTINUATION, data.subarray(off, off + frag), { fin: off + frag >= size, mask: true }));
      // Delivered as a socket would: several frames per read.
      const wire = Buffer.concat(frames);
      for (let off = 0; off < wire.length; off += 65536) expect(feed(wire.subarray(off, off + 65536))).toBeNull();
      expect(messages).toHaveLength(1);
      expect(messages[0]!.equals(data)).toBe(true);
    });
  }

  it('a flood of 1-byte fragments costs about its bytes in memory, and ends in 1009 at maxMessageSize', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { feed } = receiver({ maxMessageSize: 2 * 1024 * 1024 });
    const one = frameBytes(OP_CONTINUATION, Buffer.from([0x61]), { fin: false, mask: true });
    const batch = Buffer.concat(Array.from({ length: 10_000 }, () => one));
    expect(feed(frameBytes(OP_BINARY, Buffer.from([0x61]), { fin: false, mask: true }))).toBeNull();
    gc();
    const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 100; i++) expect(feed(Buffer.from(batch))).toBeNull(); // 1,000,000 fragments, 1 MB of payload
    gc();
    const grown = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - before;
    // The message buffer (1 MB of payload, at most doubled) — not a Buffer per fragment (~146 MiB before).
    expect(grown).toBeLessThan(8 * 1024 * 1024);
    let err: WsProtocolError | null = null;
    for (let i = 0; i < 200 && err === null; i++) err = feed(Buffer.from(batch));
    expect(err?.closeCode).toBe(1009);
  });

  it('maxFragments still limits the count when set', () => {
    const { feed } = receiver({ maxFragments: 3 });
    const errs = [0, 1, 2, 3].map((i) => feed(frameBytes(i === 0 ? OP_TEXT : OP_CONTINUATION, Buffer.from('x'), { fin: false, mask: true })));
    expect(errs.slice(0, 3)).toEqual([null, null, null]);
    expect(errs[3]?.closeCode).toBe(1009);
  });
});

describe('UTF-8 fails fast inside a frame (Autobahn 6.4.3/6.4.4)', () => {
  // κόσμε, then U+110000 as a 4-byte sequence (invalid: above U+10FFFF), then more valid text.
  const part1 = Buffer.from('cebae1bdb9cf83cebcceb5', 'hex');
  const part2 = Buffer.from('f4908080', 'hex');
  const part3 = Buffer.from('656469746564', 'hex');

  it('one frame in three reads: 1007 as the second read arrives, before the frame is complete', () => {
    const { messages, feed } = receiver();
    const frame = frameBytes(OP_TEXT, Buffer.concat([part1, part2, part3]), { mask: true });
    const cut1 = frame.length - part3.length - part2.length;
    const cut2 = frame.length - part3.length;
    expect(feed(frame.subarray(0, cut1))).toBeNull();
    expect(feed(frame.subarray(cut1, cut2))?.closeCode).toBe(1007);
    expect(messages).toEqual([]);
  });

  it('a continuation frame in pieces: 1007 at the piece with the bad bytes', () => {
    const { feed } = receiver();
    expect(feed(frameBytes(OP_TEXT, part1, { fin: false, mask: true }))).toBeNull();
    const cont = frameBytes(OP_CONTINUATION, Buffer.concat([part2, part3]), { fin: true, mask: true });
    const headerLen = cont.length - part2.length - part3.length;
    expect(feed(cont.subarray(0, headerLen + 1))).toBeNull(); // F4: may still start a valid sequence
    expect(feed(cont.subarray(headerLen + 1, headerLen + 2))?.closeCode).toBe(1007); // F4 90: above U+10FFFF
  });

  it('valid text split at every byte across reads is accepted', () => {
    const text = Buffer.from('κόσμε — ünïcødé 🎉');
    const frame = frameBytes(OP_TEXT, text, { mask: true });
    for (let cut = 1; cut < frame.length; cut++) {
      const { messages, feed } = receiver();
      // Copies: the receiver unmasks in place, as it may with socket reads it owns.
      expect(feed(Buffer.from(frame.subarray(0, cut)))).toBeNull();
      expect(feed(Buffer.from(frame.subarray(cut)))).toBeNull();
      expect(messages[0]!.equals(text)).toBe(true);
    }
  });
});
