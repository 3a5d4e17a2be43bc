import { Type } from '@sinclair/typebox';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSerializer, createApp } from '../../lib/app/index.js';

const Note = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  score: Type.Number(),
  done: Type.Boolean(),
  tags: Type.Array(Type.String()),
  owner: Type.Object({ name: Type.String(), email: Type.Optional(Type.String()) }),
  parent: Type.Union([Type.Integer(), Type.Null()]),
  nothing: Type.Null(),
});

const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 20 });
const note = fc.record(
  {
    id: fc.integer(),
    title: utf16,
    score: fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -0)),
    done: fc.boolean(),
    tags: fc.array(utf16, { maxLength: 4 }),
    owner: fc.record({ name: utf16, email: utf16 }, { requiredKeys: ['name'] }),
    parent: fc.option(fc.integer(), { nil: null }),
    nothing: fc.constant(null),
  },
  { requiredKeys: ['id', 'title'] },
);

describe('compileSerializer', () => {
  it('writes exactly what JSON.stringify writes for values of the schema (any UTF-16, NaN, -0, missing optionals)', () => {
    const ser = compileSerializer(Note);
    const list = compileSerializer(Type.Array(Note));
    fc.assert(
      fc.property(fc.array(note, { maxLength: 5 }), (notes) => {
        for (const n of notes) expect(ser(n)).toBe(JSON.stringify(n));
        expect(list(notes)).toBe(JSON.stringify(notes));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves out undeclared properties (unless additionalProperties: true)', () => {
    const ser = compileSerializer(Type.Object({ id: Type.Integer(), user: Type.Object({ name: Type.String() }) }));
    expect(ser({ id: 1, passwordHash: 'x', user: { name: 'a', token: 't' } })).toBe('{"id":1,"user":{"name":"a"}}');
    const open = compileSerializer(Type.Object({ id: Type.Integer() }, { additionalProperties: true }));
    expect(open({ id: 1, extra: [1], skip: undefined, f: () => 1 })).toBe('{"id":1,"extra":[1]}');
    // Values of the wrong kind are encoded as JSON.stringify would, not coerced or dropped.
    expect(ser({ id: '7', user: null })).toBe('{"id":"7","user":null}');
    expect(compileSerializer(Type.Object({ at: Type.String() }))({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  it('serializes route answers by their status\'s schema', async () => {
    const app = createApp();
    const schema = { response: { 200: Type.Object({ id: Type.Integer(), title: Type.String() }), 201: Type.Object({ id: Type.Integer() }) } };
    app.get('/n', { schema }, () => ({ id: 1, title: 't', secret: 's' }));
    app.post('/n', { schema }, (ctx) => {
      ctx.res.statusCode = 201;
      return { id: 2, title: 't', secret: 's' };
    });
    app.put('/n', { schema }, (ctx) => {
      ctx.res.statusCode = 202; // no schema for 202: plain JSON
      return { id: 3, secret: 's' };
    });
    expect((await app.inject({ method: 'GET', url: '/n' })).text()).toBe('{"id":1,"title":"t"}');
    expect((await app.inject({ method: 'POST', url: '/n' })).text()).toBe('{"id":2}');
    expect((await app.inject({ method: 'PUT', url: '/n' })).text()).toBe('{"id":3,"secret":"s"}');
  });
});
