/**
 * Sign-in with other sites: OpenID Connect providers by discovery (presets `google`, `gitlab`; any issuer with
 * `oidcSocial`) on the OIDC client (code + PKCE, state, nonce, RFC 9207 `iss`), and GitHub's plain OAuth 2.0
 * (code + PKCE and state; the user and their verified primary address from its API). Each gives the same
 * `SocialIdentity`; `signInWithIdentity` finds or makes the account — linking to an existing account by a
 * verified address only (an unverified address never takes over an account). `sealSecret` keeps refresh
 * tokens encrypted at rest (AES-256-GCM).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { HttpError } from '../errors.js';
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
  /** The callback: checks, exchanges the code, and says who it is. OidcError (401) when a check fails. */
  finish(callback: URL, saved: SocialState): Promise<SocialIdentity>;
}

export interface SocialClientOptions {
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
  /** Scopes. Default `openid email profile` (OIDC), `read:user user:email` (GitHub). */
  scope?: string;
}

const verified = (v: unknown): boolean => v === true || v === 'true'; // Apple sends the string

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
  return {
    name,
    start() {
      const { url, ...saved } = client.authorizationRequest({ scope: o.scope ?? 'openid email profile' });
      return { url, saved };
    },
    async finish(callback, saved) {
      const tokens = await client.callback(callback, { state: saved.state, nonce: saved.nonce ?? '', codeVerifier: saved.codeVerifier });
      let c: Record<string, unknown> = tokens.claims!;
      // Providers that keep the address out of the ID token give it at userinfo (OIDC Core §5.4), for the same
      // subject only (§5.3.2: a userinfo answer about someone else is refused).
      if (c.email === undefined && client.metadata.userinfo_endpoint !== undefined) {
        const info = await client.userinfo(tokens.access_token);
        if (info.sub !== c.sub) throw new OidcError('userinfo_sub_mismatch', 'userinfo answered for another subject');
        c = { ...info, ...c };
      }
      return {
        provider: name,
        subject: String(c.sub),
        email: typeof c.email === 'string' ? c.email : null,
        emailVerified: typeof c.email === 'string' && verified(c.email_verified),
        name: typeof c.name === 'string' ? c.name : null,
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token ?? null,
      };
    },
  };
}

/** Google (OpenID Connect). */
export const google = (o: SocialClientOptions): Promise<SocialProvider> => oidcSocial('google', 'https://accounts.google.com', o);

/** GitLab (OpenID Connect), gitlab.com or your own instance. */
export const gitlab = (o: SocialClientOptions & { issuer?: string }): Promise<SocialProvider> => oidcSocial('gitlab', o.issuer ?? 'https://gitlab.com', o);

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
      const p = callback.searchParams;
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
