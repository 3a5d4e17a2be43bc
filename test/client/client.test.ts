/**
 * covet/client against a running app over real sockets (Node's fetch), and in Chromium: params, query and
 * bodies reach the handler as sent, answers are read by their type, and the auth helpers (bearer, session
 * cookies, double-submit CSRF) work as the app's own middleware expects them.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { chromium } from 'playwright-core';
import { transformWithOxc } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, html, HttpError, Type, type App } from '../../lib/app/index.js';
import { csrf, importKey, jwtAuth, MemorySessionStore, session, sessionOf, signJwt } from '../../lib/app/auth/index.js';
import { ClientPathError, CookieJar, createClient, fillPath } from '../../lib/client/index.js';
import { CHROMIUM, needPeers } from '../peers.js';

const root = join(import.meta.dirname, '../..');
const Note = Type.Object({ id: Type.Integer(), title: Type.String(), at: Type.String() });
const key = importKey(randomBytes(32), ['HS256']);
const auth = jwtAuth({ keys: [key], claims: Type.Object({ uid: Type.Integer() }) });

function notesApp() {
  const notes = new Map<number, { id: number; title: string; at: string }>();
  let next = 1;
  const app = createApp()
    .get('/notes/{id:int}', { schema: { response: { 200: Note } } }, (ctx) => notes.get(ctx.params.id) ?? Promise.reject(new HttpError(404, { detail: `no note ${ctx.params.id}` })))
    .post('/notes', { schema: { body: Type.Object({ title: Type.String({ minLength: 1 }) }), response: { 201: Note } } }, (ctx) => {
      const n = { id: next++, title: ctx.body.title, at: new Date(0).toISOString() };
      notes.set(n.id, n);
      return n;
    })
    .delete('/notes/{id:int}', { status: 204 }, (ctx) => void notes.delete(ctx.params.id))
    .get('/echo/{name}/rest/*', (ctx) => ({ name: ctx.params.name, rest: ctx.params['*'] }))
    .get('/query', (ctx) => ctx.query)
    .get('/bytes', () => Buffer.from([0, 1, 2, 255]))
    .get('/text', () => 'plain words')
    .route(['GET', 'HEAD'], '/both', () => 'a body HEAD does not carry')
    .get('/me', { deps: [auth] }, async (ctx) => ({ uid: (await ctx.use(auth)).uid }));
  return app;
}

async function listening(app: App<object>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => app.close(0) };
}

describe('covet/client on Node', () => {
  const app = notesApp();
  type Api = typeof app;
  let srv: { url: string; close: () => Promise<void> };
  beforeAll(async () => void (srv = await listening(app)));
  afterAll(() => srv.close());

  it('creates, reads and deletes through the typed calls; errors come back as problems', async () => {
    const api = createClient<Api>({ baseUrl: srv.url });
    const made = await api.post('/notes', { body: { title: 'milk' } });
    expect(made.status).toBe(201);
    if (made.status !== 201) throw new Error('unreachable');
    expect(made.data).toEqual({ id: 1, title: 'milk', at: '1970-01-01T00:00:00.000Z' });
    const got = await api.get('/notes/{id:int}', { params: { id: made.data.id } });
    expect([got.ok, got.status, got.data]).toEqual([true, 200, made.data]);
    const gone = await api.delete('/notes/{id:int}', { params: { id: 1 } });
    expect([gone.status, gone.data]).toEqual([204, undefined]);
    const missing = await api.get('/notes/{id:int}', { params: { id: 1 } });
    expect(missing.ok).toBe(false);
    expect(missing.data).toMatchObject({ status: 404, detail: 'no note 1' });
    // A body the schema refuses: the 422's problem lists the field.
    const bad = await api.post('/notes', { body: { title: '' } });
    expect(bad.status).toBe(422);
    expect(bad.data).toMatchObject({ status: 422, errors: [expect.objectContaining({ path: '/body/title' })] });
  });

  it('reads bytes as bytes and text as text', async () => {
    const api = createClient<Api>({ baseUrl: `${srv.url}/` }); // a trailing slash on the base is fine
    const bytes = await api.get('/bytes');
    expect(bytes.data).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect((await api.get('/text')).data).toBe('plain words');
    const head = await api.head('/both');
    expect([head.status, head.headers.get('content-type'), head.data]).toEqual([200, 'text/plain; charset=utf-8', undefined]);
    expect((await api.get('/both')).data).toBe('a body HEAD does not carry');
  });

  it('sends the query as the app parses it: arrays repeat, undefined and null are left out', async () => {
    const api = createClient<Api>({ baseUrl: srv.url });
    const r = await api.get('/query', { query: { tag: ['a', 'b c'], n: 3, yes: true, skip: undefined, none: null, amp: 'x&y=z' } });
    expect(r.data).toEqual({ tag: ['a', 'b c'], n: '3', yes: 'true', amp: 'x&y=z' });
    expect(api.url('/query', { query: {} })).toBe(`${srv.url}/query`);
  });

  it('any param value reaches the handler as it was given (property, over real sockets)', async () => {
    const api = createClient<Api>({ baseUrl: srv.url });
    // A single param may hold a slash (sent as %2F); the rest-of-path param is segments joined by slashes.
    const notDots = (s: string) => s !== '.' && s !== '..';
    const segment = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter(notDots);
    const rest = fc.array(segment.filter((s) => !s.includes('/')), { minLength: 0, maxLength: 3 }).map((a) => a.join('/'));
    await fc.assert(
      fc.asyncProperty(segment, rest, async (name, tail) => {
        const r = await api.get('/echo/{name}/rest/*', { params: { name, '*': tail } });
        expect(r.data).toEqual({ name, rest: tail });
      }),
      { numRuns: 150 },
    );
  });

  it('refuses params a URL cannot carry, naming them', () => {
    expect(() => fillPath('/notes/{id:int}', {})).toThrow(new ClientPathError('/notes/{id:int}: param "id" must be a string or a finite number, got nothing'));
    expect(() => fillPath('/notes/{id:int}', { id: Number.NaN })).toThrow(/param "id" must be a string or a finite number, got number/);
    expect(() => fillPath('/u/{name}', { name: '' })).toThrow('/u/{name}: param "name" is empty');
    // fetch's URL parser would resolve these segments away (WHATWG URL: "." and ".." and their %2e forms).
    expect(() => fillPath('/u/{name}', { name: '..' })).toThrow('/u/{name}: the path segment ".." would be resolved away by the URL parser');
    expect(() => fillPath('/f/*', { '*': 'a/./b' })).toThrow(/segment "\."/);
    expect(fillPath('/u/{name}/x', { name: 'a..b' })).toBe('/u/a..b/x');
    // An absent optional last param drops its slash, as the router reads the pattern.
    expect(fillPath('/hello/:name?', {})).toBe('/hello');
    expect(fillPath('/:id?', {})).toBe('/');
    expect(fillPath('/hello/:name?', { name: 'a b' })).toBe('/hello/a%20b');
    expect(fillPath('/files/:name.:ext', { name: 'r', ext: 'tar.gz' })).toBe('/files/r.tar.gz');
    expect(fillPath('/a::b/{x}', { x: 1 })).toBe('/a:b/1');
  });

  it('sends the bearer token the function gives, per call', async () => {
    let token: string | undefined;
    const api = createClient<Api>({ baseUrl: srv.url, bearer: () => token });
    expect((await api.get('/me')).status).toBe(401);
    token = signJwt({ uid: 42 }, key, { expiresIn: 60 });
    expect((await api.get('/me')).data).toEqual({ uid: 42 });
    const fixed = createClient<Api>({ baseUrl: srv.url, bearer: signJwt({ uid: 7 }, key, { expiresIn: 60 }) });
    expect((await fixed.get('/me')).data).toEqual({ uid: 7 });
  });
});

/** Sign-in by session cookie, then writes guarded by double-submit CSRF. */
function sessionApp() {
  const store = new MemorySessionStore();
  const app = createApp();
  app.use(session({ store, secrets: ['s'.repeat(32)], cookie: { secure: false } }));
  app.use(csrf({ mode: 'double-submit', secret: 'c'.repeat(32), secure: false }));
  return app
    .post('/login', { schema: { body: Type.Object({ name: Type.String() }) } }, async (ctx) => {
      const s = sessionOf(ctx);
      await s.regenerate();
      await s.set('name', ctx.body.name);
      return { ok: true };
    })
    .get('/csrf', async (ctx) => ({ token: (ctx.state.csrfToken as () => string)() }))
    .post('/notes', { schema: { body: Type.Object({ title: Type.String() }), response: { 201: Type.Object({ by: Type.String(), title: Type.String() }) } } }, (ctx) => {
      const name = sessionOf(ctx).get<string>('name');
      if (name === undefined) throw new HttpError(401);
      return { by: name, title: ctx.body.title };
    })
    .post('/logout', async (ctx) => {
      await sessionOf(ctx).destroy();
      return { ok: true };
    });
}

