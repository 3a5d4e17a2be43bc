/**
 * Sign-in with other sites: OpenID Connect providers by discovery (presets `google`, `microsoft`, `apple`,
 * `gitlab`; any issuer with `oidcSocial`) on the OIDC client (code + PKCE, state, nonce, RFC 9207 `iss`), and GitHub's plain OAuth 2.0
 * (code + PKCE and state; the user and their verified primary address from its API). Each gives the same
 * `SocialIdentity`; `signInWithIdentity` finds or makes the account — linking to an existing account by a
 * verified address only (an unverified address never takes over an account). `sealSecret` keeps refresh
 * tokens encrypted at rest (AES-256-GCM).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, type KeyObject } from 'node:crypto';
import { HttpError } from '../errors.js';
import { importKey, signJwt, type JwtClaims } from './jwt.js';
import { OidcClient, OidcError } from './oidc.js';

/** Who signed in, as a provider tells it. */
export interface SocialIdentity {
  provider: string;
  /** The provider's stable id for the user (never the address: addresses change hands). */
  subject: string;
  email: string | null;
  /** Whether the provider says it verified `email`. */
  emailVerified: boolean;
  name: string | null;
  accessToken: string;
  refreshToken: string | null;
}

/** What to keep in the session between the redirect and the callback. */
export interface SocialState {
  state: string;
  codeVerifier: string;
  nonce?: string;
}

export interface SocialProvider {
  readonly name: string;
  /** The URL to send the browser to, and what to keep for the callback. */
  start(): { url: string; saved: SocialState };
  /**
   * The callback: checks, exchanges the code, and says who it is. OidcError (401) when a check fails. The
   * callback's URL — or, for a provider that posts its answer (Apple's `form_post`), the posted form.
   */
  finish(callback: URL | URLSearchParams, saved: SocialState): Promise<SocialIdentity>;
}

export interface SocialClientOptions {
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
  /** Scopes. Default `openid email profile` (OIDC), `read:user user:email` (GitHub), `openid email name` (Apple). */
  scope?: string;
}

const verified = (v: unknown): boolean => v === true || v === 'true'; // Apple sends the string

const params = (callback: URL | URLSearchParams): URLSearchParams => (callback instanceof URL ? callback.searchParams : callback);

/** How one OIDC provider differs: its scope, extra authorization parameters, and what it says of the address. */
interface OidcShape {
  scope: string;
  extra?: Record<string, string>;
  /** Whether the provider vouches for `c.email` (default: its `email_verified`). */
  emailVerified?(c: Record<string, unknown>): boolean;
  /** The name when the claims have none (Apple posts it once, beside the code). */
  name?(c: Record<string, unknown>, callback: URLSearchParams): string | null;
}

function oidcProvider(name: string, client: OidcClient, shape: OidcShape): SocialProvider {
  return {
    name,
    start() {
      const { url, ...saved } = client.authorizationRequest({ scope: shape.scope, ...(shape.extra === undefined ? {} : { extra: shape.extra }) });
      return { url, saved };
    },
    async finish(callback, saved) {
      const p = params(callback);
      const tokens = await client.callback(p, { state: saved.state, nonce: saved.nonce ?? '', codeVerifier: saved.codeVerifier });
      let c: Record<string, unknown> = tokens.claims!;
      // Providers that keep the address out of the ID token give it at userinfo (OIDC Core §5.4), for the same
      // subject only (§5.3.2: a userinfo answer about someone else is refused).
      if (c.email === undefined && client.metadata.userinfo_endpoint !== undefined) {
        const info = await client.userinfo(tokens.access_token);
        if (info.sub !== c.sub) throw new OidcError('userinfo_sub_mismatch', 'userinfo answered for another subject');
        c = { ...info, ...c };
      }
      const email = typeof c.email === 'string' ? c.email : null;
      return {
        provider: name,
        subject: String(c.sub),
        email,
        emailVerified: email !== null && (shape.emailVerified === undefined ? verified(c.email_verified) : shape.emailVerified(c)),
        name: typeof c.name === 'string' ? c.name : (shape.name?.(c, p) ?? null),
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token ?? null,
      };
    },
  };
}

/**
 * Any OpenID Connect provider, by discovery.
 *
 * @example
 * ```ts
 * const corp = await oidcSocial('corp', 'https://id.corp.example', { clientId, clientSecret, redirectUri });
 * ```
 */
