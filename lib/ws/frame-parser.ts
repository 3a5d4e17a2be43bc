import { WsProtocolError } from './errors.js';
import { applyMask } from './mask.js';

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export interface FrameHandler {
  onFrame(fin: boolean, rsv1: boolean, opcode: number, payload: Buffer): void;
  /**
   * A data frame whose payload spans reads: each piece as it arrives (unmasked), `first` on the first,
   * before `onFrame` hands out the whole payload. For checks that must not wait for the end of a frame
   * (UTF-8 fails fast, RFC 6455 §8.1).
   */
  onFramePart?(rsv1: boolean, opcode: number, piece: Buffer, first: boolean): void;
}

export interface FrameParserOptions {
  /** `'server'` expects masked frames from a client; `'client'` expects unmasked frames from a server. */
  role: 'server' | 'client';
  /** Largest frame payload accepted (1009 beyond). Default 16 MiB. */
  maxFrameSize?: number;
  /** RSV1 allowed (permessage-deflate negotiated). Default false. */
  allowRsv1?: boolean;
}

const S_HEAD = 0;
const S_LEN16 = 1;
const S_LEN64 = 2;
const S_MASK = 3;
const S_PAYLOAD = 4;
const S_FAILED = 5;
const EMPTY = Buffer.alloc(0);
const KEY = new Uint8Array(4);

/** The key bytes in a shared scratch array (used at once by applyMask, never kept). */
function keyBytes(k: number): Uint8Array {
  KEY[0] = k >>> 24;
  KEY[1] = (k >>> 16) & 0xff;
  KEY[2] = (k >>> 8) & 0xff;
  KEY[3] = k & 0xff;
  return KEY;
}

/**
 * Incremental WebSocket frame parser (RFC 6455 §5.2): push bytes in any pieces, get whole frames out with
 * their payload unmasked. Pure: no socket, no timers. Checks every framing rule and throws
 * {@link WsProtocolError} with the close code owed.
 *
 * Payloads that arrive within one chunk are unmasked in place and handed out as views of it (the chunk
 * must be owned by the caller, as socket reads are); a payload that spans chunks is gathered into one
 * buffer, bounded by `maxFrameSize`, unmasked piece by piece (and shown to `onFramePart`) as it comes.
 *
 * @example
 * ```ts
 * const p = new FrameParser({ role: 'server' }, {
 *   onFrame(fin, rsv1, opcode, payload) { console.log(opcode, payload.toString()); },
 * });
 * p.push(bytesFromClient);
 * ```
 */
export class FrameParser {
  readonly role: 'server' | 'client';
  readonly maxFrameSize: number;
  allowRsv1: boolean;
  handler: FrameHandler;
  #state = S_HEAD;
  /** Header bytes gathered across chunks (at most 14; allocated on the first split header). */
  #hdr: Buffer | null = null;
  #hdrLen = 0;
  #need = 2;
  #fin = false;
  #rsv1 = false;
  #opcode = 0;
  #masked = false;
  #len = 0;
  /** The masking key as one 32-bit number (no buffer per connection). */
  #maskKey = 0;
  /** Payload being gathered across chunks. */
  #payload: Buffer | null = null;
  #got = 0;

  constructor(options: FrameParserOptions, handler: FrameHandler) {
    this.role = options.role;
    this.maxFrameSize = options.maxFrameSize ?? 16 * 1024 * 1024;
    this.allowRsv1 = options.allowRsv1 ?? false;
    this.handler = handler;
  }