describe('covet/client with sessions and CSRF', () => {
  const app = sessionApp();
  type Api = typeof app;
  let srv: { url: string; close: () => Promise<void> };
  beforeAll(async () => void (srv = await listening(app)));
  afterAll(() => srv.close());

  it('keeps the session cookie and echoes the CSRF cookie on unsafe calls (Node keeps no cookies itself)', async () => {
    const api = createClient<Api>({ baseUrl: srv.url });
    // The first unsafe call has no CSRF cookie yet: refused, as a forged request would be.
    expect((await api.post('/login', { body: { name: 'ada' } })).status).toBe(403);
    await api.get('/csrf');
    expect([...api.cookies.keys()]).toContain('csrf');
    expect((await api.post('/login', { body: { name: 'ada' } })).status).toBe(200);
    // The token is bound to the session, whose id signing in changed: the app hands out a new one.
    expect((await api.post('/notes', { body: { title: 'x' } })).status).toBe(403);
    await api.get('/csrf');
    const made = await api.post('/notes', { body: { title: 'x' } });
    expect([made.status, made.data]).toEqual([201, { by: 'ada', title: 'x' }]);
    // Logging out clears the session cookie from the jar (Max-Age=0 / a past Expires).
    expect((await api.post('/logout')).status).toBe(200);
    expect(api.cookies.has('sid')).toBe(false);
    await api.get('/csrf');
    expect((await api.post('/notes', { body: { title: 'y' } })).status).toBe(401);
  });

  it('csrf: false sends no token (the app refuses); cookies: false keeps none', async () => {
    const noCsrf = createClient<Api>({ baseUrl: srv.url, csrf: false });
    await noCsrf.get('/csrf');
    expect((await noCsrf.post('/login', { body: { name: 'x' } })).status).toBe(403);
    const noJar = createClient<Api>({ baseUrl: srv.url, cookies: false });
    await noJar.get('/csrf');
    expect(noJar.cookies.size).toBe(0);
    expect((await noJar.post('/login', { body: { name: 'x' } })).status).toBe(403);
  });
});