export async function oidcSocial(name: string, issuer: string, o: SocialClientOptions): Promise<SocialProvider> {
  const client = await OidcClient.discover(issuer, { clientId: o.clientId, clientSecret: o.clientSecret, redirectUri: o.redirectUri });
  return oidcProvider(name, client, { scope: o.scope ?? 'openid email profile' });
}

/** Google (OpenID Connect). */
export const google = (o: SocialClientOptions): Promise<SocialProvider> => oidcSocial('google', 'https://accounts.google.com', o);

/** GitLab (OpenID Connect), gitlab.com or your own instance. */
export const gitlab = (o: SocialClientOptions & { issuer?: string }): Promise<SocialProvider> => oidcSocial('gitlab', o.issuer ?? 'https://gitlab.com', o);

/** The tenant of personal Microsoft accounts (outlook.com, live.com), whose addresses Microsoft verifies. */
export const MICROSOFT_CONSUMER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface MicrosoftOptions extends SocialClientOptions {
  /**
   * Who may sign in: `common` (work, school and personal accounts; default), `organizations` (work and school),
   * `consumers` (personal), or one tenant (its id, or a domain such as `contoso.onmicrosoft.com`).
   */
  tenant?: string;
  /** With `common` or `organizations`: the tenant ids allowed (default: any tenant). */
  allowedTenants?: readonly string[];
  /** The authority. Default `https://login.microsoftonline.com`; sovereign clouds and tests change it. */
  authority?: string;
}

/**
 * Microsoft Entra ID and personal Microsoft accounts (OpenID Connect, v2.0 endpoints). On the multi-tenant
 * endpoints the ID token's issuer must be the one of the tenant it names (`tid`), and `allowedTenants` limits
 * which tenants get in. An address counts as verified only when Microsoft vouches for it: a personal account's,
 * or a work account's whose domain owner was verified (the `xms_edov` optional claim, which the app registration
 * must ask for). Entra lets tenant admins set any `email`, so an address without that never links to an
 * existing account (the "nOAuth" account takeover).
 *
 * @example
 * ```ts
 * const ms = await microsoft({ clientId, clientSecret, redirectUri: 'https://notes.example/auth/microsoft/callback' });
 * const workOnly = await microsoft({ clientId, clientSecret, redirectUri, tenant: 'organizations', allowedTenants: [contosoTid] });
 * ```
 */
export async function microsoft(o: MicrosoftOptions): Promise<SocialProvider> {
  const authority = (o.authority ?? 'https://login.microsoftonline.com').replace(/\/$/, '');
  const tenant = o.tenant ?? 'common';
  const allowed = o.allowedTenants === undefined ? null : new Set(o.allowedTenants.map((t) => t.toLowerCase()));
  const template = `${authority}/{tenantid}/v2.0`;
  const tidOf = (iss: string): string => (iss.startsWith(`${authority}/`) && iss.endsWith('/v2.0') ? iss.slice(authority.length + 1, -'/v2.0'.length).toLowerCase() : '');
  // One tenant (by id, by domain, or `consumers`): its discovery document names its id, and only it gets in.
  let pinned: string | null = null;
  const issuer = (iss: string, claims?: JwtClaims): boolean => {
    if (iss === template) return claims === undefined && pinned === null; // a multi-tenant discovery document
    const tid = tidOf(iss);
    if (!GUID.test(tid)) return false;
    if (claims !== undefined && String(claims.tid).toLowerCase() !== tid) return false; // a token's issuer is its own tenant's
    if (pinned !== null && tid !== pinned) return false;
    return allowed === null || allowed.has(tid);
  };
  const client = await OidcClient.discover(`${authority}/${tenant}/v2.0`, { clientId: o.clientId, clientSecret: o.clientSecret, redirectUri: o.redirectUri, issuer });
  if (client.metadata.issuer !== template) pinned = tidOf(client.metadata.issuer);
  const expected = GUID.test(tenant.toLowerCase()) ? tenant.toLowerCase() : tenant === 'consumers' ? MICROSOFT_CONSUMER_TENANT : undefined;
  if (expected !== undefined && pinned !== expected) throw new OidcError('issuer_mismatch', `discovery for tenant ${tenant} returned issuer ${client.metadata.issuer}`);
  return oidcProvider('microsoft', client, {
    scope: o.scope ?? 'openid email profile',
    emailVerified: (c) => c.tid === MICROSOFT_CONSUMER_TENANT || c.xms_edov === true || c.xms_edov === 'true' || c.xms_edov === 1,
  });
}

