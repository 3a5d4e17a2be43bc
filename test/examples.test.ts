/**
 * The example app (`npm start`) starts on PGlite with no database server, serves its API over HTTP/1.1
 * and HTTP/2, and stops on SIGTERM; its migrations create exactly the tables its models declare.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('npm start: the notes example works over HTTP/1.1 and HTTP/2 and shuts down cleanly', async () => {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  probe.close();
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'dist/examples/notes.js')], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => void (out += d));
  while (!out.includes('listening')) await new Promise((r) => setTimeout(r, 20));
  expect(out).toMatch(/database: pglite/);
  const json = { 'content-type': 'application/json' };
  const post = (path: string, body: unknown) => fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  // The live feed (Server-Sent Events) sees notes created from now on.
  const events = await fetch(`http://127.0.0.1:${port}/events`);
  expect(events.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const reader = events.body!.getReader();
  const user = await post('/users', { name: 'Ann', email: 'ann@example.com' });
  expect(user.status).toBe(201);
  expect(user.headers.get('ratelimit-limit')).toBe('300');
  expect((await post('/users', { name: 'Ann again', email: 'ann@example.com' })).status).toBe(409);
  const created = await post('/notes', { ownerId: 1, text: 'from the test' });
  expect(created.status).toBe(201);
  let streamed = '';
  while (!streamed.includes('from the test')) streamed += new TextDecoder().decode((await reader.read()).value);
  expect(streamed).toMatch(/id: 1\nevent: created\ndata: \{"id":1,"ownerId":1,"text":"from the test"/);
  expect((await post('/notes', { ownerId: 1, text: 'second, about milk' })).status).toBe(201);
  expect((await post('/notes', { ownerId: 99, text: 'nobody' })).status).toBe(422);
  const invalid = await post('/notes', { ownerId: 1, text: '' });
  expect(invalid.status).toBe(422);
  expect(await (await fetch(`http://127.0.0.1:${port}/notes?q=MILK`)).json()).toMatchObject([{ id: 2, text: 'second, about milk' }]);
  expect(((await (await fetch(`http://127.0.0.1:${port}/notes?limit=1&before=2`)).json()) as Array<{ id: number }>).map((n) => n.id)).toEqual([1]);
  expect(await (await fetch(`http://127.0.0.1:${port}/users/1`)).json()).toMatchObject({ name: 'Ann', notes: [{ id: 2 }, { id: 1 }] });
  const doc = (await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(doc.paths)).toContain('/notes/{id}');
  const c = http2.connect(`http://127.0.0.1:${port}`);
  const q = c.request({ ':path': '/notes/1' });
  let body = '';
  q.on('data', (d: Buffer) => void (body += d));
  await once(q, 'end');
  expect(JSON.parse(body)).toMatchObject({ id: 1, ownerId: 1, text: 'from the test' });
  c.close();
  expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  const ready = await fetch(`http://127.0.0.1:${port}/ready`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ checks: { database: { status: 'ok' } } });
  expect(await (await fetch(`http://127.0.0.1:${port}/docs`)).text()).toContain('swagger-ui-bundle.js');
  expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^http_requests_total\{method="GET",route="\/health",status="200"\} 1$/m);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
});

it('the example\'s migrations and models agree (no diff after migrating)', async () => {
  const { createDb } = await import('../lib/app/db/index.js');
  const { diffSchema, Migrator } = await import('../lib/app/orm/index.js');
  const { users, notes } = await import('../examples/schema.js');
  const db = createDb({ url: 'pglite://memory' });
  try {
    await new Migrator(db, join(import.meta.dirname, '..', 'examples/migrations')).up();
    expect(await diffSchema(db, [users, notes])).toEqual({ up: [], down: [] });
  } finally {
    await db.close();
  }
});
