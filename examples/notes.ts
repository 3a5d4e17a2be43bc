/**
 * The example app (`npm start`): a small notes API on `covet/app`, over HTTP/1.1 and HTTP/2 (h2c with
 * prior knowledge or `Upgrade: h2c`) on PORT (default 3000), a live feed over WebSocket, health/readiness checks, Prometheus metrics,
 * and graceful shutdown on SIGTERM/SIGINT. Notes are kept in memory for now: the database service is
 * not built yet (see README).
 *
 *   curl localhost:3000/notes
 *   curl -H 'content-type: application/json' -d '{"text":"buy milk"}' localhost:3000/notes
 *   curl --http2-prior-knowledge localhost:3000/notes/1
 */
import { Type } from '@sinclair/typebox';
import { accessLog, createApp, health, HttpError, metrics, securityHeaders } from '../lib/app/index.js';
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

const app = createApp({
  dev: process.env.NODE_ENV === 'development',
  openapi: { info: { title: 'Covet notes example', version: '0.1.0' } },
  compression: true, // br/gzip for answers over 1 KiB
  etag: true, // strong ETags and 304 on revalidation
});
const NoteSchema = Type.Object({ id: Type.Integer(), text: Type.String(), createdAt: Type.String({ format: 'date-time' }) });

// Prometheus metrics at /metrics; added first so it wraps every route below.
metrics(app);
// One JSON access-log line per request (pino) with a request ID; OWASP security headers on every answer.
app.use(accessLog());
app.use(securityHeaders());

app.use(async (ctx, next) => {
  const t0 = performance.now();
  await next();
  if (!ctx.res.headersSent) ctx.res.setHeader('server-timing', `app;dur=${(performance.now() - t0).toFixed(1)}`);
});

app.get('/', () => ({ name: 'covet example', endpoints: ['/notes', '/notes/{id}', '/health', '/ready', '/metrics', '/openapi.json', '/docs', 'ws: /live'] }));
// Liveness at /health; readiness at /ready (no external dependencies to check while notes live in memory).
health(app);
app.get(
  '/notes',
  { summary: 'List notes', schema: { query: Type.Object({ q: Type.Optional(Type.String({ maxLength: 100 })) }), response: { 200: Type.Array(NoteSchema) } } },
  (ctx) => {
    const q = (ctx.query.q ?? '').toLowerCase();
    return [...notes.values()].filter((n) => n.text.toLowerCase().includes(q));
  },
);
app.get('/notes/{id:int}', { summary: 'One note', schema: { response: { 200: NoteSchema } } }, (ctx) => {
  const note = notes.get(ctx.params.id as number);
  if (note === undefined) throw new HttpError(404, { detail: `note ${ctx.params.id} does not exist` });
  return note;
});
app.post('/notes', { summary: 'Create a note', schema: { body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 1000 }) }), response: { 201: NoteSchema } } }, (ctx) => {
  const note: Note = { id: nextId++, text: ctx.body.text, createdAt: new Date().toISOString() };
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
console.log(`try: curl localhost:${port}/notes ; curl -H 'content-type: application/json' -d '{"text":"hi"}' localhost:${port}/notes ; curl --http2-prior-knowledge localhost:${port}/openapi.json`);

// SIGTERM/SIGINT: stop accepting, 503 + Connection: close (HTTP/2: GOAWAY) for new requests, in-flight ones finish.
app.closeOnSignals({ graceMs: 10_000 });
