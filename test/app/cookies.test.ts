import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApp, parseCookies, serializeCookie, signCookieValue, unsignCookieValue } from '../../lib/app/index.js';

describe('cookie codec', () => {
  it('serializes with safe defaults and refuses invalid names and attributes', () => {
    expect(serializeCookie('sid', 'abc')).toBe('sid=abc; Path=/; HttpOnly; SameSite=Lax');
    expect(serializeCookie('x', 'y', { sameSite: 'none', maxAge: 60, domain: 'example.com', httpOnly: false, partitioned: true })).toBe(
      'x=y; Max-Age=60; Domain=example.com; Path=/; Secure; SameSite=None; Partitioned',
    );
    expect(() => serializeCookie('bad name', 'v')).toThrow(TypeError);
    expect(() => serializeCookie('a', 'v', { path: '/x;injected' })).toThrow(TypeError);
  });

  it('parses a Cookie header: first occurrence wins, quotes stripped, malformed pairs skipped', () => {
    expect({ ...parseCookies('a=1; b="two"; a=3; junk; c=%E2%9C%93; d=%zz') }).toEqual({ a: '1', b: 'two', c: '✓', d: '%zz' });
    expect({ ...parseCookies(undefined) }).toEqual({});
  });

  it('round-trips any string value through Set-Cookie and Cookie', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (v) => {
        const set = serializeCookie('k', v);
        const pair = set.slice(0, set.indexOf(';'));
        expect(parseCookies(pair).k).toBe(v);
      }),
    );
  });

  it('signs with the first secret, verifies under any, and rejects tampering', () => {
    const signed = signCookieValue('user-7', ['new', 'old']);
    expect(unsignCookieValue(signed, ['new'])).toBe('user-7');
    expect(unsignCookieValue(signCookieValue('user-7', ['old']), ['new', 'old'])).toBe('user-7');
    expect(unsignCookieValue(signed.replace('user-7', 'user-8'), ['new'])).toBeUndefined();
    expect(unsignCookieValue(signed, ['other'])).toBeUndefined();
    expect(unsignCookieValue('no-signature', ['new'])).toBeUndefined();
  });
});

describe('cookies in the app', () => {
  it('sets several cookies as separate Set-Cookie fields and reads signed ones back over real HTTP', async () => {
    const app = createApp({ cookieSecrets: ['s3cret'] });
    app.get('/login', (ctx) => {
      ctx.setCookie('session', 'user=7; admin', { signed: true, maxAge: 3600 });
      ctx.setCookie('theme', 'dark', { httpOnly: false });
      return 'ok';
    });
    app.get('/me', (ctx) => ({ session: ctx.signedCookie('session') ?? null, theme: ctx.cookies.theme ?? null }));
    app.get('/logout', (ctx) => {
      ctx.clearCookie('session');
      return 'bye';
    });
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const login = await fetch(`${base}/login`);
      const set = login.headers.getSetCookie();
      expect(set).toHaveLength(2);
      expect(set[1]).toBe('theme=dark; Path=/; SameSite=Lax');
      const jar = set.map((c) => c.slice(0, c.indexOf(';'))).join('; ');
      expect(await (await fetch(`${base}/me`, { headers: { cookie: jar } })).json()).toEqual({ session: 'user=7; admin', theme: 'dark' });
      const forged = jar.replace(/session=[^;]+/, `session=${encodeURIComponent('user=1; admin.AAAA')}`);
      expect(await (await fetch(`${base}/me`, { headers: { cookie: forged } })).json()).toEqual({ session: null, theme: 'dark' });
      const out = (await fetch(`${base}/logout`)).headers.getSetCookie();
      expect(out[0]).toMatch(/^session=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=\//);
    } finally {
      await app.close(100);
    }
  });
});
