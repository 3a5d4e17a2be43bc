/**
 * JWT rules at their edges (#28, from jwt.ts's mutants): each key type against each algorithm, HMAC
 * secret lengths at the limit and one byte short, what signJwt writes, every claim check at its boundary
 * second (with and without leeway), every refusal's code and words, the token's shape, JWKS documents,
 * the revocation list's expiry, the remote key set's cache, cooldown, stale allowance and backoff to the
 * millisecond (a scripted `fetch` and an injected clock).
 */
import { createHmac, createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeJwtUnsafe, importKey, JwtError, JwtVerifier, KeySet, MemoryRevocationList, RemoteJwks, signJwt, verifyJwsSignature, type JwtAlgorithm } from '../../../lib/app/auth/index.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed = generateKeyPairSync('ed25519');
const ed448 = generateKeyPairSync('ed448');
const secret = createSecretKey(Buffer.alloc(64, 7));

/** The JwtError a call throws: `code: message`, or 'OK'. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof JwtError)) throw e;
    expect(e.status).toBe(401);
    expect(e.name).toBe('JwtError');
    return `${e.code}: ${e.message}`;
  }
  return 'OK';
}
const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('keys', () => {
  it('each algorithm takes exactly the key types that fit it', () => {
    const table: Array<[JwtAlgorithm, KeyObject, boolean]> = [
      ['HS256', secret, true],
      ['HS256', rsa.publicKey, false],
      ['RS256', rsa.publicKey, true],
      ['RS384', rsa.privateKey, true],
      ['RS512', rsa.publicKey, true],
      ['RS256', pss.publicKey, false],
      ['RS256', secret, false],
      ['RS256', p256.publicKey, false],
      ['PS256', rsa.publicKey, true],
      ['PS256', pss.publicKey, true],
      ['PS256', p256.publicKey, false],
      ['ES256', p256.publicKey, true],
      ['ES256', p384.publicKey, false],
      ['ES384', p384.publicKey, true],
      ['ES384', p256.publicKey, false],
      ['ES256', ed.publicKey, false],
      ['EdDSA', ed.publicKey, true],
      ['EdDSA', ed448.publicKey, false],
      ['EdDSA', rsa.publicKey, false],
      ['EdDSA', secret, false],
    ];
    for (const [alg, key, ok] of table) {
      const what = `${alg} with ${key.type} ${key.asymmetricKeyType ?? ''}`;
      if (ok) expect(() => importKey(key, [alg]), what).not.toThrow();
      else expect(() => importKey(key, [alg]), what).toThrow(`a ${key.type === 'secret' ? 'secret' : key.asymmetricKeyType} key cannot be used with ${alg}`);
    }
  });

  it('HMAC secrets: at least the hash length, at the limit and one byte short, for the longest hash listed', () => {
    for (const [alg, min] of [['HS256', 32], ['HS384', 48], ['HS512', 64]] as const) {
      expect(() => importKey(Buffer.alloc(min, 1), [alg])).not.toThrow();
      expect(() => importKey(Buffer.alloc(min - 1, 1), [alg])).toThrow(`an HMAC secret for ${alg} needs at least ${min} bytes (RFC 7518 §3.2)`);
      expect(() => importKey('x'.repeat(min - 1), [alg])).toThrow(/needs at least/);
      expect(() => importKey(createSecretKey(Buffer.alloc(min - 1)), [alg])).toThrow(/needs at least/);
      expect(() => importKey({ kty: 'oct', k: Buffer.alloc(min - 1).toString('base64url') }, [alg])).toThrow(/needs at least/);
    }
    expect(() => importKey(Buffer.alloc(48, 1), ['HS256', 'HS512'])).toThrow('an HMAC secret for HS256/HS512 needs at least 64 bytes (RFC 7518 §3.2)');
    expect(importKey(Buffer.alloc(32, 1), ['HS256']).key.export()).toEqual(Buffer.alloc(32, 1));
    expect(importKey('k'.repeat(32), ['HS256']).key.export()).toEqual(Buffer.from('k'.repeat(32)));
  });

  it('refuses what is not a key for the algorithms, saying so', () => {
    expect(() => importKey(secret, [])).toThrow('a key needs at least one algorithm');
    expect(() => importKey(secret, ['HS999' as JwtAlgorithm])).toThrow('unsupported algorithm HS999');
    expect(() => importKey({ kty: 'RSA', k: 'x' }, ['HS256'])).toThrow('an HMAC key as JWK must be kty "oct"');
    for (const input of ['x'.repeat(64), rsa.publicKey, rsa.publicKey.export({ type: 'spki', format: 'pem' })]) {
      expect(() => importKey(input, ['HS256', 'RS256'])).toThrow('a key is an HMAC secret (HS*) or an asymmetric key, not both: HS256, RS256');
      expect(() => importKey(input, ['RS256', 'HS512'])).toThrow('a key is an HMAC secret (HS*) or an asymmetric key, not both: RS256, HS512');
    }
    expect(() => importKey({ kty: 'oct' }, ['HS256'])).toThrow('an HMAC key as JWK must be kty "oct"');
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => importKey(pem, ['HS256'])).toThrow('a PEM key is not an HMAC secret: import it for RS*/PS*/ES*/EdDSA, or use a random secret for HS*');
    expect(() => importKey(Buffer.from(pem), ['HS256'])).toThrow(/a PEM key is not an HMAC secret/);
    expect(() => importKey(`x${'-----BEGIN EC PRIVATE KEY-----'}`.padEnd(40, 'y'), ['HS256'])).toThrow(/a PEM key is not an HMAC secret/);
  });

  it('PEM and JWK, private and public, become the right key objects', () => {
    const privPem = p256.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pubPem = p256.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(importKey(privPem, ['ES256']).key.type).toBe('private');
    expect(importKey(Buffer.from(pubPem), ['ES256']).key.type).toBe('public');
    expect(importKey(p256.privateKey.export({ format: 'jwk' }), ['ES256']).key.type).toBe('private');
    expect(importKey(p256.publicKey.export({ format: 'jwk' }), ['ES256'], 'k1')).toMatchObject({ kid: 'k1', algorithms: ['ES256'] });
    expect(importKey(p256.publicKey.export({ format: 'jwk' }), ['ES256']).key.type).toBe('public');
  });
});

