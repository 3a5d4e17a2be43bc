/**
 * HTTP/3 frames (RFC 9114 §7): a push parser over a stream's bytes — type and length as QUIC varints,
 * then the payload — that hands DATA payloads on as they arrive (never buffered whole) and buffers other
 * frames up to `maxFrameSize`; any split of the bytes gives the same frames. Also the SETTINGS codec and
 * frame writing.
 */
import { encodeVarint, readVarint, varintLength, writeVarint } from '../quic/varint.js';
import { H3, Http3Error } from './errors.js';

export const FRAME_DATA = 0x00;
export const FRAME_HEADERS = 0x01;
export const FRAME_CANCEL_PUSH = 0x03;
export const FRAME_SETTINGS = 0x04;
export const FRAME_PUSH_PROMISE = 0x05;
export const FRAME_GOAWAY = 0x07;
export const FRAME_MAX_PUSH_ID = 0x0d;

export const SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0x01;
export const SETTINGS_MAX_FIELD_SECTION_SIZE = 0x06;
export const SETTINGS_QPACK_BLOCKED_STREAMS = 0x07;

/** What a reader reports: a whole frame, or a piece of a DATA frame's payload. */
export interface FrameSink {
  frame(type: number, payload: Buffer): void;
  data(chunk: Buffer): void;
}

/**
 * @example
 * ```ts
 * const r = new FrameReader({ frame: (type, payload) => onFrame(type, payload), data: (b) => body.push(b) }, 16384);
 * stream.onData = (chunk) => r.push(chunk);
 * ```
 */
export class FrameReader {
  readonly #sink: FrameSink;
  readonly #max: number;
  /** Bytes of a frame header not yet complete. */
  #head: Buffer | null = null;
  /** The frame being read: its type, the bytes of payload left, the non-DATA payload so far. */
  #type = -1;
  #left = 0;
  #parts: Buffer[] = [];
  /** Whether the stream ended on a frame boundary (false while inside a frame). */
  get atBoundary(): boolean {
    return this.#type === -1 && this.#head === null;
  }

  constructor(sink: FrameSink, maxFrameSize: number) {
    this.#sink = sink;
    this.#max = maxFrameSize;
  }

