import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { expect, it } from 'vitest';

async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  return port;
}

it('startCluster runs N workers on one port and stops them on SIGTERM', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'fixtures', 'cluster-app.mjs')], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
  while (!out.includes('listening')) await new Promise((r) => setTimeout(r, 20));
  const pids = new Set<string>();
  const bare = new Set<string>();
  // Fresh connections are spread round-robin over the workers.
  for (let i = 0; i < 20 && pids.size < 2; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
    const [pid, onHandle] = (await res.text()).split(' ');
    pids.add(pid!);
    bare.add(onHandle!);
  }
  expect(pids.size).toBe(2);
  // Handed over by the primary, the connections run on bare handles too (unless the fast paths are off).
  expect([...bare]).toEqual([process.env.COVET_NET_FAST_PATHS === '0' ? 'false' : 'true']);
  expect(pids.has(String(child.pid))).toBe(false);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
});
