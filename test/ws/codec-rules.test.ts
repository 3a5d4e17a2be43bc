/**
 * The WebSocket codec at its edges (#28, from the ws modules' mutants): every refusal of the frame parser
 * and the receiver with its code, close code and words (RFC 6455 §5, §7, §8; RFC 7692), each limit at the
 * limit and one past, masking in both roles, and the same result whatever the split of the bytes — checked
 * here on the codec itself, not only through the Autobahn suite's child process.
 */
import { describe, expect, it } from 'vitest';
import { FrameParser, frameBytes, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, Receiver, WsProtocolError, type ReceiverOptions } from '../../lib/ws/codec.js';

/** A frame as a client sends it (masked) or a server (unmasked): raw header bytes, so any rule can be broken. */
function raw(b0: number, payload: Buffer | number[] = [], o: { mask?: boolean; lenForm?: 126 | 127; b1Extra?: number } = {}): Buffer {
  const p = Buffer.from(payload);
  const mask = o.mask ?? true;
  const len = p.length;
  const head: number[] = [b0];
  const m = mask ? 0x80 : 0;
  if (o.lenForm === 127) head.push(m | 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  else if (o.lenForm === 126 || len > 125) head.push(m | 126, len >> 8, len & 0xff);
  else head.push(m | len);
  const key = [1, 2, 3, 4];
  const body = mask ? p.map((x, i) => x ^ key[i % 4]!) : p;
  return Buffer.concat([Buffer.from(head), Buffer.from(mask ? key : []), body]);
}
const FIN = 0x80;
const RSV1 = 0x40;

/** What the frame parser makes of `bytes` (pushed in pieces of `split`): frames, or `code closeCode: message`. */
function frames(input: Buffer, options: { role?: 'server' | 'client'; maxFrameSize?: number; allowRsv1?: boolean } = {}, split = 0): string {
  const bytes = Buffer.from(input); // the parser unmasks in place
  const out: string[] = [];
  const p = new FrameParser({ role: options.role ?? 'server', ...(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize }), ...(options.allowRsv1 === undefined ? {} : { allowRsv1: options.allowRsv1 }) }, { onFrame: (fin, rsv1, op, payload) => void out.push(`${fin ? 'F' : '-'}${rsv1 ? 'R' : '-'}${op}:${payload.toString('hex')}`) });
  try {
    if (split === 0) p.push(bytes);
    else for (let i = 0; i < bytes.length; i += split) p.push(bytes.subarray(i, i + split));
  } catch (e) {
    if (!(e instanceof WsProtocolError)) throw e;
    expect(e.name).toBe('WsProtocolError');
    return `${out.join(' ')}|${e.code} ${e.closeCode}: ${e.message}`;
  }
  return out.join(' ');
}

