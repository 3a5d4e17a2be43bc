/**
 * The gRPC server side (PROTOCOL-HTTP2.md) on our HTTP/2 server: admission, routing by path, the four call
 * kinds over async iterables, metadata, deadlines, cancellation, compression and message limits, the status
 * in trailers — or, when nothing was sent yet, in the response headers alone (Trailers-Only).
 */
import type { Http1Request } from '../http1/index.js';
import type { Http2Response } from '../http2/index.js';
import { createServer, type AnyHandler, type Http2SessionOptions } from '../http2/index.js';
import type { Http1ServerOptions } from '../http1/index.js';
import type { Server } from '../net/index.js';
import { ServerCall } from './call.js';
import { compress, decompress, ENCODINGS, knownEncoding, type Encoding } from './compression.js';
import { Deadlines, type Expiring } from './deadlines.js';
import { Base64Decoder, Base64Encoder } from './base64-stream.js';
import { COMPRESSED, EnvelopeDecoder, encodeEnvelope, TRAILERS, type Envelope } from './envelope.js';
import { Metadata } from './metadata.js';
import type { AnyMethodDefinition, Implementation, ServiceDefinition } from './service.js';
import { encodeGrpcMessage, GrpcError, Status, statusName, type StatusCode } from './status.js';
import { parseGrpcTimeout } from './timeout.js';
import { GRPC_CALL_END } from '../trace/channels.js';
import { ReflectionService, ReflectionServiceV1Alpha, reflectionImplementation } from './reflection.js';

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
  /**
   * Serve server reflection (grpc.reflection.v1 and v1alpha) so tools such as grpcurl can list and call the
   * services without their .proto files. Default false: it tells anyone who connects your whole API.
   */
  reflection?: boolean;
}

const DEFAULT_MAX = 4 * 1024 * 1024;
const ACCEPT_ENCODING = ENCODINGS.join(',');

interface Route {
  def: AnyMethodDefinition;
  handler: (input: unknown, call: ServerCall) => unknown;
}

/** gRPC-Web (PROTOCOL-WEB.md): the status goes in the body as a last frame; text mode is base64 both ways. */
interface Web {
  contentType: string;
  /** Text mode: the response's base64 encoder. */
  encoder: Base64Encoder | null;
}

/** A call in flight: its deadline entry and whether its status has been sent. */
class Live implements Expiring {
  at = 0;
  slot = -1;
  done = false;
  readonly call: ServerCall;
  readonly res: Response;
  readonly server: GrpcRouter;
  readonly web: Web | null;
  readonly t0 = performance.now();
  constructor(call: ServerCall, res: Response, server: GrpcRouter, web: Web | null) {
    this.call = call;
    this.res = res;
    this.server = server;
    this.web = web;
  }

