/**
 * Byte classes of RFC 9110 §5.6.2 (token), §5.5 (field-value) and RFC 3986 (request-target), as lookup
 * tables so the parser's inner loops are one load and one compare per byte.
 */

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const TCHAR_PUNCT = "!#$%&'*+-.^_`|~";

/** tchar: ALPHA / DIGIT / "!#$%&'*+-.^_`|~" (RFC 9110 §5.6.2). */
export const TOKEN: Uint8Array = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || TCHAR_PUNCT.includes(String.fromCharCode(c)),
);

/** Request-target bytes: visible ASCII (RFC 3986 characters; anything else must be percent-encoded). */
export const TARGET: Uint8Array = table((c) => c > 0x20 && c < 0x7f);

/** field-vchar / SP / HTAB / obs-text (RFC 9110 §5.5). CR, LF, NUL and other CTLs are excluded. */
export const FIELD_VALUE: Uint8Array = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/** reason-phrase bytes: HTAB / SP / VCHAR / obs-text (RFC 9112 §4). */
export const REASON: Uint8Array = FIELD_VALUE;

/** Hex digit value + 1 (0 = not a hex digit). */
export const HEX: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i + 1;
  for (let i = 0; i < 6; i++) {
    t[0x41 + i] = 11 + i;
    t[0x61 + i] = 11 + i;
  }
  return t;
})();

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;
export const SEMI = 59;