  /** Parses `chunk`; frames are delivered through the handler in order. */
  push(chunk: Buffer): void {
    if (this.#state === S_FAILED) return;
    try {
      this.#run(chunk);
    } catch (err) {
      this.#state = S_FAILED;
      throw err;
    }
  }

  #run(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    while (i < n) {
      const st = this.#state;
      if (st === S_PAYLOAD) {
        i = this.#payloadBytes(buf, i);
        continue;
      }
      // Header states: gather `#need` bytes (fast path when they are all in this chunk).
      let h: Buffer;
      let at: number;
      if (this.#hdrLen === 0 && n - i >= this.#need) {
        h = buf;
        at = i;
        i += this.#need;
      } else {
        const take = Math.min(this.#need - this.#hdrLen, n - i);
        const hdr = (this.#hdr ??= Buffer.allocUnsafe(14));
        buf.copy(hdr, this.#hdrLen, i, i + take);
        this.#hdrLen += take;
        i += take;
        if (this.#hdrLen < this.#need) return;
        h = hdr;
        at = 0;
        this.#hdrLen = 0;
      }
      if (st === S_HEAD) this.#head(h[at]!, h[at + 1]!);
      else if (st === S_LEN16) this.#setLength(h.readUInt16BE(at), 126);
      else if (st === S_LEN64) {
        const hi = h.readUInt32BE(at);
        const lo = h.readUInt32BE(at + 4);
        // The top bit must be 0 (§5.2); anything at or above 2^53 is beyond any limit anyway.
        if (hi > 0x1fffff) throw new WsProtocolError(hi & 0x80000000 ? 'BAD_LENGTH' : 'FRAME_TOO_BIG');
        this.#setLength(hi * 0x100000000 + lo, 127);
      } else if (st === S_MASK) {
        this.#maskKey = h.readUInt32BE(at);
        this.#startPayload();
      }
      if (this.#state === S_PAYLOAD && this.#len === 0) this.#emit(EMPTY);
    }
  }

  #head(b0: number, b1: number): void {
    this.#fin = (b0 & 0x80) !== 0;
    this.#rsv1 = (b0 & 0x40) !== 0;
    const op = b0 & 0x0f;
    this.#opcode = op;
    if ((b0 & 0x30) !== 0 || (this.#rsv1 && !this.allowRsv1)) throw new WsProtocolError('RESERVED_BITS');
    if (op >= 0x8) {
      if (op > 0xa) throw new WsProtocolError('RESERVED_OPCODE', `0x${op.toString(16)}`);
      if (!this.#fin) throw new WsProtocolError('CONTROL_FRAGMENTED');
      if (this.#rsv1) throw new WsProtocolError('RESERVED_BITS', 'RSV1 on a control frame');
    } else if (op > 0x2) throw new WsProtocolError('RESERVED_OPCODE', `0x${op.toString(16)}`);
    this.#masked = (b1 & 0x80) !== 0;
    if (this.role === 'server' && !this.#masked) throw new WsProtocolError('UNMASKED_CLIENT_FRAME');
    if (this.role === 'client' && this.#masked) throw new WsProtocolError('MASKED_SERVER_FRAME');
    const len = b1 & 0x7f;
    if (len === 126) {
      this.#state = S_LEN16;
      this.#need = 2;
    } else if (len === 127) {
      this.#state = S_LEN64;
      this.#need = 8;
    } else this.#setLength(len, 0);
  }

  #setLength(len: number, form: number): void {
    // §5.2: "the minimal number of bytes MUST be used to encode the length".
    if ((form === 126 && len < 126) || (form === 127 && len < 65536)) throw new WsProtocolError('BAD_LENGTH');
    if (this.#opcode >= 0x8 && len > 125) throw new WsProtocolError('CONTROL_TOO_LONG');
    if (len > this.maxFrameSize) throw new WsProtocolError('FRAME_TOO_BIG', `${len} > ${this.maxFrameSize}`);
    this.#len = len;
    if (this.#masked) {
      this.#state = S_MASK;
      this.#need = 4;
    } else this.#startPayload();
  }

  #startPayload(): void {
    this.#state = S_PAYLOAD;
    this.#payload = null;
    this.#got = 0;
  }

  #payloadBytes(buf: Buffer, i: number): number {
    const len = this.#len;
    const avail = buf.length - i;
    if (this.#payload === null && avail >= len) {
      // Whole payload in this chunk: unmask in place and hand out a view.
      const view = buf.subarray(i, i + len);
      if (this.#masked) applyMask(view, 0, len, keyBytes(this.#maskKey));
      this.#emit(view);
      return i + len;
    }
    const p = (this.#payload ??= Buffer.allocUnsafe(len));
    const take = Math.min(len - this.#got, avail);
    const at = this.#got;
    buf.copy(p, at, i, i + take);
    // Unmasked as it arrives (the key's phase is the piece's offset in the payload).
    if (this.#masked) applyMask(p, at, at + take, keyBytes(this.#maskKey), at);
    this.#got += take;
    if (this.#opcode < 0x8 && this.handler.onFramePart !== undefined) this.handler.onFramePart(this.#rsv1, this.#opcode, p.subarray(at, at + take), at === 0);
    if (this.#got === len) {
      this.#payload = null;
      this.#emit(p);
    }
    return i + take;
  }

  #emit(payload: Buffer): void {
    this.#state = S_HEAD;
    this.#need = 2;
    this.handler.onFrame(this.#fin, this.#rsv1, this.#opcode, payload);
  }
}
