import { H2, connectionError, streamError, type Http2ProtocolError } from './errors.js';

export const T_DATA = 0x0;
export const T_HEADERS = 0x1;
export const T_PRIORITY = 0x2;
export const T_RST_STREAM = 0x3;
export const T_SETTINGS = 0x4;
export const T_PUSH_PROMISE = 0x5;
export const T_PING = 0x6;
export const T_GOAWAY = 0x7;
export const T_WINDOW_UPDATE = 0x8;
export const T_CONTINUATION = 0x9;

export const F_END_STREAM = 0x1;
export const F_ACK = 0x1;
export const F_END_HEADERS = 0x4;
export const F_PADDED = 0x8;
export const F_PRIORITY = 0x20;

/** SETTINGS identifiers (RFC 9113 §6.5.2, RFC 8441 §3). */
export const S_HEADER_TABLE_SIZE = 0x1;
export const S_ENABLE_PUSH = 0x2;
export const S_MAX_CONCURRENT_STREAMS = 0x3;
export const S_INITIAL_WINDOW_SIZE = 0x4;
export const S_MAX_FRAME_SIZE = 0x5;
export const S_MAX_HEADER_LIST_SIZE = 0x6;
export const S_ENABLE_CONNECT_PROTOCOL = 0x8;

export interface Priority {
  exclusive: boolean;
  dependency: number;
  weight: number;
}

export type Frame =
  | { type: typeof T_DATA; streamId: number; endStream: boolean; data: Buffer; /** bytes counted by flow control, padding included */ flowLength: number }
  | { type: typeof T_HEADERS; streamId: number; endStream: boolean; priority: Priority | null; /** the whole header block, CONTINUATIONs joined */ block: Buffer }
  | { type: typeof T_PRIORITY; streamId: number; priority: Priority }
  | { type: typeof T_RST_STREAM; streamId: number; code: number }
  | { type: typeof T_SETTINGS; ack: boolean; settings: Array<[id: number, value: number]> }
  | { type: typeof T_PUSH_PROMISE; streamId: number; promisedStreamId: number; block: Buffer }
  | { type: typeof T_PING; ack: boolean; data: Buffer }
  | { type: typeof T_GOAWAY; lastStreamId: number; code: number; debug: Buffer }
  | { type: typeof T_WINDOW_UPDATE; streamId: number; increment: number };

export interface FrameParserOptions {
  /** Our SETTINGS_MAX_FRAME_SIZE: larger frames are a FRAME_SIZE_ERROR. Default 16 384 (§6.5.2). */
  maxFrameSize?: number;
  /** Most CONTINUATION frames after one HEADERS (§6.10; floods end in ENHANCE_YOUR_CALM). Default 32. */
  maxContinuations?: number;
  /** Largest header block (all fragments together). Default 256 KiB. */
  maxHeaderBlockSize?: number;
}

export interface FrameHandler {
  onFrame(frame: Frame): void;
  /**
   * A stream error (§5.4.2): the stream must be reset, the connection goes on. For HEADERS the frame is
   * still delivered afterwards, since its header block must be decoded to keep HPACK state (§4.3).
   */
  onStreamError(error: Http2ProtocolError): void;
}

const S_HEAD = 0;
const S_PAYLOAD = 1;
const S_FAILED = 2;

/**
 * Incremental HTTP/2 frame parser (RFC 9113 §4, §6): 9-byte headers, payloads bounded by our
 * SETTINGS_MAX_FRAME_SIZE, every per-type size and field rule, padding, and the header-block rule that
 * CONTINUATION frames follow HEADERS/PUSH_PROMISE on the same stream with nothing in between (§6.10),
 * with a cap on CONTINUATION frames per block (the CONTINUATION flood). Unknown frame types and unknown
 * settings are ignored (§4.1, §6.5.2). Pure: bytes in, typed frames out; errors are
 * {@link Http2ProtocolError} with the code and scope RFC 9113 assigns.
 *
 * @example
 * ```ts
 * const p = new FrameParser({ onFrame(f) { console.log(f.type, f.streamId); } });
 * p.push(bytes);
 * ```
 */
