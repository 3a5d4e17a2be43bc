// The README's covet/app quick start, as a file (imports from lib/ here, from 'covet/app' in the README):
// test/quickstart.test.ts checks the README shows exactly this code and runs requests against it.
import { createApp, HttpError, Type } from '../lib/app/index.js';
import { importKey, jwtAuth, signJwt } from '../lib/app/auth/index.js';

const key = importKey(process.env.JWT_SECRET ?? 'dev secret: at least 32 bytes long!!', ['HS256']);
const auth = jwtAuth({ keys: [key], issuer: 'todos' }); // Bearer JWTs; 401/403 per RFC 6750

const Todo = Type.Object({ id: Type.Integer(), title: Type.String(), due: Type.Optional(Type.String({ format: 'date' })), done: Type.Boolean() }, { $id: 'Todo' });
const todos = new Map<number, { id: number; title: string; due?: string; done: boolean }>();

export const app = createApp({ openapi: { info: { title: 'Todos', version: '1.0.0' } } }); // docs at /docs

app.get('/todos', { schema: { query: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) }), response: { 200: Type.Array(Todo) } } }, (ctx) =>
  [...todos.values()].slice(0, ctx.query.limit), // limit is a number, 20 when absent
);

app.get('/todos/{id:int}', { schema: { response: { 200: Todo } } }, (ctx) => {
  const todo = todos.get(ctx.params.id); // id is a number: typed from the pattern
  if (todo === undefined) throw new HttpError(404, { detail: `todo ${ctx.params.id} does not exist` });
  return todo;
});

app.post('/todos', { deps: [auth.require('todos:write')], schema: { body: Type.Object({ title: Type.String({ minLength: 1 }), due: Type.Optional(Type.String({ format: 'date' })) }), response: { 201: Todo } } }, (ctx) => {
  const todo = { id: todos.size + 1, ...ctx.body, done: false };
  todos.set(todo.id, todo);
  return todo; // 201: the route's one success schema
});

app.ws('/todos/{id:int}/live', { deps: [auth], open: (ws, ctx) => ws.send(JSON.stringify(todos.get(ctx.params.id) ?? null)) });

/** A token for trying it out: `curl -H "authorization: Bearer $(…)"`. */
export const devToken = (): string => signJwt({ scope: 'todos:write' }, key, { issuer: 'todos', subject: 'dev', expiresIn: 3600 });

if (process.argv[1] === new URL(import.meta.url).pathname) {
  await app.listen({ port: Number(process.env.PORT ?? 3000) });
  console.log(`http://localhost:${process.env.PORT ?? 3000}/docs — token: ${devToken()}`);
}
