import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApp, dep, HttpError, registerFormat, SchemaError, STANDARD_FORMATS, Type } from '../../lib/app/index.js';
import { RouteError } from '../../lib/router/index.js';

type Problem = { detail: string; errors?: Array<{ path: string; message: string }> };

describe('string formats', () => {
  const app = createApp();
  app.post(
    '/contacts',
    { schema: { body: Type.Object({ email: Type.String({ format: 'email' }), id: Type.String({ format: 'uuid' }), at: Type.String({ format: 'date-time' }), site: Type.Optional(Type.String({ format: 'uri' })) }) } },
    (ctx) => ({ ok: ctx.body.email }),
  );

  it('the standard formats are registered: valid values pass, invalid ones are 422 naming the field and format', async () => {
    const good = { email: 'ada@example.org', id: '0b9f6a62-8d55-4d67-9a36-6f3d0f3c2e11', at: '2026-12-02T10:30:00Z', site: 'https://example.org/a?b=c' };
    const ok = await app.inject({ method: 'POST', url: '/contacts', body: good });
    expect(ok.status).toBe(200);
    const bad = await app.inject({ method: 'POST', url: '/contacts', body: { email: 'not-an-email', id: 'x', at: '2026-02-30T10:30:00Z', site: 'no scheme' } });
    expect(bad.status).toBe(422);
    const errors = bad.json<Problem>().errors!;
    expect(errors.map((e) => e.path).sort()).toEqual(['/body/at', '/body/email', '/body/id', '/body/site']);
    expect(errors.find((e) => e.path === '/body/email')!.message).toMatch(/email/);
  });

  it('a route naming an unregistered format is refused when it is added, with the fix in the message', () => {
    const a = createApp();
    expect(() => a.post('/x', { schema: { body: Type.Object({ sku: Type.String({ format: 'sku-code' }) }) } }, () => 'ok')).toThrow(SchemaError);
    expect(() => a.post('/x', { schema: { query: Type.Object({ sku: Type.String({ format: 'sku-code' }) }) } }, () => 'ok')).toThrow(/unknown string format "sku-code" at query\/properties\/sku.*registerFormat/);
    registerFormat('sku-code', (s) => /^[A-Z]{3}-\d{4}$/.test(s));
    a.get('/sku', { schema: { query: Type.Object({ sku: Type.String({ format: 'sku-code' }) }) } }, (ctx) => ctx.query.sku);
    return Promise.all([
      a.inject({ url: '/sku?sku=ABC-1234' }).then((r) => expect(r.status).toBe(200)),
      a.inject({ url: '/sku?sku=abc' }).then((r) => expect(r.status).toBe(422)),
    ]);
  });

  it('accepts what generators of each format produce (property test)', () => {
    const F = STANDARD_FORMATS;
    fc.assert(fc.property(fc.emailAddress(), (e) => F.email!(e) && F['idn-email']!(e)));
    fc.assert(fc.property(fc.uuid(), (u) => F.uuid!(u)));
    fc.assert(fc.property(fc.ipV4(), (ip) => F.ipv4!(ip)));
    fc.assert(fc.property(fc.ipV6(), (ip) => F.ipv6!(ip)));
    fc.assert(fc.property(fc.domain(), (d) => F.hostname!(d)));
    fc.assert(fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (u) => F.uri!(u) && F['uri-reference']!(u) && F.iri!(u)));
    fc.assert(fc.property(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (d) => F['date-time']!(d.toISOString()) && F.date!(d.toISOString().slice(0, 10))));
    fc.assert(fc.property(fc.base64String(), (b) => F.byte!(b)));
  });

  it('refuses the classic near-misses', () => {
    const F = STANDARD_FORMATS;
    for (const [format, value] of [
      ['date', '2025-02-29'], ['date', '2024-13-01'], ['date', '2024-1-01'], ['time', '24:00:00Z'], ['time', '10:30:00'],
      ['date-time', '2024-01-01 10:00:00Z'.replace(' ', '_')], ['date-time', '2024-01-01T10:00:00+25:00'], ['email', 'a@b'], ['email', 'a b@example.org'],
      ['ipv4', '01.2.3.4'], ['ipv4', '256.1.1.1'], ['ipv6', 'fe80::1%eth0'], ['uuid', '0b9f6a62-8d55-4d67-9a36-6f3d0f3c2e1'], ['hostname', '-a.example'],
      ['uri', '/relative/path'], ['uri', 'http://exa mple.org'], ['byte', 'abc'], ['json-pointer', 'a/b'], ['regex', '('], ['duration', 'P'], ['duration', 'PT'],
    ] as const) {
      expect(F[format]!(value), `${format} ${value}`).toBe(false);
    }
    for (const [format, value] of [['date', '2024-02-29'], ['time', '23:59:60Z'], ['date-time', '2024-01-01t10:00:00.123+05:30'], ['duration', 'P1Y2M3DT4H5M6S'], ['duration', 'P4W'], ['json-pointer', '/a~1b/0'], ['relative-json-pointer', '1/a'], ['uri-template', '/users/{id}{?q,limit}']] as const) {
      expect(F[format]!(value), `${format} ${value}`).toBe(true);
    }
  });
});

