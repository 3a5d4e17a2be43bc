/**
 * `grpc-timeout` (PROTOCOL-HTTP2.md: TimeoutValue of at most 8 ASCII digits, then a unit: H hours,
 * M minutes, S seconds, m milliseconds, u microseconds, n nanoseconds).
 */

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/**
 * Milliseconds from a `grpc-timeout` value, or null when it is not one.
 *
 * @example
 * ```ts
 * parseGrpcTimeout('100m'); // 100
 * parseGrpcTimeout('5S');   // 5000
 * parseGrpcTimeout('5s');   // null: not a unit (units are H M S m u n)
 * ```
 */
export function parseGrpcTimeout(value: string): number | null {
  const n = value.length;
  if (n < 2 || n > 9) return null;
  const unit = UNIT_MS[value[n - 1]!];
  if (unit === undefined) return null;
  let v = 0;
  for (let i = 0; i < n - 1; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return v * unit;
}

/**
 * A `grpc-timeout` value for `ms` milliseconds: the finest unit that fits in 8 digits, rounded up.
 *
 * @example
 * ```ts
 * formatGrpcTimeout(1500); // '1500000u'
 * ```
 */
export function formatGrpcTimeout(ms: number): string {
  if (!(ms > 0)) return '0n';
  const units: Array<[string, number]> = [['n', 0.000_001], ['u', 0.001], ['m', 1], ['S', 1000], ['M', 60_000], ['H', 3_600_000]];
  for (const [u, size] of units) {
    const v = Math.ceil(ms / size);
    if (v < 100_000_000) return `${v}${u}`;
  }
  return '99999999H';
}
