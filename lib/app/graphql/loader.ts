/**
 * Batching per request (DataLoader's idea): `load(key)` calls made in the same tick are answered by one
 * call of the batch function, and each key is loaded once per loader. Resolvers of a list's items then
 * ask for their related rows one by one and the database sees one query.
 *
 * @example
 * ```ts
 * const users = new Loader<number, User | undefined>(async (ids) => {
 *   const rows = await orm.users.findMany({ where: { id: { in: [...ids] } } });
 *   return ids.map((id) => rows.find((u) => u.id === id));
 * });
 * const [a, b] = await Promise.all([users.load(1), users.load(2)]); // one query
 * ```
 */
export class Loader<K, V> {
  readonly #batch: (keys: readonly K[]) => Promise<readonly V[]>;
  readonly #cache = new Map<K, Promise<V>>();
  #queue: Array<{ key: K; resolve: (v: V) => void; reject: (e: unknown) => void }> | null = null;
  readonly #max: number;

  /** `batch` answers the keys in their order (one value per key). `maxBatch` splits very long batches. */
  constructor(batch: (keys: readonly K[]) => Promise<readonly V[]>, options: { maxBatch?: number } = {}) {
    this.#batch = batch;
    this.#max = Math.max(1, options.maxBatch ?? 1000);
  }

  load(key: K): Promise<V> {
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    const p = new Promise<V>((resolve, reject) => {
      if (this.#queue === null) {
        this.#queue = [];
        // After the current tick's resolvers have all asked.
        process.nextTick(() => void this.#dispatch());
      }
      this.#queue.push({ key, resolve, reject });
    });
    this.#cache.set(key, p);
    return p;
  }

  loadMany(keys: readonly K[]): Promise<V[]> {
    return Promise.all(keys.map((k) => this.load(k)));
  }

  /** Forgets a key (after a write), or every key. */
  clear(key?: K): void {
    if (key === undefined) this.#cache.clear();
    else this.#cache.delete(key);
  }

  async #dispatch(): Promise<void> {
    const queue = this.#queue!;
    this.#queue = null;
    for (let i = 0; i < queue.length; i += this.#max) {
      const part = queue.slice(i, i + this.#max);
      try {
        const values = await this.#batch(part.map((q) => q.key));
        if (values.length !== part.length) throw new Error(`a loader's batch function returned ${values.length} values for ${part.length} keys`);
        part.forEach((q, j) => q.resolve(values[j]!));
      } catch (err) {
        for (const q of part) {
          this.#cache.delete(q.key);
          q.reject(err);
        }
      }
    }
  }
}

/**
 * A loader of rows by a column (`id`, or a foreign key for has-many): one `in` query per batch.
 *
 * @example
 * ```ts
 * const userById = rowsBy(orm.users, 'id');           // Loader<number, User | undefined>
 * const notesByOwner = rowsBy(orm.notes, 'ownerId', true); // Loader<number, Note[]>
 * ```
 */
export function rowsBy<R extends Record<string, unknown>, K extends keyof R & string>(repo: { findMany(options: { where: Record<string, unknown> }): Promise<R[]> }, column: K, many?: false): Loader<R[K], R | undefined>;
export function rowsBy<R extends Record<string, unknown>, K extends keyof R & string>(repo: { findMany(options: { where: Record<string, unknown> }): Promise<R[]> }, column: K, many: true): Loader<R[K], R[]>;
export function rowsBy<R extends Record<string, unknown>, K extends keyof R & string>(repo: { findMany(options: { where: Record<string, unknown> }): Promise<R[]> }, column: K, many = false): Loader<R[K], R | undefined | R[]> {
  return new Loader<R[K], R | undefined | R[]>(async (keys) => {
    const rows = await repo.findMany({ where: { [column]: { in: [...new Set(keys)] } } });
    const by = new Map<unknown, R[]>();
    for (const r of rows) {
      const k = r[column];
      const list = by.get(k);
      if (list === undefined) by.set(k, [r]);
      else list.push(r);
    }
    return keys.map((k) => (many ? (by.get(k) ?? []) : by.get(k)?.[0]));
  });
}
