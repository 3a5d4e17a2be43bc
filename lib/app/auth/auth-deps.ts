/**
 * Authentication as route dependencies: `bearerAuth()`, `jwtAuth()`, `apiKeyDep()` and `sessionAuth()`
 * each make a dependency that resolves to the caller (the principal) or answers for itself — 401 with a
 * `WWW-Authenticate` challenge when nobody or an invalid credential is presented, 403 when the caller
 * lacks a scope (`auth.require('notes:write')`). Listed in a route's `deps`, they run before the request
 * is validated, and the OpenAPI document shows them as security schemes (the Authorize button on /docs).
 */
import type { Context } from '../context.js';
import type { Dep, SecurityScheme } from '../deps.js';
import { HttpError } from '../errors.js';
import { JwtError, JwtVerifier, type JwtClaims, type VerifyOptions } from './jwt.js';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { registerStandardFormats } from '../formats.js';
import { verifyApiKey, type ApiKeyRecord, type ApiKeyStore } from './api-keys.js';
import { Session, sessionOf } from './session.js';

/** A dependency that authenticates; its value is the principal. */
export interface AuthDep<P> extends Dep<P> {
  /** The security scheme's name in the OpenAPI document, and the scheme. */
  readonly security: { readonly name: string; readonly scheme: SecurityScheme };
  /** Scopes this dependency requires of the principal (empty: authenticated is enough). */
  readonly scopes: readonly string[];
  /**
   * The same authentication, also requiring every one of `scopes` (403 `insufficient_scope` without).
   * The principal is resolved once per request whichever variants a route lists.
   */
  require(...scopes: string[]): AuthDep<P>;
}

interface Scheme<P> {
  name: string;
  /** The dep's name (for cycle messages and logs). */
  label: string;
  security: SecurityScheme;
  /** The principal, or a thrown HttpError (401/400). */
  authenticate(ctx: Context): Promise<P>;
  scopesOf(principal: P): readonly string[];
  /** The 403 for missing scopes. */
  forbidden(missing: readonly string[]): HttpError;
  /** Where the principal is also put for code that reads state (rbac's `user`, templates). */
  stateKey: string | null;
}

function makeAuthDep<P>(s: Scheme<P>, scopes: readonly string[], root: AuthDep<P> | null): AuthDep<P> {
  const dep: AuthDep<P> = {
    name: scopes.length === 0 ? s.label : `${s.label}(${scopes.join(' ')})`,
    // The plain dependency authenticates; a scoped one uses it (so the principal is resolved once per
    // request) and checks the scopes.
    resolve:
      root === null
        ? async (ctx) => {
            const p = await s.authenticate(ctx);
            if (s.stateKey !== null) ctx.state[s.stateKey] = p;
            return p;
          }
        : async (_ctx, use) => {
            const p = await use(root);
            const held = new Set(s.scopesOf(p));
            const missing = scopes.filter((x) => !held.has(x));
            if (missing.length > 0) throw s.forbidden(missing);
            return p;
          },
    security: { name: s.name, scheme: s.security },
    scopes,
    require: (...more: string[]) => makeAuthDep(s, [...new Set([...scopes, ...more])], root ?? dep),
  };
  return dep;
}

/** A quoted-string for an auth-param: RFC 6750 §3 allows %x20-21 / %x23-5B / %x5D-7E in error_description. */
function quoted(v: string): string {
  return `"${v.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ')}"`;
}

/** `Bearer realm="…", error="…", …` (RFC 6750 §3). */
function challenge(realm: string | undefined, params: Record<string, string | undefined> = {}): string {
  const parts: string[] = [];
  if (realm !== undefined) parts.push(`realm=${quoted(realm)}`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) parts.push(`${k}=${quoted(v)}`);
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}

export interface BearerAuthOptions<P> {
  /**
   * The principal a token stands for; return nothing (or throw) for an invalid token — a thrown
   * `JwtError`'s message becomes the `error_description`.
   */
  verify: (token: string, ctx: Context) => P | null | undefined | Promise<P | null | undefined>;
  /** The principal's scopes, for `require(...)`. Default: a `scope` string (space-separated) or `scopes`/`scp` array on it. */
  scopesOf?: (principal: P) => readonly string[];
  /** Also take the token from this cookie when there is no `Authorization` header (browser apps). */
  cookie?: string;
  /** The `realm` of the challenge. */
  realm?: string;
  /** The security scheme's name in the OpenAPI document. Default `bearerAuth`. */
  name?: string;
  /** Shown in the OpenAPI document (`bearerFormat`), e.g. `JWT`. */
  bearerFormat?: string;
  /** `ctx.state[stateKey]` is set to the principal (`null`: not set). Default `user`. */
  stateKey?: string | null;
}

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

function defaultScopes(p: unknown): readonly string[] {
  const o = p as { scope?: unknown; scopes?: unknown; scp?: unknown } | null;
  if (o === null || typeof o !== 'object') return [];
  if (typeof o.scope === 'string') return o.scope.split(' ').filter((x) => x !== '');
  const arr = Array.isArray(o.scopes) ? o.scopes : Array.isArray(o.scp) ? o.scp : [];
  return arr.filter((x): x is string => typeof x === 'string');
}

