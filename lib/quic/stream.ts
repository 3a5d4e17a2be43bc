/**
 * A QUIC stream (RFC 9000 §2–4): data in order (`onData`, `onEnd`), data out (`write`, `end`), and the
 * stream-level flow control of both directions — the peer may send up to `recvLimit`, which moves on as what
 * arrived is consumed (§4.2: a MAX_STREAM_DATA when half the window is used, none while `pause()`d), and we
 * send within the peer's limit. `reset` abandons sending (RESET_STREAM, §3.2), `stopSending` asks the peer to
 * (STOP_SENDING, §3.5). The connection owns the frames; the stream tells it through `StreamOwner`.
 */
import { Reassembly } from './reassembly.js';
import type { Retransmittable } from './recovery.js';

/** What a stream needs from its connection. */
export interface StreamOwner {
  /** A control frame to send (RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA). */
  _queue(item: Retransmittable): void;
  /** There is something new to send. */
  _wake(): void;
  /** The stream may be finished both ways: forget it, credit the peer another one. */
  _settle(s: QuicStream): void;
  /** The stream handed on `n` bytes (the connection's window moves on). */
  _consumed(n: number): void;
}

/** The handlers a stream starts with: one function for all (a stream is made per request). */
const NOOP = (): void => {};

/** Buffered outgoing bytes above which `write` returns false (the caller waits for `onDrain`). */
const SEND_HIGH_WATER = 256 * 1024;
/** Every stream's reassembly callback, called with the stream as `this`. */
function onReassembled(this: QuicStream, c: Buffer): void {
  this._reassembled(c);
}

/**
 * @example
 * ```ts
 * conn.onStream = (s) => { s.onEnd = () => s.end(Buffer.from('bye')); };
 * ```
 */
export class QuicStream {
  readonly id: number;
  onData: (chunk: Buffer) => void = NOOP;
  onEnd: () => void = NOOP;
  /** The peer abandoned sending (RESET_STREAM) with this application error code. */
  onReset: (code: number) => void = NOOP;
  /** The send buffer went below its high-water mark again. */
  onDrain: () => void = NOOP;
  /** @internal */ readonly recv: Reassembly<QuicStream>;
  /** The highest offset the peer may send to (what we advertised). */
  recvLimit: number;
  /** @internal the highest offset received (flow control counts it, §4.1). */
  highestRecv = 0;
  /** All of the peer's data arrived (`onEnd` was called). */
  ended = false;
  /** The peer reset its side, with this code. */
  resetCode: number | null = null;
  /** @internal */ out: Buffer[] = [];
  /** @internal */ queued = 0;
  /** @internal */ sent = 0;
  /** @internal */ finQueued = false;
  /** @internal */ finSent = false;
  /** We reset our side (RESET_STREAM sent), with this code. */
  resetSent: number | null = null;
  /** We asked the peer to stop (STOP_SENDING sent). */
  stopped = false;
  /** @internal the peer's limit for what we send. */
  limit: number;
  /** @internal */ wantsDrain = false;
  /**
   * The application's own value for this stream (as ngtcp2's stream user data): handlers shared by every
   * stream — called with the stream as `this` — find their state here instead of closing over it.
   */
  context: unknown = null;
  readonly #owner: StreamOwner;
  readonly #window: number;
  #paused = false;

  /** @internal */
  constructor(owner: StreamOwner, id: number, window: number, sendLimit: number) {
    this.#owner = owner;
    this.id = id;
    this.limit = sendLimit;
    this.#window = window;
    this.recvLimit = window;
    this.recv = new Reassembly<QuicStream>(window, onReassembled, this);
  }

  /** @internal In-order data from the reassembly: counted, credited, handed to `onData` unless stopped. */
  _reassembled(c: Buffer): void {
    this.#owner._consumed(c.length);
    this.#credit();
    if (!this.stopped) this.onData(c);
  }

  /** Whether this side can send on it (bidirectional, or unidirectional and ours). */
  get sendable(): boolean {
    return (this.id & 2) === 0 || (this.id & 1) === 1;
  }

  /** Bytes written and not yet sent. */
  get bufferedAmount(): number {
    return this.queued;
  }

  /** Queues bytes to send; false when the buffer is past its high-water mark (wait for `onDrain`). */
  write(data: Uint8Array): boolean {
    if (this.finQueued || this.resetSent !== null) throw new Error('write after end');
    if (data.length > 0) {
      this.out.push(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      this.queued += data.length;
      this.#owner._wake();
    }
    if (this.queued < SEND_HIGH_WATER) return true;
    this.wantsDrain = true;
    return false;
  }

  end(data?: Uint8Array): void {
    if (this.finQueued || this.resetSent !== null) return;
    if (data !== undefined) this.write(data);
    this.finQueued = true;
    this.#owner._wake();
  }

  /** Abandons sending (RFC 9000 §3.2, RESET_STREAM with `code`); what was queued is dropped. */
  reset(code: number): void {
    if (this.finSent || this.resetSent !== null || !this.sendable) return;
    this.resetSent = code;
    this.out = [];
    this.queued = 0;
    this.#owner._queue({ kind: 'reset_stream', id: this.id, code, finalSize: this.sent });
    this.#owner._wake();
    this.#owner._settle(this);
  }

  /** Tells the peer we will read no more (STOP_SENDING with `code`, §3.5); data still arriving is dropped. */
  stopSending(code: number): void {
    if (this.stopped || this.ended || this.resetCode !== null) return;
    this.stopped = true;
    this.#owner._queue({ kind: 'stop_sending', id: this.id, code });
    this.#owner._wake();
  }

  /** Stops moving the peer's limit on (the reader is full): the peer stalls within the window. */
  pause(): void {
    this.#paused = true;
  }

  /** Moves the peer's limit on again as data is consumed. */
  resume(): void {
    this.#paused = false;
    this.#credit();
  }

  /** §4.2: a new limit once half the window is used (one frame per half window, not per packet). */
  #credit(): void {
    if (this.#paused || this.ended || this.recv.finalSize !== null) return;
    const delivered = this.recv.delivered;
    if (this.recvLimit - delivered > this.#window / 2) return;
    this.recvLimit = delivered + this.#window;
    this.#owner._queue({ kind: 'max_stream_data', id: this.id });
    this.#owner._wake();
  }
}
