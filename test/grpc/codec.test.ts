/**
 * The pure parts of covet/grpc: message framing under any split of the bytes, grpc-message and grpc-timeout
 * codecs, metadata rules, compression limits, and the deadline heap (fake clock).
 */
import { gzipSync, deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Deadlines,
  decodeGrpcMessage,
  decompress,
  encodeEnvelope,
  encodeGrpcMessage,
  EnvelopeDecoder,
  formatGrpcTimeout,
  GrpcError,
  Metadata,
  parseGrpcTimeout,
  Status,
  statusFromHttp,
  PbWriter,
  readFields,
  ServerCall,
  stringField,
  type Envelope,
  type Expiring,
} from '../../lib/grpc/index.js';
import protobuf from 'protobufjs';

describe('length-prefixed messages', () => {
  const decodeAll = (chunks: Buffer[], max = 1 << 20): Envelope[] => {
    const out: Envelope[] = [];
    const d = new EnvelopeDecoder(max, (e) => out.push({ flags: e.flags, data: Buffer.from(e.data) }));
    for (const c of chunks) d.push(c);
    d.end();
    return out;
  };

  it('any split of any messages decodes to the same messages (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ flags: fc.constantFrom(0, 1, 0x80), data: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (msgs, cuts) => {
        const wire = Buffer.concat(msgs.map((m) => encodeEnvelope(m.data, m.flags)));
        const points = [...new Set(cuts.map((c) => (wire.length === 0 ? 0 : c % (wire.length + 1))))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(wire.subarray(prev, p));
          prev = p;
        }
        chunks.push(wire.subarray(prev));
        expect(decodeAll(chunks)).toEqual(msgs.map((m) => ({ flags: m.flags, data: Buffer.from(m.data) })));
      }),
      { numRuns: 400 },
    );
  });

  it('a message at the limit passes, one byte past is RESOURCE_EXHAUSTED from the prefix alone', () => {
    expect(decodeAll([encodeEnvelope(Buffer.alloc(100))], 100)[0]!.data.length).toBe(100);
    const d = new EnvelopeDecoder(100, () => {});
    // Only the 5-byte prefix of a 101-byte message: refused before any of its body arrives.
    expect(() => d.push(encodeEnvelope(Buffer.alloc(101)).subarray(0, 5))).toThrow(new GrpcError(Status.RESOURCE_EXHAUSTED, 'received message larger than max (101 vs. 100)'));
    // Split inside the prefix: the same.
    const split = new EnvelopeDecoder(100, () => {});
    split.push(Buffer.from([0, 0, 0]));
    expect(() => split.push(Buffer.from([0, 101]))).toThrow(/larger than max \(101 vs\. 100\)/);
    // A 4 GiB length is refused just the same (nothing is allocated for it).
    expect(() => new EnvelopeDecoder(100, () => {}).push(Buffer.from([0, 0xff, 0xff, 0xff, 0xff]))).toThrow(/4294967295 vs\. 100/);
  });

  it('a body that ends inside a prefix or a message is INTERNAL; between messages it is fine', () => {
    const msg = encodeEnvelope(Buffer.from('hello'));
    for (const cut of [1, 4, 5, 7]) {
      const d = new EnvelopeDecoder(100, () => {});
      d.push(msg.subarray(0, cut));
      expect(d.idle).toBe(false);
      expect(() => d.end()).toThrow(new GrpcError(Status.INTERNAL, 'the stream ended inside a message (truncated length-prefixed message)'));
    }
    expect(decodeAll([msg, encodeEnvelope(Buffer.alloc(0))]).map((e) => e.data.toString())).toEqual(['hello', '']);
  });
});

describe('grpc-message', () => {
  it('round-trips any text, and what it sends is printable ASCII without a bare %', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const wire = encodeGrpcMessage(s);
        expect(wire).toMatch(/^(?:[\x20-\x24\x26-\x7e]|%[0-9A-F]{2})*$/);
        expect(decodeGrpcMessage(wire)).toBe(s);
      }),
    );
  });
  it('encodes as the spec shows, and keeps malformed escapes as they are', () => {
    expect(encodeGrpcMessage('plain text')).toBe('plain text');
    expect(encodeGrpcMessage('100%\n☺')).toBe('100%25%0A%E2%98%BA');
    expect(decodeGrpcMessage('%4')).toBe('%4');
    expect(decodeGrpcMessage('%zz%41')).toBe('%zzA');
  });
});

