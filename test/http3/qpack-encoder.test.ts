/**
 * QPACK's encoder with the dynamic table (RFC 9204 §2.1, §4.3, §4.4): round trips through our decoder under
 * any table capacity on either side, any blocked-streams limit and any order of delivery of sections,
 * encoder-stream bytes and acknowledgments; the blocked-streams limit and the unacknowledged-sections
 * bound at their values and one past; eviction only of entries acknowledged and referred to by no section
 * awaiting acknowledgment; sensitive fields never inserted; the decoder stream's errors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QpackDecoder, QpackEncoder, QpackError } from '../../lib/http3/index.js';
import { readInt, readString, writeInt, writeString } from '../../lib/http3/qpack/primitives.js';
import { codeOf } from './qpack-error-code.js';

type Field = readonly [string, string];


/** An encoder told the peer allows a 4096-byte table and `blocked` waiting streams. */
function configured(blocked: number): QpackEncoder {
  const e = new QpackEncoder();
  e.configure(4096, blocked);
  return e;
}

/** The section's Required Insert Count as encoded (0: refers to no dynamic entry). */
const encodedRic = (block: Buffer): number => readInt({ buf: block, at: 0 }, 8);

/** An encoder and a decoder joined by their streams, each delivered only when the test says. */
class Pair {
  readonly e: QpackEncoder;
  readonly d: QpackDecoder;
  /** Encoder-stream bytes not yet delivered, and decoder-stream bytes not yet delivered. */
  toDecoder: Buffer = Buffer.alloc(0);
  toEncoder: Buffer = Buffer.alloc(0);
  /** Sections sent, by stream: what was encoded and the block, until decoded. */
  readonly inFlight = new Map<number, { fields: Field[]; block: Buffer }>();
  readonly blocked = new Set<number>();
  decoded = 0;
  constructor(encoderCap: number, decoderCap: number, blocked: number, maxUnacknowledged?: number) {
    this.e = new QpackEncoder({ maxTableCapacity: encoderCap, ...(maxUnacknowledged === undefined ? {} : { maxUnacknowledgedSections: maxUnacknowledged }) });
    this.d = new QpackDecoder({ maxTableCapacity: decoderCap, maxBlockedStreams: blocked });
    this.e.configure(decoderCap, blocked);
    this.#pullEncoder();
  }

  #pullEncoder(): void {
    this.toDecoder = Buffer.concat([this.toDecoder, this.e.takeInstructions()]);
  }

  encode(stream: number, fields: Field[]): Buffer {
    const block = this.e.encode(fields, stream);
    this.#pullEncoder();
    this.inFlight.set(stream, { fields, block });
    return block;
  }

  /** Delivers `n` bytes of the encoder stream; sections they unblock are decoded. */
  deliverInserts(n: number): void {
    const chunk = this.toDecoder.subarray(0, n);
    this.toDecoder = this.toDecoder.subarray(chunk.length);
    for (const s of this.d.encoderInstructions(chunk)) {
      this.blocked.delete(s);
      this.section(s);
    }
    this.toEncoder = Buffer.concat([this.toEncoder, this.d.takeInstructions()]);
  }

  /** The decoder gets stream `s`'s section (again, once unblocked). */
  section(s: number): void {
    const f = this.inFlight.get(s)!;
    const r = this.d.decodeSection(s, f.block);
    if (r === 'blocked') {
      this.blocked.add(s);
      return;
    }
    expect(r.fields).toEqual(f.fields);
    expect(r.invalid).toBe(null);
    this.inFlight.delete(s);
    this.decoded++;
    this.toEncoder = Buffer.concat([this.toEncoder, this.d.takeInstructions()]);
  }

  /** Delivers `n` bytes of the decoder stream to the encoder. */
  deliverAcks(n: number): void {
    const chunk = this.toEncoder.subarray(0, n);
    this.toEncoder = this.toEncoder.subarray(chunk.length);
    this.e.decoderInstructions(chunk);
  }

  /** Everything still on the way arrives. */
  drain(): void {
    for (const s of [...this.inFlight.keys()]) if (!this.blocked.has(s)) this.section(s);
    this.deliverInserts(this.toDecoder.length);
    this.deliverAcks(this.toEncoder.length);
  }
}

