/**
 * JSON Web Tokens (RFC 7519) signed with JWS compact serialization (RFC 7515): HS256/384/512,
 * RS256/384/512, PS256, ES256/384, EdDSA (Ed25519, RFC 8037), all on node:crypto (native; measured
 * faster than the JS implementations for every algorithm, see bench/auth.mjs).
 *
 * Every key carries the algorithms it may verify, and its type must fit them, so the classic attacks
 * have nowhere to go: `alg: none` is never accepted, an RSA public key can never act as an HMAC secret
 * (HS/RS confusion), a key is never taken from the token (`jwk`, `jku`, `x5u` headers are ignored), and
 * an unknown `crit` extension is refused (§4.1.11). Each failure is a {@link JwtError} naming the check.
 */
import type { JsonWebKey } from 'node:crypto';
import { createHmac, createPrivateKey, createPublicKey, createSecretKey, KeyObject, sign as cryptoSign, verify as cryptoVerify, constants } from 'node:crypto';
import { constantTimeEqual } from '../../net/constant-time.js';

export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';

export type JwtErrorCode =
  | 'MALFORMED'
  | 'ALG_NOT_ALLOWED'
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'ISSUED_IN_FUTURE'
  | 'TOO_OLD'
  | 'ISSUER'
  | 'AUDIENCE'
  | 'SUBJECT'
  | 'MISSING_CLAIM'
  | 'REVOKED'
  | 'CRIT'
  | 'KEYS_UNAVAILABLE';

/**
 * A token was refused; `code` says which check failed. Answers 401.
 *
 * @example
 * ```ts
 * try {
 *   await verifier.verify(token);
 * } catch (err) {
 *   if (err instanceof JwtError && err.code === 'EXPIRED') return refresh();
 *   throw err;
 * }
 * ```
 */
export class JwtError extends Error {
  readonly status = 401;
  readonly code: JwtErrorCode;
  constructor(code: JwtErrorCode, message: string) {
    super(message);
    this.name = 'JwtError';
    this.code = code;
  }
}

export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

export interface JwtHeader {
  alg: string;
  typ?: string;
  kid?: string;
  crit?: string[];
  [name: string]: unknown;
}

/** A key with the algorithms it may be used with. */
export interface JwtKey {
  kid?: string;
  algorithms: readonly JwtAlgorithm[];
  key: KeyObject;
}

const HASH: Record<JwtAlgorithm, string | null> = {
  HS256: 'sha256', HS384: 'sha384', HS512: 'sha512', RS256: 'sha256', RS384: 'sha384', RS512: 'sha512', PS256: 'sha256', ES256: 'sha256', ES384: 'sha384', EdDSA: null,
};
const ALGS = new Set(Object.keys(HASH));

/** The key type (and curve) an algorithm needs. */
function fits(alg: JwtAlgorithm, key: KeyObject): boolean {
  if (alg.startsWith('HS')) return key.type === 'secret';
  if (key.type === 'secret') return false;
  const t = key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg === 'PS256') return t === 'rsa' || (alg === 'PS256' && t === 'rsa-pss');
  if (alg === 'ES256') return t === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  if (alg === 'ES384') return t === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
  return t === 'ed25519';
}

/**
 * Makes a key for some algorithms: a secret (string/Buffer) for HS*, a PEM or JWK for the others
 * (private to sign, public to verify). Refuses a key whose type does not fit every algorithm listed,
 * and HMAC secrets shorter than the hash (RFC 7518 §3.2).
 *
 * @example
 * ```ts
 * const hs = importKey(process.env.JWT_SECRET!, ['HS256']);
 * const es = importKey(publicPem, ['ES256'], 'key-2026-11');
 * ```
 */
