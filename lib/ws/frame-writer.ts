/**
 * Frame serialization (RFC 6455 §5.2): a header for a payload, returned separately so the connection can
 * write `[header, payload]` with one writev and no copy of the payload (server side). Client frames are
 * masked (§5.3) into a copy, with keys from a pooled block of random bytes.
 *
 * @example
 * ```ts
 * const [head, body] = frame(OP_TEXT, Buffer.from('hi'), { fin: true });
 * socket.cork(); socket.write(head); socket.write(body); socket.uncork();
 * ```
 */
import { randomFillSync } from 'node:crypto';
import { applyMask } from './mask.js';

export interface FrameOptions {
  fin?: boolean;
  rsv1?: boolean;
  /** Mask the payload (clients must, RFC 6455 §5.1). */
  mask?: boolean;
}

const RANDOM_POOL = 8 * 1024;
let pool = Buffer.alloc(0);
let poolOffset = RANDOM_POOL;

/** Four fresh random bytes for a masking key (RFC 6455 §5.3 asks for an unpredictable key per frame). */
function maskKey(): Buffer {
  if (poolOffset + 4 > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(RANDOM_POOL));
    poolOffset = 0;
  }
  const k = pool.subarray(poolOffset, poolOffset + 4);
  poolOffset += 4;
  return k;
}

/**
 * The header bytes for a frame of `length` bytes (with room for a masking key when `mask`).
 *
 * @example
 * ```ts
 * const payload = Buffer.from('hi');
 * socket.write(Buffer.concat([frameHeader(OP_TEXT, payload.length), payload])); // a server's unmasked text frame
 * ```
 */
export function frameHeader(opcode: number, length: number, options: FrameOptions = {}, key?: Uint8Array): Buffer {
  const fin = options.fin ?? true;
  const masked = options.mask === true;
  const ext = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = Buffer.allocUnsafe(2 + ext + (masked ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | (options.rsv1 ? 0x40 : 0) | opcode;
  const m = masked ? 0x80 : 0;
  if (ext === 0) head[1] = m | length;
  else if (ext === 2) {
    head[1] = m | 126;
    head.writeUInt16BE(length, 2);
  } else {
    head[1] = m | 127;
    head.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    head.writeUInt32BE(length >>> 0, 6);
  }
  if (masked && key !== undefined) head.set(key, 2 + ext);
  return head;
}

/**
 * A complete frame as `[header, payload]`. With `mask`, the payload is a masked copy; otherwise it is the
 * caller's bytes, untouched.
 *
 * @example
 * ```ts
 * const [head, body] = frame(OP_BINARY, data, { mask: true }); // a client's frame
 * socket.write(head);
 * socket.write(body);
 * ```
 */
export function frame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): [Buffer, Buffer] {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (options.mask !== true) return [frameHeader(opcode, data.length, options), data];
  const key = maskKey();
  const head = frameHeader(opcode, data.length, options, key);
  const masked = Buffer.allocUnsafe(data.length);
  data.copy(masked);
  applyMask(masked, 0, masked.length, key);
  return [head, masked];
}

/**
 * A frame as one buffer (for small control frames and tests).
 *
 * @example
 * ```ts
 * socket.write(frameBytes(OP_PING, Buffer.from('are you there')));
 * ```
 */
export function frameBytes(opcode: number, payload: Uint8Array, options: FrameOptions = {}): Buffer {
  const [h, p] = frame(opcode, payload, options);
  return Buffer.concat([h, p]);
}

/**
 * Close frame payload: 2-byte code + UTF-8 reason (RFC 6455 §5.5.1).
 *
 * @example
 * ```ts
 * socket.write(frameBytes(OP_CLOSE, closePayload(1001, 'going away')));
 * ```
 */
export function closePayload(code?: number, reason = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const r = Buffer.from(reason, 'utf8');
  const b = Buffer.allocUnsafe(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}
