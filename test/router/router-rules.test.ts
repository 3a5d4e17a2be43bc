/**
 * The router's rules at their edges (#28: written from the router's surviving mutants): every parameter
 * type at the values that just fit and just do not, priorities whatever the insertion order, every
 * registration error with its code and words, backtracking that must forget the values of a dead branch,
 * the char-code index of wide nodes, percent-decoding, trailing slashes and mounting.
 */
import { describe, expect, it } from 'vitest';
import { Router, RouteError, parsePattern, type RouteResult } from '../../lib/router/index.js';
import { decodePathForMatching, validEscapes } from '../../lib/router/percent.js';
import { compileTree, NODE_HEADER, RadixNode } from '../../lib/router/radix-tree.js';

function found<T>(r: RouteResult<T>) {
  if (r.status !== 200) throw new Error(`expected a match, got ${JSON.stringify(r)}`);
  return r;
}

/** The engine's own words for a bad regular expression (they differ between V8 versions). */
function regexError(source: string): string {
  try {
    new RegExp(source);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${source} is a valid regular expression`);
}

/** The value a single `{v:<type>}` route gives for `value`, or null when it does not match. */
function typed(type: string, value: string): string | number | null {
  const r = new Router<string>().add('GET', `/t/{v:${type}}`, 't').find('GET', `/t/${value}`);
  return r.status === 200 ? r.params.v! : null;
}

describe('parameter types at their edges', () => {
  it('int: up to 15 digits, an optional minus, nothing else', () => {
    expect(typed('int', '123456789012345')).toBe(123456789012345);
    expect(typed('int', '1234567890123456')).toBeNull();
    expect(typed('int', '-0')).toBe(-0);
    expect(typed('int', '1.5')).toBeNull();
    expect(typed('int', '+1')).toBeNull();
    expect(typed('int', '1x')).toBeNull();
    expect(typed('int', 'x1')).toBeNull();
  });

  it('float: decimal and exponent forms, anchored at both ends, finite only', () => {
    for (const [v, n] of [
      ['12.5', 12.5],
      ['1.', 1],
      ['.55', 0.55],
      ['-1.5e10', -1.5e10],
      ['1e+5', 1e5],
      ['1E-5', 1e-5],
      ['2e10', 2e10],
      ['10e12', 10e12],
    ] as const) {
      expect(typed('float', v), v).toBe(n);
    }
    // Number() alone would take these: hex, Infinity, blanks around the digits.
    for (const v of ['1e', 'e5', '.', '1.5x', 'x1.5', '..5', '1e5.5', '1e400', '-', '1e+', '0x10', 'Infinity', '%201.5', '1.5%20']) expect(typed('float', v), v).toBeNull();
  });

  it('uuid and slug: anchored at both ends', () => {
    const u = '123e4567-e89b-12d3-a456-426614174000';
    expect(typed('uuid', u)).toBe(u);
    expect(typed('uuid', u.toUpperCase())).toBe(u.toUpperCase());
    expect(typed('uuid', `x${u}`)).toBeNull();
    expect(typed('uuid', `${u}0`)).toBeNull();
    expect(typed('slug', 'ab')).toBe('ab');
    expect(typed('slug', 'a-b-c')).toBe('a-b-c');
    expect(typed('slug', 'ab-')).toBeNull();
    expect(typed('slug', '-ab')).toBeNull();
    expect(typed('slug', 'a--b')).toBeNull();
    expect(typed('slug', 'Ab')).toBeNull();
  });

  it('path: refuses "." and ".." segments anywhere, and an empty rest', () => {
    const r = new Router<string>().add('GET', '/f/{p:path}', 'f');
    expect(found(r.find('GET', '/f/a/.b/c..')).params).toEqual({ p: 'a/.b/c..' });
    for (const p of ['/f/a/./b', '/f/./a', '/f/a/.', '/f/a/..', '/f/..', '/f/']) expect(r.find('GET', p).status, p).toBe(404);
  });

  it('a regex constraint is anchored at both ends', () => {
    const r = new Router<string>().add('GET', '/r/{v:[a-c]+}', 'r');
    expect(found(r.find('GET', '/r/abc')).params).toEqual({ v: 'abc' });
    expect(r.find('GET', '/r/abcd').status).toBe(404);
    expect(r.find('GET', '/r/dabc').status).toBe(404);
  });
});

describe('priorities, whatever the insertion order', () => {
  // Each pair: a value both routes accept; the first kind must win even when added second.
  const pairs: Array<[string, string, string]> = [
    ['{v:int}', '{v:float}', '12'],
    ['{v:uuid}', '{v:slug}', '123e4567-e89b-12d3-a456-426614174000'],
    ['{v:slug}', '{v:[a-z-]+}', 'ab-cd'],
    ['{v:[a-z-]+}', ':v', 'ab-cd'],
    ['{v:int}', ':v', '7'],
    [':v', '{v:path}', 'abc'],
    ['{v:path}', '*', 'a/b'],
  ];
  for (const [first, second, value] of pairs) {
    it(`${first} before ${second} for "${value}"`, () => {
      const a = new Router<string>().add('GET', `/p/${second}`, 'second').add('GET', `/p/${first}`, 'first');
      const b = new Router<string>().add('GET', `/p/${first}`, 'first').add('GET', `/p/${second}`, 'second');
      expect(found(a.find('GET', `/p/${value}`)).store).toBe('first');
      expect(found(b.find('GET', `/p/${value}`)).store).toBe('first');
    });
  }

  it('two regex constraints at one place are ordered by their source, not by insertion', () => {
    const a = new Router<string>().add('GET', '/r/{v:b+|a+}', 'b-first').add('GET', '/r/{v:a+|b+}', 'a-first');
    const b = new Router<string>().add('GET', '/r/{v:a+|b+}', 'a-first').add('GET', '/r/{v:b+|a+}', 'b-first');
    expect(found(a.find('GET', '/r/aa')).store).toBe('a-first');
    expect(found(b.find('GET', '/r/aa')).store).toBe('a-first');
  });

  it('the same regex twice at one place shares one edge; a different regex gets its own', () => {
    const r = new Router<string>().add('GET', '/r/{v:[0-9]+}/a', 'a').add('GET', '/r/{w:[0-9]+}/b', 'b').add('GET', '/r/{v:[a-z]+}/a', 'letters');
    expect(found(r.find('GET', '/r/12/a'))).toMatchObject({ store: 'a', params: { v: '12' } });
    expect(found(r.find('GET', '/r/12/b'))).toMatchObject({ store: 'b', params: { w: '12' } });
    expect(found(r.find('GET', '/r/ab/a'))).toMatchObject({ store: 'letters', params: { v: 'ab' } });
  });

  it('a static child that fails deeper falls back to the parameter, and the end of path to the rest', () => {
    const r = new Router<string>().add('GET', '/a/b/c', 'static').add('GET', '/a/:x/d', 'param').add('GET', '/a/{r:path}', 'rest');
    expect(found(r.find('GET', '/a/b/d'))).toMatchObject({ store: 'param', params: { x: 'b' } });
    expect(found(r.find('GET', '/a/b/e'))).toMatchObject({ store: 'rest', params: { r: 'b/e' } });
    expect(found(r.find('GET', '/a/b'))).toMatchObject({ store: 'rest', params: { r: 'b' } });
    const ends = new Router<string>().add('GET', '/x/{r:path}', 'rest').add('GET', '/x/y/*', 'wild');
    expect(r.find('GET', '/a/').status).toBe(404);
    expect(found(ends.find('GET', '/x/y/')).params).toEqual({ '*': '' });
  });
});

describe('backtracking forgets the values of a dead branch', () => {
  it('a parameter that matched and then failed deeper leaves no value behind', () => {
    const r = new Router<string>().add('GET', '/a/{x:int}/b/:y/c', 'int').add('GET', '/a/:s/b/:t/d', 'plain');
    expect(found(r.find('GET', '/a/1/b/2/d'))).toMatchObject({ store: 'plain', params: { s: '1', t: '2' } });
    expect(found(r.find('GET', '/a/1/b/2/c'))).toMatchObject({ store: 'int', params: { x: 1, y: '2' } });
  });

  it('a shorter value tried first in a segment is forgotten when the longer one matches', () => {
    const r = new Router<string>().add('GET', '/f/:name.:ext/x', 'f');
    expect(found(r.find('GET', '/f/a.b.c/x')).params).toEqual({ name: 'a', ext: 'b.c' });
    const two = new Router<string>().add('GET', '/g/{a:int}-{b:int}', 'g');
    expect(found(two.find('GET', '/g/1-2')).params).toEqual({ a: 1, b: 2 });
    expect(two.find('GET', '/g/1-').status).toBe(404);
    expect(two.find('GET', '/g/-2').status).toBe(404);
  });

  it('static text after a parameter may hold "/" only at its start', () => {
    const r = new Router<string>().add('GET', '/s/:a.x/t', 's');
    expect(found(r.find('GET', '/s/v.x/t')).params).toEqual({ a: 'v' });
    expect(r.find('GET', '/s/.x/t').status).toBe(404); // an empty value never matches
  });

  it('an empty segment never fills a parameter', () => {
    const r = new Router<string>().add('GET', '/e/:a/z', 'e');
    expect(r.find('GET', '/e//z').status).toBe(404);
  });
});

describe('wide nodes (a char-code index past six children)', () => {
  it('finds every child, misses the rest, and handles a non-ASCII first character', () => {
    const r = new Router<string>();
    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', '\u00e9t\u00e9'];
    for (const n of names) r.add('GET', `/w/${n}/:id`, n);
    r.add('GET', '/w/:other/:id', 'param');
    for (const n of names) expect(found(r.find('GET', `/w/${encodeURIComponent(n)}/1`)).store, n).toBe(n);
    expect(found(r.find('GET', '/w/india/1')).store).toBe('param');
    expect(found(r.find('GET', '/w/alphabet/1')).store).toBe('param');
    expect(found(r.find('GET', '/w/%C3%A0/1')).store).toBe('param');
    expect(found(r.find('GET', '/w/golf/1')).store).toBe('golf'); // the last child reached through the index
    // Exactly six children: no index; seven: an index. Both find every child.
    for (const count of [6, 7]) {
      const s = new Router<string>();
      for (const n of names.slice(0, count)) s.add('GET', `/${n}`, n);
      for (const n of names.slice(0, count)) expect(found(s.find('GET', `/${n}`)).store).toBe(n);
      expect(s.find('GET', '/zulu').status).toBe(404);
    }
  });

  it('a node with 255 children or more falls back to the scan (positions past 254 do not fit the index)', () => {
    const r = new Router<string>();
    for (let k = 0; k < 255; k++) r.add('GET', `/${String.fromCharCode(0x100 + k)}/:id`, `c${k}`);
    r.add('GET', '/a/:id', 'a'); // the 256th child: position 255
    r.add('GET', '/b/:id', 'b');
    expect(found(r.find('GET', '/a/1')).store).toBe('a');
    expect(found(r.find('GET', '/b/1')).store).toBe('b');
    expect(found(r.find('GET', `/${encodeURIComponent(String.fromCharCode(0x100 + 254))}/1`)).store).toBe('c254');
    expect(r.find('GET', '/c/1').status).toBe(404);
  });

  it('routes added after a lookup are found (the index is rebuilt)', () => {
    const r = new Router<string>();
    for (const n of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) r.add('GET', `/${n}/:x`, n);
    expect(found(r.find('GET', '/a/1')).store).toBe('a');
    r.add('GET', '/h/:x', 'h');
    expect(found(r.find('GET', '/h/1')).store).toBe('h');
    r.add('GET', '/a/:x.json', 'json');
    expect(found(r.find('GET', '/a/1.json')).store).toBe('json'); // the new "." stop is seen after a lookup
  });
});

describe('registration errors, with their codes and words', () => {
  const cases: Array<[string, RouteError['code'], string]> = [
    ['', 'MALFORMED_PATTERN', 'route pattern "": must start with "/"'],
    ['a', 'MALFORMED_PATTERN', 'route pattern "a": must start with "/"'],
    ['/a/:', 'MALFORMED_PATTERN', 'route pattern "/a/:": ":" at 3 must be followed by a parameter name'],
    ['/a/:1', 'MALFORMED_PATTERN', 'route pattern "/a/:1": ":" at 3 must be followed by a parameter name'],
    ['/a/{x', 'MALFORMED_PATTERN', 'route pattern "/a/{x": unclosed "{" at 3'],
    ['/a/{x\\}', 'MALFORMED_PATTERN', 'route pattern "/a/{x\\\\}": unclosed "{" at 3'],
    ['/a/x}', 'MALFORMED_PATTERN', 'route pattern "/a/x}": unbalanced "}" at 4'],
    ['/a/{}', 'MALFORMED_PATTERN', 'route pattern "/a/{}": invalid parameter name ""'],
    ['/a/{:int}', 'MALFORMED_PATTERN', 'route pattern "/a/{:int}": invalid parameter name ""'],
    ['/a/{1x}', 'MALFORMED_PATTERN', 'route pattern "/a/{1x}": invalid parameter name "1x"'],
    ['/a/{x-y}', 'MALFORMED_PATTERN', 'route pattern "/a/{x-y}": invalid parameter name "x-y"'],
    ['/a/{x:}', 'MALFORMED_PATTERN', 'route pattern "/a/{x:}": empty type for "x"'],
    ['/a/{x:integer}', 'MALFORMED_PATTERN', 'route pattern "/a/{x:integer}": unknown parameter type "integer" for "x": the types are int, float, uuid, slug, path; a regular expression that is one plain word goes in parentheses, {x:(integer)}'],
    ['/a/{x:[}', 'MALFORMED_PATTERN', `route pattern "/a/{x:[}": invalid regular expression for "x": ${regexError('^(?:[)$')}`],
    ['/a/*/b', 'MALFORMED_PATTERN', 'route pattern "/a/*/b": "*" must end the pattern'],
    ['/a/{p:path}/b', 'MALFORMED_PATTERN', 'route pattern "/a/{p:path}/b": "p" matches the rest of the path and must end the pattern'],
    ['/a/:x?/b', 'MALFORMED_PATTERN', 'route pattern "/a/:x?/b": optional parameter "x" must end the pattern'],
    ['/a/b:x?', 'MALFORMED_PATTERN', 'route pattern "/a/b:x?": optional parameter "x" must be a whole last segment'],
    ['/a/:x:y', 'MALFORMED_PATTERN', 'route pattern "/a/:x:y": parameters "x" and "y" need static text between them'],
    ['/a?q', 'MALFORMED_PATTERN', 'route pattern "/a?q": "?" is not allowed in a path pattern'],
    ['/a#q', 'MALFORMED_PATTERN', 'route pattern "/a#q": "#" is not allowed in a path pattern'],
    ['/a/:id/b/:id', 'DUPLICATE_PARAM', 'route pattern "/a/:id/b/:id": parameter "id" used twice'],
    ['/a/:__proto__', 'MALFORMED_PATTERN', 'route pattern "/a/:__proto__": parameter name "__proto__" is reserved'],
    ['/a/{constructor}', 'MALFORMED_PATTERN', 'route pattern "/a/{constructor}": parameter name "constructor" is reserved'],
  ];
  for (const [pattern, code, message] of cases) {
    it(`${JSON.stringify(pattern)} → ${code}`, () => {
      let err: unknown;
      try {
        new Router().add('GET', pattern, 1);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RouteError);
      expect(err).toMatchObject({ name: 'RouteError', code, message });
    });
  }

  it('a method that is not a token, and a conflict, carry their codes', () => {
    expect(() => new Router().add('GET BAD', '/a', 1)).toThrow(expect.objectContaining({ code: 'INVALID_METHOD', message: 'invalid method "GET BAD"' }));
    const r = new Router().add('GET', '/a/:x', 1);
    expect(() => r.add('GET', '/a/:y', 2)).toThrow(expect.objectContaining({ code: 'ROUTE_CONFLICT', message: 'GET /a/:y conflicts with GET /a/:x: no request can tell them apart' }));
  });

  it('a conflict names the earlier route of the same method whose optional form it hits', () => {
    const r = new Router().add('POST', '/o', 0).add('GET', '/o/:id?', 1).add('GET', '/p', 2);
    expect(() => r.add('GET', '/o', 3)).toThrow('GET /o conflicts with GET /o/:id?: no request can tell them apart');
    expect(() => r.add('GET', '/o/:x', 3)).toThrow('GET /o/:x conflicts with GET /o/:id?: no request can tell them apart');
  });

  it('static text that looks like syntax is literal, and "::" is a colon', () => {
    const r = new Router<string>().add('GET', '/a::b', 'colon').add('GET', '/x/:v', 'v');
    expect(found(r.find('GET', '/a:b')).store).toBe('colon');
    expect(parsePattern('/a::b')).toEqual([{ kind: 'static', text: '/a:b' }]);
    // Two patterns that differ only by literal "{" in text vs a parameter are different routes.
    expect(() => new Router().add('GET', '/q/{x}', 1).add('GET', '/q/:y', 2)).toThrow(/conflicts/);
  });

  it('a regex may hold escaped braces and a colon; a one-word regex goes in parentheses', () => {
    expect(parsePattern('/a/{x:\\{[a-z]\\}}')).toStrictEqual([
      { kind: 'static', text: '/a/' },
      { kind: 'param', name: 'x', type: 'regex', regex: '\\{[a-z]\\}', optional: false },
    ]);
    expect(parsePattern('/a/{t:a:b}')[1]).toStrictEqual({ kind: 'param', name: 't', type: 'regex', regex: 'a:b', optional: false });
    const r = new Router<string>().add('GET', '/w/{x:(word)}', 'w');
    expect(found(r.find('GET', '/w/word')).params).toEqual({ x: 'word' });
    expect(r.find('GET', '/w/other').status).toBe(404);
    expect(parsePattern('/a/{$x_1:int}?')[1]).toStrictEqual({ kind: 'param', name: '$x_1', type: 'int', optional: true });
    expect(parsePattern('/a/{x}')[1]).toStrictEqual({ kind: 'param', name: 'x', type: 'string', optional: false });
    expect(parsePattern('/a/:x')[1]).toStrictEqual({ kind: 'param', name: 'x', type: 'string', optional: false });
    expect(parsePattern('/a/*')[1]).toStrictEqual({ kind: 'param', name: '*', type: 'wildcard', optional: false });
    // Not plain words, so regular expressions: a leading digit, a trailing operator.
    expect(parsePattern('/a/{x:1abc}')[1]).toMatchObject({ type: 'regex', regex: '1abc' });
    expect(parsePattern('/a/{x:ab+}')[1]).toMatchObject({ type: 'regex', regex: 'ab+' });
    expect(() => parsePattern('/a/{x:_a1}')).toThrow(/unknown parameter type "_a1"/);
  });

  it('"*" is never optional; an optional last parameter after others expands to two routes', () => {
    const w = new Router<string>().add('GET', '/a/*', 'w');
    expect(w.find('GET', '/a').status).toBe(404);
    expect(found(w.find('GET', '/a/')).params).toEqual({ '*': '' });
    const r = new Router<string>().add('GET', '/a/:x/b/:id?', 'r');
    expect(found(r.find('GET', '/a/1/b/2')).params).toEqual({ x: '1', id: '2' });
    expect(found(r.find('GET', '/a/1/b')).params).toEqual({ x: '1' });
    expect(r.find('GET', '/a/1').status).toBe(404);
  });

  it('parameters with different regular expressions at one place are different routes', () => {
    const r = new Router<string>().add('GET', '/b/{c:[0-9]+}', 'digits').add('GET', '/b/{d:[a-z]+}', 'letters').add('GET', '/b/', 'slash');
    expect(found(r.find('GET', '/b/1')).store).toBe('digits');
    expect(found(r.find('GET', '/b/x')).store).toBe('letters');
    expect(found(r.find('GET', '/b/')).store).toBe('slash');
    expect(() => r.add('GET', '/b/{e:[0-9]+}', 'again')).toThrow(/conflicts with GET \/b\/\{c:\[0-9\]\+\}/);
  });

  it('optional parameters stand for two routes: with the segment and without it', () => {
    const r = new Router<string>().add('GET', '/u/:id?', 'u').add('GET', '/:top?', 'top');
    expect(found(r.find('GET', '/u/7')).params).toEqual({ id: '7' });
    expect(found(r.find('GET', '/u')).params).toEqual({});
    expect(r.find('GET', '/u/').status).toBe(404);
    expect(found(r.find('GET', '/')).params).toEqual({});
    expect(found(r.find('GET', '/x')).params).toEqual({ top: 'x' });
    expect(new Router().add('GET', '/v/{n:int}?', 1).routes()[0]!.params).toEqual([{ name: 'n', type: 'int' }]);
  });
});

describe('lookups at their edges', () => {
  it('the query string starts at the first "?"; a "?" at the start leaves an empty path', () => {
    const r = new Router<string>().add('GET', '/s', 's').add('GET', '/d/:x', 'd');
    expect(found(r.find('GET', '/s?'))).toMatchObject({ query: '' });
    expect(found(r.find('GET', '/s?a?b'))).toMatchObject({ query: 'a?b' });
    expect(found(r.find('GET', '/d/v?'))).toMatchObject({ params: { x: 'v' }, query: '' });
    expect(r.find('GET', '?x').status).toBe(404);
    expect(r.find('GET', '/s')).toMatchObject({ query: '' });
  });

  it('a percent at the start of a path is decoded like any other', () => {
    const r = new Router<string>().add('GET', '/:x', 'x');
    expect(found(r.find('GET', '/%41b')).params).toEqual({ x: 'Ab' });
    expect(found(new Router<string>().add('GET', '/Ab', 's').find('GET', '/%41b')).store).toBe('s');
    expect(found(r.find('GET', '/a%2Fb')).params).toEqual({ x: 'a/b' });
    expect(found(r.find('GET', '/a%3Fb')).params).toEqual({ x: 'a?b' });
    expect(found(r.find('GET', '/a%23b')).params).toEqual({ x: 'a#b' });
  });

  it('a malformed escape in a rest-of-path or static route is a 400, never a match', () => {
    const r = new Router<string>().add('GET', '/f/{p:path}', 'f').add('GET', '/w/*', 'w').add('GET', '/s', 's');
    expect(r.find('GET', '/f/a%zz')).toEqual({ status: 400, error: 'malformed percent-encoding in "/f/a%zz"' });
    expect(r.find('GET', '/w/%E0%A4')).toEqual({ status: 400, error: 'malformed percent-encoding in "/w/%E0%A4"' });
    expect(r.find('GET', '/s%')).toEqual({ status: 400, error: 'malformed percent-encoding in "/s%"' });
    expect(found(r.find('GET', '/f/100%25/x')).params).toEqual({ p: '100%/x' });
  });

  it('a stop character inside a kept escape is no place to split a value: no match there, never a 400', () => {
    // "2" ends {a} early, and falls inside "%25" (kept encoded for matching) — "x%" does not decode.
    const r = new Router<string>().add('GET', '/f/{a}2{b}', 'f');
    expect(found(r.find('GET', '/f/x%25y2z')).params).toEqual({ a: 'x%y', b: 'z' });
    expect(r.find('GET', '/f/x%25')).toEqual({ status: 404 });
    expect(r.find('HEAD', '/f/x%25')).toEqual({ status: 404 });
    expect(found(r.find('HEAD', '/f/%252q')).params).toEqual({ a: '%', b: 'q' });
    const p = new Router<string>().add('GET', '/p/:v', 'p');
    expect(found(p.find('GET', '/p/%25zz')).params).toEqual({ v: '%zz' });
  });

  it('405 lists every method that matches, HEAD once when GET does, and 404 when none does', () => {
    const r = new Router<string>().add('GET', '/a/:x', 'g').add('HEAD', '/a/:x', 'h').add('PUT', '/b/{n:int}', 'p');
    expect(r.find('POST', '/a/1')).toEqual({ status: 405, allowed: ['GET', 'HEAD'] });
    expect(r.find('POST', '/b/x')).toEqual({ status: 404 });
    expect(r.find('PUT', '/a/1')).toEqual({ status: 405, allowed: ['GET', 'HEAD'] });
    expect(r.find('GET', '/b/1')).toEqual({ status: 405, allowed: ['PUT'] });
    const s = new Router<string>({ headFallback: false }).add('GET', '/x/:y', 'x');
    expect(s.find('HEAD', '/x/1')).toEqual({ status: 405, allowed: ['GET'] });
    expect(s.find('HEAD', '/x')).toEqual({ status: 404 });
  });

  it('HEAD falls back to GET on static and parameter routes; a HEAD route wins over it', () => {
    const r = new Router<string>().add('GET', '/s', 'gs').add('GET', '/p/:x', 'gp').add('HEAD', '/h', 'hh').add('GET', '/h', 'gh');
    expect(found(r.find('HEAD', '/s'))).toMatchObject({ store: 'gs', method: 'GET' });
    expect(found(r.find('HEAD', '/p/1'))).toMatchObject({ store: 'gp', method: 'GET', params: { x: '1' } });
    expect(found(r.find('HEAD', '/h'))).toMatchObject({ store: 'hh', method: 'HEAD' });
    const off = new Router<string>({ headFallback: false }).add('GET', '/p/:x', 'gp');
    expect(off.find('HEAD', '/p/1')).toEqual({ status: 405, allowed: ['GET'] });
  });

  it('case-insensitive static text, ASCII only, on static and parameter routes', () => {
    const r = new Router<string>({ caseSensitive: false }).add('GET', '/ABC/xyz', 's').add('GET', '/Az/:v', 'p');
    for (const p of ['/abc/XYZ', '/ABC/XYZ', '/aBc/xYz']) expect(found(r.find('GET', p)).store, p).toBe('s');
    expect(found(r.find('GET', '/aZ/Q')).params).toEqual({ v: 'Q' });
    expect(r.find('GET', '/abc/xy\u017a').status).toBe(404); // "ź" is not "z"
    // The characters at and around A–Z: "@" (64) and "[" (91) are not letters, "A" and "Z" are.
    const around = new Router<string>({ caseSensitive: false }).add('GET', '/@[', 'punct').add('GET', '/A', 'a').add('GET', '/Z', 'z');
    expect(found(around.find('GET', '/@[')).store).toBe('punct');
    expect(around.find('GET', '/`{').status).toBe(404);
    expect(found(around.find('GET', '/a')).store).toBe('a');
    expect(found(around.find('GET', '/z')).store).toBe('z');
    expect(found(around.find('GET', '/Z')).store).toBe('z');
    const cs = new Router<string>().add('GET', '/ABC', 's');
    expect(cs.find('GET', '/abc').status).toBe(404);
  });

  it('trailing slash "ignore": one slash off patterns and paths, never the root, static or parameter', () => {
    const r = new Router<string>({ trailingSlash: 'ignore' }).add('GET', '/', 'root').add('GET', '/p/:x/', 'p').add('GET', '/s/', 's').add('GET', '/q/:x', 'q');
    expect(found(r.find('GET', '/q/1/')).params).toEqual({ x: '1' });
    expect(() => r.add('GET', '/p/:y', 'again')).toThrow(/conflicts with GET \/p\/:x\//);
    expect(found(r.find('GET', '/')).store).toBe('root');
    expect(found(r.find('GET', '/p/1')).params).toEqual({ x: '1' });
    expect(found(r.find('GET', '/p/1/')).params).toEqual({ x: '1' });
    expect(found(r.find('GET', '/s')).store).toBe('s');
    expect(found(r.find('GET', '/s/')).store).toBe('s');
    expect(r.find('GET', '/s//').status).toBe(404);
    expect(() => r.add('GET', '/s', 'again')).toThrow(/conflicts with GET \/s\//);
    const strict = new Router<string>().add('GET', '/s/', 's').add('GET', '/s', 's2');
    expect(found(strict.find('GET', '/s/')).store).toBe('s');
  });

  it('trailing slash "redirect": to the other form when it matches under any method, keeping the query', () => {
    const r = new Router<string>({ trailingSlash: 'redirect' }).add('POST', '/a', 'a').add('GET', '/', 'root').add('GET', '/b/:x/', 'b');
    expect(r.find('GET', '/a/')).toEqual({ status: 308, location: '/a' });
    expect(r.find('GET', '/b/1?q=2')).toEqual({ status: 308, location: '/b/1/?q=2' });
    expect(r.find('GET', '/b/1')).toEqual({ status: 308, location: '/b/1/' });
    expect(r.find('GET', '/nope')).toEqual({ status: 404 });
    expect(r.find('GET', '/a')).toEqual({ status: 405, allowed: ['POST'] });
    expect(found(r.find('GET', '/'))).toMatchObject({ store: 'root' });
    const root = new Router<string>({ trailingSlash: 'redirect' }).add('GET', '/x/', 'x');
    expect(root.find('GET', '/')).toEqual({ status: 404 });
  });

  it('a static hit with a query is a fresh object; without one the cached frozen one', () => {
    const r = new Router<string>().add('GET', '/s', 's');
    const a = r.find('GET', '/s?x=1');
    expect(a).toMatchObject({ status: 200, store: 's', query: 'x=1', params: {}, pattern: '/s', method: 'GET' });
    expect(Object.isFrozen(a)).toBe(false);
    expect(r.find('GET', '/s')).toEqual({ status: 200, store: 's', params: {}, pattern: '/s', method: 'GET', query: '' });
  });

  it('params objects hold exactly the route\'s names, with code generation on and off', () => {
    for (const codegen of [true, false]) {
      const r = new Router<string>({ codegen }).add('GET', '/a/:x/b/{y:int}', 'a').add('GET', '/c/:x/d/{y:int}', 'c').add('GET', '/e/{z}', 'e');
      expect(found(r.find('GET', '/a/1/b/2')).params).toStrictEqual({ x: '1', y: 2 });
      expect(found(r.find('GET', '/c/3/d/4')).params).toStrictEqual({ x: '3', y: 4 });
      expect(Object.keys(found(r.find('GET', '/e/5')).params)).toEqual(['z']);
      expect(r.codegen).toBe(codegen);
    }
    const def = new Router();
    expect([def.caseSensitive, def.trailingSlash, def.maxParamLength, def.headFallback, def.codegen]).toEqual([true, 'strict', 100, true, true]);
  });

  it('maxParamLength applies to values inside a segment too', () => {
    const r = new Router<string>({ maxParamLength: 3 }).add('GET', '/f/:n.txt', 'f');
    expect(found(r.find('GET', '/f/abc.txt')).params).toEqual({ n: 'abc' });
    expect(r.find('GET', '/f/abcd.txt').status).toBe(404);
  });
});

describe('more lookups', () => {
  it('on() is add()', () => {
    const r = new Router<string>().on(['GET', 'POST'], '/x/:y', 'x');
    expect(found(r.find('POST', '/x/1')).store).toBe('x');
  });

  it('routes whose parameter names join to the same text get their own params builders', () => {
    const r = new Router<string>().add('GET', '/x/:ab', 'x').add('GET', '/y/:a/z/:b', 'y');
    expect(found(r.find('GET', '/y/1/z/2')).params).toStrictEqual({ a: '1', b: '2' });
    expect(found(r.find('GET', '/x/3')).params).toStrictEqual({ ab: '3' });
  });

  it('code generation: one builder per list of names, none when turned off', () => {
    const Real = globalThis.Function;
    const bodies: string[] = [];
    globalThis.Function = function (...args: string[]) {
      bodies.push(args[args.length - 1]!);
      return Real(...args);
    } as FunctionConstructor;
    try {
      new Router<string>().add('GET', '/a/:x/b/{y:int}', 'a').add('GET', '/c/:x/d/{y:int}', 'c').add('GET', '/e/:z', 'e');
      expect(bodies).toEqual(['return {"x": v[0], "y": v[1]};', 'return {"z": v[0]};']);
      bodies.length = 0;
      new Router<string>({ codegen: false }).add('GET', '/a/:x', 'a');
      expect(bodies).toEqual([]);
    } finally {
      globalThis.Function = Real;
    }
  });

  it('405 for routes with several parameters in a segment, and for rest-of-path routes', () => {
    const r = new Router<string>().add('POST', '/f/:n.:e', 'f').add('POST', '/w/*', 'w').add('POST', '/p/{x:path}', 'p');
    expect(r.find('GET', '/f/a.b')).toEqual({ status: 405, allowed: ['POST'] });
    expect(r.find('GET', '/w/a/b')).toEqual({ status: 405, allowed: ['POST'] });
    expect(r.find('GET', '/p/a/b')).toEqual({ status: 405, allowed: ['POST'] });
  });

  it('redirect mode answers a path that matches as it is, even when its other form exists too', () => {
    const r = new Router<string>({ trailingSlash: 'redirect' }).add('GET', '/c', 'c').add('GET', '/c/', 'c/').add('GET', '//', 'double');
    expect(found(r.find('GET', '/c')).store).toBe('c');
    expect(found(r.find('GET', '/c/')).store).toBe('c/');
    expect(r.find('GET', '/')).toEqual({ status: 308, location: '//' }); // the other form of "/" is "//"
  });

  it('HEAD on a static GET route gives the cached GET result; a HEAD parameter route wins over GET', () => {
    const r = new Router<string>().add('GET', '/s', 's').add('GET', '/hp/:x', 'g').add('HEAD', '/hp/:x', 'h');
    expect(r.find('HEAD', '/s')).toBe(r.find('GET', '/s'));
    expect(found(r.find('HEAD', '/hp/1'))).toMatchObject({ store: 'h', method: 'HEAD' });
    expect(found(r.find('GET', '/hp/1'))).toMatchObject({ store: 'g', method: 'GET' });
  });

  it('a value may run to the end of its segment when a static child starts with "/"', () => {
    const r = new Router<string>().add('GET', '/f/:name.txt', 'txt').add('GET', '/f/:name/x', 'x');
    expect(found(r.find('GET', '/f/abc/x'))).toMatchObject({ store: 'x', params: { name: 'abc' } });
    expect(found(r.find('GET', '/f/abc.txt'))).toMatchObject({ store: 'txt', params: { name: 'abc' } });
    expect(found(r.find('GET', '/f/a.b.txt'))).toMatchObject({ store: 'txt', params: { name: 'a.b' } });
  });

  it('a split that fails is followed by the next place the static text could start', () => {
    const r = new Router<string>().add('GET', '/h/:n.json', 'h');
    expect(found(r.find('GET', '/h/a.b.json')).params).toEqual({ n: 'a.b' });
    expect(r.find('GET', '/h/a.b.jsonx').status).toBe(404);
  });
});

describe('the tree itself', () => {
  it('nodes with more than 6 static children get a table by ASCII first character (child at code − lo); others scan', () => {
    // The compiled layout (compileTree's doc comment): header, prefix, edges, table, scan list.
    const H = NODE_HEADER;
    const prefixAt = (t: Int32Array, o: number) => String.fromCharCode(...t.subarray(o + H, o + H + t[o]!));
    const node = (chars: string[]) => {
      const n = new RadixNode<string>('');
      for (const ch of chars) n.insertStatic(`${ch}tail`);
      const { t } = compileTree(n);
      const table = [...t.subarray(H, H + t[6]!)].map((c) => (c === 0 ? undefined : prefixAt(t, c)));
      const scan: Array<[string, string]> = [];
      for (let k = 0; k < t[4]!; k++) {
        const at = H + t[6]! + 2 * k;
        scan.push([String.fromCharCode(t[at]!), prefixAt(t, t[at + 1]!)]);
      }
      return { lo: t[5]!, table, scan };
    };
    const six = node(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(six.table).toEqual([]);
    expect(six.scan).toEqual(['a', 'b', 'c', 'd', 'e', 'f'].map((c) => [c, `${c}tail`]));
    const seven = node(['a', 'b', 'c', 'd', 'e', 'f', 'h']);
    expect(seven.lo).toBe(0x61);
    expect(seven.table).toEqual(['atail', 'btail', 'ctail', 'dtail', 'etail', 'ftail', undefined, 'htail']);
    expect(seven.scan).toEqual([]);
    // Past ASCII: not in the table, found by the scan.
    const wide = node(['a', 'b', 'c', 'd', 'e', 'f', '\u0080', '\u00ff', '\u4e2d']);
    expect(wide.table.length).toBe(6);
    expect(wide.scan.map(([c]) => c)).toEqual(['\u0080', '\u00ff', '\u4e2d']);
    const r = new Router<string>();
    for (const ch of ['a', 'b', 'c', 'd', 'e', 'f', '\u0080', '\u00ff', '\u4e2d', 'z']) r.add('GET', `/${ch}x`, ch);
    for (const ch of ['a', 'f', '\u0080', '\u00ff', '\u4e2d', 'z']) expect(r.find('GET', `/${encodeURIComponent(ch)}x`)).toMatchObject({ status: 200, store: ch });
    for (const ch of ['g', '`', '{', '\u0081']) expect(r.find('GET', `/${encodeURIComponent(ch)}x`).status).toBe(404);
    // The same through the tree (static routes are found by a map first): U+0080, one past ASCII, is never
    // looked up in the table, whose codes end at 127.
    const p = new Router<string>();
    for (const ch of ['a', 'b', 'c', 'd', 'e', 'f', '\u0080', '\u00ff', '\u4e2d', 'z']) p.add('GET', `/${ch}x/:id`, ch);
    for (const ch of ['a', 'z', '\u0080', '\u00ff', '\u4e2d']) expect(p.find('GET', `/${encodeURIComponent(ch)}x/1`)).toMatchObject({ status: 200, store: ch });
    for (const ch of ['`', '{', '\u0081']) expect(p.find('GET', `/${encodeURIComponent(ch)}x/1`).status).toBe(404);
    // Only non-ASCII children: no table.
    expect(node(['\u0100', '\u0101', '\u0102', '\u0103', '\u0104', '\u0105', '\u0106']).table).toEqual([]);
  });

  it('the compiled tree lays each node out before its children, depth first', () => {
    const root = new RadixNode<string>('');
    for (const p of ['/a/one', '/a/two', '/b']) root.insertStatic(p);
    const e = root.insertStatic('/c/').paramEdge('string', undefined);
    e.node.insertStatic('/end');
    const { t, edges } = compileTree(root);
    const order: string[] = [];
    const offsets: number[] = [];
    for (let o = 0; o < t.length; ) {
      offsets.push(o);
      order.push(String.fromCharCode(...t.subarray(o + NODE_HEADER, o + NODE_HEADER + t[o]!)));
      const tableLen = t[o + 6]!;
      o += NODE_HEADER + t[o]! + t[o + 2]! + t[o + 3]! + tableLen + 2 * t[o + 4]!;
    }
    expect(order).toEqual(['', '/', 'a/', 'one', 'two', 'b', 'c/', '', '/end']);
    expect(edges).toEqual([e]);
    expect(e.at).toBe(offsets[7]); // the parameter's node, right after "c/"
  });

  it("a parameter's stops (set as the tree is compiled) are the distinct first characters, other than '/', of the static text after it", () => {
    const root = new RadixNode<string>('');
    const e = root.paramEdge('string', undefined);
    for (const t of ['.json', '.xml', '-v2', '/x', '~']) e.node.insertStatic(t);
    compileTree(root);
    expect(e.stops).toBe('.-~');
    const bare = root.paramEdge('int', undefined);
    compileTree(root);
    expect(bare.stops).toBe('');
    expect(root.paramEdge('string', undefined)).toBe(e); // one edge per kind
  });
});

describe('mounting', () => {
  it('a prefix with or without a trailing slash; an empty prefix; a bad prefix', () => {
    const sub = new Router<string>().add('GET', '/', 'index').add('GET', '/x', 'x');
    const a = new Router<string>().mount('/api/', sub);
    expect(found(a.find('GET', '/api')).store).toBe('index');
    expect(found(a.find('GET', '/api/x')).store).toBe('x');
    const b = new Router<string>().mount('', sub);
    expect(found(b.find('GET', '/')).store).toBe('index');
    expect(found(b.find('GET', '/x')).store).toBe('x');
    const c = new Router<string>().mount('/', sub);
    expect(found(c.find('GET', '/')).store).toBe('index');
    expect(() => new Router().mount('api', sub)).toThrow(expect.objectContaining({ code: 'MALFORMED_PATTERN', message: 'mount prefix "api" must start with "/"' }));
  });
});

describe('percent-decoding helpers', () => {
  it('validEscapes: two hex digits of either case, and valid UTF-8', () => {
    for (const s of ['', 'abc', '%41', '%4a%4A', '%c3%a9', '%C3%A9', 'a%20b']) expect(validEscapes(s), s).toBe(true);
    for (const s of ['%', '%4', '%4g', '%g4', '%C3', '%FF', 'a%2']) expect(validEscapes(s), s).toBe(false);
  });

  it('decodePathForMatching keeps %2F %3F %23 %25 encoded, in either case, and decodes runs around them', () => {
    expect(decodePathForMatching('/a%2fb%2Fc')).toBe('/a%2fb%2Fc');
    expect(decodePathForMatching('/%41%2F%42')).toBe('/A%2FB');
    expect(decodePathForMatching('/%C3%A9%3F%C3%A9')).toBe('/\u00e9%3F\u00e9');
    expect(decodePathForMatching('/%23%25')).toBe('/%23%25');
    expect(decodePathForMatching('/%61%62%63')).toBe('/abc');
    expect(decodePathForMatching('/%7a%7A%30%39%46%66')).toBe('/zz09Ff');
    expect(decodePathForMatching('/%6f%6F%6a%6A%41%61')).toBe('/ooj' + 'jAa');
    expect(decodePathForMatching('/%zz')).toBeNull();
    expect(decodePathForMatching('/plain')).toBe('/plain');
  });
});
