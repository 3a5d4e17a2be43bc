/**
 * Account recovery against a real SMTP server (smtp-server, in this process) through smtpMailer (nodemailer):
 * the reset mail arrives, its link resets the password once, the account's sessions end, other reset links
 * die; an unknown address answers the same and gets no mail; tokens are stored hashed and expire (at the
 * limit good, one ms past not); requests are limited per address and per IP alike for unknown addresses;
 * an address is verified by its mailed link.
 */
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountRecovery, MemoryAccountTokenStore, MemoryLimiter, smtpMailer, tokenHash, verifyPassword, type AccountDirectory } from '../../../lib/app/auth/index.js';
import { HttpError } from '../../../lib/app/index.js';

const inbox: Array<{ to: string; subject: string; text: string }> = [];
let smtp: SMTPServer;
let port = 0;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, done) {
      simpleParser(stream)
        .then((m) => {
          inbox.push({ to: (Array.isArray(m.to) ? m.to[0] : m.to)?.text ?? '', subject: m.subject ?? '', text: m.text ?? '' });
          done();
        })
        .catch(done);
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  port = (smtp.server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => smtp.close(() => r())));

function setup(o: { limiter?: MemoryLimiter } = {}) {
  let now = 1_000_000;
  const users = new Map([['u1', { id: 'u1', email: 'ann@example.com', hash: '', verified: false }]]);
  const ended: string[] = [];
  const accounts: AccountDirectory = {
    findByEmail: (e) => [...users.values()].find((u) => u.email === e) ?? null,
    setPasswordHash: (id, hash) => void (users.get(id)!.hash = hash),
    markEmailVerified: (id) => void (users.get(id)!.verified = true),
  };
  const tokens = new MemoryAccountTokenStore();
  const recovery = accountRecovery({
    accounts,
    tokens,
    mailer: smtpMailer({ url: `smtp://127.0.0.1:${port}`, from: 'Notes <no-reply@notes.example>' }),
    links: { resetPassword: (t) => `https://notes.example/reset?token=${t}`, verifyEmail: (t) => `https://notes.example/verify?token=${t}` },
    appName: 'Notes',
    passwordPolicy: { algorithm: 'scrypt', ln: 10 },
    limiter: o.limiter,
    onPasswordReset: (id) => void ended.push(id),
    now: () => now,
  });
  return { recovery, users, tokens, ended, tick: (ms: number) => (now += ms) };
}

/** Waits for the mail to `to` with `subject`, and takes it out of the inbox. */
async function mailTo(to: string, subject: RegExp) {
  await expect.poll(() => inbox.some((m) => m.to.includes(to) && subject.test(m.subject)), { timeout: 10_000 }).toBe(true);
  const i = inbox.findIndex((m) => m.to.includes(to) && subject.test(m.subject));
  return inbox.splice(i, 1)[0]!;
}

const linkToken = (text: string) => /token=([A-Za-z0-9_-]{43})/.exec(text)![1]!;
const status = (p: Promise<unknown>) => p.then(() => 200, (e: unknown) => (e instanceof HttpError ? e.status : -1));

describe('password reset', () => {
  it('mails a link that resets the password once, ends the sessions, and kills the other links', async () => {
    const t = setup();
    await t.recovery.requestPasswordReset('  Ann@Example.com ');
    await t.recovery.requestPasswordReset('ann@example.com');
    const first = linkToken((await mailTo('ann@example.com', /Reset the password of Notes/)).text);
    const second = linkToken((await mailTo('ann@example.com', /Reset the password of Notes/)).text);
    expect(t.tokens.size).toBe(2);
    await t.recovery.resetPassword(first, 'a new long password');
    expect(await verifyPassword(t.users.get('u1')!.hash, 'a new long password')).toBe(true);
    expect(t.ended).toEqual(['u1']);
    expect(await status(t.recovery.resetPassword(first, 'another password'))).toBe(400); // used
    expect(await status(t.recovery.resetPassword(second, 'another password'))).toBe(400); // revoked by the reset
    expect(t.tokens.size).toBe(0);
  });

  it('an unknown address answers the same and gets no mail', async () => {
    const t = setup();
    await expect(t.recovery.requestPasswordReset('nobody@example.com')).resolves.toBeUndefined();
    await t.recovery.requestPasswordReset('ann@example.com'); // a known one after it: its mail arrives…
    await mailTo('ann@example.com', /Reset/);
    expect(inbox.filter((m) => m.to.includes('nobody'))).toEqual([]); // …and the unknown one's never did
  });

  it('stores only hashes; a link is good for 30 minutes and not a millisecond more', async () => {
    const t = setup();
    await t.recovery.requestPasswordReset('ann@example.com');
    const token = linkToken((await mailTo('ann@example.com', /Reset/)).text);
    const stored = t.tokens.take(tokenHash(token))!; // what the table holds is keyed by the hash…
    expect(stored.userId).toBe('u1');
    t.tokens.save(tokenHash(token), stored);
    expect(t.tokens.take(token)).toBe(null); // …never by the token
    t.tokens.save(tokenHash(token), stored);
    t.tick(30 * 60_000);
    const again = await t.recovery.resetPassword(token, 'at the limit!'); // at 30 min: good
    expect(again.userId).toBe('u1');
    await t.recovery.requestPasswordReset('ann@example.com');
    const late = linkToken((await mailTo('ann@example.com', /Reset/)).text);
    t.tick(30 * 60_000 + 1);
    expect(await status(t.recovery.resetPassword(late, 'one ms too late'))).toBe(400);
    expect(await status(t.recovery.resetPassword('x'.repeat(43), 'a guess that fails'))).toBe(400);
    expect(await status(t.recovery.resetPassword(late, 'short'))).toBe(400); // and too short, whatever the token
  });

  it('limits requests per address — an unknown one the same — and per IP', async () => {
    const t = setup({ limiter: new MemoryLimiter({ kind: 'fixed-window', limit: 2, windowMs: 60_000 }) });
    for (const email of ['ann@example.com', 'nobody@example.com']) {
      expect([await status(t.recovery.requestPasswordReset(email)), await status(t.recovery.requestPasswordReset(email)), await status(t.recovery.requestPasswordReset(email))]).toEqual([200, 200, 429]);
    }
    const ip = setup({ limiter: new MemoryLimiter({ kind: 'fixed-window', limit: 2, windowMs: 60_000 }) });
    expect([await status(ip.recovery.requestPasswordReset('a@x.example', '192.0.2.7')), await status(ip.recovery.requestPasswordReset('b@x.example', '192.0.2.7')), await status(ip.recovery.requestPasswordReset('c@x.example', '192.0.2.7'))]).toEqual([200, 200, 429]);
    await mailTo('ann@example.com', /Reset/);
    await mailTo('ann@example.com', /Reset/);
  });
});

describe('email verification', () => {
  it('mails a link that verifies the address once', async () => {
    const t = setup();
    await t.recovery.sendVerification('u1', 'ann@example.com');
    const token = linkToken((await mailTo('ann@example.com', /Confirm your address for Notes/)).text);
    expect(await t.recovery.verifyEmail(token)).toEqual({ userId: 'u1', email: 'ann@example.com' });
    expect(t.users.get('u1')!.verified).toBe(true);
    expect(await status(t.recovery.verifyEmail(token))).toBe(400);
  });
});
