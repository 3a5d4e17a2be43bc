import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { createApp, HttpError } from '../../lib/app/index.js';

describe('lifecycle hooks', () => {
  it('runs onRequest → middleware → validation → preHandler → handler → onSend → onResponse in order', async () => {
    const seen: string[] = [];
    const app = createApp();
    app.addHook('onRequest', () => void seen.push('onRequest'));
    app.use(async (_ctx, next) => {
      seen.push('middleware');
      await next();
    });
    app.addHook('preHandler', (ctx) => void seen.push(`preHandler limit=${String(ctx.query.limit)}`));
    app.addHook('onSend', (_ctx, payload) => {
      seen.push('onSend');
      return typeof payload === 'string' ? payload.replace('secret', '[redacted]') : payload;
    });
    app.addHook('onResponse', (ctx) => void seen.push(`onResponse ${ctx.res.statusCode}`));
    app.get('/x', { schema: { query: Type.Object({ limit: Type.Integer() }) } }, () => {
      seen.push('handler');
      return { token: 'secret' };
    });
    const r = await app.inject({ url: '/x?limit=3' });
    expect(r.json()).toEqual({ token: '[redacted]' });
    expect(seen).toEqual(['onRequest', 'middleware', 'preHandler limit=3', 'handler', 'onSend', 'onResponse 200']);
    seen.length = 0;
    // Validation fails before preHandler; the error is still observed by onResponse.
    expect((await app.inject({ url: '/x?limit=no' })).status).toBe(422);
    expect(seen).toEqual(['onRequest', 'middleware', 'onResponse 422']);
  });

  it('runs onReceive for every request, before routing and middleware, whatever the scope and the order', async () => {
    const seen: string[] = [];
    const app = createApp();
    app.get('/early', () => 'early');
    app.use(async (_ctx, next) => {
      seen.push('middleware');
      await next();
    });
    app.register((scope) => {
      scope.addHook('onReceive', (req, res) => {
        seen.push(`receive ${req.url}`);
        res.setHeader('x-seen', 'yes');
      });
    }, { prefix: '/p' });
    app.get('/late', () => 'late');
    for (const url of ['/early', '/late', '/missing']) {
      const r = await app.inject({ url });
      expect(r.headers['x-seen']).toBe('yes');
    }
    expect(seen).toEqual(['receive /early', 'receive /late', 'middleware', 'receive /missing', 'middleware']);
  });

  it('lets onRequest and preHandler answer or refuse, skipping the handler', async () => {
    const app = createApp();
    let handled = 0;
    app.addHook('onRequest', (ctx) => {
      if (ctx.req.get('x-blocked') !== undefined) ctx.text('blocked', 429);
    });
    app.addHook('preHandler', (ctx) => {
      if (ctx.req.get('authorization') === undefined) throw new HttpError(401, {}, { 'www-authenticate': 'Bearer' });
    });
    app.get('/me', () => (handled++, 'me'));
    expect((await app.inject({ url: '/me', headers: { 'x-blocked': '1' } })).status).toBe(429);
    const denied = await app.inject({ url: '/me' });
    expect([denied.status, denied.headers['www-authenticate']]).toEqual([401, 'Bearer']);
    expect((await app.inject({ url: '/me', headers: { authorization: 'Bearer t' } })).text()).toBe('me');
    expect(handled).toBe(1);
  });

  it('scopes hooks to the routes after them and to their group; onError sees every answered error', async () => {
    const errors: string[] = [];
    const app = createApp();
    app.config.onError = () => {};
    app.get('/before', () => 'before');
    app.addHook('onSend', (_ctx, p) => `${String(p)}+app`);
    app.addHook('onError', (ctx, err) => void errors.push(`${ctx.route || '(none)'}: ${(err as Error).message}`));
    app.group('/admin', (g) => {
      g.addHook('onSend', (_ctx, p) => `${String(p)}+admin`);
      g.get('/panel', () => 'panel');
      g.get('/fail', () => {
        throw new Error('kaput');
      });
    });
    app.get('/after', () => 'after');
    expect((await app.inject({ url: '/before' })).text()).toBe('before');
    expect((await app.inject({ url: '/after' })).text()).toBe('after+app');
    expect((await app.inject({ url: '/admin/panel' })).text()).toBe('panel+app+admin');
    expect((await app.inject({ url: '/admin/fail' })).status).toBe(500);
    expect((await app.inject({ url: '/missing' })).status).toBe(404);
    expect(errors).toEqual(['/admin/fail: kaput', '(none): Not Found']);
  });
});
