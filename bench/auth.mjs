// Auth bench (benchmark.js, ops/s, median of rounds): JWT verification for HS256, RS256, ES256, EdDSA —
// ours vs fast-jwt and jose (same tokens, same keys, each library's recommended verifier set up once);
// then the rate limiter's cost per check, in memory and against the local Redis (pipelined).
import { generateKeyPairSync } from 'node:crypto';
import Benchmark from 'benchmark';
import { createVerifier } from 'fast-jwt';
import * as jose from 'jose';
import { Redis } from 'ioredis';
import { importKey, JwtVerifier, MemoryLimiter, RedisLimiter, signJwt } from '../dist/lib/app/auth/index.js';
import { fmt, log, table, writeSection } from './lib.mjs';

function material(alg) {
  if (alg === 'HS256') {
    const secret = Buffer.alloc(32, 9);
    return { sign: secret, verify: secret, josePub: secret };
  }
  const pair = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { sign: pair.privateKey, verify: pair.publicKey, josePub: pair.publicKey, pem: pair.publicKey.export({ type: 'spki', format: 'pem' }) };
}

export async function runAuthBench() {
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const rows = [];
  for (const alg of ['HS256', 'RS256', 'ES256', 'EdDSA']) {
    const m = material(alg);
    const token = signJwt({ sub: 'user-42', scope: 'notes:read notes:write', aud: 'api' }, importKey(m.sign, [alg]), { expiresIn: 3600, issuer: 'covet' });
    const ours = new JwtVerifier({ keys: [importKey(m.verify, [alg])], issuer: 'covet', audience: 'api' });
    const fast = createVerifier({ key: alg === 'HS256' ? m.verify : m.pem, algorithms: [alg], allowedIss: 'covet', allowedAud: 'api', cache: false });
    const jkey = m.josePub;
    // Each must accept the token before being timed.
    ours.verifySync(token);
    fast(token);
    await jose.jwtVerify(token, jkey, { issuer: 'covet', audience: 'api', algorithms: [alg] });
    const runs = { covet: [], 'fast-jwt': [], jose: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const contenders = [
        ['covet', () => ours.verifySync(token), false],
        ['fast-jwt', () => fast(token), false],
        ['jose', (d) => jose.jwtVerify(token, jkey, { issuer: 'covet', audience: 'api', algorithms: [alg] }).then(() => d.resolve()), true],
      ];
      // The order rotates every round: whoever runs first in a round is not always the same library.
      for (let k = 0; k < contenders.length; k++) {
        const [who, fn, defer] = contenders[(k + r) % contenders.length];
        const b = new Benchmark(who, defer ? { defer: true, fn } : fn);
        b.options.maxTime = 1.5;
        await new Promise((resolve) => b.on('complete', resolve).run({ async: true }));
        runs[who].push(b.hz);
        log(`  ${alg} round ${r + 1}: ${who} ${fmt(b.hz)} verifies/s`);
      }
    }
    const med = (l) => l.slice().sort((a, b) => a - b)[Math.floor(l.length / 2)];
    const [c, f, j] = ['covet', 'fast-jwt', 'jose'].map((k) => med(runs[k]));
    rows.push([alg, fmt(c), fmt(f), fmt(j), `${(c / f).toFixed(2)}×`, `${(c / j).toFixed(2)}×`]);
  }
  // Rate limiting: memory (sync) per check, and Redis with 64 checks in flight (ioredis pipelines them).
  const mem = new MemoryLimiter({ kind: 'fixed-window', limit: 1e9, windowMs: 60_000 });
  const memSliding = new MemoryLimiter({ kind: 'sliding-window', limit: 100, windowMs: 1 });
  const memBucket = new MemoryLimiter({ kind: 'token-bucket', capacity: 1e9, refillPerSec: 1e9 });
  const keys = Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  const perCheck = (limiter) => {
    const N = 2_000_000;
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) limiter.check(keys[i % 1000]);
    return Number(process.hrtime.bigint() - t) / N;
  };
  const memNs = { fixed: [], sliding: [], bucket: [] };
  for (let r = 0; r < ROUNDS; r++) {
    memNs.fixed.push(perCheck(mem));
    memNs.sliding.push(perCheck(memSliding));
    memNs.bucket.push(perCheck(memBucket));
  }
  const redis = new Redis('redis://127.0.0.1:6379');
  const rl = new RedisLimiter(redis, { kind: 'fixed-window', limit: 1e9, windowMs: 60_000 }, { prefix: `covet-bench:${process.pid}:` });
  let redisRate = 0;
  try {
    await rl.check('warm');
    const end = Date.now() + 2000;
    let n = 0;
    const t0 = process.hrtime.bigint();
    while (Date.now() < end) {
      await Promise.all(Array.from({ length: 64 }, (_, i) => rl.check(keys[(n + i) % 1000])));
      n += 64;
    }
    redisRate = n / (Number(process.hrtime.bigint() - t0) / 1e9);
    const leftovers = await redis.keys(`covet-bench:${process.pid}:*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
  } finally {
    redis.disconnect();
  }
  const medN = (l) => l.slice().sort((a, b) => a - b)[Math.floor(l.length / 2)];
  writeSection(
    '85-auth',
    `## Auth (benchmark.js, median of ${ROUNDS} rounds)\n\n` +
      `JWT verification of the same token (signature + iss/aud/exp checks), verifies/s; fast-jwt without its cache; the running order rotates each round. Target: ≥ the faster of fast-jwt and jose for each algorithm.\n\n` +
      table(['alg', 'covet', 'fast-jwt', 'jose', 'vs fast-jwt', 'vs jose'], rows) +
      `\nRate limit check, in memory (1,000 keys round-robin): fixed window ${medN(memNs.fixed).toFixed(0)} ns, sliding window (limit 100) ${medN(memNs.sliding).toFixed(0)} ns, token bucket ${medN(memNs.bucket).toFixed(0)} ns per check (target < 1 µs). ` +
      `Redis-backed (Lua, 64 in flight, one connection): ${fmt(redisRate)} checks/s = ${(1e6 / redisRate).toFixed(1)} µs per check.\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runAuthBench();