const NAMES = ['x-a', 'x-bb', 'server', 'content-type', 'set-cookie', 'authorization', 'content-length', 'cache-control', 'x-long-name-for-the-table'];
const field = fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom('1', 'two', 'three-3', 'text/html', 'a-rather-longer-value-of-forty-bytes-xxxx', ''));
const op = fc.oneof(
  fc.record({ kind: fc.constant('encode' as const), fields: fc.array(field, { maxLength: 8 }) }),
  fc.record({ kind: fc.constant('inserts' as const), n: fc.nat(80) }),
  fc.record({ kind: fc.constant('section' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('acks' as const), n: fc.nat(12) }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
);

describe('QPACK encoder, dynamic table', () => {
  it('round-trips through the decoder under any capacities, blocked-streams limit and order of delivery', () => {
    let used = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 4 }), fc.array(op, { maxLength: 60 }), (encCap, decCap, blocked, ops) => {
        const p = new Pair(encCap, decCap, blocked);
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'encode') p.encode((next += 4) - 4, o.fields);
          else if (o.kind === 'inserts') p.deliverInserts(o.n);
          else if (o.kind === 'acks') p.deliverAcks(o.n);
          else {
            const waiting = [...p.inFlight.keys()].filter((s) => (o.kind === 'cancel' ? p.blocked.has(s) : !p.blocked.has(s)));
            if (waiting.length === 0) continue;
            const s = waiting[o.pick % waiting.length]!;
            if (o.kind === 'section') p.section(s);
            else {
              // §4.4.2: the stream was reset while its section waited; the decoder says so.
              p.d.cancel(s);
              p.blocked.delete(s);
              p.inFlight.delete(s);
            }
          }
          // The peer's limit holds at every step (the decoder would have thrown past it).
          expect(p.e.blockingStreams).toBeLessThanOrEqual(blocked);
          expect(p.e.tableSize).toBeLessThanOrEqual(Math.min(encCap, decCap));
        }
        p.drain();
        expect(p.inFlight.size).toBe(0);
        expect(p.e.knownReceivedCount).toBe(p.e.insertCount);
        expect(p.e.unacknowledgedSections).toBe(0);
        expect(p.e.blockingStreams).toBe(0);
        if (p.e.insertCount > 0) used++;
      }),
      { numRuns: 400 },
    );
    expect(used).toBeGreaterThan(50); // the table was used, not only the static path
  });

  it('refers to an entry by one byte once inserted; a second connection starts its own table', () => {
    const p = new Pair(4096, 4096, 16);
    const fields: Field[] = [['x-served-by', 'covet'], ['server', 'covet/1']];
    const first = p.encode(0, fields);
    expect(p.e.insertCount).toBe(2);
    expect(encodedRic(first)).toBe(3); // RIC 2, encoded 2 mod (2 × 128) + 1
    expect(first.length).toBe(2 + 2);
    p.drain();
    const again = p.encode(4, fields);
    expect(again.length).toBe(4);
    expect(p.e.insertCount).toBe(2); // no second insert
    p.drain();
    expect(new QpackEncoder().encode(fields, 0).length).toBeGreaterThan(10); // not configured: literals
  });

  it('lets at most the peer\'s SETTINGS_QPACK_BLOCKED_STREAMS wait on inserts: at the limit, and one past', () => {
    const p = new Pair(4096, 4096, 2);
    expect(encodedRic(p.encode(0, [['x-one', '1']]))).not.toBe(0);
    expect(encodedRic(p.encode(4, [['x-two', '2']]))).not.toBe(0);
    expect(p.e.blockingStreams).toBe(2);
    // A third stream: the entry is inserted, but the section does not wait for it (a literal).
    const third = p.encode(8, [['x-three', '3']]);
    expect(encodedRic(third)).toBe(0);
    expect(p.e.insertCount).toBe(3);
    // A stream that already waits may refer to more unacknowledged entries.
    expect(encodedRic(p.encode(12, [['x-one', '1']]))).toBe(0); // 12 is new and the limit is reached
    p.section(8); // decodable at once
    expect(p.blocked.size).toBe(0);
    p.section(0);
    p.section(4);
    expect(p.blocked.size).toBe(2);
    p.deliverInserts(p.toDecoder.length);
    p.deliverAcks(p.toEncoder.length);
    expect(p.e.blockingStreams).toBe(0);
    expect(encodedRic(p.encode(16, [['x-three', '3']]))).not.toBe(0); // acknowledged: no blocking at all
    expect(p.e.blockingStreams).toBe(0);
    p.drain();
  });

  it('with SETTINGS_QPACK_BLOCKED_STREAMS 0 never makes the peer wait: new entries are referred to once acknowledged', () => {
    const p = new Pair(4096, 4096, 0);
    expect(encodedRic(p.encode(0, [['x-one', '1']]))).toBe(0);
    expect(p.e.insertCount).toBe(1);
    p.drain();
    expect(encodedRic(p.encode(4, [['x-one', '1']]))).not.toBe(0);
    p.drain();
  });

  it('stops referring to the table while maxUnacknowledgedSections sections await acknowledgment: at the bound, and one past', () => {
    const p = new Pair(4096, 4096, 16, 2);
    p.encode(0, [['x-one', '1']]);
    p.drain();
    expect(encodedRic(p.encode(4, [['x-one', '1']]))).not.toBe(0);
    expect(encodedRic(p.encode(8, [['x-one', '1']]))).not.toBe(0);
    expect(p.e.unacknowledgedSections).toBe(2);
    const past = p.encode(12, [['x-one', '1'], ['x-new', 'n']]);
    expect(encodedRic(past)).toBe(0);
    expect(p.e.insertCount).toBe(1); // nor inserts
    p.drain();
    expect(p.e.unacknowledgedSections).toBe(0);
    expect(encodedRic(p.encode(16, [['x-one', '1']]))).not.toBe(0);
    p.drain();
  });

  it('never evicts an entry the section being encoded refers to (a later field of it cannot make room that way)', () => {
    const p = new Pair(200, 200, 16);
    const f = (c: string): Field => [`x-${c.repeat(4)}`, c.repeat(10)];
    for (const [i, c] of ['a', 'b', 'c', 'd'].entries()) p.encode(i * 4, [f(c)]);
    p.drain();
    expect(p.e.unacknowledgedSections).toBe(0);
    // Entry 0 (a) is the oldest: the new field would evict it, but this very section refers to it.
    p.encode(16, [f('a'), f('e')]);
    expect(p.e.insertCount).toBe(4);
    p.deliverInserts(p.toDecoder.length);
    p.section(16);
    expect(p.decoded).toBe(5);
    // Once nothing refers to entry 0 (eviction goes oldest first), e takes its place.
    p.deliverAcks(p.toEncoder.length);
    p.encode(20, [f('e')]);
    expect(p.e.insertCount).toBe(5);
    p.drain();
    expect(p.decoded).toBe(6);
  });

  it('evicts only entries no section awaiting acknowledgment refers to (§2.1.1)', () => {
    // Entries of 48 bytes; at most a quarter of the table each, so a table of 200 holds four.
    const p = new Pair(200, 200, 16);
    const f = (c: string): Field[] => [[`x-${c.repeat(4)}`, c.repeat(10)]];
    for (const [i, c] of ['a', 'b', 'c', 'd'].entries()) p.encode(i * 4, f(c));
    expect(p.e.insertCount).toBe(4);
    expect(p.e.tableSize).toBe(192);
    // Referred to by sections not acknowledged: nothing may be evicted, so a fifth field is a literal and not inserted.
    expect(encodedRic(p.encode(16, f('e')))).toBe(0);
    expect(p.e.insertCount).toBe(4);
    p.deliverInserts(p.toDecoder.length);
    p.deliverAcks(p.toEncoder.length); // the inserts acknowledged; the sections of 0–12 not yet (not decoded)
    expect(p.e.knownReceivedCount).toBe(4);
    expect(p.e.unacknowledgedSections).toBe(4);
    expect(encodedRic(p.encode(20, f('e')))).toBe(0);
    expect(p.e.insertCount).toBe(4);
    p.section(0); // stream 0's section acknowledged: entry 0 may go
    p.deliverAcks(p.toEncoder.length);
    expect(encodedRic(p.encode(24, f('e')))).not.toBe(0);
    expect(p.e.insertCount).toBe(5);
    expect(p.e.tableSize).toBe(192);
    // Entry 1 (stream 4's) is still referred to: the evicted field is not inserted again yet.
    expect(encodedRic(p.encode(28, f('a')))).toBe(0);
    expect(p.e.insertCount).toBe(5);
    p.drain();
    p.encode(32, f('a'));
    expect(p.e.insertCount).toBe(6);
    p.drain();
  });

  it('never inserts a sensitive field, and marks it never-indexed (N bit, §4.5.4, §7.1.3)', () => {
    const p = new Pair(4096, 4096, 16);
    const block = p.encode(0, [['set-cookie', 'sid=0123456789abcdef'], ['authorization', 'Bearer t'], ['x-custom', 'kept']]);
    expect(p.e.insertCount).toBe(1); // x-custom only
    // Static name references with N set (01NT…): set-cookie is static index 14, authorization 84 (15 + 69).
    const lines = block.subarray(2);
    expect(lines[0]).toBe(0x70 | 14);
    const auth = lines.indexOf(0x70 | 15);
    expect(auth).toBeGreaterThan(0);
    expect(lines[auth + 1]).toBe(84 - 15);
    expect(new QpackDecoder().decodeSection(0, new QpackEncoder().encode([['x-token', 'y']]))).not.toBe('blocked');
    p.drain();
  });

  it('fields that change per message (content-length, :path…) and entries past a quarter of the table are not inserted', () => {
    const p = new Pair(400, 4096, 16);
    p.encode(0, [['content-length', '123'], ['etag', '"x"'], ['x-big', 'v'.repeat(100 - 32 - 5 + 1)]]);
    expect(p.e.insertCount).toBe(0);
    p.encode(4, [['x-big', 'v'.repeat(100 - 32 - 5)]]); // exactly a quarter: inserted
    expect(p.e.insertCount).toBe(1);
    p.drain();
  });

  it('uses the smaller of its own capacity and the peer\'s, and says so first on the encoder stream (§4.3.1)', () => {
    const e = new QpackEncoder({ maxTableCapacity: 1000 });
    e.configure(300, 4);
    expect(e.tableCapacity).toBe(300);
    expect([...e.takeInstructions()]).toEqual([0x20 | 31, 0x80 | (300 - 31 - 256), 0x02]); // Set Dynamic Table Capacity 300 (31 + 13 + 2 × 128)
    const zero = new QpackEncoder({ maxTableCapacity: 0 });
    zero.configure(4096, 16);
    expect(zero.tableCapacity).toBe(0);
    expect(zero.takeInstructions().length).toBe(0);
    expect(encodedRic(zero.encode([['x-a', '1']], 0))).toBe(0);
    expect(zero.insertCount).toBe(0);
  });

  it('any bytes on the decoder stream, in any split: read, or a QpackError — never another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(64), { maxLength: 6 }), (bytes, cuts) => {
        const e = configured(4);
        for (let s = 0; s < 16; s += 4) e.encode([[`x-${s}`, 'v']], s);
        const b = Buffer.from(bytes);
        const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
        let at = 0;
        try {
          for (const p of [...points, b.length]) {
            e.decoderInstructions(b.subarray(at, p));
            at = p;
          }
        } catch (err) {
          expect(err).toBeInstanceOf(QpackError);
          expect((err as QpackError).code).toBe(0x202);
          return;
        }
        expect(e.knownReceivedCount).toBeLessThanOrEqual(e.insertCount);
        expect(e.unacknowledgedSections).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads decoder instructions in any split, and answers a broken one with QPACK_DECODER_STREAM_ERROR', () => {
    const p = new Pair(4096, 4096, 16);
    for (let s = 0; s < 200; s += 4) p.encode(s, [['x-one', '1']]); // stream ids past a 7-bit prefix
    p.deliverInserts(p.toDecoder.length);
    for (const s of [...p.inFlight.keys()]) p.section(s);
    const acks = p.toEncoder;
    p.toEncoder = Buffer.alloc(0);
    for (let i = 0; i < acks.length; i++) p.e.decoderInstructions(acks.subarray(i, i + 1));
    expect(p.e.unacknowledgedSections).toBe(0);
    expect(p.e.knownReceivedCount).toBe(1);
    // A Section Acknowledgment alone tells the encoder the section's inserts arrived (§4.4.1; nghttp3 sends no increment then).
    const alone = configured(16);
    alone.encode([['x-one', '1']], 4);
    expect(alone.blockingStreams).toBe(1);
    alone.decoderInstructions(Buffer.from([0x80 | 4]));
    expect(alone.knownReceivedCount).toBe(1);
    expect(alone.blockingStreams).toBe(0);
    // An acknowledgment of a stream with no section awaiting one; an increment of 0; an increment past the inserts.
    expect(codeOf(() => new QpackEncoder().decoderInstructions(Buffer.from([0x80 | 4])))).toBe(0x202);
    expect(codeOf(() => new QpackEncoder().decoderInstructions(Buffer.from([0x00])))).toBe(0x202);
    const e = configured(16);
    e.encode([['x-one', '1']], 0);
    expect(codeOf(() => e.decoderInstructions(Buffer.from([0x01])))).toBe(null); // one insert: at the count
    expect(codeOf(() => e.decoderInstructions(Buffer.from([0x01])))).toBe(0x202); // one past
    // A Stream Cancellation of a stream with nothing awaiting is harmless; an endless integer is not.
    expect(codeOf(() => e.decoderInstructions(Buffer.from([0x40 | 8])))).toBe(null);
    expect(codeOf(() => e.decoderInstructions(Buffer.from([0x7f, ...Array(10).fill(0xff)])))).toBe(0x202);
    // What waits for the rest of an instruction is bounded: an integer's continuation bytes, fed one at a
    // time, are refused by the tenth (nothing is kept past that).
    const slow = new QpackEncoder();
    let fed = 0;
    const code = codeOf(() => {
      slow.decoderInstructions(Buffer.from([0x3f]));
      for (fed = 1; fed < 100; fed++) slow.decoderInstructions(Buffer.from([0x80]));
    });
    expect([code, fed]).toEqual([0x202, 10]);
  });
});

