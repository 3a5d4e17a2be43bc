/**
 * Call metadata (PROTOCOL-HTTP2.md, "Custom-Metadata"): lowercase keys of `0-9 a-z _ - .`; a key ending in
 * `-bin` carries bytes, sent base64 (we send it unpadded and read it padded or not); any other carries
 * printable ASCII. Keys starting `grpc-` are the protocol's, and the transport's own headers are not
 * metadata.
 */

/** Headers the transport owns: never read as metadata, never sent from it. */
const RESERVED = new Set(['content-type', 'te', 'host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length', 'user-agent']);
const KEY = /^[0-9a-z_.-]+$/;

/**
 * A metadata key or value that cannot be sent.
 *
 * @example
 * ```ts
 * try {
 *   new Metadata().set('Bad Key', 'x');
 * } catch (err) {
 *   if (err instanceof MetadataError) console.log(err.message); // names the key and the rule
 * }
 * ```
 */
export class MetadataError extends TypeError {
  override name = 'MetadataError';
}

export type MetadataValue = string | Uint8Array;

/**
 * @example
 * ```ts
 * const md = new Metadata().set('x-request-id', 'abc').set('trace-bin', Buffer.from([1, 2, 3]));
 * md.get('x-request-id'); // 'abc'
 * ```
 */
export class Metadata {
  readonly #map = new Map<string, MetadataValue[]>();

  /** Replaces `key`'s values with `value`. */
  set(key: string, value: MetadataValue): this {
    const k = checkKey(key, value);
    this.#map.set(k, [value]);
    return this;
  }

  /** Adds a value to `key`'s. */
  add(key: string, value: MetadataValue): this {
    const k = checkKey(key, value);
    const list = this.#map.get(k);
    if (list === undefined) this.#map.set(k, [value]);
    else list.push(value);
    return this;
  }

  /** The first value of `key`. */
  get(key: string): MetadataValue | undefined {
    return this.#map.get(key.toLowerCase())?.[0];
  }

  getAll(key: string): MetadataValue[] {
    return [...(this.#map.get(key.toLowerCase()) ?? [])];
  }

  has(key: string): boolean {
    return this.#map.has(key.toLowerCase());
  }

  delete(key: string): this {
    this.#map.delete(key.toLowerCase());
    return this;
  }

  get size(): number {
    return this.#map.size;
  }

  *[Symbol.iterator](): IterableIterator<[string, MetadataValue]> {
    for (const [k, vs] of this.#map) for (const v of vs) yield [k, v];
  }

  /** The metadata as header fields (`-bin` values base64, unpadded). */
  toHeaders(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const [k, v] of this) out.push([k, typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64').replace(/=+$/, '')]);
    return out;
  }

  /**
   * Metadata from header fields as `rawHeaders` lists them (name, value, name, value...): the transport's
   * own fields and `grpc-*` are left out; a `-bin` field may hold several comma-separated values.
   */
  static fromHeaders(raw: readonly string[]): Metadata {
    const md = new Metadata();
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i]!.toLowerCase();
      if (k.charCodeAt(0) === 58 /* : */ || RESERVED.has(k) || k.startsWith('grpc-') || !KEY.test(k)) continue;
      const v = raw[i + 1]!;
      const list = md.#map.get(k) ?? [];
      if (k.endsWith('-bin')) for (const part of v.split(',')) list.push(Buffer.from(part.trim(), 'base64'));
      else list.push(v);
      md.#map.set(k, list);
    }
    return md;
  }
}

function checkKey(key: string, value: MetadataValue): string {
  const k = key.toLowerCase();
  if (!KEY.test(k)) throw new MetadataError(`metadata key "${key}" has characters other than 0-9 a-z _ - .`);
  if (k.startsWith('grpc-')) throw new MetadataError(`metadata key "${key}": keys starting grpc- are reserved for the protocol`);
  if (RESERVED.has(k)) throw new MetadataError(`metadata key "${key}" is a transport header`);
  if (k.endsWith('-bin')) {
    if (typeof value === 'string') throw new MetadataError(`metadata key "${key}" ends in -bin: its values are bytes (Uint8Array), not text`);
  } else {
    if (typeof value !== 'string') throw new MetadataError(`metadata key "${key}" takes text; binary values need a key ending in -bin`);
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x20 || c > 0x7e) throw new MetadataError(`metadata "${key}": values are printable ASCII (use a -bin key for other bytes)`);
    }
  }
  return k;
}
