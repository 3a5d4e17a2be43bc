/**
 * Passkeys in real headless Chromium with its virtual authenticator (DevTools' WebAuthn domain): the page
 * registers a passkey with `navigator.credentials.create`, signs in with `navigator.credentials.get` and no
 * user name (a discoverable credential), adds a second passkey to the account; a replayed assertion, a
 * cloned authenticator (its counter behind) and a passkey of another site are refused.
 */
import { chromium, type Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { createApp, HttpError, testClient } from '../../../lib/app/index.js';
import { MemoryPasskeyStore, MemorySessionStore, passkeys, session, sessionOf } from '../../../lib/app/auth/index.js';
import { CHROMIUM, needPeers } from '../../peers.js';

interface Answer {
  status: number;
  body: { userId?: string; id?: string; detail?: string } | null;
}

/** Runs in the page: register (create) or sign in (get) through the app's routes, returning each answer. */
async function ceremony(page: Page, kind: 'register' | 'signin', replay = false, signinUrl = '/signin'): Promise<Answer[]> {
  return page.evaluate(
    async ({ kind, replay, signinUrl }) => {
      const post = async (url: string, body?: unknown) => {
        const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
        return { status: r.status, body: (await r.json().catch(() => null)) as never };
      };
      // The page's WebAuthn API (no DOM types in this project): the JSON helpers of WebAuthn Level 3.
      type Credential = { toJSON(): unknown };
      const g = globalThis as unknown as {
        PublicKeyCredential: { parseCreationOptionsFromJSON(j: unknown): unknown; parseRequestOptionsFromJSON(j: unknown): unknown };
        navigator: { credentials: { create(o: { publicKey: unknown }): Promise<Credential>; get(o: { publicKey: unknown }): Promise<Credential> } };
      };
      if (kind === 'register') {
        const opts = await post('/passkeys/options');
        const cred = await g.navigator.credentials.create({ publicKey: g.PublicKeyCredential.parseCreationOptionsFromJSON(opts.body) });
        return [await post('/passkeys', cred.toJSON())];
      }
      const opts = await post('/signin/options');
      const cred = await g.navigator.credentials.get({ publicKey: g.PublicKeyCredential.parseRequestOptionsFromJSON(opts.body) });
      const first = await post(signinUrl, cred.toJSON());
      return replay ? [first, await post(signinUrl, cred.toJSON())] : [first];
    },
    { kind, replay, signinUrl },
  );
}

it('registers and signs in with passkeys in Chromium; refuses a replay, a clone and another site\'s passkey', { timeout: 60_000 }, async (ctx) => {
  needPeers(ctx, CHROMIUM);
  const store = new MemoryPasskeyStore();
  const app = createApp();
  app.use(session({ store: new MemorySessionStore(), secrets: ['s'.repeat(32)], cookie: { secure: false } }));
  let origin = '';
  const pk = () => passkeys({ rpID: 'localhost', rpName: 'Covet test', origin, store });
  app.post('/login/:id', async (c) => {
    await sessionOf(c).regenerate();
    await sessionOf(c).set('userId', c.params.id);
    return { ok: true };
  });
  app.post('/logout', async (c) => {
    await sessionOf(c).destroy();
    return { ok: true };
  });
  app.post('/passkeys/options', async (c) => {
    const id = sessionOf(c).get<string>('userId');
    if (id === undefined) throw new HttpError(401);
    return pk().registrationOptions(c, { id, name: `${id}@example.com` });
  });
  app.post('/passkeys', async (c) => ({ id: (await pk().register(c, await c.req.json())).id }));
  app.post('/signin/options', (c) => pk().authenticationOptions(c));
  app.post('/signin', async (c) => {
    const { userId } = await pk().authenticate(c, await c.req.json());
    await sessionOf(c).regenerate();
    await sessionOf(c).set('userId', userId);
    return { userId };
  });
  app.post('/signin/elsewhere', async (c) => ({ userId: (await passkeys({ rpID: 'localhost', rpName: 'Covet test', origin: 'https://other.example', store }).authenticate(c, await c.req.json())).userId }));
  app.get('/', () => 'passkeys');
  const client = await testClient(app);
  const port = new URL(client.url).port;
  origin = `http://localhost:${port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM.command, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const authenticator = async () => (await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true } })).authenticatorId;
    const first = await authenticator();
    await page.evaluate(() => fetch('/login/ann', { method: 'POST' }));
    const [reg] = await ceremony(page, 'register');
    expect(reg!.status).toBe(200);
    expect(store.byUser('ann').map((p) => p.id)).toEqual([reg!.body!.id]);
    await page.evaluate(() => fetch('/logout', { method: 'POST' }));

    // Sign-in with no user name: the discoverable passkey names the account. Its assertion, sent again, is refused.
    const [ok, replayed] = await ceremony(page, 'signin', true);
    expect([ok!.status, ok!.body!.userId]).toEqual([200, 'ann']);
    expect([replayed!.status, replayed!.body!.detail]).toEqual([400, 'no sign-in in progress: ask for options first']);
    const counter = store.byId(reg!.body!.id!)!.counter;
    expect(counter).toBeGreaterThan(0);

    // What an attacker would copy out of the first authenticator: the credential with its private key.
    const [exported] = (await cdp.send('WebAuthn.getCredentials', { authenticatorId: first })).credentials;
    expect(exported!.privateKey.length).toBeGreaterThan(0);

    // A second passkey for the same account, from another authenticator.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: first });
    const second = await authenticator();
    await page.evaluate(() => fetch('/login/ann', { method: 'POST' }));
    const [reg2] = await ceremony(page, 'register');
    expect(reg2!.status).toBe(200);
    expect(store.byUser('ann')).toHaveLength(2);
    await page.evaluate(() => fetch('/logout', { method: 'POST' }));

    // The copy in another authenticator, its counter behind ours: refused as a clone.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: second });
    const clone = await authenticator();
    await cdp.send('WebAuthn.addCredential', { authenticatorId: clone, credential: { ...exported!, signCount: 0 } });
    const [cloned] = await ceremony(page, 'signin');
    expect([cloned!.status, cloned!.body!.detail]).toEqual([400, "the passkey's signature counter went back: it may have been cloned, and is not accepted"]);
    expect(store.byId(reg!.body!.id!)!.counter).toBe(counter); // unchanged

    // An assertion made for this site, checked as if for another origin: refused.
    await cdp.send('WebAuthn.addCredential', { authenticatorId: clone, credential: { ...exported!, signCount: counter + 10 } }).catch(() => undefined);
    const [elsewhere] = await ceremony(page, 'signin', false, '/signin/elsewhere');
    expect(elsewhere!.status).toBe(400);
    expect(elsewhere!.body!.detail).toMatch(/^the passkey's signature did not verify: .*origin/i);
  } finally {
    await browser.close();
    await client.close();
  }
});
