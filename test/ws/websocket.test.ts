/**
 * Connection behaviour: handshake refusals, heartbeat and dead-peer detection, close timeout, send
 * backpressure (bufferedAmount, drain, policies), prepared broadcast frames, client handshake failures.
 */
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { connectWebSocket, createWsServer, HandshakeError, prepareMessage, type WebSocket, type WsServerOptions } from '../../lib/ws/index.js';
import { createHttp1Server } from '../../lib/http1/index.js';
import { TimeoutSweeper, type Server } from '../../lib/net/index.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function start(opts: Partial<WsServerOptions> & { onConnection?: WsServerOptions['onConnection'] } = {}): Promise<{ port: number; server: Server; conns: WebSocket[] }> {
  const conns: WebSocket[] = [];
  const server = createWsServer({
    ...opts,
    onConnection: (ws, req) => {
      conns.push(ws);
      opts.onConnection?.(ws, req);
    },
  } as WsServerOptions);
  const port = ((await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo).port;
  cleanup.push(() => server.close({ graceMs: 100 }));
  return { port, server, conns };
}

async function rawHandshake(port: number, headers: string): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  s.write(`GET / HTTP/1.1\r\nHost: a\r\n${headers}\r\n`);
  let text = '';
  s.on('data', (d: Buffer) => void (text += d.toString()));
  await once(s, 'close');
  return text;
}

