import { Type } from '@sinclair/typebox';
/** RBAC, sessions (memory, Redis, PostgreSQL, cookie) and CSRF through the app. */
import { afterAll, describe, expect, it } from 'vitest';
import { csrf, csrfToken, MemorySessionRevocations, MemorySessionStore, PgSessionStore, rbac, RedisSessionRevocations, RedisSessionStore, session, sessionOf, type SessionRevocations, type SessionStore } from '../../../lib/app/auth/index.js';
import { createApp, type Context } from '../../../lib/app/index.js';
import { testDb } from '../db/helpers.js';
import { browser } from './browser.js';
import { testRedis } from './helpers.js';

/** A cookie jar over inject. */

describe('RBAC', () => {
  it('401 without a user, 403 without the permission, wildcards and inheritance', async () => {
    const access = rbac({
      roles: { admin: ['*'], editor: ['notes:*'], viewer: ['notes:read'], auditor: ['logs:read'] },
      inherits: { auditor: ['viewer'] },
      user: (ctx) => (ctx.req.get('x-role') === undefined ? undefined : { roles: [ctx.req.get('x-role')!] }),
    });
    const app = createApp({ authorize: access.authorize });
    app.get('/notes', { requires: ['notes:read'] }, () => 'list');
    app.post('/notes', { requires: ['notes:write'] }, () => 'created');
    app.delete('/logs', { requires: ['logs:delete', 'notes:read'] }, () => 'gone');
    const as = (method: string, url: string, role?: string) => app.inject({ method, url, headers: role === undefined ? {} : { 'x-role': role } });
    const anon = await as('GET', '/notes');
    expect([anon.status, anon.headers['www-authenticate']]).toEqual([401, 'Bearer']);
    expect((await as('GET', '/notes', 'viewer')).status).toBe(200);
    expect((await as('POST', '/notes', 'viewer')).status).toBe(403);
    expect((await as('POST', '/notes', 'editor')).status).toBe(200);
    expect((await as('GET', '/notes', 'auditor')).status).toBe(200); // inherited from viewer
    const denied = await as('DELETE', '/logs', 'auditor');
    expect([denied.status, denied.json<{ detail: string }>().detail]).toEqual([403, 'missing permission: logs:delete']);
    expect((await as('DELETE', '/logs', 'admin')).status).toBe(200);
    expect(() => createApp().get('/x', { requires: ['a'] }, () => 1)).toThrow(/needs createApp\(\{ authorize \}\)/);
  });
});

const stores: Array<[string, () => Promise<{ store: SessionStore | 'cookie'; done(): Promise<void> }>]> = [
  ['memory', async () => ({ store: new MemorySessionStore(), done: async () => {} })],
  ['cookie', async () => ({ store: 'cookie', done: async () => {} })],
  ['redis', async () => {
    const r = testRedis();
    return { store: new RedisSessionStore(r.redis, r.prefix), done: r.cleanup };
  }],
  ['postgres', async () => {
    const t = await testDb('postgres');
    return { store: new PgSessionStore(t.db), done: t.drop };
  }],
];

