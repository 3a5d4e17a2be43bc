/**
 * The example app (`npm start`): a small notes API with users on `covet/app`, its data in PostgreSQL
 * through `covet/app/orm` — PGlite in this process by default (in memory; `DATABASE_URL=pglite:///dir`
 * keeps it on disk), a real server with `DATABASE_URL=postgres://...`, or SQLite with
 * `DATABASE_URL=sqlite:///path/notes.db`. Served over HTTP/1.1 and HTTP/2
 * (h2c with prior knowledge or `Upgrade: h2c`) on PORT (default 3000), with a live feed over WebSocket
 * and Server-Sent Events, a query cache and rate limits (in memory, or in Redis with `REDIS_URL`),
 * health/readiness (the database and Redis are checked), Prometheus metrics, OpenAPI docs at /docs, and
 * graceful shutdown on SIGTERM/SIGINT.
 *
 * Writes need a signed-in user (a bearer JWT from /login); sign-up and sign-in never reveal which
 * emails are registered; undeclared body fields (an `id`, an `ownerId`) never reach a handler.
 *
 *   curl -H 'content-type: application/json' -d '{"name":"Ann","email":"ann@example.com","password":"correct horse"}' localhost:3000/users
 *   TOKEN=$(curl -s -H 'content-type: application/json' -d '{"email":"ann@example.com","password":"correct horse"}' localhost:3000/login | jq -r .token)
 *   curl -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"text":"buy milk"}' localhost:3000/notes
 *   curl 'localhost:3000/notes?q=milk&limit=10'
 *   curl --http2-prior-knowledge localhost:3000/users/1
 */
import { join } from 'node:path';
import { accessLog, createApp, health, HttpError, metrics, redisCheck, securityHeaders, Type } from '../lib/app/index.js';
import { openDatabase } from '../lib/app/db/index.js';
import { createOrm, escapeLike, Migrator } from '../lib/app/orm/index.js';
import { hashPassword, importKey, jwtAuth, MemoryLimiter, rateLimit, RedisLimiter, signJwt, verifyPassword, type Limiter } from '../lib/app/auth/index.js';
import { Cache, MemoryBackend, TwoLevelBackend } from '../lib/app/cache/index.js';
import { createAuditLog } from '../lib/app/audit/index.js';
import { SseTopic } from '../lib/app/realtime/index.js';
import { prepareMessage, type WebSocket } from '../lib/ws/index.js';
import { schema } from './schema.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

// The database: DATABASE_URL (postgres://..., sqlite:///path.db), or PGlite embedded. Migrations run at
// start (under a lock, so several instances starting together are safe); examples/migrations/sqlite
// holds SQLite's DDL.
const db = openDatabase();
// examples/migrations, from the source (covet dev) or from the build (dist/examples).
const migrator = new Migrator(db, join(import.meta.dirname, import.meta.dirname.includes('/dist/') ? '../../examples/migrations' : 'migrations'));
migrator.log = (m) => console.log(m);
await migrator.up();
// Cache and rate limits: in memory, or shared through Redis with REDIS_URL (several instances agree).
const redis = process.env.REDIS_URL === undefined ? undefined : new (await import('ioredis')).Redis(process.env.REDIS_URL);
const cache = new Cache({ backend: redis === undefined ? new MemoryBackend({ maxEntries: 10_000 }) : new TwoLevelBackend(redis, { prefix: 'notes:cache:', invalidation: 'tracking' }) });
const limit = { kind: 'sliding-window', limit: 300, windowMs: 60_000 } as const;
const limiter: Limiter = redis === undefined ? new MemoryLimiter(limit) : new RedisLimiter(redis, limit, { prefix: 'notes:rl:' });
// An append-only, hash-chained audit log of every ORM write (in the write's transaction) and of sign-ins.
const audit = createAuditLog(db);
await audit.migrate();
// ORM results can be cached per query; any ORM write to a table drops what was cached from it.
const orm = createOrm(db, schema, { cache, audit });
const watchers = new Set<WebSocket>();
// Bearer JWTs from POST /login (HS256; JWT_SECRET in production — the fallback is for trying it out).
const jwtKey = importKey(process.env.JWT_SECRET ?? 'dev only: set JWT_SECRET in production!!', ['HS256']);
const auth = jwtAuth({ keys: [jwtKey], issuer: 'notes' });
const feed = new SseTopic({ keep: 500 });

const app = createApp({
  dev: process.env.NODE_ENV === 'development',
  openapi: { info: { title: 'Covet notes example', version: '0.2.0' } },
  compression: true, // br/gzip for answers over 1 KiB
  etag: true, // strong ETags and 304 on revalidation
});

