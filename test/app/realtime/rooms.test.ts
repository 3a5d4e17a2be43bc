import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../lib/app/index.js';
import { Rooms } from '../../../lib/app/realtime/index.js';
import { connectWebSocket, type WebSocket } from '../../../lib/ws/index.js';
import { REDIS_URL, testRedis } from '../auth/helpers.js';
import { waitFor } from '../../helpers/wait-for.js';

const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

/** An app whose /room/<name> WebSocket route joins that room (and echoes messages to it). */
async function roomServer(rooms: Rooms): Promise<{ app: App; url: (room: string) => string }> {
  const app = createApp();
  for (const room of ['lobby', 'other']) {
    app.ws(`/room/${room}`, {
      open(ws, ctx) {
        void rooms.join(ws, room, { ua: ctx.req.get('x-name') ?? null }).then(() => ws.send('joined'));
        ws.on('message', (m: Buffer) => void rooms.broadcast(room, { from: ctx.req.get('x-name'), text: m.toString() }, { except: ws }));
      },
    });
  }
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close(100));
  return { app, url: (room) => `ws://127.0.0.1:${(server.address() as AddressInfo).port}/room/${room}` };
}

/** Connects and resolves once the server said it joined; collects what arrives. */
async function member(url: string, name: string): Promise<{ ws: WebSocket; got: string[] }> {
  const ws = await connectWebSocket(url, { headers: { 'x-name': name } });
  const got: string[] = [];
  await new Promise<void>((resolve) => {
    ws.on('message', (d: Buffer) => {
      if (d.toString() === 'joined') resolve();
      else got.push(d.toString());
    });
  });
  closers.push(async () => ws.close());
  return { ws, got };
}

const until = (cond: () => boolean) => waitFor(cond, 3000);

describe('rooms', () => {
  it('in one process: broadcast reaches the room (not the sender, not other rooms); presence; leave on close', async () => {
    const rooms = new Rooms();
    const { url } = await roomServer(rooms);
    const a = await member(url('lobby'), 'a');
    const b = await member(url('lobby'), 'b');
    const c = await member(url('other'), 'c');
    a.ws.send('hi');
    await until(() => b.got.length === 1);
    expect(JSON.parse(b.got[0]!)).toEqual({ from: 'a', text: 'hi' });
    expect(a.got).toEqual([]);
    expect(c.got).toEqual([]);
    expect((await rooms.presence('lobby')).map((m) => m.meta)).toEqual([{ ua: 'a' }, { ua: 'b' }]);
    expect(await rooms.broadcast('lobby', Buffer.from([1, 2, 3]))).toBe(2);
    await until(() => a.got.length === 1 && b.got.length === 2);
    b.ws.close();
    await until(() => rooms.localMembers('lobby').size === 1);
  });

  it('across instances through Redis: messages, presence, and a dead instance leaves presence', async () => {
    const r = testRedis();
    const redisB = new Redis(REDIS_URL);
    const roomsA = new Rooms({ redis: r.redis, prefix: r.prefix });
    const roomsB = new Rooms({ redis: redisB, prefix: r.prefix });
    closers.push(async () => {
      await roomsA.close();
      await roomsB.close();
      redisB.disconnect();
      await r.cleanup();
    });
    await Promise.all([roomsA.ready(), roomsB.ready()]);
    const A = await roomServer(roomsA);
    const B = await roomServer(roomsB);
    const a = await member(A.url('lobby'), 'a');
    const b1 = await member(B.url('lobby'), 'b1');
    const b2 = await member(B.url('lobby'), 'b2');
    const o = await member(B.url('other'), 'o');
    a.ws.send('over redis');
    await until(() => b1.got.length === 1 && b2.got.length === 1);
    expect(JSON.parse(b2.got[0]!)).toEqual({ from: 'a', text: 'over redis' });
    expect(o.got).toEqual([]);
    const names = (await roomsA.presence('lobby')).map((m) => (m.meta as { ua: string }).ua).sort();
    expect(names).toEqual(['a', 'b1', 'b2']);
    // Instance B "crashes": its heartbeat key expires without it leaving; presence drops its members.
    await r.redis.del(`${r.prefix}instance:${roomsB.instance}`);
    expect((await roomsA.presence('lobby')).map((m) => (m.meta as { ua: string }).ua)).toEqual(['a']);
  });
});
