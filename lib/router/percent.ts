/**
 * Percent-decoding that never throws: malformed escapes and invalid UTF-8 are reported as `null`, which the
 * router answers as a 400-class miss.
 */

const HEX = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

/** True when every `%` starts a two-hex-digit escape and the escapes form valid UTF-8. */
export function validEscapes(s: string): boolean {
  if (s.indexOf('%') < 0) return true;
  try {
    decodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decodes the escapes of a path before matching, except those that would change its structure or be
 * decoded twice: `%2F` (/), `%3F` (?), `%23` (#) and `%25` (%) stay encoded, so a parameter can carry them.
 * Returns null on a malformed escape.
 */
export function decodePathForMatching(path: string): string | null {
  if (!validEscapes(path)) return null;
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    // Decode a run of escapes as UTF-8, keeping the structural ones as they were.
    let out = '';
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length > 0) out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    };
    for (let k = 0; k < run.length; k += 3) {
      const b = HEX(run.charCodeAt(k + 1)) * 16 + HEX(run.charCodeAt(k + 2));
      if (b === 0x2f || b === 0x3f || b === 0x23 || b === 0x25) {
        flush();
        out += run.slice(k, k + 3);
      } else bytes.push(b);
    }
    flush();
    return out;
  });
}

/** Decodes a parameter value (after matching): every escape, `%2F` included. */
export function decodeParam(v: string): string {
  return v.indexOf('%') < 0 ? v : decodeURIComponent(v);
}
