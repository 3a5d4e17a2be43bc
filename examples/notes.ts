/**
 * The example app (`npm start`): a small notes API on `covet/app`, over HTTP/1.1 and HTTP/2 (h2c with
 * prior knowledge or `Upgrade: h2c`) on PORT (default 3000), a live feed over WebSocket, a health check,
 * and graceful shutdown on SIGTERM/SIGINT. Notes are kept in memory for now: the database service is
 * not built yet (see README).
 *
 *   curl localhost:3000/notes
 *   curl -d '{"text":"buy milk"}' localhost:3000/notes
 *   curl --http2-prior-knowledge localhost:3000/notes/1
 */
import { createApp, HttpError } from '../lib/app/index.js';
import { prepareMessage, type WebSocket } from '../lib/ws/index.js';

interface Note {
  id: number;
  text: string;
  createdAt: string;
}

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const notes = new Map<number, Note>();
let nextId = 1;
const watchers = new Set<WebSocket>();

const app = createApp({ dev: process.env.NODE_ENV === 'development' });

app.use(async (ctx, next) => {
  const t0 = performance.now();
  await next();
  if (!ctx.res.headersSent) ctx.res.setHeader('server-timing', `app;dur=${(performance.now() - t0).toFixed(1)}`);
});

app.get('/', () => ({ name: 'covet example', endpoints: ['/notes', '/notes/{id}', '/health', 'ws: /live'] }));
app.get('/health', () => ({ status: 'ok', notes: notes.size, uptime: Math.round(process.uptime()) }));
app.get('/notes', (ctx) => {
  const q = typeof ctx.query.q === 'string' ? ctx.query.q.toLowerCase() : '';
  return [...notes.values()].filter((n) => n.text.toLowerCase().includes(q));
});
app.get('/notes/{id:int}', (ctx) => {
  const note = notes.get(ctx.params.id as number);
  if (note === undefined) throw new HttpError(404, { detail: `note ${ctx.params.id} does not exist` });
  return note;
});
app.post('/notes', async (ctx) => {
  const body = await ctx.req.json<{ text?: unknown }>(64 * 1024);
  if (typeof body.text !== 'string' || body.text.length === 0 || body.text.length > 1000) {
    throw new HttpError(422, { detail: 'text must be a string of 1 to 1000 characters', errors: [{ path: '/text', message: 'string, 1..1000 characters' }] });
  }
  const note: Note = { id: nextId++, text: body.text, createdAt: new Date().toISOString() };
  notes.set(note.id, note);
  // Tell every live watcher, framing the message once.
  const msg = prepareMessage(JSON.stringify({ type: 'created', note }));
  for (const ws of watchers) ws.sendPrepared(msg);
  ctx.res.setHeader('location', `/notes/${note.id}`);
  ctx.json(note, 201);
});
app.delete('/notes/{id:int}', (ctx) => {
  if (!notes.delete(ctx.params.id as number)) throw new HttpError(404, { detail: `note ${ctx.params.id} does not exist` });
  ctx.res.statusCode = 204;
  ctx.res.end();
});
app.ws('/live', {
  open(ws) {
    watchers.add(ws);
    ws.on('close', () => watchers.delete(ws));
    ws.send(JSON.stringify({ type: 'hello', notes: notes.size }));
  },
});

const server = await app.listen({ port, host });
const addr = server.address();
console.log(`listening on http://${typeof addr === 'string' ? addr : `${host}:${addr?.port}`} (HTTP/1.1 and HTTP/2)`);
console.log(`try: curl localhost:${port}/notes ; curl -d '{"text":"hi"}' localhost:${port}/notes ; curl --http2-prior-knowledge localhost:${port}/health`);

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    console.log(`${sig}: closing (in-flight requests finish, idle connections close, HTTP/2 gets GOAWAY)`);
    void app.close(10_000).then(() => {
      console.log('closed');
      process.exit(0);
    });
  });
}