const User = Type.Object({ id: Type.Integer(), name: Type.String(), createdAt: Type.String({ format: 'date-time' }) });
const Note = Type.Object({ id: Type.Integer(), ownerId: Type.Integer(), text: Type.String(), createdAt: Type.String({ format: 'date-time' }) });
const UserWithNotes = Type.Object({ ...User.properties, notes: Type.Array(Note) });

// Prometheus metrics at /metrics; added first so it wraps every route below.
metrics(app);
// One JSON access-log line per request (pino) with a request ID; OWASP security headers on every answer.
app.use(accessLog());
app.use(securityHeaders());
// 300 requests a minute per client address (RateLimit-* headers; 429 with Retry-After past it).
app.use(rateLimit({ limiter }));
// Audit entries name the signed-in user (known once the route's jwtAuth ran) and the client address.
app.use(audit.context((ctx) => ({ actor: (ctx.state.user as { sub?: string } | undefined)?.sub ?? null, meta: { ip: ctx.ip } })));
// Database errors caused by the client's data answer 4xx by themselves, naming the field and never the
// value (a duplicate 409, a foreign key or check violation 422); a request that cannot get a pooled
// connection within 2 s is a 503 with Retry-After.

app.get('/', () => ({ name: 'covet example', database: db.kind, endpoints: ['/users', '/login', '/users/{id}', '/notes', '/notes/{id}', '/events', '/audit', '/health', '/ready', '/metrics', '/openapi.json', '/docs', 'ws: /live'] }));
// The signed-in user's own audit trail, newest first, and whether the whole chain is intact.
app.get('/audit', { summary: 'Your audit trail (and whether the log is intact)', deps: [auth] }, async (ctx) => {
  const me = (ctx.state.user as { sub: string }).sub;
  return { intact: (await audit.verify()).ok, entries: (await audit.find({ actor: me, limit: 50 })).map((e) => ({ at: e.at, action: e.action, target: e.targetTable === null ? null : `${e.targetTable}/${e.targetId}` })) };
});
// Liveness at /health; readiness at /ready checks the database (a real query, with a timeout).
health(app, { checks: { database: () => db.ping(1000), ...(redis === undefined ? {} : { redis: redisCheck(redis) }) } });

// Sign-up never says whether an email is registered (no account enumeration): a new address gets an
// account, a known one gets nothing, and both get the same 202. A real app would mail the owner either
// way ("welcome" / "someone tried to sign up with your address"); here it is logged.
app.post(
  '/users',
  { summary: 'Sign up (the answer is the same whether or not the email is registered)', status: 202, schema: { body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), email: Type.String({ format: 'email', maxLength: 200 }), password: Type.String({ minLength: 10, maxLength: 200 }) }), response: { 202: Type.Object({ status: Type.Literal('check your inbox') }) } } },
  async (ctx) => {
    const passwordHash = await hashPassword(ctx.body.password); // hashed either way: both answers take as long
    const [user] = await orm.users.insert({ name: ctx.body.name, email: ctx.body.email.toLowerCase(), passwordHash }, { onConflict: { target: ['email'] } });
    ctx.log.info({ userId: user?.id ?? null }, user === undefined ? 'sign-up for a registered email: the owner would be told' : 'new user: a welcome mail would go out');
    return { status: 'check your inbox' as const };
  },
);

// Sign-in: a JWT for the user; one answer for an unknown email and a wrong password (and as slow).
const DUMMY_HASH = await hashPassword('not anyone\'s password');
app.post('/login', { summary: 'Sign in: a bearer token for an hour', schema: { body: Type.Object({ email: Type.String({ maxLength: 200 }), password: Type.String({ maxLength: 200 }) }), response: { 200: Type.Object({ token: Type.String(), userId: Type.Integer() }) } } }, async (ctx) => {
  const user = await orm.users.findFirst({ where: { email: ctx.body.email.toLowerCase() } });
  const ok = await verifyPassword(user?.passwordHash ?? DUMMY_HASH, ctx.body.password);
  // Who tried, and whether it worked (the password never reaches the log: fields named like it are redacted).
  await audit.record({ action: user !== undefined && ok ? 'auth.sign-in' : 'auth.sign-in-failed', actor: user === undefined ? null : String(user.id), data: { email: ctx.body.email.toLowerCase() } });
  // 400 invalid_grant, as OAuth 2's token endpoint answers (RFC 6749 §5.2): a 401 would need a
  // WWW-Authenticate challenge for this resource (RFC 9110 §15.5.2), and credentials in a body have none.
  if (user === undefined || !ok) throw new HttpError(400, { detail: 'wrong email or password', error: 'invalid_grant' });
  return { token: signJwt({}, jwtKey, { issuer: 'notes', subject: String(user.id), expiresIn: 3600 }), userId: user.id };
});