describe('signJwt', () => {
  const hs = importKey(Buffer.alloc(64, 2), ['HS512', 'HS256'], 'h1');
  it('writes the header and claims as asked', () => {
    const t = signJwt({ role: 'x' }, hs, { now: 1000, expiresIn: 60, notBefore: 5, issuer: 'i', audience: ['a', 'b'], subject: 's', jwtId: 'j', header: { alg: 'none', typ: 'x', cty: 'c' } });
    expect(decodeJwtUnsafe(t)).toEqual({
      header: { alg: 'HS512', typ: 'JWT', cty: 'c', kid: 'h1' },
      payload: { role: 'x', iat: 1000, exp: 1060, nbf: 1005, iss: 'i', aud: ['a', 'b'], sub: 's', jti: 'j' },
    });
    expect(decodeJwtUnsafe(signJwt({ iat: 5 }, hs, { now: 1000, algorithm: 'HS256' }))).toEqual({ header: { alg: 'HS256', typ: 'JWT', kid: 'h1' }, payload: { iat: 5 } });
    const noKid = importKey(Buffer.alloc(32, 2), ['HS256']);
    expect(decodeJwtUnsafe(signJwt({}, noKid, { now: 7 })).header).toStrictEqual({ alg: 'HS256', typ: 'JWT' });
    const now = Math.floor(Date.now() / 1000);
    const iat = decodeJwtUnsafe(signJwt({}, noKid)).payload.iat!;
    expect(iat === now || iat === now + 1).toBe(true);
  });

  it('signs only with a key for that algorithm, and a private key for signatures', () => {
    expect(() => signJwt({}, hs, { algorithm: 'HS384' })).toThrow('this key is not for HS384');
    expect(() => signJwt({}, importKey(p256.publicKey, ['ES256']))).toThrow('signing needs a private key');
    for (const [alg, pair] of [['RS256', rsa], ['RS384', rsa], ['RS512', rsa], ['PS256', rsa], ['ES256', p256], ['ES384', p384], ['EdDSA', ed]] as const) {
      const priv = importKey(pair.privateKey, [alg]);
      const pub = importKey(pair.publicKey, [alg]);
      const t = signJwt({ exp: 9e9 }, priv);
      expect(new JwtVerifier({ keys: [pub] }).verifySync(t).exp, alg).toBe(9e9);
      expect(new JwtVerifier({ keys: [priv] }).verifySync(t).exp, `${alg} with the private key`).toBe(9e9);
      expect(verifyJwsSignature(t, pub), alg).toBe(true);
      expect(verifyJwsSignature(t, priv), alg).toBe(true);
    }
  });
});

