/**
 * Password hashes brought from other stacks (#33 point 5), made here by another implementation — Python's
 * crypt (libxcrypt's bcrypt) and hashlib (PBKDF2) — verify with the right password, not with a wrong one,
 * ask to be rehashed, and past the work bounds are refused without the work.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, verifyPassword } from '../../../lib/app/auth/index.js';

const py = (code: string) => execFileSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8' }).trim();
const password = 'correct horse battery';

describe('hashes from elsewhere', () => {
  const bcrypt2b = py(`import crypt; print(crypt.crypt(${JSON.stringify(password)}, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1<<5)))`);
  const django = py(`import hashlib, base64; print('pbkdf2_sha256$1000$pepper$' + base64.b64encode(hashlib.pbkdf2_hmac('sha256', ${JSON.stringify(password)}.encode(), b'pepper', 1000)).decode())`);
  const djangoSha1 = py(`import hashlib, base64; print('pbkdf2_sha1$1000$pepper$' + base64.b64encode(hashlib.pbkdf2_hmac('sha1', ${JSON.stringify(password)}.encode(), b'pepper', 1000)).decode())`);
  const werkzeug = py(`import hashlib; print('pbkdf2:sha256:1000$pepper$' + hashlib.pbkdf2_hmac('sha256', ${JSON.stringify(password)}.encode(), b'pepper', 1000).hex())`);
  const cases: Array<[string, string]> = [
    ['bcrypt $2b$', bcrypt2b],
    ['bcrypt $2y$ (PHP)', bcrypt2b.replace('$2b$', '$2y$')],
    ['bcrypt $2a$', bcrypt2b.replace('$2b$', '$2a$')],
    ["Django's pbkdf2_sha256", django],
    ["Django's pbkdf2_sha1", djangoSha1],
    ["Werkzeug's pbkdf2:sha256", werkzeug],
  ];
  for (const [name, stored] of cases) {
    it(`${name}: the right password verifies, a wrong one does not, and it asks to be rehashed`, async () => {
      expect(await verifyPassword(stored, password)).toBe(true);
      expect(await verifyPassword(stored, `${password}!`)).toBe(false);
      expect(needsRehash(stored)).toBe(true);
    });
  }

  it('rehashed at sign-in, the new hash is ours and verifies', async () => {
    expect(await verifyPassword(django, password)).toBe(true);
    const ours = await hashPassword(password, { algorithm: 'scrypt', ln: 10 });
    expect([ours.startsWith('$scrypt$'), await verifyPassword(ours, password), needsRehash(ours, { algorithm: 'scrypt', ln: 10 })]).toEqual([true, true, false]);
  });

  it('PBKDF2 verifies at 5 000 000 iterations and is refused at one more, though the password is right', async () => {
    const at = (n: number) => py(`import hashlib, base64; print('pbkdf2_sha256$${n}$pepper$' + base64.b64encode(hashlib.pbkdf2_hmac('sha256', ${JSON.stringify(password)}.encode(), b'pepper', ${n})).decode())`);
    expect(await verifyPassword(at(5_000_000), password)).toBe(true);
    expect(await verifyPassword(at(5_000_001), password)).toBe(false);
  }, 60_000);

  it('refuses a bcrypt cost outside 4..16 and malformed hashes', async () => {
    // A cost-17 hash would take libxcrypt seconds to make: the refusal is read from the cost field alone.
    expect(await verifyPassword(bcrypt2b.replace('$05$', '$17$'), password)).toBe(false);
    expect(await verifyPassword(bcrypt2b.replace('$05$', '$03$'), password)).toBe(false); // below bcrypt's minimum
    expect(await verifyPassword(bcrypt2b.slice(0, -1), password)).toBe(false);
    expect(await verifyPassword(django.replace('$1000$', '$0$'), password)).toBe(false);
    expect(await verifyPassword('pbkdf2_sha256$1000$pepper$c2hvcnQ=', password)).toBe(false); // a 5-byte hash
  });
});
