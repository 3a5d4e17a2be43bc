import { describe, expect, it } from 'vitest';
import { cors, createApp, securityHeaders } from '../../lib/app/index.js';

function corsApp(options: Parameters<typeof cors>[0]) {
  const app = createApp();
  app.use(cors(options));
  app.get('/things', () => ({ ok: true }));
  app.post('/things', () => ({ made: true }));
  return app;
}

describe('cors', () => {
  it('answers a preflight itself with 204 even though no OPTIONS route exists', async () => {
    const app = corsApp({ origin: ['https://a.example'], credentials: true, maxAge: 60 });
    const r = await app.inject({
      method: 'OPTIONS',
      url: '/things',
      headers: { origin: 'https://a.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-trace' },
    });
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('https://a.example');
    expect(r.headers['access-control-allow-methods']).toContain('POST');
    expect(r.headers['access-control-allow-headers']).toBe('content-type, x-trace');
    expect(r.headers['access-control-allow-credentials']).toBe('true');
    expect(r.headers['access-control-max-age']).toBe('60');
    expect(r.headers.vary).toBe('Origin, Access-Control-Request-Headers');
    expect(r.body.length).toBe(0);
  });

  it('adds headers to actual requests from allowed origins only, and always varies on Origin', async () => {
    const app = corsApp({ origin: /^https:\/\/[a-z]+\.example$/, exposedHeaders: ['x-total'] });
    const ok = await app.inject({ url: '/things', headers: { origin: 'https://b.example' } });
    expect([ok.status, ok.headers['access-control-allow-origin'], ok.headers['access-control-expose-headers'], ok.headers.vary]).toEqual([
      200,
      'https://b.example',
      'x-total',
      'Origin',
    ]);
    const other = await app.inject({ url: '/things', headers: { origin: 'https://evil.test' } });
    expect([other.status, other.headers['access-control-allow-origin'], other.headers.vary]).toEqual([200, undefined, 'Origin']);
    // A preflight from a refused origin is not answered by CORS: the router's 405 stands.
    const pre = await app.inject({ method: 'OPTIONS', url: '/things', headers: { origin: 'https://evil.test', 'access-control-request-method': 'GET' } });
    expect(pre.status).toBe(405);
  });

  it("uses '*' without credentials and never with them", async () => {
    const open = await corsApp({}).inject({ url: '/things', headers: { origin: 'https://x.example' } });
    expect([open.headers['access-control-allow-origin'], open.headers.vary]).toEqual(['*', undefined]);
    const cred = await corsApp({ origin: /^https:\/\/[a-z]+\.example$/, credentials: true }).inject({ url: '/things', headers: { origin: 'https://x.example' } });
    expect([cred.headers['access-control-allow-origin'], cred.headers['access-control-allow-credentials']]).toEqual(['https://x.example', 'true']);
  });

  it('refuses credentials with any origin at creation, naming `origin` (#27)', () => {
    expect(() => cors({ credentials: true })).toThrow(/credentials: true.*needs an `origin`/);
    expect(() => cors({ origin: '*', credentials: true })).toThrow(/`origin`/);
    expect(() => cors({ origin: ['https://a.example'], credentials: true })).not.toThrow();
  });
});

describe('securityHeaders', () => {
  it('sets the defaults on every answer, errors included, and lets each be replaced or dropped', async () => {
    const app = createApp();
    app.use(securityHeaders({ 'x-frame-options': 'SAMEORIGIN', 'strict-transport-security': false }));
    app.get('/', () => 'hi');
    for (const url of ['/', '/missing']) {
      const r = await app.inject({ url });
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['content-security-policy']).toContain("default-src 'self'");
      expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(r.headers['strict-transport-security']).toBeUndefined();
    }
  });
});

describe('error answers keep policy headers', () => {
  it('keeps CORS headers on a thrown error but drops what described the failed body', async () => {
    const app = createApp();
    app.config.onError = () => {};
    app.use(cors({ origin: 'https://a.example' }));
    app.get('/boom', (ctx) => {
      ctx.res.setHeader('cache-control', 'public, max-age=3600');
      ctx.res.setHeader('etag', '"v1"');
      throw new Error('db down');
    });
    const r = await app.inject({ url: '/boom', headers: { origin: 'https://a.example' } });
    expect(r.status).toBe(500);
    expect(r.headers['access-control-allow-origin']).toBe('https://a.example');
    expect([r.headers['cache-control'], r.headers.etag, r.headers['content-type']]).toEqual([undefined, undefined, 'application/problem+json']);
  });
});

describe('built-in routes', () => {
  it('are wrapped by app middleware added after createApp, and groups do not copy them', async () => {
    const app = createApp({ openapi: { info: { title: 't', version: '1' } } });
    app.use(securityHeaders());
    app.group('/admin', (g) => g.get('/x', () => 'x'));
    const spec = await app.inject({ url: '/openapi.json' });
    expect([spec.status, spec.headers['x-content-type-options']]).toEqual([200, 'nosniff']);
    expect((await app.inject({ url: '/docs' })).headers['x-content-type-options']).toBe('nosniff');
    expect((await app.inject({ url: '/admin/openapi.json' })).status).toBe(404);
    // The document's own routes (JSON, YAML, the docs page) are not in it.
    expect(Object.keys(spec.json<{ paths: Record<string, unknown> }>().paths).sort()).toEqual(['/admin/x']);
  });
});

describe('ctx.vary', () => {
  it('lists each field once, whoever adds it', async () => {
    const app = createApp({ compression: true });
    app.use(cors({ origin: 'https://a.example' }));
    app.get('/v', (ctx) => {
      ctx.vary('origin');
      ctx.vary('Accept-Language');
      return { text: 'x'.repeat(2000) };
    });
    const r = await app.inject({ url: '/v', headers: { origin: 'https://a.example', 'accept-encoding': 'gzip' } });
    expect(r.headers.vary).toBe('Origin, Accept-Language, Accept-Encoding');
  });
});
