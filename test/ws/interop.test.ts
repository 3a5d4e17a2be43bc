/**
 * Interop with the `ws` library in both directions: `ws` client against our server, our client against a
 * `ws` server. Text and binary of every length class, fragmentation, compression with each parameter set,
 * close codes, ping/pong.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WS, { WebSocketServer } from 'ws';
import { connectWebSocket, createWsServer, type PerMessageDeflateOptions, type WebSocket } from '../../lib/ws/index.js';
import type { Server } from '../../lib/net/index.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function ourEchoServer(perMessageDeflate: boolean | PerMessageDeflateOptions = false, extra = {}): Promise<{ port: number; server: Server; sockets: WebSocket[] }> {
  const sockets: WebSocket[] = [];
  const server = createWsServer({
    perMessageDeflate,
    fragmentSize: 64 * 1024,
    ...extra,
    onConnection: (ws) => {
      sockets.push(ws);
      ws.on('message', (d, isBinary) => {
        const text = isBinary ? '' : d.toString();
        if (text.startsWith('close:')) ws.close(Number(text.slice(6)), 'asked to');
        else ws.send(d, { binary: isBinary });
      });
    },
  });
  const addr = (await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo;
  cleanup.push(() => server.close({ graceMs: 100 }));
  return { port: addr.port, server, sockets };
}

async function wsEchoServer(perMessageDeflate: boolean | object = false): Promise<number> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: perMessageDeflate as never });
  wss.on('connection', (w) => w.on('message', (d, isBinary) => w.send(d, { binary: isBinary })));
  await once(wss, 'listening');
  cleanup.push(() => new Promise((r) => wss.close(r)));
  return (wss.address() as AddressInfo).port;
}

const SIZES = [0, 1, 125, 126, 65535, 65536, 300_000];

function payloads(): Array<[string | Buffer, boolean]> {
  const out: Array<[string | Buffer, boolean]> = [];
  for (const n of SIZES) {
    out.push(['é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2), false]);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 7) & 0xff;
    out.push([b, true]);
  }
  return out;
}

/** Sends every payload from a `ws` client and collects the echoes. */
async function wsClientRoundTrip(port: number, options: WS.ClientOptions = {}) {
  const c = new WS(`ws://127.0.0.1:${port}/`, options);
  await once(c, 'open');
  const got: Array<[Buffer, boolean]> = [];
  const all = payloads();
  const done = new Promise<void>((resolve) => {
    c.on('message', (d: Buffer, isBinary: boolean) => {
      got.push([d, isBinary]);
      if (got.length === all.length) resolve();
    });
  });
  for (const [p] of all) c.send(p);
  await done;
  return { c, got, all };
}

