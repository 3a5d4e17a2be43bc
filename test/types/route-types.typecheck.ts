// Type-level tests for covet/app routes, checked by `tsc` (test/typecheck.test.ts runs it): each
// `@ts-expect-error` must meet an error, and each `expectTypeOf` must hold, or the suite fails.
import { expectTypeOf } from 'vitest';
import { createApp, Type, type Context } from '../../lib/app/index.js';
import type { PathParams } from '../../lib/router/index.js';

const app = createApp();

// Params are typed from the pattern literal: int/float are numbers, the rest strings, `?` optional.
expectTypeOf<PathParams<'/orgs/{org:slug}/users/{id:int}'>>().toEqualTypeOf<{ org: string; id: number }>();
expectTypeOf<PathParams<'/files/:name.:ext'>>().toEqualTypeOf<{ name: string; ext: string }>();
expectTypeOf<PathParams<'/c/{code:[A-Z]{3}}/{x:float}?'>>().toEqualTypeOf<{ code: string; x?: number }>();
expectTypeOf<PathParams<'/static/*'>>().toEqualTypeOf<{ '*': string }>();
expectTypeOf<PathParams<'/a::b/{id:uuid}'>>().toEqualTypeOf<{ id: string }>();
expectTypeOf<PathParams<string>>().toEqualTypeOf<Record<string, string | number>>();

app.get('/users/{id:int}/files/{name}', (ctx) => {
  expectTypeOf(ctx.params).toEqualTypeOf<{ id: number; name: string }>();
  return { id: ctx.params.id + 1 }; // a number: no cast
});
app.delete('/notes/{id:uuid}', (ctx) => {
  expectTypeOf(ctx.params.id).toEqualTypeOf<string>();
});

// A params schema wins over the pattern.
app.get('/items/{id:int}', { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), query: Type.Object({ limit: Type.Integer({ default: 20 }) }) } }, (ctx) => {
  expectTypeOf(ctx.params).toEqualTypeOf<{ id: number }>();
  expectTypeOf(ctx.query.limit).toEqualTypeOf<number>(); // a default: always present in the handler
  return 'ok';
});

// The handler's return value is typed by the response schemas.
const Token = Type.Object({ token: Type.String(), at: Type.String({ format: 'date-time' }) });
app.post('/tokens', { schema: { response: { 201: Token } } }, () => ({ token: 't', at: new Date() })); // a Date serializes to the string
app.post('/tokens-async', { schema: { response: { 201: Token } } }, async () => ({ token: 't', at: '2026-12-02T00:00:00Z' }));
app.post('/answered', { schema: { response: { 201: Token } } }, (ctx: Context) => {
  ctx.res.statusCode = 204; // answering by hand: nothing returned
  ctx.res.end();
});
// @ts-expect-error token is a number
app.post('/bad-type', { schema: { response: { 201: Token } } }, () => ({ token: 123, at: 'x' }));
// @ts-expect-error the required "at" is missing
app.post('/bad-missing', { schema: { response: { 201: Token } } }, async () => ({ token: 't' }));

// Without response schemas anything goes.
app.get('/free', () => Buffer.from('bytes'));
