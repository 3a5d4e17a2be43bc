// Paired rounds of two contenders that stay up side by side (a server and its peer, an app and its bare
// baseline): this machine's speed moves by a third within minutes, so only runs seconds apart are compared.
// Pure, so a test can hold it (test/bench-compare.test.ts).
import { quantile } from './compare-verdict.mjs';

/**
 * `rounds` rounds of A B B A (B A A B in the next) of `runA` and `runB` (each may return a promise): per round,
 * A's two results and B's two, in the order run. Each A is run next to a B, and each side goes first as often.
 */
export async function pairedRounds(rounds, runA, runB) {
  const out = [];
  for (let r = 0; r < rounds; r++) {
    const [first, second] = r % 2 === 0 ? [runA, runB] : [runB, runA];
    const t = [await first(), await second(), await second(), await first()];
    out.push(r % 2 === 0 ? { a: [t[0], t[3]], b: [t[1], t[2]] } : { a: [t[1], t[2]], b: [t[0], t[3]] });
  }
  return out;
}

/** Per round of {@link pairedRounds}: A's two `key` values summed, over B's (invert: B's over A's). */
export function roundRatios(rounds, key, invert = false) {
  return rounds.map(({ a, b }) => {
    const ra = a[0][key] + a[1][key];
    const rb = b[0][key] + b[1][key];
    return invert ? rb / ra : ra / rb;
  });
}

/** Medians of `side`'s ('a' or 'b') runs over all rounds: its user and system time per unit, as "user / system". */
export function userSystem(rounds, side, digits) {
  const runs = rounds.flatMap((r) => r[side]);
  const median = (key) => quantile(runs.map((x) => x[key]), 0.5).toFixed(digits);
  return `${median('userUs')} / ${median('sysUs')}`;
}
