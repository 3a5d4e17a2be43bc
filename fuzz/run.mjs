#!/usr/bin/env node
// Long fuzz runs (`npm run fuzz`): the HTTP/1.1 differential fuzzer (ours vs llhttp) on mutated requests
// and the split-invariance property, in batches with a progress line. Stops after FUZZ_SECONDS (default
// 60) or FUZZ_COUNT inputs. A counterexample is saved to test/http1/regressions/<hash>.json, which
// test/http1/regressions.test.ts replays in `npm test`, and the run exits 1.
import { createHash } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { mutate, mutationArb, requestArb, serialize, splitsArb } from '../dist/fuzz/http1/arbitraries.js';
import { differential } from '../dist/fuzz/http1/differential.js';
import { run } from '../dist/fuzz/http1/events.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
const maxCount = Number(process.env.FUZZ_COUNT ?? Infinity);
const batch = 2000;

const inputArb = fc.oneof(
  { weight: 1, arbitrary: fc.array(requestArb, { minLength: 1, maxLength: 3 }).map((ms) => Buffer.concat(ms.map(serialize))) },
  { weight: 4, arbitrary: fc.tuple(requestArb, fc.array(mutationArb, { minLength: 1, maxLength: 5 })).map(([m, muts]) => mutate(serialize(m), muts)) },
);
const caseArb = inputArb.chain((bytes) => fc.tuple(fc.constant(bytes), splitsArb(bytes.length)));

const known = new Map();
let total = 0;
const started = Date.now();
let lastReport = 0;

function save(bytes, reason, details) {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const file = join(root, 'test/http1/regressions', `${hash}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ input: bytes.toString('latin1'), reason, ...details, found: new Date().toISOString() }, null, 2)}\n`);
  return file;
}

while ((Date.now() - started) / 1000 < seconds && total < maxCount) {
  const seed = (Math.random() * 2 ** 31) | 0;
  let failure = null;
  const result = fc.check(
    fc.property(caseArb, ([bytes, splits]) => {
      const d = differential(bytes);
      if (!d.ok) {
        failure = { bytes, reason: d.reason, details: { ours: d.ours.error, llhttp: d.llhttp.error } };
        return false;
      }
      if (d.known) known.set(d.known, (known.get(d.known) ?? 0) + 1);
      const whole = run(bytes);
      const cut = run(bytes, splits);
      if (JSON.stringify(whole.events) !== JSON.stringify(cut.events) || whole.error !== cut.error) {
        failure = { bytes, reason: `split invariance broken at ${JSON.stringify(splits)}`, details: { whole: whole.error, cut: cut.error } };
        return false;
      }
      return true;
    }),
    { numRuns: batch, seed, endOnFailure: true },
  );
  total += result.numRuns;
  const rate = Math.round(total / ((Date.now() - started) / 1000));
  const hist = [...known].map(([k, v]) => `${k}:${v}`).join(' ');
  if (Date.now() - lastReport < 5000 && !result.failed) continue;
  lastReport = Date.now();
  process.stdout.write(`fuzz http1: ${total} inputs, ${rate}/s, ${Math.round((Date.now() - started) / 1000)}s | documented differences seen: ${hist || 'none'}\n`);
  if (result.failed) {
    const f = failure;
    const file = f ? save(f.bytes, f.reason, { ...f.details, seed }) : null;
    console.error(`\nCOUNTEREXAMPLE (seed ${seed}): ${f?.reason}\n${JSON.stringify(f?.bytes.toString('latin1'))}\nsaved to ${file}`);
    process.exit(1);
  }
}
console.log(`fuzz http1: done, ${total} inputs, no counterexample`);
