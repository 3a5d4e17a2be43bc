import { describe, expect, it } from 'vitest';
import { Router, RouteError, parsePattern, type RouteResult } from '../../lib/router/index.js';

function found<T>(r: RouteResult<T>) {
  if (r.status !== 200) throw new Error(`expected a match, got ${JSON.stringify(r)}`);
  return r;
}

describe('patterns', () => {
  it('matches static routes, case-sensitively by default', () => {
    const r = new Router<string>().add('GET', '/a/b', 'ab').add('GET', '/', 'root');
    expect(found(r.find('GET', '/a/b')).store).toBe('ab');
    expect(found(r.find('GET', '/')).store).toBe('root');
    expect(r.find('GET', '/A/b').status).toBe(404);
    expect(r.find('GET', '/a/b/').status).toBe(404);
  });

  it('accepts both :name and {name} spellings', () => {
    const r = new Router<string>().add('GET', '/u/:id', 'colon').add('GET', '/v/{id}', 'brace');
    expect(found(r.find('GET', '/u/7')).params).toEqual({ id: '7' });
    expect(found(r.find('GET', '/v/x')).params).toEqual({ id: 'x' });
  });

  it('converts typed parameters and falls through when conversion fails', () => {
    const r = new Router<string>()
      .add('GET', '/n/{id:int}', 'int')
      .add('GET', '/n/{x:float}', 'float')
      .add('GET', '/n/{u:uuid}', 'uuid')
      .add('GET', '/n/{s:slug}', 'slug')
      .add('GET', '/n/:other', 'plain');
    expect(found(r.find('GET', '/n/42'))).toMatchObject({ store: 'int', params: { id: 42 } });
    expect(found(r.find('GET', '/n/-7'))).toMatchObject({ store: 'int', params: { id: -7 } });
    expect(found(r.find('GET', '/n/2.5'))).toMatchObject({ store: 'float', params: { x: 2.5 } });
    expect(found(r.find('GET', '/n/1e3'))).toMatchObject({ store: 'float', params: { x: 1000 } });
    expect(found(r.find('GET', '/n/123e4567-e89b-12d3-a456-426614174000'))).toMatchObject({ store: 'uuid' });
    expect(found(r.find('GET', '/n/hello-world'))).toMatchObject({ store: 'slug' });
    expect(found(r.find('GET', '/n/Hello_World'))).toMatchObject({ store: 'plain', params: { other: 'Hello_World' } });
    expect(typeof found(r.find('GET', '/n/42')).params.id).toBe('number');
  });

  it('supports regex constraints, including braces inside them', () => {
    const r = new Router<string>().add('GET', '/c/{code:[A-Z]{3}}', 'code').add('GET', '/c/:any', 'any');
    expect(found(r.find('GET', '/c/EUR'))).toMatchObject({ store: 'code', params: { code: 'EUR' } });
    expect(found(r.find('GET', '/c/EURO'))).toMatchObject({ store: 'any' });
  });

  it('supports several parameters in one segment, shortest first', () => {
    const r = new Router<string>().add('GET', '/files/:name.:ext', 'file').add('GET', '/img/{w:int}x{h:int}.png', 'img');
    expect(found(r.find('GET', '/files/report.pdf')).params).toEqual({ name: 'report', ext: 'pdf' });
    expect(found(r.find('GET', '/files/archive.tar.gz')).params).toEqual({ name: 'archive', ext: 'tar.gz' });
    expect(found(r.find('GET', '/img/640x480.png')).params).toEqual({ w: 640, h: 480 });
    expect(r.find('GET', '/files/noext').status).toBe(404);
  });

  it('matches the rest of the path with {x:path} (no traversal) and *', () => {
    const r = new Router<string>().add('GET', '/static/{file:path}', 'static').add('GET', '/any/*', 'wild');
    expect(found(r.find('GET', '/static/css/site.css')).params).toEqual({ file: 'css/site.css' });
    expect(r.find('GET', '/static/../etc/passwd').status).toBe(404);
    expect(r.find('GET', '/static/a/%2e%2e/b').status).toBe(404);
    expect(r.find('GET', '/static/').status).toBe(404);
    expect(found(r.find('GET', '/any/x/y/z')).params).toEqual({ '*': 'x/y/z' });
    expect(found(r.find('GET', '/any/')).params).toEqual({ '*': '' });
  });

  it('supports an optional last parameter', () => {
    const r = new Router<string>().add('GET', '/posts/{page:int}?', 'posts');
    expect(found(r.find('GET', '/posts')).params).toEqual({});
    expect(found(r.find('GET', '/posts/3')).params).toEqual({ page: 3 });
    expect(found(r.find('GET', '/posts')).pattern).toBe('/posts/{page:int}?');
  });

  it('treats :: as a literal colon', () => {
    const r = new Router<string>().add('GET', '/v1/item::action', 'lit');
    expect(found(r.find('GET', '/v1/item:action')).store).toBe('lit');
  });
});

