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

/**
 * A frame: 9-byte header + payload.
 *
 * @example
 * ```ts
 * rawFrame(T_PING, 0, 0, Buffer.alloc(8)); // 17 bytes: a PING with eight zero bytes
 * ```
 */
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

/**
 * The 9-byte header of a frame of `length` bytes (to write before a payload without copying it).
 *
 * @example
 * ```ts
 * socket.write(frameHeader(T_DATA, F_END_STREAM, 1, body.length));
 * socket.write(body); // not copied into the frame
 * ```
 */
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

/**
 * A frame header as a latin1 string (one character per octet), to go before a payload that is one too:
 * a connection gathers such strings into one write without making Buffers.
 *
 * @example
 * ```ts
 * conn.write(frameHeaderLatin1(T_DATA, F_END_STREAM, 1, 5) + 'hello'); // Connection.write takes latin1 strings
 * ```
 */
export function frameHeaderLatin1(type: number, flags: number, streamId: number, length: number): string {
  return String.fromCharCode((length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff, type, flags, (streamId >>> 24) & 0x7f, (streamId >>> 16) & 0xff, (streamId >>> 8) & 0xff, streamId & 0xff);
}

/**
 * DATA (RFC 9113 §6.1), padded with `pad` zero bytes when given.
 *
 * @example
 * ```ts
 * socket.write(dataFrame(1, Buffer.from('hello'), true)); // the last DATA of stream 1
 * ```
 */
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

/**
 * HEADERS (+ CONTINUATION frames when the block is larger than `maxFrameSize`).
 *
 * @example
 * ```ts
 * const block = new HpackEncoder().encode([[':status', '200'], ['content-type', 'text/plain']]);
 * for (const f of headersFrames(1, block, { endStream: false, maxFrameSize: 16384 })) socket.write(f);
 * ```
 */
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

/**
 * PRIORITY (RFC 9113 §6.3; deprecated, still parsed).
 *
 * @example
 * ```ts
 * priorityFrame(3, { exclusive: false, dependency: 1, weight: 16 });
 * ```
 */
export function priorityFrame(streamId: number, p: Priority): Buffer {
  return rawFrame(T_PRIORITY, 0, streamId, priorityBytes(p));
}

/**
 * RST_STREAM with an error code (RFC 9113 §6.4).
 *
 * @example
 * ```ts
 * socket.write(rstStreamFrame(5, H2.CANCEL));
 * ```
 */
export function rstStreamFrame(streamId: number, code: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(code, 0);
  return rawFrame(T_RST_STREAM, 0, streamId, b);
}

/**
 * SETTINGS with the given pairs, or its acknowledgement (RFC 9113 §6.5).
 *
 * @example
 * ```ts
 * socket.write(settingsFrame([[S_MAX_CONCURRENT_STREAMS, 100], [S_INITIAL_WINDOW_SIZE, 1 << 20]]));
 * socket.write(settingsFrame([], true)); // ACK
 * ```
 */
export function settingsFrame(settings: ReadonlyArray<readonly [number, number]>, ack = false): Buffer {
  const b = Buffer.allocUnsafe(settings.length * 6);
  settings.forEach(([id, v], k) => {
    b.writeUInt16BE(id, k * 6);
    b.writeUInt32BE(v, k * 6 + 2);
  });
  return rawFrame(T_SETTINGS, ack ? F_ACK : 0, 0, b);
}

/**
 * PUSH_PROMISE (RFC 9113 §6.6), for peers that take pushes.
 *
 * @example
 * ```ts
 * socket.write(pushPromiseFrame(1, 2, encoder.encode([[':method', 'GET'], [':path', '/style.css']])));
 * ```
 */
export function pushPromiseFrame(streamId: number, promisedStreamId: number, block: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(4 + block.length);
  b.writeUInt32BE(promisedStreamId, 0);
  b.set(block, 4);
  return rawFrame(T_PUSH_PROMISE, F_END_HEADERS, streamId, b);
}

/**
 * PING with its 8 bytes of data, or the acknowledgement echoing them (RFC 9113 §6.7).
 *
 * @example
 * ```ts
 * socket.write(pingFrame(Buffer.from('12345678')));
 * socket.write(pingFrame(received, true)); // the answer to a peer's PING
 * ```
 */
export function pingFrame(data: Uint8Array, ack = false): Buffer {
  return rawFrame(T_PING, ack ? F_ACK : 0, 0, data);
}

/**
 * GOAWAY: the last stream processed, the code, and debug data (RFC 9113 §6.8).
 *
 * @example
 * ```ts
 * socket.write(goawayFrame(lastStreamId, H2.NO_ERROR)); // graceful: streams above lastStreamId may be retried
 * ```
 */
export function goawayFrame(lastStreamId: number, code: number, debug: string | Uint8Array = ''): Buffer {
  const d = typeof debug === 'string' ? Buffer.from(debug) : debug;
  const b = Buffer.allocUnsafe(8 + d.length);
  b.writeUInt32BE(lastStreamId, 0);
  b.writeUInt32BE(code, 4);
  b.set(d, 8);
  return rawFrame(T_GOAWAY, 0, 0, b);
}

/**
 * WINDOW_UPDATE for a stream, or the connection when `streamId` is 0 (RFC 9113 §6.9).
 *
 * @example
 * ```ts
 * socket.write(windowUpdateFrame(0, 1 << 20)); // a megabyte more for the whole connection
 * ```
 */
export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(increment, 0);
  return rawFrame(T_WINDOW_UPDATE, 0, streamId, b);
}
