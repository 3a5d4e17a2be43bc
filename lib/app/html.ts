/**
 * Server-rendered HTML with tagged templates: `html\`<p>${text}</p>\`` escapes every value, so text from
 * users can never become markup. No template language, no compile step: templates are TypeScript
 * functions, type-checked with the rest of the app; layouts and partials are functions that take and
 * return `Html`.
 *
 * Values: strings are escaped (`& < > " '`, so they are safe in text and in quoted attributes); numbers
 * and bigints are written; `null`, `undefined`, `true` and `false` write nothing (so `${cond && html`...`}`
 * works); arrays and iterables write each item; nested `html` writes as markup; `raw(s)` writes `s`
 * unescaped (only for markup you made). Promises and async iterables are awaited in place: rendering
 * streams — what comes before them is sent at once (the head, the page shell), the rest as it is ready.
 * A plain object is an error (it would render as "[object Object]").
 *
 * Escaping makes a value safe as text and inside a quoted attribute; it cannot make a user's string a safe
 * URL (`href="${url}"` with `javascript:...`) or safe inside `<script>`/`<style>`: check URLs, and pass
 * data to scripts as JSON in a `<script type="application/json">` through `safeJson()`.
 *
 * @example
 * ```ts
 * const layout = (title: string, body: Html) => html`<!doctype html><title>${title}</title><main>${body}</main>`;
 * app.get('/notes', (ctx) => ctx.render(layout('Notes', html`<ul>${notes.map((n) => html`<li>${n.title}</li>`)}</ul>`)));
 * ```
 */

/**
 * A fragment of HTML: template strings and the values between them, rendered (escaped) on demand.
 *
 * @example
 * ```ts
 * const page = html`<h1>${title}</h1><p>${comment}</p>`; // title and comment escaped
 * page.toStringSync(); // the text now, or null if a value is a promise
 * await page.text();   // the text, promises awaited
 * ```
 */
export class Html implements AsyncIterable<string> {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
  constructor(strings: readonly string[], values: readonly unknown[]) {
    this.strings = strings;
    this.values = values;
  }

  /**
   * The whole text, or null when a value must be awaited (a promise, an async iterable): then render
   * with `text()` or by iterating.
   */
  toStringSync(): string | null {
    const out = { s: '' };
    return writeSync(this, out) ? out.s : null;
  }

  /** The whole text, awaiting what must be awaited. */
  async text(): Promise<string> {
    let s = '';
    for await (const chunk of this) s += chunk;
    return s;
  }

  /** The text in chunks: each chunk is what was ready before the next value to wait for. */
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    const buf = { s: '' };
    yield* write(this, buf);
    if (buf.s !== '') yield buf.s;
  }
}

/**
 * Markup written as it is (never escaped): for HTML you made, not for anything a user sent.
 *
 * @example
 * ```ts
 * const icon = raw('<svg viewBox="0 0 16 16"><path d="M0 0h16v16H0z"/></svg>'); // a Raw: written as it is
 * html`<button>${icon} Save</button>`;
 * ```
 */
export class Raw {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
}

/**
 * The template tag.
 *
 * @example
 * ```ts
 * const item = (n: { title: string }) => html`<li>${n.title}</li>`; // a partial
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return new Html(strings, values);
}

/**
 * `s` as markup, unescaped.
 *
 * @example
 * ```ts
 * html`<div>${raw(renderedMarkdown)}</div>`; // only for markup you produced and trust
 * ```
 */
export function raw(s: string): Raw {
  return new Raw(s);
}

/**
 * A value as JSON that is safe inside `<script type="application/json">` (and any element): `<`, `>`, `&`
 * and the line separators escaped as `\u` sequences, so the text cannot close the element.
 *
 * @example
 * ```ts
 * html`<script type="application/json" id="data">${safeJson(state)}</script>`
 * ```
 */
export function safeJson(value: unknown): Raw {
  return new Raw(JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const SPECIAL = /[&<>"']/;
const SPECIAL_ALL = /[&<>"']/g;

/**
 * Text safe in element content and in quoted attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<a href="x">&</a>'); // '&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;'
 * ```
 */
export function escapeHtml(s: string): string {
  return SPECIAL.test(s) ? s.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : s;
}

function isThenable(v: object): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown }).then === 'function';
}

function refuse(v: unknown): never {
  throw new TypeError(`html: cannot render ${typeof v === 'function' ? 'a function' : 'a plain object'} (${String(v).slice(0, 40)}): render its fields, or JSON with safeJson()`);
}

/** Writes `v` into `out` when nothing must be awaited; false (and a partial `out`) otherwise. */
function writeSync(v: unknown, out: { s: string }): boolean {
  if (v instanceof Html) {
    const { strings, values } = v;
    out.s += strings[0]!;
    for (let i = 0; i < values.length; i++) {
      if (!writeSync(values[i], out)) return false;
      out.s += strings[i + 1]!;
    }
    return true;
  }
  switch (typeof v) {
    case 'string':
      out.s += escapeHtml(v);
      return true;
    case 'number':
    case 'bigint':
      out.s += String(v);
      return true;
    case 'boolean':
    case 'undefined':
      return true;
    case 'object':
      if (v === null) return true;
      if (v instanceof Raw) {
        out.s += v.value;
        return true;
      }
      if (isThenable(v) || Symbol.asyncIterator in v) return false;
      if (Symbol.iterator in v) {
        for (const x of v as Iterable<unknown>) if (!writeSync(x, out)) return false;
        return true;
      }
      return refuse(v);
    default:
      return refuse(v);
  }
}

/** Writes `v`, yielding what is buffered whenever it must wait. */
async function* write(v: unknown, buf: { s: string }): AsyncGenerator<string> {
  if (v instanceof Html) {
    const { strings, values } = v;
    buf.s += strings[0]!;
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      // Most values are written in place; only one that may wait needs the generator.
      if (typeof x !== 'object' || x === null || x instanceof Raw || (!isThenable(x) && !(Symbol.asyncIterator in x) && !(x instanceof Html) && !(Symbol.iterator in x))) writeSync(x, buf);
      else yield* write(x, buf);
      buf.s += strings[i + 1]!;
    }
    return;
  }
  if (typeof v === 'object' && v !== null && !(v instanceof Raw)) {
    if (isThenable(v)) {
      if (buf.s !== '') {
        yield buf.s; // what is ready goes out before the wait
        buf.s = '';
      }
      yield* write(await v, buf);
      return;
    }
    if (Symbol.asyncIterator in v) {
      if (buf.s !== '') {
        yield buf.s;
        buf.s = '';
      }
      for await (const x of v as AsyncIterable<unknown>) {
        yield* write(x, buf);
        if (buf.s !== '') {
          yield buf.s;
          buf.s = '';
        }
      }
      return;
    }
    if (Symbol.iterator in v) {
      for (const x of v as Iterable<unknown>) yield* write(x, buf);
      return;
    }
  }
  writeSync(v, buf);
}
