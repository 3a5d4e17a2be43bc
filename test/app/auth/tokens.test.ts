import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, hashPassword, MemoryRefreshStore, needsRehash, RedisRefreshStore, RedisRevocationList, RefreshTokens, verifyApiKey, verifyPassword, type RefreshStore } from '../../../lib/app/auth/index.js';
import { testRedis } from './helpers.js';

describe('passwords', () => {
  it('scrypt and argon2id hashes verify, reject wrong passwords, and report when to rehash', async () => {
    const weakScrypt = { algorithm: 'scrypt', ln: 10, r: 8, p: 1 } as const;
    const s = await hashPassword('correct horse', weakScrypt);
    expect(s).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(await verifyPassword(s, 'correct horse')).toBe(true);
    expect(await verifyPassword(s, 'correct horsf')).toBe(false);
    expect(needsRehash(s, weakScrypt)).toBe(false);
    expect(needsRehash(s)).toBe(true); // the default policy (ln=17) is stronger
    const a = await hashPassword('pässword', { algorithm: 'argon2id', m: 256, t: 2, p: 1 });
    expect(a).toMatch(/^\$argon2id\$v=19\$m=256,t=2,p=1\$/);
    expect(await verifyPassword(a, 'pässword')).toBe(true);
    expect(await verifyPassword(a, 'password')).toBe(false);
    expect(needsRehash(a, { algorithm: 'argon2id', m: 19456 })).toBe(true);
    expect(needsRehash(a, weakScrypt)).toBe(true);
    // Two hashes of one password differ (fresh salt); malformed hashes verify nothing.
    expect(await hashPassword('x', weakScrypt)).not.toBe(await hashPassword('x', weakScrypt));
    expect(await verifyPassword('$scrypt$ln=10$bad', 'x')).toBe(false);
    expect(await verifyPassword('$scrypt$ln=99,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'x')).toBe(false);
  });
});

describe('API keys', () => {
  it('are found by id, verified against a hash in constant time, and carry scopes', async () => {
    const { key, record } = createApiKey('cvt', ['notes:read']);
    expect(key).toMatch(/^cvt_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    // The secret is everything after the id (it may itself contain '_': base64url).
    const secret = key.slice('cvt_'.length + 12 + 1);
    expect(secret).toHaveLength(43);
    expect(record.hash).not.toContain(secret);
    const store = { find: (id: string) => (id === record.id ? record : null) };
    expect(await verifyApiKey(key, store)).toEqual(record);
    expect(await verifyApiKey(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'), store)).toBeNull();
    expect(await verifyApiKey(key, store, 'other')).toBeNull();
    expect(await verifyApiKey('cvt_nope', store)).toBeNull();
  });
});

for (const kind of ['memory', 'redis'] as const) {
  describe(`refresh tokens (${kind})`, () => {
    let store: RefreshStore;
    let r: ReturnType<typeof testRedis> | undefined;
    beforeAll(() => {
      if (kind === 'redis') {
        r = testRedis();
        store = new RedisRefreshStore(r.redis, r.prefix);
      } else store = new MemoryRefreshStore();
    });
    afterAll(async () => {
      await r?.cleanup();
    });

    it('rotate, and a reused token revokes its whole family', async () => {
      const rt = new RefreshTokens(store, { ttlSec: 60 });
      const { token: t1 } = await rt.issue('user-1');
      const { token: t2, subject } = await rt.rotate(t1);
      expect(subject).toBe('user-1');
      const { token: t3 } = await rt.rotate(t2);
      // t1 again: stolen and replayed → the family (t3 included) is revoked.
      await expect(rt.rotate(t1)).rejects.toMatchObject({ code: 'REVOKED' });
      await expect(rt.rotate(t3)).rejects.toMatchObject({ code: 'REVOKED' });
      // Another login is unaffected; forged and unknown tokens fail.
      const other = await rt.issue('user-1');
      await expect(rt.rotate(`${other.token.split('.')[0]}.forged`)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
      await expect(rt.rotate('nope.nope')).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
      const next = await rt.rotate(other.token);
      await rt.revoke(next.token);
      await expect(rt.rotate(next.token)).rejects.toMatchObject({ code: 'REVOKED' });
    });

    it('two racing uses of one token: exactly one wins', async () => {
      const rt = new RefreshTokens(store);
      const { token } = await rt.issue('u');
      const results = await Promise.allSettled([rt.rotate(token), rt.rotate(token), rt.rotate(token)]);
      expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    });
  });
}

describe('Redis revocation list', () => {
  it('remembers revoked ids until they expire', async () => {
    const r = testRedis();
    try {
      const list = new RedisRevocationList(r.redis, r.prefix);
      await list.revoke('a', Date.now() / 1000 + 60);
      await list.revoke('b', Date.now() / 1000 + 1);
      expect([await list.isRevoked('a'), await list.isRevoked('b'), await list.isRevoked('c')]).toEqual([true, true, false]);
      expect(await r.redis.ttl(`${r.prefix}jti:a`)).toBeGreaterThan(50);
    } finally {
      await r.cleanup();
    }
  });
});
