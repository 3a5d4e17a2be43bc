import { existsSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import WS from 'ws';
import { createApp, HttpError, type App } from '../../lib/app/index.js';
import { tempDir } from '../temp-dir.js';
import { getOverUnixSocket } from '../helpers/unix-get.js';

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close(200)));
});

function notesApp(): App {
  const notes = new Map<number, { id: number; text: string }>([[1, { id: 1, text: 'first' }]]);
  const app = createApp();
  app.use(async (ctx, next) => {
    ctx.state.order = ['outer-in'];
    await next();
    (ctx.state.order as string[]).push('outer-out');
    if (!ctx.res.headersSent) ctx.res.setHeader('x-order', (ctx.state.order as string[]).join(','));
  });
  app.get('/', () => 'hello');
  app.get('/notes/{id:int}', (ctx) => {
    const n = notes.get(ctx.params.id as number);
    if (n === undefined) throw new HttpError(404, { detail: `note ${ctx.params.id} does not exist` });
    return n;
  });
  app.post('/notes', async (ctx) => {
    const body = await ctx.req.json<{ text?: unknown }>();
    if (typeof body.text !== 'string') throw new HttpError(422, { detail: 'text must be a string', errors: [{ path: '/text', message: 'must be string' }] });
    const n = { id: notes.size + 1, text: body.text };
    notes.set(n.id, n);
    ctx.json(n, 201);
  });
  app.get('/search', (ctx) => ({ q: ctx.query.q, tags: ctx.query.tag }));
  app.get('/boom', () => {
    throw new Error('secret internals');
  });
  app.group('/admin', (g) => {
    g.use(async (ctx, next) => {
      if (ctx.req.get('authorization') !== 'Bearer ok') throw new HttpError(401, {}, { 'www-authenticate': 'Bearer' });
      await next();
    });
    g.get('/stats', () => ({ notes: notes.size }));
  });
  return app;
}

describe('app core (inject)', () => {
  it('returns values as text or JSON, with typed params and onion middleware', async () => {
    const app = notesApp();
    const r = await app.inject({ url: '/' });
    expect([r.status, r.text(), r.headers['content-type']]).toEqual([200, 'hello', 'text/plain; charset=utf-8']);
    const n = await app.inject({ url: '/notes/1' });
    expect(n.json()).toEqual({ id: 1, text: 'first' });
    expect((await app.inject({ url: '/search?q=x&tag=a&tag=b' })).json()).toEqual({ q: 'x', tags: ['a', 'b'] });
  });

  it('answers errors as RFC 9457 problem+json: 404, 405 with Allow, 422, 401, and a 500 without internals', async () => {
    const errors: unknown[] = [];
    const app = notesApp();
    app.config.onError = (e) => void errors.push(e);
    const missing = await app.inject({ url: '/notes/99' });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('application/problem+json');
    expect(missing.json()).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'note 99 does not exist', instance: '/notes/99' });
    expect((await app.inject({ url: '/nowhere' })).status).toBe(404);
    const notAllowed = await app.inject({ method: 'DELETE', url: '/notes/1' });
    expect([notAllowed.status, notAllowed.headers.allow]).toEqual([405, 'GET, HEAD']);
    const invalid = await app.inject({ method: 'POST', url: '/notes', body: { text: 5 } });
    expect(invalid.status).toBe(422);
    expect(invalid.json()).toMatchObject({ errors: [{ path: '/text' }] });
    const created = await app.inject({ method: 'POST', url: '/notes', body: { text: 'second' } });
    expect([created.status, created.json()]).toEqual([201, { id: 2, text: 'second' }]);
    const boom = await app.inject({ url: '/boom' });
    expect(boom.status).toBe(500);
    expect(boom.text()).not.toContain('secret');
    expect(errors).toHaveLength(1);
    const unauth = await app.inject({ url: '/admin/stats' });
    expect([unauth.status, unauth.headers['www-authenticate']]).toEqual([401, 'Bearer']);
    expect((await app.inject({ url: '/admin/stats', headers: { authorization: 'Bearer ok' } })).json()).toEqual({ notes: 2 });
  });

  it('runs middleware in onion order', async () => {
    const app = createApp();
    const seen: string[] = [];
    app.use(async (_ctx, next) => {
      seen.push('a-in');
      await next();
      seen.push('a-out');
    });
    app.use(async (_ctx, next) => {
      seen.push('b-in');
      await next();
      seen.push('b-out');
    });
    app.get('/', () => {
      seen.push('handler');
      return 'ok';
    });
    await app.inject({ url: '/' });
    expect(seen).toEqual(['a-in', 'b-in', 'handler', 'b-out', 'a-out']);
  });

  it('shows the error in 500s only in dev mode', async () => {
    const app = createApp({ dev: true, onError: () => {} });
    app.get('/', () => {
      throw new Error('visible in dev');
    });
    expect((await app.inject({ url: '/' })).json()).toMatchObject({ status: 500, detail: 'visible in dev' });
  });
});

