/**
 * Property suites for the HTTP/1.1 parser (short runs here; `npm run fuzz` runs them long):
 * round trip from a request model, split invariance on valid and mutated input, and the differential
 * check against llhttp.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mutate, mutationArb, requestArb, serialize, splitsArb, type RequestModel } from './http1/arbitraries.js';
import { differential } from './http1/differential.js';
import { run } from './http1/events.js';
import { FUZZ_RUNS, FUZZ_SEED } from './http1/config.js';

const params = { numRuns: FUZZ_RUNS, seed: FUZZ_SEED };

function expected(m: RequestModel) {
  const body = m.body.kind === 'length' ? m.body.data : m.body.kind === 'chunked' ? m.body.chunks.map((c) => c.data).join('') : '';
  return { method: m.method, url: m.target, version: m.version, headers: m.headers.flat(), body };
}

describe('HTTP/1.1 parser properties', () => {
  it('round trip: a serialized request model parses back to the model', () => {
    fc.assert(
      fc.property(requestArb, (m) => {
        const r = run(serialize(m));
        expect(r.error).toBeNull();
        const head = r.events[0];
        if (head?.type !== 'head') throw new Error('no head');
        const body = r.events.filter((e) => e.type === 'body').map((e) => (e.type === 'body' ? e.data : '')).join('');
        const e = expected(m);
        expect({ method: head.method, url: head.url, version: head.version, headers: head.headers, body }).toEqual(e);
        const trailers = r.events.find((x) => x.type === 'trailers');
        if (m.body.kind === 'chunked' && m.body.trailers.length > 0) {
          expect(trailers).toEqual({ type: 'trailers', trailers: m.body.trailers.flat() });
        }
        expect(r.events[r.events.length - 1]).toEqual({ type: 'complete' });
      }),
      params,
    );
  });

  /** Any cut of the bytes gives the same events and verdict as one chunk. */
  const splitInvariant = (inputs: fc.Arbitrary<Buffer>) =>
    fc.assert(
      fc.property(
        inputs.chain((bytes) => fc.tuple(fc.constant(bytes), splitsArb(bytes.length))),
        ([bytes, splits]) => {
          const whole = run(bytes);
          const cut = run(bytes, splits);
          expect(cut.events).toEqual(whole.events);
          expect(cut.error).toBe(whole.error);
        },
      ),
      params,
    );

  it('split invariance: valid pipelines give the same events however they are cut', () => {
    splitInvariant(fc.array(requestArb, { minLength: 1, maxLength: 3 }).map((ms) => Buffer.concat(ms.map(serialize))));
  });

  it('split invariance: mutated input gives the same verdict and events however it is cut', () => {
    splitInvariant(fc.tuple(requestArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 })).map(([m, muts]) => mutate(serialize(m), muts)));
  });

  it('differential vs llhttp: generated valid pipelines agree exactly', () => {
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 3 }), (ms) => {
        const bytes = Buffer.concat(ms.map(serialize));
        const d = differential(bytes);
        expect({ ok: d.ok, reason: d.reason, known: d.known }).toEqual({ ok: true, reason: undefined, known: d.known });
        // Valid requests (with Host, known methods) must not even need a known difference, except data
        // after Connection: close, which llhttp reports and we ignore.
        expect([undefined, 'data-after-close']).toContain(d.known);
      }),
      params,
    );
  });

  it('differential vs llhttp: mutated requests reach the same verdict or a documented difference', () => {
    fc.assert(
      fc.property(requestArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (m, muts) => {
        const bytes = mutate(serialize(m), muts);
        const d = differential(bytes);
        if (!d.ok) {
          throw new Error(`${d.reason}\ninput: ${JSON.stringify(bytes.toString('latin1'))}\nours: ${JSON.stringify(d.ours.error)} llhttp: ${JSON.stringify(d.llhttp.error)}`);
        }
      }),
      params,
    );
  });
});