  push(chunk: Buffer): void {
    let b = chunk;
    while (b.length > 0) {
      if (this.#type === -1) {
        const buf = this.#head === null ? b : Buffer.concat([this.#head, b]);
        let t: { value: number; next: number };
        let l: { value: number; next: number };
        try {
          t = readVarint(buf, 0, true); // reserved types reach 2^62 (§7.2.8)
          l = readVarint(buf, t.next);
        } catch {
          if (buf.length >= 16) throw new Http3Error(H3.FRAME_ERROR, 'a frame header past 16 bytes');
          this.#head = Buffer.from(buf); // a frame header cut: wait for the rest
          return;
        }
        this.#head = null;
        b = buf.subarray(l.next);
        this.#type = t.value;
        this.#left = l.value;
        if (t.value !== FRAME_DATA && l.value > this.#max) throw new Http3Error(H3.EXCESSIVE_LOAD, `a frame of type 0x${t.value.toString(16)} of ${l.value} bytes, past the limit of ${this.#max}`);
        if (this.#left === 0) this.#finish();
        continue;
      }
      if (this.#type !== FRAME_DATA && this.#parts.length === 0 && this.#left <= b.length) {
        // The whole payload is in this chunk (the usual HEADERS frame): handed on without a copy.
        const payload = b.subarray(0, this.#left);
        b = b.subarray(this.#left);
        const type = this.#type;
        this.#type = -1;
        this.#left = 0;
        this.#sink.frame(type, payload);
        continue;
      }
      const n = Math.min(this.#left, b.length);
      const piece = b.subarray(0, n);
      b = b.subarray(n);
      this.#left -= n;
      if (this.#type === FRAME_DATA) this.#sink.data(piece);
      else this.#parts.push(piece);
      if (this.#left === 0) this.#finish();
    }
  }

  #finish(): void {
    const type = this.#type;
    this.#type = -1;
    if (type === FRAME_DATA) return;
    const payload = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    this.#parts = [];
    this.#sink.frame(type, payload);
  }
}

/**
 * A frame's bytes (one allocation).
 *
 * @example
 * ```ts
 * control.write(frame(FRAME_GOAWAY, encodeVarint(nextStreamId)));
 * ```
 */
export function frame(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(varintLength(type) + varintLength(payload.length) + payload.length);
  const at = writeVarint(out, writeVarint(out, 0, type), payload.length);
  out.set(payload, at);
  return out;
}

/**
 * A DATA frame's header only (the payload follows as it is).
 *
 * @example
 * ```ts
 * stream.write(dataHeader(body.length));
 * stream.write(body); // the payload as it is, not copied
 * ```
 */
export function dataHeader(length: number): Buffer {
  const out = Buffer.allocUnsafe(1 + varintLength(length));
  out[0] = FRAME_DATA;
  writeVarint(out, 1, length);
  return out;
}

/**
 * A whole small response in one allocation: HEADERS with its encoded field section, then DATA with an ASCII
 * body (one octet per character; none when the body is empty) — one chunk, so one STREAM frame carries it.
 *
 * @example
 * ```ts
 * stream.end(responseFrames(encoder.encode([[':status', '200']]), 'hello'));
 * ```
 */
export function responseFrames(block: Uint8Array, body: string): Buffer {
  const n = body.length;
  const headLen = 1 + varintLength(block.length) + block.length;
  const out = Buffer.allocUnsafe(headLen + (n === 0 ? 0 : 1 + varintLength(n) + n));
  out[0] = FRAME_HEADERS;
  out.set(block, writeVarint(out, 1, block.length));
  if (n > 0) {
    out[headLen] = FRAME_DATA;
    out.latin1Write(body, writeVarint(out, headLen + 1, n), n);
  }
  return out;
}

/**
 * SETTINGS' payload from identifier/value pairs.
 *
 * @example
 * ```ts
 * const settings = frame(FRAME_SETTINGS, encodeSettings(new Map([[SETTINGS_QPACK_MAX_TABLE_CAPACITY, 4096]])));
 * ```
 */
export function encodeSettings(settings: ReadonlyMap<number, number>): Buffer {
  return Buffer.concat([...settings].flatMap(([id, v]) => [encodeVarint(id), encodeVarint(v)]));
}

/**
 * A SETTINGS payload (§7.2.4): each identifier once; HTTP/2's identifiers (0x02–0x05) refused with
 * H3_SETTINGS_ERROR; unknown identifiers kept (and ignored by the caller).
 *
 * @example
 * ```ts
 * const peer = parseSettings(payload); // Map: id → value; H3_SETTINGS_ERROR on a repeat
 * const capacity = peer.get(SETTINGS_QPACK_MAX_TABLE_CAPACITY) ?? 0;
 * ```
 */
export function parseSettings(p: Buffer): Map<number, number> {
  const out = new Map<number, number>();
  let i = 0;
  while (i < p.length) {
    let id: { value: number; next: number };
    let v: { value: number; next: number };
    try {
      id = readVarint(p, i, true); // reserved identifiers reach 2^62 (§7.2.4.1)
      v = readVarint(p, id.next, true);
    } catch {
      throw new Http3Error(H3.FRAME_ERROR, 'a SETTINGS frame cut inside a setting');
    }
    i = v.next;
    if (id.value >= 0x02 && id.value <= 0x05) throw new Http3Error(H3.SETTINGS_ERROR, `HTTP/2's setting 0x${id.value.toString(16)} in HTTP/3 SETTINGS (§7.2.4.1)`);
    if (out.has(id.value)) throw new Http3Error(H3.SETTINGS_ERROR, `setting 0x${id.value.toString(16)} twice (§7.2.4)`);
    out.set(id.value, v.value);
  }
  return out;
}
