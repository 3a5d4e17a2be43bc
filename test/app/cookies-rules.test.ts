/**
 * The cookie codec's rules, each at its edge (written against the mutants StrykerJS found surviving in
 * lib/app/cookies.ts: docs/mutation.md).
 */
import { describe, expect, it } from 'vitest';
import { parseCookies, serializeCookie, signCookieValue, unsignCookieValue } from '../../lib/app/index.js';

describe('parseCookies (RFC 6265 §5.2)', () => {
  it('skips pairs without "=" or without a name; the first of a name wins; values trimmed', () => {
    expect(parseCookies('=x; a=1; b; a=2;  c =  3  ')).toEqual({ a: '1', c: '3' });
    expect(Object.keys(parseCookies('=x'))).toEqual([]);
  });

  it('takes off one pair of surrounding double quotes, only when both are there', () => {
    expect(parseCookies('a="x"; b=""; c="; d=x"; e="x; f=""x""')).toEqual({ a: 'x', b: '', c: '"', d: 'x"', e: '"x', f: '"x"' });
  });

  it('decodes percent-encoding, and keeps what is not valid percent-encoding as sent', () => {
    expect(parseCookies('a=x%2Fy; b=100%; c=%E2%82%AC')).toEqual({ a: 'x/y', b: '100%', c: '€' });
  });
});

describe('serializeCookie', () => {
  it('writes cookie-octets as they are and percent-encodes the rest (and any "%")', () => {
    expect(serializeCookie('a', 'x/y:z#[]').split(';')[0]).toBe('a=x/y:z#[]');
    expect(serializeCookie('a', 'a b').split(';')[0]).toBe('a=a%20b');
    expect(serializeCookie('a', '50%').split(';')[0]).toBe('a=50%25');
    expect(serializeCookie('a', '').split(';')[0]).toBe('a=');
    expect(parseCookies(serializeCookie('a', 'x; y=1 "€%').split(';')[0]).a).toBe('x; y=1 "€%');
  });

  it('refuses a bad name, domain or path, saying which', () => {
    expect(() => serializeCookie('a b', 'v')).toThrow('invalid cookie name "a b"');
    expect(() => serializeCookie('a', 'v', { domain: 'x;y' })).toThrow('invalid cookie domain "x;y"');
    expect(() => serializeCookie('a', 'v', { path: '/x;y' })).toThrow('invalid cookie path "/x;y"');
  });

  it('SameSite: Lax by default, as given, or left out with sameSite: false', () => {
    expect(serializeCookie('a', 'v')).toBe('a=v; Path=/; HttpOnly; SameSite=Lax');
    expect(serializeCookie('a', 'v', { sameSite: 'strict', domain: 'example.com', path: '/p' })).toBe('a=v; Domain=example.com; Path=/p; HttpOnly; SameSite=Strict');
    expect(serializeCookie('a', 'v', { sameSite: false, httpOnly: false })).toBe('a=v; Path=/');
    expect(serializeCookie('a', 'v', { sameSite: 'none' })).toBe('a=v; Path=/; Secure; HttpOnly; SameSite=None');
  });
});

describe('signed values', () => {
  it('round-trip, the empty value included; a value without a signature or with a wrong one is undefined', () => {
    const secrets = ['first secret, long enough', 'old secret'];
    expect(unsignCookieValue(signCookieValue('v.1', secrets), secrets)).toBe('v.1');
    expect(unsignCookieValue(signCookieValue('', secrets), secrets)).toBe('');
    expect(unsignCookieValue(signCookieValue('v', ['old secret']), secrets)).toBe('v'); // an older secret still verifies
    expect(unsignCookieValue('nodot', secrets)).toBeUndefined();
    expect(unsignCookieValue(`${signCookieValue('v', secrets)}x`, secrets)).toBeUndefined();
    expect(() => signCookieValue('v', [])).toThrow('signed cookies need createApp({ cookieSecrets: [...] })');
  });
});
