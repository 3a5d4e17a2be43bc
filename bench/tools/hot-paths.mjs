// The hot paths the regression gate (bench/compare.mjs) times, each on a build given by its folder (the
// folder holding lib/…js): a case is `async (dist) => run`, where `run(n)` does n operations (and may
// return a promise). Inputs are fixed, so two builds do the same work; each case checks its result once,
// so a build that stopped working is an error, never a fast number.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';

const benchDir = join(import.meta.dirname, '..');

/** The browser GET and small POST of bench/http1-parser.mjs. */
export const PARSER_SAMPLES = {
  GET: Buffer.from(
    'GET /api/v1/users/12345/profile?fields=name,email&expand=true HTTP/1.1\r\n' +
      'Host: www.example.com\r\n' +
      'Connection: keep-alive\r\n' +
      'sec-ch-ua: "Chromium";v="130", "Not?A_Brand";v="99"\r\n' +
      'sec-ch-ua-mobile: ?0\r\n' +
      'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36\r\n' +
      'sec-ch-ua-platform: "Linux"\r\n' +
      'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n' +
      'Sec-Fetch-Site: same-origin\r\n' +
      'Sec-Fetch-Mode: navigate\r\n' +
      'Referer: https://www.example.com/app/dashboard\r\n' +
      'Accept-Encoding: gzip, deflate, br, zstd\r\n' +
      'Accept-Language: en-US,en;q=0.9\r\n' +
      '\r\n',
    'latin1',
  ),
  POST: Buffer.from(
    'POST /api/items HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{"name":"widget","qty":12}\n',
    'latin1',
  ),
};

/** The request header list of bench/hpack.mjs. */
export const REQUEST_FIELDS = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'www.example.com'],
  [':path', '/api/v1/users/12345/profile?fields=name,email'],
  ['sec-ch-ua', '"Chromium";v="130", "Not?A_Brand";v="99"'],
  ['sec-ch-ua-mobile', '?0'],
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'],
  ['sec-ch-ua-platform', '"Linux"'],
  ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['sec-fetch-site', 'same-origin'],
  ['sec-fetch-mode', 'navigate'],
  ['sec-fetch-dest', 'document'],
  ['referer', 'https://www.example.com/app/dashboard'],
  ['accept-encoding', 'gzip, deflate, br, zstd'],
  ['accept-language', 'en-US,en;q=0.9'],
  ['cookie', 'session=abc123; theme=dark'],
];