describe('frame parser refusals', () => {
  it.each([
    ['RSV2', raw(FIN | 0x20 | OP_TEXT), 'RESERVED_BITS 1002: reserved bits set without a negotiated extension (RFC 6455 §5.2)'],
    ['RSV3', raw(FIN | 0x10 | OP_TEXT), 'RESERVED_BITS 1002: reserved bits set without a negotiated extension (RFC 6455 §5.2)'],
    ['RSV1 without an extension', raw(FIN | RSV1 | OP_TEXT), 'RESERVED_BITS 1002: reserved bits set without a negotiated extension (RFC 6455 §5.2)'],
    ['opcode 0x3', raw(FIN | 0x3), 'RESERVED_OPCODE 1002: reserved opcode: 0x3 (RFC 6455 §5.2)'],
    ['opcode 0x7', raw(FIN | 0x7), 'RESERVED_OPCODE 1002: reserved opcode: 0x7 (RFC 6455 §5.2)'],
    ['opcode 0xb', raw(FIN | 0xb), 'RESERVED_OPCODE 1002: reserved opcode: 0xb (RFC 6455 §5.2)'],
    ['opcode 0xf', raw(FIN | 0xf), 'RESERVED_OPCODE 1002: reserved opcode: 0xf (RFC 6455 §5.2)'],
    ['a fragmented ping', raw(OP_PING), 'CONTROL_FRAGMENTED 1002: fragmented control frame (RFC 6455 §5.5)'],
    ['RSV1 on a ping (extension on)', raw(FIN | RSV1 | OP_PING), 'RESERVED_BITS 1002: reserved bits set without a negotiated extension: RSV1 on a control frame (RFC 6455 §5.2)'],
    ['an unmasked client frame', raw(FIN | OP_TEXT, [0x61], { mask: false }), 'UNMASKED_CLIENT_FRAME 1002: client frame not masked (RFC 6455 §5.1)'],
    ['126 bytes of ping', raw(FIN | OP_PING, Buffer.alloc(126)), 'CONTROL_TOO_LONG 1002: control frame payload longer than 125 bytes (RFC 6455 §5.5)'],
    ['a 16-bit length under 126', raw(FIN | OP_TEXT, Buffer.alloc(125), { lenForm: 126 }), 'BAD_LENGTH 1002: payload length not in minimal form or 64-bit length with the top bit set (RFC 6455 §5.2)'],
    ['a 64-bit length under 65536', raw(FIN | OP_BINARY, Buffer.alloc(65535), { lenForm: 127 }), 'BAD_LENGTH 1002: payload length not in minimal form or 64-bit length with the top bit set (RFC 6455 §5.2)'],
    ['a 64-bit length with the top bit', Buffer.from([FIN | OP_BINARY, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1]), 'BAD_LENGTH 1002: payload length not in minimal form or 64-bit length with the top bit set (RFC 6455 §5.2)'],
    ['a 64-bit length of 2^53', Buffer.from([FIN | OP_BINARY, 0x80 | 127, 0, 0x20, 0, 0, 0, 0, 0, 0]), 'FRAME_TOO_BIG 1009: frame larger than the limit (RFC 6455 §7.4.1)'],
  ])('%s', (_name, bytes, expected) => {
    const allowRsv1 = _name.includes('extension on');
    expect(frames(bytes, { allowRsv1 })).toBe(`|${expected}`);
    expect(frames(bytes, { allowRsv1 }, 1)).toBe(`|${expected}`);
  });

  it('a client refuses a masked server frame and reads unmasked ones', () => {
    expect(frames(raw(FIN | OP_TEXT, [0x61]), { role: 'client' })).toBe('|MASKED_SERVER_FRAME 1002: server frame masked (RFC 6455 §5.1)');
    expect(frames(raw(FIN | OP_TEXT, [0x61, 0x62], { mask: false }), { role: 'client' })).toBe('F-1:6162');
  });

  it('frame size: at the limit taken, one past refused with 1009 and both numbers; control frames of 125 bytes taken', () => {
    expect(frames(raw(FIN | OP_BINARY, Buffer.alloc(300, 7)), { maxFrameSize: 300 })).toBe(`F-2:${'07'.repeat(300)}`);
    expect(frames(raw(FIN | OP_BINARY, Buffer.alloc(301)), { maxFrameSize: 300 })).toBe('|FRAME_TOO_BIG 1009: frame larger than the limit: 301 > 300 (RFC 6455 §7.4.1)');
    expect(frames(raw(FIN | OP_PING, Buffer.alloc(125, 1)))).toBe(`F-9:${'01'.repeat(125)}`);
    expect(new FrameParser({ role: 'server' }, { onFrame() {} }).maxFrameSize).toBe(16 * 1024 * 1024);
    // Minimal forms at their edges: 126 in 16 bits, 65536 in 64 bits.
    expect(frames(raw(FIN | OP_BINARY, Buffer.alloc(126)))).toMatch(/^F-2:0{252}$/);
    expect(frames(raw(FIN | OP_BINARY, Buffer.alloc(65536), { lenForm: 127 }), { maxFrameSize: 1 << 20 })).toMatch(/^F-2:(00){65536}$/);
  });

  it('after a refusal the parser takes nothing more; RSV1 passes when the extension is on', () => {
    const got: number[] = [];
    const p = new FrameParser({ role: 'server' }, { onFrame: (_f, _r, op) => void got.push(op) });
    expect(() => p.push(raw(FIN | 0x3))).toThrow(WsProtocolError);
    p.push(raw(FIN | OP_TEXT, [0x61]));
    expect(got).toEqual([]);
    expect(frames(raw(FIN | RSV1 | OP_TEXT, [1]), { allowRsv1: true })).toBe('FR1:01');
  });

  it('any split gives the same frames: headers of 2, 4, 10 and 14 bytes, payloads across reads, empty payloads', () => {
    const bytes = Buffer.concat([
      raw(OP_TEXT, Buffer.from('frag')),
      raw(FIN | OP_CONTINUATION, []),
      raw(FIN | OP_PING, []),
      raw(FIN | OP_BINARY, Buffer.alloc(200, 9)),
      raw(FIN | OP_BINARY, Buffer.alloc(70000, 3), { lenForm: 127 }),
      raw(FIN | OP_PONG, Buffer.from('p')),
      raw(FIN | OP_CLOSE, [0x03, 0xe8]),
    ]);
    const whole = frames(bytes, { maxFrameSize: 1 << 20 });
    expect(whole.split(' ').map((f) => f.slice(0, 4))).toEqual(['--1:', 'F-0:', 'F-9:', 'F-2:', 'F-2:', 'F-10', 'F-8:']);
    for (const split of [1, 2, 3, 7, 13, 14, 1000, 65536]) expect(frames(bytes, { maxFrameSize: 1 << 20 }, split), `split ${split}`).toBe(whole);
  });

  it('an unmasked payload spanning reads is handed out piece by piece, then whole', () => {
    const parts: string[] = [];
    const whole: string[] = [];
    const p = new FrameParser({ role: 'server' }, { onFramePart: (_r, op, piece, first) => void parts.push(`${op}${first ? '*' : ''}:${piece.toString()}`), onFrame: (_f, _r, _op, payload) => void whole.push(payload.toString()) });
    const bytes = raw(FIN | OP_TEXT, Buffer.from('abcdefgh'));
    p.push(bytes.subarray(0, 8)); // header (6) + 'ab'
    p.push(bytes.subarray(8, 11)); // 'cde'
    p.push(bytes.subarray(11)); // 'fgh'
    expect(parts).toEqual(['1*:ab', '1:cde', '1:fgh']);
    expect(whole).toEqual(['abcdefgh']);
    const ctl: string[] = [];
    const q = new FrameParser({ role: 'server' }, { onFramePart: () => void ctl.push('part'), onFrame: () => void ctl.push('frame') });
    const ping = raw(FIN | OP_PING, Buffer.from('abcd'));
    q.push(ping.subarray(0, 7));
    q.push(ping.subarray(7));
    expect(ctl).toEqual(['frame']); // control frames are not handed out in pieces
  });
});