export class FrameParser {
  maxFrameSize: number;
  readonly maxContinuations: number;
  readonly maxHeaderBlockSize: number;
  readonly handler: FrameHandler;
  #state = S_HEAD;
  #hdr = Buffer.alloc(9);
  #hdrLen = 0;
  #len = 0;
  #type = 0;
  #flags = 0;
  #stream = 0;
  #payload: Buffer | null = null;
  #got = 0;
  // Header block being assembled (HEADERS or PUSH_PROMISE without END_HEADERS).
  #blockStream = 0;
  #blockParts: Buffer[] = [];
  #blockSize = 0;
  #blockFrame: Extract<Frame, { type: 1 | 5 }> | null = null;
  #continuations = 0;

  constructor(handler: FrameHandler, options: FrameParserOptions = {}) {
    this.handler = handler;
    this.maxFrameSize = options.maxFrameSize ?? 16384;
    this.maxContinuations = options.maxContinuations ?? 32;
    this.maxHeaderBlockSize = options.maxHeaderBlockSize ?? 256 * 1024;
  }

  /** Parses `chunk`; frames are delivered in order. @throws Http2ProtocolError */
  push(chunk: Buffer): void {
    if (this.#state === S_FAILED) return;
    try {
      this.#run(chunk);
    } catch (err) {
      this.#state = S_FAILED; // connection errors end the connection (§5.4.1); stream errors go to the handler
      throw err;
    }
  }

  #run(buf: Buffer): void {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      if (this.#state === S_HEAD) {
        let h: Buffer;
        let at: number;
        if (this.#hdrLen === 0 && n - i >= 9) {
          h = buf;
          at = i;
          i += 9;
        } else {
          const take = Math.min(9 - this.#hdrLen, n - i);
          buf.copy(this.#hdr, this.#hdrLen, i, i + take);
          this.#hdrLen += take;
          i += take;
          if (this.#hdrLen < 9) return;
          this.#hdrLen = 0;
          h = this.#hdr;
          at = 0;
        }
        this.#len = (h[at]! << 16) | (h[at + 1]! << 8) | h[at + 2]!;
        this.#type = h[at + 3]!;
        this.#flags = h[at + 4]!;
        this.#stream = h.readUInt32BE(at + 5) & 0x7fffffff; // the reserved bit is ignored (§4.1)
        this.#head();
        this.#state = S_PAYLOAD;
        this.#payload = null;
        this.#got = 0;
        if (this.#len === 0) {
          this.#state = S_HEAD;
          this.#frame(EMPTY);
        }
        continue;
      }
      const len = this.#len;
      if (this.#payload === null && n - i >= len) {
        const p = buf.subarray(i, i + len);
        i += len;
        this.#state = S_HEAD;
        this.#frame(p);
        continue;
      }
      const p = (this.#payload ??= Buffer.allocUnsafe(len));
      const take = Math.min(len - this.#got, n - i);
      buf.copy(p, this.#got, i, i + take);
      this.#got += take;
      i += take;
      if (this.#got === len) {
        this.#payload = null;
        this.#state = S_HEAD;
        this.#frame(p);
      }
    }
  }

  /** Checks that depend on the header only, before the payload is read. */
  #head(): void {
    const t = this.#type;
    if (this.#len > this.maxFrameSize) {
      // §4.2: a frame that could change connection state (SETTINGS, HEADERS, PUSH_PROMISE, CONTINUATION,
      // or anything on stream 0) is a connection error; others may be a stream error, but we cannot skip
      // the payload without reading it, so all are treated as connection errors.
      throw connectionError(H2.FRAME_SIZE_ERROR, `frame of ${this.#len} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`);
    }
    if (this.#blockFrame !== null && (t !== T_CONTINUATION || this.#stream !== this.#blockStream)) {
      throw connectionError(H2.PROTOCOL_ERROR, 'expected CONTINUATION of the open header block (§6.10)');
    }
    if (t === T_CONTINUATION && this.#blockFrame === null) throw connectionError(H2.PROTOCOL_ERROR, 'CONTINUATION without an open header block');
  }

  #frame(p: Buffer): void {
    const t = this.#type;
    const flags = this.#flags;
    const sid = this.#stream;
    const len = p.length;
    switch (t) {
      case T_DATA: {
        if (sid === 0) throw connectionError(H2.PROTOCOL_ERROR, 'DATA on stream 0 (§6.1)');
        const data = unpad(p, flags);
        this.handler.onFrame({ type: T_DATA, streamId: sid, endStream: (flags & F_END_STREAM) !== 0, data, flowLength: len });
        return;
      }
      case T_HEADERS: {
        if (sid === 0) throw connectionError(H2.PROTOCOL_ERROR, 'HEADERS on stream 0 (§6.2)');
        let frag = unpad(p, flags);
        let priority: Priority | null = null;
        if (flags & F_PRIORITY) {
          if (frag.length < 5) throw connectionError(H2.FRAME_SIZE_ERROR, 'HEADERS too short for its priority fields');
          priority = readPriority(frag, 0);
          frag = frag.subarray(5);
          if (priority.dependency === sid) this.handler.onStreamError(streamError(H2.PROTOCOL_ERROR, sid, 'stream depends on itself (§5.3.1)'));
        }
        const f: Frame = { type: T_HEADERS, streamId: sid, endStream: (flags & F_END_STREAM) !== 0, priority, block: frag };
        this.#startBlock(f, frag, flags);
        return;
      }
      case T_PRIORITY: {
        if (sid === 0) throw connectionError(H2.PROTOCOL_ERROR, 'PRIORITY on stream 0 (§6.3)');
        if (len !== 5) return this.handler.onStreamError(streamError(H2.FRAME_SIZE_ERROR, sid, 'PRIORITY length is not 5 (§6.3)'));
        const priority = readPriority(p, 0);
        if (priority.dependency === sid) return this.handler.onStreamError(streamError(H2.PROTOCOL_ERROR, sid, 'stream depends on itself (§5.3.1)'));
        this.handler.onFrame({ type: T_PRIORITY, streamId: sid, priority });
        return;
      }
      case T_RST_STREAM: {
        if (sid === 0) throw connectionError(H2.PROTOCOL_ERROR, 'RST_STREAM on stream 0 (§6.4)');
        if (len !== 4) throw connectionError(H2.FRAME_SIZE_ERROR, 'RST_STREAM length is not 4 (§6.4)');
        this.handler.onFrame({ type: T_RST_STREAM, streamId: sid, code: p.readUInt32BE(0) });
        return;
      }
      case T_SETTINGS: {
        if (sid !== 0) throw connectionError(H2.PROTOCOL_ERROR, 'SETTINGS on a stream (§6.5)');
        const ack = (flags & F_ACK) !== 0;
        if (ack && len !== 0) throw connectionError(H2.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload (§6.5)');
        if (len % 6 !== 0) throw connectionError(H2.FRAME_SIZE_ERROR, 'SETTINGS length is not a multiple of 6 (§6.5)');
        const settings: Array<[number, number]> = [];
        for (let k = 0; k < len; k += 6) {
          const id = p.readUInt16BE(k);
          const v = p.readUInt32BE(k + 2);
          checkSetting(id, v);
          settings.push([id, v]);
        }
        this.handler.onFrame({ type: T_SETTINGS, ack, settings });
        return;
      }
      case T_PUSH_PROMISE: {
        if (sid === 0) throw connectionError(H2.PROTOCOL_ERROR, 'PUSH_PROMISE on stream 0 (§6.6)');
        const body = unpad(p, flags);
        if (body.length < 4) throw connectionError(H2.FRAME_SIZE_ERROR, 'PUSH_PROMISE too short');
        const f: Frame = { type: T_PUSH_PROMISE, streamId: sid, promisedStreamId: body.readUInt32BE(0) & 0x7fffffff, block: body.subarray(4) };
        this.#startBlock(f, f.block, flags);
        return;
      }
      case T_PING: {
        if (sid !== 0) throw connectionError(H2.PROTOCOL_ERROR, 'PING on a stream (§6.7)');
        if (len !== 8) throw connectionError(H2.FRAME_SIZE_ERROR, 'PING length is not 8 (§6.7)');
        this.handler.onFrame({ type: T_PING, ack: (flags & F_ACK) !== 0, data: p });
        return;
      }
      case T_GOAWAY: {
        if (sid !== 0) throw connectionError(H2.PROTOCOL_ERROR, 'GOAWAY on a stream (§6.8)');
        if (len < 8) throw connectionError(H2.FRAME_SIZE_ERROR, 'GOAWAY shorter than 8 bytes (§6.8)');
        this.handler.onFrame({ type: T_GOAWAY, lastStreamId: p.readUInt32BE(0) & 0x7fffffff, code: p.readUInt32BE(4), debug: p.subarray(8) });
        return;
      }
      case T_WINDOW_UPDATE: {
        if (len !== 4) throw connectionError(H2.FRAME_SIZE_ERROR, 'WINDOW_UPDATE length is not 4 (§6.9)');
        const increment = p.readUInt32BE(0) & 0x7fffffff;
        if (increment === 0) {
          if (sid === 0) throw connectionError(H2.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0 on the connection (§6.9)');
          return this.handler.onStreamError(streamError(H2.PROTOCOL_ERROR, sid, 'WINDOW_UPDATE of 0 (§6.9)'));
        }
        this.handler.onFrame({ type: T_WINDOW_UPDATE, streamId: sid, increment });
        return;
      }
      case T_CONTINUATION: {
        if (++this.#continuations > this.maxContinuations) throw connectionError(H2.ENHANCE_YOUR_CALM, `more than ${this.maxContinuations} CONTINUATION frames`);
        this.#addFragment(p);
        if (flags & F_END_HEADERS) this.#endBlock();
        return;
      }
      default:
        return; // unknown frame types are ignored (§4.1, §5.5)
    }
  }

  #startBlock(f: Extract<Frame, { type: 1 | 5 }>, frag: Buffer, flags: number): void {
    if (flags & F_END_HEADERS) {
      this.handler.onFrame(f);
      return;
    }
    this.#blockFrame = f;
    this.#blockStream = f.streamId;
    this.#blockParts = [];
    this.#blockSize = 0;
    this.#continuations = 0;
    this.#addFragment(Buffer.from(frag)); // copied: it may be a view of a chunk we do not own for long
  }

  #addFragment(frag: Buffer): void {
    this.#blockSize += frag.length;
    if (this.#blockSize > this.maxHeaderBlockSize) throw connectionError(H2.ENHANCE_YOUR_CALM, `header block larger than ${this.maxHeaderBlockSize} bytes`);
    this.#blockParts.push(frag);
  }

  #endBlock(): void {
    const f = this.#blockFrame!;
    f.block = Buffer.concat(this.#blockParts, this.#blockSize);
    this.#blockFrame = null;
    this.#blockParts = [];
    this.handler.onFrame(f);
  }
}

const EMPTY = Buffer.alloc(0);

function unpad(p: Buffer, flags: number): Buffer {
  if ((flags & F_PADDED) === 0) return p;
  if (p.length < 1) throw connectionError(H2.FRAME_SIZE_ERROR, 'PADDED frame without a pad length');
  const pad = p[0]!;
  // §6.1/§6.2: padding as long as the rest or longer is a connection PROTOCOL_ERROR.
  if (pad >= p.length) throw connectionError(H2.PROTOCOL_ERROR, `padding of ${pad} bytes in a ${p.length}-byte payload`);
  return p.subarray(1, p.length - pad);
}

function readPriority(p: Buffer, at: number): Priority {
  const dep = p.readUInt32BE(at);
  return { exclusive: (dep & 0x80000000) !== 0, dependency: dep & 0x7fffffff, weight: p[at + 4]! + 1 };
}

function checkSetting(id: number, v: number): void {
  switch (id) {
    case S_ENABLE_PUSH:
    case S_ENABLE_CONNECT_PROTOCOL:
      if (v > 1) throw connectionError(H2.PROTOCOL_ERROR, `setting 0x${id.toString(16)} must be 0 or 1`);
      return;
    case S_INITIAL_WINDOW_SIZE:
      if (v > 0x7fffffff) throw connectionError(H2.FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (§6.5.2)');
      return;
    case S_MAX_FRAME_SIZE:
      if (v < 16384 || v > 16777215) throw connectionError(H2.PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE outside 2^14..2^24-1 (§6.5.2)');
      return;
    default:
      return; // unknown settings are ignored (§6.5.2)
  }
}
