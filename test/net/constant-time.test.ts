/**
 * The one constant-time comparison (#29: it was written out in seven places): equal bytes, unequal bytes,
 * strings as UTF-8, and unequal lengths answered false — where node:crypto's timingSafeEqual throws.
 */
import { expect, it } from 'vitest';
import { MemoryRefreshStore, RefreshTokens } from '../../lib/app/auth/index.js';
import { constantTimeEqual } from '../../lib/net/constant-time.js';

it('compares bytes and strings; a length mismatch is false, not a RangeError', () => {
  expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
  expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abd'))).toBe(false);
  expect(constantTimeEqual('é', Buffer.from([0xc3, 0xa9]))).toBe(true);
  expect(constantTimeEqual('é', 'e')).toBe(false);
  expect(constantTimeEqual(new Uint8Array(32), new Uint8Array(31))).toBe(false);
  expect(constantTimeEqual('', '')).toBe(true);
});

it('a refresh token whose stored hash has another length is refused, not a 500', async () => {
  const store = new MemoryRefreshStore();
  const rt = new RefreshTokens(store);
  const { token } = await rt.issue('u1');
  const id = token.slice(0, token.indexOf('.'));
  const rec = (await store.get(id))!;
  await store.put(id, { ...rec, hash: rec.hash.slice(0, 40) }); // a truncated record
  await expect(rt.rotate(token)).rejects.toMatchObject({ name: 'JwtError', code: 'BAD_SIGNATURE' });
});
