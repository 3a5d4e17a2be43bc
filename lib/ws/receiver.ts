import { WsProtocolError, isValidCloseCode } from './errors.js';
import { FrameParser, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, type FrameHandler } from './frame-parser.js';
import type { PerMessageDeflate } from './permessage-deflate.js';
import { Utf8Validator, isValidUtf8 } from './utf8.js';

export interface ReceiverHandler {
  onMessage(data: Buffer, isBinary: boolean): void;
  onPing(data: Buffer): void;
  onPong(data: Buffer): void;
  /** A close frame: `code` 1005 when the frame carried none (RFC 6455 §7.1.5). */
  onClose(code: number, reason: string): void;
}

export interface ReceiverOptions {
  role: 'server' | 'client';
  /** Largest message (after inflation) accepted; 1009 beyond. Default 16 MiB. */
  maxMessageSize?: number;
  /** Most frames one message may be split into; 1009 beyond. Default: no limit (memory is bounded by `maxMessageSize`). */
  maxFragments?: number;
  /** The negotiated permessage-deflate, if any. */
  deflate?: PerMessageDeflate | null;
}

/**
 * The message layer over {@link FrameParser}: fragmentation (RFC 6455 §5.4), control frames interleaved,
 * incremental UTF-8 validation of text (fail fast, §8.1: at the first invalid byte, even inside a frame
 * still arriving), permessage-deflate, and the limit on message size. Pure: bytes in, events out.
 *
 * A fragmented message is gathered into one growing buffer (doubling, capped at `maxMessageSize`), so
 * its memory is its bytes whatever the number of fragments: a million 1-byte fragments cost about 1 MB,
 * not a Buffer object each. The number of fragments is not limited by default (`maxFragments`): a client
 * may legitimately split a large message finely (Autobahn 9.3/9.4).
 *
 * @example
 * ```ts
 * const r = new Receiver({ role: 'server' }, {
 *   onMessage(data, isBinary) { console.log(isBinary ? data : data.toString()); },
 *   onPing() {}, onPong() {}, onClose(code, reason) {},
 * });
 * r.push(bytes); // throws WsProtocolError (with closeCode) on a violation
 * ```
 */
export class Receiver implements FrameHandler {
  readonly parser: FrameParser;
  readonly maxMessageSize: number;
  readonly maxFragments: number;
  #h: ReceiverHandler;
  #deflate: PerMessageDeflate | null;
  #opcode = -1; // of the message being assembled, -1 when none
  #compressed = false;
  /** The fragments so far of the message being assembled (null: none yet, or a single-frame message). */
  #buf: Buffer | null = null;
  #fragments = 0;
  #size = 0;
  #utf8 = new Utf8Validator();
  /** The frame being delivered had its payload validated piece by piece as it arrived (onFramePart). */
  #frameStreamed = false;

