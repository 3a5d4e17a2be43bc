/**
 * Rich text from users (a comment, a profile, a post written in an editor) made safe to put in a page: the
 * HTML is parsed and rebuilt from an allowlist of elements, attributes and URL schemes by sanitize-html (an
 * optional peer: `npm install sanitize-html`), and comes back as {@link Raw} for the `html` templates. Nothing
 * is sanitized unless asked: `html` escapes every value, and `raw` trusts what it is given.
 *
 * Why sanitize-html: it rebuilds the output from its own parse (nothing the browser could re-read differently
 * is copied through), runs without a DOM, and runs on every Node line we support. DOMPurify is the other
 * well-kept choice but needs a DOM: jsdom (its recommended one) requires Node ≥ 22, is 8–9.5× slower on the
 * same comment and allowlist (bench/sanitize.mjs, Node 24), and lighter DOMs are not spec parsers, which is
 * where mutation XSS lives. The allowlist below is checked against an XSS corpus in
 * real Chromium (test/app/sanitize.test.ts).
 */
import { HttpError } from './errors.js';
import { Raw } from './html.js';
import { requirePeer } from './optional-peer.js';

export interface SanitizeOptions {
  /** Elements kept; any other is dropped (its text kept, unless it is a script, style or the like). Default {@link RICH_TEXT}. */
  tags?: readonly string[];
  /** Attributes kept, by element (`'*'` for every element). Default: `a` its `href` and `title`; `img` its `src` and `alt`. */
  attributes?: Readonly<Record<string, readonly string[]>>;
  /** URL schemes allowed in `href` and `src`. Default `http`, `https`, `mailto`; relative URLs are kept. */
  schemes?: readonly string[];
  /** Longest input, in characters: longer is a 413. Default 512 KiB. */
  maxLength?: number;
}

/** The elements of ordinary rich text: paragraphs, emphasis, links, lists, quotes, code, headings, tables. */
export const RICH_TEXT: readonly string[] = [
  'p', 'br', 'hr', 'b', 'strong', 'i', 'em', 'u', 's', 'del', 'ins', 'sub', 'sup', 'mark', 'small', 'a', 'ul', 'ol', 'li',
  'blockquote', 'code', 'pre', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span', 'div',
];

const DEFAULT_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = { a: ['href', 'title'], img: ['src', 'alt'] };
const DEFAULT_SCHEMES: readonly string[] = ['http', 'https', 'mailto'];
const DEFAULT_MAX = 512 * 1024;

/** What this module uses of sanitize-html. */
type SanitizeHtml = ((dirty: string, options: Record<string, unknown>) => string) & {
  simpleTransform(tag: string, attributes: Record<string, string>, merge?: boolean): unknown;
};

let lib: SanitizeHtml | null = null;
/** sanitize-html's options, made once per options object (the defaults under `NO_OPTIONS`). */
const compiled = new WeakMap<SanitizeOptions, Record<string, unknown>>();
const NO_OPTIONS: SanitizeOptions = {};

function optionsFor(lib: SanitizeHtml, o: SanitizeOptions): Record<string, unknown> {
  const cached = compiled.get(o);
  if (cached !== undefined) return cached;
  const attributes = o.attributes ?? DEFAULT_ATTRIBUTES;
  const made = {
    allowedTags: [...(o.tags ?? RICH_TEXT)],
    // `rel` on links is ours (set below, over whatever the input said).
    allowedAttributes: { ...Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, [...v]])), a: [...(attributes.a ?? []), 'rel'] },
    allowedSchemes: [...(o.schemes ?? DEFAULT_SCHEMES)],
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite', 'action', 'formaction', 'xlink:href', 'poster', 'background'],
    allowProtocolRelative: false,
    // Every link a user wrote: not endorsed, no access to this page, no referrer (rel="ugc", RFC-less but
    // what search engines read).
    transformTags: { a: lib.simpleTransform('a', { rel: 'nofollow noopener noreferrer ugc' }) },
    // Dropped with their content, not only their tags.
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'template', 'iframe', 'object', 'embed', 'svg', 'math', 'xmp', 'noembed', 'noframes', 'plaintext'],
    disallowedTagsMode: 'discard',
    parser: { lowerCaseTags: true, lowerCaseAttributeNames: true },
  };
  compiled.set(o, made);
  return made;
}

/**
 * `dirty` HTML with only what `options` allow (by default {@link RICH_TEXT}, links with `href` on http, https
 * and mailto, marked `rel="nofollow noopener noreferrer ugc"`), as {@link Raw} for the `html` templates.
 * Needs the optional peer `sanitize-html`.
 *
 * @example
 * ```ts
 * const body = sanitizeHtml('<p onclick="steal()">Hi <a href="javascript:steal()">you</a><script>steal()</script></p>');
 * html`<article>${body}</article>`; // <article><p>Hi <a rel="nofollow noopener noreferrer ugc">you</a></p></article>
 * sanitizeHtml(post, { tags: [...RICH_TEXT, 'img'] }); // images too (src on http, https)
 * ```
 */
export function sanitizeHtml(dirty: string, options?: SanitizeOptions): Raw {
  const max = options?.maxLength ?? DEFAULT_MAX;
  if (dirty.length > max) throw new HttpError(413, { detail: `the rich text is longer than ${max} characters` });
  lib ??= requirePeer<SanitizeHtml>('sanitize-html', 'sanitizeHtml()');
  return new Raw(lib(dirty, optionsFor(lib, options ?? NO_OPTIONS)));
}