describe('route options are checked when the route is added', () => {
  it('a schema part beside `schema` instead of in it is refused with where it goes — it was ignored, and the response sent whole', async () => {
    const { Type } = await import('@sinclair/typebox');
    const User = Type.Object({ id: Type.String() });
    const app = createApp();
    const add = (opts: object) => () => app.get('/user', opts as never, () => ({ id: '1', passwordHash: 'x' }));
    expect(add({ response: { 200: User } })).toThrow(`GET /user: unknown route option "response" — it goes in the route's schema: { schema: { response: ... } }`);
    expect(add({ body: User })).toThrow(/unknown route option "body" — it goes in the route's schema/);
    expect(add({ summry: 'a typo' })).toThrow(/^GET \/user: unknown route option "summry" \(route options: schema, summary, description, tags, operationId, hide, status, bodyLimit, version, deprecated, deps, requires\)$/);
    expect(add({ schema: { respone: { 200: User } } })).toThrow(/^GET \/user: unknown part of the route's schema "respone" \(schema parts: params, query, headers, body, response, multipart, consumes\)$/);
    expect(() => app.ws('/live', { schema: { respone: {} } } as never)).toThrow(/^WS \/live: unknown part of the route's schema "respone"/);
    // Every known option and schema part is taken; the response is the schema's.
    app.get(
      '/user',
      {
        schema: { params: Type.Object({}), query: Type.Object({}), headers: Type.Object({}), response: { 200: User }, consumes: ['application/json'] },
        summary: 's', description: 'd', tags: ['t'], operationId: 'getUser', hide: false, status: 200, bodyLimit: 10, deprecated: false, deps: [], requires: undefined, version: undefined,
      },
      () => ({ id: '1', passwordHash: 'x' }),
    );
    app.post('/upload', { schema: { body: Type.Object({}), multipart: Type.Object({}) } }, () => 'ok');
    expect((await app.inject({ url: '/user' })).json()).toEqual({ id: '1' });
  });

  it('a WebSocket route with a handler beside open (uWebSockets.js or Bun style) is refused, saying where it goes — it was never called', async () => {
    const { Type } = await import('@sinclair/typebox');
    const app = createApp();
    // A WebSocket route in the style of uWebSockets.js or Bun: `message` beside `open` was never called.
    const open = (): void => {};
    expect(() => app.ws('/live', { open, message: () => {} } as never)).toThrow(
      `WS /live: unknown WebSocket route option "message" — a WebSocket route has one handler, open(ws, ctx); listen to the socket there: ws.on('message', ...)`,
    );
    expect(() => app.ws('/live', { open, close: () => {} } as never)).toThrow(/unknown WebSocket route option "close" — .*ws\.on\('close', \.\.\.\)/);
    expect(() => app.ws('/live', { open, maxMesageSize: 10 } as never)).toThrow(
      /^WS \/live: unknown WebSocket route option "maxMesageSize" \(options: open, deps, requires, schema, summary, description, tags, hide, protocols, perMessageDeflate, maxMessageSize, maxFragments, fragmentSize, closeTimeout, heartbeatInterval, maxBufferedAmount, backpressurePolicy\)$/,
    );
    expect(() => app.ws('/live', { opne: open } as never)).toThrow(/unknown WebSocket route option "opne"/);
    expect(() => app.ws('/live', {} as never)).toThrow('WS /live: a WebSocket route needs open(ws, ctx), called for each connection');
    // Every option a WebSocket route takes is taken.
    app.ws('/every', {
      open, deps: [], requires: undefined, schema: { query: Type.Object({}) }, summary: 's', description: 'd', tags: ['t'], hide: false, protocols: ['chat'], perMessageDeflate: false,
      maxMessageSize: 10, maxFragments: 2, fragmentSize: 10, closeTimeout: 10, heartbeatInterval: 0, maxBufferedAmount: 10, backpressurePolicy: 'close',
    });
  });
});

describe('app over the network', () => {
  it('serves HTTP/1.1, HTTP/2 and WebSocket routes on one port', async () => {
    const app = notesApp();
    app.ws('/live', { open: (ws) => ws.on('message', (d) => ws.send(`live:${d}`)) });
    apps.push(app);
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (server.address() as AddressInfo).port;
    expect(await (await fetch(`http://127.0.0.1:${port}/notes/1`)).json()).toEqual({ id: 1, text: 'first' });
    const c = http2.connect(`http://127.0.0.1:${port}`);
    const q = c.request({ ':path': '/' });
    let body = '';
    q.on('data', (d: Buffer) => void (body += d));
    await once(q, 'end');
    expect(body).toBe('hello');
    c.close();
    const ws = new WS(`ws://127.0.0.1:${port}/live`);
    await once(ws, 'open');
    ws.send('ping');
    expect(String((await once(ws, 'message'))[0])).toBe('live:ping');
    ws.close();
  });
});

describe('app on a unix socket', () => {
  it('listen({ path }) serves the routes there, each connection on its bare pipe handle', async () => {
    const app = notesApp();
    app.get('/bare', () => ({ bare: [...app.server!.connections].map((c) => c.bare) }));
    apps.push(app);
    const path = join(tempDir('covet-sock-'), 'covet-app.sock');
    const server = await app.listen({ path });
    expect(server.address()).toBe(path);
    const get = (url: string) => getOverUnixSocket(path, url);
    expect(await get('/notes/1')).toEqual({ status: 200, body: JSON.stringify({ id: 1, text: 'first' }) });
    expect(await get('/bare')).toEqual({ status: 200, body: JSON.stringify({ bare: [true] }) });
  });

  it('warns at listen that without a trusted proxy no request has a client address; not with trustProxy', async () => {
    for (const [trustProxy, warned] of [
      [undefined, true],
      [['127.0.0.1'], true], // an address list cannot name a peer without an address
      [1, false],
    ] as const) {
      const lines: Array<{ level: number; msg: string; path?: string }> = [];
      const logger = pino({ base: null }, { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) });
      const app = createApp({ logger, trustProxy });
      apps.push(app);
      const path = join(tempDir('covet-sock-'), 'covet-app-warn.sock');
      await app.listen({ path });
      const warnings = lines.filter((l) => l.level === 40);
      expect([trustProxy, warnings.length]).toEqual([trustProxy, warned ? 1 : 0]);
      if (warned) expect(warnings[0]).toMatchObject({ path, msg: expect.stringContaining('ctx.ip is undefined') });
    }
  });

  it('a path with a port or a host is refused before anything listens', async () => {
    const app = notesApp();
    apps.push(app);
    const path = join(tempDir('covet-sock-'), 'covet-app-both.sock');
    await expect(app.listen({ path, port: 0 })).rejects.toThrow('listen: give a unix socket `path` or a `port` (and `host`), not both');
    await expect(app.listen({ path, host: '127.0.0.1' })).rejects.toThrow(TypeError);
    expect(app.server).toBeNull();
    expect(existsSync(path)).toBe(false);
  });
});

describe('handler results', () => {
  it('sends sync values, promises and foreign thenables alike', async () => {
    const app = createApp();
    app.get('/sync', () => ({ kind: 'sync' }));
    app.get('/async', async () => ({ kind: 'async' }));
    app.get('/thenable', () => ({ then: (resolve: (v: unknown) => void) => resolve({ kind: 'thenable' }) }));
    for (const kind of ['sync', 'async', 'thenable']) expect((await app.inject({ url: `/${kind}` })).json()).toEqual({ kind });
  });
});
