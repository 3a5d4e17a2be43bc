/**
 * CSRF protection at its edges (#28: from csrf.ts's surviving mutants): every safe and unsafe method, the
 * cookie's name and attributes, the header option, the secret's minimum length, where the token may come
 * from (header, form field, the first of two fields, never another media type), the double-submit
 * signature and its binding to the session, and every refusal's words.
 */
import { describe, expect, it } from 'vitest';
import { csrf, csrfField, csrfToken, MemorySessionStore, session, sessionOf } from '../../../lib/app/auth/index.js';
import { createApp, type Context } from '../../../lib/app/index.js';
import { browser } from './browser.js';

const SECRET = 'csrf-secret-16ch';


function makeApp(options: Parameters<typeof csrf>[0], withSession = true) {
  const app = createApp();
  if (withSession) app.use(session({ store: new MemorySessionStore(), secrets: ['s3cret-s3cret-s3cret'], cookie: { secure: false } }));
  app.use(csrf(options));
  app.get('/token', (ctx: Context) => ({ token: csrfToken(ctx), again: csrfToken(ctx) }));
  app.get('/field', (ctx: Context) => ctx.render(csrfField(ctx)));
  app.post('/login', async (ctx: Context) => void (await sessionOf(ctx).set('user', 'ann')));
  for (const m of ['get', 'head', 'options', 'trace', 'post', 'put', 'patch', 'delete'] as const) app.route(m.toUpperCase(), '/act', (ctx: Context) => ({ ok: true, form: ctx.state.form ?? null }));
  return app;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('csrf()', () => {
  for (const mode of ['synchronizer', 'double-submit'] as const) {
    it(`${mode}: GET, HEAD, OPTIONS and TRACE pass without a token; POST, PUT, PATCH and DELETE need it`, async () => {
      const b = browser(makeApp({ mode, secret: SECRET, secure: false }));
      for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) expect((await b.go(m, '/act')).status, m).toBe(200);
      for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const res = await b.go(m, '/act');
        expect(res.status, m).toBe(403);
        expect(res.json<{ detail: string }>().detail).toBe('missing or invalid CSRF token');
      }
      const { token, again } = (await b.go('GET', '/token')).json<{ token: string; again: string }>();
      expect(again).toBe(token);
      for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) expect((await b.go(m, '/act', { 'x-csrf-token': token })).status, m).toBe(200);
      // The same token on the next page: it lives as long as the session or the cookie.
      expect((await b.go('GET', '/token')).json<{ token: string }>().token).toBe(token);
      expect((await b.go('POST', '/act', { 'x-csrf-token': `${token}x` })).status).toBe(403);
      expect((await b.go('POST', '/act', { 'x-csrf-token': token.slice(0, -1) })).status).toBe(403);
    });

    it(`${mode}: the token in a form field, the first of two, read once and left for the handler`, async () => {
      const b = browser(makeApp({ mode, secret: SECRET, secure: false }));
      const { token } = (await b.go('GET', '/token')).json<{ token: string }>();
      const one = await b.go('POST', '/act', FORM, `a=1&_csrf=${encodeURIComponent(token)}`);
      expect(one.json()).toEqual({ ok: true, form: { a: '1', _csrf: token } });
      const two = await b.go('POST', '/act', { 'content-type': 'Application/X-WWW-Form-Urlencoded; charset=utf-8' }, `_csrf=${encodeURIComponent(token)}&_csrf=wrong`);
      expect(two.status).toBe(200);
      expect((await b.go('POST', '/act', FORM, `_csrf=wrong&_csrf=${encodeURIComponent(token)}`)).status).toBe(403);
      // Only a urlencoded form is read for the field: not text, not a lookalike media type.
      expect((await b.go('POST', '/act', { 'content-type': 'text/plain' }, `_csrf=${encodeURIComponent(token)}`)).status).toBe(403);
      expect((await b.go('POST', '/act', { 'content-type': 'application/x-www-form-urlencodedx' }, `_csrf=${encodeURIComponent(token)}`)).status).toBe(403);
      expect((await b.go('POST', '/act', { 'content-type': 'x-application/x-www-form-urlencoded' }, `_csrf=${encodeURIComponent(token)}`)).status).toBe(403);
      // A header wins: the body is not read then.
      expect((await b.go('POST', '/act', { ...FORM, 'x-csrf-token': token }, 'a=2')).json()).toEqual({ ok: true, form: null });
    });

    it(`${mode}: the header can be renamed (any case)`, async () => {
      const b = browser(makeApp({ mode, secret: SECRET, secure: false, header: 'X-My-Token' }));
      const { token } = (await b.go('GET', '/token')).json<{ token: string }>();
      expect((await b.go('POST', '/act', { 'x-csrf-token': token })).status).toBe(403);
      expect((await b.go('POST', '/act', { 'x-my-token': token })).status).toBe(200);
    });

    it(`${mode}: csrfField is a hidden _csrf input holding the token`, async () => {
      const b = browser(makeApp({ mode, secret: SECRET, secure: false }));
      const { token } = (await b.go('GET', '/token')).json<{ token: string }>();
      expect((await b.go('GET', '/field')).body.toString()).toBe(`<input type="hidden" name="_csrf" value="${token}">`);
    });
  }

  it('synchronizer: the token is kept in the session; another session does not accept it; none minted yet is a 403', async () => {
    const app = makeApp({ mode: 'synchronizer', secure: false });
    const a = browser(app);
    const { token } = (await a.go('GET', '/token')).json<{ token: string }>();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const b = browser(app);
    expect((await b.go('POST', '/act', { 'x-csrf-token': token })).status).toBe(403);
    await b.go('POST', '/login', { 'x-csrf-token': 'x' }); // refused, but b has no token in its session at all
    expect((await b.go('POST', '/act', { 'x-csrf-token': '' })).status).toBe(403);
  });

  it('double-submit: the cookie is __Host-csrf (Secure, Path=/, SameSite=Strict, readable by the page) unless secure is off', async () => {
    const secure = browser(makeApp({ mode: 'double-submit', secret: SECRET }, false));
    const res = await secure.go('GET', '/token');
    const { token } = res.json<{ token: string }>();
    expect(res.headers['set-cookie']).toBe(`__Host-csrf=${token}; Path=/; Secure; SameSite=Strict`);
    const plain = await browser(makeApp({ mode: 'double-submit', secret: SECRET, secure: false }, false)).go('GET', '/token');
    expect(String(plain.headers['set-cookie'])).toMatch(/^csrf=[^;]+; Path=\/; SameSite=Strict$/);
    const named = await browser(makeApp({ mode: 'double-submit', secret: SECRET, cookieName: 'xsrf' }, false)).go('GET', '/token');
    expect(String(named.headers['set-cookie'])).toMatch(/^xsrf=[^;]+; Path=\/; Secure; SameSite=Strict$/);
  });

  it('double-submit: a valid cookie is reused (no new cookie); header and cookie must be the same token', async () => {
    const app = makeApp({ mode: 'double-submit', secret: SECRET, secure: false }, false);
    const b = browser(app);
    const { token } = (await b.go('GET', '/token')).json<{ token: string }>();
    const again = await b.go('GET', '/token');
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(again.json<{ token: string }>().token).toBe(token);
    // A second valid token (another browser's) in the header, with this browser's cookie: refused.
    const other = (await browser(app).go('GET', '/token')).json<{ token: string }>().token;
    expect(other).not.toBe(token);
    expect((await b.go('POST', '/act', { 'x-csrf-token': other })).status).toBe(403);
    expect((await b.go('POST', '/act', { 'x-csrf-token': token })).status).toBe(200);
    // No cookie: refused even with a token that once was valid.
    expect((await app.inject({ method: 'POST', url: '/act', headers: { 'x-csrf-token': token } })).status).toBe(403);
  });

  it('double-submit: forged cookies (no dot, an empty nonce, a wrong signature) are refused and replaced', async () => {
    const app = makeApp({ mode: 'double-submit', secret: SECRET, secure: false }, false);
    const { token } = (await browser(app).go('GET', '/token')).json<{ token: string }>();
    const [nonce, sig] = token.split('.') as [string, string];
    for (const forged of ['nodot', `.${sig}`, `${nonce}.${sig.slice(1)}x`, `${nonce}x.${sig}`]) {
      const post = await app.inject({ method: 'POST', url: '/act', headers: { cookie: `csrf=${forged}`, 'x-csrf-token': forged } });
      expect(post.status, forged).toBe(403);
      const get = await app.inject({ method: 'GET', url: '/token', headers: { cookie: `csrf=${forged}` } });
      expect(get.json<{ token: string }>().token, forged).not.toBe(forged);
      expect(String(get.headers['set-cookie']), forged).toMatch(/^csrf=/);
    }
    // A token signed with another secret is not valid here.
    const elsewhere = (await browser(makeApp({ mode: 'double-submit', secret: `${SECRET}-other`, secure: false }, false)).go('GET', '/token')).json<{ token: string }>().token;
    expect((await app.inject({ method: 'POST', url: '/act', headers: { cookie: `csrf=${elsewhere}`, 'x-csrf-token': elsewhere } })).status).toBe(403);
  });

  it('double-submit: a token minted in an established session is bound to it', async () => {
    const app = makeApp({ mode: 'double-submit', secret: SECRET, secure: false });
    const a = browser(app);
    const first = (await a.go('GET', '/token')).json<{ token: string }>().token; // no session yet: unbound
    await a.go('POST', '/login', { 'x-csrf-token': first });
    expect(a.jar.has('sid')).toBe(true);
    // Now the session exists: the unbound cookie is no longer valid, a new bound one is minted.
    const bound = (await a.go('GET', '/token')).json<{ token: string }>().token;
    expect(bound).not.toBe(first);
    expect((await a.go('POST', '/act', { 'x-csrf-token': bound })).status).toBe(200);
    // The same cookie and header sent with another session: refused.
    const b = browser(app);
    const bFirst = (await b.go('GET', '/token')).json<{ token: string }>().token;
    await b.go('POST', '/login', { 'x-csrf-token': bFirst });
    b.jar.set('csrf', bound);
    expect((await b.go('POST', '/act', { 'x-csrf-token': bound })).status).toBe(403);
  });

  it('refuses to start without what it needs, saying what to add', () => {
    expect(() => csrf({ mode: 'double-submit' })).toThrow('double-submit CSRF needs a secret of 16+ characters');
    expect(() => csrf({ mode: 'double-submit', secret: 'x'.repeat(15) })).toThrow('double-submit CSRF needs a secret of 16+ characters');
    expect(() => csrf({ mode: 'double-submit', secret: 'x'.repeat(16) })).not.toThrow();
    expect(() => csrf({ mode: 'synchronizer' })).not.toThrow();
  });

  it('synchronizer without session(), and csrfToken without csrf(), are errors naming the fix', async () => {
    const errors: unknown[] = [];
    const withHook = createApp({ onError: (e) => void errors.push(e) });
    withHook.use(csrf({ mode: 'synchronizer' }));
    withHook.get('/x', () => 'x');
    expect((await withHook.inject({ method: 'GET', url: '/x' })).status).toBe(500);
    expect(String(errors[0])).toContain('synchronizer CSRF tokens live in the session: add session() before csrf()');
    const bare = createApp({ onError: (e) => void errors.push(e) });
    bare.get('/t', (ctx: Context) => csrfToken(ctx));
    expect((await bare.inject({ method: 'GET', url: '/t' })).status).toBe(500);
    expect(String(errors.at(-1))).toContain('no CSRF protection: add app.use(csrf({...})) first');
  });
});
