/**
 * The few events a response emits — `'head'` (the head is about to be written: headers may still be
 * set), `'drain'` (backpressure relieved), `'finish'` (`end` called), `'close'` (connection or stream
 * gone) — without an EventEmitter per response: listeners are stored
 * only when someone listens. Shared by the HTTP/1.1 and HTTP/2 responses.
 */
export type ResponseEvent = 'head' | 'drain' | 'finish' | 'close';

/**
 * The events a response emits (head, drain, finish, close) for HTTP/1.1, HTTP/2 and HTTP/3 alike.
 *
 * @example
 * ```ts
 * res.once('finish', () => metrics.observe(res.statusCode));
 * res.once('close', () => upstream.abort());
 * ```
 */
export class ResponseEvents {
  #listeners: Map<ResponseEvent, Array<() => void>> | null = null;

  on(event: ResponseEvent, fn: () => void): this {
    const m = (this.#listeners ??= new Map());
    const list = m.get(event);
    if (list === undefined) m.set(event, [fn]);
    else list.push(fn);
    return this;
  }

  once(event: ResponseEvent, fn: () => void): this {
    const wrapped = (): void => {
      this.off(event, wrapped);
      fn();
    };
    return this.on(event, wrapped);
  }

  off(event: ResponseEvent, fn: () => void): this {
    const list = this.#listeners?.get(event);
    if (list !== undefined) {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }

  /** Resolves when the connection can take more (after a `write` returned false), or it closed. */
  drained(): Promise<void> {
    return new Promise((resolve) => this.once('drain', resolve).once('close', resolve));
  }

  /** @internal */
  _emit(event: ResponseEvent): void {
    const list = this.#listeners?.get(event);
    if (list === undefined || list.length === 0) return;
    for (const fn of list.slice()) fn();
  }
}
