/**
 * Server-Sent Events (WHATWG HTML §9.2): a stream per client with heartbeats, backpressure, and resume —
 * a topic keeps its recent events so a client reconnecting with `Last-Event-ID` gets what it missed
 * (or a `reset` event when that is no longer kept).
 */
import type { Context } from '../context.js';
import { ANSWERED } from '../reply.js';

export interface SseEvent {
  /** Event id (a topic assigns increasing ids). */
  id?: string;
  /** Event type (default `message`). */
  event?: string;
  /** Text, or a value sent as JSON. */
  data: unknown;
}

export interface SseOptions {
  /** Comment lines sent this often keep proxies from closing an idle stream. Default 15 000 ms. */
  heartbeatMs?: number;
  /** Reconnection delay the browser should use (`retry:`), ms. */
  retryMs?: number;
  /** A client this far behind (bytes unsent) is disconnected. Default 1 MiB. */
  maxBufferedBytes?: number;
}



/**
 * One client's event stream.
 *
 * @example
 * ```ts
 * app.get('/events', (ctx) => {
 *   const stream = sse(ctx); // the handler returns nothing: the stream stays open
 *   stream.send({ event: 'hello', data: 'hi' });
 *   const timer = setInterval(() => stream.send({ data: new Date().toISOString() }), 1000);
 *   stream.onClose(() => clearInterval(timer));
 * });
 * ```
 */
export class SseStream {
  /** A handler may return the stream (`return topic.subscribe(ctx)`): it answers by itself, nothing is serialized. */
  readonly [ANSWERED] = true;
  readonly #ctx: Context;
  #closed = false;
  #heartbeat: NodeJS.Timeout | null = null;
  #buffered = 0;
  readonly #max: number;
  #onClose: Array<() => void> = [];

  /** @internal */
  constructor(ctx: Context, options: SseOptions) {
    this.#ctx = ctx;
    this.#max = options.maxBufferedBytes ?? 1024 * 1024;
    const res = ctx.res;
    res.statusCode = 200;
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('x-accel-buffering', 'no'); // nginx: do not buffer the stream
    res.write(options.retryMs === undefined ? ': stream\n\n' : `retry: ${options.retryMs}\n\n`);
    res.once('close', () => this.#end());
    const hb = options.heartbeatMs ?? 15_000;
    if (hb > 0) {
      this.#heartbeat = setInterval(() => this.#write(': ping\n\n'), hb);
      this.#heartbeat.unref();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends an event. False when the client is not keeping up (wait for `drained()`); dropped after close. */
  send(e: SseEvent): boolean {
    let out = '';
    if (e.id !== undefined) out += `id: ${e.id.replace(/[\r\n]/g, '')}\n`;
    if (e.event !== undefined) out += `event: ${e.event.replace(/[\r\n]/g, '')}\n`;
    const data = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
    for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
    return this.#write(`${out}\n`);
  }

  #write(text: string): boolean {
    if (this.#closed) return false;
    const res = this.#ctx.res;
    // Ended by someone else (the handler returned a value, the server closed it): gone, not an error.
    if (res.finished) {
      this.#end();
      return false;
    }
    let ok: boolean;
    try {
      ok = res.write(text);
    } catch {
      this.#end();
      return false;
    }
    if (ok) this.#buffered = 0;
    else {
      this.#buffered += Buffer.byteLength(text);
      if (this.#buffered > this.#max) this.close(); // too slow: drop it rather than buffer without bound
    }
    return ok;
  }

  /** Resolves when the client has taken what was sent (or the stream closed). */
  drained(): Promise<void> {
    return this.#ctx.res.drained().then(() => {
      this.#buffered = 0;
    });
  }

  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#onClose.push(fn);
  }

  close(): void {
    if (this.#closed) return;
    this.#ctx.res.end();
    this.#end();
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    for (const fn of this.#onClose) fn();
    this.#onClose = [];
  }
}

/**
 * Opens an event stream on this request (the handler returns nothing; the stream stays open).
 *
 * @example
 * ```ts
 * app.get('/clock', (ctx) => {
 *   const s = sse(ctx, { heartbeatMs: 15_000 });
 *   const t = setInterval(() => s.send({ event: 'tick', data: Date.now() }), 1000);
 *   s.onClose(() => clearInterval(t));
 * });
 * ```
 */
export function sse(ctx: Context, options: SseOptions = {}): SseStream {
  return new SseStream(ctx, options);
}

/**
 * A topic many clients follow: publish once, every subscriber gets it; the last `keep` events are kept
 * for clients that reconnect with `Last-Event-ID`.
 *
 * @example
 * ```ts
 * const feed = new SseTopic({ keep: 1000 });
 * app.get('/events', (ctx) => { feed.subscribe(ctx); });
 * feed.publish({ event: 'note', data: note });
 * ```
 */
export class SseTopic {
  readonly #keep: number;
  readonly #log: Array<Required<Pick<SseEvent, 'id'>> & SseEvent> = [];
  #seq = 0;
  readonly #subs = new Set<SseStream>();
  readonly #options: SseOptions;

  constructor(options: SseOptions & { keep?: number } = {}) {
    this.#keep = options.keep ?? 1000;
    this.#options = options;
  }

  get subscribers(): number {
    return this.#subs.size;
  }

  /** Streams this topic to the request's client, first replaying what it missed. */
  subscribe(ctx: Context): SseStream {
    const s = sse(ctx, this.#options);
    const last = ctx.req.get('last-event-id');
    if (last !== undefined) {
      const n = Number(last);
      const first = this.#log[0];
      if (Number.isInteger(n) && first !== undefined && n >= Number(first.id) - 1) {
        for (const e of this.#log) if (Number(e.id) > n) s.send(e);
      } else if (Number.isInteger(n) && n < this.#seq) {
        s.send({ event: 'reset', data: 'events were missed; reload the state' });
      }
    }
    this.#subs.add(s);
    s.onClose(() => this.#subs.delete(s));
    return s;
  }

  /** Sends to every subscriber and keeps it for resumes. Returns the event id. */
  publish(e: Omit<SseEvent, 'id'>): string {
    const id = String(++this.#seq);
    const ev = { ...e, id };
    this.#log.push(ev);
    if (this.#log.length > this.#keep) this.#log.shift();
    for (const s of this.#subs) s.send(ev);
    return id;
  }

  close(): void {
    for (const s of [...this.#subs]) s.close();
  }
}