describe('grpc-timeout', () => {
  it('parses every unit, and refuses what is not one (more than 8 digits, no unit, signs, spaces)', () => {
    expect([parseGrpcTimeout('1H'), parseGrpcTimeout('2M'), parseGrpcTimeout('3S'), parseGrpcTimeout('4m'), parseGrpcTimeout('5000u'), parseGrpcTimeout('6000000n')]).toEqual([3_600_000, 120_000, 3000, 4, 5, 6]);
    expect(parseGrpcTimeout('99999999S')).toBe(99_999_999_000);
    for (const bad of ['', 'S', '123456789S', '10', '10s', '-1S', '1 S', ' 1S', '1.5S', '1SS', 'xS']) expect([bad, parseGrpcTimeout(bad)]).toEqual([bad, null]);
  });
  it('formats any duration into at most 8 digits, never shorter than asked (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.000_001, max: 1e12, noNaN: true }), (ms) => {
        const v = formatGrpcTimeout(ms);
        expect(v).toMatch(/^\d{1,8}[HMSmun]$/);
        expect(parseGrpcTimeout(v)!).toBeGreaterThanOrEqual(ms * (1 - 1e-12));
      }),
    );
    expect(formatGrpcTimeout(0)).toBe('0n');
  });
});

describe('metadata', () => {
  it('reads text and -bin fields (padded, unpadded, several in one field), leaving out the transport and grpc- fields', () => {
    const md = Metadata.fromHeaders([':path', '/x', 'content-type', 'application/grpc', 'te', 'trailers', 'grpc-timeout', '1S', 'x-user', 'ann', 'x-user', 'bob', 'trace-bin', 'AQID', 'ids-bin', 'AQ==, Ag', 'Bad Key', 'v']);
    expect([...md]).toEqual([['x-user', 'ann'], ['x-user', 'bob'], ['trace-bin', Buffer.from([1, 2, 3])], ['ids-bin', Buffer.from([1])], ['ids-bin', Buffer.from([2])]]);
    expect(md.toHeaders()).toEqual([['x-user', 'ann'], ['x-user', 'bob'], ['trace-bin', 'AQID'], ['ids-bin', 'AQ'], ['ids-bin', 'Ag']]);
  });
  it('refuses keys and values that cannot be sent, saying why', () => {
    expect(() => new Metadata().set('grpc-status', '0')).toThrow('metadata key "grpc-status": keys starting grpc- are reserved for the protocol');
    expect(() => new Metadata().set('x y', 'v')).toThrow(/characters other than/);
    expect(() => new Metadata().set('content-type', 'x')).toThrow(/transport header/);
    expect(() => new Metadata().set('x-bin', 'text')).toThrow(/values are bytes/);
    expect(() => new Metadata().set('x', Buffer.from([1]))).toThrow(/need a key ending in -bin/);
    expect(() => new Metadata().set('x', 'line\nbreak')).toThrow(/printable ASCII/);
    expect(new Metadata().set('X-Mixed', 'v').get('x-mixed')).toBe('v');
  });
});

describe('compression limits', () => {
  it('inflates up to the limit; past it RESOURCE_EXHAUSTED without inflating the rest (a bomb); corrupt data INTERNAL', async () => {
    const exact = Buffer.alloc(1000, 7);
    expect((await decompress('gzip', gzipSync(exact), 1000)).equals(exact)).toBe(true);
    expect((await decompress('deflate', deflateSync(exact), 1000)).equals(exact)).toBe(true);
    await expect(decompress('gzip', gzipSync(Buffer.alloc(1001)), 1000)).rejects.toThrow(new GrpcError(Status.RESOURCE_EXHAUSTED, 'received message larger than max after decompression (more than 1000 bytes)'));
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in ~64 KiB
    expect(bomb.length).toBeLessThan(128 * 1024);
    await expect(decompress('gzip', bomb, 4 * 1024 * 1024)).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
    await expect(decompress('gzip', Buffer.from('not gzip'), 1000)).rejects.toMatchObject({ code: Status.INTERNAL });
  });
});

describe('status', () => {
  it('maps HTTP statuses of non-gRPC answers as the spec table does', () => {
    expect([400, 401, 403, 404, 429, 502, 503, 504, 500, 418].map(statusFromHttp)).toEqual([13, 16, 7, 12, 14, 14, 14, 14, 2, 2]);
    expect(String(new GrpcError(Status.NOT_FOUND, 'no such note'))).toBe('NOT_FOUND: no such note');
  });
});

