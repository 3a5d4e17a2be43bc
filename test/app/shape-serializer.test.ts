import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeSerializer } from '../../lib/app/shape-serializer.js';
import { createApp } from '../../lib/app/index.js';

/** Every call must give JSON.stringify's bytes — or throw what it throws. */
function same(json: ShapeSerializer, v: unknown): void {
  let expected: string | undefined;
  let thrown: unknown = null;
  try {
    expected = JSON.stringify(v);
  } catch (err) {
    thrown = err;
  }
  if (thrown !== null) {
    expect(() => json.stringify(v)).toThrow((thrown as Error).constructor as ErrorConstructor);
    return;
  }
  expect(json.stringify(v)).toBe(expected);
}

const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 12 });
const key = fc.oneof(fc.constantFrom('id', 'name', 'tags', 'a', '0', '1', '10', '__proto__', 'toJSON', 'a"b', '\u2028', '\ud800'), utf16);

/** Values of a few recurring shapes with varying leaves, as a route returns them, and oddities. */
const leaf = fc.oneof(
  utf16,
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1e21, 5e-7, true, false, null, undefined),
  fc.constant(() => 1),
  fc.constant(Symbol('s')),
  fc.constant(new Date(0)),
  fc.constant({ toJSON: (k: string) => `key:${k}` }),
  fc.constant({ toJSON: () => undefined }),
  fc.constant({ toJSON: () => ({ toJSON: () => 'inner' }) }), // only the outer toJSON runs
  fc.constant(Object.assign(Object.create(null) as object, { x: 1 })),
  fc.constant(new (class Point {
    constructor(
      public x = 1,
      public y = 2,
    ) {}
  })()),
  // eslint-disable-next-line no-new-wrappers
  fc.constant(new String('boxed')),
  // eslint-disable-next-line no-new-wrappers
  fc.constant(new Number(3)),
  fc.constant(new Map([[1, 2]])),
  fc.constant(new Uint8Array([1, 2])),
  fc.constant(Buffer.from('hi')),
);
const tree = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('object'), tie('array')),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  array: fc.array(tie('value'), { maxLength: 4 }),
})).value;

describe('ShapeSerializer', () => {
  it('gives JSON.stringify’s bytes for arbitrary values, learning as it goes', () => {
    fc.assert(
      fc.property(fc.array(tree, { minLength: 1, maxLength: 30 }), (values) => {
        const json = new ShapeSerializer();
        for (const v of values) same(json, v);
      }),
      { numRuns: 300 },
    );
  });

  it('gives JSON.stringify’s bytes for one shape with changing leaves (compiled path)', () => {
    const shape = fc.record({
      id: fc.oneof(fc.integer(), fc.double()),
      name: fc.oneof(utf16, fc.constant(null), fc.constant(undefined)),
      tags: fc.array(fc.oneof(utf16, fc.constant(undefined), fc.constant(null)), { maxLength: 3 }),
      owner: fc.record({ id: fc.integer(), at: fc.constant(new Date(86_400_000)) }),
      rows: fc.array(fc.record({ a: fc.integer(), b: fc.oneof(fc.boolean(), fc.constant(() => 0)) }), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(shape, { minLength: 1, maxLength: 40 }), (values) => {
        const json = new ShapeSerializer();
        for (const v of values) same(json, v);
      }),
      { numRuns: 200 },
    );
  });

  it('calls toJSON with the property name or index as its key, and only once per value', () => {
    const json = new ShapeSerializer();
    const seen: string[] = [];
    const t = { toJSON: (k: string) => (seen.push(k), k) };
    for (let i = 0; i < 3; i++) expect(json.stringify({ a: t, list: [t, t] })).toBe('{"a":"a","list":["0","1"]}');
    expect(seen).toEqual(['a', '0', '1', 'a', '0', '1', 'a', '0', '1']);
    expect(json.stringify(t)).toBe('""'); // the root's key is ''
  });

  it('does not take an object with other keys, another key order, an inherited key or another prototype for a learned shape', () => {
    const json = new ShapeSerializer();
    expect(json.stringify({ a: 1, b: 2 })).toBe('{"a":1,"b":2}');
    expect(json.stringify({ b: 2, a: 1 })).toBe('{"b":2,"a":1}');
    expect(json.stringify({ a: 1, b: 2, c: 3 })).toBe('{"a":1,"b":2,"c":3}');
    expect(json.stringify({ a: 1 })).toBe('{"a":1}');
    const child = Object.create({ inherited: 1 }) as Record<string, number>;
    child.a = 1;
    child.b = 2;
    expect(json.stringify(child)).toBe('{"a":1,"b":2}');
    const nullProto = Object.assign(Object.create(null) as object, { a: 1, b: 2 });
    expect(json.stringify(nullProto)).toBe('{"a":1,"b":2}');
    const hidden = { a: 1, b: 2 };
    Object.defineProperty(hidden, 'toJSON', { value: () => 'hidden', enumerable: false });
    expect(json.stringify(hidden)).toBe('"hidden"');
  });

  it('throws on a BigInt as JSON.stringify does, also inside a learned shape', () => {
    const json = new ShapeSerializer();
    json.stringify({ n: 1 });
    expect(() => json.stringify({ n: 1n })).toThrow(TypeError);
    expect(() => json.stringify({ list: [1n] })).toThrow(TypeError);
  });

  it('stops learning at a place that sees records keyed by data, and stays exact', () => {
    const json = new ShapeSerializer();
    for (let i = 0; i < 200; i++) same(json, { [`user${i}`]: i, [`x${i}`]: { [`k${i}`]: [i] } });
  });

  it('falls back to JSON.stringify where code generation is disallowed', () => {
    const lib = fileURLToPath(new URL('../../dist/lib/app/shape-serializer.js', import.meta.url)); // npm test builds first
    const script = `import { ShapeSerializer } from ${JSON.stringify(lib)};
const j = new ShapeSerializer(); const v = { a: [1, { b: 'x' }], c: null };
for (let i = 0; i < 3; i++) if (j.stringify(v) !== JSON.stringify(v)) throw new Error('differs from JSON.stringify');
console.log(j.stringify(v));`;
    const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out.trim()).toBe('{"a":[1,{"b":"x"}],"c":null}');
  });

  it('serves a schemaless route: JSON.stringify’s bytes', async () => {
    const app = createApp();
    let n = 0;
    app.get('/r', () => (n++ % 2 === 0 ? { id: n, name: 'Ada', tags: ['a', 'é'], at: new Date(0) } : { id: n, name: null, tags: [], at: new Date(0) }));
    for (let i = 0; i < 4; i++) {
      const res = await app.inject({ method: 'GET', url: '/r' });
      const expected = i % 2 === 0 ? { id: i + 1, name: 'Ada', tags: ['a', 'é'], at: new Date(0) } : { id: i + 1, name: null, tags: [], at: new Date(0) };
      expect(res.text()).toBe(JSON.stringify(expected));
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    }
  });
});
