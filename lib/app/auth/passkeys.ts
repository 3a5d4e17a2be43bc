/**
 * Passkeys (WebAuthn Level 3) on `@simplewebauthn/server` (an optional peer: it checks attestation and
 * assertion formats, COSE keys and signatures; the choice is the issue's, it is the maintained one): the
 * registration and authentication ceremonies with the challenge kept in the request's session (single use),
 * several passkeys per account, discoverable credentials (sign-in without a user name: the user handle names
 * the account), user verification required, and clone detection — a signature counter that does not move
 * forward refuses the sign-in.
 */
import type { Context } from '../context.js';
import { HttpError } from '../errors.js';
import { importPeer } from '../optional-peer.js';
import { sessionOf } from './session.js';

/** A stored passkey. */
export interface Passkey {
  /** The credential id (base64url). */
  id: string;
  /** The account it signs in. */
  userId: string;
  /** COSE public key. */
  publicKey: Uint8Array;
  /** The authenticator's signature counter at its last use (0 for authenticators that keep none). */
  counter: number;
  transports?: string[];
  createdAt: number;
}

/** Where passkeys live: a table keyed by credential id, with an index by user. */
export interface PasskeyStore {
  byId(id: string): Promise<Passkey | null> | Passkey | null;
  byUser(userId: string): Promise<Passkey[]> | Passkey[];
  /** Inserts a passkey or updates its counter. */
  save(passkey: Passkey): Promise<void> | void;
}

/**
 * Passkeys in memory (tests, examples).
 *
 * @example
 * ```ts
 * const pk = passkeys({ rpID: 'localhost', rpName: 'Dev', origin: 'http://localhost:3000', store: new MemoryPasskeyStore() });
 * ```
 */