describe('priority and backtracking', () => {
  it('prefers static > typed > plain > wildcard', () => {
    const r = new Router<string>()
      .add('GET', '/u/me', 'static')
      .add('GET', '/u/{id:int}', 'typed')
      .add('GET', '/u/:name', 'plain')
      .add('GET', '/u/*', 'wild');
    expect(found(r.find('GET', '/u/me')).store).toBe('static');
    expect(found(r.find('GET', '/u/1')).store).toBe('typed');
    expect(found(r.find('GET', '/u/bob')).store).toBe('plain');
    expect(found(r.find('GET', '/u/bob/x')).store).toBe('wild');
  });

  it('backtracks out of a static branch that fails deeper (/a/b/c vs /a/:x/d)', () => {
    const r = new Router<string>().add('GET', '/a/b/c', 'abc').add('GET', '/a/:x/d', 'axd');
    expect(found(r.find('GET', '/a/b/c')).store).toBe('abc');
    expect(found(r.find('GET', '/a/b/d'))).toMatchObject({ store: 'axd', params: { x: 'b' } });
  });

  it('backtracks to a route with the requested method', () => {
    const r = new Router<string>().add('GET', '/users/me', 'me').add('POST', '/users/:id', 'post');
    expect(found(r.find('POST', '/users/me'))).toMatchObject({ store: 'post', params: { id: 'me' } });
  });
});

describe('registration errors', () => {
  it('refuses routes no request can tell apart', () => {
    const r = new Router<string>().add('GET', '/a/:x', '1');
    expect(() => r.add('GET', '/a/:y', '2')).toThrow(/conflicts with GET \/a\/:x/);
    expect(() => r.add('GET', '/a/{z}', '2')).toThrow(RouteError);
    r.add('POST', '/a/:y', 'other method is fine');
    r.add('GET', '/a/{x:int}', 'typed differs');
    r.add('GET', '/b/{c:[0-9]+}', '3');
    expect(() => r.add('GET', '/b/{d:[0-9]+}', '4')).toThrow(/conflicts/);
    r.add('GET', '/opt', '5');
    expect(() => r.add('GET', '/opt/:id?', '6')).toThrow(/conflicts with GET \/opt/); // its "/opt" form
  });

  it('leaves the router unchanged when an optional route conflicts', () => {
    const r = new Router<string>().add('GET', '/', 'root');
    expect(() => r.add('GET', '/:id?', 'x')).toThrow(/conflicts/);
    expect(r.find('GET', '/abc').status).toBe(404);
  });

  const malformed = [
    'no-slash',
    '/a/:',
    '/a/:1x',
    '/a/{x',
    '/a/x}',
    '/a/{}',
    '/a/{x:}',
    '/a/{x:[}',
    '/a/*/b',
    '/a/{p:path}/b',
    '/a/:x?/b',
    '/a/:x:y',
    '/a?q',
    '/a/x:y?',
  ];
  for (const p of malformed) {
    it(`refuses malformed pattern ${JSON.stringify(p)}`, () => {
      expect(() => new Router().add('GET', p, 1)).toThrow(RouteError);
    });
  }

  it('refuses a parameter name used twice, and reserved names', () => {
    expect(() => new Router().add('GET', '/a/:id/b/:id', 1)).toThrow(/used twice/);
    expect(() => new Router().add('GET', '/a/:__proto__', 1)).toThrow(/reserved/);
    expect(() => new Router().add('GET BAD', '/a', 1)).toThrow(/invalid method/);
  });

  it('parses patterns into tokens', () => {
    expect(parsePattern('/f/{name}.{ext:[a-z]+}')).toEqual([
      { kind: 'static', text: '/f/' },
      { kind: 'param', name: 'name', type: 'string', optional: false },
      { kind: 'static', text: '.' },
      { kind: 'param', name: 'ext', type: 'regex', regex: '[a-z]+', optional: false },
    ]);
  });
});

