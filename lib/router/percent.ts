/**
 * Percent-decoding that never throws: malformed escapes and invalid UTF-8 are reported as `null`, which the
 * router answers as a 400-class miss.
 */

/** True when every `%` starts a two-hex-digit escape and the escapes form valid UTF-8. */
export function validEscapes(s: string): boolean {
  try {
    decodeURIComponent(s);
  } catch {
    return false;
  }
  return true;
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
      out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    };
    for (let k = 0; k < run.length; k += 3) {
      const b = parseInt(run.slice(k + 1, k + 3), 16);
      if (b === 0x2f || b === 0x3f || b === 0x23 || b === 0x25) {
        flush();
        out += run.slice(k, k + 3);
      } else bytes.push(b);
    }
    flush();
    return out;
  });
}