describe('defaults', () => {
  const app = createApp();
  app.get(
    '/notes',
    { schema: { query: Type.Object({ limit: Type.Integer({ default: 20, minimum: 1 }), order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }), tags: Type.Array(Type.String(), { default: [] }) }) } },
    (ctx) => {
      const seen = { ...ctx.query, tags: [...ctx.query.tags] };
      ctx.query.tags.push('mutated'); // must not leak into the next request's default
      return seen;
    },
  );
  app.post(
    '/items',
    { schema: { consumes: ['application/json', 'application/x-www-form-urlencoded'], body: Type.Object({ name: Type.String(), qty: Type.Integer({ default: 1 }), meta: Type.Object({ color: Type.String({ default: 'red' }) }, { default: {} }) }) } },
    (ctx) => ctx.body,
  );
  app.get('/h', { schema: { headers: Type.Object({ 'x-tenant': Type.String({ default: 'public' }) }) } }, () => 'ok');

  it('are applied before validation for query, body (nested too) and headers; a default object is fresh per request', async () => {
    expect((await app.inject({ url: '/notes' })).json()).toEqual({ limit: 20, order: 'desc', tags: [] });
    expect((await app.inject({ url: '/notes' })).json()).toEqual({ limit: 20, order: 'desc', tags: [] });
    expect((await app.inject({ url: '/notes?limit=5&order=asc&tags=a' })).json()).toEqual({ limit: 5, order: 'asc', tags: ['a'] });
    expect((await app.inject({ method: 'POST', url: '/items', body: { name: 'x' } })).json()).toEqual({ name: 'x', qty: 1, meta: { color: 'red' } });
    expect((await app.inject({ method: 'POST', url: '/items', body: 'name=y&qty=3', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).json()).toEqual({ name: 'y', qty: 3, meta: { color: 'red' } });
    expect((await app.inject({ url: '/h' })).status).toBe(200);
  });

  it('the OpenAPI document agrees: a defaulted value is not required of the client', async () => {
    const a = createApp({ openapi: { info: { title: 't', version: '1' } } });
    a.get('/n', { schema: { query: Type.Object({ limit: Type.Integer({ default: 20 }), q: Type.String() }) } }, () => 'x');
    a.post('/i', { schema: { consumes: ['application/json', 'application/x-www-form-urlencoded'], body: Type.Object({ name: Type.String(), qty: Type.Integer({ default: 1 }), meta: Type.Object({ color: Type.String({ default: 'red' }), size: Type.Integer() }) }) } }, () => 'x');
    const doc = (await a.inject({ url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { parameters?: Array<{ name: string; required: boolean }>; requestBody?: { content: Record<string, { schema: { required: string[]; properties: { meta: { required: string[] } } } }> } }>> }>();
    expect(doc.paths['/n']!.get!.parameters!.map((p) => [p.name, p.required])).toEqual([['limit', false], ['q', true]]);
    const body = doc.paths['/i']!.post!.requestBody!.content['application/json']!.schema;
    expect(body.required).toEqual(['name', 'meta']);
    expect(body.properties.meta.required).toEqual(['size']);
  });

  it('each failing field is listed once', async () => {
    const a = createApp();
    a.get('/q', { schema: { query: Type.Object({ page: Type.Integer(), size: Type.Integer({ minimum: 1 }) }) } }, () => 'ok');
    const r = await a.inject({ url: '/q?size=0' });
    expect(r.status).toBe(422);
    const p = r.json<Problem>();
    expect(p.errors).toEqual([
      { path: '/query/page', message: 'Expected required property' },
      { path: '/query/size', message: expect.stringMatching(/greater or equal to 1/) as unknown as string },
    ]);
    expect(p.detail).toBe('2 fields failed validation');
  });
});

describe('response checks', () => {
  const User = Type.Object({ id: Type.Integer(), token: Type.String(), at: Type.String({ format: 'date-time' }) });
  const build = (checkResponses?: boolean) => {
    const a = createApp({ onError: () => {}, ...(checkResponses === undefined ? {} : { checkResponses }) });
    const bad = (v: unknown): { id: number; token: string; at: string } => v as { id: number; token: string; at: string };
    a.get('/wrong-type', { schema: { response: { 200: User } } }, () => bad({ id: 1, token: 123, at: new Date(0).toISOString() }));
    a.get('/missing', { schema: { response: { 200: User } } }, () => bad({ id: 1 }));
    a.get('/date', { schema: { response: { 200: User } } }, () => ({ id: 1, token: 't', at: new Date(0), secret: 'dropped' }));
    return a;
  };

  it('are on in tests (NODE_ENV=test): a value that does not match its schema is a 500 naming the fields', async () => {
    expect(process.env.NODE_ENV).toBe('test');
    const a = build();
    const wrong = await a.inject({ url: '/wrong-type' });
    expect(wrong.status).toBe(500);
    const missing = await a.inject({ url: '/missing' });
    expect(missing.status).toBe(500);
    // A Date is its ISO string once serialized: it fits a date-time string; undeclared properties are dropped.
    const ok = await a.inject({ url: '/date' });
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual({ id: 1, token: 't', at: '1970-01-01T00:00:00.000Z' });
  });

  it('name the mismatch in dev, and are off when switched off', async () => {
    const logged: unknown[] = [];
    const devApp = createApp({ dev: true, onError: (e) => void logged.push(e) });
    devApp.get('/m', { schema: { response: { 200: User } } }, () => ({ id: 'x', token: 't', at: 'now' }) as unknown as { id: number; token: string; at: string });
    const r = await devApp.inject({ url: '/m' });
    expect(r.status).toBe(500);
    expect(r.json<Problem>().detail).toMatch(/200 response does not match its schema: \/response\/id: Expected integer; \/response\/at: .*date-time/);
    expect(logged).toHaveLength(1);
    const off = await build(false).inject({ url: '/wrong-type' });
    expect(off.status).toBe(200);
  });
});

describe('path params', () => {
  it('an unknown type name is refused instead of becoming a regex', () => {
    const a = createApp();
    expect(() => a.get('/users/{id:integer}', () => 'x')).toThrow(RouteError);
    expect(() => a.get('/users/{id:number}', () => 'x')).toThrow(/unknown parameter type "number" for "id": the types are int, float, uuid, slug, path; .* \{id:\(number\)\}/);
    a.get('/mode/{m:(edit)}', (ctx) => ctx.params.m); // a one-word regex, written as the message says
  });

  it('a params schema naming a parameter the path lacks is refused; a group prefix’s parameters count', () => {
    const a = createApp();
    expect(() => a.get('/users/{id:int}', { schema: { params: Type.Object({ userId: Type.Integer() }) } }, () => 'x')).toThrow(/GET \/users\/\{id:int\}: the params schema names "userId", not in the path \(its parameters: id\)/);
    a.group('/orgs/{org:slug}', (g) => {
      g.get('/users/{id:int}', { schema: { params: Type.Object({ org: Type.String({ minLength: 2 }), id: Type.Integer() }) } }, (ctx) => ctx.params);
    });
    return a.inject({ url: '/orgs/acme/users/3' }).then((r) => expect(r.json()).toEqual({ org: 'acme', id: 3 }));
  });
});

describe('authentication answers before validation', () => {
  const auth = dep('auth', (ctx) => {
    if (ctx.req.get('authorization') !== 'Bearer good') throw new HttpError(401, { detail: 'who are you?' }, { 'www-authenticate': 'Bearer' });
    return { id: 1, roles: ['reader'] };
  });
  const app = createApp({
    authorize: (ctx, required) => {
      if (ctx.req.get('authorization') === undefined) throw new HttpError(401);
      if (!required.every((r) => r === 'notes:read')) throw new HttpError(403);
    },
  });
  const query = Type.Object({ limit: Type.Integer({ maximum: 10 }) });
  app.get('/dep', { deps: [auth], schema: { query } }, (ctx) => ({ limit: ctx.query.limit }));
  app.get('/requires', { requires: ['notes:write'], schema: { query } }, () => 'x');

  it('an anonymous request with a bad query gets 401 from a route dep, not 422', async () => {
    const r = await app.inject({ url: '/dep?limit=abc' });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer');
    expect(r.text()).not.toMatch(/limit/);
    expect((await app.inject({ url: '/dep?limit=abc', headers: { authorization: 'Bearer good' } })).status).toBe(422);
    expect((await app.inject({ url: '/dep?limit=3', headers: { authorization: 'Bearer good' } })).json()).toEqual({ limit: 3 });
  });

  it('route requires answers 401/403 before 422', async () => {
    expect((await app.inject({ url: '/requires?limit=abc' })).status).toBe(401);
    expect((await app.inject({ url: '/requires?limit=abc', headers: { authorization: 'Bearer x' } })).status).toBe(403);
  });
});

describe('undeclared body properties never reach the handler (mass assignment)', () => {
  const app = createApp();
  const seen: unknown[] = [];
  const Item = Type.Object({ sku: Type.String(), qty: Type.Integer() });
  app.post('/orders', { schema: { body: Type.Object({ note: Type.String(), items: Type.Array(Item), ship: Type.Object({ city: Type.String() }), meta: Type.Object({}, { additionalProperties: true }) }) } }, (ctx) => {
    seen.push(ctx.body);
    return { ok: true };
  });
  app.post('/strict', { schema: { body: Type.Object({ name: Type.String() }, { additionalProperties: false }) } }, (ctx) => ctx.body);
  app.post('/signup', { schema: { consumes: ['application/json', 'application/x-www-form-urlencoded'], body: Type.Object({ name: Type.String(), email: Type.String() }) } }, (ctx) => ctx.body);

  it('drops them at every level of a JSON body; additionalProperties: true keeps them; false refuses them (422)', async () => {
    const body = { note: 'n', id: 50, role: 'admin', items: [{ sku: 'a', qty: 1, price: 0 }], ship: { city: 'Oslo', cost: 0 }, meta: { anything: 1 } };
    expect((await app.inject({ method: 'POST', url: '/orders', body })).status).toBe(200);
    expect(seen.pop()).toEqual({ note: 'n', items: [{ sku: 'a', qty: 1 }], ship: { city: 'Oslo' }, meta: { anything: 1 } });
    const strict = await app.inject({ method: 'POST', url: '/strict', body: { name: 'ann', admin: true } });
    expect(strict.status).toBe(422);
  });

  it('drops them from an urlencoded form too, and __proto__ never becomes a prototype', async () => {
    const res = await app.inject({ method: 'POST', url: '/signup', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=ann&email=a%40b.c&id=50&createdAt=1999-01-01' });
    expect(res.json()).toEqual({ name: 'ann', email: 'a@b.c' });
    const proto = await app.inject({ method: 'POST', url: '/signup', body: '{"name":"x","email":"y","__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } });
    expect(proto.json()).toEqual({ name: 'x', email: 'y' });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});