export interface AppleOptions {
  /** The Services ID the app signs in with. */
  clientId: string;
  /** The Apple Developer team id and the id of the Sign in with Apple key. */
  teamId: string;
  keyId: string;
  /** The key's private part (the `.p8` file's PEM). */
  privateKey: string | KeyObject;
  redirectUri: string;
  /** Default `openid email name`. */
  scope?: string;
  /** Default `https://appleid.apple.com` (tests change it). */
  issuer?: string;
}

/**
 * Sign in with Apple (OpenID Connect). The client secret is a short-lived ES256 JWT signed with the app's key,
 * made for each token request; asking for the name or address makes Apple post its answer to `redirectUri`
 * (`response_mode=form_post`), so the callback route is a POST whose form goes to `finish`. Apple sends the
 * name only there and only the first time, unsigned: it is used for the name alone, never the address. Its
 * relay addresses (`is_private_email`) are verified addresses like any other.
 *
 * The POST comes from appleid.apple.com, cross-site: a `SameSite=Lax` cookie is not sent with it, so keep the
 * saved state in a cookie made for it (`SameSite=None; Secure`, short-lived) rather than in the session.
 *
 * @example
 * ```ts
 * const appleId = await apple({ clientId: 'com.notes.web', teamId, keyId, privateKey: readFileSync('AuthKey.p8', 'utf8'), redirectUri });
 * app.post('/auth/apple/callback', async (ctx) => {
 *   const form = new URLSearchParams((await ctx.form()) as Record<string, string>);
 *   const who = await appleId.finish(form, JSON.parse(openSecret(ctx.cookies['apple-state']!, key)));
 *   // …signInWithIdentity(who, directory)
 * });
 * ```
 */
export async function apple(o: AppleOptions): Promise<SocialProvider> {
  const issuer = (o.issuer ?? 'https://appleid.apple.com').replace(/\/$/, '');
  const key = importKey(o.privateKey, ['ES256'], o.keyId);
  // Apple accepts a secret valid for up to six months; each request gets a fresh one that lives five minutes.
  const clientSecret = (): string => signJwt({}, key, { issuer: o.teamId, subject: o.clientId, audience: issuer, expiresIn: 300 });
  const client = await OidcClient.discover(issuer, { clientId: o.clientId, clientSecret, tokenAuth: 'client_secret_post', redirectUri: o.redirectUri });
  const scope = o.scope ?? 'openid email name';
  const posts = /(^| )(email|name)( |$)/.test(scope);
  return oidcProvider('apple', client, {
    scope,
    ...(posts ? { extra: { response_mode: 'form_post' } } : {}),
    name(_c, callback) {
      try {
        const user = JSON.parse(callback.get('user') ?? 'null') as { name?: { firstName?: unknown; lastName?: unknown } } | null;
        const parts = [user?.name?.firstName, user?.name?.lastName].filter((x): x is string => typeof x === 'string' && x !== '');
        return parts.length > 0 ? parts.join(' ').slice(0, 200) : null;
      } catch {
        return null; // a malformed `user` costs the name, not the sign-in
      }
    },
  });
}

export interface GithubOptions extends SocialClientOptions {
  clientSecret: string;
  /** GitHub Enterprise, or a test server. Default github.com and api.github.com. */
  endpoints?: { authorize: string; token: string; api: string };
}

/**
 * GitHub: plain OAuth 2.0 (no ID token) — code + PKCE and state, then `/user` and `/user/emails` for the id and
 * the verified primary address.
 *
 * @example
 * ```ts
 * const gh = github({ clientId, clientSecret, redirectUri: 'https://notes.example/auth/github/callback' });
 * ```
 */
