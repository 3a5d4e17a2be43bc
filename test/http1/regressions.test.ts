/**
 * Replays every counterexample the fuzzers ever found (test/http1/regressions/*.json, written by
 * `npm run fuzz`): each must now pass the differential check and be split-invariant.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { differential } from '../../fuzz/http1/differential.js';
import { allSplits, run } from '../../fuzz/http1/events.js';

const dir = join(import.meta.dirname, 'regressions');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('HTTP/1.1 fuzz regressions', () => {
  it('has saved counterexamples to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const f of files) {
    const c = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { input: string; reason: string; expect?: string | null };
    it(`${f}: ${c.reason}`, () => {
      const input = Buffer.from(c.input, 'latin1');
      const d = differential(input);
      expect({ ok: d.ok, reason: d.reason }).toEqual({ ok: true, reason: undefined });
      if (c.expect !== undefined) expect(d.ours.error).toBe(c.expect);
      const whole = run(input);
      for (const s of allSplits(input)) expect(run(input, s).events).toEqual(whole.events);
    });
  }
});
