/**
 * The gRPC server side (PROTOCOL-HTTP2.md) on our HTTP/2 server: admission, routing by path, the four call
 * kinds over async iterables, metadata, deadlines, cancellation, compression and message limits, the status
 * in trailers — or, when nothing was sent yet, in the response headers alone (Trailers-Only).
 */
import type { Http1Request } from '../http1/index.js';
import type { Http2Response } from '../http2/index.js';
import { createHttp2Server, type Http2SessionOptions } from '../http2/index.js';
import type { Server, ServerOptions } from '../net/index.js';
import { ServerCall } from './call.js';
import { compress, decompress, ENCODINGS, knownEncoding, type Encoding } from './compression.js';
import { Deadlines, type Expiring } from './deadlines.js';
import { COMPRESSED, EnvelopeDecoder, encodeEnvelope, type Envelope } from './envelope.js';
import { Metadata } from './metadata.js';
import type { AnyMethodDefinition, Implementation, ServiceDefinition } from './service.js';
import { encodeGrpcMessage, GrpcError, Status, statusName, type StatusCode } from './status.js';
import { parseGrpcTimeout } from './timeout.js';

/** A response the gRPC layer can write: our HTTP/2 response (or anything with its surface). */
type Response = Pick<Http2Response, 'statusCode' | 'headersSent' | 'finished' | 'setHeader' | 'getHeader' | 'appendHeader' | 'addTrailers' | 'write' | 'end' | 'drained' | 'once' | 'destroy'>;

export interface GrpcServerOptions {
  /** Largest message received, after decompression; past it the call fails RESOURCE_EXHAUSTED. Default 4 MiB. */
  maxReceiveMessageLength?: number;
  /** Largest message sent; past it the call fails RESOURCE_EXHAUSTED. Default 4 MiB. */
  maxSendMessageLength?: number;
  /** Compress response messages with this when the client accepts it (`grpc-accept-encoding`). Default `identity`. */
  compression?: Encoding;
  /** Messages smaller than this are sent uncompressed even then. Default 1024 bytes. */
  compressMinBytes?: number;
  /** A handler failed with something other than a GrpcError (answered INTERNAL, with no detail): log it here. */
  onError?: (err: unknown, call: ServerCall) => void;
  /**
   * Turns a handler's failure into a status, before the defaults (a GrpcError as it is, `{ code, details }`
   * by its code, anything else INTERNAL): return undefined to leave it to them. (`covet/app/grpc` maps the
   * app's HttpError here.)
   */
  mapError?: (err: unknown) => GrpcError | undefined;
  /** Clock in ms (tests). */
  now?: () => number;
}

const DEFAULT_MAX = 4 * 1024 * 1024;
const ACCEPT_ENCODING = ENCODINGS.join(',');

interface Route {
  def: AnyMethodDefinition;
  handler: (input: unknown, call: ServerCall) => unknown;
}

/** A call in flight: its deadline entry and whether its status has been sent. */
class Live implements Expiring {
  at = 0;
  slot = -1;
  done = false;
  readonly call: ServerCall;
  readonly res: Response;
  readonly server: GrpcRouter;
  constructor(call: ServerCall, res: Response, server: GrpcRouter) {
    this.call = call;
    this.res = res;
    this.server = server;
  }
  expire(): void {
    this.server._end(this, new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded'));
  }
}

/** `application/grpc`, `application/grpc+proto`, `application/grpc;charset=...`: a gRPC request (not gRPC-Web). */
export function isGrpcRequest(contentType: string | undefined): boolean {
  if (contentType === undefined || !contentType.startsWith('application/grpc')) return false;
  const c = contentType.charCodeAt(16);
  return Number.isNaN(c) || c === 0x2b /* + */ || c === 0x3b /* ; */;
}

/**
 * Routes gRPC calls to service implementations; `handle` serves one HTTP/2 request. Mount it on any
 * server of ours (`createGrpcServer` does), or beside HTTP routes.
 *
 * @example
 * ```ts
 * const router = new GrpcRouter().add(Greeter, { SayHello: async (req) => ({ message: `hello ${req.name}` }) });
 * const server = createHttp2Server(router.handle);
 * ```
 */
export class GrpcRouter {
  readonly #routes = new Map<string, Route>();
  readonly #o: Required<Omit<GrpcServerOptions, 'onError' | 'now' | 'mapError'>> & Pick<GrpcServerOptions, 'onError' | 'mapError'>;
  readonly #now: () => number;
  readonly #deadlines: Deadlines;
  readonly #live = new Set<Live>();