/** What a receiver makes of `bytes`: messages, pings, pongs, close, or the error. */
function receive(input: Buffer, options: Partial<ReceiverOptions> = {}, split = 0): string {
  const bytes = Buffer.from(input); // the parser unmasks in place
  const out: string[] = [];
  const r = new Receiver({ role: 'server', ...options }, {
    onMessage: (d, bin) => void out.push(`${bin ? 'bin' : 'text'}:${bin ? d.toString('hex') : d.toString()}`),
    onPing: (d) => void out.push(`ping:${d.toString()}`),
    onPong: (d) => void out.push(`pong:${d.toString()}`),
    onClose: (code, reason) => void out.push(`close:${code}:${reason}`),
  });
  try {
    if (split === 0) r.push(bytes);
    else for (let i = 0; i < bytes.length; i += split) r.push(bytes.subarray(i, i + split));
  } catch (e) {
    if (!(e instanceof WsProtocolError)) throw e;
    return `${out.join(' ')}|${e.code} ${e.closeCode}: ${e.message}`;
  }
  return out.join(' ');
}

describe('receiver refusals', () => {
  const bad = Buffer.from([0xce, 0xba, 0xe1, 0xbd]); // 'κ' then a cut 3-byte sequence
  it.each([
    ['a continuation with no message', raw(FIN | OP_CONTINUATION, [0x61]), 'UNEXPECTED_CONTINUATION 1002: continuation frame without a message to continue (RFC 6455 §5.4)'],
    ['a new message inside a fragmented one', Buffer.concat([raw(OP_TEXT, [0x61]), raw(FIN | OP_TEXT, [0x62])]), 'EXPECTED_CONTINUATION 1002: new data frame while a fragmented message is open (RFC 6455 §5.4)'],
    ['a 1-byte close', raw(FIN | OP_CLOSE, [0x03]), 'INVALID_CLOSE_PAYLOAD 1002: close frame payload of 1 byte (RFC 6455 §5.5.1)'],
    ['close code 1005', raw(FIN | OP_CLOSE, [0x03, 0xed]), 'INVALID_CLOSE_CODE 1002: close code not allowed on the wire: 1005 (RFC 6455 §7.4)'],
    ['close code 999', raw(FIN | OP_CLOSE, [0x03, 0xe7]), 'INVALID_CLOSE_CODE 1002: close code not allowed on the wire: 999 (RFC 6455 §7.4)'],
    ['a close reason that is not UTF-8', raw(FIN | OP_CLOSE, [0x03, 0xe8, 0xff]), 'INVALID_CLOSE_REASON 1007: close reason is not valid UTF-8 (RFC 6455 §5.5.1)'],
    ['invalid UTF-8 in one frame', raw(FIN | OP_TEXT, [0x61, 0xff]), 'INVALID_UTF8 1007: text message is not valid UTF-8 (RFC 6455 §8.1)'],
    ['a text message cut inside a character', Buffer.concat([raw(OP_TEXT, bad.subarray(0, 3)), raw(FIN | OP_CONTINUATION, [])]), 'INVALID_UTF8 1007: text message is not valid UTF-8: message ends inside a character (RFC 6455 §8.1)'],
    ['invalid UTF-8 across fragments', Buffer.concat([raw(OP_TEXT, [0xce]), raw(FIN | OP_CONTINUATION, [0x41])]), 'INVALID_UTF8 1007: text message is not valid UTF-8 (RFC 6455 §8.1)'],
  ])('%s', (_name, bytes, expected) => {
    expect(receive(bytes)).toBe(`|${expected}`);
    expect(receive(bytes, {}, 1)).toBe(`|${expected}`);
  });

  it('UTF-8 fails fast: the first bad byte of a long text frame, before the rest arrives', () => {
    const r = new Receiver({ role: 'server' }, { onMessage() {}, onPing() {}, onPong() {}, onClose() {} });
    const frame = raw(FIN | OP_TEXT, Buffer.concat([Buffer.from([0xff]), Buffer.alloc(10000, 0x61)]));
    expect(() => r.push(frame.subarray(0, 20))).toThrow(/not valid UTF-8/);
  });

  it('messages: text and binary, fragmented, with control frames between fragments; a close with and without a code', () => {
    const bytes = Buffer.concat([
      raw(FIN | OP_TEXT, Buffer.from('héllo')),
      raw(OP_BINARY, [1, 2]),
      raw(FIN | OP_PING, Buffer.from('hi')),
      raw(OP_CONTINUATION, [3]),
      raw(FIN | OP_PONG, Buffer.from('yo')),
      raw(FIN | OP_CONTINUATION, [4]),
      raw(OP_TEXT, Buffer.from([0xce])),
      raw(FIN | OP_CONTINUATION, Buffer.from([0xba])),
      raw(FIN | OP_TEXT, []),
      raw(FIN | OP_CLOSE, [0x0f, 0xa0, ...Buffer.from('bye')]),
    ]);
    const expected = 'text:héllo ping:hi pong:yo bin:01020304 text:κ text: close:4000:bye';
    expect(receive(bytes)).toBe(expected);
    for (const split of [1, 2, 5, 64]) expect(receive(bytes, {}, split)).toBe(expected);
    expect(receive(raw(FIN | OP_CLOSE, []))).toBe('close:1005:');
    expect(receive(raw(FIN | OP_CLOSE, [0x03, 0xe8]))).toBe('close:1000:');
  });

  it('message size and fragment count: at the limit taken, one past refused with 1009', () => {
    const frags = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => raw(i === 0 ? OP_BINARY : i === n - 1 ? FIN | OP_CONTINUATION : OP_CONTINUATION, [i])));
    expect(receive(frags(4), { maxFragments: 4 })).toBe('bin:00010203');
    expect(receive(frags(5), { maxFragments: 4 })).toMatch(/\|TOO_MANY_FRAGMENTS 1009: message split into more fragments than the limit: more than 4 \(RFC 6455 §7\.4\.1\)$/);
    const sized = (n: number) => Buffer.concat([raw(OP_TEXT, Buffer.alloc(n - 3, 0x61)), raw(FIN | OP_CONTINUATION, Buffer.from('abc'))]);
    expect(receive(sized(100), { maxMessageSize: 100 })).toMatch(/^text:a{97}abc$/);
    expect(receive(sized(101), { maxMessageSize: 100 })).toBe('|MESSAGE_TOO_BIG 1009: message larger than the limit: more than 100 bytes (RFC 6455 §7.4.1)');
    expect(receive(raw(FIN | OP_BINARY, Buffer.alloc(101)), { maxMessageSize: 100 })).toMatch(/^\|FRAME_TOO_BIG 1009/);
    const r = new Receiver({ role: 'server' }, { onMessage() {}, onPing() {}, onPong() {}, onClose() {} });
    expect(r.maxMessageSize).toBe(16 * 1024 * 1024);
    expect(r.maxFragments).toBe(Infinity);
  });
});

