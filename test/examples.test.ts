/** The example app (`npm start`) starts, serves its API over HTTP/1.1 and HTTP/2, and stops on SIGTERM. */
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
  const json = { 'content-type': 'application/json' };
  const created = await fetch(`http://127.0.0.1:${port}/notes`, { method: 'POST', headers: json, body: JSON.stringify({ text: 'from the test' }) });
  expect(created.status).toBe(201);
  const invalid = await fetch(`http://127.0.0.1:${port}/notes`, { method: 'POST', headers: json, body: JSON.stringify({ text: '' }) });
  expect(invalid.status).toBe(422);
  const doc = (await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(doc.paths)).toContain('/notes/{id}');
  const c = http2.connect(`http://127.0.0.1:${port}`);
  const q = c.request({ ':path': '/notes/1' });
  let body = '';
  q.on('data', (d: Buffer) => void (body += d));
  await once(q, 'end');
  expect(JSON.parse(body)).toMatchObject({ id: 1, text: 'from the test' });
  c.close();
  expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
  expect(await (await fetch(`http://127.0.0.1:${port}/docs`)).text()).toContain('swagger-ui-bundle.js');
  expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^http_requests_total\{method="GET",route="\/health",status="200"\} 1$/m);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
});
