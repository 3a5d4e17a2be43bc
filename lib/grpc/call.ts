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
  /** The request's metadata. */
  readonly metadata: Metadata;
  /** Aborted when the call ends before the handler does: its reason a GrpcError (CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE). */
  readonly signal: AbortSignal;
  /** When the client stops waiting (ms since the epoch), or null without `grpc-timeout`. */
  readonly deadline: number | null;
  /** The client's address. */
  readonly peer: string | undefined;
  /** The underlying HTTP request (headers, the connection). */
  readonly request: Http1Request;
  /** Response metadata sent with the headers, before the first message (set it before then). */
  readonly headers = new Metadata();
  /** Response metadata sent with the status, at the end. */
  readonly trailers = new Metadata();
  /** Whether the last request message received came compressed (the interop tests check what clients send). */
  requestCompressed = false;
  /** How response messages are compressed (chosen from what the client accepts); set `identity` to send one uncompressed. */
  compression: Encoding;
  /** The encodings the client accepts for response messages (`grpc-accept-encoding`, and identity). */
  readonly acceptedEncodings: readonly string[];
  /** @internal */
  readonly controller: AbortController;

  /** @internal */
  constructor(method: string, request: Http1Request, metadata: Metadata, deadline: number | null, compression: Encoding, accepted: readonly string[]) {
    this.acceptedEncodings = accepted;
    this.method = method;
    this.request = request;
    this.metadata = metadata;
    this.deadline = deadline;
    this.peer = request.remoteAddress;
    this.compression = compression;
    this.controller = new AbortController();
    this.signal = this.controller.signal;
  }

  /** Whether the call is over for the handler (see `signal`). */
  get cancelled(): boolean {
    return this.signal.aborted;
  }
}