/**
 * Bearer tokens (RFC 6750) checked by your `verify`. No token: 401 with `WWW-Authenticate: Bearer`; a
 * malformed `Authorization: Bearer` header: 400 `invalid_request`; a token `verify` refuses: 401
 * `invalid_token` with a description; missing scopes: 403 `insufficient_scope` naming them.
 *
 * @example
 * ```ts
 * const auth = bearerAuth({ verify: (token) => tokens.get(token), realm: 'notes' });
 * app.get('/me', { deps: [auth] }, (ctx) => ctx.use(auth));
 * app.post('/notes', { deps: [auth.require('notes:write')] }, handler);
 * ```
 */
export function bearerAuth<P>(options: BearerAuthOptions<P>): AuthDep<P> {
  const realm = options.realm;
  const scheme: Scheme<P> = {
    name: options.name ?? 'bearerAuth',
    label: options.name ?? 'bearerAuth',
    security: { type: 'http', scheme: 'bearer', ...(options.bearerFormat === undefined ? {} : { bearerFormat: options.bearerFormat }) },
    stateKey: options.stateKey === undefined ? 'user' : options.stateKey,
    scopesOf: options.scopesOf ?? defaultScopes,
    forbidden: (missing) =>
      new HttpError(403, { detail: `missing scope${missing.length > 1 ? 's' : ''}: ${missing.join(' ')}` }, { 'www-authenticate': challenge(realm, { error: 'insufficient_scope', error_description: 'the token lacks a required scope', scope: missing.join(' ') }) }),
    async authenticate(ctx) {
      let token: string | undefined;
      const header = ctx.req.get('authorization');
      if (header !== undefined && /^bearer(?:\s|$)/i.test(header)) {
        token = header.slice(6).trim();
        // RFC 6750 §2.1: b64token; anything else is a malformed request (§3.1 invalid_request → 400).
        if (!TOKEN68.test(token)) throw new HttpError(400, { detail: 'malformed Bearer credentials' }, { 'www-authenticate': challenge(realm, { error: 'invalid_request', error_description: 'the Authorization header is not "Bearer <token>"' }) });
      } else if (options.cookie !== undefined) {
        token = ctx.cookies[options.cookie];
      }
      // RFC 6750 §3.1: a request without credentials gets the challenge with no error code.
      if (token === undefined || token === '') throw new HttpError(401, { detail: 'authentication required' }, { 'www-authenticate': challenge(realm) });
      let principal: P | null | undefined;
      let why = 'the token is not valid';
      try {
        principal = await options.verify(token, ctx);
      } catch (err) {
        if (err instanceof HttpError) throw err;
        if (err instanceof JwtError) why = err.message;
        else if (!(err instanceof Error)) throw err;
        else why = err.message;
        principal = undefined;
      }
      if (principal === null || principal === undefined) throw new HttpError(401, { detail: why }, { 'www-authenticate': challenge(realm, { error: 'invalid_token', error_description: why }) });
      return principal;
    },
  };
  return makeAuthDep(scheme, [], null);
}

export interface JwtAuthOptions extends VerifyOptions {
  /** Also take the token from this cookie when there is no `Authorization` header. */
  cookie?: string;
  realm?: string;
  /** OpenAPI scheme name. Default `bearerAuth`. */
  name?: string;
  /** `ctx.state[stateKey]` = the claims. Default `user`. */
  stateKey?: string | null;
  /**
   * The claims the app relies on, as a TypeBox schema: checked once the signature and times are (a token
   * without them answers 401, saying which claim), and the principal's type for every handler.
   */
  claims?: TSchema;
}

/**
 * Bearer JWTs verified with {@link JwtVerifier} (keys, issuer, audience, leeway, revocation...); the
 * principal is the token's claims, its scopes the `scope` (space-separated) or `scp` claim.
 *
 * @example
 * ```ts
 * const auth = jwtAuth({ keys: [importKey(process.env.JWT_SECRET!, ['HS256'])], issuer: 'notes' });
 * app.delete('/notes/{id:int}', { deps: [auth.require('notes:delete')] }, handler);
 * // Typed claims, checked: `(await ctx.use(typed)).uid` is a number in every handler.
 * const typed = jwtAuth({ keys, claims: Type.Object({ uid: Type.Integer(), role: Type.Union([Type.Literal('admin'), Type.Literal('member')]) }) });
 * ```
 */