export class MemoryPasskeyStore implements PasskeyStore {
  readonly #byId = new Map<string, Passkey>();
  byId(id: string): Passkey | null {
    return this.#byId.get(id) ?? null;
  }
  byUser(userId: string): Passkey[] {
    return [...this.#byId.values()].filter((p) => p.userId === userId);
  }
  save(p: Passkey): void {
    this.#byId.set(p.id, { ...p });
  }
}

export interface PasskeyOptions {
  /** The relying party: its id (the site's registrable domain, e.g. `example.com`) and display name. */
  rpID: string;
  rpName: string;
  /** The origins pages run ceremonies from (`https://example.com`). */
  origin: string | string[];
  store: PasskeyStore;
  /** How long a ceremony may take, ms. Default 5 minutes. */
  timeoutMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

type Json = Record<string, unknown>;
const SESSION_KEY = 'covet.webauthn';

interface Pending {
  kind: 'register' | 'authenticate';
  challenge: string;
  userId?: string;
  expires: number;
}

/**
 * @example
 * ```ts
 * const pk = passkeys({ rpID: 'example.com', rpName: 'Notes', origin: 'https://example.com', store });
 * app.post('/passkeys/options', (ctx) => pk.registrationOptions(ctx, { id: user.id, name: user.email }));
 * app.post('/passkeys', async (ctx) => pk.register(ctx, await ctx.req.json()));
 * app.post('/signin/passkey/options', (ctx) => pk.authenticationOptions(ctx));
 * app.post('/signin/passkey', async (ctx) => signIn(ctx, (await pk.authenticate(ctx, await ctx.req.json())).userId));
 * ```
 */
export function passkeys(o: PasskeyOptions) {
  const now = o.now ?? Date.now;
  const timeoutMs = o.timeoutMs ?? 5 * 60_000;
  const lib = () => importPeer('@simplewebauthn/server', 'passkeys', () => import('@simplewebauthn/server'));
  const take = async (ctx: Context, kind: Pending['kind']): Promise<Pending> => {
    const s = sessionOf(ctx);
    const p = s.get<Pending>(SESSION_KEY);
    await s.delete(SESSION_KEY); // single use, whatever the outcome
    if (p === undefined || p.kind !== kind) throw new HttpError(400, { detail: `no ${kind === 'register' ? 'registration' : 'sign-in'} in progress: ask for options first` });
    if (now() > p.expires) throw new HttpError(400, { detail: 'the passkey ceremony took too long: start again' });
    return p;
  };
  return {
    /** Options for `navigator.credentials.create` (JSON), for a signed-in user adding a passkey. */
    async registrationOptions(ctx: Context, user: { id: string; name: string; displayName?: string }): Promise<Json> {
      const { generateRegistrationOptions } = await lib();
      const existing = await o.store.byUser(user.id);
      const options = await generateRegistrationOptions({
        rpName: o.rpName,
        rpID: o.rpID,
        userName: user.name,
        userDisplayName: user.displayName ?? user.name,
        userID: new TextEncoder().encode(user.id),
        timeout: timeoutMs,
        attestationType: 'none',
        // The same authenticator twice is refused by the browser; discoverable, with user verification.
        excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports as never })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
      await sessionOf(ctx).set(SESSION_KEY, { kind: 'register', challenge: options.challenge, userId: user.id, expires: now() + timeoutMs } satisfies Pending);
      return options as unknown as Json;
    },

    /** Checks the browser's answer to `create` and stores the passkey. 400 with the reason when it does not verify. */
    async register(ctx: Context, response: Json): Promise<Passkey> {
      const pending = await take(ctx, 'register');
      const { verifyRegistrationResponse } = await lib();
      let v;
      try {
        v = await verifyRegistrationResponse({ response: response as never, expectedChallenge: pending.challenge, expectedOrigin: o.origin, expectedRPID: o.rpID, requireUserVerification: true });
      } catch (err) {
        throw new HttpError(400, { detail: `the passkey did not verify: ${(err as Error).message}` });
      }
      if (!v.verified) throw new HttpError(400, { detail: 'the passkey did not verify' });
      const c = v.registrationInfo.credential;
      if ((await o.store.byId(c.id)) !== null) throw new HttpError(409, { detail: 'this passkey is registered already' });
      const passkey: Passkey = { id: c.id, userId: pending.userId!, publicKey: c.publicKey, counter: c.counter, transports: c.transports, createdAt: now() };
      await o.store.save(passkey);
      return passkey;
    },

    /**
     * Options for `navigator.credentials.get` (JSON). Without `userId`, any discoverable passkey of this site
     * may answer (sign-in without a user name).
     */
    async authenticationOptions(ctx: Context, userId?: string): Promise<Json> {
      const { generateAuthenticationOptions } = await lib();
      const allow = userId === undefined ? undefined : (await o.store.byUser(userId)).map((p) => ({ id: p.id, transports: p.transports as never }));
      const options = await generateAuthenticationOptions({ rpID: o.rpID, timeout: timeoutMs, userVerification: 'required', allowCredentials: allow });
      await sessionOf(ctx).set(SESSION_KEY, { kind: 'authenticate', challenge: options.challenge, userId, expires: now() + timeoutMs } satisfies Pending);
      return options as unknown as Json;
    },

    /**
     * Checks the browser's answer to `get`: the passkey's signature, its user handle against its account, and
     * its counter (a counter that does not move forward means a cloned authenticator: refused). Returns the
     * account to sign in. 400 (or 401 for an unknown passkey) with the reason otherwise.
     */
    async authenticate(ctx: Context, response: Json): Promise<{ userId: string; passkey: Passkey }> {
      const pending = await take(ctx, 'authenticate');
      const id = typeof response.id === 'string' ? response.id : '';
      const passkey = await o.store.byId(id);
      if (passkey === null) throw new HttpError(401, { detail: 'this passkey is not registered here' });
      if (pending.userId !== undefined && passkey.userId !== pending.userId) throw new HttpError(401, { detail: 'this passkey belongs to another account' });
      const handle = (response.response as { userHandle?: string } | undefined)?.userHandle;
      if (handle !== undefined && Buffer.from(handle, 'base64url').toString('utf8') !== passkey.userId) throw new HttpError(401, { detail: "the passkey's user handle does not match its account" });
      const { verifyAuthenticationResponse } = await lib();
      let v;
      try {
        // The counter is checked here, below, so that a clone is named as one.
        v = await verifyAuthenticationResponse({ response: response as never, expectedChallenge: pending.challenge, expectedOrigin: o.origin, expectedRPID: o.rpID, credential: { id: passkey.id, publicKey: passkey.publicKey as never, counter: 0, transports: passkey.transports as never }, requireUserVerification: true });
      } catch (err) {
        throw new HttpError(400, { detail: `the passkey's signature did not verify: ${(err as Error).message}` });
      }
      if (!v.verified) throw new HttpError(400, { detail: "the passkey's signature did not verify" });
      const next = v.authenticationInfo.newCounter;
      if ((next !== 0 || passkey.counter !== 0) && next <= passkey.counter) throw new HttpError(400, { detail: "the passkey's signature counter went back: it may have been cloned, and is not accepted" });
      const updated = { ...passkey, counter: next };
      await o.store.save(updated);
      return { userId: passkey.userId, passkey: updated };
    },
  };
}
