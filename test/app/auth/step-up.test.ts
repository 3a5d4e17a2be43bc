/**
 * Step-up (`requires: ['2fa']`, RFC 9470's challenge): a sensitive route asks for a second factor proven
 * within maxAge — 401 with `insufficient_user_authentication` until then, at exactly maxAge still good, one
 * millisecond past asked again; permissions are checked first (403 stays 403); the session records the
 * moment a TOTP code verified.
 */
import { describe, expect, it } from 'vitest';
import { createApp, HttpError } from '../../../lib/app/index.js';
import { generateTotpSecret, markSecondFactor, MemorySessionStore, rbac, session, sessionOf, stepUp, totpCode, TotpVerifier } from '../../../lib/app/auth/index.js';

interface User {
  id: string;
  roles: string[];
}

function setup() {
  let now = 1_000_000;
  const users = new Map<string, User>([['ann', { id: 'ann', roles: ['owner'] }], ['bob', { id: 'bob', roles: ['viewer'] }]]);
  const access = rbac<User>({ roles: { owner: ['account:*'], viewer: ['account:read'] }, user: (ctx) => users.get(sessionOf(ctx).get<string>('userId') ?? '') });
  const secret = generateTotpSecret();
  const totp = new TotpVerifier({ now: () => now });
  const app = createApp({ authorize: stepUp(access.authorize, { now: () => now }) });
  app.use(session({ store: new MemorySessionStore(), secrets: ['s'.repeat(32)], cookie: { secure: false } }));
  app.post('/login/:id', async (ctx) => {
    await sessionOf(ctx).regenerate();
    await sessionOf(ctx).set('userId', ctx.params.id);
    return 'in';
  });
  app.post('/2fa/:code', async (ctx) => {
    if (!(await totp.verify(sessionOf(ctx).get<string>('userId')!, secret, ctx.params.code))) throw new HttpError(400, { detail: 'bad code' });
    await markSecondFactor(ctx, now);
    return 'ok';
  });
  app.post('/account/delete', { requires: ['account:delete', '2fa'] }, () => 'deleted');
  app.get('/account', { requires: ['account:read'] }, () => 'account');
  let cookie = '';
  const call = async (method: string, url: string) => {
    const r = await app.inject({ method, url, headers: cookie === '' ? {} : { cookie } });
    const set = r.headers['set-cookie'];
    if (set !== undefined) cookie = String(set).split(';')[0]!;
    return r;
  };
  return { call, code: () => totpCode(secret, now), tick: (ms: number) => (now += ms) };
}

describe('step-up', () => {
  it('asks for a second factor, takes a verified TOTP code, and asks again after maxAge (15 min) — not at it', async () => {
    const t = setup();
    expect((await t.call('POST', '/account/delete')).status).toBe(401); // nobody: rbac's own 401
    await t.call('POST', '/login/ann');
    expect((await t.call('GET', '/account')).status).toBe(200); // no step-up needed here
    const asked = await t.call('POST', '/account/delete');
    expect(asked.status).toBe(401);
    expect(asked.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication", error_description="a second factor is required", max_age=900');
    expect(asked.json()).toMatchObject({ type: 'urn:covet:problem:second-factor-required', status: 401 });
    expect((await t.call('POST', `/2fa/${t.code()}`)).status).toBe(200);
    expect((await t.call('POST', '/account/delete')).status).toBe(200);
    t.tick(15 * 60_000);
    expect((await t.call('POST', '/account/delete')).status).toBe(200); // at maxAge
    t.tick(1);
    expect((await t.call('POST', '/account/delete')).status).toBe(401); // one past
  });

  it('checks permissions first: someone without them gets 403, not the step-up challenge', async () => {
    const t = setup();
    await t.call('POST', '/login/bob');
    const r = await t.call('POST', '/account/delete');
    expect([r.status, r.json<{ detail: string }>().detail]).toEqual([403, 'missing permission: account:delete']);
  });

  it('a wrong or replayed code does not count', async () => {
    const t = setup();
    await t.call('POST', '/login/ann');
    const wrong = t.code() === '000000' ? '000001' : '000000';
    expect((await t.call('POST', `/2fa/${wrong}`)).status).toBe(400);
    expect((await t.call('POST', '/account/delete')).status).toBe(401);
    const code = t.code();
    expect((await t.call('POST', `/2fa/${code}`)).status).toBe(200);
    t.tick(16 * 60_000);
    expect((await t.call('POST', `/2fa/${code}`)).status).toBe(400); // too old, and used
    expect((await t.call('POST', '/account/delete')).status).toBe(401);
  });
});
