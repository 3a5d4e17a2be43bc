import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('closeOnSignals: on SIGTERM the in-flight request finishes, new connections are refused, progress is logged, exit 0', async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/signals-app.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  while (!/port \d+/.test(out)) await once(child.stdout, 'data');
  const port = Number(/port (\d+)/.exec(out)![1]);
  const slow = fetch(`http://127.0.0.1:${port}/slow`);
  await new Promise((r) => setTimeout(r, 100)); // the request is in flight
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  const refused = await new Promise<boolean>((resolve) => {
    const so = net.connect(port, '127.0.0.1');
    so.once('connect', () => (so.destroy(), resolve(false)));
    so.once('error', () => resolve(true));
  });
  expect(refused).toBe(true);
  const r = await slow;
  expect([r.status, await r.text()]).toEqual([200, 'finished']);
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
  expect(out).toMatch(/SIGTERM: closing — no new connections, 1 open/);
  expect(out).toMatch(/closed in \d+ ms/);
});
