import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app/index.js';

function app() {
  const a = createApp({ openapi: { info: { title: 'Notes', version: '1.0.0' } } });
  a.post(
    '/notes/{folder:slug}',
    {
      summary: 'Create a note',
      tags: ['notes'],
      schema: {
        params: Type.Object({ folder: Type.String({ minLength: 2 }) }),
        query: Type.Object({ notify: Type.Optional(Type.Boolean()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }),
        body: Type.Object({ title: Type.String({ minLength: 1 }), tags: Type.Array(Type.String(), { maxItems: 3 }) }),
        response: { 201: Type.Object({ id: Type.Integer(), title: Type.String() }) },
      },
    },
    (ctx) => {
      // Types flow from the schema: body.title is a string, query.limit a number.
      const title: string = ctx.body.title;
      const limit: number | undefined = ctx.query.limit;
      ctx.json({ id: 1, title, folder: ctx.params.folder, limit, notify: ctx.query.notify }, 201);
    },
  );
  a.get('/items/{id:int}', { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } }, (ctx) => ({ id: ctx.params.id }));
  return a;
}

describe('route schemas', () => {
  it('validates and converts params, query and body, and types reach the handler', async () => {
    const r = await app().inject({ method: 'POST', url: '/notes/work?notify=true&limit=5', body: { title: 'Hi', tags: ['a'] } });
    expect(r.status).toBe(201);
    expect(r.json()).toEqual({ id: 1, title: 'Hi', folder: 'work', limit: 5, notify: true });
  });

  it('answers 422 problem+json listing every failing field', async () => {
    const r = await app().inject({ method: 'POST', url: '/notes/work?limit=500', body: { title: '', tags: ['a', 'b', 'c', 'd'], extra: 1 } });
    expect(r.status).toBe(422);
    expect(r.headers['content-type']).toBe('application/problem+json');
    const p = r.json<{ errors: Array<{ path: string }> }>();
    expect(p.errors.map((e) => e.path).sort()).toEqual(['/body/tags', '/body/title', '/query/limit']);
  });

  it('answers 415 to a body that is neither JSON nor a form, and checks typed params', async () => {
    expect((await app().inject({ method: 'POST', url: '/notes/work', body: 'title=x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await app().inject({ url: '/items/0' })).status).toBe(422);
    expect((await app().inject({ url: '/items/7' })).json()).toEqual({ id: 7 });
    expect((await app().inject({ url: '/items/x' })).status).toBe(404); // not an int: no route matches
  });
});

describe('string conversion of params, query and headers', () => {
  const a = createApp();
  a.get(
    '/conv',
    {
      schema: {
        query: Type.Object({
          n: Type.Optional(Type.Number()),
          ids: Type.Optional(Type.Array(Type.Integer())),
          tags: Type.Optional(Type.Array(Type.String())),
          on: Type.Optional(Type.Boolean()),
          sort: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
        }),
        headers: Type.Object({ 'x-page': Type.Optional(Type.Integer({ minimum: 1 })) }),
      },
    },
    (ctx) => ctx.query,
  );
  // A nested shape takes the generic TypeBox conversion path.
  a.get('/nested', { schema: { query: Type.Object({ range: Type.Optional(Type.Union([Type.Integer(), Type.Literal('all')])) }) } }, (ctx) => ctx.query);

  it('converts numbers, booleans, literals and repeated keys to arrays of the declared type', async () => {
    const r = await a.inject({ url: '/conv?n=-1.5e2&ids=3&ids=4&tags=x&on=false&sort=asc' });
    expect(r.json()).toEqual({ n: -150, ids: [3, 4], tags: ['x'], on: false, sort: 'asc' });
    expect((await a.inject({ url: '/conv?ids=7' })).json()).toEqual({ ids: [7] });
  });

  it('leaves unconvertible strings for the validator to reject, naming each field', async () => {
    const r = await a.inject({ url: '/conv?n=12abc&ids=1&ids=x&on=yes&sort=up', headers: { 'x-page': '0' } });
    expect(r.status).toBe(422);
    const paths = r.json<{ errors: Array<{ path: string }> }>().errors.map((e) => e.path);
    for (const p of ['/query/n', '/query/ids/1', '/query/on', '/query/sort', '/headers/x-page']) expect(paths).toContain(p);
    expect((await a.inject({ url: '/conv?n=' })).status).toBe(422); // an empty string is not 0
  });

  it('falls back to the generic conversion for other shapes', async () => {
    expect((await a.inject({ url: '/nested?range=5' })).json()).toEqual({ range: 5 });
    expect((await a.inject({ url: '/nested?range=all' })).json()).toEqual({ range: 'all' });
  });
});

describe('form bodies and body limits', () => {
  it('accepts an urlencoded form for a body schema, converting its strings to the declared types', async () => {
    const a = createApp();
    a.post('/signup', { schema: { consumes: ['application/json', 'application/x-www-form-urlencoded'], body: Type.Object({ name: Type.String({ minLength: 1 }), age: Type.Integer({ minimum: 13 }), tags: Type.Array(Type.String()), news: Type.Boolean() }) } }, (ctx) => ctx.body);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const ok = await a.inject({ method: 'POST', url: '/signup', headers: form, body: 'name=Ada+L&age=36&tags=x&tags=y%20z&news=true' });
    expect(ok.json()).toEqual({ name: 'Ada L', age: 36, tags: ['x', 'y z'], news: true });
    const bad = await a.inject({ method: 'POST', url: '/signup', headers: form, body: 'name=&age=9&tags=x&news=maybe' });
    expect(bad.status).toBe(422);
    expect(bad.json<{ errors: Array<{ path: string }> }>().errors.map((e) => e.path).sort()).toEqual(['/body/age', '/body/name', '/body/news']);
  });

  it('answers 413 problem+json past the route bodyLimit, for JSON and forms', async () => {
    const a = createApp();
    a.post('/small', { bodyLimit: 64, schema: { consumes: ['application/json', 'application/x-www-form-urlencoded'], body: Type.Object({ text: Type.String() }) } }, (ctx) => ctx.body);
    expect((await a.inject({ method: 'POST', url: '/small', body: { text: 'short' } })).status).toBe(200);
    const big = await a.inject({ method: 'POST', url: '/small', body: { text: 'x'.repeat(100) } });
    expect([big.status, big.headers['content-type']]).toEqual([413, 'application/problem+json']);
    const bigForm = await a.inject({ method: 'POST', url: '/small', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `text=${'x'.repeat(100)}` });
    expect(bigForm.status).toBe(413);
  });
});

describe('OpenAPI', () => {
  it('serves a 3.1 document built from the routes and their schemas', async () => {
    const doc = (await app().inject({ url: '/openapi.json' })).json<{
      openapi: string;
      info: { title: string };
      paths: Record<string, Record<string, { summary?: string; parameters?: Array<{ name: string; in: string; schema: { type?: string } }>; requestBody?: unknown; responses: Record<string, unknown> }>>;
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Notes');
    const post = doc.paths['/notes/{folder}']!.post!;
    expect(post.summary).toBe('Create a note');
    expect(post.parameters!.map((p) => `${p.in}:${p.name}`)).toEqual(['path:folder', 'query:notify', 'query:limit']);
    expect(post.requestBody).toMatchObject({ required: true, content: { 'application/json': { schema: { type: 'object' } } } });
    // 404: a slug param may not match; 415: a body schema refuses other media types; 422: validation.
    expect(Object.keys(post.responses).sort()).toEqual(['201', '404', '415', '422', 'default']);
    expect(doc.paths['/items/{id}']!.get!.parameters![0]!.schema.type).toBe('integer');
    // A bare {id:int} says what it takes: up to 15 digits, an int64 (#27).
    const bare = createApp({ openapi: { info: { title: 't', version: '1' } } });
    bare.get('/n/{id:int}', () => 'x');
    const p = (await bare.inject({ url: '/openapi.json' })).json<{ paths: Record<string, { get: { parameters: Array<{ schema: unknown }> } }> }>().paths['/n/{id}']!.get.parameters[0]!.schema;
    expect(p).toEqual({ type: 'integer', format: 'int64', minimum: -999_999_999_999_999, maximum: 999_999_999_999_999 });
    // The body's media types are the route's: JSON only unless it says more (#27).
    expect(Object.keys((post.requestBody as { content: object }).content)).toEqual(['application/json']);
  });
});