describe('deadlines on one timer', () => {
  afterEach(() => void vi.useRealTimers());
  const item = (at: number, log: number[]): Expiring => ({ at, slot: -1, expire: () => log.push(at) });

  it('fires in deadline order whatever the order added; a cancelled one never fires and leaves the heap at once', () => {
    vi.useFakeTimers({ now: 0 });
    const d = new Deadlines();
    const log: number[] = [];
    const items = [50, 10, 30, 20, 40, 10].map((at) => item(at, log));
    for (const i of items) d.add(i);
    d.cancel(items[2]!); // 30
    expect(d.size).toBe(5);
    vi.advanceTimersByTime(25);
    expect(log).toEqual([10, 10, 20]);
    vi.advanceTimersByTime(100);
    expect(log).toEqual([10, 10, 20, 40, 50]);
    expect(d.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0); // nothing left armed
  });

  it('any sequence of adds and cancels fires exactly the ones not cancelled, in order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.boolean()), { maxLength: 60 }), (ops) => {
        vi.useFakeTimers({ now: 0 });
        const d = new Deadlines();
        const log: number[] = [];
        const items = ops.map(([at]) => item(at, log));
        items.forEach((i) => d.add(i));
        ops.forEach(([, cancel], k) => cancel && d.cancel(items[k]!));
        vi.advanceTimersByTime(1001);
        expect(log).toEqual(ops.filter(([, c]) => !c).map(([at]) => at).sort((a, b) => a - b));
        expect(d.size).toBe(0);
        vi.useRealTimers();
      }),
    );
  });
});

describe('the protobuf subset of the standard services', () => {
  // protobufjs, the library proto-loader uses, as the oracle.
  const root = protobuf.Root.fromJSON({ nested: { M: { fields: { s: { type: 'string', id: 1 }, n: { type: 'uint32', id: 2 }, b: { type: 'bytes', id: 300 } } } } });
  const M = root.lookupType('M');

  it('writes what protobufjs reads, and reads what it writes (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat({ max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 40 }), (str, n, bytes) => {
        const ours = new PbWriter().bytes(1, str).uint(2, n).bytes(300, bytes).finish();
        const decoded = M.toObject(M.decode(ours), { defaults: true, bytes: Array }) as { s: string; n: number; b: number[] };
        expect(decoded).toEqual({ s: str, n, b: [...bytes] });
        const theirs = Buffer.from(M.encode(M.fromObject({ s: str, n, b: bytes })).finish());
        const fields = readFields(theirs);
        expect(stringField(fields, 1)).toBe(str);
        expect(fields.find((f) => f.no === 2)?.value ?? 0).toBe(n);
        expect([...((fields.find((f) => f.no === 300)?.value as Buffer | undefined) ?? [])]).toEqual([...bytes]);
      }),
    );
  });

  it('refuses malformed messages instead of reading past them', () => {
    for (const bad of [[0x0a, 0x05, 0x61], [0x08], [0x08, 0x80], [0x00, 0x01], [0x0b], [0x08, ...Array(11).fill(0xff)]]) expect(() => readFields(Buffer.from(bad))).toThrow(RangeError);
    // Fixed-size fields are read as their bytes, and written back as they were.
    const mixed = Buffer.from([0x15, 1, 2, 3, 4, 0x08, 7, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x20, 0]);
    const fields = readFields(mixed);
    expect(fields).toEqual([{ no: 2, wire: 5, value: Buffer.from([1, 2, 3, 4]) }, { no: 1, wire: 0, value: 7 }, { no: 3, wire: 1, value: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) }, { no: 4, wire: 0, value: 0 }]);
    const w = new PbWriter();
    for (const f of fields) w.field(f);
    expect(w.finish().equals(mixed)).toBe(true); // an explicit 0 kept too
    expect(() => readFields(Buffer.from([0x15, 1, 2]))).toThrow(RangeError);
  });
});

describe('the call a handler sees', () => {
  const request = { rawHeaders: ['x-user', 'ann', 'trace-bin', 'AQ'], remoteAddress: '10.0.0.1' } as unknown as ConstructorParameters<typeof ServerCall>[1];
  it('makes its signal on first use: one asked for after the call ended is already aborted, with the reason', () => {
    const call = new ServerCall('/a.B/C', request, null, 'identity', ['identity']);
    expect(call.cancelled).toBe(false);
    const early = call.signal;
    call._abort(new GrpcError(Status.CANCELLED, 'gone'));
    expect([early.aborted, call.cancelled]).toEqual([true, true]);
    const late = new ServerCall('/a.B/C', request, null, 'identity', ['identity']);
    late._abort(new GrpcError(Status.DEADLINE_EXCEEDED, 'late'));
    late._abort(new GrpcError(Status.CANCELLED, 'second reason ignored'));
    expect([late.signal.aborted, late.signal.reason]).toEqual([true, new GrpcError(Status.DEADLINE_EXCEEDED, 'late')]);
  });
  it('reads its metadata on first use, and makes response metadata only when set', () => {
    const call = new ServerCall('/a.B/C', request, null, 'identity', ['identity']);
    expect([call._headers, call._trailers]).toEqual([null, null]);
    expect([...call.metadata]).toEqual([['x-user', 'ann'], ['trace-bin', Buffer.from([1])]]);
    call.trailers.set('x-done', 'yes');
    expect(call._trailers?.get('x-done')).toBe('yes');
    expect(call.peer).toBe('10.0.0.1');
  });
});
