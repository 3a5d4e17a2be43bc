/**
 * The cookies of one origin, for clients outside a browser (Node's `fetch` keeps none): what `Set-Cookie`
 * sets (RFC 6265 §5.2, name and value; `Max-Age` ≤ 0 or a past `Expires` removes), sent back as one
 * `Cookie` header. Domain and path are not matched: a client talks to one app.
 *
 * @example
 * ```ts
 * const jar = new CookieJar();
 * const api = createClient<typeof app>({ baseUrl: 'http://localhost:3000', cookies: jar });
 * ```
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  /** name → value, as sent. */
  get all(): ReadonlyMap<string, string> {
    return this.#cookies;
  }

  get size(): number {
    return this.#cookies.size;
  }

  /** Takes in a response's `Set-Cookie` headers. */
  store(headers: Headers, now = Date.now()): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (expired(attrs, now)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  /** The `Cookie` header value. */
  header(): string {
    let out = '';
    for (const [k, v] of this.#cookies) out += `${out === '' ? '' : '; '}${k}=${v}`;
    return out;
  }
}

function expired(attrs: string[], now: number): boolean {
  for (const a of attrs) {
    const eq = a.indexOf('=');
    const key = (eq < 0 ? a : a.slice(0, eq)).trim().toLowerCase();
    const val = eq < 0 ? '' : a.slice(eq + 1).trim();
    // §5.2.2: Max-Age wins over Expires; a non-number is ignored.
    if (key === 'max-age' && /^-?\d+$/.test(val)) return Number(val) <= 0;
    if (key === 'expires') {
      const t = Date.parse(val);
      if (!Number.isNaN(t) && t <= now) return !attrs.some((x) => /^\s*max-age\s*=\s*-?\d+\s*$/i.test(x));
    }
  }
  return false;
}