describe('the token', () => {
  const key = importKey(Buffer.alloc(32, 3), ['HS256']);
  const v = new JwtVerifier({ keys: [key], now: () => 100 });
  const good = signJwt({ exp: 200 }, key, { now: 100 });
  const [h, p, s] = good.split('.') as [string, string, string];

  it('has three parts, a header with a known alg, canonical base64url everywhere', () => {
    expect(refusal(() => v.verifySync(good))).toBe('OK');
    for (const t of [`${h}.${p}`, `${h}.${p}.${s}.x`, `.${p}.${s}`, h, '', `${h}..${s}.`]) expect(refusal(() => v.verifySync(t)), t).toBe('MALFORMED: a JWT has three dot-separated parts');
    expect(refusal(() => v.verifySync(`${h}.${p}.`))).toBe('MALFORMED: the signature is not canonical base64url');
    expect(refusal(() => v.verifySync(`${h}.${p}.${s}=`))).toBe('MALFORMED: the signature is not canonical base64url');
    expect(refusal(() => v.verifySync(`${h}.${p}.${s}AA`))).toBe('MALFORMED: the signature is not canonical base64url');
    expect(refusal(() => v.verifySync(`${h}.${p}.${s}A`))).toBe('BAD_SIGNATURE: the signature does not verify'); // 44 characters: canonical, 33 bytes
    expect(refusal(() => v.verifySync(`${b64({ typ: 'JWT' })}.${p}.${s}`))).toBe('MALFORMED: the header has no alg');
    expect(refusal(() => v.verifySync(`${b64({ alg: 5 })}.${p}.${s}`))).toBe('MALFORMED: the header has no alg');
    expect(refusal(() => v.verifySync(`${b64('[1]')}.${p}.${s}`))).toBe('MALFORMED: the header is not a JSON object');
    expect(refusal(() => v.verifySync(`${b64('null')}.${p}.${s}`))).toBe('MALFORMED: the header is not a JSON object');
    expect(refusal(() => v.verifySync(`${b64('7')}.${p}.${s}`))).toBe('MALFORMED: the header is not a JSON object');
    expect(refusal(() => v.verifySync(`${b64('{')}.${p}.${s}`))).toBe('MALFORMED: the header is not JSON');
    expect(refusal(() => v.verifySync(`${h}=.${p}.${s}`))).toBe('MALFORMED: the header is not canonical base64url');
    expect(refusal(() => v.verifySync(`${b64({ alg: 'none' })}.${p}.${s}`))).toBe('ALG_NOT_ALLOWED: algorithm none is not accepted');
    // Characters outside base64url anywhere in a part (a lenient decoder would take "+" and "/").
    const swap = (part: string, at: number, ch: string) => `${part.slice(0, at)}${ch}${part.slice(at + 1)}`;
    expect(refusal(() => v.verifySync(`${swap(h, 0, '+')}.${p}.${s}`))).toBe('MALFORMED: the header is not canonical base64url');
    expect(refusal(() => v.verifySync(`${swap(h, 5, '/')}.${p}.${s}`))).toBe('MALFORMED: the header is not canonical base64url');
    expect(refusal(() => v.verifySync(`${h}.${p}.${swap(s, 0, '+')}`))).toBe('MALFORMED: the signature is not canonical base64url');
    expect(refusal(() => v.verifySync(`${h}.${p}.${swap(s, 10, '/')}`))).toBe('MALFORMED: the signature is not canonical base64url');
  });

  it('base64url is canonical: no leftover bits in the last character, no length ≡ 1 (mod 4)', () => {
    const sig = Buffer.from(s, 'base64url');
    expect(sig.length).toBe(32); // 43 characters: the last carries 2 bits of padding
    const last = s[s.length - 1]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1]!; // same bytes, a low bit set
    expect(refusal(() => v.verifySync(`${h}.${p}.${s.slice(0, -1)}${twin}`))).toBe('MALFORMED: the signature is not canonical base64url');
    // Lengths ≡ 2 (mod 4): four unused bits. A header of that length with its last character's low bits set:
    const headerOfLength = (rem: number): string => {
      for (let k = 0; ; k++) if (b64({ alg: 'HS256', x: 'a'.repeat(k) }).length % 4 === rem) return b64({ alg: 'HS256', x: 'a'.repeat(k) });
    };
    const h2 = headerOfLength(2);
    expect(h2.length % 4).toBe(2);
    const h2bad = `${h2.slice(0, -1)}${alphabet[alphabet.indexOf(h2[h2.length - 1]!) | 1]}`;
    expect(refusal(() => v.verifySync(`${h2bad}.${p}.${s}`))).toBe('MALFORMED: the header is not canonical base64url');
    expect(refusal(() => v.verifySync(`${h2bad.slice(0, -1)}${alphabet[alphabet.indexOf(h2[h2.length - 1]!) | 8]}.${p}.${s}`))).toBe('MALFORMED: the header is not canonical base64url');
    const h3 = headerOfLength(3);
    expect(h3.length % 4).toBe(3);
    const h3bad = `${h3.slice(0, -1)}${alphabet[alphabet.indexOf(h3[h3.length - 1]!) | 1]}`;
    expect(refusal(() => v.verifySync(`${h3bad}.${p}.${s}`))).toBe('MALFORMED: the header is not canonical base64url');
    const h0 = headerOfLength(0);
    expect(h0.length % 4).toBe(0);
    expect(refusal(() => v.verifySync(`${h0}.${p}.${s}`))).toBe('BAD_SIGNATURE: the signature does not verify');
    expect(refusal(() => v.verifySync(`${h}.${p}.${s}AAA`.replace(/.$/, '')))).toBe('MALFORMED: the signature is not canonical base64url');
    expect(refusal(() => v.verifySync(`${h}.${p}x.${s}`))).toBe('BAD_SIGNATURE: the signature does not verify');
  });

  it('crit: only extensions the application names; a non-list is refused', () => {
    const t = (crit: unknown) => signJwt({ exp: 200 }, key, { now: 100, header: { crit, b64: true } });
    expect(refusal(() => v.verifySync(t(['b64'])))).toBe('CRIT: the token has critical header extensions we do not understand');
    expect(refusal(() => new JwtVerifier({ keys: [key], now: () => 100, crit: ['b64'] }).verifySync(t(['b64'])))).toBe('OK');
    expect(refusal(() => new JwtVerifier({ keys: [key], now: () => 100, crit: ['b64'] }).verifySync(t(['b64', 'x'])))).toMatch(/^CRIT/);
    expect(refusal(() => new JwtVerifier({ keys: [key], now: () => 100, crit: ['b64'] }).verifySync(t('b64')))).toMatch(/^CRIT/);
  });

  it('no key for the kid, or none for the alg, is named as such', () => {
    const named = importKey(Buffer.alloc(32, 4), ['HS256'], 'k1');
    const vn = new JwtVerifier({ keys: [named], now: () => 100 });
    expect(refusal(() => vn.verifySync(signJwt({ exp: 200 }, importKey(Buffer.alloc(32, 4), ['HS256'], 'k2'), { now: 100 })))).toBe('UNKNOWN_KEY: no key "k2" for HS256');
    expect(refusal(() => v.verifySync(signJwt({ exp: 200 }, importKey(Buffer.alloc(48, 4), ['HS384']), { now: 100 })))).toBe('ALG_NOT_ALLOWED: no key accepts HS384');
    expect(refusal(() => vn.verifySync(good))).toBe('ALG_NOT_ALLOWED: no key accepts HS256'); // no kid: only unnamed keys, and there are none
    expect(refusal(() => v.verifySync(signJwt({ exp: 200 }, importKey(Buffer.alloc(32, 9), ['HS256']), { now: 100 })))).toBe('BAD_SIGNATURE: the signature does not verify');
    // A key listed for an alg it does not fit never verifies (its verifier is null), a fitting one after it does.
    const wrong = { algorithms: ['RS256'] as JwtAlgorithm[], key: p256.publicKey };
    const right = importKey(rsa.publicKey, ['RS256']);
    const t = signJwt({ exp: 200 }, importKey(rsa.privateKey, ['RS256']), { now: 100 });
    expect(refusal(() => new JwtVerifier({ keys: [wrong, right], now: () => 100 }).verifySync(t))).toBe('OK');
    expect(refusal(() => new JwtVerifier({ keys: [wrong], now: () => 100 }).verifySync(t))).toBe('BAD_SIGNATURE: the signature does not verify');
    expect(verifyJwsSignature(t, wrong)).toBe(false);
  });

  it('decodeJwtUnsafe and verifyJwsSignature', () => {
    expect(decodeJwtUnsafe(good)).toEqual({ header: { alg: 'HS256', typ: 'JWT' }, payload: { exp: 200, iat: 100 } });
    expect(() => decodeJwtUnsafe('abc')).toThrow(new JwtError('MALFORMED', 'not a JWT'));
    expect(decodeJwtUnsafe(`${h}.${p}`).payload.exp).toBe(200);
    expect(verifyJwsSignature(good, key)).toBe(true);
    expect(verifyJwsSignature(`${h}.${p}`, key)).toBe(false);
    expect(verifyJwsSignature(`${good}.x`, key)).toBe(false);
    expect(verifyJwsSignature(good, importKey(Buffer.alloc(48, 3), ['HS384']))).toBe(false);
    expect(verifyJwsSignature(`${h}.${p}.${s.slice(0, -2)}`, key)).toBe(false);
    // The right secret, but a key not listed for the token's alg: no.
    expect(verifyJwsSignature(good, { algorithms: ['HS384'], key: key.key })).toBe(false);
  });
});

