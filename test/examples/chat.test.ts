/**
 * examples/chat.ts as deployed: two processes sharing rooms through the local Redis. People connected to
 * different processes see each other's messages and presence; an upgrade without a valid token is a 401
 * (the ws library as the client, as a user's would be); a browser's cookie works like the header.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';

const root = join(import.meta.dirname, '..', '..');
const prefix = `covet-test-chat:${process.pid}:`;
const procs: ChildProcess[] = [];
const ports: number[] = [];
const sockets: WebSocket[] = [];

function start(): Promise<number> {
  const child = spawn(process.execPath, [join(root, 'dist/examples/chat.js')], {
    env: { ...process.env, PORT: '0', REDIS_URL: 'redis://127.0.0.1:6379', CHAT_PREFIX: prefix, CHAT_SECRET: 'a test secret of at least 32 bytes!!' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  procs.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`chat exited (${code}): ${out}`)));
  });
}

async function login(port: number, name: string): Promise<{ token: string; cookie: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  expect(res.status).toBe(200);
  return { token: ((await res.json()) as { token: string }).token, cookie: res.headers.get('set-cookie')!.split(';')[0]! };
}

/** A client that keeps every message it receives. */
function connect(port: number, room: string, headers: Record<string, string>): Promise<{ ws: WebSocket; got: Array<Record<string, string>> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/rooms/${room}`, { headers });
  sockets.push(ws);
  const got: Array<Record<string, string>> = [];
  ws.on('message', (d) => got.push(JSON.parse(String(d)) as Record<string, string>));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, got }));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

const until = async (cond: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 250 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!cond()) throw new Error(`not seen within 5 s: ${what}`);
};

beforeAll(async () => {
  ports.push(await start(), await start());
}, 30_000);
afterAll(async () => {
  for (const s of sockets) s.terminate();
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : (p.once('exit', r), p.kill('SIGTERM'))))));
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

it('people on two processes share a room: messages, joins and presence cross through Redis', async () => {
  const ann = await login(ports[0]!, 'ann');
  const bob = await login(ports[1]!, 'bob');
  const a = await connect(ports[0]!, 'tea', { authorization: `Bearer ${ann.token}` });
  const b = await connect(ports[1]!, 'tea', { cookie: bob.cookie }); // a browser sends the cookie
  await until(() => a.got.some((m) => m.type === 'joined' && m.name === 'bob'), 'ann sees bob join');
  a.ws.send('hello from process 1');
  await until(() => b.got.some((m) => m.type === 'message'), 'bob gets the message');
  expect(b.got.find((m) => m.type === 'message')).toMatchObject({ from: 'ann', text: 'hello from process 1' });
  // Presence asked of either process lists both.
  const members = await fetch(`http://127.0.0.1:${ports[0]}/rooms/tea/members`, { headers: { authorization: `Bearer ${ann.token}` } });
  expect(await members.json()).toEqual(['ann', 'bob']);
  // Another room hears nothing.
  const c = await connect(ports[1]!, 'coffee', { authorization: `Bearer ${bob.token}` });
  a.ws.send('only for tea');
  await until(() => b.got.filter((m) => m.type === 'message').length === 2, 'the second message');
  expect(c.got).toEqual([]);
  b.ws.close();
  await until(() => a.got.some((m) => m.type === 'left' && m.name === 'bob'), 'ann sees bob leave');
});

it('an upgrade without a valid token is refused with 401 before any socket exists', async () => {
  await expect(connect(ports[0]!, 'tea', {})).rejects.toMatchObject({ status: 401 });
  await expect(connect(ports[1]!, 'tea', { authorization: 'Bearer not.a.jwt' })).rejects.toMatchObject({ status: 401 });
  const forged = (await login(ports[0]!, 'eve')).token.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'));
  await expect(connect(ports[0]!, 'tea', { authorization: `Bearer ${forged}` })).rejects.toMatchObject({ status: 401 });
});

it('bad input: a bad login name is a 422, an oversized message closes with 1009, binary with 1003', async () => {
  expect((await fetch(`http://127.0.0.1:${ports[0]}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Robert\'); DROP"}' })).status).toBe(422);
  const { token } = await login(ports[0]!, 'zed');
  const big = await connect(ports[0]!, 'tea', { authorization: `Bearer ${token}` });
  const closed = new Promise<number>((r) => big.ws.once('close', (code) => r(code)));
  big.ws.send('x'.repeat(5000));
  expect(await closed).toBe(1009);
  const bin = await connect(ports[0]!, 'tea', { authorization: `Bearer ${token}` });
  const closed2 = new Promise<number>((r) => bin.ws.once('close', (code) => r(code)));
  bin.ws.send(Buffer.from([1, 2, 3]));
  expect(await closed2).toBe(1003);
});
