/**
 * API versioning: the four places a request names its version, routes over version ranges, the errors
 * (unknown version 400, a route absent from a version 404), deprecation and sunset headers in the
 * formats of RFC 9745 and RFC 8594, mistakes refused at registration, and one OpenAPI document per
 * version.
 */
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { createApp, testClient, type VersioningOptions } from '../../lib/app/index.js';

const SUNSET = '2027-06-30T00:00:00Z';
function app(by: VersioningOptions['by'], extra: Partial<VersioningOptions> = {}) {
  const a = createApp({
    versioning: { versions: ['1', '2', '3'], by, deprecated: { '1': { since: '2026-12-01T00:00:00Z', sunset: SUNSET, link: 'https://example.com/v2' } }, ...extra },
    openapi: { info: { title: 'Users', version: 'x' }, docs: false },
  });
  a.get('/users/{id:int}', { version: '1', summary: 'a user (v1)' }, (ctx) => ({ id: ctx.params.id, name: 'Ada Lovelace', v: ctx.apiVersion }));
  a.get('/users/{id:int}', { version: '>=2', summary: 'a user', schema: { response: { 200: Type.Object({ id: Type.Integer(), given: Type.String(), v: Type.String() }) } } }, (ctx) => ({ id: ctx.params.id, given: 'Ada', v: ctx.apiVersion! }));
  a.get('/teams', { version: '3' }, () => ['core']);
  a.get('/health', () => 'ok'); // every version
  a.get('/legacy', { deprecated: true }, () => 'old');
  return a;
}

describe('versioning by header (Accept-Version)', () => {
  const a = app('header');
  it('picks the route of the version named; none named is the latest; the response varies on the header', async () => {
    const v1 = await a.inject({ url: '/users/7', headers: { 'accept-version': '1' } });
    expect(v1.json()).toEqual({ id: 7, name: 'Ada Lovelace', v: '1' });
    const v2 = await a.inject({ url: '/users/7', headers: { 'accept-version': '2' } });
    expect(v2.json()).toEqual({ id: 7, given: 'Ada', v: '2' });
    expect((await a.inject({ url: '/users/7' })).json()).toEqual({ id: 7, given: 'Ada', v: '3' });
    expect(v2.headers.vary).toContain('Accept-Version');
    expect((await a.inject({ url: '/health', headers: { 'accept-version': '1' } })).text()).toBe('ok');
  });

  it('a deprecated version answers Deprecation (RFC 9745: @seconds), Sunset (RFC 8594: an HTTP-date) and Link; a current one does not', async () => {
    const v1 = await a.inject({ url: '/users/7', headers: { 'accept-version': '1' } });
    expect(v1.headers.deprecation).toBe(`@${Date.parse('2026-12-01T00:00:00Z') / 1000}`);
    expect(v1.headers.sunset).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
    expect(v1.headers.link).toBe('<https://example.com/v2>; rel="deprecation", <https://example.com/v2>; rel="sunset"');
    const v2 = await a.inject({ url: '/users/7', headers: { 'accept-version': '2' } });
    expect(v2.headers.deprecation).toBeUndefined();
    expect(v2.headers.sunset).toBeUndefined();
    // A deprecated route without a date: the boolean form.
    expect((await a.inject({ url: '/legacy' })).headers.deprecation).toBe('?1');
  });

  it('an unknown version is a 400 naming the versions; a route absent from the version asked is a 404', async () => {
    const bad = await a.inject({ url: '/users/7', headers: { 'accept-version': '9' } });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json()).toMatchObject({ detail: 'API version "9" does not exist; the versions are 1, 2, 3' });
    const absent = await a.inject({ url: '/teams', headers: { 'accept-version': '2' } });
    expect(absent.status).toBe(404);
    expect(absent.json()).toMatchObject({ detail: 'GET /teams does not exist in API version 2' });
    expect((await a.inject({ url: '/teams', headers: { 'accept-version': '3' } })).json()).toEqual(['core']);
  });

  it('one OpenAPI document per version (the plain path is the latest): each has its version\'s routes, the header parameter, and marks a deprecated version', async () => {
    const d1 = (await a.inject({ url: '/openapi/1.json' })).json() as { info: { version: string }; paths: Record<string, Record<string, { summary?: string; deprecated?: boolean; parameters?: Array<{ name: string; in: string; schema: unknown }> }>> };
    expect(d1.info.version).toBe('1');
    expect(Object.keys(d1.paths).sort()).toEqual(['/health', '/legacy', '/users/{id}']);
    expect(d1.paths['/users/{id}']!.get!.summary).toBe('a user (v1)');
    expect(d1.paths['/users/{id}']!.get!.deprecated).toBe(true);
    expect(d1.paths['/users/{id}']!.get!.parameters).toContainEqual({ name: 'Accept-Version', in: 'header', required: false, schema: { type: 'string', const: '1' } });
    const latest = (await a.inject({ url: '/openapi.json' })).json() as typeof d1;
    expect(latest.info.version).toBe('3');
    expect(Object.keys(latest.paths).sort()).toEqual(['/health', '/legacy', '/teams', '/users/{id}']);
    expect(latest.paths['/users/{id}']!.get!.summary).toBe('a user');
    expect(latest.paths['/users/{id}']!.get!.deprecated).toBeUndefined();
    expect(latest.paths['/legacy']!.get!.deprecated).toBe(true);
    expect((await a.inject({ url: '/openapi/2.yaml' })).text()).toMatch(/^openapi: /);
  });
});

