import { describe, expect, it } from 'vitest';
import { createApp, dep, HttpError, type Dep } from '../../lib/app/index.js';

describe('dependencies', () => {
  it('resolves each dependency once per request, shares it with sub-dependencies, and cleans up after the response in reverse order', async () => {
    const events: string[] = [];
    let opened = 0;
    const db = dep('db', () => ({ id: ++opened }), { cleanup: (c, err) => void events.push(`release db ${c.id} err=${err === undefined ? 'none' : (err as Error).message}`) });
    const repo = dep('repo', async (_ctx, use) => ({ conn: await use(db) }), { cleanup: () => void events.push('close repo') });
    const user = dep('user', async (ctx, use) => {
      const r = await use(repo);
      return { name: ctx.req.get('x-user') ?? 'anon', conn: r.conn.id };
    });
    const app = createApp();
    app.config.onError = () => {};
    app.get('/me', async (ctx) => {
      const [u, conn] = await Promise.all([ctx.use(user), ctx.use(db)]);
      events.push('handler');
      return { ...u, same: conn.id === u.conn };
    });
    app.get('/fail', async (ctx) => {
      await ctx.use(db);
      throw new Error('query failed');
    });
    expect((await app.inject({ url: '/me', headers: { 'x-user': 'ada' } })).json()).toEqual({ name: 'ada', conn: 1, same: true });
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['handler', 'close repo', 'release db 1 err=none']);
    expect((await app.inject({ url: '/me' })).json()).toMatchObject({ conn: 2 }); // a new request, a new resolution
    events.length = 0;
    expect((await app.inject({ url: '/fail' })).status).toBe(500);
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['release db 3 err=query failed']);
  });

  it('runs route-level deps before the handler, so they can refuse the request', async () => {
    const requireToken = dep('auth', (ctx) => {
      if (ctx.req.get('authorization') !== 'Bearer ok') throw new HttpError(401, {}, { 'www-authenticate': 'Bearer' });
      return true;
    });
    const app = createApp();
    let ran = 0;
    app.get('/admin', { deps: [requireToken] }, () => (ran++, 'secret'));
    expect((await app.inject({ url: '/admin' })).status).toBe(401);
    expect((await app.inject({ url: '/admin', headers: { authorization: 'Bearer ok' } })).text()).toBe('secret');
    expect(ran).toBe(1);
  });

  it('reports a dependency cycle instead of hanging', async () => {
    const errors: unknown[] = [];
    const a: Dep<number> = dep('a', async (_ctx, use) => (await use(b)) + 1);
    const b: Dep<number> = dep('b', async (_ctx, use) => (await use(a)) + 1);
    const app = createApp();
    app.config.onError = (e) => void errors.push(e);
    app.get('/loop', (ctx) => ctx.use(a));
    expect((await app.inject({ url: '/loop' })).status).toBe(500);
    expect((errors[0] as Error).message).toBe('dependency cycle: a → b → a');
  });
});
