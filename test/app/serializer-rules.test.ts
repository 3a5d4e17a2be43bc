/**
 * The response serializer at its edges (#28, from serializer.ts's mutants): every schema kind it writes
 * and tells apart in a union — TypeBox kinds and plain JSON schemas (no `Kind`) — each refusal's words and
 * the path it names, the errors a handler's value gets, references through `$id` and `$defs`, merged
 * intersections, pattern and additional properties.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { compileSerializer, ResponseShapeError, UnsupportedResponseSchema } from '../../lib/app/index.js';

const ser = (schema: TSchema | Record<string, unknown>, refs: Array<TSchema | Record<string, unknown>> = []) => compileSerializer(schema as TSchema, refs as TSchema[]);

/** The error `fn` throws, as `Name: message`, or the output. */
function outcome(fn: () => string): string {
  try {
    return fn();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}
/** What `fn` throws (undefined when it does not). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
const refused = (schema: TSchema | Record<string, unknown>, refs: Array<TSchema | Record<string, unknown>> = []) => outcome(() => (ser(schema, refs), 'compiled'));

describe('primitives', () => {
  it('strings, numbers, bigints, booleans, null, literals, dates: as JSON.stringify writes them', () => {
    expect(ser(Type.String())('a"b\u2028\ud800')).toBe(JSON.stringify('a"b\u2028\ud800'));
    expect(ser(Type.TemplateLiteral('a${string}'))('ax')).toBe('"ax"');
    expect(ser(Type.Number())(1.5)).toBe('1.5');
    expect(ser(Type.Number())(-0)).toBe('0');
    expect(ser(Type.Number())(Infinity)).toBe('null');
    expect(ser(Type.Integer())(12345678901234567890n)).toBe('12345678901234567890');
    expect(ser(Type.Integer())('7')).toBe('"7"'); // the wrong type, written as it is
    expect(ser(Type.String())(5)).toBe('5');
    expect(ser(Type.Boolean())(true)).toBe('true');
    expect(ser(Type.Boolean())(false)).toBe('false');
    expect(ser(Type.Boolean())('yes')).toBe('"yes"');
    expect(ser(Type.Null())(null)).toBe('null');
    expect(ser(Type.Null())(0)).toBe('0');
    expect(ser(Type.Literal('on'))('on')).toBe('"on"');
    expect(ser(Type.Date())(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    expect(ser(Type.Undefined())(undefined)).toBe('null');
    expect(ser(Type.Void())(undefined)).toBe('null');
    expect(ser(Type.Unknown())({ a: [1] })).toBe('{"a":[1]}');
    expect(ser(Type.Any())(undefined)).toBe('null');
    expect(ser(Type.Unsafe<string>({ type: 'string' }))('u')).toBe('"u"');
  });

  it('an object where a primitive belongs is written only when its toJSON() gives a primitive (or null)', () => {
    const withJson = (v: unknown) => ({ toJSON: () => v });
    expect(ser(Type.String())(withJson('t'))).toBe('"t"');
    expect(ser(Type.Integer())(withJson(null))).toBe('null');
    expect(ser(Type.Boolean())(withJson(undefined))).toBe('null');
    expect(outcome(() => ser(Type.String())(withJson({ leak: 1 })))).toBe('ResponseShapeError: the response schema expects a primitive here, the handler returned a value of type object');
    expect(outcome(() => ser(Type.String())({ leak: 1 }))).toBe('ResponseShapeError: the response schema expects a primitive here, the handler returned a value of type object');
    expect(outcome(() => ser(Type.Number())([1]))).toBe('ResponseShapeError: the response schema expects a primitive here, the handler returned an array');
    expect(outcome(() => ser(Type.Null())(new Map()))).toMatch(/^ResponseShapeError: .* a value of type object$/);
    // Where an object or an array belongs, the error says which (not "a primitive").
    expect(outcome(() => ser(Type.Object({ id: Type.Integer() }))([1, 2]))).toBe('ResponseShapeError: the response schema expects an object here, the handler returned an array');
    expect(outcome(() => ser(Type.Object({ id: Type.Integer() }))({ toJSON: () => [1] }))).toBe('ResponseShapeError: the response schema expects an object here, the handler returned an array');
    expect(outcome(() => ser(Type.Array(Type.Integer()))({ length: 1 }))).toBe('ResponseShapeError: the response schema expects an array here, the handler returned a value of type object');
    expect(outcome(() => ser(Type.Tuple([Type.Integer()]))({ 0: 1 }))).toBe('ResponseShapeError: the response schema expects an array here, the handler returned a value of type object');
    const e = thrown(() => ser(Type.String())({}));
    expect(e).toBeInstanceOf(ResponseShapeError);
    expect((e as Error).name).toBe('ResponseShapeError');
  });
});

describe('plain JSON schemas (no TypeBox kind)', () => {
  it('are written by their type', () => {
    expect(ser({ type: 'number' })(Infinity)).toBe('null');
    expect(ser({ type: 'integer' })(3n)).toBe('3');
    expect(ser({ type: 'string' })('a"')).toBe('"a\\""');
    expect(ser({ type: 'boolean' })(true)).toBe('true');
    expect(ser({ type: 'null' })(null)).toBe('null');
    expect(ser({ const: 'x' })('x')).toBe('"x"');
    expect(ser({ enum: [1, 'a'] })('a')).toBe('"a"');
    expect(outcome(() => ser({ type: 'string' })({ a: 1 }))).toMatch(/^ResponseShapeError/);
    expect(outcome(() => ser({ type: 'number' })({ a: 1 }))).toMatch(/^ResponseShapeError/);
    expect(outcome(() => ser({ type: 'boolean' })({ a: 1 }))).toMatch(/^ResponseShapeError/);
  });

  it('objects by type or by properties alone, arrays, unions, intersections, annotations only', () => {
    expect(ser({ type: 'object', properties: { a: { type: 'integer' } } })({ a: 1, b: 2 })).toBe('{"a":1}');
    expect(ser({ properties: { a: { type: 'string' } } })({ a: 'x', b: 2 })).toBe('{"a":"x"}');
    expect(ser({ type: 'object' })({ b: 2 })).toBe('{}');
    expect(ser({ type: 'object', additionalProperties: true })({ b: 2 })).toBe('{"b":2}');
    expect(ser({ type: 'array', items: { type: 'object', properties: { a: { type: 'integer' } } } })([{ a: 1, b: 2 }])).toBe('[{"a":1}]');
    expect(ser({ type: 'array' })([{ b: 2 }])).toBe('[{"b":2}]');
    expect(ser({ type: 'array', items: [{ type: 'integer' }, { type: 'string' }] })([1, 'a'])).toBe('[1,"a"]');
    const either = { anyOf: [{ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }, { type: 'null' }] };
    expect(ser(either)({ a: 1, b: 2 })).toBe('{"a":1}');
    expect(ser(either)(null)).toBe('null');
    expect(ser({ oneOf: [{ type: 'string' }, { type: 'integer' }] })(4)).toBe('4');
    expect(ser({ allOf: [{ properties: { a: { type: 'integer' } } }, { properties: { b: { type: 'integer' } } }] })({ a: 1, b: 2, c: 3 })).toBe('{"a":1,"b":2}');
    for (const k of ['description', 'title', '$id', 'default', 'examples']) expect(ser({ [k]: k === 'examples' ? [1] : 'x' })({ any: [1] })).toBe('{"any":[1]}');
    expect(ser({})({ any: 1 })).toBe('{"any":1}');
    expect(refused({ description: 'd', format: 'email' })).toBe(
      'UnsupportedResponseSchema: response schema: a schema without a type cannot be written as JSON with only its declared properties; describe the value with Type.Object, Type.Array, Type.Union, Type.Intersect of objects, Type.Record or a primitive (Type.Unknown to send it as is)',
    );
    expect(refused({ type: 'object', properties: { a: { not: {} } } })).toMatch(/^UnsupportedResponseSchema: response schema at \/a: a schema without a type cannot/);
  });

  it('in a union, each plain type is told apart', () => {
    const u = ser({ anyOf: [{ type: 'integer' }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }, { type: 'array', items: { type: 'integer' } }, { type: 'string' }, { type: 'object', properties: { a: { type: 'integer' } } }] });
    expect(u(1)).toBe('1');
    expect(u(1.5)).toBe('1.5');
    expect(u(false)).toBe('false');
    expect(u(null)).toBe('null');
    expect(u([1, 2])).toBe('[1,2]');
    expect(u('s')).toBe('"s"');
    expect(u({ a: 1, b: 2 })).toBe('{"a":1}');
    expect(outcome(() => u(['x']))).toBe("ResponseShapeError: the response schema's union has no member that fits an array the handler returned");
    const withAllOf = ser({ anyOf: [{ type: 'null' }, { allOf: [{ properties: { a: { type: 'integer' } }, required: ['a'] }] }] });
    expect(withAllOf({ a: 1, z: 1 })).toBe('{"a":1}');
    expect(outcome(() => withAllOf({ z: 1 }))).toMatch(/^ResponseShapeError/);
    expect(ser({ anyOf: [{ type: 'null' }, { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }] })({ a: 1, z: 1 })).toBe('{"a":1}');
    expect(ser({ anyOf: [{ type: 'null' }, { properties: { a: { type: 'integer' } }, required: ['a'] }] })({ a: 1, z: 1 })).toBe('{"a":1}');
    const nested = ser({ anyOf: [{ type: 'null' }, { anyOf: [{ type: 'integer' }, { type: 'string' }] }] });
    expect(nested('x')).toBe('"x"');
    expect(outcome(() => nested(true))).toBe("ResponseShapeError: the response schema's union has no member that fits a value of type boolean the handler returned");
    expect(ser({ anyOf: [{ type: 'null' }, { oneOf: [{ type: 'integer' }] }] })(3)).toBe('3');
    expect(ser({ anyOf: [{ type: 'null' }, { const: 'a' }, { enum: ['b', 2] }] })(2)).toBe('2');
    expect(outcome(() => ser({ anyOf: [{ type: 'null' }, { const: 'a' }, { enum: ['b', 2] }] })('c'))).toMatch(/^ResponseShapeError/);
    expect(refused({ anyOf: [{ type: 'null' }, { format: 'x' }] })).toBe(
      'UnsupportedResponseSchema: response schema at /anyOf/1: a schema without a type in a union cannot be told apart from the other members; describe it with a TypeBox type',
    );
  });
});

describe('unions of TypeBox kinds', () => {
  it('every kind has a guard that picks it', () => {
    const Obj = Type.Object({ a: Type.Integer() });
    const u = ser(
      Type.Union([
        Type.Date(),
        Type.Literal('lit'),
        Type.Integer(),
        Type.Number(),
        Type.Boolean(),
        Type.Null(),
        Type.Undefined(),
        Type.Tuple([Type.String(), Type.Integer()]),
        Type.Array(Type.Boolean()),
        Obj,
        Type.TemplateLiteral('t${string}'),
      ]),
    );
    expect(u(new Date(1000))).toBe('"1970-01-01T00:00:01.000Z"');
    expect(u('lit')).toBe('"lit"');
    expect(u(3)).toBe('3');
    expect(u(3n)).toBe('3');
    expect(u(0.5)).toBe('0.5');
    expect(u(true)).toBe('true');
    expect(u(null)).toBe('null');
    expect(u(undefined)).toBe('null');
    expect(u(['s', 1])).toBe('["s",1]');
    expect(u([true, false])).toBe('[true,false]');
    expect(u({ a: 1, b: 2 })).toBe('{"a":1}');
    expect(u('tx')).toBe('"tx"');
    expect(outcome(() => u(['s', 'not an integer']))).toMatch(/^ResponseShapeError: .* an array the handler returned$/);
    expect(outcome(() => u(['s', 1, 'third']))).toMatch(/^ResponseShapeError/);
    expect(outcome(() => u({ b: 1 }))).toBe("ResponseShapeError: the response schema's union has no member that fits a value of type object the handler returned");
    expect(outcome(() => u([1]))).toMatch(/^ResponseShapeError/);
  });

  it('Unknown, Any, Void and Unsafe primitives as members; an empty union fits nothing', () => {
    expect(ser(Type.Union([Type.Integer(), Type.Unknown()]))({ x: 1 })).toBe('{"x":1}');
    expect(ser(Type.Union([Type.Integer(), Type.Any()]))('s')).toBe('"s"');
    expect(ser(Type.Union([Type.Integer(), Type.Void()]))(undefined)).toBe('null');
    expect(outcome(() => ser(Type.Union([Type.Integer(), Type.Void()]))('s'))).toMatch(/^ResponseShapeError/);
    const unsafe = ser(Type.Union([Type.Object({ a: Type.Integer() }), Type.Unsafe<string>({ type: 'string' })]));
    expect(unsafe('s')).toBe('"s"');
    expect(unsafe({ a: 1, b: 1 })).toBe('{"a":1}');
    expect(outcome(() => ser(Type.Union([Type.Null(), Type.Unsafe<number>({ type: 'number' })]))([1]))).toMatch(/^ResponseShapeError/);
    expect(outcome(() => ser({ anyOf: [] })(1))).toBe("ResponseShapeError: the response schema's union has no member that fits a value of type number the handler returned");
    expect(outcome(() => ser({ anyOf: [] })(null))).toMatch(/fits null the handler returned$/);
    expect(outcome(() => ser({ anyOf: [{ type: 'null' }, { anyOf: [] }] })(1))).toMatch(/^ResponseShapeError: the response schema's union has no member/);
    expect(outcome(() => ser(Type.Object({ u: Type.Union([Type.Null(), Type.Integer()]) }))({ u: 's' }))).toBe(
      "ResponseShapeError: the response schema's union at /u has no member that fits a value of type string the handler returned",
    );
    expect(refused(Type.Union([Type.Null(), Type.Unsafe({ format: 'x' })]))).toBe(
      'UnsupportedResponseSchema: response schema at /anyOf/1: a Unsafe in a union cannot be told apart from the other members; describe it with a TypeBox type',
    );
  });

  it('a member object with toJSON is judged and written by what toJSON gives; a Date is not an object member', () => {
    const u = ser(Type.Union([Type.Object({ a: Type.Integer() }), Type.String()]));
    expect(u({ toJSON: () => ({ a: 1, leak: 2 }) })).toBe('{"a":1}');
    expect(u({ toJSON: () => 'str' })).toBe('"str"');
    expect(u(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    const obj = ser(Type.Union([Type.Null(), Type.Object({ a: Type.Integer() })]));
    expect(outcome(() => obj({ toJSON: () => [1] }))).toMatch(/^ResponseShapeError: .* an array the handler returned$/);
    expect(outcome(() => obj({ toJSON: () => null }))).toBe('null');
  });

  it('an object member checks required keys, optional keys when present, and what its record or extra schema takes', () => {
    const A = Type.Object({ kind: Type.Literal('a'), n: Type.Optional(Type.Integer()) });
    const R = Type.Record(Type.String({ pattern: '^x' }), Type.Integer());
    const E = Type.Object({ e: Type.String() }, { additionalProperties: Type.Boolean() });
    const u = ser(Type.Union([A, E, R]));
    expect(u({ kind: 'a', n: 1, z: 1 })).toBe('{"kind":"a","n":1}');
    expect(u({ kind: 'a', n: 'x', xa: 1 })).toBe(JSON.stringify({ xa: 1 })); // n does not fit A: the record takes it
    expect(u({ xa: 1, xb: 2 })).toBe('{"xa":1,"xb":2}');
    expect(u({ e: 's', flag: true })).toBe('{"e":"s","flag":true}');
    expect(u({ e: 's', flag: 'no' })).toBe('{}'); // flag does not fit E; the record fits (no key of its pattern)
    expect(outcome(() => ser(Type.Union([E, Type.Null()]))({ e: 's', flag: 'no' }))).toMatch(/^ResponseShapeError/);
    expect(outcome(() => ser(Type.Union([E, Type.Null()]))({ flag: true }))).toMatch(/^ResponseShapeError/); // e is required
    expect(outcome(() => u({ xa: 'no' }))).toMatch(/^ResponseShapeError/);
    expect(u({ xa: 1, f: () => 1, u: undefined })).toBe('{"xa":1}');
    const open = ser(Type.Union([Type.Object({ a: Type.Integer() }, { additionalProperties: true }), Type.Null()]));
    expect(open({ a: 1, any: 'kept' })).toBe('{"a":1,"any":"kept"}');
    const inherited = Object.assign(Object.create({ a: 1 }), { xb: 2 }) as object;
    expect(ser(Type.Union([R, Type.Null()]))(inherited)).toBe('{"xb":2}');
  });
});

describe('arrays, tuples, objects', () => {
  it('arrays of any length, an empty tuple, tuples by position', () => {
    const list = ser(Type.Array(Type.Object({ a: Type.Integer() })));
    expect(list([])).toBe('[]');
    expect(list([{ a: 1 }])).toBe('[{"a":1}]');
    expect(list([{ a: 1 }, { a: 2, b: 3 }, { a: 3 }])).toBe('[{"a":1},{"a":2},{"a":3}]');
    expect(ser(Type.Tuple([]))([])).toBe('[]');
    expect(ser(Type.Tuple([Type.Integer(), Type.Object({ a: Type.Integer() })]))([1, { a: 2, b: 3 }])).toBe('[1,{"a":2}]');
    expect(outcome(() => list({ a: 1 }))).toMatch(/^ResponseShapeError: .*a value of type object$/);
    expect(outcome(() => ser(Type.Tuple([Type.Integer()]))({}))).toMatch(/^ResponseShapeError/);
    expect(list(null)).toBe('null');
  });

  it('objects: properties in schema order, undefined left out, the first comma right, toJSON, inherited keys', () => {
    const O = ser(Type.Object({ a: Type.Optional(Type.Integer()), b: Type.Optional(Type.String()), c: Type.Optional(Type.Integer()) }));
    expect(O({ c: 3, b: 'b', a: 1 })).toBe('{"a":1,"b":"b","c":3}');
    expect(O({ a: undefined, c: 3 })).toBe('{"c":3}');
    expect(O({})).toBe('{}');
    expect(O({ toJSON: () => ({ b: 'j', leak: 1 }) })).toBe('{"b":"j"}');
    expect(O({ toJSON: () => 5 })).toBe('5');
    expect(outcome(() => O({ toJSON: () => [1] }))).toMatch(/^ResponseShapeError: .*an array$/);
    expect(outcome(() => O([1]))).toMatch(/^ResponseShapeError: .*an array$/);
    expect(O(null)).toBe('null');
    const keyed = ser(Type.Object({ 'we"ird\n': Type.Integer() }));
    expect(keyed({ 'we"ird\n': 1 })).toBe(JSON.stringify({ 'we"ird\n': 1 }));
  });

  it('records: keys by pattern (unicode-aware), values by their schema; other keys left out', () => {
    const letters = ser(Type.Record(Type.String({ pattern: '^\\p{L}+$' }), Type.Integer()));
    expect(letters({ été: 1, 'x1': 2 })).toBe('{"été":1}');
    const both = ser(Type.Object({ id: Type.Integer() }, { patternProperties: { '^n_': Type.Object({ v: Type.Integer() }) } }));
    expect(both({ id: 1, n_a: { v: 1, leak: 2 }, other: 3 })).toBe('{"id":1,"n_a":{"v":1}}');
    const extra = ser(Type.Object({ id: Type.Integer() }, { additionalProperties: Type.Object({ v: Type.Integer() }) }));
    expect(extra({ id: 1, x: { v: 2, leak: 3 }, u: undefined, f: () => 1 })).toBe('{"id":1,"x":{"v":2}}');
    const key = ser(Type.Record(Type.String(), Type.Integer()));
    expect(key({ 'a"b': 1 })).toBe('{"a\\"b":1}');
    expect(key({})).toBe('{}');
  });

  it('intersections: objects declaring the same property are merged; unevaluatedProperties: true keeps the rest', () => {
    const I = ser(Type.Intersect([Type.Object({ u: Type.Object({ a: Type.Integer() }) }), Type.Object({ u: Type.Object({ b: Type.Integer() }) })]));
    expect(I({ u: { a: 1, b: 2, c: 3 } })).toBe('{"u":{"a":1,"b":2}}');
    const first = ser(Type.Intersect([Type.Object({ p: Type.Integer() }), Type.Object({ p: Type.Number() })]));
    expect(first({ p: 1.5 })).toBe('1.5'.replace(/.*/, '{"p":1.5}'));
    const mixed = ser(Type.Intersect([Type.Object({ p: Type.Object({ a: Type.Integer() }) }), Type.Object({ p: Type.Integer() })]));
    expect(mixed({ p: { a: 1, b: 2 } })).toBe('{"p":{"a":1}}');
    const open = ser(Type.Intersect([Type.Object({ a: Type.Integer() }), Type.Object({ b: Type.Integer() })], { unevaluatedProperties: true }));
    expect(open({ a: 1, b: 2, c: 3 })).toBe('{"a":1,"b":2,"c":3}');
    const nestedOpen = ser(Type.Object({ i: Type.Intersect([Type.Object({ a: Type.Integer() }), Type.Object({ b: Type.Integer() })], { unevaluatedProperties: true }) }));
    expect(nestedOpen({ i: { a: 1, c: 3 } })).toBe('{"i":{"a":1,"c":3}}');
    const innerAllOf = { allOf: [{ allOf: [{ properties: { a: { type: 'integer' } } }], unevaluatedProperties: true }, { properties: { b: { type: 'integer' } } }] };
    expect(ser(innerAllOf)({ a: 1, b: 2, c: 3 })).toBe('{"a":1,"b":2}');
    const extraFirst = ser(Type.Intersect([Type.Object({ a: Type.Integer() }, { additionalProperties: Type.Boolean() }), Type.Object({ b: Type.Integer() }, { additionalProperties: Type.String() })]));
    expect(extraFirst({ a: 1, b: 2, c: true })).toBe('{"a":1,"b":2,"c":true}');
    const closedThenOpen = ser(Type.Intersect([Type.Object({ a: Type.Integer() }, { additionalProperties: false }), Type.Object({ b: Type.Integer() }, { additionalProperties: true })]));
    expect(closedThenOpen({ a: 1, b: 2, c: 3 })).toBe('{"a":1,"b":2,"c":3}');
  });
});

