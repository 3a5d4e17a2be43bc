/**
 * An OpenID Connect relying party (OAuth 2.0 authorization code flow with PKCE, RFC 7636): discovery,
 * the authorization request (state, nonce, S256 challenge), the callback (state, `iss` per RFC 9207,
 * code exchange, ID token validation through {@link JwtVerifier} with the provider's rotating JWKS and
 * the nonce), token refresh and userinfo.
 */
import { createHash, randomBytes } from 'node:crypto';
import { JwtError, JwtVerifier, RemoteJwks, type JwtClaims } from './jwt.js';

export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  end_session_endpoint?: string;
  code_challenge_methods_supported?: string[];
  [key: string]: unknown;
}

export interface OidcClientOptions {
  clientId: string;
  /**
   * The client secret, for confidential clients; a function when it changes (Apple's is a JWT the client signs
   * and renews), called for each token request.
   */
  clientSecret?: string | (() => string);
  /**
   * How the secret is sent (RFC 6749 §2.3.1): HTTP Basic, or in the form. Default: Basic, unless the provider's
   * `token_endpoint_auth_methods_supported` lists only `client_secret_post`.
   */
  tokenAuth?: 'client_secret_basic' | 'client_secret_post';
  redirectUri: string;
  /** Clock skew tolerated on ID token times, seconds. Default 30. */
  leeway?: number;
  /**
   * For providers whose issuer depends on the tenant (Microsoft's `common` and `organizations` endpoints
   * publish `https://login.microsoftonline.com/{tenantid}/v2.0`): whether `iss` is this provider's — asked of
   * the discovery document's issuer and a callback's RFC 9207 `iss` (no claims), and of every ID token (its
   * claims given). Replaces the exact comparison with the discovered issuer; never skips the check.
   */
  issuer?: (iss: string, claims?: JwtClaims) => boolean;
}

/** What to keep (in the session) between the redirect and the callback. */
export interface AuthorizationState {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  /** The validated ID token claims (when an ID token came back). */
  claims?: JwtClaims;
}

/**
 * The provider said no, or the answer failed a check. `code` is the OAuth error or our check.
 *
 * @example
 * ```ts
 * const tokens = await oidc.callback(url, saved).catch((err: unknown) => {
 *   if (err instanceof OidcError && err.code === 'state_mismatch') throw new HttpError(400, { detail: 'start the sign-in again' });
 *   throw err;
 * });
 * ```
 */
export class OidcError extends Error {
  readonly status = 401;
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'OidcError';
  }
}

const rand = (): string => randomBytes(32).toString('base64url');

/**
 * @example
 * ```ts
 * const oidc = await OidcClient.discover('https://accounts.example.com', { clientId, clientSecret, redirectUri: 'https://app.example.com/callback' });
 * app.get('/login', async (ctx) => {
 *   const { url, ...saved } = oidc.authorizationRequest({ scope: 'openid email' });
 *   await sessionOf(ctx).set('oidc', saved);
 *   ctx.redirect(url, 302);
 * });
 * app.get('/callback', async (ctx) => {
 *   const tokens = await oidc.callback(new URL(ctx.req.url, 'https://app.example.com'), sessionOf(ctx).get('oidc')!);
 *   await sessionOf(ctx).regenerate();
 *   await sessionOf(ctx).set('user', tokens.claims!.sub);
 * });
 * ```
 */
export class OidcClient {
  readonly metadata: ProviderMetadata;
  readonly #o: OidcClientOptions;
  readonly #idTokens: JwtVerifier;

