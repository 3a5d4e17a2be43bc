/**
 * Length-prefixed messages (PROTOCOL-HTTP2.md, "Length-Prefixed-Message"): a flags byte (bit 0: the
 * message is compressed with the call's `grpc-encoding`; gRPC-Web's bit 7: the frame holds trailers), a
 * 4-byte big-endian length, then that many bytes. The decoder is push-based and keeps at most one message:
 * a length past the limit is refused from the prefix alone, before any of it is buffered.
 */
import { GrpcError, Status } from './status.js';

/** Flag bits of the prefix. */
export const COMPRESSED = 0x01;
export const TRAILERS = 0x80;

/** A message, with the flags it came with. */
export interface Envelope {
  flags: number;
  data: Buffer;
}

/**
 * @example
 * ```ts
 * const decoder = new EnvelopeDecoder(4 * 1024 * 1024, (e) => messages.push(e.data));
 * for await (const chunk of req) decoder.push(chunk);
 * decoder.end(); // throws when the body stopped inside a message
 * ```
 */
export class EnvelopeDecoder {
  readonly #max: number;
  readonly #onMessage: (e: Envelope) => void;
  /** A prefix split across chunks (made only then). */
  #head: Buffer | null = null;
  #headLen = 0;
  #body: Buffer | null = null;
  #bodyLen = 0;
  #flags = 0;

  constructor(maxMessageLength: number, onMessage: (e: Envelope) => void) {
    this.#max = maxMessageLength;
    this.#onMessage = onMessage;
  }

  /** Whether the bytes so far end between messages. */
  get idle(): boolean {
    return this.#headLen === 0 && this.#body === null;
  }

  /** Takes the next bytes; calls `onMessage` for each message they complete. Throws a GrpcError (RESOURCE_EXHAUSTED) for a message past the limit. */
  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#body === null) {
        // Fast path: a whole prefix (and maybe its whole message) in this chunk.
        if (this.#headLen === 0 && n - i >= 5) {
          const len = chunk.readUInt32BE(i + 1);
          const flags = chunk[i]!;
          this.#check(len);
          if (n - i - 5 >= len) {
            this.#onMessage({ flags, data: chunk.subarray(i + 5, i + 5 + len) });
            i += 5 + len;
            continue;
          }
          this.#start(flags, len);
          i += 5;
          continue;
        }
        const head = (this.#head ??= Buffer.allocUnsafe(5));
        const take = Math.min(5 - this.#headLen, n - i);
        chunk.copy(head, this.#headLen, i, i + take);
        this.#headLen += take;
        i += take;
        if (this.#headLen < 5) return;
        const len = head.readUInt32BE(1);
        this.#check(len);
        this.#headLen = 0;
        this.#start(head[0]!, len);
        if (len === 0) this.#finish();
        continue;
      }
      const take = Math.min(this.#body.length - this.#bodyLen, n - i);
      chunk.copy(this.#body, this.#bodyLen, i, i + take);
      this.#bodyLen += take;
      i += take;
      if (this.#bodyLen === this.#body.length) this.#finish();
    }
  }

  /** The body ended: throws a GrpcError (INTERNAL) when it ended inside a message. */
  end(): void {
    if (!this.idle) throw new GrpcError(Status.INTERNAL, 'the stream ended inside a message (truncated length-prefixed message)');
  }

  #check(len: number): void {
    if (len > this.#max) throw new GrpcError(Status.RESOURCE_EXHAUSTED, `received message larger than max (${len} vs. ${this.#max})`);
  }

  #start(flags: number, len: number): void {
    this.#flags = flags;
    this.#body = Buffer.allocUnsafe(len);
    this.#bodyLen = 0;
  }

  #finish(): void {
    const data = this.#body!;
    this.#body = null;
    this.#onMessage({ flags: this.#flags, data });
  }
}

/**
 * One message with its prefix.
 *
 * @example
 * ```ts
 * encodeEnvelope(Buffer.from('ab')); // <Buffer 00 00 00 00 02 61 62>: flags, length, message
 * ```
 */
export function encodeEnvelope(data: Uint8Array, flags = 0): Buffer {
  const out = Buffer.allocUnsafe(5 + data.length);
  out[0] = flags;
  out.writeUInt32BE(data.length, 1);
  out.set(data, 5);
  return out;
}