describe('the other places a version is named', () => {
  it('URL prefix: each route is served under each version it exists in', async () => {
    const a = app('url');
    expect((await a.inject({ url: '/v1/users/7' })).json()).toEqual({ id: 7, name: 'Ada Lovelace', v: '1' });
    expect((await a.inject({ url: '/v2/users/7' })).json()).toEqual({ id: 7, given: 'Ada', v: '2' });
    expect((await a.inject({ url: '/v1/users/7' })).headers.sunset).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
    expect((await a.inject({ url: '/v2/teams' })).status).toBe(404);
    expect((await a.inject({ url: '/v3/teams' })).status).toBe(200);
    expect((await a.inject({ url: '/users/7' })).status).toBe(404);
    const d2 = (await a.inject({ url: '/openapi/2.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(d2.paths).sort()).toEqual(['/v2/health', '/v2/legacy', '/v2/users/{id}']);
  });

  it('media-type parameter (Accept: application/vnd.example+json; version=1), and query parameter', async () => {
    const m = app('media-type');
    expect((await m.inject({ url: '/users/7', headers: { accept: 'application/vnd.example+json; version=1' } })).json()).toMatchObject({ v: '1' });
    expect((await m.inject({ url: '/users/7', headers: { accept: 'application/vnd.example+json;version="2"' } })).json()).toMatchObject({ v: '2' });
    expect((await m.inject({ url: '/users/7', headers: { accept: 'application/json' } })).json()).toMatchObject({ v: '3' });
    expect((await m.inject({ url: '/users/7', headers: { accept: 'application/json' } })).headers.vary).toContain('Accept');
    const q = app('query', { param: 'api-version' });
    expect((await q.inject({ url: '/users/7?api-version=1' })).json()).toMatchObject({ v: '1' });
    expect((await q.inject({ url: '/users/7?api-version=1' })).headers.vary).toBeUndefined(); // the URL keys caches already
    expect((await q.inject({ url: '/users/7?api-version=4' })).status).toBe(400);
  });

  it('with default: null, a request naming no version is a 400 saying how to name one', async () => {
    const a = app('header', { default: null, header: 'X-API-Version' });
    const r = await a.inject({ url: '/users/7' });
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ detail: 'name the API version (the X-API-Version header): 1, 2, 3' });
    expect((await a.inject({ url: '/users/7', headers: { 'x-api-version': '2' } })).json()).toMatchObject({ v: '2' });
  });
});

describe('with real clients', () => {
  it('fetch over HTTP/1.1 and node:http2 name versions by header; the deprecation headers reach them', async () => {
    const client = await testClient(app('header'));
    try {
      const r = await fetch(`${client.url}/users/7`, { headers: { 'accept-version': '1' } });
      expect(await r.json()).toEqual({ id: 7, name: 'Ada Lovelace', v: '1' });
      expect(r.headers.get('sunset')).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
      expect(r.headers.get('vary')).toContain('Accept-Version');
      const h2 = await client.h2('/users/7', { headers: { 'accept-version': '2' } });
      expect(h2.json()).toEqual({ id: 7, given: 'Ada', v: '2' });
      expect((await client.h2('/users/7', { headers: { 'accept-version': 'x' } })).status).toBe(400);
    } finally {
      await client.close();
    }
  });
});

describe('mistakes are refused when routes are added', () => {
  it('overlapping versions of one route, a range naming no known version, "version" without versioning, a bad default', () => {
    const a = createApp({ versioning: { versions: ['1', '2'], by: 'header' } });
    a.get('/x', { version: '>=1' }, () => 1);
    expect(() => a.get('/x', { version: '2' }, () => 2)).toThrow('GET /x: version 2 of this route is already handled by another');
    expect(() => a.get('/y', { version: '>=5' }, () => 1)).toThrow('GET /y: version "5" in ">=5" is not one of 1, 2');
    expect(() => a.get('/z', { version: '>2' }, () => 1)).toThrow('GET /z: version range ">2" includes no version of 1, 2');
    expect(() => createApp().get('/x', { version: '1' }, () => 1)).toThrow('GET /x: "version" needs createApp({ versioning: { versions, by } })');
    expect(() => createApp({ versioning: { versions: ['1'], by: 'header', default: '2' } })).toThrow('the default version "2" is not one of 1');
    const b = createApp({ versioning: { versions: ['2026-01-15', '2026-06-01'], by: 'header' } });
    b.get('/x', { version: '2026-01-15 || 2026-06-01' }, () => 1); // dated versions, alternatives
  });
});
