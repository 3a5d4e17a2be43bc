/**
 * An Http2Session on a connection of our own, in process: bytes in through `onData`, every frame the
 * session writes decoded (header blocks through HPACK), the connection's timeouts, flushes and end recorded.
 * No socket, no timing: a test decides what arrives and when.
 */
import {
  FrameParser, HpackDecoder, HpackEncoder, Http2Session, PREFACE, headersFrames, settingsFrame,
  type Frame, type Http2Handler, type Http2SessionOptions,
} from '../../lib/http2/index.js';
import type { Connection, Timed, TimeoutKind } from '../../lib/net/index.js';

/** A decoded frame; HEADERS carry their decoded fields. */
export type Seen = Frame & { fields?: Array<[string, string]> };

/** The members of `Connection` a session uses, recording what it does with them. */
export class FakeConn {
  readonly written: Buffer[] = [];
  closed = false;
  ended = false;
  destroyed = false;
  flushes = 0;
  bufferedAmount = 0;
  writeBlocked = false;
  remoteAddress = '192.0.2.7';
  timeout: { kind: TimeoutKind; ms: number } | null = null;
  readonly timed = new Set<Timed>();
  readonly sweeper = {
    httpDate: 'Sun, 06 Dec 2026 12:00:00 GMT',
    add: (t: Timed) => void this.timed.add(t),
    delete: (t: Timed) => void this.timed.delete(t),
    deadline: (ms: number) => (ms > 0 ? 1_000 + ms : 0),
  };
  #out: ((b: Buffer) => void) | null = null;
  onWrite(fn: (b: Buffer) => void): void {
    this.#out = fn;
  }
  write(data: Buffer | Uint8Array | string): boolean {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data); // strings are latin1, as Connection.write takes them
    this.written.push(b);
    this.#out?.(b);
    return true;
  }
  flush(): void {
    this.flushes++;
  }
  end(): void {
    this.ended = true;
    this.closed = true;
  }
  destroy(): void {
    this.destroyed = true;
    this.closed = true;
  }
  setTimeout(kind: TimeoutKind, ms: number): void {
    this.timeout = { kind, ms };
  }
  clearTimeout(): void {
    this.timeout = null;
  }
}

export interface Harness {
  session: Http2Session;
  conn: FakeConn;
  /** Every frame written so far. */
  frames: Seen[];
  /** Frames written since the last call. */
  fresh(): Seen[];
  /** The client's HPACK encoder. */
  enc: HpackEncoder;
  /** Bytes to the session (one `onData` call). */
  send(...b: Buffer[]): void;
  /** Preface and an empty SETTINGS, then our SETTINGS acknowledged (unless `ack` is false). */
  open(settings?: Array<[number, number]>, ack?: boolean): void;
  /** HEADERS for a request on stream `id`. */
  request(id: number, fields?: Array<[string, string]>, endStream?: boolean): void;
  /** What reached the client for stream `id`: :status, body, RST code (or null), END_STREAM seen. */
  stream(id: number): { status: string | undefined; headers: Array<[string, string]>; body: string; rst: number | null; ended: boolean; trailers: Array<[string, string]> | undefined };
  goaway(): Extract<Frame, { type: 7 }> | undefined;
}

export const GET: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'a']];

export function harness(handler: Http2Handler = (_req, res) => res.end('ok'), options: Http2SessionOptions = {}): Harness {
  const conn = new FakeConn();
  const frames: Seen[] = [];
  let seen = 0;
  const dec = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
  const parser = new FrameParser(
    {
      onFrame: (f) => {
        const s = f as Seen;
        if (f.type === 1) s.fields = dec.decode(f.block).map(([n, v]) => [n, v]);
        frames.push(s);
      },
      onStreamError: (e) => {
        throw e;
      },
    },
    { maxFrameSize: 1 << 24 },
  );
  conn.onWrite((b) => parser.push(b));
  const session = new Http2Session(conn as unknown as Connection, handler, options);
  const enc = new HpackEncoder();
  const h: Harness = {
    session,
    conn,
    frames,
    enc,
    fresh: () => frames.slice(seen, (seen = frames.length)),
    send: (...b) => session.onData(Buffer.concat(b)),
    open(settings = [], ack = true) {
      h.send(PREFACE, settingsFrame(settings));
      if (ack) h.send(settingsFrame([], true));
    },
    request(id, fields = GET, endStream = true) {
      h.send(...headersFrames(id, enc.encode(fields), { endStream }));
    },
    stream(id) {
      const mine = frames.filter((f) => 'streamId' in f && f.streamId === id);
      const hs = mine.filter((f) => f.type === 1);
      const rst = mine.find((f) => f.type === 3) as Extract<Frame, { type: 3 }> | undefined;
      const fields = hs[0]?.fields ?? [];
      return {
        status: fields.find(([n]) => n === ':status')?.[1],
        headers: fields,
        body: Buffer.concat(mine.filter((f): f is Extract<Frame, { type: 0 }> => f.type === 0).map((f) => f.data)).toString(),
        rst: rst?.code ?? null,
        ended: mine.some((f) => (f.type === 0 || f.type === 1) && f.endStream),
        trailers: hs[1]?.fields,
      };
    },
    goaway: () => frames.find((f): f is Extract<Frame, { type: 7 }> => f.type === 7),
  };
  return h;
}
