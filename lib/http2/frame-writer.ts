/**
 * HTTP/2 frame serialization (RFC 9113 §4.1, §6). Each function returns the bytes of one frame (header
 * blocks are split into HEADERS + CONTINUATION at `maxFrameSize`). With `allowIllegal`, the writers emit
 * what the checks would refuse, so tests can send malformed frames (the codec is also the test client).
 *
 * @example
 * ```ts
 * socket.write(settingsFrame([[S_MAX_CONCURRENT_STREAMS, 100]]));
 * socket.write(pingFrame(Buffer.alloc(8), true));
 * ```
 */
import { F_ACK, F_END_HEADERS, F_END_STREAM, F_PADDED, F_PRIORITY, T_CONTINUATION, T_DATA, T_GOAWAY, T_HEADERS, T_PING, T_PRIORITY, T_PUSH_PROMISE, T_RST_STREAM, T_SETTINGS, T_WINDOW_UPDATE, type Priority } from './frame-parser.js';

/** A frame: 9-byte header + payload. */
export function rawFrame(type: number, flags: number, streamId: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const b = Buffer.allocUnsafe(9 + payload.length);
  b[0] = (payload.length >>> 16) & 0xff;
  b[1] = (payload.length >>> 8) & 0xff;
  b[2] = payload.length & 0xff;
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(streamId & 0x7fffffff, 5);
  b.set(payload, 9);
  return b;
}

function padded(payload: Uint8Array, pad: number | undefined): [Uint8Array, number] {
  if (pad === undefined) return [payload, 0];
  const b = Buffer.alloc(1 + payload.length + pad);
  b[0] = pad;
  b.set(payload, 1);
  return [b, F_PADDED];
}

/** The 9-byte header of a frame of `length` bytes (to write before a payload without copying it). */
export function frameHeader(type: number, flags: number, streamId: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(9);
  b[0] = (length >>> 16) & 0xff;
  b[1] = (length >>> 8) & 0xff;
  b[2] = length & 0xff;
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(streamId & 0x7fffffff, 5);
  return b;
}

export function dataFrame(streamId: number, data: Uint8Array, endStream = false, pad?: number): Buffer {
  const [p, f] = padded(data, pad);
  return rawFrame(T_DATA, f | (endStream ? F_END_STREAM : 0), streamId, p);
}

function priorityBytes(p: Priority): Buffer {
  const b = Buffer.allocUnsafe(5);
  b.writeUInt32BE(((p.exclusive ? 0x80000000 : 0) | p.dependency) >>> 0, 0);
  b[4] = p.weight - 1;
  return b;
}

/** HEADERS (+ CONTINUATION frames when the block is larger than `maxFrameSize`). */
export function headersFrames(
  streamId: number,
  block: Uint8Array,
  options: { endStream?: boolean; priority?: Priority; pad?: number; maxFrameSize?: number } = {},
): Buffer[] {
  const max = options.maxFrameSize ?? 16384;
  const head = options.priority ? Buffer.concat([priorityBytes(options.priority), Buffer.from(block)]) : Buffer.from(block);
  const prioLen = options.priority ? 5 : 0;
  const room = max - prioLen - (options.pad !== undefined ? 1 + options.pad : 0);
  const first = head.subarray(0, prioLen + Math.min(block.length, room));
  const rest = head.subarray(first.length);
  const [p, padFlag] = padded(first, options.pad);
  const flags = padFlag | (options.endStream ? F_END_STREAM : 0) | (options.priority ? F_PRIORITY : 0) | (rest.length === 0 ? F_END_HEADERS : 0);
  const out = [rawFrame(T_HEADERS, flags, streamId, p)];
  for (let off = 0; off < rest.length; off += max) {
    const part = rest.subarray(off, off + max);
    out.push(rawFrame(T_CONTINUATION, off + max >= rest.length ? F_END_HEADERS : 0, streamId, part));
  }
  return out;
}

export function priorityFrame(streamId: number, p: Priority): Buffer {
  return rawFrame(T_PRIORITY, 0, streamId, priorityBytes(p));
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(code, 0);
  return rawFrame(T_RST_STREAM, 0, streamId, b);
}

export function settingsFrame(settings: ReadonlyArray<readonly [number, number]>, ack = false): Buffer {
  const b = Buffer.allocUnsafe(settings.length * 6);
  settings.forEach(([id, v], k) => {
    b.writeUInt16BE(id, k * 6);
    b.writeUInt32BE(v, k * 6 + 2);
  });
  return rawFrame(T_SETTINGS, ack ? F_ACK : 0, 0, b);
}

export function pushPromiseFrame(streamId: number, promisedStreamId: number, block: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(4 + block.length);
  b.writeUInt32BE(promisedStreamId, 0);
  b.set(block, 4);
  return rawFrame(T_PUSH_PROMISE, F_END_HEADERS, streamId, b);
}

export function pingFrame(data: Uint8Array, ack = false): Buffer {
  return rawFrame(T_PING, ack ? F_ACK : 0, 0, data);
}

export function goawayFrame(lastStreamId: number, code: number, debug: string | Uint8Array = ''): Buffer {
  const d = typeof debug === 'string' ? Buffer.from(debug) : debug;
  const b = Buffer.allocUnsafe(8 + d.length);
  b.writeUInt32BE(lastStreamId, 0);
  b.writeUInt32BE(code, 4);
  b.set(d, 8);
  return rawFrame(T_GOAWAY, 0, 0, b);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(increment, 0);
  return rawFrame(T_WINDOW_UPDATE, 0, streamId, b);
}
