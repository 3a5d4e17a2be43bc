// TOTP (#33): the HMAC under each code. RFC 6238 codes are HMAC-SHA1 of an 8-byte counter with a 20-byte key;
// a check computes three (the drift window). node:crypto's createHmac against @noble/hashes' hmac, the same
// inputs, benchmark.js, rounds interleaved; then covet's totpCode (the choice made) for the whole code.
import { createHmac } from 'node:crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { totpCode } from '../dist/lib/app/auth/index.js';
import { fmt, interleavedRounds, log, table, writeSection } from './lib.mjs';

export async function runTotpBench() {
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
  const key = Buffer.alloc(20, 7);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(59_000_000n);
  // Both give the same MAC before being timed.
  if (!Buffer.from(hmac(sha1, key, counter)).equals(createHmac('sha1', key).update(counter).digest())) throw new Error('the two HMACs differ');
  const m = await interleavedRounds(
    [
      ['node:crypto', () => createHmac('sha1', key).update(counter).digest()],
      ['@noble/hashes', () => hmac(sha1, key, counter)],
      ['covet totpCode', () => totpCode(key, 1_770_000_000_000)],
    ],
    ROUNDS,
    (r, hz) => log(`round ${r + 1}: ${Object.entries(hz).map(([k, v]) => `${k} ${fmt(v)}/s`).join(', ')}`),
  );
  writeSection(
    '72-totp',
    `## TOTP: the HMAC under each code (#33; benchmark.js, median of ${ROUNDS} rounds, ${process.version})\n\n` +
      `HMAC-SHA1 of an 8-byte counter under a 20-byte key, as RFC 6238 computes each code (a check computes three).\n\n` +
      table(['what', 'per second'], Object.entries(m).map(([k, v]) => [k, fmt(v)])) +
      `\n\nnode:crypto / @noble/hashes: ${(m['node:crypto'] / m['@noble/hashes']).toFixed(2)}× — covet/app/auth's TOTP uses node:crypto.\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runTotpBench();
