import { Kind, Type, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSerializer, createApp } from '../../lib/app/index.js';

// #27.1: the serializer's promise — a body never holds a property its schema does not declare — for every
// shape TypeBox builds, not only plain objects.

const User = Type.Object({ id: Type.Integer(), name: Type.String() });
const row = { id: 1, name: 'a', passwordHash: 'secret' };

describe('undeclared properties never leave, whatever the schema shape', () => {
  it('nullable, union, discriminated union, intersection, record, tuple, recursive, module refs', () => {
    expect(compileSerializer(Type.Union([User, Type.Null()]))(row)).toBe('{"id":1,"name":"a"}');
    expect(compileSerializer(Type.Union([User, Type.Null()]))(null)).toBe('null');
    const Shape = Type.Union([
      Type.Object({ kind: Type.Literal('circle'), r: Type.Number() }),
      Type.Object({ kind: Type.Literal('square'), side: Type.Number() }),
    ]);
    expect(compileSerializer(Shape)({ kind: 'square', side: 2, r: 9, secret: 1 })).toBe('{"kind":"square","side":2}');
    const Both = Type.Intersect([User, Type.Object({ role: Type.String() })]);
    expect(compileSerializer(Both)({ ...row, role: 'r' })).toBe('{"id":1,"name":"a","role":"r"}');
    const Nested = Type.Intersect([Type.Object({ u: User }), Type.Object({ u: Type.Object({ role: Type.String() }) })]);
    expect(compileSerializer(Nested)({ u: { ...row, role: 'r' }, x: 1 })).toBe('{"u":{"id":1,"name":"a","role":"r"}}');
    expect(compileSerializer(Type.Record(Type.String(), User))({ u: row })).toBe('{"u":{"id":1,"name":"a"}}');
    expect(compileSerializer(Type.Record(Type.Number(), Type.String()))({ 1: 'a', x: 'leak' })).toBe('{"1":"a"}');
    expect(compileSerializer(Type.Array(Type.Union([User, Type.Integer()])))([row, 3])).toBe('[{"id":1,"name":"a"},3]');
    // A record member fits only when its values fit the record (found by the property test at 30,000 runs).
    const RecOrObj = Type.Union([Type.Object({ a: Type.Record(Type.String(), Type.Null()) }), Type.Object({ a: Type.Object({ cb: Type.Optional(Type.String()) }) })]);
    expect(compileSerializer(RecOrObj)({ a: { cb: 'x', LEAK: 'y' } })).toBe('{"a":{"cb":"x"}}');
    expect(compileSerializer(RecOrObj)({ a: { k: null } })).toBe('{"a":{"k":null}}');
    expect(compileSerializer(Type.Object({ any: Type.Any() }))({ any: { kept: 1 }, dropped: 2 })).toBe('{"any":{"kept":1}}');
    expect(compileSerializer(Type.Tuple([User, Type.String()]))([row, 's'])).toBe('[{"id":1,"name":"a"},"s"]');
    const Tree = Type.Recursive((This) => Type.Object({ id: Type.Integer(), kids: Type.Array(This) }));
    expect(compileSerializer(Tree)({ id: 1, x: 1, kids: [{ id: 2, x: 2, kids: [] }] })).toBe('{"id":1,"kids":[{"id":2,"kids":[]}]}');
    const M = Type.Module({ Owner: Type.Object({ user: Type.Ref('U') }), U: User });
    expect(compileSerializer(M.Import('Owner'))({ user: row })).toBe('{"user":{"id":1,"name":"a"}}');
    const Named = Type.Object({ id: Type.Integer() }, { $id: 'Named' });
    expect(compileSerializer(Type.Object({ n: Type.Ref(Named) }), [Named])({ n: { id: 1, x: 2 } })).toBe('{"n":{"id":1}}');
    const Extra = Type.Object({ id: Type.Integer() }, { additionalProperties: Type.Object({ a: Type.Integer() }) });
    expect(compileSerializer(Extra)({ id: 1, more: { a: 1, b: 2 } })).toBe('{"id":1,"more":{"a":1}}');
  });

  it('an object with toJSON is written by the schema, not by its toJSON alone', () => {
    const entity = { toJSON: () => row };
    expect(compileSerializer(User)(entity)).toBe('{"id":1,"name":"a"}');
    expect(compileSerializer(Type.Union([User, Type.Null()]))(entity)).toBe('{"id":1,"name":"a"}');
    expect(compileSerializer(Type.Object({ at: Type.String() }))({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
    expect(compileSerializer(Type.Object({ at: Type.Union([Type.String(), Type.Null()]) }))({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  it('an object where the schema has a primitive, or a value no union member fits, throws instead of writing it whole', () => {
    expect(() => compileSerializer(Type.Object({ name: Type.String() }))({ name: row })).toThrow(/expects a primitive/);
    expect(() => compileSerializer(Type.Union([Type.Object({ a: Type.String() }), Type.Null()]))(row)).toThrow(/no member that fits/);
    expect(() => compileSerializer(User)([row])).toThrow(/expects an object here, the handler returned an array/);
    // and the message names no value
    try {
      compileSerializer(Type.Object({ name: Type.String() }))({ name: row });
    } catch (e) {
      expect(String(e)).not.toContain('secret');
    }
  });

  it('refuses, when compiled, a schema it cannot guard, saying what to write instead', () => {
    expect(() => compileSerializer(Type.Object({ x: Type.Not(Type.String()) }))).toThrow(/at \/x: a Not .*Type.Object/);
    expect(() => compileSerializer(Type.Ref('Missing'))).toThrow(/"Missing" names no schema/);
    expect(() => compileSerializer(Type.Intersect([Type.Union([User, Type.Null()]), Type.Object({ a: Type.String() })]))).toThrow(/union of intersections/);
    const app = createApp();
    expect(() => app.get('/x', { schema: { response: { 200: Type.Object({ x: Type.Not(Type.String()) }) } } }, () => ({ x: 1 }))).toThrow(/GET \/x.*Not/);
  });

  it('a route answering a nullable or union schema sends no undeclared key; a value that does not fit is a 500 naming nothing', async () => {
    const app = createApp();
    app.get('/me', { schema: { response: { 200: Type.Union([User, Type.Null()]) } } }, () => row);
    // A handler that breaks its types (a cast, a JS caller): the schema still decides what is written.
    app.get('/bad', { schema: { response: { 200: Type.Union([Type.Object({ a: Type.String() }), Type.Null()]) } } }, () => row as unknown as null);
    const me = await app.inject({ method: 'GET', url: '/me' });
    expect(me.text()).toBe('{"id":1,"name":"a"}');
    const bad = await app.inject({ method: 'GET', url: '/bad' });
    expect(bad.status).toBe(500);
    expect(bad.text()).not.toContain('secret');
  });
});

// ---- property: random schemas × values with extra keys at any depth ----

const safeText = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '"', '\\', '\n'), maxLength: 6 });
const keyName = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), minLength: 1, maxLength: 3 });

const schemaArb: fc.Arbitrary<TSchema> = fc.letrec<{ s: TSchema; obj: TSchema }>((tie) => ({
  s: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    // No Type.Any: it declares any value, extra keys included (a union member `{ b?: Any }` rightly writes
    // whatever b holds), so it has no undeclared key to leak.
    fc.constantFrom<TSchema>(Type.String(), Type.Integer(), Type.Number(), Type.Boolean(), Type.Null(), Type.Literal('lit')),
    tie('obj'),
    tie('s').map((s) => Type.Array(s)),
    tie('s').map((s) => Type.Union([s, Type.Null()])),
    fc.tuple(tie('obj'), tie('obj')).map(([a, b]) => Type.Union([a, b])),
    // Intersected objects declare different keys here (a value of both exists); shared keys are tested above.
    fc.tuple(tie('obj'), tie('obj')).map(([a, b]) => Type.Intersect([a, Type.Object(Object.fromEntries(Object.entries((b as unknown as { properties: object }).properties).map(([k, v]) => [`z${k}`, v])))])),
    tie('s').map((s) => Type.Record(Type.String(), s)),
    fc.tuple(tie('s'), tie('s')).map(([a, b]) => Type.Tuple([a, b])),
  ),
  obj: fc
    .dictionary(keyName, fc.tuple(tie('s'), fc.boolean()), { maxKeys: 3 })
    .map((d) => Type.Object(Object.fromEntries(Object.entries(d).map(([k, [s, opt]]) => [k, opt ? Type.Optional(s) : s])))),
})).s;

/** Values of `schema`, every object carrying extra keys (named LEAK…) holding more objects with extra keys. */
function valueArb(schema: TSchema): fc.Arbitrary<unknown> {
  const s = schema as TSchema & Record<string, unknown>;
  const kind = schema[Kind] as string;
  const leak = fc.constant({ LEAKa: 'x', LEAKb: { LEAKc: [1, { LEAKd: 2 }] } });
  switch (kind) {
    case 'String':
      return safeText;
    case 'Integer':
      return fc.integer();
    case 'Number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'Boolean':
      return fc.boolean();
    case 'Null':
      return fc.constant(null);
    case 'Literal':
      return fc.constant(s.const);
    case 'Any':
      return fc.oneof(safeText, fc.integer());
    case 'Array':
      return fc.array(valueArb(s.items as TSchema), { maxLength: 3 });
    case 'Tuple':
      return fc.tuple(...(s.items as TSchema[]).map(valueArb));
    case 'Union':
      return fc.oneof(...(s.anyOf as TSchema[]).map(valueArb));
    case 'Record':
      return fc.dictionary(keyName, valueArb(Object.values(s.patternProperties as Record<string, TSchema>)[0]!), { maxKeys: 3 });
    case 'Intersect': {
      const [a, b] = (s.allOf as TSchema[]).map(valueArb);
      const plain = (v: unknown): object => (typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON(): object }).toJSON() : (v as object));
      return fc.tuple(a!, b!).map(([x, y]) => ({ ...plain(x), ...plain(y) }));
    }
    case 'Object': {
      const props = s.properties as Record<string, TSchema>;
      const required = new Set((s.required as string[] | undefined) ?? []);
      const rec = fc.record(Object.fromEntries(Object.entries(props).map(([k, p]) => [k, valueArb(p)])), { requiredKeys: [...required] });
      return fc.tuple(rec, leak, fc.boolean()).map(([v, extra, asEntity]) => {
        const o = { ...v, ...extra };
        return asEntity ? { toJSON: () => o } : o;
      });
    }
    default:
      throw new Error(`no values for ${kind}`);
  }
}

const schemaAndValue = schemaArb.chain((schema) => valueArb(schema).map((value) => ({ schema, value })));

describe('property', () => {
  it('random schemas × values with extra keys at any depth: the body never holds an undeclared key, and it matches the schema', () => {
    fc.assert(
      fc.property(schemaAndValue, ({ schema, value }) => {
        const out = compileSerializer(schema)(value);
        expect(out).not.toContain('LEAK');
        const parsed: unknown = JSON.parse(out);
        // What was written is a value of the schema (intersections of conflicting keys aside).
        if (!JSON.stringify(schema).includes('allOf')) expect(Value.Check(schema, parsed)).toBe(true);
      }),
      { numRuns: Number(process.env.SER_RUNS ?? 1500) },
    );
  });
});
