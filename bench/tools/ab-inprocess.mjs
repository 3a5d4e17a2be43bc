// In-process A/B of two builds — e.g. `git worktree add /tmp/base HEAD` built with tsc, against this
// tree's dist — or of two handlers in one build (WA/WB), on one fake socket each: the real Connection,
// Http1Connection, parser and app, no kernel. Segments alternate between A and B; the paired ratio per
// segment pair is what to read (this VM's speed drifts); run A against itself as the control.
//   DIST_A=/tmp/base/dist DIST_B=$PWD/dist taskset -c 0 node bench/tools/ab-inprocess.mjs json
// which: bare | hello | json | 404, suffix -nomw (no middleware) or -syncmw (a synchronous one).
import { Type } from '@sinclair/typebox';
import { benchApp, fakeSocketServer } from './hot-paths.mjs';
const which = process.argv[2] ?? 'json';
const DEPTH = 10;
async function harness(D, which) {
  let handler;
  if (which.startsWith('bare')) handler = (req, res) => { res.setHeader('Content-Type', 'text/plain'); res.end('Hello, World!'); };
  else {
    let app;
    if (!which.endsWith('-nomw') && !which.endsWith('-syncmw')) app = await benchApp(D); // an async middleware
    else {
      const { createApp } = await import(D + '/lib/app/index.js');
      app = createApp();
      if (which.endsWith('-syncmw')) app.use((ctx, next) => { ctx.res.setHeader('x-served-by', 'bench'); return next(); });
      app.get('/', () => 'Hello, World!');
      app.get('/users/{id:int}', { schema: { query: Type.Object({ fields: Type.Optional(Type.String({ maxLength: 64 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }) } },
        (ctx) => ({ id: ctx.params.id, name: 'Ada', fields: ctx.query.fields ?? null, limit: ctx.query.limit ?? 10 }));
    }
    await app.inject({ method: 'GET', url: '/' });
    handler = app.handle;
  }
  const path = which.startsWith('json') ? '/users/42?limit=5&fields=name' : which.startsWith('404') ? '/no/such/route' : '/';
  const server = await fakeSocketServer(D, handler, path, DEPTH);
  return (n) => server.run(n);
}
const A = await harness(process.env.DIST_A ?? new URL('../../dist', import.meta.url).pathname, process.env.WA ?? which);
const B = await harness(process.env.DIST_B ?? new URL('../../dist', import.meta.url).pathname, process.env.WB ?? which);
await A(50000); await B(50000);
const SEG = 10000, segs = Number(process.env.SEGS ?? 60);
const ta = [], tb = [], ratio = [];
for (let k = 0; k < segs; k++) {
  const first = k % 2 === 0 ? A : B;
  const second = k % 2 === 0 ? B : A;
  let t0 = process.hrtime.bigint(); await first(SEG); const t1 = Number(process.hrtime.bigint() - t0) / SEG;
  t0 = process.hrtime.bigint(); await second(SEG); const t2 = Number(process.hrtime.bigint() - t0) / SEG;
  const a = k % 2 === 0 ? t1 : t2, b = k % 2 === 0 ? t2 : t1;
  ta.push(a); tb.push(b); ratio.push(b / a);
}
const q = (xs, f) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length * f)];
console.log(`${which.padEnd(5)} A min ${q(ta, 0).toFixed(0)} med ${q(ta, 0.5).toFixed(0)} | B min ${q(tb, 0).toFixed(0)} med ${q(tb, 0.5).toFixed(0)} ns/req | B/A paired: p25 ${q(ratio, 0.25).toFixed(3)} med ${q(ratio, 0.5).toFixed(3)} p75 ${q(ratio, 0.75).toFixed(3)}`);
