import { describe, expect, it } from 'vitest';
import { createApp, Type } from '../../lib/app/index.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('urlencoded forms and queries under attack', () => {
  const app = createApp({ onError: (e) => void errors.push(e) });
  const errors: unknown[] = [];
  app.post('/schema', { schema: { consumes: ['application/json', 'application/x-www-form-urlencoded'], body: Type.Object({ a: Type.Optional(Type.String()) }) } }, (ctx) => ({ keys: Object.keys(ctx.body as object) }));
  app.post('/raw', async (ctx) => ({ n: Object.keys(await ctx.form()).length }));
  app.get('/q', (ctx) => ({ n: Object.keys(ctx.query).length }));
  app.post('/wide', async (ctx) => ({ n: Object.keys(await ctx.form(undefined, { maxFields: 5000 })).length }));

  it('the form field limit can be raised; at the limit it passes, one past it is 413 (#27)', async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i}=1`).join('&');
    expect((await app.inject({ method: 'POST', url: '/wide', body: fields(5000), headers: FORM })).json()).toEqual({ n: 5000 });
    const over = await app.inject({ method: 'POST', url: '/wide', body: fields(5001), headers: FORM });
    expect([over.status, over.json<{ detail: string }>().detail]).toEqual([413, 'more than 5000 parameters']);
  });

  it('nested-looking names are plain names: no 500', async () => {
    for (const url of ['/schema', '/raw']) {
      const r = await app.inject({ method: 'POST', url, body: 'a[b][c][d]=1&a[b]=2&__proto__[x]=1&constructor=3', headers: FORM });
      expect(r.status, url).toBe(200);
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('more than 1000 parameters: 413 for a form, 400 for a query, decided before decoding (no quadratic time)', async () => {
    const same = Array.from({ length: 100_000 }, () => 'k=1').join('&');
    const distinct = Array.from({ length: 60_000 }, (_, i) => `k${i}=%41`).join('&'); // under the 1 MiB body limit
    for (const body of [same, distinct]) {
      const t0 = performance.now();
      const r = await app.inject({ method: 'POST', url: '/raw', body, headers: FORM });
      expect(r.status).toBe(413);
      expect(r.json<{ detail: string }>().detail).toBe('more than 1000 parameters');
      expect(performance.now() - t0).toBeLessThan(5_000); // was minutes: each repeated key copied the array
    }
    expect((await app.inject({ method: 'POST', url: '/raw', body: Array.from({ length: 1000 }, () => 'k=1').join('&'), headers: FORM })).json()).toEqual({ n: 1 });
    expect((await app.inject({ url: `/q?${Array.from({ length: 1001 }, (_, i) => `p${i}=1`).join('&')}` })).status).toBe(400);
    expect((await app.inject({ url: `/q?${Array.from({ length: 1000 }, (_, i) => `p${i}=1`).join('&')}` })).json()).toEqual({ n: 1000 });
    expect(errors).toEqual([]);
  });
});
