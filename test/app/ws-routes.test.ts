import http2 from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bearerAuth } from '../../lib/app/auth/index.js';
import { createApp, HttpError, Type, type App } from '../../lib/app/index.js';
import { frameBytes, FrameParser, OP_TEXT } from '../../lib/ws/index.js';

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close(100)));
});

async function serve(app: App): Promise<number> {
  apps.push(app);
  return ((await app.listen({ port: 0, host: '127.0.0.1' })).address() as AddressInfo).port;
}

const received = new WeakMap<WebSocket, string[]>();

/** Connects with the `ws` library; resolves with the socket, or the refusal's status, headers and body. */
function connect(port: number, path: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<{ ws?: WebSocket; status?: number; headers?: Record<string, unknown>; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, options.protocols ?? [], options);
    // The server may send at once: the 101 and a first frame can arrive in one read, before a listener
    // added after 'open' would exist.
    const got: string[] = [];
    received.set(ws, got);
    ws.on('message', (d) => void got.push(String(d)));
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    ws.once('error', reject);
  });
}

/** The next message not yet taken. */
async function firstMessage(ws: WebSocket): Promise<string> {
  const got = received.get(ws)!;
  while (got.length === 0) await once(ws, 'message');
  return got.shift()!;
}

describe('WebSocket routes', () => {
  it('are routed like HTTP routes: typed params reach open(); a path no route takes is 404', async () => {
    const app = createApp();
    app.ws('/chat/{room:slug}/{n:int}', {
      open(ws, ctx) {
        const n: number = ctx.params.n;
        ws.send(JSON.stringify({ room: ctx.params.room, next: n + 1 }));
      },
    });
    const port = await serve(app);
    const ok = await connect(port, '/chat/lobby/41');
    expect(JSON.parse(await firstMessage(ok.ws!))).toEqual({ room: 'lobby', next: 42 });
    ok.ws!.close();
    expect((await connect(port, '/chat/lobby/x')).status).toBe(404);
    expect((await connect(port, '/elsewhere')).status).toBe(404);
  });

  it('run app middleware and the route’s deps and requires before the 101: 401/403/429 answered instead', async () => {
    const app = createApp({
      authorize: (ctx, required) => {
        if (!required.every((p) => (ctx.state.user as { perms: string[] }).perms.includes(p))) throw new HttpError(403);
      },
    });
    let seenByMiddleware = 0;
    app.use(async (ctx, next) => {
      seenByMiddleware++;
      if (ctx.req.get('x-flood') !== undefined) throw new HttpError(429, { detail: 'slow down' }, { 'retry-after': '5' });
      ctx.state.tag = 'from middleware';
      await next();
    });
    const auth = bearerAuth({ verify: (t) => (t === 'ann' ? { name: 'ann', perms: ['chat'] } : t === 'bob' ? { name: 'bob', perms: [] } : undefined), realm: 'chat' });
    app.ws('/live', { deps: [auth], open: (ws, ctx) => ws.send(`${(ctx.state.user as { name: string }).name} ${String(ctx.state.tag)}`) });
    app.ws('/admin', { deps: [auth], requires: ['chat'], open: (ws) => ws.send('admin') });
    const port = await serve(app);
    const anon = await connect(port, '/live');
    expect(anon.status).toBe(401);
    expect(anon.headers!['www-authenticate']).toBe('Bearer realm="chat"');
    expect(anon.headers!['content-type']).toBe('application/problem+json');
    expect(JSON.parse(anon.body!)).toMatchObject({ status: 401, detail: 'authentication required' });
    const ann = await connect(port, '/live', { headers: { authorization: 'Bearer ann' } });
    expect(await firstMessage(ann.ws!)).toBe('ann from middleware');
    ann.ws!.close();
    expect((await connect(port, '/admin', { headers: { authorization: 'Bearer bob' } })).status).toBe(403);
    const admin = await connect(port, '/admin', { headers: { authorization: 'Bearer ann' } });
    expect(await firstMessage(admin.ws!)).toBe('admin');
    admin.ws!.close();
    const flood = await connect(port, '/live', { headers: { authorization: 'Bearer ann', 'x-flood': '1' } });
    expect([flood.status, flood.headers!['retry-after']]).toEqual([429, '5']);
    expect(seenByMiddleware).toBe(5); // every upgrade went through the middleware
  });

  it('validate params/query/headers schemas before upgrading (422 with the field list)', async () => {
    const app = createApp();
    app.ws('/feed', { schema: { query: Type.Object({ since: Type.Integer({ minimum: 0, default: 0 }) }) }, open: (ws, ctx) => ws.send(`since ${ctx.query.since}`) });
    const port = await serve(app);
    const bad = await connect(port, '/feed?since=-1');
    expect(bad.status).toBe(422);
    expect(JSON.parse(bad.body!).errors[0].path).toBe('/query/since');
    const ok = await connect(port, '/feed');
    expect(await firstMessage(ok.ws!)).toBe('since 0');
    ok.ws!.close();
  });

  it('have their own negotiation and limits: permessage-deflate, subprotocols, max message size', async () => {
    const app = createApp();
    app.ws('/zip', { perMessageDeflate: true, open: (ws) => ws.on('message', (d) => ws.send(d)) });
    app.ws('/plain', { protocols: ['chat.v2', 'chat.v1'], maxMessageSize: 1024, open: (ws) => ws.on('message', (d) => ws.send(d)) });
    const port = await serve(app);
    const zip = await connect(port, '/zip', { perMessageDeflate: true });
    expect(zip.ws!.extensions).toContain('permessage-deflate');
    zip.ws!.send('x'.repeat(10_000));
    expect(await firstMessage(zip.ws!)).toBe('x'.repeat(10_000));
    zip.ws!.close();
    const plain = await connect(port, '/plain', { perMessageDeflate: true, protocols: ['chat.v3', 'chat.v2'] });
    expect(plain.ws!.extensions).toBe('');
    expect(plain.ws!.protocol).toBe('chat.v2'); // the client's first offer that the route speaks
    const closed = once(plain.ws!, 'close');
    plain.ws!.send(Buffer.alloc(2048));
    expect((await closed)[0]).toBe(1009);
  });

  it('work over HTTP/2 (RFC 8441) with the same routing and auth', async () => {
    const app = createApp();
    const auth = bearerAuth({ verify: (t) => (t === 'ann' ? { name: 'ann' } : undefined) });
    app.ws('/rooms/{room:slug}', { deps: [auth], open: (ws, ctx) => ws.on('message', (d) => ws.send(`${ctx.params.room}:${String(d)}`)) });
    const port = await serve(app);
    const c = http2.connect(`http://127.0.0.1:${port}`);
    await once(c, 'remoteSettings');
    const open = async (path: string, headers: http2.OutgoingHttpHeaders) => {
      const st = c.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': path, ':scheme': 'http', ':authority': 'localhost', 'sec-websocket-version': '13', ...headers });
      const [h] = (await once(st, 'response')) as [http2.IncomingHttpHeaders];
      return { st, status: Number(h[':status']), headers: h };
    };
    try {
      const anon = await open('/rooms/lobby', {});
      expect(anon.status).toBe(401);
      expect(anon.headers['www-authenticate']).toBe('Bearer');
      expect((await open('/nowhere', { authorization: 'Bearer ann' })).status).toBe(404);
      const ok = await open('/rooms/lobby', { authorization: 'Bearer ann' });
      expect(ok.status).toBe(200);
      const got: Buffer[] = [];
      const p = new FrameParser({ role: 'client', maxFrameSize: 1 << 20 }, { onFrame: (_f, _r, _op, payload) => void got.push(Buffer.from(payload)) });
      ok.st.on('data', (d: Buffer) => p.push(Buffer.from(d)));
      ok.st.write(frameBytes(OP_TEXT, Buffer.from('hi'), { mask: true }));
      for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got[0]?.toString()).toBe('lobby:hi');
    } finally {
      c.destroy();
    }
  });
});