  constructor(options: GrpcServerOptions = {}) {
    this.#o = {
      maxReceiveMessageLength: options.maxReceiveMessageLength ?? DEFAULT_MAX,
      maxSendMessageLength: options.maxSendMessageLength ?? DEFAULT_MAX,
      compression: options.compression ?? 'identity',
      compressMinBytes: options.compressMinBytes ?? 1024,
      onError: options.onError,
      mapError: options.mapError,
    };
    this.#now = options.now ?? Date.now;
    this.#deadlines = new Deadlines(this.#now);
  }

  /** Serves `service` with `impl` (a handler per method; a method without one answers UNIMPLEMENTED). */
  add<S extends ServiceDefinition>(service: S, impl: Partial<Implementation<S>>): this {
    for (const [name, def] of Object.entries(service)) {
      const handler = (impl as Record<string, unknown>)[name] ?? (def.originalName === undefined ? undefined : (impl as Record<string, unknown>)[def.originalName]);
      if (handler === undefined) continue;
      if (typeof handler !== 'function') throw new TypeError(`${def.path}: the implementation of ${name} is not a function`);
      if (this.#routes.has(def.path)) throw new Error(`${def.path} is served already`);
      this.#routes.set(def.path, { def, handler: handler as Route['handler'] });
    }
    return this;
  }

  /** The paths served (`/package.Service/Method`). */
  get paths(): string[] {
    return [...this.#routes.keys()];
  }

  /** Calls in flight. */
  get calls(): number {
    return this.#live.size;
  }

  /** Serves one request (HTTP/2; gRPC needs trailers and full duplex). */
  readonly handle = (req: Http1Request, res: Response): Promise<void> => this.#serve(req, res);

  async #serve(req: Http1Request, res: Response): Promise<void> {
    // Admission (grpc-go's operateHeaders): the method, the content type, the protocol; then the route.
    if (req.method !== 'POST') return plain(res, 405, 'gRPC calls are POST requests', { allow: 'POST' });
    if (!isGrpcRequest(req.get('content-type'))) return plain(res, 415, 'not a gRPC request: content-type must be application/grpc');
    if (req.httpVersion !== '2.0') return plain(res, 505, 'gRPC needs HTTP/2');
    const route = this.#routes.get(req.path);
    const encodingName = req.get('grpc-encoding');
    const encoding = encodingName === undefined ? 'identity' : knownEncoding(encodingName);
    const timeout = req.get('grpc-timeout');
    const ms = timeout === undefined ? null : parseGrpcTimeout(timeout);
    let early: GrpcError | null = null;
    if (route === undefined) early = new GrpcError(Status.UNIMPLEMENTED, `method not found: ${req.path}`);
    else if (timeout !== undefined && ms === null) early = new GrpcError(Status.INTERNAL, `invalid grpc-timeout: ${JSON.stringify(timeout)}`);
    // doc/compression.md: an encoding we do not know is UNIMPLEMENTED, with the ones we do in grpc-accept-encoding.
    else if (encoding === null) early = new GrpcError(Status.UNIMPLEMENTED, `message encoding ${JSON.stringify(encodingName)} is not supported`);
    if (early !== null) return trailersOnly(res, early, null);

    const accepted = ['identity', ...(req.get('grpc-accept-encoding') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'identity')];
    const send = this.#o.compression !== 'identity' && accepted.includes(this.#o.compression) ? this.#o.compression : 'identity';
    const deadline = ms === null ? null : this.#now() + ms;
    const call = new ServerCall(req.path, req, deadline, send, accepted);
    const live = new Live(call, res, this);
    this.#live.add(live);
    // The client reset the stream (or the connection went): the call is over, nothing more is sent.
    res.once('close', () => {
      if (live.done) return;
      live.done = true;
      this.#release(live);
      call._abort(new GrpcError(Status.CANCELLED, 'the client cancelled the call'));
    });
    if (deadline !== null) {
      live.at = deadline;
      if (ms! <= 0) return this._end(live, new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded'));
      this.#deadlines.add(live);
    }
    try {
      await this.#run(route!, live, encoding!);
    } catch (err) {
      this._end(live, err);
    }
  }

  async #run(route: Route, live: Live, encoding: Encoding): Promise<void> {
    const { def, handler } = route;
    const call = live.call;
    const arg = def.requestStream ? this.#messages(def, call, encoding) : await this.#single(def, call, encoding);
    if (live.done) return;
    const out = handler(arg, call);
    if (!def.responseStream) {
      const value = await out;
      if (live.done) return;
      await this.#send(live, def, value);
    } else {
      const it = out as AsyncIterable<unknown> | Iterable<unknown>;
      if (it === null || typeof it !== 'object' || (!(Symbol.asyncIterator in it) && !(Symbol.iterator in it))) {
        throw new TypeError(`${def.path}: a streaming handler must return an iterable (an async generator), got ${typeof it}`);
      }
      for await (const value of it) {
        if (live.done) break; // ends the generator (its finally blocks run)
        await this.#send(live, def, value);
      }
    }
    this._end(live, null);
  }

  /** The request messages, read as the handler asks for them (so the HTTP/2 window is the only buffer). */
  async *#messages(def: AnyMethodDefinition, call: ServerCall, encoding: Encoding): AsyncGenerator<unknown, void, undefined> {
    const queue: Envelope[] = [];
    const decoder = new EnvelopeDecoder(this.#o.maxReceiveMessageLength, (e) => queue.push(e));
    try {
      for await (const chunk of call.request) {
        decoder.push(chunk);
        for (let i = 0; i < queue.length; i++) yield await this.#decode(def, call, encoding, queue[i]!);
        queue.length = 0;
      }
    } catch (err) {
      if (call.cancelled && !(err instanceof GrpcError)) return; // the stream was reset: the call is over anyway
      throw bodyFailure(err);
    }
    decoder.end();
  }

  /** A unary request's one message: the whole body read first (a unary request is one message, then the end). */
  async #single(def: AnyMethodDefinition, call: ServerCall, encoding: Encoding): Promise<unknown> {
    let first: Envelope | null = null;
    let count = 0;
    const decoder = new EnvelopeDecoder(this.#o.maxReceiveMessageLength, (e) => {
      if (count++ === 0) first = e;
    });
    try {
      for await (const chunk of call.request) decoder.push(chunk);
    } catch (err) {
      throw bodyFailure(err);
    }
    decoder.end();
    // statuscodes.md: a cardinality violation is UNIMPLEMENTED.
    if (count === 0) throw new GrpcError(Status.UNIMPLEMENTED, 'the call ended without its request message');
    if (count > 1) throw new GrpcError(Status.UNIMPLEMENTED, 'more than one request message for a unary request');
    return this.#decode(def, call, encoding, first!);
  }

  /** One request message: decompressed when its flag says so, then deserialized. */
  async #decode(def: AnyMethodDefinition, call: ServerCall, encoding: Encoding, e: Envelope): Promise<unknown> {
    let data = e.data;
    call.requestCompressed = (e.flags & COMPRESSED) !== 0;
    if (call.requestCompressed) {
      if (encoding === 'identity') throw new GrpcError(Status.INTERNAL, 'a compressed message on a call without grpc-encoding');
      data = await decompress(encoding, data, this.#o.maxReceiveMessageLength);
    }
    try {
      return def.requestDeserialize(data);
    } catch (err) {
      throw new GrpcError(Status.INTERNAL, 'the request message could not be parsed', { cause: err });
    }
  }

  async #send(live: Live, def: AnyMethodDefinition, value: unknown): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = (def.responseSerialize as (v: unknown) => Uint8Array)(value);
    } catch (err) {
      throw new GrpcError(Status.INTERNAL, 'the response message could not be serialized', { cause: err });
    }
    if (bytes.length > this.#o.maxSendMessageLength) throw new GrpcError(Status.RESOURCE_EXHAUSTED, `sent message larger than max (${bytes.length} vs. ${this.#o.maxSendMessageLength})`);
    const res = live.res;
    const call = live.call;
    if (!res.headersSent) writeHead(res, call);
    let flags = 0;
    // The encoding was named in the headers; after them a message may still go uncompressed (flag 0).
    const enc = call.compression;
    if (enc !== 'identity' && bytes.length >= this.#o.compressMinBytes && res.getHeader('grpc-encoding') === enc) {
      bytes = await compress(enc, bytes);
      flags = COMPRESSED;
    }
    if (live.done) return;
    if (!res.write(encodeEnvelope(bytes, flags))) await res.drained();
  }

  /** @internal Ends a call once: its status (OK when `err` is null), unless the client is gone. */
  _end(live: Live, err: unknown): void {
    if (live.done) return;
    live.done = true;
    this.#release(live);
    const { call, res } = live;
    const mapped = err === null || err instanceof GrpcError ? undefined : this.#o.mapError?.(err);
    const e = err === null ? null : (mapped ?? toGrpcError(err));
    if (e !== null && mapped === undefined && !(err instanceof GrpcError) && !isStatusLike(err)) this.#o.onError?.(err, call);
    if (e !== null) call._abort(e);
    if (res.finished) return;
    if (!res.headersSent) return trailersOnly(res, e, call._trailers, call._headers);
    const t: Array<[string, string]> = [['grpc-status', String(e?.code ?? Status.OK)]];
    if (e !== null && e.message !== '') t.push(['grpc-message', encodeGrpcMessage(e.message)]);
    if (e?.details !== undefined) t.push(['grpc-status-details-bin', Buffer.from(e.details).toString('base64').replace(/=+$/, '')]);
    if (call._trailers !== null) for (const kv of call._trailers.toHeaders()) t.push(kv);
    if (e?.metadata !== undefined) for (const kv of e.metadata.toHeaders()) t.push(kv);
    for (const [k, v] of t) res.addTrailers({ [k]: v });
    res.end();
  }

  #release(live: Live): void {
    this.#live.delete(live);
    this.#deadlines.cancel(live);
  }
}

