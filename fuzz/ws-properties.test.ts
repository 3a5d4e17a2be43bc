/**
 * WebSocket codec properties: serializer → parser round trip under random splits, the UTF-8 validator
 * against TextDecoder (fatal) on random and adversarial bytes, and deflate round trips with and without
 * context takeover.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameParser, Utf8Validator, PerMessageDeflate, frameBytes, applyMask, WsProtocolError } from '../lib/ws/index.js';
import { FUZZ_RUNS, FUZZ_SEED } from './http1/config.js';
import { splitsArb } from './http1/arbitraries.js';

const params = { numRuns: FUZZ_RUNS, seed: FUZZ_SEED };

interface F {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  payload: Uint8Array;
}

const frameArb: fc.Arbitrary<F> = fc.oneof(
  fc.record({
    fin: fc.boolean(),
    rsv1: fc.boolean(),
    opcode: fc.constantFrom(0, 1, 2),
    // All three length encodings: 7-bit, 16-bit (126..65535) and 64-bit (≥ 65536).
    payload: fc.oneof(
      { weight: 6, arbitrary: fc.uint8Array({ maxLength: 125 }) },
      { weight: 3, arbitrary: fc.uint8Array({ minLength: 126, maxLength: 300 }) },
      { weight: 1, arbitrary: fc.integer({ min: 65536, max: 66000 }).map((n) => new Uint8Array(n).fill(n & 0xff)) },
    ),
  }),
  fc.record({ fin: fc.constant(true), rsv1: fc.constant(false), opcode: fc.constantFrom(8, 9, 10), payload: fc.uint8Array({ maxLength: 125 }) }),
);

function parseAll(bytes: Buffer, splits: number[], role: 'server' | 'client'): F[] {
  const out: F[] = [];
  const p = new FrameParser({ role, allowRsv1: true }, {
    onFrame: (fin, rsv1, opcode, payload) => void out.push({ fin, rsv1, opcode, payload: new Uint8Array(payload) }),
  });
  let last = 0;
  for (const s of [...splits, bytes.length]) {
    p.push(Buffer.from(bytes.subarray(last, s))); // a copy per piece: the parser unmasks in place
    last = s;
  }
  return out;
}

describe('WebSocket codec properties', () => {
  it('round trip: frames written (masked or not) parse back identically under any split', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.array(frameArb, { minLength: 1, maxLength: 5 }), fc.boolean()).chain(([frames, masked]) => {
          const bytes = Buffer.concat(frames.map((f) => frameBytes(f.opcode, f.payload, { fin: f.fin, rsv1: f.rsv1, mask: masked })));
          return fc.tuple(fc.constant(frames), fc.constant(masked), fc.constant(bytes), splitsArb(bytes.length));
        }),
        ([frames, masked, bytes, splits]) => {
          const got = parseAll(bytes, splits, masked ? 'server' : 'client');
          // Payloads compared as bytes (Buffer.equals): a deep equality walks a 64 KiB payload value by value,
          // which made this test take 13 s of its 30 under coverage.
          const shape = (fs: F[]) => fs.map(({ payload, ...rest }) => ({ ...rest, length: payload.length }));
          expect(shape(got)).toEqual(shape(frames.map((f) => ({ ...f, payload: new Uint8Array(f.payload) }))));
          got.forEach((f, k) => expect(Buffer.from(f.payload).equals(Buffer.from(frames[k]!.payload)), `payload of frame ${k}`).toBe(true));
        },
      ),
      { ...params, numRuns: Math.max(50, Math.floor(FUZZ_RUNS / 3)) },
    );
  });

  it('masking 4 bytes at a time equals the byte-by-byte definition, at any offset and phase', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat(7), fc.nat(3), (data, key, pad, phase) => {
        const buf = new Uint8Array(pad + data.length);
        buf.set(data, pad);
        applyMask(buf, pad, pad + data.length, key, phase);
        const want = data.map((b, i) => b ^ key[(i + phase) & 3]!);
        expect(buf.subarray(pad)).toEqual(want);
      }),
      params,
    );
  });

  const adversarial = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
    fc.array(
      fc.constantFrom(
        [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xf4, 0x90, 0x80, 0x80],
        [0xf4, 0x8f, 0xbf, 0xbf], [0xf0, 0x8f, 0xbf, 0xbf], [0xf0, 0x90, 0x80, 0x80], [0xf5], [0xff], [0x80], [0xe2, 0x82], [0x41], [0xef, 0xbb, 0xbf],
      ),
      { maxLength: 8 },
    ).map((parts) => new Uint8Array(parts.flat())),
  );

  it('UTF-8 validator agrees with TextDecoder (fatal) under any split', () => {
    fc.assert(
      fc.property(adversarial.chain((b) => fc.tuple(fc.constant(b), splitsArb(b.length))), ([bytes, splits]) => {
        let expected = true;
        try {
          new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
        } catch {
          expected = false;
        }
        const v = new Utf8Validator();
        let ok = true;
        let last = 0;
        for (const s of [...splits, bytes.length]) {
          ok = v.push(bytes.subarray(last, s)) && ok;
          last = s;
        }
        ok = v.end() && ok;
        expect(ok).toBe(expected);
      }),
      params,
    );
  });

  it('fails fast: an invalid byte is reported before the message ends', () => {
    const v = new Utf8Validator();
    expect(v.push(Buffer.from('hello '))).toBe(true);
    expect(v.push(Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80]))).toBe(false);
  });

  for (const takeover of [false, true]) {
    it(`deflate round trip ${takeover ? 'with' : 'without'} context takeover, message after message`, () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.string({ maxLength: 2000 }).map((s) => new Uint8Array(Buffer.from(s.repeat(3))))), { minLength: 1, maxLength: 6 }), fc.integer({ min: 9, max: 15 }), (msgs, bits) => {
          const p = { serverNoContextTakeover: !takeover, clientNoContextTakeover: !takeover, serverMaxWindowBits: bits, clientMaxWindowBits: bits };
          const server = new PerMessageDeflate(p, 'server');
          const client = new PerMessageDeflate(p, 'client');
          for (const m of msgs) {
            const data = Buffer.from(m);
            expect(client.decompress(server.compress(data), 1 << 20)).toEqual(data);
            expect(server.decompress(client.compress(data), 1 << 20)).toEqual(data);
          }
        }),
        { ...params, numRuns: Math.max(30, Math.floor(FUZZ_RUNS / 5)) },
      );
    });
  }

  it('context takeover actually shares context (repeated messages shrink)', () => {
    const p = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
    const d = new PerMessageDeflate(p, 'server');
    const msg = Buffer.from(JSON.stringify({ user: 'someone', items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })) }));
    const first = d.compress(msg).length;
    const second = d.compress(msg).length;
    expect(second).toBeLessThan(first / 4);
  });

  it('refuses to inflate beyond the limit (zip bomb → 1009)', () => {
    const p = { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
    const bomb = new PerMessageDeflate(p, 'client').compress(Buffer.alloc(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(20_000);
    const server = new PerMessageDeflate(p, 'server');
    let err: unknown;
    try {
      server.decompress(bomb, 1024 * 1024);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WsProtocolError);
    expect((err as WsProtocolError).closeCode).toBe(1009);
  });
});
