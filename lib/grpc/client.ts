/**
 * A gRPC client on our HTTP/2 client session: the four call kinds (requests and responses as iterables),
 * metadata both ways, deadlines (sent as `grpc-timeout`, enforced here on the shared deadline heap),
 * cancellation by `AbortSignal` (RST_STREAM CANCEL), message compression and limits, retries of calls the
 * server did not process or refused with UNAVAILABLE (exponential backoff with jitter, never past the
 * deadline), and keepalive PINGs that find a dead connection.
 */
import { Http2ClientSession, Http2StreamError, H2, type ClientStream, type Http2ClientOptions } from '../http2/index.js';
import { compress, decompress, ENCODINGS, knownEncoding, type Encoding } from './compression.js';
import { Deadlines, type Expiring } from './deadlines.js';
import { COMPRESSED, encodeEnvelope, EnvelopeDecoder, type Envelope } from './envelope.js';
import { Metadata } from './metadata.js';
import type { MethodDefinition } from './service.js';
import { decodeGrpcMessage, GrpcError, Status, statusFromHttp, type StatusCode } from './status.js';
import { formatGrpcTimeout } from './timeout.js';

export interface GrpcRetryPolicy {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** The first wait; each next one doubles, up to `maxBackoffMs`, each drawn at random up to that (full jitter). Default 100 ms. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface GrpcClientOptions extends Http2ClientOptions {
  /** Metadata sent with every call. */
  metadata?: Metadata;
  /** The deadline of a call that names none (ms from its start). Default: none. */
  timeoutMs?: number;
  /** Compress request messages (the server is told with `grpc-encoding`). Default `identity`. */
  compression?: Encoding;
  /** Largest message received (after decompression). Default 4 MiB. */
  maxReceiveMessageLength?: number;
  /** Largest message sent. Default 4 MiB. */
  maxSendMessageLength?: number;
  /** Retry calls that failed UNAVAILABLE before any response message came (false: never). */
  retry?: GrpcRetryPolicy | false;
  /** PING the server this often while calls are in flight; no answer within `timeoutMs` ends the connection (UNAVAILABLE). */
  keepalive?: { intervalMs: number; timeoutMs?: number };
}

export interface GrpcCallOptions {
  metadata?: Metadata;
  /** Deadline in ms from now (overrides the client's `timeoutMs`). */
  timeoutMs?: number;
  /** Cancels the call (CANCELLED). */
  signal?: AbortSignal;
  /** The response headers' metadata, when they come. */
  onHeaders?: (metadata: Metadata) => void;
  /** The trailing metadata, when the call ends well (a failure carries it in `GrpcError.metadata`). */
  onTrailers?: (metadata: Metadata) => void;
}

const DEFAULT_MAX = 4 * 1024 * 1024;
const ACCEPT = ENCODINGS.join(',');

/** RST_STREAM codes as gRPC statuses (PROTOCOL-HTTP2.md, "Errors"). */
function statusOfReset(code: number): StatusCode {
  switch (code) {
    case H2.REFUSED_STREAM:
      return Status.UNAVAILABLE;
    case H2.CANCEL:
      return Status.CANCELLED;
    case H2.ENHANCE_YOUR_CALM:
      return Status.RESOURCE_EXHAUSTED;
    case H2.INADEQUATE_SECURITY:
      return Status.PERMISSION_DENIED;
    default:
      return Status.INTERNAL;
  }
}

/** One call's deadline on the client's heap. */
class Expiry implements Expiring {
  slot = -1;
  at: number;
  readonly #onExpire: () => void;
  constructor(at: number, onExpire: () => void) {
    this.at = at;
    this.#onExpire = onExpire;
  }
  expire(): void {
    this.#onExpire();
  }
}

/**
 * @example
 * ```ts
 * const { 'helloworld.Greeter': Greeter } = await loadProto('helloworld.proto');
 * const client = new GrpcClient('http://127.0.0.1:50051', { timeoutMs: 2000 });
 * const reply = await client.unary(Greeter.SayHello, { name: 'ann' });
 * for await (const note of client.serverStream(Notes.List, { prefix: 'm' })) console.log(note);
 * await client.close();
 * ```
 */
export class GrpcClient {
  readonly target: URL;
  readonly #o: GrpcClientOptions;
  readonly #deadlines = new Deadlines();
  #session: Promise<Http2ClientSession> | null = null;
  #keepalive: NodeJS.Timeout | null = null;
  #inFlight = 0;
  #closed = false;