describe('references', () => {
  it('$id and $defs are found at any depth: properties, patternProperties, items, anyOf, allOf, additionalProperties, not', () => {
    const N = Type.Object({ id: Type.Integer() }, { $id: 'N' });
    const r = { $ref: 'N' };
    const row = { id: 1, leak: 2 };
    expect(ser(Type.Object({ n: Type.Unsafe(r) }), [{ type: 'object', properties: { deep: N } }])({ n: row })).toBe('{"n":{"id":1}}');
    expect(ser(Type.Object({ n: Type.Unsafe(r) }), [{ patternProperties: { x: N } }])({ n: row })).toBe('{"n":{"id":1}}');
    expect(ser(Type.Object({ n: Type.Unsafe(r) }), [{ items: N }])({ n: row })).toBe('{"n":{"id":1}}');
    expect(ser(Type.Object({ n: Type.Unsafe(r) }), [{ anyOf: [N] }])({ n: row })).toBe('{"n":{"id":1}}');
    expect(ser(Type.Object({ n: Type.Unsafe(r) }), [{ allOf: [N] }])({ n: row })).toBe('{"n":{"id":1}}');
    expect(ser(Type.Object({ n: Type.Unsafe(r) }), [{ additionalProperties: N }])({ n: row })).toBe('{"n":{"id":1}}');
    expect(ser(Type.Object({ n: Type.Unsafe(r) }), [{ not: N }])({ n: row })).toBe('{"n":{"id":1}}');
    expect(ser(Type.Object({ n: Type.Unsafe(r) }), [[N] as unknown as TSchema])({ n: row })).toBe('{"n":{"id":1}}');
    expect(ser(Type.Object({ n: Type.Unsafe({ $ref: 'D' }) }), [{ $defs: { D: N } }])({ n: row })).toBe('{"n":{"id":1}}');
    expect(ser(Type.Object({ n: Type.Unsafe({ $ref: 'D' }) }), [{ $defs: { X: { $defs: { D: N } } } }])({ n: row })).toBe('{"n":{"id":1}}');
    // $defs that are not an object (null, a string) hold nothing to find.
    expect(ser(Type.Object({ n: Type.Unsafe({ $ref: 'D' }) }), [{ $defs: null }, { $defs: 'D' }, { $defs: { D: N } }])({ n: row })).toBe('{"n":{"id":1}}');
  });

  it('the first schema with an $id or a $defs name wins', () => {
    const A = Type.Object({ a: Type.Integer() }, { $id: 'X' });
    const B = Type.Object({ b: Type.Integer() }, { $id: 'X' });
    expect(ser(Type.Unsafe({ $ref: 'X' }), [A, B])({ a: 1, b: 2 })).toBe('{"a":1}');
    expect(ser(Type.Unsafe({ $ref: 'D' }), [{ $defs: { D: A } }, { $defs: { D: B } }])({ a: 1, b: 2 })).toBe('{"a":1}');
    expect(ser(Type.Unsafe({ $ref: 'D' }), [{ $defs: { D: A } }, { $defs: { D: B }, $id: 'D' }])({ a: 1, b: 2 })).toBe('{"a":1}');
    expect(ser(Type.Unsafe({ $ref: 'X' }), [A, { $defs: { X: B } }])({ a: 1, b: 2 })).toBe('{"a":1}');
  });

  it('a chain of references resolves; one naming nothing or only itself is refused with its path', () => {
    const N = Type.Object({ id: Type.Integer() }, { $id: 'N' });
    const refs = [N, { $id: 'R1', $ref: 'N' }, { $id: 'R2', $ref: 'R1' }];
    expect(ser(Type.Unsafe({ $ref: 'R2' }), refs)({ id: 1, leak: 2 })).toBe('{"id":1}');
    expect(refused(Type.Object({ a: Type.Array(Type.Unsafe({ $ref: 'Nope' })) }))).toBe(
      'UnsupportedResponseSchema: response schema at /a/items: $ref "Nope" names no schema; give it (with its $id) among the route\'s schemas or inline it',
    );
    expect(refused(Type.Unsafe({ $ref: 'Self' }), [{ $id: 'Self', $ref: 'Self' }])).toBe('UnsupportedResponseSchema: response schema: $ref "Self" does not reach a schema in 33 steps; a reference that refers to itself needs an object in between');
    // 33 references in a row resolve; 34 are taken for a cycle.
    const chain = [N, ...Array.from({ length: 33 }, (_, i) => ({ $id: `C${i}`, $ref: i === 0 ? 'N' : `C${i - 1}` }))];
    expect(ser(Type.Unsafe({ $ref: 'C31' }), chain)({ id: 1, leak: 1 })).toBe('{"id":1}');
    expect(refused(Type.Unsafe({ $ref: 'C32' }), chain)).toBe('UnsupportedResponseSchema: response schema: $ref "C32" does not reach a schema in 33 steps; a reference that refers to itself needs an object in between');
  });
});