describe('receiver with permessage-deflate', () => {
  it('RSV1 on a continuation is refused; RSV1 on a message without the extension is refused by the parser', async () => {
    const { PerMessageDeflate } = await import('../../lib/ws/codec.js');
    const deflate = new PerMessageDeflate({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }, 'server');
    expect(receive(Buffer.concat([raw(RSV1 | OP_TEXT, [0x01]), raw(FIN | RSV1 | OP_CONTINUATION, [0x02])]), { deflate })).toBe('|RSV1_ON_CONTINUATION 1002: RSV1 set on a continuation frame (RFC 7692 §6.1)');
    expect(receive(raw(FIN | RSV1 | OP_TEXT, [1]))).toMatch(/^\|RESERVED_BITS 1002/);
  });
});

describe('frameBytes', () => {
  it('writes the minimal length forms and reads back through a client parser', () => {
    for (const n of [0, 125, 126, 65535, 65536]) {
      const b = frameBytes(OP_BINARY, Buffer.alloc(n, 5));
      expect(b[1]! & 0x7f).toBe(n < 126 ? n : n < 65536 ? 126 : 127);
      expect(frames(b, { role: 'client', maxFrameSize: 1 << 20 })).toBe(`F-2:${'05'.repeat(n)}`);
    }
  });
});