describe('lookups', () => {
  it('decodes parameters safely; %2F stays inside the parameter; bad escapes are 400', () => {
    const r = new Router<string>().add('GET', '/p/:v', 'p').add('GET', '/caf\u00e9', 'cafe');
    expect(found(r.find('GET', '/p/a%20b')).params).toEqual({ v: 'a b' });
    expect(found(r.find('GET', '/p/a%2Fb')).params).toEqual({ v: 'a/b' });
    expect(found(r.find('GET', '/p/100%25')).params).toEqual({ v: '100%' });
    expect(found(r.find('GET', '/p/%252F')).params).toEqual({ v: '%2F' });
    expect(found(r.find('GET', '/caf%C3%A9')).store).toBe('cafe');
    expect(r.find('GET', '/p/%zz')).toMatchObject({ status: 400 });
    expect(r.find('GET', '/p/%E0%A4%A')).toMatchObject({ status: 400 });
    expect(r.find('GET', '/p/%C3')).toMatchObject({ status: 400 });
  });

  it('answers 405 with the allowed methods, and falls back from HEAD to GET', () => {
    const r = new Router<string>().add(['GET', 'PUT'], '/doc/:id', 'doc').add('DELETE', '/doc/{id:int}', 'del');
    expect(r.find('POST', '/doc/abc')).toEqual({ status: 405, allowed: ['GET', 'HEAD', 'PUT'] });
    expect(r.find('POST', '/doc/1')).toEqual({ status: 405, allowed: ['DELETE', 'GET', 'HEAD', 'PUT'] });
    expect(found(r.find('HEAD', '/doc/1'))).toMatchObject({ store: 'doc', method: 'GET' });
    expect(new Router<string>({ headFallback: false }).add('GET', '/x', 'x').find('HEAD', '/x')).toEqual({ status: 405, allowed: ['GET'] });
    expect(r.find('GET', '/nothing').status).toBe(404);
  });

  it('splits the query string off before matching', () => {
    const r = new Router<string>().add('GET', '/s', 's').add('GET', '/d/:x', 'd');
    expect(found(r.find('GET', '/s?a=1&b=2'))).toMatchObject({ store: 's', query: 'a=1&b=2' });
    expect(found(r.find('GET', '/d/v?z'))).toMatchObject({ params: { x: 'v' }, query: 'z' });
  });

  it('returns the same cached object for a static hit (no allocation)', () => {
    const r = new Router<string>().add('GET', '/health', 'h');
    expect(r.find('GET', '/health')).toBe(r.find('GET', '/health'));
    expect(Object.isFrozen(r.find('GET', '/health'))).toBe(true);
  });

  it('enforces maxParamLength', () => {
    const r = new Router<string>({ maxParamLength: 5 }).add('GET', '/p/:v', 'p');
    expect(r.find('GET', '/p/12345').status).toBe(200);
    expect(r.find('GET', '/p/123456').status).toBe(404);
  });

  it('matches case-insensitively when asked, keeping the case of parameters', () => {
    const r = new Router<string>({ caseSensitive: false }).add('GET', '/Users/:Name', 'u');
    expect(found(r.find('GET', '/USERS/BoB')).params).toEqual({ Name: 'BoB' });
  });

  it('trailing slash: strict, ignore, redirect', () => {
    const strict = new Router<string>().add('GET', '/a', 'a');
    expect(strict.find('GET', '/a/').status).toBe(404);
    const ignore = new Router<string>({ trailingSlash: 'ignore' }).add('GET', '/a', 'a').add('GET', '/b/', 'b');
    expect(found(ignore.find('GET', '/a/')).store).toBe('a');
    expect(found(ignore.find('GET', '/b')).store).toBe('b');
    expect(ignore.find('GET', '/').status).toBe(404); // no route for the root; "/" is never stripped
  });

  it('trailing slash redirect hints the other form', () => {
    const r = new Router<string>({ trailingSlash: 'redirect' }).add('GET', '/a', 'a').add('GET', '/b/', 'b');
    expect(r.find('GET', '/a/?x=1')).toEqual({ status: 308, location: '/a?x=1' });
    expect(r.find('GET', '/b')).toEqual({ status: 308, location: '/b/' });
    expect(r.find('GET', '/c').status).toBe(404);
  });
});

describe('mounting and listing', () => {
  it('mounts a sub-router under a prefix and lists every route', () => {
    const api = new Router<string>().add('GET', '/users/{id:int}', 'user').add('POST', '/users', 'create').add('GET', '/', 'index');
    const root = new Router<string>().add('GET', '/', 'home').mount('/api/v1', api);
    expect(found(root.find('GET', '/api/v1/users/3'))).toMatchObject({ store: 'user', pattern: '/api/v1/users/{id:int}' });
    expect(found(root.find('GET', '/api/v1')).store).toBe('index');
    expect(root.routes()).toEqual([
      { method: 'GET', pattern: '/', params: [], store: 'home' },
      { method: 'GET', pattern: '/api/v1/users/{id:int}', params: [{ name: 'id', type: 'int' }], store: 'user' },
      { method: 'POST', pattern: '/api/v1/users', params: [], store: 'create' },
      { method: 'GET', pattern: '/api/v1', params: [], store: 'index' },
    ]);
  });
});