export function jwtAuth<S extends TSchema>(options: JwtAuthOptions & { claims: S }): AuthDep<JwtClaims & Static<S>>;
export function jwtAuth(options: JwtAuthOptions): AuthDep<JwtClaims>;
export function jwtAuth(options: JwtAuthOptions): AuthDep<JwtClaims> {
  const { claims, ...verifyOptions } = options;
  const verifier = new JwtVerifier(verifyOptions);
  let check: TypeCheck<TSchema> | null = null;
  if (claims !== undefined) {
    registerStandardFormats(); // email, uuid, date-time… as in route schemas
    check = TypeCompiler.Compile(claims);
  }
  return bearerAuth<JwtClaims>({
    verify: async (token) => {
      const payload = await verifier.verify(token);
      if (check !== null && !check.Check(payload)) {
        const e = check.Errors(payload).First();
        throw new Error(`the token's claims do not match: ${e?.path || '/'} ${e?.message ?? ''}`.trim());
      }
      return payload;
    },
    bearerFormat: 'JWT',
    ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
    ...(options.realm === undefined ? {} : { realm: options.realm }),
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.stateKey === undefined ? {} : { stateKey: options.stateKey }),
  });
}

export interface ApiKeyDepOptions {
  store: ApiKeyStore;
  /** Only keys with this prefix. */
  prefix?: string;
  /** The header carrying the key. Default `x-api-key`. (`Authorization: Bearer <key>` is accepted too.) */
  header?: string;
  /** OpenAPI scheme name. Default `apiKeyAuth`. */
  name?: string;
  /** `ctx.state[stateKey]` = the key's record. Default `apiKey`. */
  stateKey?: string | null;
}

/**
 * API keys (see `createApiKey`) as a dependency: the principal is the key's record, its scopes the key's.
 * No key: 401; an unknown or wrong key: 401 `invalid_token`; missing scopes: 403.
 *
 * @example
 * ```ts
 * const key = apiKeyDep({ store });
 * app.get('/export', { deps: [key.require('export')] }, handler);
 * ```
 */
export function apiKeyDep(options: ApiKeyDepOptions): AuthDep<ApiKeyRecord> {
  const header = (options.header ?? 'x-api-key').toLowerCase();
  const name = options.name ?? 'apiKeyAuth';
  return makeAuthDep<ApiKeyRecord>(
    {
      name,
      label: name,
      security: { type: 'apiKey', name: header, in: 'header' },
      stateKey: options.stateKey === undefined ? 'apiKey' : options.stateKey,
      scopesOf: (r) => r.scopes,
      forbidden: (missing) => new HttpError(403, { detail: `the API key lacks scope${missing.length > 1 ? 's' : ''}: ${missing.join(' ')}` }),
      async authenticate(ctx) {
        const auth = ctx.req.get('authorization');
        const key = ctx.req.get(header) ?? (auth !== undefined && /^bearer\s/i.test(auth) ? auth.slice(7).trim() : undefined);
        if (key === undefined || key === '') throw new HttpError(401, { detail: `an API key is required (${header} header)` }, { 'www-authenticate': challenge(undefined) });
        const rec = await verifyApiKey(key, options.store, options.prefix);
        if (rec === null) throw new HttpError(401, { detail: 'invalid API key' }, { 'www-authenticate': challenge(undefined, { error: 'invalid_token', error_description: 'invalid API key' }) });
        return rec;
      },
    },
    [],
    null,
  );
}

export interface SessionAuthOptions<U> {
  /** The signed-in user of a session, or nothing (then 401). */
  user: (session: Session, ctx: Context) => U | null | undefined | Promise<U | null | undefined>;
  /** The user's scopes (or permissions), for `require(...)`. Default: `scopes`/`scope` on the user. */
  scopesOf?: (user: U) => readonly string[];
  /** The session cookie's name, for the OpenAPI document. Default `sid`. */
  cookie?: string;
  /** OpenAPI scheme name. Default `sessionAuth`. */
  name?: string;
  /** `ctx.state[stateKey]` = the user. Default `user`. */
  stateKey?: string | null;
}

/**
 * A signed-in session (the `session()` middleware must run first) as a dependency. No user: 401; missing
 * scopes: 403.
 *
 * @example
 * ```ts
 * app.use(session({ store, secrets }));
 * const signedIn = sessionAuth({ user: (s) => users.get(s.get<number>('userId') ?? -1) });
 * app.get('/account', { deps: [signedIn] }, (ctx) => ctx.use(signedIn));
 * ```
 */
export function sessionAuth<U>(options: SessionAuthOptions<U>): AuthDep<U> {
  const name = options.name ?? 'sessionAuth';
  return makeAuthDep<U>(
    {
      name,
      label: name,
      security: { type: 'apiKey', name: options.cookie ?? 'sid', in: 'cookie' },
      stateKey: options.stateKey === undefined ? 'user' : options.stateKey,
      scopesOf: options.scopesOf ?? defaultScopes,
      forbidden: (missing) => new HttpError(403, { detail: `missing permission${missing.length > 1 ? 's' : ''}: ${missing.join(' ')}` }),
      async authenticate(ctx) {
        const u = await options.user(sessionOf(ctx), ctx);
        if (u === null || u === undefined) throw new HttpError(401, { detail: 'sign in first' });
        return u;
      },
    },
    [],
    null,
  );
}
