import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseUrlEncoded } from '../../lib/app/context.js';

/** The reference: the WHATWG urlencoded parser (URLSearchParams; a leading '&' keeps a leading '?' as data). */
function reference(text: string): Record<string, string | string[]> {
  const q: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(`&${text}`)) {
    const prev = q[k];
    q[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return q;
}

describe('parseUrlEncoded', () => {
  it('agrees with URLSearchParams on any input (its fast path included)', () => {
    // What a request target can hold (no spaces or '#': the HTTP parser refuses them), plus 'é' for non-ASCII.
    const part = fc.string({ unit: fc.constantFrom('a', 'b', '=', '&', '%', '2', '0', '+', 'é', '?', ';'), maxLength: 30 });
    fc.assert(
      fc.property(part, (text) => {
        expect({ ...parseUrlEncoded(text) }).toEqual(reference(text));
      }),
      { numRuns: 2000 },
    );
    expect({ ...parseUrlEncoded('a=1&a=2&b&=x&c=') }).toEqual({ a: ['1', '2'], b: '', '': 'x', c: '' });
    // Nothing inherited: Object.prototype's keys are ordinary own keys, and no prototype is touched.
    const q = parseUrlEncoded('__proto__=1&constructor=2');
    expect(Object.getPrototypeOf(Object.getPrototypeOf(q))).toBeNull();
    expect(Object.getOwnPropertyNames(Object.getPrototypeOf(q))).toEqual([]);
    expect(Object.keys(q)).toEqual(['__proto__', 'constructor']);
    expect(q.__proto__).toBe('1');
    expect('toString' in q).toBe(false);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });
});
