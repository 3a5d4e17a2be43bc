/**
 * What a handler knows of its call, besides the messages: the request metadata, the deadline, a signal
 * that fires when the call is over for it (deadline passed, client cancelled, server closing), and the
 * response metadata it may send.
 */
import type { Http1Request } from '../http1/index.js';
import { Metadata } from './metadata.js';
import type { Encoding } from './compression.js';

/**
 * @example
 * ```ts
 * const impl = {
 *   async GetFeature(point: Point, call: ServerCall) {
 *     const user = call.metadata.get('x-user');
 *     call.trailers.set('x-served-by', 'covet');
 *     return features.lookup(point, { signal: call.signal });
 *   },
 * };
 * ```
 */
export class ServerCall {
  /** `/package.Service/Method`. */
  readonly method: string;
  /** When the client stops waiting (ms since the epoch), or null without `grpc-timeout`. */
  readonly deadline: number | null;
  /** The underlying HTTP request (headers, the connection). */
  readonly request: Http1Request;
  /** Whether the last request message received came compressed (the interop tests check what clients send). */
  requestCompressed = false;
  /** How response messages are compressed (chosen from what the client accepts); set `identity` to send one uncompressed. */
  compression: Encoding;
  /** The encodings the client accepts for response messages (`grpc-accept-encoding`, and identity). */
  readonly acceptedEncodings: readonly string[];
  // Made on first use: most calls never look at their signal or metadata (an AbortController costs more
  // than the rest of a small unary call).
  #controller: AbortController | null = null;
  #reason: unknown = undefined;
  #metadata: Metadata | null = null;
  #headers: Metadata | null = null;
  #trailers: Metadata | null = null;

  /** @internal */
  constructor(method: string, request: Http1Request, deadline: number | null, compression: Encoding, accepted: readonly string[]) {
    this.acceptedEncodings = accepted;
    this.method = method;
    this.request = request;
    this.deadline = deadline;
    this.compression = compression;
  }

  /** The request's metadata. */
  get metadata(): Metadata {
    return (this.#metadata ??= Metadata.fromHeaders(this.request.rawHeaders));
  }

  /** Response metadata sent with the headers, before the first message (set it before then). */
  get headers(): Metadata {
    return (this.#headers ??= new Metadata());
  }

  /** Response metadata sent with the status, at the end. */
  get trailers(): Metadata {
    return (this.#trailers ??= new Metadata());
  }

  /** @internal The header and trailer metadata, when any was set. */
  get _headers(): Metadata | null {
    return this.#headers;
  }
  get _trailers(): Metadata | null {
    return this.#trailers;
  }

  /** The client's address. */
  get peer(): string | undefined {
    return this.request.remoteAddress;
  }

  /** Aborted when the call ends before the handler does: its reason a GrpcError (CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE). */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Whether the call is over for the handler (see `signal`). */
  get cancelled(): boolean {
    return this.#reason !== undefined;
  }

  /** @internal Ends the call for the handler: its signal aborts with `reason`. */
  _abort(reason: unknown): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
