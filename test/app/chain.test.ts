import { describe, expect, it } from 'vitest';
import { createApp, HttpError } from '../../lib/app/index.js';

// The route step runs synchronously when every part of it is synchronous; these pin down that errors,
// middleware order and `next()`'s promise are the same whether a step is sync or async.
describe('middleware chain around sync and async route steps', () => {
  it('a handler that throws synchronously is a 500 problem, with and without middleware', async () => {
    for (const withMw of [false, true]) {
      const app = createApp({ onError: () => {} });
      if (withMw) app.use(async (_ctx, next) => void (await next()));
      app.get('/', () => {
        throw new Error('boom');
      });
      const r = await app.inject({ url: '/' });
      expect(r.status).toBe(500);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
      expect(r.text()).not.toContain('boom'); // not leaked outside dev mode
    }
  });

  it('middleware catches a synchronous throw from the handler, and an async rejection, alike', async () => {
    const app = createApp();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.res.statusCode = 418;
        ctx.res.end(`caught ${(err as Error).message}`);
      }
    });
    app.get('/sync', () => {
      throw new Error('sync');
    });
    app.get('/async', async () => {
      throw new Error('async');
    });
    expect((await app.inject({ url: '/sync' })).text()).toBe('caught sync');
    expect((await app.inject({ url: '/async' })).text()).toBe('caught async');
  });

  it('next() returns a promise (then-able) even when the route step was synchronous, and code after it runs after the handler', async () => {
    const order: string[] = [];
    const app = createApp();
    app.use((ctx, next) =>
      next().then(() => {
        order.push('after');
        expect(ctx.res.finished).toBe(true);
      }),
    );
    app.get('/', () => {
      order.push('handler');
      return 'ok';
    });
    const r = await app.inject({ url: '/' });
    expect(r.text()).toBe('ok');
    expect(order).toEqual(['handler', 'after']);
  });

  it('next() called twice fails the request', async () => {
    const app = createApp({ onError: () => {} });
    app.use(async (_ctx, next) => {
      await next();
      await next();
    });
    app.get('/', (ctx) => {
      ctx.res.setHeader('x-seen', '1');
      return undefined;
    });
    const r = await app.inject({ url: '/' });
    expect(r.status).toBe(500);
  });

  it('an HttpError thrown synchronously keeps its status; preHandler and onSend hooks still run (async path)', async () => {
    const app = createApp();
    app.addHook('preHandler', async (ctx) => void (ctx.state.pre = true));
    app.addHook('onSend', (_ctx, body) => `${String(body)}!`);
    app.get('/teapot', () => {
      throw new HttpError(418, { detail: 'short and stout' });
    });
    app.get('/hi', (ctx) => `hi ${ctx.state.pre === true ? 'pre' : 'none'}`);
    const t = await app.inject({ url: '/teapot' });
    expect(t.status).toBe(418);
    expect(t.json<{ detail: string }>().detail).toBe('short and stout');
    expect((await app.inject({ url: '/hi' })).text()).toBe('hi pre!');
  });

  it('requests no route takes (404, 405) are answered, not thrown: middleware after next() sees the status; onError hooks still see the error', async () => {
    const seen: string[] = [];
    const app = createApp();
    app.use(async (ctx, next) => {
      await next();
      seen.push(`after ${ctx.res.statusCode}`);
    });
    app.addHook('onError', (_ctx, err) => void seen.push(`onError ${(err as HttpError).status}`));
    app.get('/only-get', () => 'ok');
    const missing = await app.inject({ url: '/nowhere' });
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, instance: '/nowhere' });
    const wrong = await app.inject({ method: 'POST', url: '/only-get' });
    expect([wrong.status, wrong.headers.allow]).toEqual([405, 'GET, HEAD']);
    expect(seen).toEqual(['onError 404', 'after 404', 'onError 405', 'after 405']);
  });
});

