/**
 * TOTP (RFC 6238) and recovery codes: the RFC's test vectors for every hash, base32 round trips, the drift
 * window at its edge and one past, replay refused (the same code, and any earlier one), the otpauth URI an
 * authenticator app reads, and recovery codes that work once and are stored only as hashes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, generateTotpSecret, matchRecoveryCode, otpauthUri, recoveryCodes, totpCode, TotpVerifier } from '../../../lib/app/auth/index.js';

// RFC 6238 Appendix B: the seeds are ASCII "1234567890" repeated to the hash's size.
const seed = (n: number) => Buffer.from('1234567890'.repeat(7).slice(0, n));
const VECTORS: Array<[number, string, string, string]> = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('TOTP', () => {
  it("gives RFC 6238's codes for SHA-1, SHA-256 and SHA-512", () => {
    for (const [t, sha1, sha256, sha512] of VECTORS) {
      expect(totpCode(seed(20), t * 1000, { digits: 8 })).toBe(sha1);
      expect(totpCode(seed(32), t * 1000, { digits: 8, algorithm: 'sha256' })).toBe(sha256);
      expect(totpCode(seed(64), t * 1000, { digits: 8, algorithm: 'sha512' })).toBe(sha512);
    }
  });

  it('base32 round-trips any bytes, and secrets are 20 random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(base32Decode(base32Encode(b))).toEqual(Buffer.from(b));
      }),
    );
    expect(base32Encode(Buffer.from('12345678901234567890'))).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq====')).toEqual(Buffer.from('12345678901234567890'));
    expect(() => base32Decode('GEZ1')).toThrow('not base32');
    expect(base32Decode(generateTotpSecret()).length).toBe(20);
  });

  it('accepts the window around now and not one step past it; a code is used once, and no earlier one after it', async () => {
    let now = 1_700_000_000_000;
    const v = new TotpVerifier({ window: 1, now: () => now });
    const secret = generateTotpSecret();
    const at = (stepsFromNow: number) => totpCode(secret, now + stepsFromNow * 30_000);
    expect(await v.verify('ann', secret, at(2))).toBe(false); // one past the window
    expect(await v.verify('ann', secret, at(-2))).toBe(false);
    expect(await v.verify('ann', secret, at(-1))).toBe(true); // the window's edge
    expect(await v.verify('ann', secret, at(-1))).toBe(false); // replayed
    expect(await v.verify('ann', secret, at(1))).toBe(true);
    expect(await v.verify('ann', secret, at(0))).toBe(false); // earlier than the last accepted step
    now += 60_000;
    expect(await v.verify('ann', secret, at(0))).toBe(true); // a later step
    expect(await v.verify('bob', secret, at(0))).toBe(true); // users are apart
    expect(await v.verify('ann', secret, '12345')).toBe(false); // wrong length
    expect(await v.verify('ann', secret, 'abcdef')).toBe(false);
  });

  it('writes the otpauth URI authenticator apps read', () => {
    const uri = new URL(otpauthUri({ secret: 'GEZDGNBVGY3TQOJQ', issuer: 'Notes & Co', account: 'ann@example.com' }));
    expect([uri.protocol, uri.host, decodeURIComponent(uri.pathname)]).toEqual(['otpauth:', 'totp', '/Notes & Co:ann@example.com']);
    expect(Object.fromEntries(uri.searchParams)).toEqual({ secret: 'GEZDGNBVGY3TQOJQ', issuer: 'Notes & Co', algorithm: 'SHA1', digits: '6', period: '30' });
  });
});

describe('recovery codes', () => {
  it('are stored as hashes only, match once each (case and dashes aside), and unknown codes match nothing', () => {
    const { codes, hashes } = recoveryCodes(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(hashes.join()).not.toContain(c.replace('-', ''));
    const left = [...hashes];
    const i = matchRecoveryCode(codes[3]!.toUpperCase().replace('-', ''), left);
    expect(i).toBe(3);
    left.splice(i, 1); // used: removed
    expect(matchRecoveryCode(codes[3]!, left)).toBe(-1);
    expect(matchRecoveryCode('nope-nope0', left)).toBe(-1);
  });
});