describe('ws client → covet server', () => {
  const cases: Array<[string, boolean | PerMessageDeflateOptions, WS.ClientOptions['perMessageDeflate']]> = [
    ['no compression', false, false],
    ['deflate, defaults (no context takeover)', true, true],
    ['deflate, context takeover both ways', { serverNoContextTakeover: false, clientNoContextTakeover: false }, { clientNoContextTakeover: false, serverNoContextTakeover: false }],
    ['deflate, client asks server_no_context_takeover and small windows', { serverNoContextTakeover: false }, { serverNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 }],
    ['deflate offered by the client, not enabled on the server', false, true],
  ];
  for (const [name, serverOpts, clientOpts] of cases) {
    it(`echoes text and binary of all length classes: ${name}`, async () => {
      const { port } = await ourEchoServer(serverOpts);
      const { c, got, all } = await wsClientRoundTrip(port, { perMessageDeflate: clientOpts });
      expect(got.map(([d, b]) => [b, d.length])).toEqual(all.map(([p, b]) => [b, Buffer.byteLength(p as string)]));
      for (let i = 0; i < all.length; i++) expect(got[i]![0].equals(Buffer.from(all[i]![0] as string))).toBe(true);
      expect(c.extensions.length > 0).toBe(serverOpts !== false && clientOpts !== false);
      c.close();
    });
  }

  it('reassembles fragmented messages (with a ping in the middle) and answers pings', async () => {
    const { port } = await ourEchoServer();
    const c = new WS(`ws://127.0.0.1:${port}/`);
    await once(c, 'open');
    const pong = once(c, 'pong');
    c.send('part1-', { fin: false });
    c.ping('mid');
    c.send('part2-', { fin: false });
    c.send('end', { fin: true });
    const [msg] = await once(c, 'message');
    expect(String(msg)).toBe('part1-part2-end');
    expect(String((await pong)[0])).toBe('mid');
    c.close();
  });

  it('closes with the code the client chose, and with ours', async () => {
    const { port } = await ourEchoServer();
    const c = new WS(`ws://127.0.0.1:${port}/`);
    await once(c, 'open');
    c.close(4001, 'custom');
    const [code] = await once(c, 'close');
    expect(code).toBe(4001);
    const c2 = new WS(`ws://127.0.0.1:${port}/`);
    await once(c2, 'open');
    c2.send('close:3005');
    const [code2, reason2] = await once(c2, 'close');
    expect([code2, String(reason2)]).toEqual([3005, 'asked to']);
  });

  it('negotiates a subprotocol and lets verify refuse with an HTTP status', async () => {
    const { port } = await ourEchoServer(false, {
      protocols: ['chat.v2', 'chat.v1'],
      verify: async (req: { get(n: string): string | undefined }) => (req.get('origin') === 'https://evil.example' ? { status: 403, body: 'no' } : true),
    });
    const c = new WS(`ws://127.0.0.1:${port}/`, ['chat.v0', 'chat.v1']);
    await once(c, 'open');
    expect(c.protocol).toBe('chat.v1');
    c.close();
    const bad = new WS(`ws://127.0.0.1:${port}/`, { origin: 'https://evil.example' });
    const [, res] = await once(bad, 'unexpected-response');
    expect(res.statusCode).toBe(403);
  });
});

describe('covet client → ws server', () => {
  const cases: Array<[string, object | boolean, boolean | PerMessageDeflateOptions]> = [
    ['no compression', false, false],
    ['deflate, ws defaults (context takeover)', true, true],
    ['deflate, no context takeover asked by us', true, { clientNoContextTakeover: true, serverNoContextTakeover: true }],
    ['deflate, small server window asked by us', { serverMaxWindowBits: 10 }, { serverMaxWindowBits: 10 }],
  ];
  for (const [name, serverOpts, clientOpts] of cases) {
    it(`echoes text and binary of all length classes: ${name}`, async () => {
      const port = await wsEchoServer(serverOpts);
      const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: clientOpts, fragmentSize: 50_000 });
      const all = payloads();
      const got: Array<[Buffer, boolean]> = [];
      const done = new Promise<void>((resolve) => {
        ws.on('message', (d, isBinary) => {
          got.push([d, isBinary]);
          if (got.length === all.length) resolve();
        });
      });
      for (const [p] of all) ws.send(p);
      await done;
      for (let i = 0; i < all.length; i++) {
        expect(got[i]![1]).toBe(all[i]![1]);
        expect(got[i]![0].equals(Buffer.from(all[i]![0] as string))).toBe(true);
      }
      expect(ws.extensions !== '').toBe(serverOpts !== false && clientOpts !== false);
      ws.close(1000, 'done');
      const [code, , clean] = await once(ws, 'close');
      expect([code, clean]).toEqual([1000, true]);
    });
  }

  it('a message the server sends on open (often in the same packet as the 101) reaches listeners added after connect resolves', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    wss.on('connection', (s) => {
      s.send('welcome');
      s.send(Buffer.from([1, 2]));
    });
    try {
      for (let i = 0; i < 20; i++) {
        const ws = await connectWebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
        const got: string[] = [];
        await new Promise<void>((resolve) => ws.on('message', (d: Buffer) => got.push(d.toString('hex')) === 2 && resolve()));
        expect(got).toEqual([Buffer.from('welcome').toString('hex'), '0102']);
        ws.close();
      }
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });

  it('pings and gets the pong; sees the server close code', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (w) => w.on('message', () => w.close(4002, 'bye')));
    await once(wss, 'listening');
    cleanup.push(() => new Promise((r) => wss.close(r)));
    const ws = await connectWebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
    const pong = once(ws, 'pong');
    ws.ping('are you there');
    expect(String((await pong)[0])).toBe('are you there');
    ws.send('go');
    const [code, reason, clean] = await once(ws, 'close');
    expect([code, reason, clean]).toEqual([4002, 'bye', true]);
  });
});
