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
 * emails are registered; undeclared body fields (an `id`, an `ownerId`) never reach a handler. Accounts
 * have what users expect: the address confirmed by a mailed link, a forgotten password reset by one (which
 * also ends the sessions), and two-factor sign-in with an authenticator app (TOTP) and recovery codes.
 * Mail goes through SMTP with SMTP_URL; without it, outside production, mails are printed as JSON lines.
 *
 *   curl -H 'content-type: application/json' -d '{"name":"Ann","email":"ann@example.com","password":"correct horse"}' localhost:3000/users
 *   TOKEN=$(curl -s -H 'content-type: application/json' -d '{"email":"ann@example.com","password":"correct horse"}' localhost:3000/login | jq -r .token)
 *   curl -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"text":"buy milk"}' localhost:3000/notes
 *   curl 'localhost:3000/notes?q=milk&limit=10'
 *   curl --http2-prior-knowledge localhost:3000/users/1
 */
import { join } from 'node:path';
import { accessLog, createApp, dep, health, HttpError, metrics, redisCheck, securityHeaders, Type } from '../lib/app/index.js';
import { openDatabase } from '../lib/app/db/index.js';
import { createOrm, escapeLike, Migrator } from '../lib/app/orm/index.js';
import { createHash } from 'node:crypto';
import {
  accountRecovery, generateTotpSecret, hashPassword, importKey, jwtAuth, matchRecoveryCode, MemoryLimiter, openSecret, otpauthUri, rateLimit, recoveryCodes,
  RedisLimiter, sealSecret, signJwt, smtpMailer, TotpVerifier, verifyPassword, type AccountTokenStore, type Algorithm, type Limiter, type Mailer,
} from '../lib/app/auth/index.js';
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
const limiterFor = (a: Algorithm, prefix: string): Limiter => (redis === undefined ? new MemoryLimiter(a) : new RedisLimiter(redis, a, { prefix }));
const limiter = limiterFor(limit, 'notes:rl:');
// An append-only, hash-chained audit log of every ORM write (in the write's transaction) and of sign-ins.
const audit = createAuditLog(db);
await audit.migrate();
// ORM results can be cached per query; any ORM write to a table drops what was cached from it.
const orm = createOrm(db, schema, { cache, audit });
const watchers = new Set<WebSocket>();
// Bearer JWTs from POST /login (HS256; JWT_SECRET in production — the fallback is for trying it out).
const jwtKey = importKey(process.env.JWT_SECRET ?? 'dev only: set JWT_SECRET in production!!', ['HS256']);
const auth = jwtAuth({ keys: [jwtKey], issuer: 'notes' });
// A token issued before the account's last password reset is refused (the reset ends every session).
const signedIn = dep('signedIn', async (_ctx, use) => {
  const claims = await use(auth);
  const user = await orm.users.find(Number(claims.sub));
  if (user === undefined || (user.tokensValidFrom !== null && Number(claims.at ?? 0) < user.tokensValidFrom.getTime())) {
    throw new HttpError(401, { detail: 'this session ended: sign in again' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
  return user;
});
const feed = new SseTopic({ keep: 500 });
const production = process.env.NODE_ENV === 'production';
const publicUrl = process.env.PUBLIC_URL ?? `http://${host}:${port}`;

// Mail: SMTP with SMTP_URL. Without it a mail is printed as a JSON line — never in production, where the
// links it carries would end up in the logs: there it is dropped, with a warning at start.
const mailer: Mailer =
  process.env.SMTP_URL !== undefined
    ? smtpMailer({ url: process.env.SMTP_URL, from: process.env.MAIL_FROM ?? 'Notes <no-reply@notes.example>' })
    : { send: async (m) => void (production ? undefined : console.log(JSON.stringify({ mail: { to: m.to, subject: m.subject, text: m.text } }))) };
if (production && process.env.SMTP_URL === undefined) console.warn('SMTP_URL is not set: account mails (confirmation, password reset) are not sent');
// TOTP seeds are sealed at rest with SEAL_KEY (32 bytes, base64); the fallback is for trying it out.
const sealKey = process.env.SEAL_KEY !== undefined ? Buffer.from(process.env.SEAL_KEY, 'base64') : createHash('sha256').update('dev only: set SEAL_KEY in production').digest();
// Reset and confirmation tokens live in account_tokens as hashes; the TOTP step of each user in its row.
const tokens: AccountTokenStore = {
  save: async (hash, r) => void (await orm.accountTokens.insert({ hash, purpose: r.purpose, userId: Number(r.userId), email: r.email ?? null, expires: String(r.expires) })),
  take: async (hash) => {
    const [row] = await orm.accountTokens.delete({ hash });
    return row === undefined ? null : { purpose: row.purpose as 'reset-password' | 'verify-email', userId: String(row.userId), ...(row.email === null ? {} : { email: row.email }), expires: Number(row.expires) };
  },
  revoke: async (userId, purpose) => void (await orm.accountTokens.delete({ userId: Number(userId), purpose })),
};
const totp = new TotpVerifier({
  store: {
    get: async (user) => (await orm.users.find(Number(user)))?.totpStep ?? undefined,
    set: async (user, step) => void (await orm.users.update({ id: Number(user) }, { totpStep: step })),
  },
});
const recovery = accountRecovery({
  appName: 'Covet notes',
  accounts: {
    findByEmail: async (email) => {
      const u = await orm.users.findFirst({ where: { email } });
      return u === undefined ? null : { id: String(u.id), email: u.email };
    },
    setPasswordHash: async (id, passwordHash) => void (await orm.users.update({ id: Number(id) }, { passwordHash })),
    markEmailVerified: async (id, email) => void (await orm.users.update({ id: Number(id), email }, { emailVerifiedAt: new Date() })),
  },
  tokens,
  mailer,
  links: { resetPassword: (t) => `${publicUrl}/reset-password#token=${t}`, verifyEmail: (t) => `${publicUrl}/verify-email#token=${t}` },
  limiter: limiterFor({ kind: 'fixed-window', limit: 5, windowMs: 15 * 60_000 }, 'notes:reset:'),
  onPasswordReset: async (id) => void (await orm.users.update({ id: Number(id) }, { tokensValidFrom: new Date() })),
  onError: (err) => console.error(JSON.stringify({ msg: 'account mail failed', err: err.message })),
});

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

app.get('/', () => ({ name: 'covet example', database: db.kind, endpoints: ['/users', '/login', '/email/confirm', '/password/forgot', '/password/reset', '/2fa/start', '/2fa/confirm', '/2fa/off', '/users/{id}', '/notes', '/notes/{id}', '/events', '/audit', '/health', '/ready', '/metrics', '/openapi.json', '/docs', 'ws: /live'] }));
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
    ctx.log.info({ userId: user?.id ?? null }, user === undefined ? 'sign-up for a registered email: the owner would be told' : 'new user: a confirmation mail goes out');
    // After the answer, so a new address and a known one take as long.
    if (user !== undefined) setImmediate(() => void recovery.sendVerification(String(user.id), user.email).catch((err: unknown) => ctx.log.error({ err }, 'confirmation mail failed')));
    return { status: 'check your inbox' as const };
  },
);

// Sign-in: a JWT for the user; one answer for an unknown email and a wrong password (and as slow).
const DUMMY_HASH = await hashPassword('not anyone\'s password');
app.post('/login', { summary: 'Sign in: a bearer token for an hour (with two-factor sign-in on, a code from the app or a recovery code too)', schema: { body: Type.Object({ email: Type.String({ maxLength: 200 }), password: Type.String({ maxLength: 200 }), code: Type.Optional(Type.String({ maxLength: 20 })) }), response: { 200: Type.Object({ token: Type.String(), userId: Type.Integer() }) } } }, async (ctx) => {
  const user = await orm.users.findFirst({ where: { email: ctx.body.email.toLowerCase() } });
  let ok = await verifyPassword(user?.passwordHash ?? DUMMY_HASH, ctx.body.password);
  if (ok && user !== undefined && user.totpEnabled) {
    // The second factor is asked for only after the password was right.
    if (ctx.body.code === undefined) throw new HttpError(400, { detail: 'a code from your authenticator app (or a recovery code) is needed', error: 'mfa_required' });
    ok = await secondFactor(user, ctx.body.code);
  }
  // Who tried, and whether it worked (the password never reaches the log: fields named like it are redacted).
  await audit.record({ action: user !== undefined && ok ? 'auth.sign-in' : 'auth.sign-in-failed', actor: user === undefined ? null : String(user.id), data: { email: ctx.body.email.toLowerCase() } });
  // 400 invalid_grant, as OAuth 2's token endpoint answers (RFC 6749 §5.2): a 401 would need a
  // WWW-Authenticate challenge for this resource (RFC 9110 §15.5.2), and credentials in a body have none.
  if (user === undefined || !ok) throw new HttpError(400, { detail: 'wrong email or password', error: 'invalid_grant' });
  // `at`: when it was issued, in ms (`iat` is in whole seconds: too coarse to tell a token from a reset in the same second).
  return { token: signJwt({ at: Date.now() }, jwtKey, { issuer: 'notes', subject: String(user.id), expiresIn: 3600 }), userId: user.id };
});

/** A code from the user's authenticator app, or one of their recovery codes (which is then used up). */
async function secondFactor(user: { id: number; totpSecret: string | null; recoveryHashes: string | null }, code: string): Promise<boolean> {
  if (user.totpSecret !== null && (await totp.verify(String(user.id), openSecret(user.totpSecret, sealKey), code))) return true;
  const hashes = JSON.parse(user.recoveryHashes ?? '[]') as string[];
  const i = matchRecoveryCode(code, hashes);
  if (i < 0) return false;
  hashes.splice(i, 1);
  await orm.users.update({ id: user.id }, { recoveryHashes: JSON.stringify(hashes) });
  return true;
}

// Confirming the address: the link mailed at sign-up carries the token (in the fragment, so it is never
// in a server log or a Referer); the page posts it here.
app.post('/email/confirm', { summary: 'Confirm your address with the token from the mail', schema: { body: Type.Object({ token: Type.String({ maxLength: 100 }) }), response: { 200: Type.Object({ confirmed: Type.String() }) } } }, async (ctx) => ({
  confirmed: (await recovery.verifyEmail(ctx.body.token)).email,
}));

// A forgotten password: the same 202 for any address (a mail goes out only to a known one); limited per
// address and per client. The reset sets the new password once, and every earlier session ends.
app.post('/password/forgot', { summary: 'Mail a password-reset link (the answer is the same for any address)', status: 202, schema: { body: Type.Object({ email: Type.String({ maxLength: 200 }) }), response: { 202: Type.Object({ status: Type.Literal('if the address has an account, a mail is on its way') }) } } }, async (ctx) => {
  await recovery.requestPasswordReset(ctx.body.email, ctx.ip);
  return { status: 'if the address has an account, a mail is on its way' as const };
});
app.post('/password/reset', { summary: 'Choose a new password with the token from the mail', schema: { body: Type.Object({ token: Type.String({ maxLength: 100 }), password: Type.String({ minLength: 10, maxLength: 200 }) }), response: { 200: Type.Object({ reset: Type.Literal(true) }) } } }, async (ctx) => {
  await recovery.resetPassword(ctx.body.token, ctx.body.password);
  return { reset: true as const };
});

// Two-factor sign-in: start gives the seed (as an otpauth:// URI for a QR code); the first code from the app
// turns it on and returns ten recovery codes, shown this once. Off again with a code.
app.post('/2fa/start', { summary: 'Start two-factor sign-in: the seed for an authenticator app', deps: [auth, signedIn], schema: { response: { 200: Type.Object({ otpauth: Type.String(), secret: Type.String() }) } } }, async (ctx) => {
  const user = await ctx.use(signedIn);
  if (user.totpEnabled) throw new HttpError(409, { detail: 'two-factor sign-in is already on' });
  const secret = generateTotpSecret();
  await orm.users.update({ id: user.id }, { totpSecret: sealSecret(secret, sealKey), totpStep: null });
  return { otpauth: otpauthUri({ secret, issuer: 'Covet notes', account: user.email }), secret };
});
app.post('/2fa/confirm', { summary: 'Turn two-factor sign-in on with a first code; returns recovery codes', deps: [auth, signedIn], schema: { body: Type.Object({ code: Type.String({ maxLength: 20 }) }), response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }) } } }, async (ctx) => {
  const user = await ctx.use(signedIn);
  if (user.totpSecret === null || user.totpEnabled) throw new HttpError(409, { detail: 'start two-factor sign-in first' });
  if (!(await totp.verify(String(user.id), openSecret(user.totpSecret, sealKey), ctx.body.code))) throw new HttpError(422, { detail: 'that code is not the current one' });
  const { codes, hashes } = recoveryCodes();
  await orm.users.update({ id: user.id }, { totpEnabled: true, recoveryHashes: JSON.stringify(hashes) });
  return { recoveryCodes: codes };
});
app.post('/2fa/off', { summary: 'Turn two-factor sign-in off (with a current code or a recovery code)', deps: [auth, signedIn], status: 204, schema: { body: Type.Object({ code: Type.String({ maxLength: 20 }) }) } }, async (ctx) => {
  const user = await ctx.use(signedIn);
  if (!user.totpEnabled || !(await secondFactor(user, ctx.body.code))) throw new HttpError(422, { detail: 'that code does not match' });
  await orm.users.update({ id: user.id }, { totpEnabled: false, totpSecret: null, totpStep: null, recoveryHashes: null });
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
app.post('/notes', { summary: 'Create a note', deps: [auth, signedIn], schema: { body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 1000 }) }), response: { 201: Note } } }, async (ctx) => {
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
app.delete('/notes/{id:int}', { summary: 'Delete one of your notes', deps: [auth, signedIn], status: 204 }, async (ctx) => {
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