/** A failure while reading the request body: our own GrpcError as it is, anything else (a reset, a lost connection) INTERNAL. */
function bodyFailure(err: unknown): GrpcError {
  return err instanceof GrpcError ? err : new GrpcError(Status.INTERNAL, 'the request body failed', { cause: err });
}

/** Response headers: status 200, the content type, the encodings, and the handler's header metadata. */
function writeHead(res: Response, call: ServerCall): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'application/grpc');
  // A handler may ask for an encoding the client does not accept: its messages then go uncompressed.
  if (call.compression !== 'identity' && call.acceptedEncodings.includes(call.compression)) res.setHeader('grpc-encoding', call.compression);
  res.setHeader('grpc-accept-encoding', ACCEPT_ENCODING);
  if (call._headers !== null) for (const [k, v] of call._headers.toHeaders()) res.appendHeader(k, v);
}

/** The status alone, in the response headers (Trailers-Only): the call failed before any message. */
function trailersOnly(res: Response, e: GrpcError | null, trailers: Metadata | null, headers?: Metadata | null): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'application/grpc');
  res.setHeader('grpc-accept-encoding', ACCEPT_ENCODING);
  res.setHeader('grpc-status', String(e?.code ?? Status.OK));
  if (e !== null && e.message !== '') res.setHeader('grpc-message', encodeGrpcMessage(e.message));
  if (e?.details !== undefined) res.setHeader('grpc-status-details-bin', Buffer.from(e.details).toString('base64').replace(/=+$/, ''));
  for (const md of [headers, trailers, e?.metadata]) if (md != null) for (const [k, v] of md.toHeaders()) res.appendHeader(k, v);
  res.end();
}