describe('QPACK encoder, the corners', () => {
  it('integers past their prefix: a relative index past 62 and a Required Insert Count encoded past 254 (§4.1.1, §4.5.1.1)', () => {
    // 16 KiB: MaxEntries 512, so the encoded count reaches 2 × 512 + 1; entries of ~45 bytes, ~360 fit.
    const p = new Pair(16_384, 16_384, 16);
    const field = (i: number): Field => [`x-f${i}`, `value-${i}`];
    for (let i = 0; i < 300; i++) {
      p.encode(i * 4, [field(i)]);
      p.drain();
    }
    expect(p.e.insertCount).toBe(300);
    // The oldest entry and the newest in one section: relative indexes 299 and 0, Required Insert Count 300.
    const block = p.encode(1200, [field(0), field(299)]);
    expect(encodedRic(block)).toBe(301);
    expect(block.length).toBe(2 + 1 + 3 + 1); // a 2-byte count, the Base, a 3-byte index, a 1-byte one
    p.drain();
    expect(p.decoded).toBe(301);
  });

  it('wraps the Required Insert Count at 2 × MaxEntries of the capacity the peer advertised (§4.5.1.1)', () => {
    // 160 bytes: MaxEntries 5, the count wraps every 10 inserts; ours is a smaller table still (entries of
    // 34–35 bytes: at most a quarter of it).
    const p = new Pair(140, 160, 16);
    for (let i = 0; i < 25; i++) {
      p.encode(i * 4, [[`x${i}`, '']]);
      p.drain();
    }
    expect(p.e.insertCount).toBe(25);
    expect(p.decoded).toBe(25);
  });

  it('two sections on one stream (headers, then trailers) are acknowledged in order; the stream waits while either may', () => {
    const p = new Pair(4096, 4096, 1);
    const head = p.encode(0, [['x-head', '1']]);
    p.inFlight.delete(0);
    const trailers = p.encode(0, [['x-trailer', '2']]); // the same stream may wait on more (it is the one allowed)
    expect([encodedRic(head), encodedRic(trailers)]).toEqual([2, 3]);
    expect([p.e.unacknowledgedSections, p.e.blockingStreams]).toEqual([2, 1]);
    p.deliverInserts(p.toDecoder.length); // the increment: both inserts known, nothing waits any more
    p.deliverAcks(p.toEncoder.length);
    expect([p.e.knownReceivedCount, p.e.blockingStreams, p.e.unacknowledgedSections]).toEqual([2, 0, 2]);
    for (const block of [head, trailers]) {
      const r = p.d.decodeSection(0, block);
      expect(r).not.toBe('blocked');
      p.toEncoder = Buffer.concat([p.toEncoder, p.d.takeInstructions()]);
    }
    p.e.decoderInstructions(p.toEncoder.subarray(0, 1)); // the first acknowledgment: the headers
    expect(p.e.unacknowledgedSections).toBe(1);
    p.e.decoderInstructions(p.toEncoder.subarray(1));
    expect(p.e.unacknowledgedSections).toBe(0);
    expect(codeOf(() => p.e.decoderInstructions(Buffer.from([0x80])))).toBe(0x202); // nothing awaits on stream 0 now
  });

  it('a stream whose second section still needs more than is known keeps waiting after its first is acknowledged', () => {
    const e = configured(1);
    e.encode([['x-a', '1']], 0); // RIC 1
    e.encode([['x-b', '2']], 0); // RIC 2
    e.decoderInstructions(Buffer.from([0x80])); // the first section: known 1
    expect([e.knownReceivedCount, e.blockingStreams]).toEqual([1, 1]);
    expect(encodedRic(e.encode([['x-c', '3']], 4))).toBe(0); // the one stream allowed to wait is stream 0
    e.decoderInstructions(Buffer.from([0x01])); // an increment: both inserts known
    expect(e.blockingStreams).toBe(0);
  });

  it('an Insert Count Increment alone releases the streams waiting on those inserts', () => {
    const e = configured(1);
    e.encode([['x-a', '1']], 0);
    expect(encodedRic(e.encode([['x-b', '2']], 4))).toBe(0); // stream 0 is the one allowed to wait
    e.decoderInstructions(Buffer.from([0x02])); // both inserts arrived; stream 0's section not yet decoded
    expect([e.blockingStreams, e.unacknowledgedSections]).toEqual([0, 1]);
    expect(encodedRic(e.encode([['x-c', '3']], 8))).not.toBe(0); // another stream may wait now
  });

  it('a Stream Cancellation releases the stream and what its sections referred to (§4.4.2)', () => {
    const p = new Pair(200, 200, 16);
    const f = (c: string): Field => [`x-${c.repeat(4)}`, c.repeat(10)];
    for (const [i, c] of ['a', 'b', 'c', 'd'].entries()) p.encode(i * 4, [f(c)]);
    p.deliverInserts(p.toDecoder.length);
    p.deliverAcks(p.toEncoder.length);
    expect([p.e.unacknowledgedSections, p.e.blockingStreams]).toEqual([4, 0]);
    p.e.decoderInstructions(Buffer.from([0x40 | 0])); // stream 0 reset before its section was read
    expect(p.e.unacknowledgedSections).toBe(3);
    expect(encodedRic(p.encode(16, [f('e')]))).not.toBe(0); // entry 0 may go now
    expect(p.e.insertCount).toBe(5);
    // A cancelled stream that was waiting stops counting against the limit.
    const q = configured(1);
    q.encode([['x-a', '1']], 0);
    expect(q.blockingStreams).toBe(1);
    q.decoderInstructions(Buffer.from([0x40 | 0]));
    expect([q.blockingStreams, q.unacknowledgedSections]).toEqual([0, 0]);
  });

  it("takes the peer's settings once (a second call changes nothing); a section with no stream is static", () => {
    const e = new QpackEncoder();
    e.configure(1000, 4);
    e.takeInstructions();
    e.configure(2000, 8);
    expect([e.tableCapacity, e.takeInstructions().length]).toEqual([1000, 0]);
    expect(encodedRic(e.encode([['x-a', '1']]))).toBe(0);
    expect(e.insertCount).toBe(0);
  });

  it('never inserts what the static table has whole; inserts by the static name when it has the name (§4.3.2)', () => {
    const e = configured(16);
    e.takeInstructions();
    expect([...e.encode([[':status', '200'], [':authority', 'example.com']], 0).subarray(2, 3)]).toEqual([0xc0 | 25]);
    expect(e.insertCount).toBe(1); // :authority's value, by the static name at index 0
    expect(e.takeInstructions()[0]).toBe(0xc0 | 0); // Insert With Name Reference, T = 1, index 0
    e.encode([['x-new', 'v']], 4);
    expect(e.takeInstructions()[0]! & 0xc0).toBe(0x40); // Insert With Literal Name (01HNNNNN)
  });

  it('says what was wrong on the decoder stream', () => {
    const e = configured(16);
    expect(() => e.decoderInstructions(Buffer.from([0x84]))).toThrow('a Section Acknowledgment for stream 4, which has no section awaiting one (§4.4.1)');
    e.encode([['x-a', '1']], 0);
    expect(() => e.decoderInstructions(Buffer.from([0x02]))).toThrow('an Insert Count Increment of 2, with 1 inserts unacknowledged (§4.4.3)');
  });
});