describe('handshake', () => {
  it('answers plain HTTP with 426, a wrong version with 426 + Sec-WebSocket-Version, a bad key with 400', async () => {
    const { port } = await start();
    const plain = await fetch(`http://127.0.0.1:${port}/`);
    expect(plain.status).toBe(426);
    const v8 = await rawHandshake(port, 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n');
    expect(v8).toMatch(/^HTTP\/1.1 426 /);
    expect(v8).toMatch(/Sec-WebSocket-Version: 13/);
    const badKey = await rawHandshake(port, 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n');
    expect(badKey).toMatch(/^HTTP\/1.1 400 /);
  });

  it('feeds bytes that arrived with the handshake to the connection', async () => {
    const { port } = await start({ onConnection: (ws) => ws.on('message', (d) => ws.send(`echo:${d}`)) });
    const s = net.connect(port, '127.0.0.1');
    await once(s, 'connect');
    const { frameBytes, OP_TEXT } = await import('../../lib/ws/index.js');
    s.write(
      Buffer.concat([
        Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'),
        frameBytes(OP_TEXT, Buffer.from('early'), { mask: true }),
      ]),
    );
    let text = '';
    s.on('data', (d: Buffer) => void (text += d.toString('latin1')));
    while (!text.includes('echo:early')) await new Promise((r) => setTimeout(r, 5));
    expect(text).toContain('s3pPLMBiTxaQ9kYGzzhZRbK+xOo='); // RFC 6455 §1.3's example accept key
    s.destroy();
  });

  it('works as onUpgrade of an HTTP server that also serves plain requests', async () => {
    const { webSocketUpgrade } = await import('../../lib/ws/index.js');
    const server = createHttp1Server((_req, res) => res.end('plain http'), {
      onUpgrade: webSocketUpgrade({ paths: ['/ws'], onConnection: (ws) => ws.on('message', (d) => ws.send(d)) }),
    });
    const port = ((await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo).port;
    cleanup.push(() => server.close({ graceMs: 100 }));
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('plain http');
    const ws = await connectWebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.send('both');
    expect(String((await once(ws, 'message'))[0])).toBe('both');
    ws.close();
    await expect(connectWebSocket(`ws://127.0.0.1:${port}/elsewhere`)).rejects.toMatchObject({ status: 404 });
  });

  it('client rejects a server that does not switch protocols', async () => {
    const server = createHttp1Server((_req, res) => {
      res.statusCode = 403;
      res.end('nope');
    });
    const port = ((await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo).port;
    cleanup.push(() => server.close({ graceMs: 100 }));
    const err = await connectWebSocket(`ws://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).status).toBe(403);
  });
});

describe('errors', () => {
  it('a listener that throws closes the connection with 1011, and the server keeps running', async () => {
    const { port } = await start({
      onConnection: (ws) =>
        ws.on('message', () => {
          throw new Error('handler bug');
        }),
    });
    const c = new WS(`ws://127.0.0.1:${port}/`);
    await once(c, 'open');
    c.send('boom');
    const [code] = await once(c, 'close');
    expect(code).toBe(1011);
    const c2 = new WS(`ws://127.0.0.1:${port}/`);
    await once(c2, 'open');
    c2.close();
  });
});

describe('liveness', () => {
  it('heartbeat pings a silent peer and drops one that never answers', async () => {
    const sweeper = new TimeoutSweeper(20);
    const { port, conns } = await start({ heartbeatInterval: 100, sweeper } as Partial<WsServerOptions>);
    // A peer that answers pings: stays.
    const good = new WS(`ws://127.0.0.1:${port}/`);
    await once(good, 'open');
    let pings = 0;
    good.on('ping', () => void pings++);
    // A peer that never reads or answers: raw socket after the handshake.
    const dead = net.connect(port, '127.0.0.1');
    await once(dead, 'connect');
    dead.write('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await once(dead, 'data');
    const closed = once(dead, 'close');
    await closed;
    expect(pings).toBeGreaterThan(0);
    expect(good.readyState).toBe(WS.OPEN);
    for (let i = 0; i < 100 && conns.filter((c) => c.state === 'open').length > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(conns.filter((c) => c.state === 'open')).toHaveLength(1);
    good.close();
  });

  it('closes the TCP connection when the peer never answers our close frame', async () => {
    const sweeper = new TimeoutSweeper(20);
    const { port, conns } = await start({ closeTimeout: 100, sweeper } as Partial<WsServerOptions>);
    const s = net.connect(port, '127.0.0.1');
    await once(s, 'connect');
    s.write('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await once(s, 'data');
    const ws = conns[0]!;
    const closedEvent = once(ws, 'close');
    ws.close(1000, 'bye');
    const t0 = Date.now();
    const [code, , clean] = await closedEvent;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(80);
    expect([code, clean]).toEqual([1006, false]);
    s.destroy();
  });
});

describe('backpressure', () => {
  it('bufferedAmount grows when the peer does not read; drain comes when it does', async () => {
    const { port, conns } = await start();
    const s = net.connect(port, '127.0.0.1');
    await once(s, 'connect');
    s.write('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await once(s, 'data');
    s.pause();
    const ws = conns[0]!;
    const chunk = Buffer.alloc(256 * 1024);
    let sent = 0;
    while (ws.send(chunk) && sent < 1000) sent++;
    expect(ws.bufferedAmount).toBeGreaterThan(0);
    const drained = once(ws, 'drain');
    s.resume();
    await drained;
    s.destroy();
  });

  for (const policy of ['drop', 'close'] as const) {
    it(`policy '${policy}' applies above maxBufferedAmount`, async () => {
      const { port, conns } = await start({ maxBufferedAmount: 1024 * 1024, backpressurePolicy: policy } as Partial<WsServerOptions>);
      const s = net.connect(port, '127.0.0.1');
      await once(s, 'connect');
      s.write('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      await once(s, 'data');
      s.pause(); // never reads
      const ws = conns[0]!;
      const chunk = Buffer.alloc(256 * 1024);
      let refused = 0;
      for (let i = 0; i < 400; i++) if (!ws.send(chunk) && ws.bufferedAmount > 1024 * 1024) refused++;
      expect(refused).toBeGreaterThan(0);
      // Memory stays near the limit instead of 100 MB of queued frames.
      expect(ws.bufferedAmount).toBeLessThan(4 * 1024 * 1024);
      expect(ws.state).toBe(policy === 'drop' ? 'open' : 'closing');
      s.destroy();
    });
  }
});

describe('broadcast', () => {
  it('a prepared message reaches every client, compressed or not as each negotiated', async () => {
    const { port, conns } = await start({ perMessageDeflate: true });
    const plain = await Promise.all([1, 2, 3].map(() => connectWebSocket(`ws://127.0.0.1:${port}/`)));
    const zipped = await Promise.all([1, 2].map(() => connectWebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true })));
    while (conns.length < 5) await new Promise((r) => setTimeout(r, 5));
    const text = 'broadcast '.repeat(300);
    const msg = prepareMessage(text, { compress: true });
    const received = [...plain, ...zipped].map((c) => once(c, 'message'));
    for (const c of conns) c.sendPrepared(msg);
    for (const r of await Promise.all(received)) expect(String(r[0])).toBe(text);
    for (const c of [...plain, ...zipped]) c.close();
  });
});
