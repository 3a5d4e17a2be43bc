/**
 * The Microsoft and Apple presets (#33 point 1) against oidc-provider shaped like each. Microsoft: the
 * multi-tenant discovery document names `{tenantid}`, each token's issuer is its tenant's and must agree with
 * its `tid`; `allowedTenants`; one tenant by id, by domain, and `consumers`; an address verified only for a
 * personal account or with `xms_edov` (Entra lets an admin set any address: the nOAuth takeover). Apple: the
 * client secret is an ES256 JWT the provider checks as Apple does (team, key id, audience, lifetime), sent in
 * the form; the answer is posted (`form_post`) with the name beside it the first time; `email_verified` as the
 * string "true".
 */
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apple, microsoft, MICROSOFT_CONSUMER_TENANT, signInWithIdentity, type IdentityDirectory, type SocialProvider } from '../../../lib/app/auth/index.js';
import { REDIRECT, signInAt, signInPosted, startProvider, type TestProvider } from './oidc-provider.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const client = { clientId: 'notes', clientSecret: 'notes-secret-notes-secret', redirectUri: REDIRECT };

/** Accounts by login name: `<who>@<tenant>` (tenant A unless named), `edov-…` with a verified domain owner. */
function entraClaims(defaultTid: string) {
  return (id: string) => {
    const [who, tenant] = id.split('@') as [string, string | undefined];
    const tid = tenant === 'B' ? B : tenant === 'A' ? A : defaultTid;
    return { tid, email: `${who}@contoso.example`, ...(who.startsWith('edov') ? { xms_edov: true } : {}), name: who };
  };
}
const entraScopes = { openid: ['sub', 'tid'], email: ['email', 'xms_edov'], profile: ['name'] };

