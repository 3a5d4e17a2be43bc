// The regression gate's arithmetic (bench/compare.mjs), pure so a test can hold it
// (test/bench-compare.test.ts).

/** The default noise band: a case is slower only when B/A is above 1 + band in most rounds. */
export const DEFAULT_BAND = 0.1;

/** The value at fraction `f` of the sorted values (nearest rank). */
export function quantile(values, f) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round((s.length - 1) * f)))];
}

/**
 * The verdict on one case from its paired ratios (B's time / A's time, one per round): `slower` when
 * more than half the rounds are above 1 + band, `faster` when more than half are below 1 / (1 + band),
 * else `same`. Paired ratios cancel the machine's drift (both halves of a pair ran back to back).
 */
export function verdict(ratios, band = DEFAULT_BAND) {
  if (ratios.length === 0) throw new Error('no rounds to judge');
  const over = ratios.filter((r) => r > 1 + band).length;
  const under = ratios.filter((r) => r < 1 / (1 + band)).length;
  const half = ratios.length / 2;
  return {
    median: quantile(ratios, 0.5),
    p25: quantile(ratios, 0.25),
    p75: quantile(ratios, 0.75),
    over,
    under,
    rounds: ratios.length,
    result: over > half ? 'slower' : under > half ? 'faster' : 'same',
  };
}

/**
 * The gate's verdict on one case: `first` is a measure's per-round ratios; when most of them are over the
 * band, `again()` measures the case a second time in fresh pairs of processes and returns each pair's
 * median ratio, and the case is slower only if most pairs are over too. Rounds of one pair share that
 * pair's luck (how its processes' young generations grew, what the JIT made), so a first measure over three pairs can be
 * two unlucky pairs; the second counts pairs, not rounds (bench/results/98-compare.md).
 */
export async function judge(first, again, band = DEFAULT_BAND) {
  const v = verdict(first, band);
  if (v.result !== 'slower') return { ...v, said: v.result };
  const second = verdict(await again(), band);
  if (second.result === 'slower') return { ...v, said: `slower (again: ${second.over}/${second.rounds} pairs)` };
  return { ...v, result: 'same', said: `same (a second measure: ${second.over}/${second.rounds} pairs)` };
}
