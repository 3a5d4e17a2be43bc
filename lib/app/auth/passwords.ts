/**
 * Password hashing in PHC string format: scrypt (node:crypto, native, off the event loop — the default)
 * or argon2id (@noble/hashes; RFC 9106). Parameters live in the hash, so verification needs none and
 * `needsRehash` tells when stored hashes are weaker than the current policy (rehash at the next login).
 *
 * Hashes brought from other stacks verify too, so a user table can move as it is and be rehashed at each
 * user's next sign-in: bcrypt (`$2a$`, `$2b$`, `$2y$`; with the optional `bcryptjs`), Django's
 * `pbkdf2_sha256$…` / `pbkdf2_sha1$…` and Werkzeug's (Flask) `pbkdf2:sha256:…` (node:crypto). Their passwords
 * are taken as the other stack took them (UTF-8, not normalized).
 */
import { pbkdf2 as pbkdf2Cb, randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { constantTimeEqual } from '../../net/constant-time.js';
import { importPeer } from '../optional-peer.js';

export interface ScryptParams {
  algorithm: 'scrypt';
  /** log2 of N (CPU/memory cost). Default 17 (OWASP: N = 2^17, r = 8, p = 1; 128 MiB). */
  ln?: number;
  r?: number;
  p?: number;
}

export interface Argon2Params {
  algorithm: 'argon2id';
  /** Memory in KiB. Default 19456 (OWASP: 19 MiB, t = 2, p = 1). */
  m?: number;
  t?: number;
  p?: number;
}

export type PasswordPolicy = ScryptParams | Argon2Params;

const DEFAULT: Required<ScryptParams> = { algorithm: 'scrypt', ln: 17, r: 8, p: 1 };
const KEY_LEN = 32;

function scrypt(password: string, salt: Buffer, keylen: number, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFKC'), salt, keylen, o, (err, key) => (err ? reject(err) : resolve(key))));
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64').replace(/=+$/, '');

/**
 * Hashes a password with a fresh 16-byte salt.
 *
 * @example
 * ```ts
 * const stored = await hashPassword(password);                // $scrypt$ln=17,r=8,p=1$...
 * if (!(await verifyPassword(stored, attempt))) throw new HttpError(401);
 * if (needsRehash(stored)) await saveHash(await hashPassword(attempt));
 * ```
 */
export async function hashPassword(password: string, policy: PasswordPolicy = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  if (policy.algorithm === 'argon2id') {
    const m = policy.m ?? 19456;
    const t = policy.t ?? 2;
    const p = policy.p ?? 1;
    const hash = await argon2idAsync(password.normalize('NFKC'), salt, { m, t, p, dkLen: KEY_LEN });
    return `$argon2id$v=19$m=${m},t=${t},p=${p}$${b64(salt)}$${b64(hash)}`;
  }
  const ln = policy.ln ?? DEFAULT.ln;
  const r = policy.r ?? DEFAULT.r;
  const p = policy.p ?? DEFAULT.p;
  const hash = await scrypt(password, salt, KEY_LEN, scryptOptions(ln, r, p));
  return `$scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(hash)}`;
}

function scryptOptions(ln: number, r: number, p: number): ScryptOptions {
  const N = 2 ** ln;
  return { N, r, p, maxmem: 128 * N * r * p + 16 * 1024 * 1024 };
}

interface Parsed {
  algorithm: 'scrypt' | 'argon2id';
  params: Record<string, number>;
  salt: Buffer;
  hash: Buffer;
}

function parse(stored: string): Parsed | null {
  const m = /^\$(scrypt|argon2id)(?:\$v=19)?\$([a-z]+=\d+(?:,[a-z]+=\d+)*)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(stored);
  if (m === null) return null;
  const params: Record<string, number> = {};
  for (const kv of m[2]!.split(',')) {
    const [k, v] = kv.split('=');
    params[k!] = Number(v);
  }
  return { algorithm: m[1] as Parsed['algorithm'], params, salt: Buffer.from(m[3]!, 'base64'), hash: Buffer.from(m[4]!, 'base64') };
}

/** bcrypt's modular crypt format: version, two-digit cost, 22 salt and 31 hash characters. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
/** Django's `pbkdf2_<hash>$<iterations>$<salt>$<base64 hash>`, Werkzeug's `pbkdf2:<hash>:<iterations>$<salt>$<hex hash>`. */
const DJANGO = /^pbkdf2_(sha256|sha1)\$(\d{1,8})\$([^$]{1,128})\$([A-Za-z0-9+/]{20,88}={0,2})$/;
const WERKZEUG = /^pbkdf2:(sha256|sha512|sha1):(\d{1,8})\$([^$]{1,128})\$([0-9a-f]{40,128})$/;
/** Work bounds on stored hashes from elsewhere (a planted hash must not cost minutes). */
const MAX_BCRYPT_COST = 16;
const MAX_PBKDF2_ITERATIONS = 5_000_000;

function pbkdf2(password: string, salt: string, iterations: number, keylen: number, digest: string): Promise<Buffer> {
  return new Promise((resolve, reject) => pbkdf2Cb(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), iterations, keylen, digest, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A hash from another stack: its verdict, or null when `stored` is none of those formats. */
async function verifyForeign(stored: string, password: string): Promise<boolean | null> {
  const b = BCRYPT.exec(stored);
  if (b !== null) {
    if (Number(b[1]) < 4 || Number(b[1]) > MAX_BCRYPT_COST) return false;
    const bcrypt = await importPeer('bcryptjs', 'verifying bcrypt hashes', async () => (await import('bcryptjs')).default);
    return bcrypt.compare(password, stored);
  }
  const d = DJANGO.exec(stored) ?? WERKZEUG.exec(stored);
  if (d !== null) {
    const iterations = Number(d[2]);
    if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) return false;
    const want = stored.startsWith('pbkdf2_') ? Buffer.from(d[4]!, 'base64') : Buffer.from(d[4]!, 'hex');
    if (want.length < 16) return false;
    return constantTimeEqual(await pbkdf2(password, d[3]!, iterations, want.length, d[1]!), want);
  }
  return null;
}

/**
 * Checks a password against a stored hash in constant time: ours (scrypt, argon2id) or one brought from
 * elsewhere (bcrypt, Django's and Werkzeug's PBKDF2). A malformed hash verifies nothing.
 *
 * @example
 * ```ts
 * if (!(await verifyPassword(user.passwordHash, attempt))) throw new HttpError(401, { detail: 'wrong email or password' });
 * ```
 */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const foreign = await verifyForeign(stored, password);
  if (foreign !== null) return foreign;
  const h = parse(stored);
  if (h === null || h.hash.length < 16) return false;
  let got: Uint8Array;
  if (h.algorithm === 'argon2id') {
    const { m, t, p } = h.params;
    if (m === undefined || t === undefined || p === undefined) return false;
    got = await argon2idAsync(password.normalize('NFKC'), h.salt, { m, t, p, dkLen: h.hash.length });
  } else {
    const { ln, r, p } = h.params;
    if (ln === undefined || r === undefined || p === undefined || ln > 24) return false;
    got = await scrypt(password, h.salt, h.hash.length, scryptOptions(ln, r, p));
  }
  return constantTimeEqual(got, h.hash);
}

/**
 * True when `stored` was made with another algorithm or weaker parameters than `policy`.
 *
 * @example
 * ```ts
 * if (needsRehash(user.passwordHash)) await saveHash(user.id, await hashPassword(attempt)); // at sign-in
 * ```
 */
export function needsRehash(stored: string, policy: PasswordPolicy = DEFAULT): boolean {
  const h = parse(stored);
  if (h === null || h.algorithm !== policy.algorithm) return true;
  if (policy.algorithm === 'argon2id') return (h.params.m ?? 0) < (policy.m ?? 19456) || (h.params.t ?? 0) < (policy.t ?? 2) || (h.params.p ?? 0) !== (policy.p ?? 1);
  return (h.params.ln ?? 0) < (policy.ln ?? DEFAULT.ln) || (h.params.r ?? 0) < (policy.r ?? DEFAULT.r) || (h.params.p ?? 0) !== (policy.p ?? DEFAULT.p);
}
