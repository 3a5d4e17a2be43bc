/**
 * QUIC frames (RFC 9000 §19), read one after another from a packet's payload: each type's fields and
 * lengths, so a packet can be walked whole; a frame cut short or of an unknown type is FRAME_ENCODING_ERROR
 * (§12.4) — the connection's to answer.
 */
import { readVarint } from './varint.js';

/**
 * FRAME_ENCODING_ERROR (RFC 9000 §20.1).
 *
 * @example
 * ```ts
 * try {
 *   readFrames(payload);
 * } catch (err) {
 *   if (err instanceof FrameError) closeWith(0x07, err.message); // FRAME_ENCODING_ERROR
 * }
 * ```
 */
export class FrameError extends Error {
  override name = 'FrameError';
  readonly code = 0x07;
}

export type Frame =
  | { type: 'padding' }
  | { type: 'ping' }
  | { type: 'ack'; largest: number; delay: number; ranges: Array<[number, number]>; ecn: boolean }
  | { type: 'reset_stream'; stream: number; code: number; finalSize: number }
  | { type: 'stop_sending'; stream: number; code: number }
  | { type: 'crypto'; offset: number; data: Buffer }
  | { type: 'new_token'; token: Buffer }
  | { type: 'stream'; stream: number; offset: number; data: Buffer; fin: boolean }
  | { type: 'max_data'; max: number }
  | { type: 'max_stream_data'; stream: number; max: number }
  | { type: 'max_streams'; bidi: boolean; max: number }
  | { type: 'data_blocked'; limit: number }
  | { type: 'stream_data_blocked'; stream: number; limit: number }
  | { type: 'streams_blocked'; bidi: boolean; limit: number }
  | { type: 'new_connection_id'; seq: number; retirePriorTo: number; cid: Buffer; resetToken: Buffer }
  | { type: 'retire_connection_id'; seq: number }
  | { type: 'path_challenge'; data: Buffer }
  | { type: 'path_response'; data: Buffer }
  | { type: 'connection_close'; app: boolean; code: number; frameType: number; reason: string }
  | { type: 'handshake_done' };

/**
 * Every frame of a payload.
 *
 * @example
 * ```ts
 * for (const f of readFrames(packet.payload)) if (f.type === 'stream') streams.get(f.stream)?.push(f);
 * ```
 */
export function readFrames(p: Buffer): Frame[] {
  const out: Frame[] = [];
  let i = 0;
  const v = (): number => {
    try {
      const r = readVarint(p, i);
      i = r.next;
      return r.value;
    } catch {
      throw new FrameError('a frame field runs past the packet');
    }
  };
  const bytes = (n: number): Buffer => {
    if (i + n > p.length) throw new FrameError('a frame runs past the packet');
    const b = p.subarray(i, i + n);
    i += n;
    return b;
  };
  while (i < p.length) {
    const t = v();
    if (t === 0x00) {
      // A run of PADDING is one frame here (an Initial carries a thousand of them): no object per byte.
      while (i < p.length && p[i] === 0x00) i++;
      out.push({ type: 'padding' });
    }
    else if (t === 0x01) out.push({ type: 'ping' });
    else if (t === 0x02 || t === 0x03) {
      const largest = v();
      const delay = v();
      const count = v();
      let hi = largest;
      let lo = hi - v();
      if (lo < 0) throw new FrameError('an ACK range below 0');
      const ranges: Array<[number, number]> = [[lo, hi]];
      for (let k = 0; k < count; k++) {
        hi = lo - v() - 2;
        lo = hi - v();
        if (lo < 0) throw new FrameError('an ACK range below 0');
        ranges.push([lo, hi]);
      }
      if (t === 0x03) for (let k = 0; k < 3; k++) v();
      out.push({ type: 'ack', largest, delay, ranges, ecn: t === 0x03 });
    } else if (t === 0x04) out.push({ type: 'reset_stream', stream: v(), code: v(), finalSize: v() });
    else if (t === 0x05) out.push({ type: 'stop_sending', stream: v(), code: v() });
    else if (t === 0x06) {
      const offset = v();
      out.push({ type: 'crypto', offset, data: bytes(v()) });
    } else if (t === 0x07) out.push({ type: 'new_token', token: bytes(v()) });
    else if (t >= 0x08 && t <= 0x0f) {
      const stream = v();
      const offset = (t & 0x04) !== 0 ? v() : 0;
      const data = (t & 0x02) !== 0 ? bytes(v()) : bytes(p.length - i);
      out.push({ type: 'stream', stream, offset, data, fin: (t & 0x01) !== 0 });
    } else if (t === 0x10) out.push({ type: 'max_data', max: v() });
    else if (t === 0x11) out.push({ type: 'max_stream_data', stream: v(), max: v() });
    else if (t === 0x12 || t === 0x13) out.push({ type: 'max_streams', bidi: t === 0x12, max: v() });
    else if (t === 0x14) out.push({ type: 'data_blocked', limit: v() });
    else if (t === 0x15) out.push({ type: 'stream_data_blocked', stream: v(), limit: v() });
    else if (t === 0x16 || t === 0x17) out.push({ type: 'streams_blocked', bidi: t === 0x16, limit: v() });
    else if (t === 0x18) {
      const seq = v();
      const retirePriorTo = v();
      const len = bytes(1)[0]!;
      if (len < 1 || len > 20) throw new FrameError('a NEW_CONNECTION_ID of a bad length');
      out.push({ type: 'new_connection_id', seq, retirePriorTo, cid: bytes(len), resetToken: bytes(16) });
    } else if (t === 0x19) out.push({ type: 'retire_connection_id', seq: v() });
    else if (t === 0x1a) out.push({ type: 'path_challenge', data: bytes(8) });
    else if (t === 0x1b) out.push({ type: 'path_response', data: bytes(8) });
    else if (t === 0x1c || t === 0x1d) {
      const code = v();
      const frameType = t === 0x1c ? v() : 0;
      out.push({ type: 'connection_close', app: t === 0x1d, code, frameType, reason: bytes(v()).toString('utf8') });
    } else if (t === 0x1e) out.push({ type: 'handshake_done' });
    else throw new FrameError(`unknown frame type 0x${t.toString(16)}`);
  }
  return out;
}