describe('microsoft()', () => {
  let tenantA: TestProvider;
  let consumers: TestProvider;
  const docs = new Map<string, unknown>(); // discovery documents served beside tenant A's provider
  beforeAll(async () => {
    tenantA = await startProvider({ path: `/${A}/v2.0`, claims: entraClaims(A), scopes: entraScopes, claimsInIdToken: true, extra: (p) => docs.get(p) });
    const own = (await (await fetch(`${tenantA.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    // `common` and `organizations` publish the template issuer; a domain names its tenant's id.
    for (const t of ['common', 'organizations']) docs.set(`/${t}/v2.0/.well-known/openid-configuration`, { ...own, issuer: `${tenantA.origin}/{tenantid}/v2.0` });
    docs.set('/contoso.example/v2.0/.well-known/openid-configuration', own);
    docs.set(`/${B}/v2.0/.well-known/openid-configuration`, own); // a discovery answer for the wrong tenant
    consumers = await startProvider({ path: `/${MICROSOFT_CONSUMER_TENANT}/v2.0`, claims: (id) => ({ tid: MICROSOFT_CONSUMER_TENANT, email: `${id}@outlook.example`, name: id }), scopes: entraScopes, claimsInIdToken: true, extra: (p) => docs.get(p) });
    docs.set('/consumers/v2.0/.well-known/openid-configuration', await (await fetch(`${consumers.issuer}/.well-known/openid-configuration`)).json());
  });
  afterAll(async () => {
    await tenantA.close();
    await consumers.close();
  });

  const signIn = async (p: SocialProvider, user: string, issuer = tenantA.issuer) => {
    const a = p.start();
    return p.finish(await signInAt(issuer, `${a.url}&prompt=consent`, user), a.saved);
  };

  it('common: a work account signs in; its address is verified only with xms_edov', async () => {
    const p = await microsoft({ ...client, authority: tenantA.origin });
    expect(await signIn(p, 'ann')).toMatchObject({ provider: 'microsoft', subject: 'ann', email: 'ann@contoso.example', emailVerified: false, name: 'ann' });
    expect(await signIn(p, 'edov-bob')).toMatchObject({ email: 'edov-bob@contoso.example', emailVerified: true });
  });

  it("refuses a token whose issuer is not its own tenant's (tid), and tenants not allowed", async () => {
    const p = await microsoft({ ...client, authority: tenantA.origin });
    await expect(signIn(p, 'mallory@B')).rejects.toMatchObject({ code: 'id_token_iss', status: 401 });
    const onlyB = await microsoft({ ...client, authority: tenantA.origin, tenant: 'organizations', allowedTenants: [B] });
    await expect(signIn(onlyB, 'ann')).rejects.toMatchObject({ code: 'issuer_mismatch' }); // the callback's iss (RFC 9207)
    const a = onlyB.start();
    const cb = await signInAt(tenantA.issuer, `${a.url}&prompt=consent`, 'ann');
    cb.searchParams.delete('iss'); // Entra sends none: the ID token's issuer decides
    await expect(onlyB.finish(cb, a.saved)).rejects.toMatchObject({ code: 'id_token_iss' });
    const onlyA = await microsoft({ ...client, authority: tenantA.origin, tenant: 'organizations', allowedTenants: [A.toUpperCase()] });
    expect((await signIn(onlyA, 'ann')).subject).toBe('ann');
  });

  it('one tenant, by id or by domain, is pinned to the id its discovery document names', async () => {
    const byId = await microsoft({ ...client, authority: tenantA.origin, tenant: A });
    expect((await signIn(byId, 'ann')).subject).toBe('ann');
    const byDomain = await microsoft({ ...client, authority: tenantA.origin, tenant: 'contoso.example' });
    expect((await signIn(byDomain, 'ann')).subject).toBe('ann');
    await expect(signIn(byDomain, 'mallory@B')).rejects.toMatchObject({ code: 'id_token_iss' });
    // Pinned: a token of another tenant — its own issuer and tid agreeing — is refused. (Entra signs every
    // tenant's tokens with the same keys, so the signature alone does not tell.)
    const tenantB = await startProvider({ path: `/${B}/v2.0`, claims: entraClaims(B), scopes: entraScopes, claimsInIdToken: true, extra: (path) => (path === '/fabrikam.example/v2.0/.well-known/openid-configuration' ? fabrikam : undefined) });
    const fabrikam = { ...((await (await fetch(`${tenantB.issuer}/.well-known/openid-configuration`)).json()) as object), issuer: `${tenantB.origin}/${A}/v2.0` };
    try {
      const pinnedToA = await microsoft({ ...client, authority: tenantB.origin, tenant: 'fabrikam.example' });
      const a = pinnedToA.start();
      const cb = await signInAt(tenantB.issuer, `${a.url}&prompt=consent`, 'bob');
      await expect(pinnedToA.finish(cb, a.saved)).rejects.toMatchObject({ code: 'issuer_mismatch' });
      cb.searchParams.delete('iss');
      await expect(pinnedToA.finish(cb, a.saved)).rejects.toMatchObject({ code: 'id_token_iss' });
    } finally {
      await tenantB.close();
    }
    // Asked for tenant B, discovery answered with tenant A's issuer: refused before any sign-in.
    await expect(microsoft({ ...client, authority: tenantA.origin, tenant: B })).rejects.toMatchObject({ code: 'issuer_mismatch' });
  });

  it('an authority that cannot be reached is named, with the cause', async () => {
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close(); // nothing listens there now
    await expect(microsoft({ ...client, authority: `http://127.0.0.1:${port}` })).rejects.toMatchObject({ code: 'discovery_failed', message: `could not fetch http://127.0.0.1:${port}/common/v2.0/.well-known/openid-configuration: ECONNREFUSED` });
  });

  it('consumers: personal accounts, whose addresses Microsoft verifies', async () => {
    const p = await microsoft({ ...client, authority: consumers.origin, tenant: 'consumers' });
    expect(await signIn(p, 'carol', consumers.issuer)).toMatchObject({ email: 'carol@outlook.example', emailVerified: true });
    await expect(microsoft({ ...client, authority: tenantA.origin, tenant: 'consumers' })).rejects.toMatchObject({ code: 'issuer_mismatch' });
  });

  it('an unverified Entra address never takes over the account that owns it', async () => {
    const users = new Map<string, { id: string; email: string }>([['u1', { id: 'u1', email: 'victim@contoso.example' }]]);
    const links = new Map<string, string>();
    const dir: IdentityDirectory = {
      findByIdentity: async (provider, subject) => links.get(`${provider}:${subject}`) ?? null,
      findByEmail: async (email) => [...users.values()].find((u) => u.email === email)?.id ?? null,
      link: async (userId, identity) => void links.set(`${identity.provider}:${identity.subject}`, userId),
      create: async (identity) => {
        const id = `u${users.size + 1}`;
        users.set(id, { id, email: identity.email ?? '' });
        return id;
      },
    };
    const p = await microsoft({ ...client, authority: tenantA.origin });
    const who = await signIn(p, 'victim'); // an admin of tenant A set this user's address to the victim's
    expect(who.emailVerified).toBe(false);
    await expect(signInWithIdentity(who, dir)).rejects.toMatchObject({ status: 409 });
    expect(links.size).toBe(0);
    // The same address with the domain owner verified links.
    expect(await signInWithIdentity(await signIn(p, 'edov-x'), { ...dir, findByEmail: async () => 'u1' })).toMatchObject({ userId: 'u1', linked: true });
  });
});

describe('apple()', () => {
  let op: TestProvider;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const seen: Array<Record<string, unknown>> = [];

  /** Apple's check of the client secret: an ES256 JWT from the team, for this client, at most six months long. */
  function checkSecret(jwt: string, issuer: string, key: KeyObject): string | null {
    const [h, p, sig] = jwt.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, number | string>;
    seen.push({ ...header, ...claims });
    if (header.alg !== 'ES256' || header.kid !== 'KEY123') return 'header';
    if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'))) return 'signature';
    if (claims.iss !== 'TEAM123' || claims.sub !== 'notes' || claims.aud !== issuer) return 'claims';
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp < now || claims.exp - Number(claims.iat) > 15_777_000) return 'lifetime';
    return null;
  }

  beforeAll(async () => {
    let issuer = '';
    op = await startProvider({
      tokenAuth: 'client_secret_post',
      claimsInIdToken: true,
      scopes: { openid: ['sub'], email: ['email', 'email_verified', 'is_private_email'], name: [] },
      claims: (id) => ({ email: `${id}@privaterelay.appleid.example`, email_verified: 'true', is_private_email: 'true' }),
      before: async (req: IncomingMessage & { body?: string }, res: ServerResponse) => {
        if (req.method !== 'POST' || !req.url!.startsWith('/token')) return;
        let body = '';
        for await (const chunk of req) body += String(chunk);
        const form = new URLSearchParams(body);
        const wrong = checkSecret(form.get('client_secret') ?? '', issuer, publicKey);
        if (wrong !== null) {
          res.writeHead(400, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ error: 'invalid_client', error_description: wrong }));
        }
        form.set('client_secret', 'notes-secret-notes-secret'); // the provider under test knows a fixed one
        req.body = form.toString();
      },
    });
    issuer = op.issuer;
  });
  afterAll(() => op.close());

  const options = () => ({ clientId: 'notes', teamId: 'TEAM123', keyId: 'KEY123', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, redirectUri: REDIRECT, issuer: op.issuer });

  it('signs in through a posted answer, with a fresh ES256 client secret, the name from the first answer only', async () => {
    const p = await apple(options());
    const a = p.start();
    expect(new URL(a.url).searchParams.get('response_mode')).toBe('form_post');
    const { action, form } = await signInPosted(op.issuer, `${a.url}&prompt=consent`, 'dana');
    expect(action).toBe(REDIRECT);
    form.set('user', JSON.stringify({ name: { firstName: 'Dana', lastName: 'Scully' }, email: 'someone-else@example.com' }));
    const who = await p.finish(form, a.saved);
    expect(who).toMatchObject({ provider: 'apple', subject: 'dana', email: 'dana@privaterelay.appleid.example', emailVerified: true, name: 'Dana Scully' });
    expect(seen.at(-1)).toMatchObject({ alg: 'ES256', kid: 'KEY123', iss: 'TEAM123', sub: 'notes', aud: op.issuer });
    expect(Number(seen.at(-1)!.exp) - Number(seen.at(-1)!.iat)).toBe(300);

    // Later sign-ins carry no `user`; a malformed one costs the name, never the sign-in.
    const b = p.start();
    const again = await signInPosted(op.issuer, `${b.url}&prompt=consent`, 'dana');
    again.form.set('user', '{not json');
    expect(await p.finish(again.form, b.saved)).toMatchObject({ subject: 'dana', name: null });
  });

  it('refuses a replayed state, and Apple refuses a secret signed with another key', async () => {
    const p = await apple(options());
    const a = p.start();
    const { form } = await signInPosted(op.issuer, `${a.url}&prompt=consent`, 'dana');
    await expect(p.finish(form, p.start().saved)).rejects.toMatchObject({ code: 'state_mismatch' });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const forged = await apple({ ...options(), privateKey: other });
    const b = forged.start();
    const posted = await signInPosted(op.issuer, `${b.url}&prompt=consent`, 'dana');
    await expect(forged.finish(posted.form, b.saved)).rejects.toMatchObject({ code: 'invalid_client' });
  });

  it('without name or email scopes, the answer comes back in the query', async () => {
    const p = await apple({ ...options(), scope: 'openid' });
    const a = p.start();
    expect(new URL(a.url).searchParams.get('response_mode')).toBeNull();
    const who = await p.finish(await signInAt(op.issuer, `${a.url}&prompt=consent`, 'erin'), a.saved);
    expect(who).toMatchObject({ subject: 'erin', email: null, emailVerified: false });
  });
});
