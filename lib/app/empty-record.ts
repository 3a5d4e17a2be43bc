/**
 * A record with no inherited keys whose properties stay in V8's fast mode. `Object.create(null)` makes a
 * dictionary-mode object (every store a hash insert); an instance of a constructor whose prototype is a
 * frozen null-prototype object inherits nothing — `__proto__`, `constructor`, `toString` are ordinary own
 * keys on it — and keeps fast properties (the trick of fast-querystring and find-my-way).
 *
 * @example
 * ```ts
 * const q = emptyRecord<string>();
 * q['__proto__'] = 'x'; // an own property; no prototype is touched
 * ```
 */
export function emptyRecord<V>(): Record<string, V> {
  return new EmptyRecord() as Record<string, V>;
}

const EmptyRecord = function EmptyRecord(this: object) {} as unknown as new () => object;
EmptyRecord.prototype = Object.freeze(Object.create(null) as object);
