import type { ConnectionHandler, Timed, TimeoutKind } from '../net/index.js';

/** What the tunnel needs from its session (implemented by Http2Session). */
export interface TunnelHost {
  sendData(data: Buffer, endStream: boolean): boolean;
  sendHeaders(fields: Array<[string, string]>, endStream: boolean): void;
  reset(code: number): void;
  flush(): void;
  readonly queued: number;
  readonly sweeper: { add(t: Timed): void; delete(t: Timed): void; deadline(ms: number): number };
}

/**
 * An HTTP/2 stream used as a byte tunnel (extended CONNECT, RFC 8441): DATA in both directions within the
 * flow-control windows, END_STREAM as a graceful end, RST_STREAM as an abrupt one. It has the surface a
 * protocol handler expects from a connection (write/flush/end/destroy, timeouts on the shared sweeper),
 * so a WebSocket runs on it unchanged.
 *
 * @example
 * ```ts
 * createServer(handler, {
 *   onConnect(req, protocol, tunnel) {
 *     if (protocol !== 'echo') return false; // 501
 *     tunnel.respond(200);
 *     tunnel.handler = { onData: (chunk) => tunnel.write(chunk), onEnd: () => tunnel.end() };
 *     return true;
 *   },
 * });
 * ```
 */
export class Http2Tunnel implements Timed {
  /** Receives the tunnel's bytes (`onData`), its end (`onEnd`) and its closing (`onClose`). */
  handler: ConnectionHandler | null = null;
  deadline = 0;
  #kind: TimeoutKind = 'idle';
  #host: TunnelHost;
  #ended = false;
  closed = false;

  /** @internal */
  constructor(host: TunnelHost) {
    this.#host = host;
  }

  /** Answers the CONNECT (RFC 8441 §5: a 2xx opens the tunnel). */
  respond(status: number, headers: Record<string, string> = {}): void {
    const fields: Array<[string, string]> = [[':status', String(status)]];
    for (const [k, v] of Object.entries(headers)) fields.push([k.toLowerCase(), v]);
    this.#host.sendHeaders(fields, status < 200 || status >= 300);
  }

  write(data: Buffer): boolean {
    if (this.#ended || this.closed) return false;
    return this.#host.sendData(data, false);
  }

  flush(): void {
    this.#host.flush();
  }

  get bufferedAmount(): number {
    return this.#host.queued;
  }

  setTimeout(kind: TimeoutKind, ms: number): void {
    this.#kind = kind;
    this.deadline = this.#host.sweeper.deadline(ms);
    if (this.deadline !== 0) this.#host.sweeper.add(this);
  }

  clearTimeout(): void {
    this.deadline = 0;
  }

  /** @internal Sweeper callback. */
  onDeadline(): void {
    const h = this.handler;
    if (h?.onTimeout !== undefined) h.onTimeout(this.#kind);
    else this.destroy();
  }

  end(): void {
    if (this.#ended || this.closed) return;
    this.#ended = true;
    this.#host.sendData(Buffer.alloc(0), true);
  }

  destroy(): void {
    if (this.closed) return;
    this.#host.reset(0x8); // CANCEL
  }

  /** @internal The session delivers the stream's events. */
  _data(chunk: Buffer): void {
    this.handler?.onData(chunk);
  }
  /** @internal */
  _end(): void {
    this.handler?.onEnd?.();
  }
  /** @internal */
  _close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#host.sweeper.delete(this);
    this.handler?.onClose?.(undefined);
  }
}