describe('refusals name the place', () => {
  const NOT = Type.Not(Type.String());
  const tail = 'cannot be written as JSON with only its declared properties; describe the value with Type.Object, Type.Array, Type.Union, Type.Intersect of objects, Type.Record or a primitive (Type.Unknown to send it as is)';
  it.each([
    [Type.Object({ a: NOT }), 'response schema at /a'],
    [Type.Array(NOT), 'response schema at /items'],
    [Type.Tuple([Type.Integer(), NOT]), 'response schema at /items/1'],
    [Type.Object({ a: Type.Object({ b: NOT }) }), 'response schema at /a/b'],
    [Type.Record(Type.String(), NOT), 'response schema at /patternProperties'],
    [Type.Object({}, { additionalProperties: NOT }), 'response schema at /additionalProperties'],
    [NOT, 'response schema'],
  ])('%#: a Not', (schema, where) => {
    expect(refused(schema)).toBe(`UnsupportedResponseSchema: ${where}: a Not ${tail}`);
  });

  it('intersections of non-objects, and guards inside a union, name their place', () => {
    expect(refused(Type.Intersect([Type.Object({ a: Type.Integer() }), Type.Union([Type.Object({ b: Type.Integer() }), Type.Null()])]))).toBe(
      'UnsupportedResponseSchema: response schema at /allOf/1: an intersection may only join objects (found Union); for an intersection with a union, write a union of intersections (Type.Union([Type.Intersect([A, C]), Type.Intersect([B, C])]))',
    );
    expect(refused({ allOf: [{ properties: {} }, { type: 'string' }] })).toMatch(/^UnsupportedResponseSchema: response schema at \/allOf\/1: an intersection may only join objects \(found string\)/);
    expect(refused(Type.Union([Type.Null(), Type.Array(NOT)]))).toMatch(/^UnsupportedResponseSchema: response schema at \/anyOf\/1\/items: a Not in a union/);
    expect(refused(Type.Union([Type.Null(), Type.Tuple([NOT])]))).toMatch(/^UnsupportedResponseSchema: response schema at \/anyOf\/1\/items\/0: a Not in a union/);
    expect(refused(Type.Union([Type.Null(), Type.Union([NOT, Type.Null()])]))).toMatch(/^UnsupportedResponseSchema: response schema at \/anyOf\/1\/anyOf\/0: a Not in a union/);
    expect(refused(Type.Union([Type.Null(), Type.Object({ k: NOT })]))).toMatch(/^UnsupportedResponseSchema: response schema at \/anyOf\/1\/k: a Not in a union/);
    expect(refused(Type.Union([Type.Null(), Type.Record(Type.String(), NOT)]))).toMatch(/^UnsupportedResponseSchema: response schema at \/anyOf\/1\/patternProperties: a Not in a union/);
    expect(refused(Type.Union([Type.Null(), Type.Object({}, { additionalProperties: NOT })]))).toMatch(/^UnsupportedResponseSchema: response schema at \/anyOf\/1\/additionalProperties: a Not in a union/);
    const e = thrown(() => ser(NOT));
    expect(e).toBeInstanceOf(UnsupportedResponseSchema);
    expect((e as Error).name).toBe('UnsupportedResponseSchema');
  });
});

