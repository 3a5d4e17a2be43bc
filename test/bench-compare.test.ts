/**
 * The regression gate's verdict (bench/compare.mjs, #34): a case is slower only when most paired rounds are
 * over the band — one slow round, or rounds just inside the band, never fail it.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the bench, without type declarations
import { DEFAULT_BAND, judge, quantile, verdict } from '../bench/compare-verdict.mjs';
// @ts-expect-error: a plain .mjs module of the bench, without type declarations
import { pairedRounds, roundRatios, userSystem } from '../bench/paired.mjs';

describe('bench/compare verdict', () => {
  it('slower when more than half the rounds are over 1 + band, at the band and one round past it', () => {
    const band = 0.1;
    // 8 of 15 over: slower; 7 of 15: not.
    expect(verdict([...Array(8).fill(1.2), ...Array(7).fill(1.0)], band).result).toBe('slower');
    expect(verdict([...Array(7).fill(1.2), ...Array(8).fill(1.0)], band).result).toBe('same');
    // Half the rounds is not most: 15 of 30 over is the same, 16 of 30 slower.
    expect(verdict([...Array(15).fill(1.2), ...Array(15).fill(1.0)], band).result).toBe('same');
    expect(verdict([...Array(16).fill(1.2), ...Array(14).fill(1.0)], band).result).toBe('slower');
    // Exactly at 1 + band is inside it.
    expect(verdict(Array(15).fill(1.1), band).result).toBe('same');
    expect(verdict(Array(15).fill(1.1001), band).result).toBe('slower');
  });

  it('faster when more than half the rounds are under 1 / (1 + band); the counts and quantiles are reported', () => {
    const v = verdict([0.8, 0.85, 0.88, 1.0, 1.3], 0.1);
    expect(v).toEqual({ median: 0.88, p25: 0.85, p75: 1.0, over: 1, under: 3, rounds: 5, result: 'faster' });
    expect(verdict([1 / 1.1, 1 / 1.1, 1 / 1.1], 0.1).result).toBe('same');
  });

  it('a 20 % slowdown with this machine’s spread is caught at the default band; the spread alone is not', () => {
    // Paired ratios of A against itself spread about ±5 % (bench/results/98-compare.md); a 20 % slowdown
    // moves each of them by 1.2.
    const noise = [0.95, 0.97, 0.98, 0.99, 1.0, 1.0, 1.01, 1.02, 1.03, 1.04, 1.05, 0.96, 1.0, 0.99, 1.02];
    expect(verdict(noise, DEFAULT_BAND).result).toBe('same');
    expect(verdict(noise.map((r) => r * 1.2), DEFAULT_BAND).result).toBe('slower');
  });

  it('quantiles by nearest rank; no rounds is an error', () => {
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
    expect(quantile([4, 1, 3, 2], 0)).toBe(1);
    expect(quantile([4, 1, 3, 2], 1)).toBe(4);
    expect(() => verdict([])).toThrow('no rounds');
  });

  it('a first measure over the band is measured again, and counts only if most pairs are over too', async () => {
    const band = 0.1;
    // CI's false alarm: two unlucky pairs of three (16 of 30 rounds over) with nothing changed.
    const unlucky = [...Array(10).fill(1.18), ...Array(6).fill(1.15), ...Array(4).fill(1.0), ...Array(10).fill(0.97)];
    let asked = 0;
    const pairs = (medians: number[]) => async () => {
      asked++;
      return medians;
    };
    // Ten fresh pairs, four over: the same, and said so.
    const same = await judge(unlucky, pairs([1.15, 1.2, 0.95, 1.0, 1.02, 0.9, 1.12, 1.13, 0.99, 1.01]), band);
    expect(same.result).toBe('same');
    expect(same.said).toBe('same (a second measure: 4/10 pairs)');
    expect(same.over).toBe(16);
    // Six of ten over (most): slower.
    const slow = await judge(unlucky, pairs([1.15, 1.2, 0.95, 1.0, 1.12, 0.9, 1.12, 1.13, 1.11, 1.01]), band);
    expect(slow.result).toBe('slower');
    expect(slow.said).toBe('slower (again: 6/10 pairs)');
    // Five of ten is half, not most.
    expect((await judge(unlucky, pairs([1.15, 1.2, 1.11, 1.12, 1.13, 1, 1, 1, 1, 1]), band)).result).toBe('same');
    expect(asked).toBe(3);
    // Not over in the first measure: no second one.
    const quiet = await judge([...Array(15).fill(1.2), ...Array(15).fill(1.0)], pairs([2, 2, 2]), band);
    expect(quiet).toMatchObject({ result: 'same', said: 'same', over: 15 });
    expect((await judge(Array(30).fill(0.8), pairs([2, 2, 2]), band)).said).toBe('faster');
    expect(asked).toBe(3);
  });

  it('paired rounds run A B B A then B A A B, and give each round A’s two results and B’s in the order run', async () => {
    const order: string[] = [];
    let n = 0;
    const run = (side: string) => async () => {
      order.push(side);
      return { side, n: ++n };
    };
    const rounds = await pairedRounds(3, run('A'), run('B'));
    expect(order.join('')).toBe('ABBABAABABBA');
    expect(rounds.map((r: { a: { n: number }[]; b: { n: number }[] }) => [r.a.map((x) => x.n), r.b.map((x) => x.n)])).toEqual([
      [[1, 4], [2, 3]],
      [[6, 7], [5, 8]],
      [[9, 12], [10, 11]],
    ]);
    // Per round: A's sum over B's, or inverted.
    const r = [{ a: [{ v: 3 }, { v: 5 }], b: [{ v: 2 }, { v: 2 }] }];
    expect(roundRatios(r, 'v')).toEqual([2]);
    expect(roundRatios(r, 'v', true)).toEqual([0.5]);
    // One side's user and system medians over all its runs, as "user / system".
    const t = [
      { a: [{ userUs: 1, sysUs: 9 }, { userUs: 3, sysUs: 7 }], b: [{ userUs: 50, sysUs: 50 }, { userUs: 50, sysUs: 50 }] },
      { a: [{ userUs: 2, sysUs: 8 }, { userUs: 2.5, sysUs: 8.5 }], b: [{ userUs: 50, sysUs: 50 }, { userUs: 50, sysUs: 50 }] },
    ];
    expect(userSystem(t, 'a', 1)).toBe('2.5 / 8.5');
    expect(userSystem(t, 'b', 2)).toBe('50.00 / 50.00');
  });
});
