import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { apiKeyDep, bearerAuth, createApiKey, importKey, jwtAuth, MemorySessionStore, session, sessionAuth, sessionOf, signJwt, type ApiKeyRecord } from '../../../lib/app/auth/index.js';
import { createApp, rateLimitDocTest, Type } from './auth-deps-helpers.js';

type Problem = { status: number; detail: string };

describe('bearerAuth (RFC 6750 §3)', () => {
  const tokens = new Map([['t-reader', { name: 'ann', scope: 'notes:read' }], ['t-writer', { name: 'bob', scope: 'notes:read notes:write' }]]);
  const auth = bearerAuth({ verify: (t) => tokens.get(t), realm: 'notes' });
  const app = createApp();
  app.get('/me', { deps: [auth] }, (ctx) => ctx.state.user as { name: string });
  app.post('/notes', { deps: [auth.require('notes:write')], schema: { body: Type.Object({ text: Type.String() }) } }, (ctx) => ({ by: (ctx.state.user as { name: string }).name, text: ctx.body.text }));

  it('no credentials: 401 with the bare challenge (no error code)', async () => {
    const r = await app.inject({ url: '/me' });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="notes"');
    expect(r.headers['content-type']).toBe('application/problem+json');
    const basic = await app.inject({ url: '/me', headers: { authorization: 'Basic YTpi' } });
    expect(basic.headers['www-authenticate']).toBe('Bearer realm="notes"');
  });

  it('a malformed Bearer header: 400 invalid_request; a refused token: 401 invalid_token with a description', async () => {
    const bad = await app.inject({ url: '/me', headers: { authorization: 'Bearer a b' } });
    expect(bad.status).toBe(400);
    expect(bad.headers['www-authenticate']).toMatch(/^Bearer realm="notes", error="invalid_request", error_description="[^"]+"$/);
    const wrong = await app.inject({ url: '/me', headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="notes", error="invalid_token", error_description="the token is not valid"');
  });

  it('missing scope: 403 insufficient_scope naming it; a valid caller passes, and the body is validated after auth', async () => {
    const r = await app.inject({ method: 'POST', url: '/notes', headers: { authorization: 'Bearer t-reader' }, body: { nope: 1 } });
    expect(r.status).toBe(403);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="notes", error="insufficient_scope", error_description="the token lacks a required scope", scope="notes:write"');
    expect(r.json<Problem>().detail).toBe('missing scope: notes:write');
    expect((await app.inject({ method: 'POST', url: '/notes', body: { nope: 1 } })).status).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/notes', headers: { authorization: 'Bearer t-writer' }, body: { nope: 1 } })).status).toBe(422);
    const ok = await app.inject({ method: 'POST', url: '/notes', headers: { authorization: 'Bearer t-writer' }, body: { text: 'hi' } });
    expect(ok.json()).toEqual({ by: 'bob', text: 'hi' });
    expect((await app.inject({ url: '/me', headers: { authorization: 'Bearer t-reader' } })).json()).toEqual({ name: 'ann', scope: 'notes:read' });
  });

  it('resolves the principal once per request whatever variants a route lists', async () => {
    let calls = 0;
    const counted = bearerAuth({ verify: (t) => (calls++, tokens.get(t)) });
    const a = createApp();
    a.get('/x', { deps: [counted, counted.require('notes:read'), counted.require('notes:read', 'notes:write')] }, () => 'ok');
    expect((await a.inject({ url: '/x', headers: { authorization: 'Bearer t-writer' } })).status).toBe(200);
    expect(calls).toBe(1);
  });

  it('reads a cookie when there is no Authorization header; error descriptions stay a valid quoted-string', async () => {
    const a = createApp();
    const c = bearerAuth({ verify: () => Promise.reject(new Error('bad "quote" \\ and\nnewline')), cookie: 'token' });
    a.get('/c', { deps: [c] }, () => 'ok');
    const r = await a.inject({ url: '/c', headers: { cookie: 'token=abc' } });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="bad  quote    and newline"');
  });
});

describe('jwtAuth, apiKeyDep, sessionAuth', () => {
  const key = importKey(randomBytes(32), ['HS256']);
  const auth = jwtAuth({ keys: [key], issuer: 'notes' });
  const app = createApp();
  app.get('/jwt', { deps: [auth.require('read')] }, (ctx) => ({ sub: (ctx.state.user as { sub: string }).sub }));

  it('jwtAuth with a claims schema: checked after the signature (401 naming the claim), typed for the handler', async () => {
    const typed = jwtAuth({ keys: [key], issuer: 'notes', claims: Type.Object({ uid: Type.Integer(), email: Type.String({ format: 'email' }) }) });
    const a = createApp();
    a.get('/me', async (ctx) => {
      const me = await ctx.use(typed);
      return { next: me.uid + 1, email: me.email.toLowerCase() }; // a number and a string, by the schema
    });
    const call = async (claims: Record<string, unknown>) => {
      const r = await a.inject({ url: '/me', headers: { authorization: `Bearer ${signJwt(claims, key, { issuer: 'notes', expiresIn: 60 })}` } });
      return [r.status, r.status === 200 ? r.json() : (r.json() as { detail: string }).detail];
    };
    expect(await call({ uid: 41, email: 'Ann@Example.com' })).toEqual([200, { next: 42, email: 'ann@example.com' }]);
    expect(await call({ uid: '41', email: 'ann@example.com' })).toEqual([401, "the token's claims do not match: /uid Expected integer"]);
    expect(await call({ uid: 41 })).toEqual([401, "the token's claims do not match: /email Expected required property"]);
    expect(await call({ uid: 41, email: 'not an email' })).toEqual([401, "the token's claims do not match: /email Expected string to match 'email' format"]);
    // The signature still comes first: a forged token with perfect claims is refused as before.
    const forged = signJwt({ uid: 1, email: 'a@b.c' }, importKey(randomBytes(32), ['HS256']), { issuer: 'notes', expiresIn: 60 });
    const r = await a.inject({ url: '/me', headers: { authorization: `Bearer ${forged}` } });
    expect(r.status).toBe(401);
    expect((r.json() as { detail: string }).detail).not.toContain('claims');
  });

  it('jwtAuth: claims are the principal, scopes from `scope`/`scp`, the JwtError message describes a refusal', async () => {
    const good = signJwt({ scope: 'read write' }, key, { issuer: 'notes', subject: 'u1', expiresIn: 60 });
    expect((await app.inject({ url: '/jwt', headers: { authorization: `Bearer ${good}` } })).json()).toEqual({ sub: 'u1' });
    const scp = signJwt({ scp: ['read'] }, key, { issuer: 'notes', subject: 'u2', expiresIn: 60 });
    expect((await app.inject({ url: '/jwt', headers: { authorization: `Bearer ${scp}` } })).status).toBe(200);
    const noScope = signJwt({}, key, { issuer: 'notes', expiresIn: 60 });
    expect((await app.inject({ url: '/jwt', headers: { authorization: `Bearer ${noScope}` } })).status).toBe(403);
    const expired = signJwt({ scope: 'read' }, key, { issuer: 'notes', expiresIn: -10 });
    const r = await app.inject({ url: '/jwt', headers: { authorization: `Bearer ${expired}` } });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token", error_description="the token expired at \d{4}-/);
  });

  it('apiKeyDep: the key record is the principal and its scopes count', async () => {
    const { key: k, record } = createApiKey('cvt', ['export']);
    const store = new Map<string, ApiKeyRecord>([[record.id, record]]);
    const dep = apiKeyDep({ store: { find: (id) => store.get(id) ?? null } });
    const a = createApp();
    a.get('/export', { deps: [dep.require('export')] }, (ctx) => ({ id: (ctx.state.apiKey as ApiKeyRecord).id }));
    a.get('/admin', { deps: [dep.require('admin')] }, () => 'no');
    expect((await a.inject({ url: '/export', headers: { 'x-api-key': k } })).json()).toEqual({ id: record.id });
    expect((await a.inject({ url: '/export', headers: { authorization: `Bearer ${k}` } })).status).toBe(200);
    expect((await a.inject({ url: '/export' })).status).toBe(401);
    expect((await a.inject({ url: '/export', headers: { 'x-api-key': `${k.slice(0, -1)}x` } })).status).toBe(401);
    expect((await a.inject({ url: '/admin', headers: { 'x-api-key': k } })).status).toBe(403);
  });

  it('sessionAuth: a signed-in session passes, others get 401', async () => {
    const a = createApp();
    a.use(session({ store: new MemorySessionStore(), secrets: ['s'.repeat(32)], cookie: { secure: false } }));
    const signedIn = sessionAuth({ user: (s) => (s.get<string>('user') === undefined ? null : { name: s.get<string>('user')!, scopes: ['notes:read'] }) });
    a.post('/login', async (ctx) => {
      await sessionOf(ctx).set('user', 'ann');
      return 'in';
    });
    a.get('/account', { deps: [signedIn.require('notes:read')] }, (ctx) => ctx.state.user as { name: string });
    expect((await a.inject({ url: '/account' })).status).toBe(401);
    const login = await a.inject({ method: 'POST', url: '/login' });
    const cookie = login.headers['set-cookie']!.split(';')[0]!;
    expect((await a.inject({ url: '/account', headers: { cookie } })).json()).toEqual({ name: 'ann', scopes: ['notes:read'] });
  });
});

describe('the OpenAPI document', () => {
  const Note = Type.Object({ id: Type.Integer(), text: Type.String() }, { $id: 'Note' });
  const build = () => {
    const app = createApp({ openapi: { info: { title: 'Notes', version: '1.0.0' } } });
    rateLimitDocTest(app);
    const auth = jwtAuth({ keys: [importKey(randomBytes(32), ['HS256'])] });
    const key = apiKeyDep({ store: { find: () => null } });
    app.get('/notes', { schema: { response: { 200: Type.Array(Note) } } }, () => []);
    app.post('/notes', { deps: [auth.require('notes:write')], schema: { body: Type.Object({ text: Type.String() }), response: { 201: Note } } }, (ctx) => ({ id: 1, text: ctx.body.text }));
    app.delete('/notes/{id:int}', { deps: [auth], status: 204 }, () => undefined);
    app.get('/export', { deps: [key] }, () => 'csv');
    app.post('/files', { schema: { multipart: Type.Object({ title: Type.String(), file: Type.String({ format: 'binary' }) }) } }, () => 'ok');
    return app;
  };
  type Op = { security?: Array<Record<string, string[]>>; responses: Record<string, { content?: Record<string, { schema: unknown }> }>; requestBody?: { content: Record<string, { schema: unknown }> } };
  type Doc = { paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> } };

  it('has security schemes and requirements from auth deps, 401/403/422/429 problems, named schemas by $ref, and the real success statuses', async () => {
    const app = build();
    const doc = (await app.inject({ url: '/openapi.json' })).json<Doc>();
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, apiKeyAuth: { type: 'apiKey', name: 'x-api-key', in: 'header' } });
    const post = doc.paths['/notes']!.post!;
    expect(post.security).toEqual([{ bearerAuth: ['notes:write'] }]);
    expect(Object.keys(post.responses).sort()).toEqual(['201', '401', '403', '415', '422', '429', 'default']);
    expect(post.responses['201']!.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Note' });
    expect(post.responses['422']!.content!['application/problem+json']!.schema).toEqual({ $ref: '#/components/schemas/ValidationProblem' });
    expect(doc.components.schemas.Note).toMatchObject({ type: 'object', required: ['id', 'text'] });
    expect(doc.paths['/notes']!.get!.responses['200']!.content!['application/json']!.schema).toEqual({ type: 'array', items: { $ref: '#/components/schemas/Note' } });
    const del = doc.paths['/notes/{id}']!.delete!;
    expect(del.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(del.responses).sort()).toEqual(['204', '401', '404', '429', 'default']);
    expect(doc.paths['/export']!.get!.security).toEqual([{ apiKeyAuth: [] }]);
    expect(doc.paths['/files']!.post!.requestBody!.content['multipart/form-data']!.schema).toMatchObject({ properties: { file: { type: 'string', format: 'binary' } } });
    expect(Object.keys(doc.paths).sort()).toEqual(['/export', '/files', '/notes', '/notes/{id}']);
  });

  it('the success status is what the route answers: 201 from the one 2xx schema, 204 from `status`', async () => {
    const app = build();
    const signed = await app.inject({ method: 'POST', url: '/notes', body: { text: 'x' } });
    expect(signed.status).toBe(401);
    const a = createApp();
    a.post('/n', { schema: { response: { 201: Note } } }, () => ({ id: 1, text: 't' }));
    a.delete('/n/{id:int}', { status: 204 }, () => undefined);
    expect((await a.inject({ method: 'POST', url: '/n' })).status).toBe(201);
    const gone = await a.inject({ method: 'DELETE', url: '/n/1' });
    expect([gone.status, gone.body.length]).toEqual([204, 0]);
  });

  it('is served as YAML at /openapi.yaml, equal to the JSON', async () => {
    const app = build();
    const json = (await app.inject({ url: '/openapi.json' })).json();
    const y = await app.inject({ url: '/openapi.yaml' });
    expect(y.headers['content-type']).toBe('application/yaml; charset=utf-8');
    expect(parseYaml(y.text())).toEqual(json);
  });
});
