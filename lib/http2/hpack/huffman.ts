/**
 * HPACK Huffman coding (RFC 7541 §5.2, Appendix B), table-driven both ways.
 *
 * Decoding walks a finite-state machine four bits at a time: each of the 256 internal nodes of the code
 * tree is a state, and for each state and nibble a table gives the next state and the symbol completed
 * (codes are at least 5 bits, so at most one per nibble). The tables are built once at load time from
 * the code table.
 */
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './tables.js';

const EOS = 256;
const NO_SYMBOL = 0xffff;
const FAIL = 0xfffe;

/** next state per (state, nibble). */
const NEXT = new Uint8Array(256 * 16);
/** symbol completed per (state, nibble), or NO_SYMBOL, or FAIL (EOS seen inside the string). */
const EMIT = new Uint16Array(256 * 16);
/** A string may end in this state: only 1-bits since the last symbol, and fewer than 8 (§5.2). */
const ACCEPT = new Uint8Array(256);

(() => {
  // Build the code tree: node 0 is the root; children[node*2 + bit] = child (>0 internal, <0 leaf).
  const children = new Int32Array(512 * 2);
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const len = HUFFMAN_LENGTHS[sym]!;
    const code = HUFFMAN_CODES[sym]!;
    let n = 0;
    for (let b = len - 1; b >= 0; b--) {
      const bit = (code >>> b) & 1;
      const slot = n * 2 + bit;
      if (b === 0) children[slot] = -(sym + 1);
      else {
        if (children[slot] === 0) children[slot] = nodes++;
        n = children[slot]!;
      }
    }
  }
  // Depth and "all ones so far" of each internal node.
  const depth = new Int32Array(nodes);
  const ones = new Uint8Array(nodes);
  ones[0] = 1;
  for (let n = 0; n < nodes; n++) {
    for (let bit = 0; bit < 2; bit++) {
      const c = children[n * 2 + bit]!;
      if (c > 0) {
        depth[c] = depth[n]! + 1;
        ones[c] = ones[n]! && bit === 1 ? 1 : 0;
      }
    }
  }
  for (let s = 0; s < nodes; s++) ACCEPT[s] = ones[s]! && depth[s]! <= 7 ? 1 : 0;
  for (let s = 0; s < nodes; s++) {
    for (let nib = 0; nib < 16; nib++) {
      let n = s;
      let emit = NO_SYMBOL;
      for (let b = 3; b >= 0; b--) {
        const c = children[n * 2 + ((nib >>> b) & 1)]!;
        if (c < 0) {
          const sym = -c - 1;
          emit = sym === EOS ? FAIL : sym;
          n = 0;
          if (sym === EOS) break;
        } else n = c;
      }
      NEXT[s * 16 + nib] = n;
      EMIT[s * 16 + nib] = emit;
    }
  }
})();

/**
 * Decodes a Huffman-coded string (latin1 octets). Returns null on invalid input (EOS, bad padding).
 *
 * @example
 * ```ts
 * huffmanDecode(Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex'), 0, 12); // 'www.example.com' (RFC 7541 C.4.1)
 * ```
 */
export function huffmanDecode(buf: Uint8Array, start: number, end: number): string | null {
  let state = 0;
  let out = '';
  let chars: number[] | null = null;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    let k = state * 16 + (byte >>> 4);
    let e = EMIT[k]!;
    if (e !== NO_SYMBOL) {
      if (e === FAIL) return null;
      (chars ??= []).push(e);
    }
    state = NEXT[k]!;
    k = state * 16 + (byte & 15);
    e = EMIT[k]!;
    if (e !== NO_SYMBOL) {
      if (e === FAIL) return null;
      (chars ??= []).push(e);
    }
    state = NEXT[k]!;
    if (chars !== null && chars.length >= 1024) {
      out += String.fromCharCode.apply(null, chars);
      chars = null;
    }
  }
  if (ACCEPT[state] !== 1) return null;
  if (chars !== null) out += String.fromCharCode.apply(null, chars);
  return out;
}

/**
 * Length in bytes of the Huffman encoding of `s` (latin1).
 *
 * @example
 * ```ts
 * huffmanLength('www.example.com'); // 12, against 15 raw
 * ```
 */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/**
 * Writes the Huffman encoding of `s` at `out[at]`; returns the offset after it. Pads with EOS's 1-bits.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(huffmanLength('no-cache'));
 * huffmanEncode('no-cache', out, 0); // returns out.length
 * ```
 */
export function huffmanEncode(s: string, out: Uint8Array, at: number): number {
  let acc = 0; // pending bits, right-aligned
  let n = 0; // how many
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = HUFFMAN_LENGTHS[sym]!;
    const code = HUFFMAN_CODES[sym]!;
    // Codes are up to 30 bits: feed them in two halves so the accumulator stays within 32 bits.
    if (len > 16) {
      const hiLen = len - 16;
      acc = (acc << hiLen) | (code >>> 16);
      n += hiLen;
      while (n >= 8) {
        n -= 8;
        out[at++] = (acc >>> n) & 0xff;
      }
      acc = (acc << 16) | (code & 0xffff);
      n += 16;
    } else {
      acc = (acc << len) | code;
      n += len;
    }
    while (n >= 8) {
      n -= 8;
      out[at++] = (acc >>> n) & 0xff;
    }
    acc &= (1 << n) - 1;
  }
  if (n > 0) out[at++] = ((acc << (8 - n)) | (0xff >>> n)) & 0xff;
  return at;
}
