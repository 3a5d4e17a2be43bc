/**
 * A millisecond clock read at most once per millisecond: hot cache paths compare deadlines on every
 * hit, and `Date.now()` costs more than the rest of a hit. The cached reading is dropped by a timer
 * (unref'd) a millisecond later, as lru-cache does with `ttlResolution`.
 */
let cached = 0;
const reset = (): void => {
  cached = 0;
};

export function coarseNow(): number {
  if (cached === 0) {
    cached = Date.now();
    setTimeout(reset, 1).unref();
  }
  return cached;
}