describe('permessage-deflate', () => {
  it('the client offer says what the options ask', async () => {
    const { clientOffer } = await import('../../lib/ws/codec.js');
    expect(clientOffer({})).toBe('permessage-deflate; client_max_window_bits');
    expect(clientOffer({ clientNoContextTakeover: true, serverNoContextTakeover: true, serverMaxWindowBits: 10 })).toBe('permessage-deflate; client_max_window_bits; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=10');
    expect(clientOffer({ serverMaxWindowBits: 15 })).toBe('permessage-deflate; client_max_window_bits');
    expect(clientOffer({ clientNoContextTakeover: false, serverNoContextTakeover: false })).toBe('permessage-deflate; client_max_window_bits');
  });

  it('the client refuses a response it did not ask for, in words', async () => {
    const { acceptResponse } = await import('../../lib/ws/codec.js');
    const fails = (h: string, o = {}) => {
      try {
        acceptResponse(h, o);
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(fails('x-other')).toBe('unexpected extensions "x-other"');
    expect(fails('permessage-deflate, permessage-deflate')).toBe('unexpected extensions "permessage-deflate, permessage-deflate"');
    expect(fails('permessage-deflate; server_max_window_bits=7')).toBe('invalid permessage-deflate response "permessage-deflate; server_max_window_bits=7"');
    expect(fails('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 11 })).toBe('server_max_window_bits above what we asked');
    expect(fails('permessage-deflate; server_max_window_bits=11', { serverMaxWindowBits: 11 })).toBe('accepted');
    expect(fails('permessage-deflate', { serverMaxWindowBits: 11 })).toBe('server_max_window_bits above what we asked'); // 15 by default
    expect(fails('permessage-deflate', { serverNoContextTakeover: true })).toBe('server_no_context_takeover was asked for and not agreed');
    expect(acceptResponse('permessage-deflate; server_no_context_takeover; client_max_window_bits=9', {})).toEqual({ serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 9 });
  });

  it('context takeover: each role keeps the window of the direction it owns, and the other side reads it', async () => {
    const { PerMessageDeflate } = await import('../../lib/ws/codec.js');
    const params = { serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
    const server = new PerMessageDeflate(params, 'server', { threshold: 0 });
    const client = new PerMessageDeflate(params, 'client', { threshold: 0 });
    const msg = Buffer.from('the same sentence, again and again. '.repeat(8));
    const first = server.compress(msg);
    const second = server.compress(msg); // refers back into the first message's window
    expect(second.length).toBeLessThan(first.length);
    expect(client.decompress(first, 1 << 20).equals(msg)).toBe(true);
    expect(client.decompress(second, 1 << 20).equals(msg)).toBe(true);
    // The client's direction has no takeover: each of its messages stands alone.
    const c1 = client.compress(msg);
    expect(client.compress(msg).equals(c1)).toBe(true);
    expect(server.decompress(c1, 1 << 20).equals(msg)).toBe(true);
    expect(server.acceptsShared).toBe(false); // the server keeps context
    expect(client.acceptsShared).toBe(true);
    expect(new PerMessageDeflate({ ...params, serverNoContextTakeover: true, serverMaxWindowBits: 10 }, 'server').acceptsShared).toBe(false);
    expect(new PerMessageDeflate({ ...params, serverNoContextTakeover: true }, 'server').acceptsShared).toBe(true);
    const d = new PerMessageDeflate(params, 'server');
    expect(d.threshold).toBe(1024);
  });

  it('inflation stops at the limit: at it taken, one past refused with 1009; garbage is 1007', async () => {
    const { PerMessageDeflate, compressShared } = await import('../../lib/ws/codec.js');
    const p = new PerMessageDeflate({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }, 'server');
    const z = compressShared(Buffer.alloc(1000, 0x61));
    expect(p.decompress(z, 1000).length).toBe(1000);
    const err = (() => {
      try {
        p.decompress(z, 999);
      } catch (e) {
        return e as WsProtocolError;
      }
    })();
    expect([err?.code, err?.closeCode, err?.message]).toEqual(['MESSAGE_TOO_BIG', 1009, 'message larger than the limit: inflated message larger than 999 bytes (RFC 6455 §7.4.1)']);
    expect(() => p.decompress(Buffer.from([0xff, 0xff, 0xff]), 100)).toThrow(expect.objectContaining({ code: 'INFLATE_FAILED', closeCode: 1007 }));
    const big = compressShared(Buffer.alloc(1 << 20, 0x62)); // a bomb: 1 MiB of 'b' in about 1 KiB
    expect(() => p.decompress(big, 4096)).toThrow(expect.objectContaining({ code: 'MESSAGE_TOO_BIG' }));
  });
});

describe('receiver: compressed, streamed and growing messages', () => {
  const params = { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  it('compressed text and binary, whole or in fragments (RSV1 on the first only); UTF-8 checked after inflating', async () => {
    const { PerMessageDeflate, compressShared } = await import('../../lib/ws/codec.js');
    const deflate = () => new PerMessageDeflate(params, 'server');
    const z = compressShared(Buffer.from('héllo héllo héllo'));
    expect(receive(raw(FIN | RSV1 | OP_TEXT, z), { deflate: deflate() })).toBe('text:héllo héllo héllo');
    expect(receive(Buffer.concat([raw(RSV1 | OP_BINARY, z.subarray(0, 5)), raw(FIN | OP_CONTINUATION, z.subarray(5))]), { deflate: deflate() })).toBe(`bin:${Buffer.from('héllo héllo héllo').toString('hex')}`);
    expect(receive(Buffer.concat([raw(RSV1 | OP_TEXT, z.subarray(0, 5)), raw(FIN | OP_CONTINUATION, z.subarray(5))]), { deflate: deflate() }, 3)).toBe('text:héllo héllo héllo');
    const badText = compressShared(Buffer.from([0x61, 0xff, 0x62]));
    expect(receive(raw(FIN | RSV1 | OP_TEXT, badText), { deflate: deflate() })).toBe('|INVALID_UTF8 1007: text message is not valid UTF-8 (RFC 6455 §8.1)');
    // An uncompressed message on the same connection is read as it is.
    expect(receive(Buffer.concat([raw(FIN | RSV1 | OP_TEXT, z), raw(FIN | OP_TEXT, Buffer.from('plain'))]), { deflate: deflate() })).toBe('text:héllo héllo héllo text:plain');
  });

  it('a single text frame arriving in pieces is checked as it comes, and must not end inside a character', () => {
    expect(receive(raw(FIN | OP_TEXT, Buffer.from([0x61, 0x62, 0xce])), {}, 1)).toBe('|INVALID_UTF8 1007: text message is not valid UTF-8: message ends inside a character (RFC 6455 §8.1)');
    expect(receive(raw(FIN | OP_TEXT, Buffer.from('héllo wörld')), {}, 3)).toBe('text:héllo wörld');
    expect(receive(raw(FIN | OP_BINARY, Buffer.from([0xff, 0xce])), {}, 3)).toBe('bin:ffce'); // binary is not UTF-8
    expect(receive(Buffer.concat([raw(OP_BINARY, [0xff]), raw(FIN | OP_CONTINUATION, [0xce])]))).toBe('bin:ffce');
  });

  it('a message of many fragments grows its buffer past 2 KiB and comes out whole, text checked across fragments', () => {
    const parts = Array.from({ length: 10 }, (_, i) => Buffer.from(`${'é'.repeat(499)}${i}`));
    const bytes = Buffer.concat(parts.map((p, i) => raw(i === 0 ? OP_TEXT : i === 9 ? FIN | OP_CONTINUATION : OP_CONTINUATION, p)));
    const want = `text:${Buffer.concat(parts).toString()}`;
    expect(receive(bytes)).toBe(want);
    expect(receive(bytes, {}, 97)).toBe(want);
    expect(receive(bytes, { maxMessageSize: Buffer.concat(parts).length })).toBe(want);
    expect(receive(bytes, { maxMessageSize: Buffer.concat(parts).length - 1 })).toMatch(/\|MESSAGE_TOO_BIG 1009/);
  });
});