  /** Tells `covet:grpc.server.call.end` how the call ended. */
  told(code: number): void {
    if (GRPC_CALL_END.hasSubscribers) GRPC_CALL_END.publish({ method: this.call.method, code, codeName: statusName(code), protocol: this.web === null ? 'grpc' : this.web.encoder === null ? 'grpc-web' : 'grpc-web-text', durationMs: performance.now() - this.t0, request: this.call.request });
  }
  expire(): void {
    this.server._end(this, new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded'));
  }
}

export type GrpcProtocol = 'grpc' | 'grpc-web' | 'grpc-web-text';

/**
 * The protocol a content type names: `application/grpc` (`+proto`, `;...`) gRPC, `application/grpc-web`
 * gRPC-Web, `application/grpc-web-text` its base64 form; null for anything else.
 *
 * @example
 * ```ts
 * grpcProtocol('application/grpc+proto');    // 'grpc'
 * grpcProtocol('application/grpc-web-text'); // 'grpc-web-text'
 * grpcProtocol('application/json');          // null
 * ```
 */
export function grpcProtocol(contentType: string | undefined): GrpcProtocol | null {
  if (contentType === undefined || !contentType.startsWith('application/grpc')) return null;
  let at = 16;
  let kind: GrpcProtocol = 'grpc';
  if (contentType.startsWith('-web-text', at)) {
    kind = 'grpc-web-text';
    at += 9;
  } else if (contentType.startsWith('-web', at)) {
    kind = 'grpc-web';
    at += 4;
  }
  const c = contentType.charCodeAt(at);
  return Number.isNaN(c) || c === 0x2b /* + */ || c === 0x3b /* ; */ ? kind : null;
}

/**
 * Whether a content type is gRPC's or gRPC-Web's.
 *
 * @example
 * ```ts
 * if (isGrpcRequest(req.get('content-type'))) return grpc.handle(req, res);
 * ```
 */
export function isGrpcRequest(contentType: string | undefined): boolean {
  return grpcProtocol(contentType) !== null;
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
  readonly #services: Record<string, ServiceDefinition> = {};
  readonly #o: Required<Omit<GrpcServerOptions, 'onError' | 'now' | 'mapError' | 'reflection'>> & Pick<GrpcServerOptions, 'onError' | 'mapError'>;
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
    const first = Object.values(service)[0];
    if (first !== undefined) this.#services[first.path.slice(1, first.path.lastIndexOf('/'))] = service;
    for (const [name, def] of Object.entries(service)) {
      const handler = (impl as Record<string, unknown>)[name] ?? (def.originalName === undefined ? undefined : (impl as Record<string, unknown>)[def.originalName]);
      if (handler === undefined) continue;
      if (typeof handler !== 'function') throw new TypeError(`${def.path}: the implementation of ${name} is not a function`);
      if (this.#routes.has(def.path)) throw new Error(`${def.path} is served already`);
      this.#routes.set(def.path, { def, handler: handler as Route['handler'] });
    }
    return this;
  }

  /** The services added, by full name (`package.Service`). */
  get services(): Readonly<Record<string, ServiceDefinition>> {
    return this.#services;
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
    const protocol = grpcProtocol(req.get('content-type'));
    if (protocol === null) return plain(res, 415, 'not a gRPC request: content-type must be application/grpc or application/grpc-web');
    // gRPC needs HTTP/2 (trailers, full duplex); gRPC-Web carries its status in the body, over either.
    if (protocol === 'grpc' && req.httpVersion !== '2.0') return plain(res, 505, 'gRPC needs HTTP/2 (gRPC-Web works over HTTP/1.1)');
    const web: Web | null =
      protocol === 'grpc' ? null : protocol === 'grpc-web' ? { contentType: 'application/grpc-web+proto', encoder: null } : { contentType: 'application/grpc-web-text+proto', encoder: new Base64Encoder() };
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
    if (early !== null) return web === null ? trailersOnly(res, early, null) : webStatus(res, web, early, null, 'identity', null);

    const accepted = ['identity', ...(req.get('grpc-accept-encoding') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'identity')];
    const send = this.#o.compression !== 'identity' && accepted.includes(this.#o.compression) ? this.#o.compression : 'identity';
    const deadline = ms === null ? null : this.#now() + ms;
    const call = new ServerCall(req.path, req, deadline, send, accepted);
    const live = new Live(call, res, this, web);
    this.#live.add(live);
    // The client reset the stream (or the connection went): the call is over, nothing more is sent.
    res.once('close', () => {
      if (live.done) return;
      live.done = true;
      this.#release(live);
      call._abort(new GrpcError(Status.CANCELLED, 'the client cancelled the call'));
      live.told(Status.CANCELLED);
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
    const arg = def.requestStream ? this.#messages(def, live, encoding) : await this.#single(def, live, encoding);
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
  async *#messages(def: AnyMethodDefinition, live: Live, encoding: Encoding): AsyncGenerator<unknown, void, undefined> {
    const call = live.call;
    const queue: Envelope[] = [];
    const decoder = new EnvelopeDecoder(this.#o.maxReceiveMessageLength, (e) => queue.push(e));
    try {
      for await (const chunk of body(live)) {
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
  async #single(def: AnyMethodDefinition, live: Live, encoding: Encoding): Promise<unknown> {
    const call = live.call;
    let first: Envelope | null = null;
    let count = 0;
    const decoder = new EnvelopeDecoder(this.#o.maxReceiveMessageLength, (e) => {
      if (count++ === 0) first = e;
    });
    try {
      for await (const chunk of body(live)) decoder.push(chunk);
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
    if (!res.headersSent) writeHead(res, live.web?.contentType ?? 'application/grpc', call.compression, call.acceptedEncodings, call._headers);
    let flags = 0;
    // The encoding was named in the headers; after them a message may still go uncompressed (flag 0).
    const enc = call.compression;
    if (enc !== 'identity' && bytes.length >= this.#o.compressMinBytes && res.getHeader('grpc-encoding') === enc) {
      bytes = await compress(enc, bytes);
      flags = COMPRESSED;
    }
    if (live.done) return;
    const frame = encodeEnvelope(bytes, flags);
    if (!res.write(live.web?.encoder ? live.web.encoder.push(frame) : frame)) await res.drained();
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
    live.told(e?.code ?? Status.OK);
    if (res.finished) return;
    if (live.web !== null) return webStatus(res, live.web, e, call._trailers, call.compression, call);
    if (!res.headersSent) return trailersOnly(res, e, call._trailers, call._headers);
    for (const [k, v] of statusFields(e, call._trailers)) res.addTrailers({ [k]: v });
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

/** The request body: as it came, or decoded from base64 for gRPC-Web's text mode. */
function body(live: Live): AsyncIterable<Buffer> {
  return live.web?.encoder ? base64Body(live.call.request) : live.call.request;
}

async function* base64Body(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const d = new Base64Decoder();
  for await (const c of chunks) yield d.push(c);
  d.end();
}

/** Response headers: status 200, the content type, the encodings, and the handler's header metadata. */
function writeHead(res: Response, contentType: string, compression: Encoding, accepted: readonly string[], headers: Metadata | null): void {
  res.statusCode = 200;
  res.setHeader('content-type', contentType);
  // A handler may ask for an encoding the client does not accept: its messages then go uncompressed.
  if (compression !== 'identity' && accepted.includes(compression)) res.setHeader('grpc-encoding', compression);
  res.setHeader('grpc-accept-encoding', ACCEPT_ENCODING);
  if (headers !== null) for (const [k, v] of headers.toHeaders()) res.appendHeader(k, v);
}

/** The status and trailing metadata as fields (trailers, a Trailers-Only head, or gRPC-Web's trailer frame). */
function statusFields(e: GrpcError | null, trailers: Metadata | null): Array<[string, string]> {
  const t: Array<[string, string]> = [['grpc-status', String(e?.code ?? Status.OK)]];
  if (e !== null && e.message !== '') t.push(['grpc-message', encodeGrpcMessage(e.message)]);
  if (e?.details !== undefined) t.push(['grpc-status-details-bin', Buffer.from(e.details).toString('base64').replace(/=+$/, '')]);
  if (trailers !== null) for (const kv of trailers.toHeaders()) t.push(kv);
  if (e?.metadata !== undefined) for (const kv of e.metadata.toHeaders()) t.push(kv);
  return t;
}

/**
 * gRPC-Web's end of a call: the head if none was sent, then the status as a last frame flagged 0x80 whose
 * payload is `name:value` lines (PROTOCOL-WEB.md), base64 in text mode (and the encoder's last bytes).
 */
function webStatus(res: Response, web: Web, e: GrpcError | null, trailers: Metadata | null, compression: Encoding, call: ServerCall | null): void {
  if (!res.headersSent) writeHead(res, web.contentType, compression, call?.acceptedEncodings ?? [], call?._headers ?? null);
  let lines = '';
  for (const [k, v] of statusFields(e, trailers)) lines += `${k}:${v}\r\n`;
  const frame = encodeEnvelope(Buffer.from(lines, 'latin1'), TRAILERS);
  res.end(web.encoder === null ? frame : web.encoder.push(frame) + web.encoder.end());
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

  constructor(options: GrpcServerOptions & Http2SessionOptions & Http1ServerOptions = {}) {
    this.router = new GrpcRouter(options);
    if (options.reflection === true) {
      const impl = reflectionImplementation(() => ({ ...this.router.services }));
      this.router.add(ReflectionService, impl).add(ReflectionServiceV1Alpha, impl);
    }
    // grpc-go's keepalive enforcement by default: a PING per 5 minutes, none without a call in flight.
    const pingPolicy = options.pingPolicy ?? { minIntervalMs: 300_000, permitWithoutStreams: false };
    // HTTP/2 (h2c, or h2 by ALPN) for gRPC; HTTP/1.1 too, on the same port, for gRPC-Web.
    this.server = createServer(this.router.handle as AnyHandler, { ...options, pingPolicy });
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

/**
 * A gRPC-only server (see {@link GrpcServer}).
 *
 * @example
 * ```ts
 * const server = createGrpcServer({ maxReceiveMessageLength: 1 << 20 }).add(Greeter, {
 *   SayHello: async (req) => ({ message: `hello ${req.name}` }),
 * });
 * await server.listen({ port: 50051 });
 * ```
 */
export function createGrpcServer(options: GrpcServerOptions & Http2SessionOptions & Http1ServerOptions = {}): GrpcServer {
  return new GrpcServer(options);
}