describe('claims', () => {
  const key = importKey(Buffer.alloc(32, 5), ['HS256']);
  const T = 1_000_000;
  const at = (now: number, o: object = {}) => new JwtVerifier({ keys: [key], now: () => now, ...o });
  const t = (claims: Record<string, unknown>) => signJwt({ iat: T, ...claims }, key, { now: T });
  const check = (now: number, claims: Record<string, unknown>, o: object = {}) => refusal(() => at(now, o).verifySync(t(claims)));

  it('exp: valid until the second before it; leeway extends it by exactly that much', () => {
    expect(check(T + 9, { exp: T + 10 })).toBe('OK');
    expect(check(T + 10, { exp: T + 10 })).toBe(`EXPIRED: the token expired at ${new Date((T + 10) * 1000).toISOString()}`);
    expect(check(T + 14, { exp: T + 10 }, { leeway: 5 })).toBe('OK');
    expect(check(T + 15, { exp: T + 10 }, { leeway: 5 })).toMatch(/^EXPIRED/);
  });

  it('nbf: valid from that second; leeway lets it in that much earlier', () => {
    expect(check(T + 10, { exp: T + 100, nbf: T + 10 })).toBe('OK');
    expect(check(T + 9, { exp: T + 100, nbf: T + 10 })).toBe(`NOT_YET_VALID: the token is not valid before ${new Date((T + 10) * 1000).toISOString()}`);
    expect(check(T + 5, { exp: T + 100, nbf: T + 10 }, { leeway: 5 })).toBe('OK');
    expect(check(T + 4, { exp: T + 100, nbf: T + 10 }, { leeway: 5 })).toMatch(/^NOT_YET_VALID/);
  });

  it('iat: not after now (plus leeway)', () => {
    expect(check(T, { exp: T + 100, iat: T })).toBe('OK');
    expect(check(T, { exp: T + 100, iat: T + 1 })).toBe('ISSUED_IN_FUTURE: the token was issued in the future');
    expect(check(T, { exp: T + 100, iat: T + 3 }, { leeway: 3 })).toBe('OK');
    expect(check(T, { exp: T + 100, iat: T + 4 }, { leeway: 3 })).toMatch(/^ISSUED_IN_FUTURE/);
  });

  it('maxAge: needs iat; the age may equal it (plus leeway), not pass it', () => {
    expect(check(T + 30, { exp: T + 100 }, { maxAge: 30 })).toBe('OK');
    expect(check(T + 31, { exp: T + 100 }, { maxAge: 30 })).toBe('TOO_OLD: the token is older than 30 s');
    expect(check(T + 33, { exp: T + 100 }, { maxAge: 30, leeway: 3 })).toBe('OK');
    expect(check(T + 34, { exp: T + 100 }, { maxAge: 30, leeway: 3 })).toMatch(/^TOO_OLD/);
    const noIat = `${b64({ alg: 'HS256' })}.${b64({ exp: T + 100 })}`;
    const signed = `${noIat}.${createHmac('sha256', key.key).update(noIat).digest('base64url')}`;
    expect(refusal(() => at(T, { maxAge: 30 }).verifySync(signed))).toBe('MISSING_CLAIM: the token has no "iat" claim (maxAge)');
    expect(refusal(() => at(T).verifySync(signed))).toBe('OK');
  });

  it('exp, nbf and iat must be finite: 1e999 parses as Infinity, which never expires', () => {
    const raw = (payload: string) => {
      const input = `${b64({ alg: 'HS256' })}.${b64(payload)}`;
      return `${input}.${createHmac('sha256', key.key).update(input).digest('base64url')}`;
    };
    expect(refusal(() => at(T).verifySync(raw('{"exp":1e999}')))).toBe('MALFORMED: "exp" is not a number');
    expect(refusal(() => at(T).verifySync(raw('{"exp":1e9,"nbf":-1e999}')))).toBe('MALFORMED: "nbf" is not a number');
    expect(refusal(() => at(T).verifySync(raw(`{"exp":${T + 1}}`)))).toBe('OK');
  });

  it('numbers only in exp, nbf and iat', () => {
    for (const n of ['exp', 'nbf', 'iat']) {
      expect(check(T, { exp: T + 100, [n]: 'soon' }), n).toBe(`MALFORMED: "${n}" is not a number`);
    }
    for (const n of ['exp', 'nbf']) expect(check(T, { exp: T + 100, [n]: null }), n).toBe(`MALFORMED: "${n}" is not a number`);
  });

  it('required claims: exp by default, or the list given (empty: none)', () => {
    expect(check(T, {})).toBe('MISSING_CLAIM: the token has no "exp" claim');
    expect(check(T, {}, { required: [] })).toBe('OK');
    expect(check(T, { exp: T + 1 }, { required: ['exp', 'sub'] })).toBe('MISSING_CLAIM: the token has no "sub" claim');
    expect(check(T, { exp: T + 1, sub: 'u' }, { required: ['exp', 'sub'] })).toBe('OK');
  });

  it('issuer, audience and subject', () => {
    expect(check(T, { exp: T + 1, iss: 'a' }, { issuer: 'a' })).toBe('OK');
    expect(check(T, { exp: T + 1, iss: 'b' }, { issuer: 'a' })).toBe('ISSUER: unexpected issuer "b"');
    expect(check(T, { exp: T + 1 }, { issuer: 'a' })).toBe('ISSUER: unexpected issuer undefined');
    expect(check(T, { exp: T + 1, iss: 'b' }, { issuer: ['a', 'b'] })).toBe('OK');
    expect(check(T, { exp: T + 1, iss: 'notes' }, { issuer: 'notes-api' })).toBe('ISSUER: unexpected issuer "notes"'); // not a substring test
    expect(check(T, { exp: T + 1, iss: 'a' }, { issuer: ['ab'] })).toMatch(/^ISSUER/);
    expect(check(T, { exp: T + 1, aud: 'api' }, { audience: 'api' })).toBe('OK');
    expect(check(T, { exp: T + 1, aud: ['x', 'api'] }, { audience: ['web', 'api'] })).toBe('OK');
    expect(check(T, { exp: T + 1, aud: 'web' }, { audience: ['api', 'admin'] })).toBe('AUDIENCE: the token is not for api or admin');
    expect(check(T, { exp: T + 1 }, { audience: 'api' })).toBe('AUDIENCE: the token is not for api');
    expect(check(T, { exp: T + 1, aud: 5 }, { audience: 'api' })).toMatch(/^AUDIENCE/);
    expect(check(T, { exp: T + 1, sub: 'u1' }, { subject: 'u1' })).toBe('OK');
    expect(check(T, { exp: T + 1, sub: 'u2' }, { subject: 'u1' })).toBe('SUBJECT: unexpected subject');
  });
});