  constructor(target: string | URL, options: GrpcClientOptions = {}) {
    this.target = typeof target === 'string' ? new URL(target) : target;
    this.#o = options;
  }

  /** A unary call: one request, one response. */
  async unary<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options: GrpcCallOptions = {}): Promise<Res> {
    let out: Res | undefined;
    let n = 0;
    for await (const r of this.#call(method, [request], options, true)) {
      out = r;
      n++;
    }
    if (n !== 1) throw new GrpcError(Status.UNIMPLEMENTED, `a unary call answered with ${n} messages`);
    return out!;
  }

  /** A server-streaming call: one request, the responses as they come. */
  serverStream<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options: GrpcCallOptions = {}): AsyncIterable<Res> {
    return this.#call(method, [request], options, true);
  }

  /** A client-streaming call: the requests as the iterable gives them, one response. */
  async clientStream<Req, Res>(method: MethodDefinition<Req, Res>, requests: AsyncIterable<Req> | Iterable<Req>, options: GrpcCallOptions = {}): Promise<Res> {
    let out: Res | undefined;
    let n = 0;
    for await (const r of this.#call(method, requests, options, false)) {
      out = r;
      n++;
    }
    if (n !== 1) throw new GrpcError(Status.UNIMPLEMENTED, `a client-streaming call answered with ${n} messages`);
    return out!;
  }

  /** A bidirectional call: requests and responses flow independently. */
  bidi<Req, Res>(method: MethodDefinition<Req, Res>, requests: AsyncIterable<Req> | Iterable<Req>, options: GrpcCallOptions = {}): AsyncIterable<Res> {
    return this.#call(method, requests, options, false);
  }

  /** Closes the connection once the calls in flight end. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#keepalive !== null) clearInterval(this.#keepalive);
    const s = await this.#session?.catch(() => null);
    await s?.close();
  }

  #connect(): Promise<Http2ClientSession> {
    if (this.#closed) return Promise.reject(new GrpcError(Status.UNAVAILABLE, 'the client is closed'));
    const current = this.#session;
    if (current !== null) {
      return current.then(
        (s) => (s.closed ? this.#fresh() : s),
        () => this.#fresh(),
      );
    }
    return this.#fresh();
  }

  #fresh(): Promise<Http2ClientSession> {
    const p = Http2ClientSession.connect(this.target, this.#o).catch((err: Error) => {
      throw new GrpcError(Status.UNAVAILABLE, `cannot reach ${this.target.host}: ${err.message}`, { cause: err });
    });
    this.#session = p;
    if (this.#o.keepalive !== undefined && this.#keepalive === null) this.#startKeepalive();
    return p;
  }

  #startKeepalive(): void {
    const { intervalMs, timeoutMs = 20_000 } = this.#o.keepalive!;
    this.#keepalive = setInterval(() => {
      if (this.#inFlight === 0 || this.#session === null) return;
      void this.#session.then((s) => {
        if (s.closed) return;
        const timer = setTimeout(() => s.destroy(new Error(`keepalive PING not answered within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
        s.ping().then(() => clearTimeout(timer), () => clearTimeout(timer));
      }, () => {});
    }, intervalMs);
    this.#keepalive.unref();
  }

  async *#call<Req, Res>(def: MethodDefinition<Req, Res>, requests: AsyncIterable<Req> | Iterable<Req>, options: GrpcCallOptions, replayable: boolean): AsyncGenerator<Res> {
    const timeout = options.timeoutMs ?? this.#o.timeoutMs;
    const deadline = timeout === undefined ? null : Date.now() + timeout;
    const policy = this.#o.retry === false ? null : this.#o.retry ?? {};
    const attempts = replayable && policy !== null ? Math.max(1, policy.maxAttempts ?? 3) : 1;
    let backoff = policy?.initialBackoffMs ?? 100;
    for (let attempt = 1; ; attempt++) {
      let received = 0;
      try {
        for await (const r of this.#attempt(def, requests, options, deadline)) {
          received++;
          yield r;
        }
        return;
      } catch (err) {
        // Retry only what the server did not answer with any message, within the deadline (gRFC A6).
        const retry = err instanceof GrpcError && err.code === Status.UNAVAILABLE && received === 0 && attempt < attempts && !(options.signal?.aborted ?? false);
        if (!retry) throw err;
        const wait = Math.random() * Math.min(backoff, policy?.maxBackoffMs ?? 5000);
        backoff *= 2;
        if (deadline !== null && Date.now() + wait >= deadline) throw err;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async *#attempt<Req, Res>(def: MethodDefinition<Req, Res>, requests: AsyncIterable<Req> | Iterable<Req>, options: GrpcCallOptions, deadline: number | null): AsyncGenerator<Res> {
    const session = await this.#connect();
    const headers: Array<[string, string]> = [
      [':method', 'POST'],
      [':path', def.path],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ['user-agent', 'covet-grpc'],
      ['grpc-accept-encoding', ACCEPT],
    ];
    const enc = this.#o.compression ?? 'identity';
    if (enc !== 'identity') headers.push(['grpc-encoding', enc]);
    if (deadline !== null) headers.push(['grpc-timeout', formatGrpcTimeout(Math.max(1, deadline - Date.now()))]);
    for (const md of [this.#o.metadata, options.metadata]) if (md !== undefined) for (const kv of md.toHeaders()) headers.push(kv);
    if (options.signal?.aborted === true) throw new GrpcError(Status.CANCELLED, 'the call was cancelled');
    const stream = session.request(headers);
    this.#inFlight++;
    // Why the call ended early, when we ended it (deadline, cancellation): reported instead of the reset.
    let ended: GrpcError | null = null;
    const stop = (e: GrpcError): void => {
      if (ended !== null) return;
      ended = e;
      stream.reset(H2.CANCEL);
    };
    const expiry = deadline === null ? null : new Expiry(deadline, () => stop(new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded')));
    if (expiry !== null) this.#deadlines.add(expiry);
    const onAbort = (): void => stop(new GrpcError(Status.CANCELLED, 'the call was cancelled'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const writing = this.#write(def, stream, requests, enc).catch((err: unknown) => {
      // A request that cannot be sent ends the call (the server is told with RST_STREAM).
      stop(err instanceof GrpcError ? err : new GrpcError(Status.INTERNAL, `a request message could not be sent: ${(err as Error).message}`, { cause: err }));
    });
    try {
      yield* this.#read(def, stream, options);
    } catch (err) {
      if (ended !== null) throw ended;
      if (err instanceof Http2StreamError) throw new GrpcError(err.retryable ? Status.UNAVAILABLE : statusOfReset(err.code), err.message, { cause: err });
      throw err;
    } finally {
      this.#inFlight--;
      if (expiry !== null) this.#deadlines.cancel(expiry);
      options.signal?.removeEventListener('abort', onAbort);
      // The caller stopped reading before the end (a `break`): the server is told.
      if (stream.error === null && !stream.remoteDone) stream.reset(H2.CANCEL);
      // Not awaited: the requests' iterator may be waiting on its producer (cancel_after_begin: forever), and
      // a failure to write has already ended the call through stop().
      void writing;
    }
    if (ended !== null) throw ended;
  }

  async #write<Req>(def: MethodDefinition<Req, unknown>, stream: ClientStream, requests: AsyncIterable<Req> | Iterable<Req>, enc: Encoding): Promise<void> {
    const max = this.#o.maxSendMessageLength ?? DEFAULT_MAX;
    for await (const r of requests as AsyncIterable<Req>) {
      if (stream.error !== null || stream.remoteDone) return;
      let bytes = def.requestSerialize(r);
      if (bytes.length > max) throw new GrpcError(Status.RESOURCE_EXHAUSTED, `request message larger than max (${bytes.length} vs. ${max})`);
      let flags = 0;
      if (enc !== 'identity') {
        bytes = await compress(enc, bytes);
        flags = COMPRESSED;
      }
      if (!stream.write(encodeEnvelope(bytes, flags))) await stream.drained();
    }
    if (stream.error === null && !stream.remoteDone) stream.end();
  }

  async *#read<Res>(def: MethodDefinition<unknown, Res>, stream: ClientStream, options: GrpcCallOptions): AsyncGenerator<Res> {
    const head = await stream.response;
    const fields = new Map(head.headers);
    if (head.status !== 200) throw new GrpcError(statusFromHttp(head.status), `the server answered HTTP ${head.status}, not gRPC`);
    if (fields.has('grpc-status')) return finish(head.headers, options); // Trailers-Only
    const ct = fields.get('content-type') ?? '';
    if (!ct.startsWith('application/grpc')) throw new GrpcError(Status.UNKNOWN, `the server answered ${ct === '' ? 'without a content type' : ct}, not gRPC`);
    options.onHeaders?.(Metadata.fromHeaders(head.headers.flat()));
    const encodingName = fields.get('grpc-encoding');
    const enc = encodingName === undefined ? 'identity' : knownEncoding(encodingName);
    const max = this.#o.maxReceiveMessageLength ?? DEFAULT_MAX;
    const queue: Envelope[] = [];
    const decoder = new EnvelopeDecoder(max, (e) => queue.push(e));
    for await (const chunk of stream) {
      decoder.push(chunk);
      for (let i = 0; i < queue.length; i++) {
        const e = queue[i]!;
        let data = e.data;
        if ((e.flags & COMPRESSED) !== 0) {
          if (enc === null || enc === 'identity') throw new GrpcError(Status.INTERNAL, `a compressed message with grpc-encoding ${encodingName ?? 'absent'}`);
          data = await decompress(enc, data, max);
        }
        let value: Res;
        try {
          value = def.responseDeserialize(data);
        } catch (err) {
          throw new GrpcError(Status.INTERNAL, 'a response message could not be parsed', { cause: err });
        }
        yield value;
      }
      queue.length = 0;
    }
    decoder.end();
    const trailers = await stream.trailers;
    if (trailers === null) throw new GrpcError(Status.INTERNAL, 'the server ended the call without a status');
    finish(trailers, options);
  }
}

/** The status fields: throws the GrpcError they tell, or hands the trailing metadata over. */
function finish(fields: Array<[string, string]>, options: GrpcCallOptions): void {
  const map = new Map(fields);
  const raw = map.get('grpc-status');
  const code = Number(raw);
  if (raw === undefined || !Number.isInteger(code)) throw new GrpcError(Status.UNKNOWN, `the server ended the call with grpc-status ${raw === undefined ? 'absent' : JSON.stringify(raw)}`);
  const metadata = Metadata.fromHeaders(fields.flat());
  if (code === Status.OK) {
    options.onTrailers?.(metadata);
    return;
  }
  const details = map.get('grpc-status-details-bin');
  throw new GrpcError(code as StatusCode, decodeGrpcMessage(map.get('grpc-message') ?? ''), { metadata, ...(details === undefined ? {} : { details: Buffer.from(details, 'base64') }) });
}
