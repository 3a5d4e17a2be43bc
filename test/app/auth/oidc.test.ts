/**
 * The OIDC client against a real provider: the `oidc-provider` package (the certified Node OpenID
 * provider) on loopback, driven through its development login and consent pages like a browser would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcClient, OidcError } from '../../../lib/app/auth/index.js';
import { REDIRECT, signInAt, startProvider, type TestProvider } from './oidc-provider.js';

let provider: TestProvider;
let issuer: string;

beforeAll(async () => {
  provider = await startProvider();
  issuer = provider.issuer;
});
afterAll(() => provider.close());

async function login(client: OidcClient, scope = 'openid email offline_access') {
  const req = client.authorizationRequest({ scope, prompt: 'consent' });
  return { req, callback: await signInAt(issuer, req.url) };
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
