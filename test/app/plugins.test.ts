/**
 * #29: plugins — the one way features attach to an app. Encapsulation (a plugin's middleware and hooks stay
 * in its scope, the parent's apply inside), prefixes, plugins that work on the app itself, async plugins
 * and their failures, lifecycle work, values and context members, and the hooks features are built on
 * (onRoute, onMatch, onOpenApi).
 */
import { describe, expect, it } from 'vitest';
import { createApp, definePlugin, HttpError, PluginError, Type, versioning, type App, type Plugin } from '../../lib/app/index.js';

const get = async (app: App, url: string, headers: Record<string, string> = {}) => {
  const r = await app.inject({ method: 'GET', url, headers });
  return `${r.status} ${r.text()}`;
};

describe('app.register', () => {
  it('encapsulates: the plugin sees the parent’s middleware, the parent never sees the plugin’s', async () => {
    const app = createApp();
    const seen: string[] = [];
    app.use((ctx, next) => (seen.push(`app ${ctx.req.path}`), next()));
    app.register(
      definePlugin('inner', (p) => {
        p.use((ctx, next) => (seen.push(`plugin ${ctx.req.path}`), next()));
        p.addHook('onSend', (_ctx, body) => `${String(body)}!`);
        p.get('/in', () => 'in');
      }),
    );
    app.get('/out', () => 'out');
    expect(await get(app, '/in')).toBe('200 in!');
    expect(await get(app, '/out')).toBe('200 out');
    expect(seen).toEqual(['app /in', 'plugin /in', 'app /out']);
  });

  it('puts a plugin’s routes under `prefix`, nested scopes and groups adding theirs', async () => {
    const app = createApp();
    const admin = definePlugin('admin', (p) => {
      p.get('/', () => 'root');
      p.get('/users', () => 'users');
      p.group('/reports', (g) => g.get('/daily', () => 'daily'));
      p.register(definePlugin('deeper', (d) => void d.get('/x', () => 'x')), { prefix: '/deep/' });
    });
    app.register(admin, { prefix: '/admin' });
    expect(await get(app, '/admin')).toBe('200 root');
    expect(await get(app, '/admin/users')).toBe('200 users');
    expect(await get(app, '/admin/reports/daily')).toBe('200 daily');
    expect(await get(app, '/admin/deep/x')).toBe('200 x');
    expect((await app.inject({ method: 'GET', url: '/users' })).status).toBe(404);
  });

  it('encapsulate: false works on the app it is registered on', async () => {
    const app = createApp();
    app.register(definePlugin('stamp', (p) => void p.use((ctx, next) => (ctx.res.setHeader('x-stamp', '1'), next())), { encapsulate: false }));
    app.get('/a', () => 'a');
    expect((await app.inject({ method: 'GET', url: '/a' })).headers['x-stamp']).toBe('1');
    const plain = ((a: App) => void a.use((ctx, next) => (ctx.res.setHeader('x-plain', '1'), next()))) as Plugin;
    const other = createApp().register(plain);
    other.get('/a', () => 'a');
    expect((await other.inject({ method: 'GET', url: '/a' })).headers['x-plain']).toBeUndefined(); // encapsulated by default
  });

  it('an async plugin is waited for by inject, listen and ready; its failure names it', async () => {
    const app = createApp();
    app.register(
      definePlugin('slow', async (p) => {
        await new Promise((r) => setImmediate(r));
        p.get('/late', () => 'late');
      }),
    );
    expect(await get(app, '/late')).toBe('200 late');
    const broken = createApp().register(definePlugin('db', async () => Promise.reject(new Error('connection refused'))));
    await expect(broken.ready()).rejects.toThrow(new PluginError(definePlugin('db', () => {}), new Error('connection refused')));
    await expect(broken.ready()).rejects.toThrow('plugin "db" failed: connection refused');
    await expect(broken.inject({ method: 'GET', url: '/' })).rejects.toBeInstanceOf(PluginError);
    await expect(broken.listen({ port: 0 })).rejects.toThrow('plugin "db" failed');
    expect(() => createApp().register(definePlugin('sync', () => {
      throw new Error('bad options');
    }))).toThrow('plugin "sync" failed: bad options');
    const anon = (() => {
      throw new Error('x');
    }) as Plugin;
    expect(() => createApp().register(anon)).toThrow('plugin "anon" failed: x');
  });

  it('onStart runs once before serving; onClose after the server, last registered first', async () => {
    const app = createApp();
    const log: string[] = [];
    app.onStart(() => void log.push('start'));
    app.register(definePlugin('a', (p) => void p.onClose(() => void log.push('close a'))));
    app.register(definePlugin('b', (p) => void p.onClose(async () => void log.push('close b'))));
    app.onStart(() => void app.get('/added-at-start', () => 'yes'));
    expect(log).toEqual([]);
    expect(await get(app, '/added-at-start')).toBe('200 yes');
    await app.inject({ method: 'GET', url: '/' });
    expect(log).toEqual(['start']);
    await app.close();
    expect(log).toEqual(['start', 'close b', 'close a']);
  });

  it('decorate/value share a value between plugins; a second decoration of a key is refused', () => {
    const app = createApp();
    const KEY = Symbol('k');
    app.register(definePlugin('provider', (p) => void p.decorate(KEY, { n: 1 })));
    let found: unknown;
    app.register(definePlugin('user', (p) => void (found = p.value<{ n: number }>(KEY))));
    expect(found).toEqual({ n: 1 });
    expect(app.value('nothing')).toBeUndefined();
    expect(() => app.decorate(KEY, 2)).toThrow('app.decorate: "Symbol(k)" is already set');
  });

  it('decorateContext: made on first use in a request, once, then kept; an unknown member says so', async () => {
    const app = createApp({ onError: () => {} });
    let made = 0;
    app.register(definePlugin('who', (p) => void p.decorateContext('who', (ctx) => (made++, `user of ${ctx.req.path}`))));
    app.get('/me', (ctx) => `${ctx.ext<string>('who')} / ${ctx.ext<string>('who')}`);
    app.get('/none', () => 'none');
    app.get('/missing', (ctx) => ctx.ext('nope'));
    expect(await get(app, '/me')).toBe('200 user of /me / user of /me');
    expect(made).toBe(1);
    expect(await get(app, '/none')).toBe('200 none');
    expect(made).toBe(1);
    const r = await app.inject({ method: 'GET', url: '/missing' });
    expect(r.status).toBe(500);
    expect(() => app.decorateContext('who', () => 1)).toThrow('app.decorateContext: "who" is already a context member');
    const errors: string[] = [];
    const dev = createApp({ dev: true, onError: (e) => void errors.push((e as Error).message) });
    dev.get('/missing', (ctx) => ctx.ext('nope'));
    await dev.inject({ method: 'GET', url: '/missing' });
    expect(errors).toEqual(['no context member "nope": the plugin that adds it (app.decorateContext) is not registered']);
  });

  it('onRoute hooks change routes or add several in their place, for routes added after them in their scope', async () => {
    const app = createApp();
    app.get('/before', () => 'before');
    app.addHook('onRoute', (r) => (r.path.startsWith('/legacy') ? [r, { ...r, path: r.path.replace('/legacy', '/v0') }] : undefined));
    app.addHook('onRoute', (r) => void (r.entry.options = { ...r.entry.options, summary: 'seen' }));
    app.get('/legacy/a', () => 'a');
    app.get('/b', () => 'b');
    expect(await get(app, '/legacy/a')).toBe('200 a');
    expect(await get(app, '/v0/a')).toBe('200 a');
    const summaries = Object.fromEntries(app.routes().map((r) => [r.pattern, r.summary ?? null]));
    expect(summaries).toEqual({ '/before': null, '/legacy/a': 'seen', '/v0/a': 'seen', '/b': 'seen' });
    const none = createApp();
    none.addHook('onRoute', () => []);
    none.get('/gone', () => 'x');
    expect((await none.inject({ method: 'GET', url: '/gone' })).status).toBe(404);
  });

  it('onMatch picks the route a request runs, or answers an error through the app middleware; one per app', async () => {
    const app = createApp();
    app.use((ctx, next) => (ctx.res.setHeader('x-mw', 'ran'), next()));
    app.addHook('onMatch', (ctx, entry) => (ctx.req.get('x-deny') !== undefined ? new HttpError(403, { detail: 'denied by onMatch' }) : entry));
    app.get('/x', () => 'x');
    expect(await get(app, '/x')).toBe('200 x');
    const r = await app.inject({ method: 'GET', url: '/x', headers: { 'x-deny': '1' } });
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ detail: 'denied by onMatch' });
    expect(r.headers['x-mw']).toBe('ran');
    expect(() => app.addHook('onMatch', (_c, e) => e)).toThrow('the app already has an onMatch hook');
    expect(() => createApp({ versioning: { versions: ['1'], by: 'header' } }).register(versioning, { versions: ['2'], by: 'header' })).toThrow();
  });

  it('onOpenApi hooks add to every document the app serves (each API version’s too)', async () => {
    const app = createApp({ openapi: { info: { title: 'T', version: '1' } }, versioning: { versions: ['1', '2'], by: 'header' } });
    app.register(definePlugin('security', (p) => void p.addHook('onOpenApi', (doc, version) => void ((doc as { 'x-seen'?: string[] })['x-seen'] = [version ?? 'none']))));
    app.get('/n', { schema: { response: { 200: Type.Object({ id: Type.Integer() }) } } }, () => ({ id: 1 }));
    expect((await app.inject({ method: 'GET', url: '/openapi.json' })).json()).toMatchObject({ 'x-seen': ['2'] });
    expect((await app.inject({ method: 'GET', url: '/openapi/1.json' })).json()).toMatchObject({ 'x-seen': ['1'] });
    const plain = createApp({ openapi: { info: { title: 'T', version: '1' } } });
    plain.addHook('onOpenApi', (doc, version) => void ((doc as { 'x-seen'?: string })['x-seen'] = String(version)));
    expect((await plain.inject({ method: 'GET', url: '/openapi.json' })).json()).toMatchObject({ 'x-seen': 'undefined' });
  });
});

