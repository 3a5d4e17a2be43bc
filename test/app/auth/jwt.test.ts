import { createPublicKey, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import { importKey, JwtError, JwtVerifier, KeySet, MemoryRevocationList, RemoteJwks, signJwt, verifyJwsSignature, type JwtAlgorithm } from '../../../lib/app/auth/index.js';
import { createApp } from '../../../lib/app/index.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as JwtError).code;
  }
  return 'OK';
};

function pairFor(alg: JwtAlgorithm) {
  if (alg.startsWith('RS') || alg === 'PS256') return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'ES384') return generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return generateKeyPairSync('ed25519');
}

describe('JWT', () => {
  it('verifies RFC 7515 §A.1 / RFC 7519 §3.1 (HS256) and RFC 8037 §A.4 (Ed25519) examples', () => {
    const key = importKey({ kty: 'oct', k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow' }, ['HS256']);
    const token = 'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const v = new JwtVerifier({ keys: [key], issuer: 'joe', now: () => 1300819370 });
    expect(v.verifySync(token)).toEqual({ iss: 'joe', exp: 1300819380, 'http://example.com/is_root': true });
    expect(code(() => new JwtVerifier({ keys: [key], now: () => 1300819380 }).verifySync(token))).toBe('EXPIRED');
    const ed = importKey({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }, ['EdDSA']);
    const jws = 'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg';
    expect(verifyJwsSignature(jws, ed)).toBe(true);
    expect(verifyJwsSignature(jws.replace('hgyY0il', 'hgyY0iL'), ed)).toBe(false);
  });

  it('interoperates with jose both ways for every algorithm', async () => {
    const algs: JwtAlgorithm[] = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];
    for (const alg of algs) {
      const hs = alg.startsWith('HS');
      const secret = Buffer.alloc(64, 7);
      const pair = hs ? null : pairFor(alg);
      const signKey = hs ? importKey(secret, [alg]) : importKey(pair!.privateKey, [alg], 'k1');
      const verifyKey = hs ? signKey : importKey(pair!.publicKey, [alg], 'k1');
      // ours → jose
      const ours = signJwt({ scope: 'a b' }, signKey, { subject: 'u1', expiresIn: 60, audience: 'api' });
      const { payload } = await jose.jwtVerify(ours, hs ? secret : pair!.publicKey, { audience: 'api', algorithms: [alg] });
      expect(payload, alg).toMatchObject({ sub: 'u1', scope: 'a b' });
      // jose → ours
      const theirs = await new jose.SignJWT({ role: 'x' }).setProtectedHeader({ alg, kid: 'k1' }).setExpirationTime('1m').setIssuer('them').sign(hs ? secret : pair!.privateKey);
      expect(new JwtVerifier({ keys: [verifyKey], issuer: 'them' }).verifySync(theirs), alg).toMatchObject({ role: 'x', iss: 'them' });
    }
  });

  it('refuses every known attack: none, HS/RS confusion, wrong key type, unknown kid, header keys, crit, tampering', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const rsKey = importKey(pem, ['RS256'], 'rs');
    const v = new JwtVerifier({ keys: [rsKey] });
    const good = signJwt({}, importKey(rsa.privateKey, ['RS256'], 'rs'), { expiresIn: 60 });
    expect(code(() => v.verifySync(good))).toBe('OK');
    const [h, p] = good.split('.');
    const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    // alg: none, with or without a signature.
    expect(code(() => v.verifySync(`${b({ alg: 'none' })}.${p}.`))).toBe('ALG_NOT_ALLOWED');
    expect(code(() => v.verifySync(`${b({ alg: 'none' })}.${p}.AAAA`))).toBe('ALG_NOT_ALLOWED');
    // HS256 "signed" with the RSA public key PEM as the HMAC secret (the attacker's own key object:
    // importKey refuses a PEM as an HMAC secret).
    expect(() => importKey(Buffer.from(pem), ['HS256'])).toThrow(/a PEM key is not an HMAC secret/);
    expect(() => importKey(pem, ['HS256', 'HS384'])).toThrow(/a PEM key is not an HMAC secret/);
    const pemAsSecret = { algorithms: ['HS256'] as const, key: createSecretKey(Buffer.from(pem)) };
    const forged = signJwt({ exp: 9e9 }, pemAsSecret, { header: { kid: 'rs' } });
    expect(code(() => v.verifySync(forged))).toBe('UNKNOWN_KEY');
    expect(code(() => new JwtVerifier({ keys: [importKey(pem, ['RS256'])] }).verifySync(forged))).toBe('UNKNOWN_KEY');
    const noKid = signJwt({ exp: 9e9 }, pemAsSecret);
    expect(code(() => new JwtVerifier({ keys: [importKey(pem, ['RS256'])] }).verifySync(noKid))).toBe('ALG_NOT_ALLOWED');
    expect(() => importKey(rsa.publicKey, ['HS256'])).toThrow(/cannot be used with HS256/);
    expect(() => importKey(rsa.publicKey, ['ES256'])).toThrow(/cannot be used with ES256/);
    expect(() => importKey('short', ['HS256'])).toThrow(/at least 32 bytes/);
    // A token bringing its own key (jwk / jku) is still checked against ours only.
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const withJwk = signJwt({ exp: 9e9 }, importKey(attacker.privateKey, ['RS256']), { header: { kid: 'rs', jwk: createPublicKey(attacker.privateKey).export({ format: 'jwk' }), jku: 'https://evil.example/jwks' } });
    expect(code(() => v.verifySync(withJwk))).toBe('BAD_SIGNATURE');
    // An unknown critical extension.
    const crit = signJwt({ exp: 9e9 }, importKey(rsa.privateKey, ['RS256'], 'rs'), { header: { crit: ['exp-ext'], 'exp-ext': 1 } });
    expect(code(() => v.verifySync(crit))).toBe('CRIT');
    expect(code(() => new JwtVerifier({ keys: [rsKey], crit: ['exp-ext'] }).verifySync(crit))).toBe('OK');
    // Tampered payload, truncated signature, ECDSA signature in DER instead of the JOSE encoding.
    expect(code(() => v.verifySync(`${h}.${b({ exp: 9e9, admin: true })}.${good.split('.')[2]}`))).toBe('BAD_SIGNATURE');
    expect(code(() => v.verifySync(good.slice(0, -10)))).toBe('BAD_SIGNATURE');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const es = signJwt({ exp: 9e9 }, importKey(ec.privateKey, ['ES256']));
    const { createSign } = await import('node:crypto');
    const [eh, ep] = es.split('.');
    const der = createSign('sha256').update(`${eh}.${ep}`).sign(ec.privateKey).toString('base64url');
    expect(code(() => new JwtVerifier({ keys: [importKey(ec.publicKey, ['ES256'])] }).verifySync(`${eh}.${ep}.${der}`))).toBe('BAD_SIGNATURE');
    expect(code(() => v.verifySync('a.b'))).toBe('MALFORMED');
    expect(code(() => v.verifySync(`${b({ alg: 'RS256', kid: 'rs' })}.!!!.${good.split('.')[2]}`))).toBe('BAD_SIGNATURE');
  });

  it('checks claims with leeway and says which failed', async () => {
    const key = importKey(Buffer.alloc(32, 1), ['HS256']);
    const now = 1_800_000_000;
    const t = (claims: Record<string, unknown>) => signJwt(claims, key, { now });
    const at = (n: number, o: object = {}) => new JwtVerifier({ keys: [key], now: () => n, ...o });
    expect(code(() => at(now).verifySync(t({ exp: now + 10 })))).toBe('OK');
    expect(code(() => at(now + 10).verifySync(t({ exp: now + 10 })))).toBe('EXPIRED');
    expect(code(() => at(now + 10, { leeway: 5 }).verifySync(t({ exp: now + 10 })))).toBe('OK');
    expect(code(() => at(now).verifySync(t({ exp: now + 100, nbf: now + 50 })))).toBe('NOT_YET_VALID');
    expect(code(() => at(now).verifySync(t({ exp: now + 100, iat: now + 60 })))).toBe('ISSUED_IN_FUTURE');
    expect(code(() => at(now + 50, { maxAge: 30 }).verifySync(t({ exp: now + 100 })))).toBe('TOO_OLD');
    expect(code(() => at(now).verifySync(t({})))).toBe('MISSING_CLAIM');
    expect(code(() => at(now).verifySync(t({ exp: 'soon' })))).toBe('MALFORMED');
    expect(code(() => at(now, { issuer: ['a', 'b'] }).verifySync(t({ exp: now + 1, iss: 'c' })))).toBe('ISSUER');
    expect(code(() => at(now, { audience: 'api' }).verifySync(t({ exp: now + 1, aud: ['web', 'api'] })))).toBe('OK');
    expect(code(() => at(now, { audience: 'api' }).verifySync(t({ exp: now + 1, aud: 'web' })))).toBe('AUDIENCE');
    const revocation = new MemoryRevocationList();
    const revoked = signJwt({ exp: 9e9 }, key, { jwtId: 'j1' });
    await revocation.revoke('j1', 9e9);
    await expect(new JwtVerifier({ keys: [key], revocation }).verify(revoked)).rejects.toMatchObject({ code: 'REVOKED' });
  });

  it('selects keys by kid with per-key algorithms, and follows a rotating remote JWKS', async () => {
    const a = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const bPair = generateKeyPairSync('ed25519');
    const jwk = (k: typeof a.publicKey, kid: string, alg: string) => ({ ...(k.export({ format: 'jwk' }) as object), kid, alg, use: 'sig' });
    let jwks = { keys: [jwk(a.publicKey, 'a', 'ES256')] };
    let fetches = 0;
    const app = createApp();
    app.get('/jwks', () => {
      fetches++;
      return jwks;
    });
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const remote = new RemoteJwks(`http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`, { cooldownMs: 0 });
      const v = new JwtVerifier({ keys: remote });
      await expect(v.verify(signJwt({ exp: 9e9 }, importKey(a.privateKey, ['ES256'], 'a')))).resolves.toMatchObject({ exp: 9e9 });
      // The provider rotates to key b: a token with kid b triggers one refetch.
      jwks = { keys: [jwk(a.publicKey, 'a', 'ES256'), jwk(bPair.publicKey, 'b', 'EdDSA')] };
      await expect(v.verify(signJwt({ exp: 9e9 }, importKey(bPair.privateKey, ['EdDSA'], 'b')))).resolves.toBeTruthy();
      expect(fetches).toBe(2);
      // kid a with EdDSA: that key is only for ES256.
      await expect(v.verify(signJwt({ exp: 9e9 }, importKey(bPair.privateKey, ['EdDSA'], 'a')))).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
      const set = KeySet.fromJwks(jwks);
      expect(set.candidates('b', 'EdDSA')).toHaveLength(1);
      expect(set.candidates('b', 'ES256')).toHaveLength(0);
    } finally {
      await app.close(100);
    }
  });
});

