/**
 * The message layer over {@link FrameParser}: fragmentation (RFC 6455 §5.4), control frames interleaved,
 * incremental UTF-8 validation of text (fail fast, §8.1), permessage-deflate, and the limits on message
 * size and fragment count. Pure: bytes in, events out.
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
  /** Most frames one message may be split into; 1009 beyond. Default 1024. */
  maxFragments?: number;
  /** The negotiated permessage-deflate, if any. */
  deflate?: PerMessageDeflate | null;
}

/** Shared empty list: connections that never see a fragmented message allocate none. */
const EMPTY_PARTS: Buffer[] = [];

export class Receiver implements FrameHandler {
  readonly parser: FrameParser;
  readonly maxMessageSize: number;
  readonly maxFragments: number;
  #h: ReceiverHandler;
  #deflate: PerMessageDeflate | null;
  #opcode = -1; // of the message being assembled, -1 when none
  #compressed = false;
  #parts: Buffer[] = EMPTY_PARTS;
  #size = 0;
  #utf8 = new Utf8Validator();

  constructor(options: ReceiverOptions, handler: ReceiverHandler) {
    this.maxMessageSize = options.maxMessageSize ?? 16 * 1024 * 1024;
    this.maxFragments = options.maxFragments ?? 1024;
    this.#deflate = options.deflate ?? null;
    this.#h = handler;
    this.parser = new FrameParser({ role: options.role, maxFrameSize: this.maxMessageSize, allowRsv1: this.#deflate !== null }, this);
  }

  /** Feeds bytes from the peer. @throws WsProtocolError */
  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  onFrame(fin: boolean, rsv1: boolean, opcode: number, payload: Buffer): void {
    if (opcode >= 0x8) return this.#control(opcode, payload);
    if (opcode !== OP_CONTINUATION) {
      if (this.#opcode !== -1) throw new WsProtocolError('EXPECTED_CONTINUATION');
      this.#opcode = opcode;
      this.#compressed = rsv1;
      this.#size = 0;
    } else {
      if (this.#opcode === -1) throw new WsProtocolError('UNEXPECTED_CONTINUATION');
      if (rsv1) throw new WsProtocolError('RSV1_ON_CONTINUATION');
    }
    this.#size += payload.length;
    if (this.#size > this.maxMessageSize) throw new WsProtocolError('MESSAGE_TOO_BIG', `more than ${this.maxMessageSize} bytes`);
    const text = this.#opcode === OP_TEXT;
    if (fin && this.#parts.length === 0) {
      // Single-frame message: no copy, native UTF-8 check.
      this.#finish(payload, text);
      return;
    }
    if (this.#parts.length + 1 > this.maxFragments) throw new WsProtocolError('TOO_MANY_FRAGMENTS', `more than ${this.maxFragments}`);
    if (text && !this.#compressed && !this.#utf8.push(payload)) throw new WsProtocolError('INVALID_UTF8');
    if (this.#parts === EMPTY_PARTS) this.#parts = [];
    this.#parts.push(payload);
    if (fin) {
      const data = Buffer.concat(this.#parts, this.#size);
      this.#parts = EMPTY_PARTS;
      if (text && !this.#compressed && !this.#utf8.end()) throw new WsProtocolError('INVALID_UTF8', 'message ends inside a character');
      this.#finish(data, text, !this.#compressed);
    }
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
