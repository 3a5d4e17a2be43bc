// Type-level tests for covet/client, checked by `tsc` (test/typecheck.test.ts): the client's calls are typed
// from the app's own routes — params, query, body, and the answer per status.
import { expectTypeOf } from 'vitest';
import { createApp, HttpError, Type } from '../../lib/app/index.js';
import { createClient, type Problem } from '../../lib/client/index.js';

const Note = Type.Object({ id: Type.Integer(), title: Type.String(), at: Type.String({ format: 'date-time' }) });
const NewNote = Type.Object({ title: Type.String({ minLength: 1 }), tags: Type.Optional(Type.Array(Type.String())) });
const NotFound = Type.Object({ status: Type.Literal(404), title: Type.String() });

const app = createApp()
  .get('/notes/{id:int}', { schema: { response: { 200: Note, 404: NotFound } } }, (ctx) => ({ id: ctx.params.id, title: 't', at: new Date() }))
  .post('/notes', { schema: { body: NewNote, response: { 201: Note } } }, (ctx) => ({ id: 1, title: ctx.body.title, at: '2026-12-06T00:00:00Z' }))
  .get('/notes', { schema: { query: Type.Object({ limit: Type.Integer({ default: 20 }), tag: Type.Optional(Type.String()) }) } }, () => [{ id: 1, when: new Date() }])
  .delete('/notes/{id:int}', { status: 204 }, () => undefined)
  .get('/files/*', () => Buffer.from('x'))
  .get('/hello/:name?', (ctx) => `hello ${ctx.params.name ?? 'you'}`)
  .group('/admin', (g) => g.get('/', () => ({ admin: true })).get('/users/{id:uuid}', (ctx) => ({ id: ctx.params.id })));
app.get('/not-chained', () => 'left out of the type');
type Api = typeof app;

const api = createClient<Api>({ baseUrl: 'http://localhost:3000' });

async function calls(): Promise<void> {
  // Params from the pattern; the answer by status.
  const one = await api.get('/notes/{id:int}', { params: { id: 7 } });
  if (one.status === 200) expectTypeOf(one.data).toEqualTypeOf<{ id: number; title: string; at: string }>();
  if (one.ok) {
    expectTypeOf(one.status).toEqualTypeOf<200>();
    expectTypeOf(one.data.title).toEqualTypeOf<string>();
  } else expectTypeOf(one.data).toEqualTypeOf<{ status: 404; title: string } | Problem>();
  // @ts-expect-error the params are required
  await api.get('/notes/{id:int}');
  // @ts-expect-error an int param is a number
  await api.get('/notes/{id:int}', { params: { id: '7' } });

  // The body from its schema; 201 from the response schema.
  const made = await api.post('/notes', { body: { title: 'x', tags: ['a'] } });
  if (made.ok) expectTypeOf(made).toMatchTypeOf<{ status: 201; data: { id: number; title: string; at: string } }>();
  // @ts-expect-error the body is required
  await api.post('/notes');
  // @ts-expect-error title is a string
  await api.post('/notes', { body: { title: 5 } });

  // Query members are optional (defaults are filled in by the server); their types still hold.
  const list = await api.get('/notes', { query: { tag: 'a' } });
  if (list.ok) expectTypeOf(list.data).toEqualTypeOf<{ id: number; when: string }[]>(); // a Date arrives as a string
  await api.get('/notes');
  // @ts-expect-error limit is a number
  await api.get('/notes', { query: { limit: 'ten' } });

  // A chosen status; bytes; text; an optional param.
  const gone = await api.delete('/notes/{id:int}', { params: { id: 1 } });
  if (gone.ok) expectTypeOf(gone).toMatchTypeOf<{ status: 204; data: undefined }>();
  const file = await api.get('/files/*', { params: { '*': 'a/b.txt' } });
  if (file.ok) expectTypeOf(file.data).toEqualTypeOf<Uint8Array>();
  const hi = await api.get('/hello/:name?');
  if (hi.ok) expectTypeOf(hi.data).toEqualTypeOf<string>();

  // A group's chain joins under its prefix.
  const admin = await api.get('/admin');
  if (admin.ok) expectTypeOf(admin.data).toEqualTypeOf<{ admin: boolean }>();
  await api.get('/admin/users/{id:uuid}', { params: { id: 'x' } });

  // @ts-expect-error no such route
  await api.get('/nope');
  // @ts-expect-error the route has no POST
  await api.post('/notes/{id:int}', { params: { id: 1 } });
  // @ts-expect-error a route added outside the chain is not in the type
  await api.get('/not-chained');

  expectTypeOf(api.url('/notes/{id:int}', { params: { id: 1 } })).toEqualTypeOf<string>();
}
void calls;

// The handler's return value is still checked against the response schemas.
// @ts-expect-error title must be a string
createApp().get('/x', { schema: { response: { 200: Note } } }, () => ({ id: 1, title: 2, at: 'x' }));
void HttpError;