  constructor(metadata: ProviderMetadata, options: OidcClientOptions) {
    this.metadata = metadata;
    this.#o = options;
    this.#idTokens = new JwtVerifier({
      keys: new RemoteJwks(metadata.jwks_uri, { defaults: { RSA: 'RS256', EC: 'ES256', OKP: 'EdDSA' } }),
      // With an issuer rule, validateIdToken applies it to the verified claims.
      ...(options.issuer === undefined ? { issuer: metadata.issuer } : {}),
      audience: options.clientId,
      leeway: options.leeway ?? 30,
      required: ['exp', 'iat', 'sub', 'iss'],
    });
  }

  /** Fetches `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0) and checks its issuer. */
  static async discover(issuer: string, options: OidcClientOptions): Promise<OidcClient> {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => {
      // fetch says only "fetch failed": name the address and the cause (ECONNREFUSED, a timeout, a TLS error).
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new OidcError('discovery_failed', `could not fetch ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    });
    if (!res.ok) throw new OidcError('discovery_failed', `${url} answered ${res.status}`);
    const m = (await res.json()) as ProviderMetadata;
    // §4.3: the issuer in the document must be the one we asked for (mix-up defence), or pass the issuer rule.
    const same = options.issuer === undefined ? m.issuer.replace(/\/$/, '') === issuer.replace(/\/$/, '') : typeof m.issuer === 'string' && options.issuer(m.issuer);
    if (!same) throw new OidcError('issuer_mismatch', `discovery for ${issuer} returned issuer ${m.issuer}`);
    return new OidcClient(m, options);
  }

  /** The URL to send the browser to, and what to keep for the callback. */
  authorizationRequest(params: { scope?: string; prompt?: string; extra?: Record<string, string> } = {}): AuthorizationState & { url: string } {
    const state = rand();
    const nonce = rand();
    const codeVerifier = rand();
    const challenge = createHash('sha256').update(codeVerifier).digest('base64url');
    const u = new URL(this.metadata.authorization_endpoint);
    const q: Record<string, string> = {
      response_type: 'code',
      client_id: this.#o.clientId,
      redirect_uri: this.#o.redirectUri,
      scope: params.scope ?? 'openid',
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...(params.prompt === undefined ? {} : { prompt: params.prompt }),
      ...params.extra,
    };
    for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
    return { url: u.href, state, nonce, codeVerifier };
  }

  /** Handles the redirect back: checks state and issuer, exchanges the code, validates the ID token. */
  async callback(url: URL | URLSearchParams, saved: AuthorizationState): Promise<TokenSet> {
    const p = url instanceof URL ? url.searchParams : url;
    if (p.get('state') !== saved.state) throw new OidcError('state_mismatch', 'the state does not match this login (CSRF or a stale tab)');
    const iss = p.get('iss');
    if (iss !== null && (this.#o.issuer === undefined ? iss !== this.metadata.issuer : !this.#o.issuer(iss))) throw new OidcError('issuer_mismatch', `the response comes from ${iss}`);
    const err = p.get('error');
    if (err !== null) throw new OidcError(err, p.get('error_description') ?? err);
    const code = p.get('code');
    if (code === null) throw new OidcError('invalid_response', 'no code in the callback');
    const tokens = await this.#token({ grant_type: 'authorization_code', code, redirect_uri: this.#o.redirectUri, code_verifier: saved.codeVerifier });
    if (tokens.id_token === undefined) throw new OidcError('invalid_response', 'no ID token (was the openid scope asked for?)');
    tokens.claims = await this.validateIdToken(tokens.id_token, saved.nonce);
    return tokens;
  }

  /** New tokens for a refresh token (an ID token in the answer is validated too). */
  async refresh(refreshToken: string): Promise<TokenSet> {
    const tokens = await this.#token({ grant_type: 'refresh_token', refresh_token: refreshToken });
    if (tokens.id_token !== undefined) tokens.claims = await this.validateIdToken(tokens.id_token);
    return tokens;
  }

  /** The user's claims from the userinfo endpoint. */
  async userinfo(accessToken: string): Promise<Record<string, unknown>> {
    const ep = this.metadata.userinfo_endpoint;
    if (ep === undefined) throw new OidcError('unsupported', 'the provider has no userinfo endpoint');
    const res = await fetch(ep, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new OidcError('userinfo_failed', `userinfo answered ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  }

  /** Validates an ID token (OIDC Core §3.1.3.7): signature, iss, aud, azp, exp, iat, and the nonce. */
  async validateIdToken(idToken: string, nonce?: string): Promise<JwtClaims> {
    let claims: JwtClaims;
    try {
      claims = await this.#idTokens.verify(idToken);
    } catch (e) {
      throw new OidcError(`id_token_${(e as JwtError).code?.toLowerCase() ?? 'invalid'}`, `ID token refused: ${(e as Error).message}`);
    }
    if (this.#o.issuer !== undefined && !this.#o.issuer(String(claims.iss), claims)) throw new OidcError('id_token_iss', `ID token refused: issuer ${String(claims.iss)} is not this provider's`);
    if (Array.isArray(claims.aud) && claims.aud.length > 1 && claims.azp !== this.#o.clientId) throw new OidcError('id_token_azp', 'the ID token was issued to another party');
    if (nonce !== undefined && claims.nonce !== nonce) throw new OidcError('nonce_mismatch', 'the ID token nonce does not match this login (replay?)');
    return claims;
  }

  #tokenAuth(): 'client_secret_basic' | 'client_secret_post' {
    if (this.#o.tokenAuth !== undefined) return this.#o.tokenAuth;
    const supported = this.metadata.token_endpoint_auth_methods_supported;
    return Array.isArray(supported) && !supported.includes('client_secret_basic') && supported.includes('client_secret_post') ? 'client_secret_post' : 'client_secret_basic';
  }

  async #token(body: Record<string, string>): Promise<TokenSet> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const form = new URLSearchParams(body);
    const secret = typeof this.#o.clientSecret === 'function' ? this.#o.clientSecret() : this.#o.clientSecret;
    if (secret !== undefined && this.#tokenAuth() === 'client_secret_basic') {
      // RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic.
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(this.#o.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    } else {
      form.set('client_id', this.#o.clientId);
      if (secret !== undefined) form.set('client_secret', secret);
    }
    const res = await fetch(this.metadata.token_endpoint, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(10_000) });
    const json = (await res.json().catch(() => ({}))) as TokenSet & { error?: string; error_description?: string };
    if (!res.ok || json.error !== undefined) throw new OidcError(json.error ?? 'token_failed', json.error_description ?? `the token endpoint answered ${res.status}`);
    return json;
  }
}