for (const [name, make] of stores) {
  describe(`sessions (${name})`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterAll(async () => {
      for (const c of cleanups) await c();
    });

    it('login rotates the id, data persists, logout clears; secure cookie defaults', async () => {
      const { store, done } = await make();
      cleanups.push(done);
      const app = createApp();
      app.use(session({ store, secrets: ['s3cret-s3cret-s3cret'], idleMs: 60_000, absoluteMs: 3_600_000 }));
      app.post('/login', async (ctx: Context) => {
        const s = sessionOf(ctx);
        await s.regenerate();
        await s.set('user', ctx.req.get('x-user'));
        return 'ok';
      });
      app.get('/me', (ctx: Context) => ({ user: sessionOf(ctx).get('user') ?? null }));
      app.post('/logout', async (ctx: Context) => {
        await sessionOf(ctx).destroy();
        return 'bye';
      });
      const b = browser(app);
      const anon = await b.go('GET', '/me');
      expect([anon.json(), anon.headers['set-cookie']]).toEqual([{ user: null }, undefined]); // nothing to remember: no cookie
      const login = await b.go('POST', '/login', { 'x-user': 'ann' });
      const cookie = String(login.headers['set-cookie']);
      expect(cookie).toMatch(/^__Host-sid=/);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/Secure/);
      expect(cookie).toMatch(/SameSite=Lax/);
      const first = b.jar.get('__Host-sid');
      expect((await b.go('GET', '/me')).json()).toEqual({ user: 'ann' });
      // Logging in again (e.g. after a fixation attempt) gives a new id; the old one is dead.
      await b.go('POST', '/login', { 'x-user': 'ann' });
      expect(b.jar.get('__Host-sid')).not.toBe(first);
      if (name !== 'cookie') {
        const stale = await app.inject({ method: 'GET', url: '/me', headers: { cookie: `__Host-sid=${first}` } });
        expect(stale.json()).toEqual({ user: null });
      }
      // A tampered cookie is ignored.
      const tampered = await app.inject({ method: 'GET', url: '/me', headers: { cookie: `__Host-sid=${b.jar.get('__Host-sid')!.replace(/.$/, 'x')}` } });
      expect(tampered.json()).toEqual({ user: null });
      const out = await b.go('POST', '/logout');
      expect(String(out.headers['set-cookie'])).toMatch(/Max-Age=0/);
      expect((await b.go('GET', '/me')).json()).toEqual({ user: null });
    });

    it('idle and absolute expiry', async () => {
      const { store, done } = await make();
      cleanups.push(done);
      let now = Date.now();
      const wait = (ms: number) => (now += ms); // a virtual clock: no sleeping, no timing flakes
      const app = createApp();
      app.use(session({ store, secrets: ['s3cret-s3cret-s3cret'], idleMs: 300_000, absoluteMs: 900_000, cookie: { secure: false }, now: () => now }));
      app.post('/login', async (ctx: Context) => {
        await sessionOf(ctx).set('user', 'ann');
        return 'ok';
      });
      app.get('/me', (ctx: Context) => ({ user: sessionOf(ctx).get('user') ?? null }));
      const b = browser(app);
      await b.go('POST', '/login');
      expect([...b.jar.keys()]).toEqual(['sid']);
      wait(150_000);
      expect((await b.go('GET', '/me')).json()).toEqual({ user: 'ann' }); // active: the idle clock restarts
      wait(200_000);
      expect((await b.go('GET', '/me')).json()).toEqual({ user: 'ann' });
      wait(400_000);
      expect((await b.go('GET', '/me')).json()).toEqual({ user: null }); // idle too long
      await b.go('POST', '/login');
      for (let i = 0; i < 4; i++) {
        wait(200_000); // active every 200 s: never idle for 300 s
        expect((await b.go('GET', '/me')).json()).toEqual({ user: 'ann' });
      }
      wait(200_000);
      expect((await b.go('GET', '/me')).json()).toEqual({ user: null }); // 1,000 s: past the absolute 900 s though active
    });
  });
}

