/**
 * The OIDC client against a real provider: the `oidc-provider` package (the certified Node OpenID
 * provider) on loopback, driven through its development login and consent pages like a browser would.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcClient, OidcError } from '../../../lib/app/auth/index.js';

const REDIRECT = 'http://127.0.0.1:1/callback'; // never contacted: we read the redirect's Location

let server: Server;
let issuer: string;

beforeAll(async () => {
  // The provider needs its own issuer URL before listening: bind first, then configure.
  const { createServer } = await import('node:http');
  server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'notes', client_secret: 'notes-secret-notes-secret', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    issueRefreshToken: async () => true,
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id, email: `${id}@example.com`, email_verified: true }) }),
    cookies: { keys: ['cookie-key-cookie-key'] },
  });
  provider.proxy = false;
  server.on('request', provider.callback());
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** A tiny browser: follows redirects by hand (keeping cookies) until one leaves the provider. */
async function browse(url: string, jar: Map<string, string>, init: RequestInit = {}): Promise<{ res: Response; location?: string }> {
  let next: string | undefined = url;
  let opts: RequestInit = init;
  for (let i = 0; i < 20 && next !== undefined; i++) {
    if (!next.startsWith(issuer)) return { res: new Response(null), location: next };
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res: Response = await fetch(next, { ...opts, redirect: 'manual', headers: { ...(opts.headers as Record<string, string>), cookie } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    const loc = res.headers.get('location');
    if (loc === null) return { res };
    next = new URL(loc, next).href;
    opts = {};
  }
  return { res: new Response(null), location: next };
}

/** Submits the dev interaction form on `page` (login or consent). */
async function submit(page: Response, jar: Map<string, string>, fields: Record<string, string>) {
  const html = await page.text();
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (action === undefined) throw new Error(`no form in: ${html.slice(0, 300)}`);
  const hidden = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  return browse(new URL(action, issuer).href, jar, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...hidden, ...fields }).toString() });
}

async function login(client: OidcClient, scope = 'openid email offline_access') {
  const req = client.authorizationRequest({ scope, prompt: 'consent' });
  const jar = new Map<string, string>();
  const loginPage = await browse(req.url, jar);
  const consentPage = await submit(loginPage.res, jar, { login: 'ann', password: 'any' });
  const done = consentPage.location !== undefined ? consentPage : await submit(consentPage.res, jar, {});
  return { req, callback: new URL(done.location!) };
}

describe('OIDC client against oidc-provider', () => {
  it('discovery, authorization code + PKCE, ID token validation, userinfo, refresh', async () => {
    const client = await OidcClient.discover(issuer, { clientId: 'notes', clientSecret: 'notes-secret-notes-secret', redirectUri: REDIRECT });
    expect(client.metadata.code_challenge_methods_supported).toContain('S256');
    const { req, callback } = await login(client);
    expect(new URL(req.url).searchParams.get('code_challenge_method')).toBe('S256');
    expect(callback.searchParams.get('state')).toBe(req.state);
    const tokens = await client.callback(callback, req);
    expect(tokens.claims).toMatchObject({ iss: issuer, aud: 'notes', sub: 'ann', nonce: req.nonce });
    expect(await client.userinfo(tokens.access_token)).toMatchObject({ sub: 'ann', email: 'ann@example.com' });
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await client.refresh(tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    if (refreshed.id_token !== undefined) expect(refreshed.claims?.sub).toBe('ann');
  });

  it('refuses a wrong state, a wrong nonce, a replayed code and a wrong PKCE verifier', async () => {
    const client = await OidcClient.discover(issuer, { clientId: 'notes', clientSecret: 'notes-secret-notes-secret', redirectUri: REDIRECT });
    const a = await login(client);
    await expect(client.callback(a.callback, { ...a.req, state: 'other' })).rejects.toMatchObject({ code: 'state_mismatch' });
    await expect(client.callback(a.callback, { ...a.req, nonce: 'other' })).rejects.toMatchObject({ code: 'nonce_mismatch' });
    // The code was spent by the nonce attempt above (the exchange happened): a replay is refused.
    await expect(client.callback(a.callback, a.req)).rejects.toBeInstanceOf(OidcError);
    const b = await login(client);
    await expect(client.callback(b.callback, { ...b.req, codeVerifier: 'x'.repeat(43) })).rejects.toMatchObject({ code: 'invalid_grant' });
    const c = await login(client);
    const forged = new URL(c.callback);
    forged.searchParams.set('iss', 'https://evil.example');
    await expect(client.callback(forged, c.req)).rejects.toMatchObject({ code: 'issuer_mismatch' });
    await expect(OidcClient.discover(`${issuer}/`.replace('127.0.0.1', 'localhost'), { clientId: 'x', redirectUri: REDIRECT })).rejects.toMatchObject({ code: 'issuer_mismatch' });
  });
});
