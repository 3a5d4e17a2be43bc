/** HTTP/3 bytes the QUIC tests answer with (no HTTP/3 layer yet): frames, and QPACK literal field lines. */
import { encodeVarint } from '../../lib/quic/index.js';

/** An HTTP/3 frame (RFC 9114 §7.1): type, length, payload. */
export const h3Frame = (type: number, payload: Buffer) => Buffer.concat([encodeVarint(type), encodeVarint(payload.length), payload]);

/** An integer with an N-bit prefix (RFC 9204 §4.1.1, as HPACK's). */
function prefixInt(first: number, bits: number, x: number): Buffer {
  const max = 2 ** bits - 1;
  if (x < max) return Buffer.from([first | x]);
  const out = [first | max];
  x -= max;
  while (x >= 128) {
    out.push((x % 128) | 128);
    x = Math.floor(x / 128);
  }
  out.push(x);
  return Buffer.from(out);
}

/** A QPACK field section of literal names and values (RFC 9204 §4.5.6), with no dynamic table reference. */
export function fieldSection(fields: Array<[string, string]>): Buffer {
  const lines = fields.map(([n, v]) => Buffer.concat([prefixInt(0x20, 3, n.length), Buffer.from(n), prefixInt(0x00, 7, v.length), Buffer.from(v)]));
  return Buffer.concat([Buffer.from([0x00, 0x00]), ...lines]);
}

/** A response: HEADERS then DATA. */
export const response = (status: number, body: Buffer, type = 'text/plain') => Buffer.concat([h3Frame(0x01, fieldSection([[':status', String(status)], ['content-type', type]])), h3Frame(0x00, body)]);

/** Our control stream's bytes: its type (0x00), then an empty SETTINGS frame. */
export const controlStream = () => Buffer.concat([encodeVarint(0x00), h3Frame(0x04, Buffer.alloc(0))]);