describe('key sets and revocation', () => {
  it('a token naming a kid is tried only with the keys of that kid; one without, with the unnamed keys', () => {
    const a = importKey(Buffer.alloc(32, 1), ['HS256'], 'a');
    const a2 = importKey(Buffer.alloc(48, 2), ['HS384'], 'a');
    const u = importKey(Buffer.alloc(32, 3), ['HS256']);
    const set = new KeySet([a, a2, u]);
    expect(set.candidates('a', 'HS256')).toEqual([a]);
    expect(set.candidates('a', 'HS384')).toEqual([a2]);
    expect(set.candidates('a', 'HS512')).toEqual([]);
    expect(set.candidates('zzz', 'HS256')).toEqual([u]);
    expect(set.candidates(undefined, 'HS256')).toEqual([u]);
    expect(set.candidates(undefined, 'HS384')).toEqual([]);
  });

  it('fromJwks: signing keys with a known algorithm (their own or the default for their kty) that fit it', () => {
    const jwk = (pair: { publicKey: KeyObject }, extra: object) => ({ ...(pair.publicKey.export({ format: 'jwk' }) as object), ...extra });
    const set = KeySet.fromJwks(
      {
        keys: [
          jwk(p256, { kid: 'ok', alg: 'ES256', use: 'sig' }),
          jwk(p256, { kid: 'enc', alg: 'ES256', use: 'enc' }),
          jwk(p256, { kid: 'noalg' }),
          jwk(rsa, { kid: 'rsa-default' }),
          jwk(p256, { kid: 'unknown', alg: 'ES999' }),
          jwk(p256, { kid: 'misfit', alg: 'ES384' }),
          jwk(ed, { kid: 'nouse', alg: 'EdDSA' }),
        ],
      },
      { RSA: 'RS256' },
    );
    expect(set.candidates('ok', 'ES256')).toHaveLength(1);
    expect(set.candidates('enc', 'ES256')).toEqual([]);
    expect(set.candidates('noalg', 'ES256')).toEqual([]);
    expect(set.candidates('rsa-default', 'RS256')).toHaveLength(1);
    expect(set.candidates('unknown', 'ES256')).toEqual([]);
    expect(set.candidates('misfit', 'ES384')).toEqual([]);
    expect(set.candidates('nouse', 'EdDSA')).toHaveLength(1);
    expect(KeySet.fromJwks({ keys: [jwk(rsa, { kid: 'r' })] }).candidates('r', 'RS256')).toEqual([]);
  });

  it('a key source that offers a key not listed for the alg: that key is not used', () => {
    const secret = Buffer.alloc(48, 8);
    const token = signJwt({ exp: 9e9 }, importKey(secret, ['HS256']));
    const offered = { candidates: () => [importKey(secret, ['HS384'])] };
    expect(refusal(() => new JwtVerifier({ keys: offered }).verifySync(token))).toBe('BAD_SIGNATURE: the signature does not verify');
    const right = { candidates: () => [importKey(secret, ['HS384']), importKey(secret, ['HS256'])] };
    expect(refusal(() => new JwtVerifier({ keys: right }).verifySync(token))).toBe('OK');
  });

  it('verifySync needs local keys; verify() checks the revocation list for a string jti only', async () => {
    const key = importKey(Buffer.alloc(32, 6), ['HS256']);
    expect(() => new JwtVerifier({ keys: { candidates: async () => [key] } }).verifySync(signJwt({ exp: 9e9 }, key))).toThrow('verifySync needs local keys; use verify() for a remote JWKS');
    const revocation = new MemoryRevocationList();
    const v = new JwtVerifier({ keys: [key], revocation });
    await revocation.revoke('j1', 9e9);
    await expect(v.verify(signJwt({ exp: 9e9 }, key, { jwtId: 'j1' }))).rejects.toThrow(new JwtError('REVOKED', 'the token was revoked'));
    await expect(v.verify(signJwt({ exp: 9e9 }, key, { jwtId: 'j2' }))).resolves.toMatchObject({ jti: 'j2' });
    await expect(v.verify(signJwt({ exp: 9e9, jti: 5 as unknown as string }, key))).resolves.toMatchObject({ jti: 5 }); // a number jti is not looked up
    await expect(new JwtVerifier({ keys: [key] }).verify(signJwt({ exp: 9e9 }, key, { jwtId: 'j1' }))).resolves.toMatchObject({ jti: 'j1' });
  });

  it('MemoryRevocationList: an id is revoked until its expiry (inclusive), then forgotten', async () => {
    const list = new MemoryRevocationList();
    const now = Date.now() / 1000;
    await list.revoke('live', now + 60);
    await list.revoke('past', now - 1);
    expect(await list.isRevoked('live')).toBe(true);
    expect(await list.isRevoked('past')).toBe(false);
    expect(await list.isRevoked('never')).toBe(false);
  });
});

