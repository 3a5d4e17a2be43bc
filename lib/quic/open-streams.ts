/**
 * A connection's open streams by id (RFC 9000 §2.1). The client's bidirectional streams — one per request,
 * opened and finished by the thousand — sit in a slot table by sequence number (net/stream-table.ts: no
 * rehashing, no allocation per stream); the few unidirectional ones (HTTP/3's control and QPACK streams,
 * open for the connection's life) in a Map.
 */
import { StreamTable } from '../net/stream-table.js';

/**
 * @example
 * ```ts
 * const open = new OpenStreams<QuicStream>(100);
 * open.set(0, stream);
 * open.get(0); // stream
 * ```
 */
export class OpenStreams<S> {
  readonly #bidi: StreamTable<S>;
  readonly #other = new Map<number, S>();

  /** `concurrent`: how many bidirectional streams the client may have open at once (our limit). */
  constructor(concurrent: number) {
    this.#bidi = new StreamTable<S>(2 * concurrent, 2);
  }

  get size(): number {
    return this.#bidi.size + this.#other.size;
  }

  get(id: number): S | undefined {
    return (id & 3) === 0 ? this.#bidi.get(id) : this.#other.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds a stream (not already present). */
  set(id: number, s: S): void {
    if ((id & 3) === 0) this.#bidi.set(id, s);
    else this.#other.set(id, s);
  }

  delete(id: number): boolean {
    return (id & 3) === 0 ? this.#bidi.delete(id) : this.#other.delete(id);
  }

  /** The open streams (a copy: finishing them while going through is safe): unidirectional ones first. */
  values(): S[] {
    const bidi = this.#bidi.values();
    return this.#other.size === 0 ? bidi : [...this.#other.values(), ...bidi];
  }
}
