/**
 * The README's covet/app quick start is examples/quickstart.ts (imports aside), and it works: typed,
 * validated routes with defaults and formats, JWT auth answering before validation, a WebSocket route.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { app, devToken } from '../examples/quickstart.js';

const root = join(import.meta.dirname, '..');

it('the README shows examples/quickstart.ts', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /## Building an app with `covet\/app`[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  const file = readFileSync(join(root, 'examples/quickstart.ts'), 'utf8').split('\n').slice(2).join('\n').replace("'../lib/app/index.js'", "'covet/app'").replace("'../lib/app/auth/index.js'", "'covet/app/auth'");
  expect(block).toBe(file);
});

it('the quick start answers as its comments say', async () => {
  const auth = { authorization: `Bearer ${devToken()}` };
  expect((await app.inject({ method: 'POST', url: '/todos', body: { title: 'x' } })).status).toBe(401);
  expect((await app.inject({ method: 'POST', url: '/todos', headers: auth, body: { title: 'x', due: '2026-02-30' } })).status).toBe(422);
  const created = await app.inject({ method: 'POST', url: '/todos', headers: auth, body: { title: 'write the guide', due: '2026-12-24' } });
  expect(created.status).toBe(201);
  expect(created.json()).toEqual({ id: 1, title: 'write the guide', due: '2026-12-24', done: false });
  expect((await app.inject({ url: '/todos' })).json()).toHaveLength(1);
  expect((await app.inject({ url: '/todos?limit=0' })).status).toBe(422);
  expect((await app.inject({ url: '/todos/1' })).json()).toMatchObject({ title: 'write the guide' });
  expect((await app.inject({ url: '/todos/2' })).status).toBe(404);
  const doc = (await app.inject({ url: '/openapi.json' })).json<{ components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> } }>();
  expect(Object.keys(doc.components.schemas)).toContain('Todo');
  expect(doc.components.securitySchemes).toHaveProperty('bearerAuth');
});