describe('RemoteJwks at each boundary (scripted fetch, injected clock)', () => {
  const jwk = (kid: string) => ({ ...(p256.publicKey.export({ format: 'jwk' }) as object), kid, alg: 'ES256' });
  /** What the endpoint answers next: a key set, a status, or a body that is not JSON. */
  let answer: { keys: string[] } | { status: number } | { text: string } = { keys: ['k1'] };
  const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
  function script(): void {
    calls.length = 0;
    vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      if ('keys' in answer) return new Response(JSON.stringify({ keys: answer.keys.map(jwk) }));
      if ('status' in answer) return new Response('{}', { status: answer.status });
      return new Response(answer.text);
    });
  }
  afterEach(() => {
    vi.unstubAllGlobals();
  });
  let clock = 0;
  const remote = (o: ConstructorParameters<typeof RemoteJwks>[1] = {}) => new RemoteJwks('https://idp.test/jwks', { now: () => clock, ...o });
  const kids = async (r: RemoteJwks, kid: string | undefined) => (await r.candidates(kid, 'ES256')).map((k) => k.kid);
  const failure = async (r: RemoteJwks, kid = 'k1') => {
    const e = await r.candidates(kid, 'ES256').catch((x: unknown) => x);
    if (!(e instanceof JwtError)) return 'OK';
    expect(e.status).toBe(401);
    return `${e.code}: ${e.message}`;
  };

  it('asks for JSON with a time limit, once for concurrent first tokens', async () => {
    script();
    answer = { keys: ['k1'] };
    clock = 1_000_000;
    const r = remote();
    const all = await Promise.all([kids(r, 'k1'), kids(r, 'k1'), kids(r, 'k1')]);
    expect(all).toEqual([['k1'], ['k1'], ['k1']]);
    expect(calls).toHaveLength(1);
    expect(r.fetches).toBe(1);
    expect(calls[0]!.url).toBe('https://idp.test/jwks');
    expect(calls[0]!.init?.headers).toEqual({ accept: 'application/json' });
    expect(calls[0]!.init?.signal).toBeInstanceOf(AbortSignal);
  });

  it('the cache lifetime (default 10 minutes): not refetched at the limit, refetched one millisecond past', async () => {
    for (const [o, life] of [[{}, 600_000], [{ cacheMs: 5000 }, 5000]] as const) {
      script();
      answer = { keys: ['k1'] };
      clock = 1_000_000;
      const r = remote(o);
      expect(await kids(r, 'k1')).toEqual(['k1']);
      answer = { keys: ['k2'] };
      clock += life;
      expect(await kids(r, 'k1')).toEqual(['k1']);
      expect(calls).toHaveLength(1);
      clock += 1;
      expect(await kids(r, 'k2')).toEqual(['k2']);
      expect(calls).toHaveLength(2);
    }
  });

  it('an unknown kid refetches once, then not again for the cooldown (default 30 s), to the millisecond', async () => {
    for (const [o, cooldown] of [[{}, 30_000], [{ cooldownMs: 2000 }, 2000]] as const) {
      script();
      answer = { keys: ['k1'] };
      clock = 1_000_000;
      const r = remote(o);
      expect(await kids(r, 'k1')).toEqual(['k1']);
      clock += 10;
      answer = { keys: ['k1', 'k2'] };
      expect(await kids(r, 'k2')).toEqual(['k2']); // rotated in: found by the refetch
      expect(calls).toHaveLength(2);
      answer = { keys: ['k1', 'k2', 'k3'] };
      expect(await kids(r, 'k3')).toEqual([]); // within the cooldown: not asked again
      clock += cooldown - 1;
      expect(await kids(r, 'k3')).toEqual([]);
      expect(calls).toHaveLength(2);
      clock += 1;
      expect(await kids(r, 'k3')).toEqual(['k3']);
      expect(calls).toHaveLength(3);
      // A token without a kid never triggers the refetch; nor does a known kid.
      answer = { keys: ['k9'] };
      clock += cooldown * 2;
      expect(await kids(r, undefined)).toEqual([]);
      expect(await kids(r, 'k1')).toEqual(['k1']);
      expect(calls).toHaveLength(3);
    }
  });

  it('failures back off from the cooldown, doubling, to the cap (defaults 30 s and 5 min); a success resets it', async () => {
    for (const [o, steps] of [
      [{ cooldownMs: 1000, maxBackoffMs: 3000 }, [1000, 2000, 3000, 3000]],
      [{}, [30_000, 60_000, 120_000, 240_000, 300_000, 300_000]],
    ] as const) {
      script();
      answer = { status: 503 };
      clock = 1_000_000;
      const r = remote({ staleMs: 0, ...o });
      expect(await failure(r)).toBe('KEYS_UNAVAILABLE: the signing keys cannot be fetched: JWKS https://idp.test/jwks answered 503');
      for (const wait of steps) {
        const before = calls.length;
        clock += wait - 1;
        expect(await failure(r)).toMatch(/^KEYS_UNAVAILABLE/);
        expect(calls).toHaveLength(before); // not yet
        clock += 1;
        expect(await failure(r)).toMatch(/^KEYS_UNAVAILABLE/);
        expect(calls).toHaveLength(before + 1); // tried, failed, waits longer
      }
      answer = { keys: ['k1'] };
      clock += steps.at(-1)!;
      expect(await failure(r)).toBe('OK');
      // The next failure starts from the cooldown again.
      answer = { status: 500 };
      clock += 600_000 + 1; // past the set's lifetime

      expect(await failure(r)).toMatch(/answered 500/);
      const before = calls.length;
      clock += steps[0]! - 1;
      await failure(r);
      expect(calls).toHaveLength(before);
      clock += 1;
      await failure(r);
      expect(calls).toHaveLength(before + 1);
    }
  });

  it('the last good set serves for the stale allowance past its lifetime (default 1 h), not one millisecond more', async () => {
    for (const [o, life, stale] of [[{ cooldownMs: 1 }, 600_000, 3_600_000], [{ cacheMs: 100, staleMs: 50, cooldownMs: 1 }, 100, 50]] as const) {
      script();
      answer = { keys: ['k1'] };
      clock = 1_000_000;
      const r = remote(o);
      expect(await kids(r, 'k1')).toEqual(['k1']);
      const fetchedAt = clock;
      answer = { status: 502 };
      clock = fetchedAt + life + stale;
      expect(await kids(r, 'k1')).toEqual(['k1']);
      clock = fetchedAt + life + stale + 1;
      expect(await failure(r)).toBe('KEYS_UNAVAILABLE: the signing keys cannot be fetched: JWKS https://idp.test/jwks answered 502');
    }
  });

  it('an unknown-kid refetch that fails keeps the longer backoff, not the cooldown', async () => {
    script();
    answer = { keys: ['k1'] };
    clock = 1_000_000;
    const r = remote({ cooldownMs: 1000, maxBackoffMs: 60_000, cacheMs: 1_000_000 });
    expect(await kids(r, 'k1')).toEqual(['k1']);
    answer = { status: 500 };
    expect(await kids(r, 'k2')).toEqual([]); // refetch failed: backoff 1000, cooldown 1000
    clock += 1000;
    expect(await kids(r, 'k2')).toEqual([]); // refetch failed again: backoff 2000
    expect(calls).toHaveLength(3);
    clock += 1999;
    expect(await kids(r, 'k2')).toEqual([]);
    expect(calls).toHaveLength(3);
    clock += 1;
    answer = { keys: ['k1', 'k2'] };
    expect(await kids(r, 'k2')).toEqual(['k2']);
    expect(calls).toHaveLength(4);
  });

  it('without a failure to name, an expired set says only that the keys cannot be fetched', async () => {
    script();
    answer = { keys: ['k1'] };
    clock = 1_000_000;
    // The unknown-kid cooldown (10 s) outlasts the set's lifetime and stale allowance (20 ms).
    const r = remote({ cacheMs: 10, staleMs: 10, cooldownMs: 10_000 });
    expect(await kids(r, 'k2')).toEqual([]); // first fetch, kid unknown: no second fetch in the same call
    clock += 1;
    expect(await kids(r, 'k2')).toEqual([]); // the unknown-kid refetch: cooldown until +10 s
    expect(calls).toHaveLength(2);
    clock += 21;
    expect(await failure(r)).toBe('KEYS_UNAVAILABLE: the signing keys cannot be fetched');
  });

  it('a body that is not a key set is a failure, and the JWK defaults apply to what is fetched', async () => {
    script();
    clock = 1_000_000;
    answer = { text: 'not json' };
    expect(await failure(remote())).toMatch(/^KEYS_UNAVAILABLE: the signing keys cannot be fetched: .*JSON/);
    answer = { text: '{"keys":{}}' };
    expect(await failure(remote())).toBe('KEYS_UNAVAILABLE: the signing keys cannot be fetched: JWKS https://idp.test/jwks has no "keys" array');
    answer = { text: 'null' };
    expect(await failure(remote())).toMatch(/has no "keys" array$/);
    const rsaJwk = { ...(rsa.publicKey.export({ format: 'jwk' }) as object), kid: 'r1' };
    answer = { text: JSON.stringify({ keys: [rsaJwk] }) };
    expect((await remote().candidates('r1', 'RS256')).length).toBe(0);
    expect((await remote({ defaults: { RSA: 'RS256' } }).candidates('r1', 'RS256')).length).toBe(1);
  });
});