  constructor(options: ReceiverOptions, handler: ReceiverHandler) {
    this.maxMessageSize = options.maxMessageSize ?? 16 * 1024 * 1024;
    this.maxFragments = options.maxFragments ?? Infinity;
    this.#deflate = options.deflate ?? null;
    this.#h = handler;
    this.parser = new FrameParser({ role: options.role, maxFrameSize: this.maxMessageSize, allowRsv1: this.#deflate !== null }, this);
  }

  /** Feeds bytes from the peer. @throws WsProtocolError */
  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  /**
   * A data frame's payload arriving over several reads, piece by piece (already unmasked): the frame's
   * place in the message is checked on its first piece and text is validated as it comes, so invalid
   * UTF-8 fails the connection at once (§8.1) rather than when the frame is complete.
   */
  onFramePart(rsv1: boolean, opcode: number, piece: Buffer, first: boolean): void {
    if (first) {
      this.#checkPlace(rsv1, opcode);
      this.#frameStreamed = true;
    }
    const text = (opcode === OP_CONTINUATION ? this.#opcode : opcode) === OP_TEXT;
    const compressed = opcode === OP_CONTINUATION ? this.#compressed : rsv1;
    if (text && !compressed && !this.#utf8.push(piece)) throw new WsProtocolError('INVALID_UTF8');
  }

  #checkPlace(rsv1: boolean, opcode: number): void {
    if (opcode !== OP_CONTINUATION) {
      if (this.#opcode !== -1) throw new WsProtocolError('EXPECTED_CONTINUATION');
    } else {
      if (this.#opcode === -1) throw new WsProtocolError('UNEXPECTED_CONTINUATION');
      if (rsv1) throw new WsProtocolError('RSV1_ON_CONTINUATION');
    }
  }

  onFrame(fin: boolean, rsv1: boolean, opcode: number, payload: Buffer): void {
    if (opcode >= 0x8) return this.#control(opcode, payload);
    const streamed = this.#frameStreamed;
    this.#frameStreamed = false;
    if (!streamed) this.#checkPlace(rsv1, opcode);
    if (opcode !== OP_CONTINUATION) {
      this.#opcode = opcode;
      this.#compressed = rsv1;
      this.#size = 0;
      this.#fragments = 0;
    }
    this.#size += payload.length;
    if (this.#size > this.maxMessageSize) throw new WsProtocolError('MESSAGE_TOO_BIG', `more than ${this.maxMessageSize} bytes`);
    const checkText = this.#opcode === OP_TEXT && !this.#compressed;
    if (fin && this.#buf === null) {
      // Single-frame message: no copy; the native UTF-8 check, unless it was validated as it arrived.
      if (streamed && checkText && !this.#utf8.end()) throw new WsProtocolError('INVALID_UTF8', 'message ends inside a character');
      this.#finish(payload, this.#opcode === OP_TEXT, streamed);
      return;
    }
    if (++this.#fragments > this.maxFragments) throw new WsProtocolError('TOO_MANY_FRAGMENTS', `more than ${this.maxFragments}`);
    if (checkText && !streamed && !this.#utf8.push(payload)) throw new WsProtocolError('INVALID_UTF8');
    this.#append(payload);
    if (fin) {
      const data = this.#buf!.subarray(0, this.#size);
      this.#buf = null;
      if (checkText && !this.#utf8.end()) throw new WsProtocolError('INVALID_UTF8', 'message ends inside a character');
      this.#finish(data, this.#opcode === OP_TEXT, checkText);
    }
  }

  /** Adds a fragment to the message buffer, doubling it when full (never beyond maxMessageSize). */
  #append(payload: Buffer): void {
    const at = this.#size - payload.length;
    let buf = this.#buf;
    if (buf === null || buf.length < this.#size) {
      const cap = Math.min(Math.max(this.#size, (buf?.length ?? 2048) * 2), this.maxMessageSize);
      const grown = Buffer.allocUnsafe(Math.max(cap, this.#size));
      if (buf !== null) buf.copy(grown, 0, 0, at);
      buf = this.#buf = grown;
    }
    payload.copy(buf, at);
  }

  #finish(data: Buffer, text: boolean, validated = false): void {
    this.#opcode = -1;
    if (this.#compressed) {
      data = this.#deflate!.decompress(data, this.maxMessageSize);
      validated = false;
    }
    if (text && !validated && !isValidUtf8(data)) throw new WsProtocolError('INVALID_UTF8');
    this.#utf8.reset();
    this.#h.onMessage(data, !text);
  }

  #control(opcode: number, payload: Buffer): void {
    if (opcode === OP_PING) return this.#h.onPing(payload);
    if (opcode === OP_PONG) return this.#h.onPong(payload);
    // OP_CLOSE (§5.5.1): empty, or a 2-byte code plus a UTF-8 reason.
    if (payload.length === 0) return this.#h.onClose(1005, '');
    if (payload.length === 1) throw new WsProtocolError('INVALID_CLOSE_PAYLOAD');
    const code = payload.readUInt16BE(0);
    if (!isValidCloseCode(code)) throw new WsProtocolError('INVALID_CLOSE_CODE', String(code));
    const reason = payload.subarray(2);
    if (!isValidUtf8(reason)) throw new WsProtocolError('INVALID_CLOSE_REASON');
    this.#h.onClose(code, reason.toString('utf8'));
  }
}

export { OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT };
