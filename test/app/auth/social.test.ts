/**
 * Sign-in with other sites (#33 point 1): an OIDC provider by discovery (oidc-provider, shaped like Google's:
 * `email_verified`), GitHub's plain OAuth 2.0 against a server shaped like GitHub's (token endpoint, /user,
 * /user/emails), account linking by verified address only, refresh tokens sealed at rest. Refused: a replayed
 * or foreign state, a wrong PKCE verifier, a mix-up `iss`, an unverified address reaching for an account.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { github, oidcSocial, openSecret, sealSecret, signInWithIdentity, type IdentityDirectory, type SocialIdentity } from '../../../lib/app/auth/index.js';
import { HttpError } from '../../../lib/app/index.js';
import { REDIRECT, signInAt, startProvider, type TestProvider } from './oidc-provider.js';

let op: TestProvider;
beforeAll(async () => {
  op = await startProvider();
});
afterAll(() => op.close());

describe('an OIDC provider by discovery', () => {
  it('gives the identity with its verified address, and refuses a foreign state and a mix-up iss', async () => {
    const p = await oidcSocial('google', op.issuer, { clientId: 'notes', clientSecret: 'notes-secret-notes-secret', redirectUri: REDIRECT, scope: 'openid email profile offline_access' });
    const a = p.start();
    const id = await p.finish(await signInAt(op.issuer, `${a.url}&prompt=consent`, 'ann'), a.saved);
    expect(id).toMatchObject({ provider: 'google', subject: 'ann', email: 'ann@example.com', emailVerified: true, name: 'ann' });
    const b = p.start();
    const unverified = await p.finish(await signInAt(op.issuer, `${b.url}&prompt=consent`, 'unverified-bob'), b.saved);
    expect([unverified.email, unverified.emailVerified]).toEqual(['unverified-bob@example.com', false]);
    const c = p.start();
    const cb = await signInAt(op.issuer, `${c.url}&prompt=consent`, 'ann');
    await expect(p.finish(cb, p.start().saved)).rejects.toMatchObject({ code: 'state_mismatch' });
    const d = p.start();
    const forged = await signInAt(op.issuer, `${d.url}&prompt=consent`, 'ann');
    forged.searchParams.set('iss', 'https://evil.example'); // RFC 9207: a response from another issuer
    await expect(p.finish(forged, d.saved)).rejects.toMatchObject({ code: 'issuer_mismatch' });
  });
});

/** A server shaped like GitHub's OAuth and API endpoints; `verified` decides the primary address's flag. */
async function fakeGithub(verified: boolean) {
  const codes = new Map<string, string>(); // code → code_challenge
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/login/oauth/authorize') {
      const code = `code-${codes.size}`;
      codes.set(code, url.searchParams.get('code_challenge')!);
      res.writeHead(302, { location: `${url.searchParams.get('redirect_uri')}?code=${code}&state=${url.searchParams.get('state')}` });
      return res.end();
    }
    if (url.pathname === '/login/oauth/access_token') {
      let body = '';
      req.on('data', (d: Buffer) => (body += d));
      req.on('end', () => {
        const f = new URLSearchParams(body);
        const challenge = codes.get(f.get('code') ?? '');
        codes.delete(f.get('code') ?? '');
        if (f.get('client_secret') !== 'gh-secret' || challenge === undefined) return json(200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
        if (createHash('sha256').update(f.get('code_verifier') ?? '').digest('base64url') !== challenge) return json(200, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
        json(200, { access_token: 'gho_token', token_type: 'bearer', scope: 'read:user,user:email' });
      });
      return;
    }
    if (req.headers.authorization !== 'Bearer gho_token') return json(401, { message: 'Bad credentials' });
    if (url.pathname === '/user') return json(200, { id: 583231, login: 'octocat', name: 'The Octocat' });
    if (url.pathname === '/user/emails') return json(200, [{ email: 'old@example.com', primary: false, verified: true }, { email: 'octo@example.com', primary: true, verified }]);
    json(404, {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = github({ clientId: 'gh-client', clientSecret: 'gh-secret', redirectUri: REDIRECT, endpoints: { authorize: `${base}/login/oauth/authorize`, token: `${base}/login/oauth/access_token`, api: base } });
  /** The browser's trip: to the authorize URL, back with its redirect. */
  const visit = async (url: string) => new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
  return { provider, visit, close: () => new Promise((r) => server.close(r)) };
}

describe('GitHub (plain OAuth 2.0)', () => {
  it('gives the user id and the primary address with its verified flag', async () => {
    for (const verified of [true, false]) {
      const gh = await fakeGithub(verified);
      const { url, saved } = gh.provider.start();
      expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');
      const id = await gh.provider.finish(await gh.visit(url), saved);
      expect(id).toMatchObject({ provider: 'github', subject: '583231', email: 'octo@example.com', emailVerified: verified, name: 'The Octocat' });
      await gh.close();
    }
  });

  it('refuses a wrong state, a wrong PKCE verifier and a code used twice', async () => {
    const gh = await fakeGithub(true);
    const a = gh.provider.start();
    const back = await gh.visit(a.url);
    await expect(gh.provider.finish(back, { ...a.saved, state: 'other' })).rejects.toMatchObject({ code: 'state_mismatch' });
    await expect(gh.provider.finish(back, { ...a.saved, codeVerifier: 'x'.repeat(43) })).rejects.toMatchObject({ code: 'invalid_grant' });
    await expect(gh.provider.finish(back, a.saved)).rejects.toMatchObject({ code: 'bad_verification_code' }); // spent above
    await gh.close();
  });
});

describe('linking', () => {
  function directory() {
    const users = new Map<string, { email: string; links: string[] }>([['u1', { email: 'ann@example.com', links: [] }]]);
    const dir: IdentityDirectory = {
      findByIdentity: (p, s) => [...users].find(([, u]) => u.links.includes(`${p}:${s}`))?.[0] ?? null,
      findByEmail: (e) => [...users].find(([, u]) => u.email === e)?.[0] ?? null,
      link: (id, i) => void users.get(id)!.links.push(`${i.provider}:${i.subject}`),
      create: (i) => {
        const id = `u${users.size + 1}`;
        users.set(id, { email: i.email ?? '', links: [`${i.provider}:${i.subject}`] });
        return id;
      },
    };
    return { users, dir };
  }
  const identity = (o: Partial<SocialIdentity>): SocialIdentity => ({ provider: 'github', subject: '1', email: 'ann@example.com', emailVerified: true, name: null, accessToken: 't', refreshToken: null, ...o });

  it('links by a verified address, then finds by the link; an unverified address never takes an account', async () => {
    const { dir, users } = directory();
    expect(await signInWithIdentity(identity({ email: 'ANN@example.com' }), dir)).toEqual({ userId: 'u1', created: false, linked: true });
    expect(await signInWithIdentity(identity({ email: 'changed@example.com' }), dir)).toEqual({ userId: 'u1', created: false, linked: false });
    const refused = await signInWithIdentity(identity({ provider: 'gitlab', subject: '9', emailVerified: false }), dir).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HttpError);
    expect((refused as HttpError).status).toBe(409);
    expect(users.get('u1')!.links).toEqual(['github:1']);
    expect(await signInWithIdentity(identity({ provider: 'gitlab', subject: '9', email: 'new@example.com', emailVerified: false }), dir)).toEqual({ userId: 'u2', created: true, linked: false });
  });
});

describe('sealed secrets', () => {
  it('a refresh token sealed opens with its key only, and not once altered', () => {
    const key = Buffer.alloc(32, 7);
    const sealed = sealSecret('1//refresh-token', key);
    expect(sealed).not.toContain('refresh');
    expect(openSecret(sealed, key)).toBe('1//refresh-token');
    expect(() => openSecret(sealed, Buffer.alloc(32, 8))).toThrow();
    const b = Buffer.from(sealed.slice(3), 'base64url');
    b[14]! ^= 1;
    expect(() => openSecret(`v1.${b.toString('base64url')}`, key)).toThrow();
    expect(() => sealSecret('x', Buffer.alloc(16))).toThrow(RangeError);
  });
});