export function importKey(input: string | Buffer | KeyObject | JsonWebKey, algorithms: readonly JwtAlgorithm[], kid?: string): JwtKey {
  if (algorithms.length === 0) throw new Error('a key needs at least one algorithm');
  for (const a of algorithms) if (!ALGS.has(a)) throw new Error(`unsupported algorithm ${a}`);
  const hmac = algorithms.filter((a) => a.startsWith('HS')).length;
  if (hmac !== 0 && hmac !== algorithms.length) throw new Error(`a key is an HMAC secret (HS*) or an asymmetric key, not both: ${algorithms.join(', ')}`);
  let key: KeyObject;
  if (input instanceof KeyObject) key = input;
  else if (hmac !== 0) {
    if (typeof input === 'object' && !Buffer.isBuffer(input)) {
      if ((input as JsonWebKey).kty !== 'oct' || typeof (input as JsonWebKey).k !== 'string') throw new Error('an HMAC key as JWK must be kty "oct"');
      key = createSecretKey(Buffer.from((input as JsonWebKey).k!, 'base64url'));
    } else {
      // A PEM key as an HMAC secret is the HS/RS confusion: its public half would sign tokens.
      if (/-----BEGIN [A-Z ]*KEY-----/.test(input.toString('latin1'))) throw new Error('a PEM key is not an HMAC secret: import it for RS*/PS*/ES*/EdDSA, or use a random secret for HS*');
      key = createSecretKey(Buffer.from(input));
    }
  } else if (typeof input === 'object' && !Buffer.isBuffer(input)) {
    const jwk = input as JsonWebKey;
    key = jwk.d !== undefined ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
  } else {
    const text = input.toString();
    key = /PRIVATE KEY/.test(text) ? createPrivateKey(text) : createPublicKey(text);
  }
  for (const a of algorithms) if (!fits(a, key)) throw new Error(`a ${key.type === 'secret' ? 'secret' : key.asymmetricKeyType} key cannot be used with ${a}`);
  if (key.type === 'secret') {
    // RFC 7518 §3.2: at least as long as the hash, however the secret was given (bytes, JWK, KeyObject).
    const min = Math.max(...algorithms.map((a) => Number(a.slice(2)) / 8));
    if (key.symmetricKeySize! < min) throw new Error(`an HMAC secret for ${algorithms.join('/')} needs at least ${min} bytes (RFC 7518 §3.2)`);
  }
  return { kid, algorithms, key };
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64url');

function signBytes(alg: JwtAlgorithm, key: KeyObject, data: Buffer): Buffer {
  if (alg.startsWith('HS')) return createHmac(HASH[alg]!, key).update(data).digest();
  if (alg === 'PS256') return cryptoSign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  if (alg.startsWith('ES')) return cryptoSign(HASH[alg], data, { key, dsaEncoding: 'ieee-p1363' });
  return cryptoSign(HASH[alg], data, key);
}

type VerifyFn = (data: Buffer, sig: Buffer) => boolean;

/** Per key and algorithm, a verifier with its options built once (or null: the key does not fit). */
const verifiers = new WeakMap<KeyObject, Map<JwtAlgorithm, VerifyFn | null>>();

function verifierFor(alg: JwtAlgorithm, key: KeyObject): VerifyFn | null {
  let m = verifiers.get(key);
  if (m === undefined) verifiers.set(key, (m = new Map()));
  let fn = m.get(alg);
  if (fn !== undefined) return fn;
  if (!fits(alg, key)) fn = null;
  else if (alg.startsWith('HS')) fn = (data, sig) => verifyBytes(alg, key, data, sig);
  else {
    const pub = key.type === 'private' ? createPublicKey(key) : key;
    const hash = HASH[alg];
    const opts = alg === 'PS256' ? { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : alg.startsWith('ES') ? { key: pub, dsaEncoding: 'ieee-p1363' as const } : pub;
    fn = (data, sig) => cryptoVerify(hash, data, opts, sig);
  }
  m.set(alg, fn);
  return fn;
}

function verifyBytes(alg: JwtAlgorithm, key: KeyObject, data: Buffer, sig: Buffer): boolean {
  if (alg.startsWith('HS')) {
    const mac = createHmac(HASH[alg]!, key).update(data).digest();
    return constantTimeEqual(mac, sig);
  }
  // A public key object for verification (a private one was given: derive its public part).
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (alg === 'PS256') return cryptoVerify('sha256', data, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
  if (alg.startsWith('ES')) return cryptoVerify(HASH[alg], data, { key: pub, dsaEncoding: 'ieee-p1363' }, sig);
  return cryptoVerify(HASH[alg], data, pub, sig);
}

export interface SignOptions {
  /** Default: the key's first algorithm. */
  algorithm?: JwtAlgorithm;
  /** Seconds from now until `exp`. */
  expiresIn?: number;
  /** Seconds from now until `nbf`. */
  notBefore?: number;
  issuer?: string;
  audience?: string | string[];
  subject?: string;
  jwtId?: string;
  /** Extra header fields (never `alg`). */
  header?: Record<string, unknown>;
  /** Clock in seconds (tests). */
  now?: number;
}

/**
 * Signs claims. `iat` is set; `exp`, `nbf`, `iss`, `aud`, `sub`, `jti` from the options.
 *
 * @example
 * ```ts
 * const token = signJwt({ role: 'editor' }, key, { subject: String(user.id), expiresIn: 900, issuer: 'notes' });
 * ```
 */
export function signJwt(claims: JwtClaims, key: JwtKey, options: SignOptions = {}): string {
  const alg = options.algorithm ?? key.algorithms[0]!;
  if (!key.algorithms.includes(alg)) throw new Error(`this key is not for ${alg}`);
  if (!alg.startsWith('HS') && key.key.type !== 'private') throw new Error('signing needs a private key');
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const payload: JwtClaims = { ...claims, iat: claims.iat ?? now };
  if (options.expiresIn !== undefined) payload.exp = now + options.expiresIn;
  if (options.notBefore !== undefined) payload.nbf = now + options.notBefore;
  if (options.issuer !== undefined) payload.iss = options.issuer;
  if (options.audience !== undefined) payload.aud = options.audience;
  if (options.subject !== undefined) payload.sub = options.subject;
  if (options.jwtId !== undefined) payload.jti = options.jwtId;
  const header: JwtHeader = { ...options.header, alg, typ: 'JWT' };
  if (key.kid !== undefined) header.kid = key.kid;
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  return `${input}.${signBytes(alg, key.key, Buffer.from(input)).toString('base64url')}`;
}

/** Where verification keys come from: a fixed set, or a JWKS URL ({@link RemoteJwks}). */
export interface KeySource {
  /** Keys that may verify a token with this `kid` (undefined: none given) and `alg`. */
  candidates(kid: string | undefined, alg: JwtAlgorithm): readonly JwtKey[] | Promise<readonly JwtKey[]>;
}

/**
 * A fixed set of keys. A token naming the `kid` of a key here is tried only with that key; one naming
 * another `kid` (or none) only with the keys that have no `kid`.
 *
 * @example
 * ```ts
 * const keys = new KeySet([importKey(pemA, ['ES256'], '2026-10'), importKey(pemB, ['ES256'], '2026-11')]);
 * const verifier = new JwtVerifier({ keys, issuer: 'auth.example.com' });
 * ```
 */
export class KeySet implements KeySource {
  // Several keys may share a kid (RFC 7517 §4.5: e.g. an RSA and an EC key of one rotation): the token's
  // alg picks among them.
  readonly #byKid = new Map<string, JwtKey[]>();
  readonly #unnamed: JwtKey[];
  constructor(keys: readonly JwtKey[]) {
    this.#unnamed = keys.filter((k) => k.kid === undefined);
    for (const k of keys) {
      if (k.kid === undefined) continue;
      const list = this.#byKid.get(k.kid);
      if (list === undefined) this.#byKid.set(k.kid, [k]);
      else list.push(k);
    }
  }
  candidates(kid: string | undefined, alg: JwtAlgorithm): readonly JwtKey[] {
    const named = kid === undefined ? undefined : this.#byKid.get(kid);
    if (named !== undefined) return named.filter((k) => k.algorithms.includes(alg));
    return this.#unnamed.filter((u) => u.algorithms.includes(alg));
  }

  /** Keys from a JWKS document (`{ keys: [...] }`); each JWK's `alg` (or the given default) decides its algorithm. */
  static fromJwks(jwks: { keys: JsonWebKey[] }, defaults: Partial<Record<string, JwtAlgorithm>> = {}): KeySet {
    const keys: JwtKey[] = [];
    for (const jwk of jwks.keys as Array<JsonWebKey & { kid?: string; use?: string }>) {
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      const alg = (jwk.alg as JwtAlgorithm | undefined) ?? defaults[jwk.kty ?? ''];
      if (alg === undefined || !ALGS.has(alg)) continue; // a key without a known algorithm verifies nothing
      try {
        keys.push(importKey(jwk, [alg], jwk.kid));
      } catch {
        // a key that does not fit its alg is skipped, not trusted
      }
    }
    return new KeySet(keys);
  }
}

/**
 * Keys from a JWKS URL (an OpenID provider's `jwks_uri`), cached for `cacheMs`; a token with an unknown
 * `kid` triggers one refetch (key rotation), at most every `cooldownMs`. When the endpoint fails (an error
 * status, bad JSON, a timeout) the last good key set keeps serving for up to `staleMs` past its
 * lifetime, fetches back off (from `cooldownMs`, doubling, to `maxBackoffMs`) instead of one per token,
 * and with no usable keys verification fails with a `JwtError` (`KEYS_UNAVAILABLE`, a 401), not a 500.
 *
 * @example
 * ```ts
 * const verifier = new JwtVerifier({ keys: new RemoteJwks('https://idp.example.com/.well-known/jwks.json'), audience: 'api' });
 * const claims = await verifier.verify(token);
 * ```
 */
export class RemoteJwks implements KeySource {
  readonly #url: string;
  readonly #cacheMs: number;
  readonly #cooldownMs: number;
  readonly #staleMs: number;
  readonly #maxBackoffMs: number;
  readonly #now: () => number;
  #set: KeySet | null = null;
  #fetchedAt = 0;
  /** When a fetch may next be tried (after a failure or a refetch for an unknown kid). */
  #nextTry = 0;
  #backoff = 0;
  #lastError: string | null = null;
  #pending: Promise<void> | null = null;
  readonly #defaults: Partial<Record<string, JwtAlgorithm>>;
  /** Fetches made (for monitoring and tests). */
  fetches = 0;
  /** `defaults`: the algorithm of JWKs without `alg`, by `kty` (OpenID providers: RSA → RS256). */
  constructor(url: string, options: { cacheMs?: number; cooldownMs?: number; staleMs?: number; maxBackoffMs?: number; defaults?: Partial<Record<string, JwtAlgorithm>>; now?: () => number } = {}) {
    this.#url = url;
    this.#defaults = options.defaults ?? {};
    this.#cacheMs = options.cacheMs ?? 10 * 60_000;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#staleMs = options.staleMs ?? 60 * 60_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }
  async candidates(kid: string | undefined, alg: JwtAlgorithm): Promise<readonly JwtKey[]> {
    const now = this.#now();
    let fetched = false;
    if ((this.#set === null || now - this.#fetchedAt > this.#cacheMs) && now >= this.#nextTry) {
      await this.#refresh();
      fetched = true;
    }
    const set = this.#usable();
    let found = set.candidates(kid, alg);
    // Not when this call just fetched the set: the kid is not in the newest keys either.
    if (found.length === 0 && kid !== undefined && !fetched && this.#now() >= this.#nextTry) {
      // An unknown kid may be a key the provider just rotated in: refetch, then not again for a cooldown.
      await this.#refresh();
      this.#nextTry = Math.max(this.#nextTry, this.#now() + this.#cooldownMs);
      found = this.#usable().candidates(kid, alg);
    }
    return found;
  }
  /** The current key set if it is within its lifetime (plus the stale allowance), else a JwtError. */
  #usable(): KeySet {
    if (this.#set !== null && this.#now() - this.#fetchedAt <= this.#cacheMs + this.#staleMs) return this.#set;
    throw new JwtError('KEYS_UNAVAILABLE', `the signing keys cannot be fetched${this.#lastError === null ? '' : `: ${this.#lastError}`}`);
  }
  #refresh(): Promise<void> {
    this.#pending ??= (async () => {
      this.fetches++;
      try {
        const res = await fetch(this.#url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new Error(`JWKS ${this.#url} answered ${res.status}`);
        const body = (await res.json()) as { keys?: unknown };
        if (!Array.isArray(body?.keys)) throw new Error(`JWKS ${this.#url} has no "keys" array`);
        this.#set = KeySet.fromJwks(body as { keys: JsonWebKey[] }, this.#defaults);
        this.#fetchedAt = this.#now();
        this.#backoff = 0;
        this.#lastError = null;
      } catch (err) {
        this.#lastError = (err as Error).message;
        this.#backoff = Math.min(this.#maxBackoffMs, this.#backoff === 0 ? this.#cooldownMs : this.#backoff * 2);
        this.#nextTry = this.#now() + this.#backoff;
      } finally {
        this.#pending = null;
      }
    })();
    return this.#pending;
  }
}

/** A list of revoked token ids (`jti`), in memory or Redis (`redisRevocationList`). */
export interface RevocationList {
  revoke(jti: string, expiresAtSec: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
}

/**
 * Revoked ids kept until the token would have expired anyway.
 *
 * @example
 * ```ts
 * const revocation = new MemoryRevocationList();
 * const verifier = new JwtVerifier({ keys, revocation });
 * await revocation.revoke(claims.jti!, claims.exp!); // logout: this token is refused from now on
 * ```
 */
export class MemoryRevocationList implements RevocationList {
  readonly #ids = new Map<string, number>();
  async revoke(jti: string, expiresAtSec: number): Promise<void> {
    this.#ids.set(jti, expiresAtSec);
    if (this.#ids.size % 1024 === 0) {
      const now = Date.now() / 1000;
      for (const [k, exp] of this.#ids) if (exp < now) this.#ids.delete(k);
    }
  }
  async isRevoked(jti: string): Promise<boolean> {
    const exp = this.#ids.get(jti);
    return exp !== undefined && exp >= Date.now() / 1000;
  }
}

export interface VerifyOptions {
  keys: KeySource | readonly JwtKey[];
  /** Accepted issuers. */
  issuer?: string | readonly string[];
  /** Accepted audiences (the token must name one of them). */
  audience?: string | readonly string[];
  subject?: string;
  /** Seconds of clock skew tolerated on exp/nbf/iat. Default 0. */
  leeway?: number;
  /** Refuse tokens issued longer ago than this many seconds (needs iat). */
  maxAge?: number;
  /** Claims that must be present (e.g. ['exp', 'sub']). Default ['exp']. */
  required?: readonly string[];
  /** `crit` header names this application understands. Default none. */
  crit?: readonly string[];
  revocation?: RevocationList;
  /** Clock in seconds (tests). */
  now?: () => number;
}

/**
 * Decoded header strings are cached: a service sees few distinct headers. Only short ones, under a key
 * copied out of the token — a slice would keep the whole token string alive (V8's sliced strings point
 * at their parent), so refused megabyte tokens would stay in memory — and at most 256 × 512 chars.
 */
const headerCache = new Map<string, JwtHeader>();
const CACHED_HEADER_MAX = 512;

function decodeHeader(part: string): JwtHeader {
  let h = headerCache.get(part);
  if (h !== undefined) return h;
  h = parseJsonPart(part, 'header') as JwtHeader;
  if (typeof h.alg !== 'string') throw new JwtError('MALFORMED', 'the header has no alg');
  if (part.length <= CACHED_HEADER_MAX) {
    if (headerCache.size >= 256) headerCache.clear();
    headerCache.set(Buffer.from(part, 'latin1').toString('latin1'), h);
  }
  return h;
}

/**
 * Whether a base64url string is the one encoding of its bytes: no padding, and the unused low bits of
 * the last character zero. Otherwise several strings decode to the same signature and a token could be
 * altered without the key (RFC 7515 §2 / RFC 4648 §3.5: canonical encoding).
 */
function canonicalBase64url(s: string): boolean {
  const rem = s.length & 3;
  if (rem === 1) return false;
  if (rem === 0) return true;
  const v = B64URL.indexOf(s[s.length - 1]!);
  return (v & (rem === 2 ? 0x0f : 0x03)) === 0;
}
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function parseJsonPart(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*$/.test(part) || !canonicalBase64url(part)) throw new JwtError('MALFORMED', `the ${what} is not canonical base64url`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('MALFORMED', `the ${what} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new JwtError('MALFORMED', `the ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * Verifies tokens against keys and claim rules.
 *
 * @example
 * ```ts
 * const verifier = new JwtVerifier({ keys: [importKey(secret, ['HS256'])], issuer: 'notes', audience: 'api', leeway: 5 });
 * const claims = verifier.verifySync(token); // throws JwtError('EXPIRED', ...) etc.
 * ```
 */
export class JwtVerifier {
  readonly #keys: KeySource;
  readonly #o: VerifyOptions;
  readonly #required: readonly string[];

  constructor(options: VerifyOptions) {
    this.#o = options;
    this.#keys = Array.isArray(options.keys) ? new KeySet(options.keys as JwtKey[]) : (options.keys as KeySource);
    this.#required = options.required ?? ['exp'];
  }

  /** Verifies with local keys and no revocation list, without a promise. */
  verifySync(token: string): JwtClaims {
    const { header, input, sig, payloadPart } = this.#split(token);
    const keys = this.#keys.candidates(header.kid, header.alg as JwtAlgorithm);
    if (keys instanceof Promise) throw new Error('verifySync needs local keys; use verify() for a remote JWKS');
    return this.#finish(header, keys, input, sig, payloadPart);
  }

  /** Verifies (remote keys and revocation lists included). */
  async verify(token: string): Promise<JwtClaims> {
    const { header, input, sig, payloadPart } = this.#split(token);
    const keys = await this.#keys.candidates(header.kid, header.alg as JwtAlgorithm);
    const claims = this.#finish(header, keys, input, sig, payloadPart);
    if (this.#o.revocation !== undefined && typeof claims.jti === 'string' && (await this.#o.revocation.isRevoked(claims.jti))) {
      throw new JwtError('REVOKED', 'the token was revoked');
    }
    return claims;
  }

  #split(token: string): { header: JwtHeader; input: Buffer; sig: Buffer; payloadPart: string } {
    const d1 = token.indexOf('.');
    const d2 = token.indexOf('.', d1 + 1);
    if (d1 <= 0 || d2 < 0 || token.indexOf('.', d2 + 1) !== -1) throw new JwtError('MALFORMED', 'a JWT has three dot-separated parts');
    const header = decodeHeader(token.slice(0, d1));
    const alg = header.alg;
    if (!ALGS.has(alg)) throw new JwtError('ALG_NOT_ALLOWED', `algorithm ${alg} is not accepted`);
    if (header.crit !== undefined) {
      const known = this.#o.crit ?? [];
      if (!Array.isArray(header.crit) || header.crit.some((c) => !known.includes(c))) throw new JwtError('CRIT', 'the token has critical header extensions we do not understand');
    }
    const sigPart = token.slice(d2 + 1);
    if (!/^[A-Za-z0-9_-]+$/.test(sigPart) || !canonicalBase64url(sigPart)) throw new JwtError('MALFORMED', 'the signature is not canonical base64url');
    return { header, input: Buffer.from(token.slice(0, d2)), sig: Buffer.from(sigPart, 'base64url'), payloadPart: token.slice(d1 + 1, d2) };
  }

  #finish(header: JwtHeader, keys: readonly JwtKey[], input: Buffer, sig: Buffer, payloadPart: string): JwtClaims {
    const alg = header.alg as JwtAlgorithm;
    if (keys.length === 0) throw new JwtError(header.kid !== undefined ? 'UNKNOWN_KEY' : 'ALG_NOT_ALLOWED', header.kid !== undefined ? `no key "${header.kid}" for ${alg}` : `no key accepts ${alg}`);
    let ok = false;
    for (const k of keys) {
      if (!k.algorithms.includes(alg)) continue;
      const v = verifierFor(alg, k.key);
      if (v !== null && v(input, sig)) {
        ok = true;
        break;
      }
    }
    if (!ok) throw new JwtError('BAD_SIGNATURE', 'the signature does not verify');
    const c = parseJsonPart(payloadPart, 'payload') as JwtClaims;
    this.#checkClaims(c);
    return c;
  }

  #checkClaims(c: JwtClaims): void {
    const o = this.#o;
    const now = o.now?.() ?? Math.floor(Date.now() / 1000);
    const leeway = o.leeway ?? 0;
    for (const r of this.#required) if (c[r] === undefined) throw new JwtError('MISSING_CLAIM', `the token has no "${r}" claim`);
    for (const n of ['exp', 'nbf', 'iat'] as const) if (c[n] !== undefined && (typeof c[n] !== 'number' || !Number.isFinite(c[n]))) throw new JwtError('MALFORMED', `"${n}" is not a number`);
    if (c.exp !== undefined && now >= c.exp + leeway) throw new JwtError('EXPIRED', `the token expired at ${new Date(c.exp * 1000).toISOString()}`);
    if (c.nbf !== undefined && now + leeway < c.nbf) throw new JwtError('NOT_YET_VALID', `the token is not valid before ${new Date(c.nbf * 1000).toISOString()}`);
    if (c.iat !== undefined && c.iat > now + leeway) throw new JwtError('ISSUED_IN_FUTURE', 'the token was issued in the future');
    if (o.maxAge !== undefined) {
      if (c.iat === undefined) throw new JwtError('MISSING_CLAIM', 'the token has no "iat" claim (maxAge)');
      if (now - c.iat > o.maxAge + leeway) throw new JwtError('TOO_OLD', `the token is older than ${o.maxAge} s`);
    }
    if (o.issuer !== undefined) {
      const ok = typeof o.issuer === 'string' ? c.iss === o.issuer : o.issuer.includes(c.iss as string);
      if (!ok) throw new JwtError('ISSUER', `unexpected issuer ${JSON.stringify(c.iss)}`);
    }
    if (o.audience !== undefined) {
      const want = typeof o.audience === 'string' ? [o.audience] : o.audience;
      const got = typeof c.aud === 'string' ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
      if (!got.some((a) => want.includes(a))) throw new JwtError('AUDIENCE', `the token is not for ${want.join(' or ')}`);
    }
    if (o.subject !== undefined && c.sub !== o.subject) throw new JwtError('SUBJECT', 'unexpected subject');
  }
}

/**
 * Decodes without verifying (to read `kid` or show claims). Never trust the result.
 *
 * @example
 * ```ts
 * const { header } = decodeJwtUnsafe(token); // which key? (then verify with it)
 * console.log(header.kid);
 * ```
 */
export function decodeJwtUnsafe(token: string): { header: JwtHeader; payload: JwtClaims } {
  const parts = token.split('.');
  if (parts.length < 2) throw new JwtError('MALFORMED', 'not a JWT');
  return { header: parseJsonPart(parts[0]!, 'header') as JwtHeader, payload: parseJsonPart(parts[1]!, 'payload') as JwtClaims };
}

/**
 * Checks only the JWS signature of a compact token with `key` (payloads that are not JWT claims, e.g.
 * RFC 8037's examples). Prefer {@link JwtVerifier} for tokens.
 *
 * @example
 * ```ts
 * const ok = verifyJwsSignature(jws, importKey(publicPem, ['EdDSA']));
 * ```
 */
export function verifyJwsSignature(token: string, key: JwtKey): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const alg = decodeHeader(parts[0]!).alg as JwtAlgorithm;
  if (!key.algorithms.includes(alg) || !fits(alg, key.key)) return false;
  return verifyBytes(alg, key.key, Buffer.from(`${parts[0]}.${parts[1]}`), Buffer.from(parts[2]!, 'base64url'));
}
