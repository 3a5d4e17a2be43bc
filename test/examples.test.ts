/**
 * The example app (`npm start`) starts on PGlite with no database server, serves its API over HTTP/1.1
 * and HTTP/2, and stops on SIGTERM; its migrations create exactly the tables its models declare.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { testMysql } from './app/db/helpers.js';

it('npm start: the notes example works over HTTP/1.1 and HTTP/2 and shuts down cleanly', async () => {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  probe.close();
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'dist/examples/notes.js')], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => void (out += d));
  while (!out.includes('listening')) await new Promise((r) => setTimeout(r, 20));
  expect(out).toMatch(/database: pglite/);
  const json = { 'content-type': 'application/json' };
  const post = (path: string, body: unknown) => fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  // The live feed (Server-Sent Events) sees notes created from now on.
  const events = await fetch(`http://127.0.0.1:${port}/events`);
  expect(events.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const reader = events.body!.getReader();
  const signup = await post('/users', { name: 'Ann', email: 'ann@example.com', password: 'correct horse', id: 50, createdAt: '1999-01-01T00:00:00Z' });
  expect(signup.status).toBe(202);
  expect(signup.headers.get('ratelimit-limit')).toBe('300');
  // The same answer for a registered email: sign-up does not tell who has an account.
  const again = await post('/users', { name: 'Ann again', email: 'ANN@example.com', password: 'another password' });
  expect([again.status, await again.json()]).toEqual([202, await signup.json()]);
  // Sign-in: one 400 invalid_grant for a wrong password and for an unknown email (no 401 without a challenge).
  const wrong = await post('/login', { email: 'ann@example.com', password: 'another password' });
  const unknown = await post('/login', { email: 'nobody@example.com', password: 'correct horse' });
  expect([wrong.status, unknown.status]).toEqual([400, 400]);
  expect(wrong.headers.get('www-authenticate')).toBeNull();
  expect((await wrong.json()) as { detail: string }).toMatchObject({ detail: 'wrong email or password', error: 'invalid_grant' });
  expect((await unknown.json()) as { detail: string }).toMatchObject({ detail: 'wrong email or password' });
  const login = (await (await post('/login', { email: 'ann@example.com', password: 'correct horse' })).json()) as { token: string; userId: number };
  expect(login.userId).toBe(1); // the id slipped into the sign-up body was dropped, not used
  const auth = { ...json, authorization: `Bearer ${login.token}` };
  const write = (path: string, body: unknown) => fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  // Writes need the token; the owner is the token's user whatever the body says.
  expect((await post('/notes', { text: 'anonymous' })).status).toBe(401);
  const created = await write('/notes', { ownerId: 99, text: 'from the test' });
  expect(created.status).toBe(201);
  expect(await created.json()).toMatchObject({ ownerId: 1, text: 'from the test' });
  let streamed = '';
  while (!streamed.includes('from the test')) streamed += new TextDecoder().decode((await reader.read()).value);
  expect(streamed).toMatch(/id: 1\nevent: created\ndata: \{"id":1,"ownerId":1,"text":"from the test"/);
  expect((await write('/notes', { text: 'second, about milk' })).status).toBe(201);
  expect((await write('/notes', { text: '' })).status).toBe(422);
  expect(await (await fetch(`http://127.0.0.1:${port}/notes?q=MILK`)).json()).toMatchObject([{ id: 2, text: 'second, about milk' }]);
  expect(((await (await fetch(`http://127.0.0.1:${port}/notes?limit=1&before=2`)).json()) as Array<{ id: number }>).map((n) => n.id)).toEqual([1]);
  expect(((await (await fetch(`http://127.0.0.1:${port}/notes?owner=1`)).json()) as Array<{ id: number }>).map((n) => n.id)).toEqual([2, 1]);
  const profile = (await (await fetch(`http://127.0.0.1:${port}/users/1`)).json()) as Record<string, unknown>;
  expect(profile).toMatchObject({ name: 'Ann', notes: [{ id: 2 }, { id: 1 }] });
  expect(profile).not.toHaveProperty('email');
  expect(profile).not.toHaveProperty('passwordHash');
  // Someone else cannot delete Ann's note: a 404, as for a note that does not exist.
  await post('/users', { name: 'Bob', email: 'bob@example.com', password: 'bob password' });
  const bob = (await (await post('/login', { email: 'bob@example.com', password: 'bob password' })).json()) as { token: string };
  const del = (id: number, token: string) => fetch(`http://127.0.0.1:${port}/notes/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  expect((await del(1, bob.token)).status).toBe(404);
  expect((await fetch(`http://127.0.0.1:${port}/notes/1`)).status).toBe(200);
  expect((await del(2, login.token)).status).toBe(204);
  // Ann's audit trail: her sign-in, her notes written and deleted, with the actor from her token; the chain intact.
  const trail = (await (await fetch(`http://127.0.0.1:${port}/audit`, { headers: { authorization: `Bearer ${login.token}` } })).json()) as { intact: boolean; entries: Array<{ action: string; target: string | null }> };
  expect(trail.intact).toBe(true);
  expect(trail.entries.map((e) => [e.action, e.target])).toEqual([['notes.delete', 'notes/2'], ['notes.insert', 'notes/2'], ['notes.insert', 'notes/1'], ['auth.sign-in', null], ['auth.sign-in-failed', null]]); // the wrong password above was hers
  const doc = (await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(doc.paths)).toContain('/notes/{id}');
  const c = http2.connect(`http://127.0.0.1:${port}`);
  const q = c.request({ ':path': '/notes/1' });
  let body = '';
  q.on('data', (d: Buffer) => void (body += d));
  await once(q, 'end');
  expect(JSON.parse(body)).toMatchObject({ id: 1, ownerId: 1, text: 'from the test' });
  c.close();
  expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  const ready = await fetch(`http://127.0.0.1:${port}/ready`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ checks: { database: { status: 'ok' } } });
  expect(await (await fetch(`http://127.0.0.1:${port}/docs`)).text()).toContain('swagger-ui-bundle.js');
  expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^http_requests_total\{method="GET",route="\/health",status="200"\} 1$/m);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
}, 120_000); // a hang guard: PGlite's start and scrypt are slow on a loaded machine (30 s was hit there)

for (const kind of ['pglite', 'sqlite', 'mysql'] as const) {
  it(`the example's migrations and models agree (no diff after migrating), on ${kind}`, async () => {
    const { openDatabase } = await import('../lib/app/db/index.js');
    const { diffSchema, Migrator } = await import('../lib/app/orm/index.js');
    const { users, notes, accountTokens } = await import('../examples/schema.js');
    const mysql = kind === 'mysql' ? await testMysql() : null;
    const db = mysql?.db ?? openDatabase({ url: kind === 'pglite' ? 'pglite://memory' : 'sqlite::memory:' });
    try {
      await new Migrator(db, join(import.meta.dirname, '..', 'examples/migrations')).up();
      expect(await diffSchema(db, [users, notes, accountTokens])).toEqual({ up: [], down: [] });
    } finally {
      await (mysql?.drop() ?? db.close());
    }
  });
}

for (const kind of ['sqlite', 'mysql'] as const) it(`the example runs on ${kind === 'sqlite' ? 'SQLite (DATABASE_URL=sqlite:///file)' : 'MariaDB (DATABASE_URL=mysql://...)'}: sign-up, sign-in, notes, data kept across a restart`, async () => {
  const file = join(tmpdir(), `covet-notes-${process.pid}.db`);
  const mysql = kind === 'mysql' ? await testMysql() : null;
  if (mysql !== null) await mysql.db.close(); // the app opens its own
  const url = mysql?.url ?? `sqlite://${file}`;
  const start = async (): Promise<{ port: number; stop(): Promise<void> }> => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    probe.close();
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'dist/examples/notes.js')], { env: { ...process.env, PORT: String(port), DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => void (out += d));
    while (!out.includes('listening')) await new Promise((r) => setTimeout(r, 20));
    expect(out).toContain(`database: ${kind}`);
    return { port, stop: async () => void (child.kill('SIGTERM'), expect((await once(child, 'exit'))[0]).toBe(0)) };
  };
  try {
    let app = await start();
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${app.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    expect((await post('/users', { name: 'Ann', email: 'ann@example.com', password: 'correct horse' })).status).toBe(202);
    const { token } = (await (await post('/login', { email: 'ann@example.com', password: 'correct horse' })).json()) as { token: string };
    const created = await post('/notes', { text: `on ${kind}` }, { authorization: `Bearer ${token}` });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: 1, ownerId: 1, text: `on ${kind}`, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    // Sign-up for a registered email: the same answer (the unique key is the database's, on each).
    expect((await post('/users', { name: 'Ann 2', email: 'ANN@example.com', password: 'another one' })).status).toBe(202);
    await app.stop();
    app = await start(); // the same file: the data is there
    expect(await (await fetch(`http://127.0.0.1:${app.port}/users/1`)).json()).toMatchObject({ name: 'Ann', notes: [{ text: `on ${kind}` }] });
    expect(await (await fetch(`http://127.0.0.1:${app.port}/notes?q=${kind.toUpperCase()}`)).json()).toMatchObject([{ id: 1 }]);
    await app.stop();
  } finally {
    for (const s of ['', '-wal', '-shm']) rmSync(file + s, { force: true });
    await mysql?.drop();
  }
}, 60_000);

it('the example has the account flows users expect: the address confirmed, a password reset that ends sessions, two-factor sign-in with recovery codes', async () => {
  const { totpCode } = await import('../lib/app/auth/index.js');
  const file = join(tmpdir(), `covet-notes-accounts-${process.pid}.db`);
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  probe.close();
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'dist/examples/notes.js')], { env: { ...process.env, PORT: String(port), DATABASE_URL: `sqlite://${file}`, NODE_ENV: 'test' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => void (out += d));
  try {
    while (!out.includes('listening')) await new Promise((r) => setTimeout(r, 20));
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) }, body: JSON.stringify(body) });
    /** The token of the next mail to `to` about `subject` (mails go out after the answer: wait for it). */
    let seen = 0;
    const mailToken = async (to: string, subject: RegExp): Promise<string> => {
      for (;;) {
        const mails = [...out.matchAll(/^\{"mail":(.*)\}$/gm)].map((m) => JSON.parse(m[1]!) as { to: string; subject: string; text: string });
        const i = mails.findIndex((m, j) => j >= seen && m.to === to && subject.test(m.subject));
        if (i >= 0) {
          seen = i + 1;
          return /#token=([\w-]+)/.exec(mails[i]!.text)![1]!;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const login = (password: string, code?: string) => post('/login', { email: 'ann@example.com', password, ...(code === undefined ? {} : { code }) });

    // Sign-up mails a confirmation link; its token confirms the address once.
    expect((await post('/users', { name: 'Ann', email: 'ann@example.com', password: 'correct horse' })).status).toBe(202);
    const confirm = await mailToken('ann@example.com', /^Confirm your address/);
    expect(await (await post('/email/confirm', { token: confirm })).json()).toEqual({ confirmed: 'ann@example.com' });
    expect((await post('/email/confirm', { token: confirm })).status).toBe(400);

    // A reset: the same answer for any address; the link sets the new password once and ends the sessions.
    const first = ((await (await login('correct horse')).json()) as { token: string }).token;
    expect((await post('/notes', { text: 'before the reset' }, first)).status).toBe(201);
    const forgot = await post('/password/forgot', { email: 'ann@example.com' });
    const unknown = await post('/password/forgot', { email: 'nobody@example.com' });
    expect([forgot.status, unknown.status]).toEqual([202, 202]);
    expect(await unknown.json()).toEqual(await forgot.json());
    const reset = await mailToken('ann@example.com', /^Reset the password/);
    expect((await post('/password/reset', { token: reset, password: 'a new password' })).status).toBe(200);
    expect((await post('/password/reset', { token: reset, password: 'another one here' })).status).toBe(400);
    const ended = await post('/notes', { text: 'after the reset' }, first);
    expect([ended.status, ((await ended.json()) as { detail: string }).detail]).toEqual([401, 'this session ended: sign in again']);
    expect((await login('correct horse')).status).toBe(400);
    const second = ((await (await login('a new password')).json()) as { token: string }).token;
    expect((await post('/notes', { text: 'after the reset' }, second)).status).toBe(201);

    // Two-factor sign-in: the seed, a first code turns it on and gives recovery codes.
    const started = (await (await post('/2fa/start', {}, second)).json()) as { otpauth: string; secret: string };
    expect(started.otpauth).toMatch(/^otpauth:\/\/totp\/Covet%20notes:ann%40example\.com\?secret=/);
    expect((await post('/2fa/confirm', { code: '000000' }, second)).status).toBe(422);
    const code = totpCode(started.secret);
    const { recoveryCodes } = (await (await post('/2fa/confirm', { code }, second)).json()) as { recoveryCodes: string[] };
    expect(recoveryCodes).toHaveLength(10);
    // Now the password alone is not enough; a code is used once; the next one works.
    const without = await login('a new password');
    expect([without.status, ((await without.json()) as { error: string }).error]).toEqual([400, 'mfa_required']);
    expect((await login('a new password', code)).status).toBe(400);
    expect((await login('wrong password', totpCode(started.secret, Date.now() + 30_000))).status).toBe(400);
    expect((await login('a new password', totpCode(started.secret, Date.now() + 30_000))).status).toBe(200);
    // A recovery code signs in once.
    expect((await login('a new password', recoveryCodes[0])).status).toBe(200);
    expect((await login('a new password', recoveryCodes[0])).status).toBe(400);
    // Off with another recovery code: the password alone signs in again.
    expect((await post('/2fa/off', { code: recoveryCodes[1] }, second)).status).toBe(204);
    expect((await login('a new password')).status).toBe(200);

    const doc = (await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/email/confirm', '/password/forgot', '/password/reset', '/2fa/start', '/2fa/confirm', '/2fa/off']));
    expect(out).not.toMatch(/a new password/); // the log never holds a password
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    for (const s of ['', '-wal', '-shm']) rmSync(file + s, { force: true });
  }
}, 120_000); // a hang guard (scrypt is slow on a loaded machine)