// A user's public profile and newest notes (at most 20: the rest through /notes?owner=&before=). The
// email is personal data: it is not in the answer (the response schema leaves it out).
app.get('/users/{id:int}', { summary: 'A user and their 20 newest notes', schema: { response: { 200: UserWithNotes } } }, async (ctx) => {
  const user = await orm.users.findFirst({ where: { id: ctx.params.id }, with: { notes: { orderBy: { id: 'desc' }, limit: 20 } }, cache: { ttl: 30_000 } });
  if (user === undefined) throw new HttpError(404, { detail: `user ${ctx.params.id} does not exist` });
  return user;
});

app.get(
  '/notes',
  {
    summary: 'List notes (newest first; pass the last id as `before` for the next page)',
    schema: {
      query: Type.Object({ q: Type.Optional(Type.String({ maxLength: 100 })), owner: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })), limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }), before: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })) }),
      response: { 200: Type.Array(Note) },
    },
  },
  (ctx) =>
    orm.notes.findMany({
      where: { ...(ctx.query.q === undefined ? {} : { text: { ilike: `%${escapeLike(ctx.query.q)}%` } }), ...(ctx.query.owner === undefined ? {} : { ownerId: ctx.query.owner }) },
      orderBy: { id: 'desc' },
      limit: ctx.query.limit, // absent: the schema's default
      ...(ctx.query.before === undefined ? {} : { after: { id: ctx.query.before } }),
    }),
);

app.get('/notes/{id:int}', { summary: 'One note', schema: { response: { 200: Note } } }, async (ctx) => {
  const note = await orm.notes.find(ctx.params.id);
  if (note === undefined) throw new HttpError(404, { detail: `note ${ctx.params.id} does not exist` });
  return note;
});

// Writes need a signed-in user, and the owner is the token's subject — never a field of the body (a
// body property the schema does not declare, like ownerId or id, never reaches the handler).
app.post('/notes', { summary: 'Create a note', deps: [auth], schema: { body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 1000 }) }), response: { 201: Note } } }, async (ctx) => {
  const ownerId = Number((await ctx.use(auth)).sub);
  const [note] = await orm.notes.insert({ ownerId, text: ctx.body.text });
  // Tell every live watcher, framing the message once.
  const msg = prepareMessage(JSON.stringify({ type: 'created', note }));
  for (const ws of watchers) ws.sendPrepared(msg);
  feed.publish({ event: 'created', data: note });
  ctx.res.setHeader('location', `/notes/${note!.id}`);
  return note;
});

// Only the owner deletes; someone else's note is a 404 like a missing one (nothing learnt by trying).
app.delete('/notes/{id:int}', { summary: 'Delete one of your notes', deps: [auth], status: 204 }, async (ctx) => {
  const ownerId = Number((await ctx.use(auth)).sub);
  const gone = await orm.notes.delete({ id: ctx.params.id, ownerId });
  if (gone.length === 0) throw new HttpError(404, { detail: `you have no note ${ctx.params.id}` });
});

// The same feed as Server-Sent Events; a reconnecting client sends Last-Event-ID and gets what it missed.
app.get('/events', { summary: 'Live feed of new notes (text/event-stream)' }, (ctx) => void feed.subscribe(ctx));

app.ws('/live', {
  open(ws) {
    watchers.add(ws);
    ws.on('close', () => watchers.delete(ws));
    ws.send(JSON.stringify({ type: 'hello' }));
  },
});

const server = await app.listen({ port, host });
const addr = server.address();
console.log(`listening on http://${typeof addr === 'string' ? addr : `${host}:${addr?.port}`} (HTTP/1.1 and HTTP/2), database: ${db.kind}`);
console.log(`try: curl -H 'content-type: application/json' -d '{"name":"Ann","email":"ann@example.com","password":"correct horse"}' localhost:${port}/users  (then POST /login; docs at /docs)`);

// SIGTERM/SIGINT: stop accepting, 503 + Connection: close (HTTP/2: GOAWAY) for new requests, in-flight
// ones finish; then the database sessions close.
app.closeOnSignals({
  graceMs: 10_000,
  beforeExit: async () => {
    await cache.close();
    redis?.disconnect();
    await audit.close(); // the sequencer stops; anything it had not chained yet is chained by the next migrate() or write
    await db.close();
  },
});
// Event streams never finish on their own: end them as soon as shutdown starts.
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => feed.close());
export { app }; // covet dev and covet routes find it here
