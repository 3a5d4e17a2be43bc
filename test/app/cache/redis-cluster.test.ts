/**
 * The Redis-backed services on a real Redis Cluster: three redis-server masters started for this test
 * (cluster mode, free ports, a temp directory), joined with `redis-cli --cluster create`, driven through
 * ioredis's Cluster client. Keys of one cache spread over the shards.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLimiter, RedisRefreshStore, RefreshTokens } from '../../../lib/app/auth/index.js';
import { Cache, RedisBackend, TwoLevelBackend } from '../../../lib/app/cache/index.js';
import { Rooms } from '../../../lib/app/realtime/index.js';

const nodes: ChildProcess[] = [];
let dir: string;
let ports: number[] = [];

async function freePort(port = 0): Promise<number | null> {
  const s = createServer();
  const ok = await new Promise<boolean>((r) => s.once('error', () => r(false)).listen(port, '127.0.0.1', () => r(true)));
  if (!ok) return null;
  const p = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'covet-redis-cluster-'));
  // Cluster bus ports are port + 10000: keep the base below 55535.
  // A node listens on its port and on port + 10000 (the cluster bus): both must be free.
  while (ports.length < 3) {
    const p = (await freePort())!;
    if (p < 55_000 && !ports.includes(p) && (await freePort(p + 10_000)) !== null) ports.push(p);
  }
  for (const port of ports) {
    nodes.push(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
  }
  // Up to 30 s each on a busy machine (a hang guard, not a verdict on speed).
  for (const port of ports) {
    for (let i = 0; ; i++) {
      try {
        execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' });
        break;
      } catch {
        if (i === 600) throw new Error(`redis-server on port ${port} did not answer within 30 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'pipe' });
  // Every node must know the whole slot map before clients start (else MOVED loops).
  for (let i = 0; i < 200; i++) {
    if (ports.every((p) => /cluster_state:ok/.test(execFileSync('redis-cli', ['-p', String(p), 'cluster', 'info'], { encoding: 'utf8' })))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // The hook's own limit covers the waits above (three nodes, the cluster's creation): it guards a hang only.
}, 120_000);

afterAll(() => {
  for (const n of nodes) n.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const cluster = () => new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));

describe('on a Redis Cluster', () => {
  it('cache: values and tags spread over shards; invalidation reaches them all; two-level L1 invalidation', async () => {
    const c1 = cluster();
    const c2 = cluster();
    try {
      const cache = new Cache({ backend: new RedisBackend(c1, { prefix: 'cc:' }) });
      for (let i = 0; i < 30; i++) await cache.set(`k${i}`, { i }, { tags: ['all', `t${i % 3}`] });
      const slots = new Set(await Promise.all(Array.from({ length: 30 }, (_, i) => c1.cluster('KEYSLOT', `cc:k${i}`))));
      expect(slots.size).toBeGreaterThan(10);
      expect(await cache.get('k7')).toEqual({ i: 7 });
      await cache.invalidateTag('t1');
      expect(await cache.get('k7')).toBeUndefined();
      expect(await cache.get('k8')).toEqual({ i: 8 });
      await cache.invalidateTag('all');
      expect(await cache.get('k8')).toBeUndefined();
      const a = new TwoLevelBackend(c1, { prefix: 'cl2:' });
      const b = new TwoLevelBackend(c2, { prefix: 'cl2:' });
      await Promise.all([a.ready(), b.ready()]);
      const ca = new Cache({ backend: a });
      const cb = new Cache({ backend: b });
      await ca.set('x', 'one');
      expect(await cb.get('x')).toBe('one');
      await ca.set('x', 'two');
      await new Promise((r) => setTimeout(r, 100));
      expect(cb.getSync('x')).toBeUndefined();
      expect(await cb.get('x')).toBe('two');
      await a.close();
      await b.close();
    } finally {
      c1.disconnect();
      c2.disconnect();
    }
  });

  it('rate limits, refresh tokens and rooms (sharded pub/sub) work through the Cluster client', async () => {
    const c1 = cluster();
    const c2 = cluster();
    try {
      for (const kind of ['fixed-window', 'sliding-window', 'token-bucket'] as const) {
        const a = kind === 'token-bucket' ? { kind, capacity: 5, refillPerSec: 0.001 } : { kind, limit: 5, windowMs: 60_000 };
        const l = new RedisLimiter(c1, a, { prefix: `rl-${kind}:`, onError: 'closed' });
        const results = await Promise.all(Array.from({ length: 8 }, () => l.check('ip')));
        expect(results.filter((r) => r.allowed), kind).toHaveLength(5);
        expect(l.lastError).toBeNull();
      }
      const rt = new RefreshTokens(new RedisRefreshStore(c1, 'rt:'));
      const { token } = await rt.issue('u');
      const next = await rt.rotate(token);
      await expect(rt.rotate(token)).rejects.toMatchObject({ code: 'REVOKED' });
      await expect(rt.rotate(next.token)).rejects.toMatchObject({ code: 'REVOKED' });
      // Rooms: a broadcast from one instance reaches a member held by another — with classic pub/sub
      // (the default with a Cluster client) and sharded pub/sub (a client made with shardedSubscribers).
      const sharded = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })), { shardedSubscribers: true });
      const r3 = new Rooms({ redis: sharded, prefix: 'rooms-s:', sharded: true });
      const r4 = new Rooms({ redis: c2, prefix: 'rooms-s:', sharded: true }); // publishes only: SPUBLISH routes by slot
      await Promise.all([r3.ready(), r4.ready()]);
      const got2: string[] = [];
      const fake2 = { on: () => fake2, sendPrepared: (m: unknown) => got2.push(String(m)) } as unknown as import('../../../lib/ws/index.js').WebSocket;
      await r3.join(fake2, 'lobby');
      await new Promise((r) => setTimeout(r, 100));
      await r4.broadcast('lobby', { hi: 2 });
      for (let i = 0; i < 100 && got2.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got2).toHaveLength(1);
      await r3.close();
      await r4.close();
      sharded.disconnect();
      const r1 = new Rooms({ redis: c1, prefix: 'rooms:' });
      const r2 = new Rooms({ redis: c2, prefix: 'rooms:' });
      await Promise.all([r1.ready(), r2.ready()]);
      const got: string[] = [];
      const fake = { on: () => fake, sendPrepared: (m: { data?: unknown }) => got.push(String(m)) } as unknown as import('../../../lib/ws/index.js').WebSocket;
      await r2.join(fake, 'lobby', { n: 1 });
      await new Promise((r) => setTimeout(r, 100));
      await r1.broadcast('lobby', { hi: 1 });
      for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got).toHaveLength(1);
      expect((await r1.presence('lobby')).map((m) => m.meta)).toEqual([{ n: 1 }]);
      await r1.close();
      await r2.close();
    } finally {
      c1.disconnect();
      c2.disconnect();
    }
  });
});