/** A request that is not a gRPC call at all: a plain HTTP answer. */
function plain(res: Response, status: number, text: string, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(text);
}

/** grpc-js style errors (`{ code, details }`) thrown on purpose keep their status and text. */
function isStatusLike(err: unknown): err is { code: StatusCode; details?: string; message?: string } {
  return err !== null && typeof err === 'object' && Number.isInteger((err as { code?: unknown }).code) && (err as { code: number }).code >= 1 && (err as { code: number }).code <= 16;
}

/** What a failure answers: a GrpcError as it is, a `{ code, details }` error by its code, anything else INTERNAL with no detail. */
function toGrpcError(err: unknown): GrpcError {
  if (err instanceof GrpcError) return err;
  if (isStatusLike(err)) return new GrpcError(err.code, err.details ?? err.message ?? statusName(err.code));
  return new GrpcError(Status.INTERNAL, 'internal error');
}

export interface GrpcServerListenOptions {
  port?: number;
  host?: string;
}

/**
 * A gRPC-only server on `covet/http2` (h2c, or h2 with `tls`). It enforces keepalive as grpc-go does unless
 * told otherwise (`pingPolicy`): a client PINGing more than once per 5 minutes, or at all with no call in
 * flight, is sent GOAWAY `too_many_pings` at the third offence.
 *
 * @example
 * ```ts
 * const server = createGrpcServer().add(Greeter, { SayHello: async (req) => ({ message: `hello ${req.name}` }) });
 * await server.listen({ port: 50051 });
 * ```
 */
export class GrpcServer {
  readonly router: GrpcRouter;
  readonly server: Server;

  constructor(options: GrpcServerOptions & Http2SessionOptions & Omit<ServerOptions, 'onConnection'> = {}) {
    this.router = new GrpcRouter(options);
    // grpc-go's keepalive enforcement by default: a PING per 5 minutes, none without a call in flight.
    const pingPolicy = options.pingPolicy ?? { minIntervalMs: 300_000, permitWithoutStreams: false };
    this.server = createHttp2Server(this.router.handle as (req: Http1Request, res: Http2Response) => Promise<void>, { ...options, pingPolicy });
  }

  add<S extends ServiceDefinition>(service: S, impl: Partial<Implementation<S>>): this {
    this.router.add(service, impl);
    return this;
  }

  async listen(options: GrpcServerListenOptions = {}): Promise<this> {
    await this.server.listen({ port: options.port ?? 0, host: options.host });
    return this;
  }

  /** The port listened on. */
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Stops accepting; in-flight calls finish within `graceMs` (GOAWAY), then the rest are cut. */
  close(graceMs = 30_000): Promise<void> {
    return this.server.close({ graceMs });
  }
}

/** A gRPC-only server (see {@link GrpcServer}). */
export function createGrpcServer(options: GrpcServerOptions & Http2SessionOptions & Omit<ServerOptions, 'onConnection'> = {}): GrpcServer {
  return new GrpcServer(options);
}