describe('cookie sessions and revocation', () => {
  const redis = testRedis();
  afterAll(() => redis.cleanup());
  const app = (revocations?: SessionRevocations) => {
    const a = createApp();
    a.use(session({ store: 'cookie', secrets: ['s3cret-s3cret-s3cret'], ...(revocations === undefined ? {} : { revocations }) }));
    a.post('/login', async (ctx: Context) => void (await sessionOf(ctx).set('user', 'ann')));
    a.get('/me', (ctx: Context) => ({ user: sessionOf(ctx).get('user') ?? null }));
    a.post('/logout', async (ctx: Context) => void (await sessionOf(ctx).destroy()));
    return a;
  };
  /** Logs in, keeps a copy of the cookie, logs out, and replays the copy. */
  const replayAfterLogout = async (a: ReturnType<typeof createApp>): Promise<unknown> => {
    const b = browser(a);
    await b.go('POST', '/login');
    const copy = b.jar.get('sid') ?? b.jar.get('__Host-sid');
    await b.go('POST', '/logout');
    return (await a.inject({ method: 'GET', url: '/me', headers: { cookie: `__Host-sid=${copy}` } })).json();
  };

  it('without revocations a copy of a logged-out cookie stays valid until it expires (the documented limit)', async () => {
    expect(await replayAfterLogout(app())).toEqual({ user: 'ann' });
  });

  for (const [name, make] of [
    ['memory', () => new MemorySessionRevocations()],
    ['redis', () => new RedisSessionRevocations(redis.redis, `${redis.prefix}revoked:`)],
  ] as const) {
    it(`with ${name} revocations, destroy() refuses every copy of the cookie`, async () => {
      expect(await replayAfterLogout(app(make()))).toEqual({ user: null });
    });
  }
});

describe('CSRF', () => {
  for (const mode of ['synchronizer', 'double-submit'] as const) {
    it(`${mode}: safe methods pass, unsafe ones need the token (header or form field)`, async () => {
      const app = createApp();
      app.use(session({ store: new MemorySessionStore(), secrets: ['s3cret-s3cret-s3cret'] }));
      app.use(csrf({ mode, secret: 'csrf-secret-csrf-secret' }));
      app.get('/form', (ctx: Context) => ({ token: csrfToken(ctx) }));
      app.post('/act', () => 'done');
      // A route whose body schema reads the same form csrf() read the token from (it was a 422: read twice).
      app.post('/note', { schema: { consumes: ['application/json', 'application/x-www-form-urlencoded'], body: Type.Object({ text: Type.String() }) } }, (ctx) => ({ text: ctx.body.text }));
      const b = browser(app);
      const { token } = (await b.go('GET', '/form')).json<{ token: string }>();
      expect((await b.go('POST', '/act')).status).toBe(403);
      expect((await b.go('POST', '/act', { 'x-csrf-token': 'wrong' })).status).toBe(403);
      expect((await b.go('POST', '/act', { 'x-csrf-token': token })).status).toBe(200);
      const form = await b.go('POST', '/act', { 'content-type': 'application/x-www-form-urlencoded' }, `a=1&_csrf=${encodeURIComponent(token)}`);
      expect(form.status).toBe(200);
      const note = await b.go('POST', '/note', { 'content-type': 'application/x-www-form-urlencoded' }, `text=milk&_csrf=${encodeURIComponent(token)}`);
      expect(note.json()).toEqual({ text: 'milk' });
      // Another browser cannot reuse the token without its session/cookie.
      const other = browser(app);
      expect((await other.go('POST', '/act', { 'x-csrf-token': token })).status).toBe(403);
      if (mode === 'double-submit') {
        // A forged cookie+header pair (attacker-chosen value) fails the signature check.
        const forged = await app.inject({ method: 'POST', url: '/act', headers: { cookie: '__Host-csrf=abc.def', 'x-csrf-token': 'abc.def' } });
        expect(forged.status).toBe(403);
      }
    });
  }
});

describe('sessions over HTTP/2', () => {
  it('the session cookie is set on an HTTP/2 answer too (the head event fires there)', async () => {
    const { testClient } = await import('../../../lib/app/index.js');
    const app = createApp();
    app.use(session({ store: new MemorySessionStore(), secrets: ['s3cret-s3cret-s3cret'], cookie: { secure: false } }));
    app.post('/login', async (ctx: Context) => {
      await sessionOf(ctx).set('user', 'ann');
      return 'ok';
    });
    const client = await testClient(app);
    try {
      const res = await client.h2('/login', { method: 'POST' });
      expect(String(res.headers['set-cookie'])).toMatch(/^sid=.*HttpOnly; SameSite=Lax/);
    } finally {
      await client.close();
    }
  });
});