describe('more edges (from the mutants that survived the first rules)', () => {
  it('a null additionalProperties is no schema; a plain number schema writes bigints', () => {
    expect(ser({ type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: null })({ a: 1, b: 2 })).toBe('{"a":1}');
    expect(ser({ type: 'number' })(7n)).toBe('7');
  });

  it('an Unsafe that is not a primitive is refused when compiled', () => {
    expect(refused(Type.Unsafe({ type: 'object', properties: { a: { type: 'integer' } } }))).toMatch(/^UnsupportedResponseSchema: response schema: a Unsafe cannot be written/);
  });

  it('intersected objects: the first one’s additionalProperties schema writes other keys', () => {
    const I = ser(Type.Intersect([Type.Object({ a: Type.Integer() }, { additionalProperties: Type.Object({ v: Type.Integer() }) }), Type.Object({ b: Type.Integer() }, { additionalProperties: Type.Unknown() })]));
    expect(I({ a: 1, b: 2, c: { v: 1, leak: 2 } })).toBe('{"a":1,"b":2,"c":{"v":1}}');
  });

  it('a property declared by several intersected objects merges when each is an object, an intersection or a record', () => {
    const A = Type.Object({ a: Type.Integer() });
    const B = Type.Object({ b: Type.Integer() });
    const I = ser(Type.Intersect([Type.Object({ p: Type.Intersect([A, B]) }), Type.Object({ p: Type.Object({ c: Type.Integer() }) })]));
    expect(I({ p: { a: 1, b: 2, c: 3, leak: 4 } })).toBe('{"p":{"a":1,"b":2,"c":3}}');
    const plain = ser({ allOf: [{ patternProperties: { '^x': { type: 'integer' } } }, { properties: { a: { type: 'integer' } } }] });
    expect(plain({ a: 1, x1: 2, y: 3 })).toBe('{"a":1,"x1":2}');
    expect(refused(Type.Intersect([Type.Object({ p: Type.Object({ n: Type.Not(Type.String()) }) }), Type.Object({ p: Type.Object({ m: Type.Integer() }) })]))).toMatch(/^UnsupportedResponseSchema: response schema at \/p\/n: a Not cannot/);
  });

  it('guards: a Date member, an array member without items, an object member without properties', () => {
    expect(ser(Type.Union([Type.Date(), Type.Null()]))(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    expect(outcome(() => ser(Type.Union([Type.Date(), Type.Null()]))('1970'))).toMatch(/^ResponseShapeError/);
    expect(ser({ anyOf: [{ type: 'null' }, { type: 'array' }] })([1, { a: 2 }])).toBe('[1,{"a":2}]');
    expect(ser({ anyOf: [{ type: 'null' }, { type: 'object' }] })({ a: 1 })).toBe('{}');
  });

  it('guards: a key declared twice in an intersection member is checked by both declarations', () => {
    const u = ser(Type.Union([Type.Intersect([Type.Object({ p: Type.Integer() }), Type.Object({ p: Type.Number({ minimum: 0 }) })]), Type.Null()]));
    expect(u({ p: 3, q: 1 })).toBe('{"p":3}');
    expect(outcome(() => u({ p: 1.5 }))).toMatch(/^ResponseShapeError/); // not an integer
  });

  it('guards: a unicode key pattern; pattern keys beside additionalProperties: true', () => {
    const letters = ser(Type.Union([Type.Record(Type.String({ pattern: '^\\p{L}+$' }), Type.Integer()), Type.Null()]));
    expect(letters({ été: 1 })).toBe('{"été":1}');
    expect(outcome(() => letters({ été: 'one' }))).toMatch(/^ResponseShapeError/);
    const both = ser(Type.Union([Type.Object({}, { patternProperties: { '^n': Type.Integer() }, additionalProperties: true }), Type.Null()]));
    expect(both({ n1: 1, other: 'kept' })).toBe('{"n1":1,"other":"kept"}');
    expect(outcome(() => both({ n1: 'x' }))).toMatch(/^ResponseShapeError/);
  });
});

describe('and the last few', () => {
  it('an Unsafe object in a union is refused at its place, in words about unions (not intersections)', () => {
    expect(refused(Type.Union([Type.Null(), Type.Unsafe({ type: 'object', properties: { a: { type: 'integer' } } })]))).toBe(
      'UnsupportedResponseSchema: response schema at /anyOf/1: a Unsafe in a union cannot be told apart from the other members; describe it with a TypeBox type',
    );
  });

  it('an intersection with an Unsafe object is refused (only objects, records and intersections join)', () => {
    expect(refused(Type.Intersect([Type.Object({ a: Type.Integer() }), Type.Unsafe({ type: 'object', properties: { b: { type: 'integer' } } })]))).toMatch(/^UnsupportedResponseSchema: response schema at \/allOf\/1: an intersection may only join objects \(found Unsafe\)/);
  });

  it('several key patterns in one object: written and guarded by each', () => {
    const two = Type.Object({}, { patternProperties: { '^a': Type.Integer(), '^b': Type.String() } });
    expect(ser(two)({ a1: 1, b1: 'x', c1: true })).toBe('{"a1":1,"b1":"x"}');
    const u = ser(Type.Union([two, Type.Null()]));
    expect(u({ a1: 1, b1: 'x' })).toBe('{"a1":1,"b1":"x"}');
    expect(outcome(() => u({ b1: 2 }))).toMatch(/^ResponseShapeError/);
  });
});
