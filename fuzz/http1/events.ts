/**
 * Runs an HTTP/1 parser over input split at given points and records a normalised event log, so that
 * different splits (and different parsers) can be compared with one `expect(...).toEqual(...)`.
 */
import { Http1Parser, type Http1ParserOptions, type MessageHead, type ParserKind } from '../../lib/http1/index.js';
import type { ParserLike } from '../../wasm/llhttp.js';

export type Event =
  | { type: 'head'; method: string; url: string; version: string; status: number; reason: string; headers: string[]; keepAlive: boolean; upgrade: boolean; contentLength: number; chunked: boolean }
  | { type: 'body'; data: string }
  | { type: 'trailers'; trailers: string[] }
  | { type: 'complete' };

export interface RunResult {
  events: Event[];
  /** Error code, or null when all input was accepted. */
  error: string | null;
  status: number | null;
  /** Bytes consumed in total (less than the input after an Upgrade). */
  consumed: number;
  upgraded: boolean;
  /** The parser was between messages at the end (false: a message was cut short). */
  idle: boolean;
}

export type ParserFactory = (kind: ParserKind, handler: import('../../lib/http1/index.js').Http1ParserHandler) => ParserLike & { upgraded?: boolean };

export const ours =
  (options?: Http1ParserOptions): ParserFactory =>
  (kind, handler) =>
    new Http1Parser(kind, handler, options);

/** Parse `input` cut at `splits` (sorted offsets); merges adjacent body events. */
export function run(input: Buffer, splits: number[] = [], kind: ParserKind = 'request', make: ParserFactory = ours(), eof = false): RunResult {
  const events: Event[] = [];
  const handler = {
    onHeadersComplete(h: MessageHead) {
      events.push({
        type: 'head',
        method: h.method,
        url: h.url,
        version: `${h.versionMajor}.${h.versionMinor}`,
        status: h.statusCode,
        reason: h.statusMessage,
        headers: [...h.headers],
        keepAlive: h.keepAlive,
        upgrade: h.upgrade,
        contentLength: h.contentLength,
        chunked: h.chunked,
      });
    },
    onBody(b: Buffer) {
      const last = events[events.length - 1];
      const s = b.toString('latin1');
      if (last?.type === 'body') last.data += s;
      else events.push({ type: 'body', data: s });
    },
    onTrailers(t: string[]) {
      events.push({ type: 'trailers', trailers: [...t] });
    },
    onMessageComplete() {
      events.push({ type: 'complete' });
    },
  };
  const p = make(kind, handler);
  const cuts = [0, ...splits.filter((s) => s > 0 && s < input.length), input.length];
  let consumed = 0;
  let error: string | null = null;
  let status: number | null = null;
  try {
    for (let k = 0; k + 1 < cuts.length; k++) {
      const piece = input.subarray(cuts[k], cuts[k + 1]);
      const n = p.execute(piece);
      consumed += n;
      if (n < piece.length) break; // upgraded (or paused)
    }
    if (eof) p.finish();
  } catch (err) {
    const e = err as { code?: string; status?: number };
    error = e.code ?? String(err);
    status = e.status ?? null;
  }
  const idle = (p as { idle?: boolean }).idle ?? true;
  return { events, error, status, consumed, upgraded: p.upgraded === true, idle };
}

/** Every single-cut split plus byte-by-byte: the strongest split-invariance check for short inputs. */
export function allSplits(input: Buffer): number[][] {
  const out: number[][] = [[]];
  for (let i = 1; i < input.length; i++) out.push([i]);
  out.push(Array.from({ length: input.length }, (_, i) => i));
  return out;
}

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');
