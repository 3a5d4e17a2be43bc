/**
 * gRPC-Web's text mode (`application/grpc-web-text`, PROTOCOL-WEB.md): the whole body, request and
 * response, is base64. The encoder turns a byte stream into base64 as it goes, keeping the 0–2 bytes that
 * do not fill a 3-byte group for the next write (padding only at the end, so the stream is one base64
 * text); the decoder takes text split anywhere, and also bodies made of separately padded segments, which
 * some clients send (each write encoded on its own).
 */
import { GrpcError, Status } from './status.js';

/**
 * Bytes to one base64 text, written as they come (gRPC-Web text mode).
 *
 * @example
 * ```ts
 * const enc = new Base64Encoder();
 * res.write(enc.push(Buffer.from('hell'))); // 'aGVs' ('l' held back)
 * res.write(enc.push(Buffer.from('o')));    // ''
 * res.end(enc.end());                        // 'bG8='
 * ```
 */
export class Base64Encoder {
  #rest: Buffer | null = null;

  /** Base64 for `bytes` and what was held back, minus the new 0–2 bytes held back. */
  push(bytes: Buffer): string {
    const all = this.#rest === null ? bytes : Buffer.concat([this.#rest, bytes]);
    const n = all.length - (all.length % 3);
    this.#rest = n === all.length ? null : Buffer.from(all.subarray(n));
    return all.subarray(0, n).toString('base64');
  }

  /** The bytes held back, padded: the end of the text. */
  end(): string {
    const r = this.#rest;
    this.#rest = null;
    return r === null ? '' : r.toString('base64');
  }
}

const GROUP = /^[A-Za-z0-9+/]{4}$|^[A-Za-z0-9+/]{3}=$|^[A-Za-z0-9+/]{2}==$/;

/**
 * Base64 text split anywhere back to bytes (gRPC-Web text mode), separately padded segments included.
 *
 * @example
 * ```ts
 * const dec = new Base64Decoder();
 * const bytes = Buffer.concat([dec.push(Buffer.from('aGVsbG')), dec.push(Buffer.from('8='))]); // 'hello'
 * ```
 */
export class Base64Decoder {
  #pending = '';

  /** The bytes of every complete 4-character group so far; throws INTERNAL on a character that is not base64. */
  push(chunk: Buffer): Buffer {
    const text = this.#pending + chunk.toString('latin1').replace(/[\r\n\t ]/g, '');
    const n = text.length - (text.length % 4);
    this.#pending = text.slice(n);
    if (n === 0) return Buffer.alloc(0);
    const out: Buffer[] = [];
    let run = 0; // start of the current run of unpadded groups
    for (let i = 0; i < n; i += 4) {
      const g = text.slice(i, i + 4);
      if (!GROUP.test(g)) throw new GrpcError(Status.INTERNAL, 'the grpc-web-text body is not base64');
      if (g.charCodeAt(3) === 61 /* = */) {
        // A padded group ends a segment: decode the run before it, then it alone (Node stops at '=').
        if (i > run) out.push(Buffer.from(text.slice(run, i), 'base64'));
        out.push(Buffer.from(g, 'base64'));
        run = i + 4;
      }
    }
    if (run < n) out.push(Buffer.from(text.slice(run, n), 'base64'));
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** The body ended: throws INTERNAL when it stopped inside a group. */
  end(): void {
    if (this.#pending !== '') throw new GrpcError(Status.INTERNAL, 'the grpc-web-text body ended inside a base64 group');
  }
}