describe('JWT hardening', () => {
  const secret = importKey(randomBytes(32), ['HS256']);
  const verifier = new JwtVerifier({ keys: [secret] });
  const codeOf = (f: () => unknown): string => {
    try {
      f();
      return 'OK';
    } catch (e) {
      return e instanceof JwtError ? e.code : `not a JwtError: ${(e as Error).message}`;
    }
  };

  it('refused megabyte tokens do not stay in memory (the header cache keeps no slice of a token)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const big = 'x'.repeat(1024 * 1024);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 64; i++) {
      // A distinct header each time (a new cache entry), a 1 MiB payload, a wrong signature.
      const token = `${b64({ alg: 'HS256', typ: 'JWT', kid: `k${i}` })}.${b64({ pad: big + i })}.${'A'.repeat(43)}`;
      expect(codeOf(() => verifier.verifySync(token))).not.toBe('OK');
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(grown).toBeLessThan(8 * 1024 * 1024); // 64 MiB if each cached header pinned its token
  });

  it('keys sharing a kid with different key types are all kept; the alg picks (RFC 7517 §4.5)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = (k: ReturnType<typeof generateKeyPairSync>['publicKey'], alg: string) => ({ ...k.export({ format: 'jwk' }), kid: '2026-12', alg, use: 'sig' });
    const set = KeySet.fromJwks({ keys: [jwk(rsa.publicKey, 'RS256'), jwk(ec.publicKey, 'ES256')] });
    const v = new JwtVerifier({ keys: set });
    const rs = signJwt({}, importKey(rsa.privateKey, ['RS256'], '2026-12'), { expiresIn: 60 });
    const es = signJwt({}, importKey(ec.privateKey, ['ES256'], '2026-12'), { expiresIn: 60 });
    expect(codeOf(() => v.verifySync(rs))).toBe('OK');
    expect(codeOf(() => v.verifySync(es))).toBe('OK');
  });

  it('an HMAC secret shorter than its hash is refused however it is given; a PEM is not a secret', () => {
    expect(() => importKey(createSecretKey(randomBytes(16)), ['HS256'])).toThrow(/at least 32 bytes/);
    expect(() => importKey(Buffer.alloc(16, 1), ['HS256'])).toThrow(/at least 32 bytes/);
    expect(() => importKey({ kty: 'oct', k: randomBytes(40).toString('base64url') }, ['HS512'])).toThrow(/at least 64 bytes/);
    expect(() => importKey(createSecretKey(randomBytes(48)), ['HS384'])).not.toThrow();
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(() => importKey(pem, ['HS256'])).toThrow(/PEM key is not an HMAC secret/);
  });

  it('signatures with a non-canonical last base64url character are refused', () => {
    const token = signJwt({}, secret, { expiresIn: 60 });
    expect(codeOf(() => verifier.verifySync(token))).toBe('OK');
    const sig = token.slice(token.lastIndexOf('.') + 1); // 43 chars: the last one carries 2 unused bits
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig[sig.length - 1]!);
    let same = 0;
    for (let flip = 1; flip < 4; flip++) {
      const other = `${token.slice(0, -1)}${alphabet[last ^ flip]}`;
      // Decodes to the same bytes as the real signature, yet is another token string.
      expect(Buffer.from(other.slice(other.lastIndexOf('.') + 1), 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
      expect(codeOf(() => verifier.verifySync(other))).toBe('MALFORMED');
      same++;
    }
    expect(same).toBe(3);
    expect(codeOf(() => verifier.verifySync(`${token}AA`))).toBe('MALFORMED'); // 45 chars: length ≡ 1 (mod 4)
  });

  describe('a JWKS endpoint that fails', () => {
    let server: Server;
    let status = 200;
    let hits = 0;
    let jwks: unknown;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = importKey(ec.privateKey, ['ES256'], 'k1');
    const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    beforeAllServer();
    function beforeAllServer(): void {
      server = createServer((_req, res) => {
        hits++;
        res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? JSON.stringify(jwks) : '{"error":"down"}');
      });
    }

    it('a new RemoteJwks fetches the set once for its first token, even when the kid is unknown (#27)', async () => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        status = 200;
        jwks = { keys: [{ ...createPublicKey(ec.privateKey).export({ format: 'jwk' }), kid: 'k1', alg: 'ES256' }] };
        hits = 0;
        const fresh = new RemoteJwks(url(), { cooldownMs: 1000, now: () => 5_000_000 });
        expect(await fresh.candidates('other', 'ES256')).toEqual([]);
        expect(hits).toBe(1);
      } finally {
        hits = 0;
        await new Promise((r) => server.close(r));
      }
    });

    it('answers 401 with a JwtError, backs off instead of one fetch per token, and keeps serving the last good keys', async () => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        jwks = { keys: [{ ...createPublicKey(ec.privateKey).export({ format: 'jwk' }), kid: 'k1', alg: 'ES256' }] };
        let clock = 1_000_000;
        // Never fetched successfully, endpoint down: every verify fails with a JwtError, one fetch only.
        status = 500;
        const cold = new RemoteJwks(url(), { cooldownMs: 1000, now: () => clock });
        const v = new JwtVerifier({ keys: cold });
        const token = signJwt({}, key, { expiresIn: 600, now: Math.floor(Date.now() / 1000) });
        for (let i = 0; i < 20; i++) {
          const err = await v.verify(token).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(JwtError);
          expect((err as JwtError).code).toBe('KEYS_UNAVAILABLE');
          expect((err as JwtError).status).toBe(401);
          expect((err as JwtError).message).toMatch(/answered 500/);
        }
        expect(hits).toBe(1);
        // Back up after the backoff: the next verify fetches and succeeds.
        status = 200;
        clock += 1001;
        await expect(v.verify(token)).resolves.toMatchObject({});
        expect(hits).toBe(2);
        // Down again past the cache lifetime: the last good set still serves (stale), fetches back off.
        status = 500;
        clock += 11 * 60_000;
        for (let i = 0; i < 10; i++) await expect(v.verify(token)).resolves.toMatchObject({});
        expect(hits).toBe(3);
        // Beyond the stale allowance, no keys: a JwtError again.
        clock += 2 * 60 * 60_000;
        const late = await v.verify(token).catch((e: unknown) => e);
        expect((late as JwtError).code).toBe('KEYS_UNAVAILABLE');
      } finally {
        await new Promise((r) => server.close(r));
      }
    });
  });
});
