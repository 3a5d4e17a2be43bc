/**
 * Reassembling a byte stream from frames that arrive in any order, overlapping, repeated (RFC 9000 §2.2 for
 * STREAM data, §19.6 for CRYPTO): bytes are handed on in order as soon as they are contiguous; what waits
 * out of order is bounded (`maxBuffered`: past it, CRYPTO_BUFFER_EXCEEDED / FLOW_CONTROL_ERROR for the
 * caller); the final size, once known, may not change and no byte may lie past it (§4.5, FINAL_SIZE_ERROR).
 */

/**
 * A breach of the stream's rules, with the transport error code it calls for (RFC 9000 §20.1).
 *
 * @example
 * ```ts
 * try {
 *   reassembly.push(offset, data, fin);
 * } catch (err) {
 *   if (err instanceof StreamDataError) closeWith(err.code, err.message); // e.g. FINAL_SIZE_ERROR
 * }
 * ```
 */
export class StreamDataError extends Error {
  override name = 'StreamDataError';
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

export const FINAL_SIZE_ERROR = 0x06;
/** The shared empty list of a stream with nothing out of order (never written to: #insert replaces it). */
const NONE: Array<[number, Buffer]> = [];

export const BUFFER_EXCEEDED = 0x0d; // CRYPTO_BUFFER_EXCEEDED; a stream's caller reports FLOW_CONTROL_ERROR (0x03)

/**
 * @example
 * ```ts
 * const r = new Reassembly(64 * 1024);
 * r.push(5, Buffer.from('world'));
 * r.push(0, Buffer.from('hello')); // ['hello', 'world'] come out now
 * ```
 */
export class Reassembly<T = unknown> {
  /** Bytes handed on so far (the next offset expected). */
  delivered = 0;
  /** The final size, once a FIN told it. */
  finalSize: number | null = null;
  readonly #max: number;
  readonly #onData: (this: T, chunk: Buffer) => void;
  /** `this` for `onData`: one shared function serves every stream (no closure per stream). */
  readonly #target: T;
  /** Out-of-order pieces by offset, none overlapping one another or what was delivered (most streams: none). */
  #pending: Array<[number, Buffer]> = NONE;
  #buffered = 0;

  constructor(maxBuffered: number, onData: (this: T, chunk: Buffer) => void, target?: T) {
    this.#max = maxBuffered;
    this.#onData = onData;
    this.#target = target as T;
  }

  /** Bytes waiting out of order. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Whether every byte up to the final size was handed on. */
  get complete(): boolean {
    return this.finalSize !== null && this.delivered === this.finalSize;
  }

  /** Data at `offset` (and the end of the stream at offset + length when `fin`). */
  push(offset: number, data: Buffer, fin = false): void {
    const end = offset + data.length;
    if (fin) {
      if (this.finalSize !== null && this.finalSize !== end) throw new StreamDataError(FINAL_SIZE_ERROR, `the final size changed from ${this.finalSize} to ${end}`);
      if (end < this.delivered || (this.#pending.length > 0 && this.#pending.some(([o, b]) => o + b.length > end))) throw new StreamDataError(FINAL_SIZE_ERROR, `a final size of ${end} below data already received`);
      this.finalSize = end;
    } else if (this.finalSize !== null && end > this.finalSize) throw new StreamDataError(FINAL_SIZE_ERROR, `data past the final size ${this.finalSize}`);
    // The common case, data in order with nothing waiting: handed on as it is.
    if (offset === this.delivered && this.#pending.length === 0) {
      if (end === offset) return;
      this.delivered = end;
      this.#onData.call(this.#target, data);
      return;
    }
    // What was already delivered is dropped; the rest is cut into the gaps between pending pieces.
    let start = Math.max(offset, this.delivered);
    if (start >= end) return;
    const pieces: Array<[number, Buffer]> = [];
    for (const [o, b] of this.#pending) {
      const e = o + b.length;
      if (e <= start) continue;
      if (o >= end) break;
      if (o > start) pieces.push([start, data.subarray(start - offset, o - offset)]);
      start = Math.max(start, e);
      if (start >= end) break;
    }
    if (start < end) pieces.push([start, data.subarray(start - offset)]);
    for (const [o, b] of pieces) {
      if (o === this.delivered) {
        this.delivered += b.length;
        this.#onData.call(this.#target, b);
      } else {
        this.#buffered += b.length;
        if (this.#buffered > this.#max) throw new StreamDataError(BUFFER_EXCEEDED, `more than ${this.#max} bytes waiting out of order`);
        this.#insert(o, Buffer.from(b)); // kept: the caller's buffer may be reused
      }
    }
    // Pending pieces that now follow what was delivered go out in order.
    while (this.#pending.length > 0 && this.#pending[0]![0] === this.delivered) {
      const [, b] = this.#pending.shift()!;
      this.#buffered -= b.length;
      this.delivered += b.length;
      this.#onData.call(this.#target, b);
    }
  }

  #insert(offset: number, b: Buffer): void {
    if (this.#pending === NONE) this.#pending = [];
    let i = this.#pending.length;
    while (i > 0 && this.#pending[i - 1]![0] > offset) i--;
    this.#pending.splice(i, 0, [offset, b]);
  }
}