export function github(o: GithubOptions): SocialProvider {
  const ep = o.endpoints ?? { authorize: 'https://github.com/login/oauth/authorize', token: 'https://github.com/login/oauth/access_token', api: 'https://api.github.com' };
  const api = async <T>(path: string, token: string): Promise<T> => {
    const res = await fetch(`${ep.api}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.github+json', 'user-agent': 'covet' }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new OidcError('userinfo_failed', `GitHub's ${path} answered ${res.status}`);
    return (await res.json()) as T;
  };
  return {
    name: 'github',
    start() {
      const state = randomBytes(32).toString('base64url');
      const codeVerifier = randomBytes(32).toString('base64url');
      const u = new URL(ep.authorize);
      for (const [k, v] of Object.entries({ client_id: o.clientId, redirect_uri: o.redirectUri, scope: o.scope ?? 'read:user user:email', state, code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'), code_challenge_method: 'S256' })) u.searchParams.set(k, v);
      return { url: u.href, saved: { state, codeVerifier } };
    },
    async finish(callback, saved) {
      const p = params(callback);
      if (p.get('state') !== saved.state) throw new OidcError('state_mismatch', 'the state does not match this login (CSRF or a stale tab)');
      const err = p.get('error');
      if (err !== null) throw new OidcError(err, p.get('error_description') ?? err);
      const code = p.get('code');
      if (code === null) throw new OidcError('invalid_response', 'no code in the callback');
      const res = await fetch(ep.token, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ client_id: o.clientId, client_secret: o.clientSecret, code, redirect_uri: o.redirectUri, code_verifier: saved.codeVerifier }),
        signal: AbortSignal.timeout(10_000),
      });
      const t = (await res.json().catch(() => ({}))) as { access_token?: string; refresh_token?: string; error?: string; error_description?: string };
      if (!res.ok || t.access_token === undefined) throw new OidcError(t.error ?? 'token_failed', t.error_description ?? `GitHub's token endpoint answered ${res.status}`);
      const user = await api<{ id: number; login: string; name: string | null }>('/user', t.access_token);
      const emails = await api<Array<{ email: string; primary: boolean; verified: boolean }>>('/user/emails', t.access_token);
      const primary = emails.find((e) => e.primary) ?? null;
      return { provider: 'github', subject: String(user.id), email: primary?.email ?? null, emailVerified: primary?.verified === true, name: user.name ?? user.login, accessToken: t.access_token, refreshToken: t.refresh_token ?? null };
    },
  };
}

/** Your users and their linked identities, as sign-in with other sites needs them. */
export interface IdentityDirectory {
  findByIdentity(provider: string, subject: string): Promise<string | null> | string | null;
  /** The account of an address (compare case-insensitively), or null. */
  findByEmail(email: string): Promise<string | null> | string | null;
  link(userId: string, identity: SocialIdentity): Promise<void> | void;
  /** A new account for the identity (its address verified only if the provider verified it). */
  create(identity: SocialIdentity): Promise<string> | string;
}

/**
 * The account an identity signs in: the one it is linked to; else the account of its address, linked now —
 * only when the provider verified the address; else a new account. An unverified address that an account
 * already has is refused (409): linking it would let whoever controls that provider account take this one.
 *
 * @example
 * ```ts
 * const { userId } = await signInWithIdentity(await gh.finish(callbackUrl, saved), directory);
 * ```
 */
export async function signInWithIdentity(identity: SocialIdentity, dir: IdentityDirectory): Promise<{ userId: string; created: boolean; linked: boolean }> {
  const known = await dir.findByIdentity(identity.provider, identity.subject);
  if (known !== null) return { userId: known, created: false, linked: false };
  const owner = identity.email === null ? null : await dir.findByEmail(identity.email.toLowerCase());
  if (owner !== null) {
    if (!identity.emailVerified) throw new HttpError(409, { detail: `an account with this address exists, and ${identity.provider} has not verified the address: sign in to the account first, then connect ${identity.provider}` });
    await dir.link(owner, identity);
    return { userId: owner, created: false, linked: true };
  }
  return { userId: await dir.create(identity), created: true, linked: false };
}

/**
 * Encrypts a secret for storage (refresh tokens): AES-256-GCM under a 32-byte key, `v1.<base64url>`.
 *
 * @example
 * ```ts
 * const stored = sealSecret(identity.refreshToken!, key);
 * const refreshToken = openSecret(stored, key);
 * ```
 */
export function sealSecret(plain: string, key: Buffer): string {
  if (key.length !== 32) throw new RangeError('sealSecret needs a 32-byte key');
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return `v1.${Buffer.concat([iv, body, c.getAuthTag()]).toString('base64url')}`;
}

/**
 * Decrypts what `sealSecret` made; throws when it was altered or the key is another.
 *
 * @example
 * ```ts
 * const refreshToken = openSecret(row.sealedRefreshToken, key);
 * ```
 */
export function openSecret(sealed: string, key: Buffer): string {
  if (!sealed.startsWith('v1.')) throw new Error('not a sealed secret');
  const b = Buffer.from(sealed.slice(3), 'base64url');
  if (b.length < 12 + 16) throw new Error('not a sealed secret');
  const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
  d.setAuthTag(b.subarray(b.length - 16));
  return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]).toString('utf8');
}
