/**
 * CSRF protection for cookie-authenticated apps (OWASP CSRF cheat sheet): safe methods (GET, HEAD,
 * OPTIONS, TRACE) pass and must not change state; any other request must carry the token in the
 * `X-CSRF-Token` header or a `_csrf` form field. Two ways to hold the token:
 * - `synchronizer`: a random token kept in the server-side session (needs `session()` first);
 * - `double-submit`: a signed cookie (bound to the session id when there is one) that the page echoes.
 * Tokens are compared in constant time; a failure is a 403.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../../net/constant-time.js';
import type { Context } from '../context.js';
import { serializeCookie } from '../cookies.js';
import { HttpError } from '../errors.js';
import { html, type Html } from '../html.js';
import { Session } from './session.js';

export interface CsrfOptions {
  mode: 'synchronizer' | 'double-submit';
  /** HMAC secret for double-submit tokens. */
  secret?: string;
  /** Cookie name for double-submit. Default `__Host-csrf` (Secure) or `csrf`. */
  cookieName?: string;
  /** Set `false` for plain-HTTP development. Default true. */
  secure?: boolean;
  header?: string;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * The token to embed in forms or send back in `X-CSRF-Token` (after the `csrf()` middleware).
 *
 * @example
 * ```ts
 * app.get('/form', (ctx) => html`<form method="post"><input type="hidden" name="_csrf" value="${csrfToken(ctx)}"></form>`);
 * ```
 */
export function csrfToken(ctx: Context): string {
  const t = ctx.state.csrfToken;
  if (typeof t !== 'function') throw new Error('no CSRF protection: add app.use(csrf({...})) first');
  return (t as () => string)();
}

/**
 * The token as a hidden form field (`_csrf`), for `html` templates.
 *
 * @example
 * ```ts
 * app.get('/notes/new', (ctx) => ctx.render(html`<form method="post" action="/notes">${csrfField(ctx)}<input name="title"><button>Add</button></form>`));
 * ```
 */
export function csrfField(ctx: Context): Html {
  return html`<input type="hidden" name="_csrf" value="${csrfToken(ctx)}">`;
}

/**
 * @example
 * ```ts
 * app.use(session({ store, secrets }));
 * app.use(csrf({ mode: 'synchronizer' }));
 * app.get('/form', (ctx) => `<form method=post><input type=hidden name=_csrf value="${csrfToken(ctx)}">...`);
 * ```
 */
export function csrf(options: CsrfOptions) {
  const secure = options.secure ?? true;
  const cookieName = options.cookieName ?? (secure ? '__Host-csrf' : 'csrf');
  const header = (options.header ?? 'x-csrf-token').toLowerCase();
  if (options.mode === 'double-submit' && (options.secret === undefined || options.secret.length < 16)) throw new Error('double-submit CSRF needs a secret of 16+ characters');
  const sign = (nonce: string, binding: string): string => `${nonce}.${createHmac('sha256', options.secret!).update(`${binding}!${nonce}`).digest('base64url')}`;
  return async (ctx: Context, next: () => Promise<void>): Promise<void> => {
    const sess = ctx.state.session instanceof Session ? ctx.state.session : undefined;
    if (options.mode === 'synchronizer' && sess === undefined) throw new Error('synchronizer CSRF tokens live in the session: add session() before csrf()');
    // Bound to an established session (a new one has no id the browser knows yet).
    const binding = sess !== undefined && !sess.isNew ? sess.id : '';
    let issued: string | undefined;
    ctx.state.csrfToken = (): string => {
      if (issued !== undefined) return issued;
      if (options.mode === 'synchronizer') {
        let t = sess!.get<string>('csrf');
        if (t === undefined) {
          t = randomBytes(24).toString('base64url');
          void sess!.set('csrf', t);
        }
        return (issued = t);
      }
      const current = ctx.cookies[cookieName];
      if (current !== undefined && valid(current)) return (issued = current);
      issued = sign(randomBytes(18).toString('base64url'), binding);
      ctx.res.appendHeader('set-cookie', serializeCookie(cookieName, issued, { path: '/', secure, sameSite: 'strict', httpOnly: false }));
      return issued;
    };
    const valid = (cookie: string): boolean => {
      const dot = cookie.indexOf('.');
      return dot > 0 && constantTimeEqual(sign(cookie.slice(0, dot), binding), cookie);
    };
    if (!SAFE.has(ctx.method)) {
      let sent = ctx.req.get(header);
      if (sent === undefined && /^application\/x-www-form-urlencoded\b/i.test(ctx.req.get('content-type') ?? '')) {
        const form = await ctx.form();
        const f = form._csrf;
        sent = Array.isArray(f) ? f[0] : f;
        ctx.state.form = form; // the body was read: handlers find the form here
      }
      let ok = false;
      if (sent !== undefined) {
        if (options.mode === 'synchronizer') {
          const t = sess!.get<string>('csrf');
          ok = t !== undefined && constantTimeEqual(t, sent);
        } else {
          const cookie = ctx.cookies[cookieName];
          ok = cookie !== undefined && constantTimeEqual(cookie, sent) && valid(cookie);
        }
      }
      if (!ok) throw new HttpError(403, { detail: 'missing or invalid CSRF token' });
    }
    await next();
  };
}
