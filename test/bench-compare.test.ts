/**
 * The regression gate's verdict (bench/compare.mjs, #34): a case is slower only when most paired rounds are
 * over the band — one slow round, or rounds just inside the band, never fail it.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the bench, without type declarations
import { DEFAULT_BAND, quantile, verdict } from '../bench/compare-verdict.mjs';

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
});