/** The GitHub REST API routes (bench/data/github-api.txt): [method, pattern] pairs. */
export function githubRoutes() {
  return readFileSync(join(benchDir, 'data/github-api.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.trim().split(/\s+/).slice(0, 2));
}

const VALUES = { owner: 'octocat', repo: 'hello-world', user: 'mona', org: 'github', id: '1296269', number: '1347', sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e' };

/** A request path for a `:param` pattern: realistic values for GitHub's names, `<name>-value` for others. */
export function instantiate(path) {
  return path.replace(/:([A-Za-z_]+)/g, (_m, n) => VALUES[n] ?? `${n}-value`).replace(/\*$/, 'docs/guide/intro.md');
}

/** `/api/v{i%7}/res{i}/:id/sub{i%13}` for i < n, and 100 request paths spread over them (#34's scaling measure). */
export function shapeTable(n) {
  const routes = [];
  for (let i = 0; i < n; i++) routes.push(['GET', `/api/v${i % 7}/res${i}/:id/sub${i % 13}`]);
  const sample = [];
  for (let i = 0; i < n; i += n / 100) sample.push(['GET', `/api/v${i % 7}/res${i}/${1000 + i}/sub${i % 13}`]);
  return { routes, sample };
}

/** A router of `routes` and a run over `sample` ([method, path] pairs), each path checked to match once. */
async function routerCase(dist, routes, sample) {
  const { Router } = await import(`${dist}/lib/router/index.js`);
  const r = new Router();
  for (const [m, p] of routes) r.add(m, p, p);
  for (const [m, p] of sample) if (r.find(m, p).status !== 200) throw new Error(`the router did not match ${m} ${p}`);
  let k = 0;
  return (n) => {
    for (let i = 0; i < n; i++) {
      const [m, p] = sample[k];
      r.find(m, p);
      if (++k === sample.length) k = 0;
    }
  };
}

function parserCase(sample) {
  return async (dist) => {
    const { Http1Parser } = await import(`${dist}/lib/http1/index.js`);
    const input = PARSER_SAMPLES[sample];
    let messages = 0;
    const p = new Http1Parser('request', { onHeadersComplete() {}, onBody() {}, onMessageComplete() { messages++; } });
    p.execute(input);
    if (messages !== 1) throw new Error(`the parser did not complete the ${sample} sample`);
    return (n) => {
      for (let i = 0; i < n; i++) p.execute(input);
    };
  };
}

/**
 * A fake socket under the real Connection and HTTP/1.1 connection: requests go through the parser, the
 * connection's batching and the handler with no kernel in between (bench/tools/ab-inprocess.mjs too).
 */
export async function fakeSocketServer(dist, handler, path, depth = 10) {
  const { Connection } = await import(`${dist}/lib/net/index.js`);
  const { Http1Connection } = await import(`${dist}/lib/http1/index.js`);
  const batch = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n`.repeat(depth));
  class FakeSocket extends EventEmitter {
    writableLength = 0;
    remoteAddress = '127.0.0.1';
    remotePort = 1234;
    out = 0;
    setNoDelay() {}
    cork() {}
    uncork() {}
    pause() {}
    resume() {}
    write(d) {
      this.out += d.length;
      return true;
    }
    end() {}
    destroy() {}
  }
  const sock = new FakeSocket();
  const conn = new Connection(sock, { onData() {} });
  conn.setHandler(new Http1Connection(conn, handler, { keepAliveTimeout: 5000 }));
  return {
    socket: sock,
    /** n requests, `depth` to a chunk; a turn of the event loop every five chunks lets async handlers finish. */
    async run(n) {
      for (let i = 0; i < n; i += depth) {
        sock.emit('data', Buffer.from(batch));
        if (i % (depth * 5) === 0) await new Promise(setImmediate);
      }
    },
  };
}

/**
 * The app of the app benches (bench/servers/app-covet.mjs, bench/tools/ab-inprocess.mjs): an async
 * middleware, hello world, and a JSON route with a typed param and a query schema. `setup(app, lib)` runs
 * first (tracing, say), with the build's app module.
 */
export async function benchApp(dist, setup) {
  const lib = await import(`${dist}/lib/app/index.js`);
  const app = lib.createApp();
  await setup?.(app, lib);
  app.use(async (ctx, next) => {
    ctx.res.setHeader('x-served-by', 'bench');
    await next();
  });
  app.get('/', () => 'Hello, World!');
  app.get(
    '/users/{id:int}',
    { schema: { query: Type.Object({ fields: Type.Optional(Type.String({ maxLength: 64 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }) } },
    (ctx) => ({ id: ctx.params.id, name: 'Ada', fields: ctx.query.fields ?? null, limit: ctx.query.limit ?? 10 }),
  );
  return app;
}

/** Case name → factory. Names are the gate's report rows. */
export const HOT_PATHS = {
  'parser GET (590 B, 12 fields)': parserCase('GET'),
  'parser POST': parserCase('POST'),
  'router GitHub table': (dist) => {
    const routes = githubRoutes();
    return routerCase(dist, routes, routes.map(([m, p]) => [m, instantiate(p)]));
  },
  'router 10,000 routes of one shape': (dist) => {
    const { routes, sample } = shapeTable(10000);
    return routerCase(dist, routes, sample);
  },
  'HPACK encode': async (dist) => {
    const { HpackEncoder } = await import(`${dist}/lib/http2/hpack/index.js`);
    const enc = new HpackEncoder();
    enc.encode(REQUEST_FIELDS);
    return (n) => {
      for (let i = 0; i < n; i++) enc.encode(REQUEST_FIELDS);
    };
  },
  'HPACK decode': async (dist) => {
    const { HpackDecoder, HpackEncoder } = await import(`${dist}/lib/http2/hpack/index.js`);
    // The second block of a connection (the first filled the dynamic table), decoded again and again.
    const enc = new HpackEncoder();
    const first = Buffer.from(enc.encode(REQUEST_FIELDS));
    const second = Buffer.from(enc.encode(REQUEST_FIELDS));
    const dec = new HpackDecoder();
    dec.decode(first);
    if (dec.decode(second).length !== REQUEST_FIELDS.length) throw new Error('HPACK decode lost fields');
    return (n) => {
      for (let i = 0; i < n; i++) dec.decode(second);
    };
  },
  'HTTP/2 frame parse': async (dist) => {
    const w = await import(`${dist}/lib/http2/frame-writer.js`);
    const { FrameParser } = await import(`${dist}/lib/http2/frame-parser.js`);
    // A request's worth of frames: HEADERS, two DATA, a WINDOW_UPDATE, a PING.
    const block = Buffer.alloc(120, 0x82);
    const chunk = Buffer.concat([
      ...w.headersFrames(1, block, { endStream: false, maxFrameSize: 16384 }),
      w.dataFrame(1, Buffer.alloc(1024, 1)),
      w.dataFrame(1, Buffer.alloc(64, 2), true),
      w.windowUpdateFrame(0, 65536),
      w.pingFrame(Buffer.alloc(8), false),
    ]);
    let frames = 0;
    const p = new FrameParser({ onFrame() { frames++; }, onStreamError(e) { throw e; } });
    p.push(chunk);
    if (frames !== 5) throw new Error(`the frame parser gave ${frames} frames of 5`);
    return (n) => {
      for (let i = 0; i < n; i++) p.push(chunk);
    };
  },
  // Four shapes called from one site, as an app's routes call their serializers. With one shape, processes of
  // one build ran up to ~20 % apart (pair medians 0.72–1.32 with nothing changed); with four, and the sides'
  // young generation fixed (compare.mjs), a control's pairs stayed within 0.85–1.10 (98-compare.md).
  'serializer (four shapes)': async (dist) => {
    const { compileSerializer } = await import(`${dist}/lib/app/serializer.js`);
    const shapes = [
      [
        Type.Object({ id: Type.Integer(), title: Type.String(), body: Type.String(), tags: Type.Array(Type.String()), done: Type.Boolean(), createdAt: Type.String() }),
        { id: 42, title: 'Buy milk', body: 'two litres, semi-skimmed', tags: ['home', 'shop'], done: false, createdAt: '2026-11-22T02:00:00.000Z' },
      ],
      [Type.Object({ id: Type.Integer(), name: Type.String(), email: Type.String(), age: Type.Number(), admin: Type.Boolean() }), { id: 7, name: 'Ann', email: 'ann@example.com', age: 31.5, admin: true }],
      [
        Type.Object({ order: Type.Integer(), items: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer() })), total: Type.Number() }),
        { order: 1001, items: [{ sku: 'A-1', qty: 2 }, { sku: 'B-7', qty: 1 }], total: 19.99 },
      ],
      [
        Type.Object({ city: Type.String(), temp: Type.Number(), wind: Type.Object({ speed: Type.Number(), dir: Type.String() }), at: Type.String() }),
        { city: 'Oslo', temp: -3.5, wind: { speed: 4.2, dir: 'NW' }, at: '2026-12-07T10:00:00Z' },
      ],
    ];
    const sers = shapes.map(([schema]) => compileSerializer(schema));
    const values = shapes.map(([, value]) => value);
    for (let k = 0; k < 4; k++) if (sers[k](values[k]) !== JSON.stringify(values[k])) throw new Error('the serializer wrote other JSON');
    // One operation is one value serialized (a quarter of a turn round the four).
    return (n) => {
      for (let i = 0; i < n; i++) sers[i & 3](values[i & 3]);
    };
  },
  'app JSON route (HTTP/1.1, fake socket)': async (dist) => {
    const app = await benchApp(dist);
    const res = await app.inject({ method: 'GET', url: '/users/42?limit=5&fields=name' });
    if (res.status !== 200) throw new Error(`the bench app answered ${res.status}`);
    const server = await fakeSocketServer(dist, app.handle, '/users/42?limit=5&fields=name');
    await server.run(10);
    if (server.socket.out === 0) throw new Error('the bench app wrote nothing');
    return (n) => server.run(n);
  },
};
