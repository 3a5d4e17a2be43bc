/**
 * The incremental UTF-8 validator against Node's native `isUtf8` as the oracle (#28: every DFA transition):
 * every byte, every byte next to each byte-class edge, every lead byte with each class of second, third
 * (and fourth) byte; pushed whole and a byte at a time; an incomplete sequence is accepted by push() and refused
 * by end(); a byte that no continuation could save is refused at once; a failed validator stays failed
 * until end() or reset().
 */
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { isValidUtf8, Utf8Validator } from '../../lib/ws/utf8.js';

/** One continuation byte from each class the DFA tells apart (80–8F, 90–9F, A0–BF). */
const CONT = [0x80, 0x90, 0xa0];
/** Bytes around every class boundary. */
const EDGES = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff];

/** Whether some ending (up to three continuation bytes) makes `bytes` valid UTF-8. */
function completable(bytes: number[]): boolean {
  if (isUtf8(Uint8Array.from(bytes))) return true;
  const tails: number[][] = [[]];
  for (let len = 1; len <= 3; len++) {
    for (const t of tails.splice(0)) for (const c of CONT) tails.push([...t, c]);
    for (const t of tails) if (isUtf8(Uint8Array.from([...bytes, ...t]))) return true;
  }
  return false;
}

const label = (bytes: number[]): string => bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');

/** Checks the validator on `bytes` (pushed whole, and a byte at a time) against the oracle. */
function check(bytes: number[]): void {
  const whole = new Utf8Validator();
  const push = whole.push(Uint8Array.from(bytes));
  const end = whole.end();
  const each = new Utf8Validator();
  let eachPush = true;
  for (const b of bytes) eachPush = each.push(Uint8Array.of(b)) && eachPush;
  const eachEnd = each.end();
  if (eachPush !== push || eachEnd !== end) throw new Error(`${label(bytes)}: whole ${push}/${end}, byte by byte ${eachPush}/${eachEnd}`);
  const valid = isUtf8(Uint8Array.from(bytes));
  if (end !== valid) throw new Error(`${label(bytes)}: end() ${end}, isUtf8 ${valid}`);
  // push() is true exactly while the bytes can still become valid UTF-8.
  if (!valid && push !== completable(bytes)) throw new Error(`${label(bytes)}: push() ${push}, completable ${!push}`);
}

describe('Utf8Validator', () => {
  it('every single byte', () => {
    for (let a = 0; a < 256; a++) check([a]);
  });

  // The DFA sees byte classes; EDGES holds both ends of every class, so these pairs meet every transition.
  it('every byte before and after each class edge', () => {
    for (let a = 0; a < 256; a++) for (const b of EDGES) check([a, b]), check([b, a]);
  });

  it('every lead byte, each class edge second, each class of third byte', () => {
    for (let a = 0xc0; a < 256; a++) for (const b of EDGES) for (const c of [0x41, ...CONT, 0xbf, 0xc0, 0xe0]) check([a, b, c]);
  });

  it('four-byte leads around F0–F4, every second byte, each class of third and fourth', () => {
    for (const a of [0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5]) {
      for (let b = 0x70; b < 0xd0; b++) for (const c of [0x41, ...CONT, 0xc0]) for (const d of [0x41, ...CONT, 0xbf, 0xc0]) check([a, b, c, d]);
    }
  });

  it('sequences split across pushes in every way, after ASCII and between characters', () => {
    const text = Buffer.from('a€b𝄞c\u00e9\ud7ff\ue000\u{10ffff}', 'utf8');
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        const v = new Utf8Validator();
        expect(v.push(text.subarray(0, i)) && v.push(text.subarray(i, j)) && v.push(text.subarray(j))).toBe(true);
        expect(v.end()).toBe(true);
      }
    }
    for (const e of EDGES) check([0x61, 0x62, e, 0x63]);
    for (const e of EDGES) check([0xe2, 0x82, 0xac, e]);
  });

  it('surrogates, overlongs and code points past U+10FFFF are refused at the first byte that rules them out', () => {
    const firstBad = (bytes: number[]): number => {
      const v = new Utf8Validator();
      for (let i = 0; i < bytes.length; i++) if (!v.push(Uint8Array.of(bytes[i]!))) return i;
      return -1;
    };
    expect(firstBad([0xed, 0xa0, 0x80])).toBe(1); // U+D800
    expect(firstBad([0xed, 0x9f, 0xbf])).toBe(-1); // U+D7FF
    expect(firstBad([0xc0, 0x80])).toBe(0); // overlong NUL
    expect(firstBad([0xe0, 0x80, 0x80])).toBe(1); // overlong
    expect(firstBad([0xf0, 0x80, 0x80, 0x80])).toBe(1); // overlong
    expect(firstBad([0xf4, 0x90, 0x80, 0x80])).toBe(1); // past U+10FFFF
    expect(firstBad([0xf5])).toBe(0);
    expect(firstBad([0x61, 0x80])).toBe(1);
  });

  it('a failed validator stays failed, even for valid bytes, until end() or reset()', () => {
    const v = new Utf8Validator();
    expect(v.push(Uint8Array.of(0xff))).toBe(false);
    expect(v.push(Buffer.from('ok'))).toBe(false);
    expect(v.push(new Uint8Array(0))).toBe(false);
    expect(v.end()).toBe(false);
    expect(v.push(Buffer.from('ok'))).toBe(true); // end() started the next message
    expect(v.end()).toBe(true);
    expect(v.push(Uint8Array.of(0xe2, 0x82))).toBe(true);
    v.reset();
    expect(v.end()).toBe(true);
    expect(v.push(Uint8Array.of(0xe2, 0x82))).toBe(true);
    expect(v.end()).toBe(false); // incomplete
    expect(v.end()).toBe(true); // and reset by it
    const failed = new Utf8Validator();
    failed.push(Uint8Array.of(0x80));
    failed.reset();
    expect(failed.push(Buffer.from('€'))).toBe(true);
  });

  it('isValidUtf8 for whole messages, the empty one included', () => {
    expect(isValidUtf8(new Uint8Array(0))).toBe(true);
    expect(isValidUtf8(Buffer.from('κόσμε'))).toBe(true);
    expect(isValidUtf8(Uint8Array.of(0xce, 0xba, 0xe1))).toBe(false);
  });
});