describe('QPACK encoder, more corners', () => {
  it('a Section Acknowledgment that raises the known count releases every stream waiting on less', () => {
    const e = configured(2);
    e.encode([['x-a', '1']], 0); // RIC 1
    e.encode([['x-a', '1'], ['x-b', '2']], 4); // RIC 2
    expect(e.blockingStreams).toBe(2);
    e.decoderInstructions(Buffer.from([0x84])); // stream 4's section: known 2, so stream 0's needs are met too
    expect([e.knownReceivedCount, e.blockingStreams, e.unacknowledgedSections]).toEqual([2, 0, 1]);
  });

  it('making room for an entry stops at the first entry still referred to, however many it must evict', () => {
    // Entries of 48 bytes, eight in 400; a 96-byte one needs two evicted.
    const p = new Pair(400, 400, 16);
    const f = (i: number): Field => [`x-${String(i).padStart(4, '0')}`, 'v'.repeat(10)];
    for (let i = 0; i < 8; i++) p.encode(i * 4, [f(i)]);
    p.drain();
    expect([p.e.insertCount, p.e.tableSize]).toEqual([8, 384]);
    p.encode(100, [f(1)]); // entry 1 referred to by a section not yet acknowledged
    const big: Field = ['x-big', 'b'.repeat(96 - 32 - 5)];
    expect(encodedRic(p.encode(104, [big]))).toBe(0);
    expect(p.e.insertCount).toBe(8); // entry 0 alone would not make room, and entry 1 may not go
    p.drain();
    p.encode(108, [big]);
    expect([p.e.insertCount, p.e.tableSize]).toEqual([9, 384 - 96 + 96]);
    p.drain();
  });

  it('an integer past 2^53 is refused even when it ends within 9 bytes; the error is a QpackError by name', () => {
    let err: unknown = null;
    try {
      readInt({ buf: Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), at: 0 }, 7);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QpackError);
    expect([(err as QpackError).name, (err as QpackError).code, (err as QpackError).message]).toEqual(['QpackError', 0x200, 'an integer past 2^53']);
  });

  it('integers at every prefix size and length boundary round-trip (§4.1.1)', () => {
    for (const bits of [3, 4, 5, 6, 7, 8]) {
      const max = (1 << bits) - 1;
      for (const v of [0, max - 1, max, max + 127, max + 128, max + 129, max + 16_383, max + 16_384, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
        const out: number[] = [];
        writeInt(out, 0, bits, v);
        expect(readInt({ buf: Buffer.from(out), at: 0 }, bits)).toBe(v);
      }
    }
  });

  it('strings: Huffman only when shorter; a literal at the length limit is read, one past it is refused, with the reason', () => {
    const shorter: number[] = [];
    writeString(shorter, 0, 7, 'aaaaaaaaaa');
    expect(shorter[0]! & 0x80).toBe(0x80);
    const longer: number[] = [];
    writeString(longer, 0, 7, '~~~~');
    expect(longer).toEqual([4, 0x7e, 0x7e, 0x7e, 0x7e]);
    const raw = (s: string) => {
      const out: number[] = [];
      writeInt(out, 0, 7, s.length);
      for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
      return { buf: Buffer.from(out), at: 0 };
    };
    expect(readString(raw('~'.repeat(20)), 7, 20)).toBe('~'.repeat(20));
    expect(() => readString(raw('~'.repeat(21)), 7, 20)).toThrow('a string of 21 bytes, past the limit of 20');
    // Huffman: 16 coded bytes of 'a' (5 bits each) decode to 25 characters, past a limit of 24.
    const h: number[] = [];
    writeString(h, 0, 7, 'a'.repeat(25));
    expect(readString({ buf: Buffer.from(h), at: 0 }, 7, 25)).toBe('a'.repeat(25));
    expect(() => readString({ buf: Buffer.from(h), at: 0 }, 7, 24)).toThrow('a string past the limit of 24');
    expect(() => readString({ buf: Buffer.from([0x81, 0xff]), at: 0 }, 7, 24)).toThrow('an invalid Huffman code');
  });
});