describe('the cookie jar', () => {
  it('sets, replaces and removes by Max-Age and Expires (Max-Age wins)', () => {
    const jar = new CookieJar();
    const h = (...lines: string[]) => {
      const headers = new Headers();
      for (const l of lines) headers.append('set-cookie', l);
      return headers;
    };
    const now = Date.parse('2026-12-06T00:00:00Z');
    jar.store(h('a=1; Path=/', 'b=2; HttpOnly', 'c=3'), now);
    expect(jar.header()).toBe('a=1; b=2; c=3');
    jar.store(h('a=9', 'b=; Max-Age=0', 'c=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT'), now);
    expect(jar.header()).toBe('a=9');
    jar.store(h('d=4; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60', 'e=5; Max-Age=-1', 'f=6; Max-Age=1', 'bad', '=nameless'), now);
    expect(jar.header()).toBe('a=9; d=4; f=6');
  });
});

describe('covet/client in a browser', () => {
  it('signs in, reads the CSRF cookie from document.cookie and writes, in Chromium', async (ctx) => {
    needPeers(ctx, CHROMIUM);
    const app = sessionApp();
    // The client's sources, as the browser imports them (types stripped; the relative imports kept).
    app.get('/lib/*', async (c) => {
      const file = join(root, 'lib', String(c.params['*']).replace(/\.js$/, '.ts'));
      if (!file.startsWith(join(root, 'lib', 'client')) && file !== join(root, 'lib/router/pattern.ts')) throw new HttpError(404);
      const out = await transformWithOxc(await readFile(file, 'utf8'), file, { target: 'es2022' });
      c.res.setHeader('content-type', 'text/javascript');
      return out.code;
    });
    app.get('/', (c) => c.render(html`<!doctype html><title>client</title>`));
    const srv = await listening(app);
    const browser = await chromium.launch({ executablePath: CHROMIUM.command, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${srv.url}/`);
      // A string, not a function: the test runner rewrites import() inside functions it compiles.
      const seen = await page.evaluate(`(async () => {
        const { createClient } = await import('${srv.url}/lib/client/index.js');
        const api = createClient({ baseUrl: location.origin });
        const first = (await api.post('/login', { body: { name: 'grace' } })).status; // no CSRF cookie yet
        await api.get('/csrf');
        const login = (await api.post('/login', { body: { name: 'grace' } })).status;
        await api.get('/csrf'); // a token for the new session
        const made = await api.post('/notes', { body: { title: 'from the browser' } });
        return { first, login, made: [made.status, made.data], jar: api.cookies.size, cookie: document.cookie.includes('csrf=') };
      })()`);
      expect(seen).toEqual({ first: 403, login: 200, made: [201, { by: 'grace', title: 'from the browser' }], jar: 0, cookie: true });
    } finally {
      await browser.close();
      await srv.close();
    }
  }, 60_000);
});