describe('the features are plugins', () => {
  it('health, metrics, tracing, static files, GraphQL and the jobs view register like any plugin', async () => {
    const { health, metrics, staticFiles, tracing } = await import('../../lib/app/index.js');
    const { graphql } = await import('../../lib/app/graphql/index.js');
    const { createJobs, jobsViewPlugin } = await import('../../lib/app/jobs/index.js');
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { GraphQLObjectType, GraphQLSchema, GraphQLString } = await import('graphql');
    const schema = new GraphQLSchema({ query: new GraphQLObjectType({ name: 'Query', fields: { hello: { type: GraphQLString, resolve: () => 'world' } } }) });
    const dir = await mkdtemp(join(tmpdir(), 'covet-static-'));
    await writeFile(join(dir, 'a.txt'), 'file a');
    const { openDatabase } = await import('../../lib/app/db/index.js');
    const db = openDatabase({ url: 'pglite://memory' });
    const jobs = createJobs(db as never);
    await jobs.migrate();
    try {
      const app = createApp();
      app.register(health);
      app.register(metrics, { defaultMetrics: false });
      app.register(tracing);
      app.register(staticFiles, { root: dir, prefix: '/assets' });
      app.register(graphql, { schema, graphiql: false, websocket: false });
      app.register(jobsViewPlugin, { jobs, path: '/queue' });
      expect(await get(app, '/health')).toMatch(/^200 \{"status":"ok"/);
      expect(await get(app, '/metrics')).toMatch(/^200 # HELP/);
      expect(await get(app, '/assets/a.txt')).toBe('200 file a');
      const q = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: { query: '{ hello }' } });
      expect(q.json()).toEqual({ data: { hello: 'world' } });
      expect(await get(app, '/queue')).toMatch(/^200 \{"queues":/);
      expect(() => createApp().register(tracing).register(tracing)).not.toThrow(); // the app's, like tracing(app)
    } finally {
      await db.close();
    }
  });
});

it('the README’s plugin example does what it says', async () => {
  const admin = definePlugin('admin', async (app, o: { token: string }) => {
    app.addHook('onRequest', (ctx) => {
      if (ctx.req.get('authorization') !== `Bearer ${o.token}`) throw new HttpError(401);
    });
    app.decorateContext('startedAt', () => Date.now());
    app.get('/stats', (ctx) => ({ since: ctx.ext<number>('startedAt') }));
    app.onClose(() => undefined);
  });
  const app = createApp();
  app.register(admin, { token: 'dev', prefix: '/admin' });
  app.get('/', () => 'public');
  expect((await app.inject({ method: 'GET', url: '/admin/stats' })).status).toBe(401);
  const ok = await app.inject({ method: 'GET', url: '/admin/stats', headers: { authorization: 'Bearer dev' } });
  expect(ok.status).toBe(200);
  expect(typeof (ok.json() as { since: unknown }).since).toBe('number');
  expect(await get(app, '/')).toBe('200 public');
  const readme = (await import('node:fs')).readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  expect(readme).toContain("app.register(admin, { token: process.env.ADMIN_TOKEN ?? 'dev', prefix: '/admin' }); // GET /admin/stats");
});

it('URL versioning puts the version first, before a group’s or a plugin’s prefix (CHANGELOG)', async () => {
  const app = createApp({ versioning: { versions: ['1', '2'], by: 'url' } });
  app.group('/users', (g) => g.get('/{id:int}', { version: '2' }, (ctx) => `user ${ctx.params.id}`));
  app.register(definePlugin('admin', (p) => void p.get('/stats', () => 'stats')), { prefix: '/admin' });
  expect(await get(app, '/v2/users/7')).toBe('200 user 7');
  expect((await app.inject({ method: 'GET', url: '/v1/users/7' })).status).toBe(404);
  expect((await app.inject({ method: 'GET', url: '/users/v2/7' })).status).toBe(404);
  expect(await get(app, '/v1/admin/stats')).toBe('200 stats');
  expect(await get(app, '/v2/admin/stats')).toBe('200 stats');
});
