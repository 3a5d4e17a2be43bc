/**
 * Services as data: a method is its path, whether each side streams, and how its messages turn into bytes
 * and back — the shape `@grpc/grpc-js` and `@grpc/proto-loader` use, so their definitions (and generated
 * types) serve here unchanged. Handlers are async: a unary one returns its answer, a streaming side is an
 * `AsyncIterable` (an async generator), so backpressure is the iterator's.
 */
import type { ServerCall } from './call.js';

/**
 * One RPC method. `requestSerialize`/`responseDeserialize` are the client's half, `requestDeserialize`/
 * `responseSerialize` the server's.
 */
export interface MethodDefinition<Req, Res> {
  /** `/package.Service/Method`. */
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: Req): Uint8Array;
  requestDeserialize(bytes: Buffer): Req;
  responseSerialize(value: Res): Uint8Array;
  responseDeserialize(bytes: Buffer): Res;
  originalName?: string;
}

/** Any method, whatever its message types (what a service holds). */
export interface AnyMethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: never): Uint8Array;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: never): Uint8Array;
  responseDeserialize(bytes: Buffer): unknown;
  originalName?: string;
}

/** A service: its methods by name. */
export type ServiceDefinition = { readonly [method: string]: AnyMethodDefinition };

export type UnaryHandler<Req, Res> = (request: Req, call: ServerCall) => Res | Promise<Res>;
export type ServerStreamingHandler<Req, Res> = (request: Req, call: ServerCall) => AsyncIterable<Res> | Iterable<Res>;
export type ClientStreamingHandler<Req, Res> = (requests: AsyncIterable<Req>, call: ServerCall) => Res | Promise<Res>;
export type BidiStreamingHandler<Req, Res> = (requests: AsyncIterable<Req>, call: ServerCall) => AsyncIterable<Res> | Iterable<Res>;

type AnyHandler<Req, Res> = UnaryHandler<Req, Res> | ServerStreamingHandler<Req, Res> | ClientStreamingHandler<Req, Res> | BidiStreamingHandler<Req, Res>;

/** A handler for a method whose message types are not known (a `.proto` loaded at run time): any function of a message and the call. */
export type LooseHandler = (input: never, call: ServerCall) => unknown;

/**
 * The handler a method takes: by its stream flags when they are literal types, else any of the four; for a
 * method loaded at run time (message types unknown), any function — the handler's own annotations type it.
 */
export type HandlerFor<M> =
  M extends MethodDefinition<infer Req, infer Res>
    ? unknown extends Req
      ? LooseHandler
      : M extends { requestStream: true; responseStream: true }
      ? BidiStreamingHandler<Req, Res>
      : M extends { requestStream: true; responseStream: false }
        ? ClientStreamingHandler<Req, Res>
        : M extends { requestStream: false; responseStream: true }
          ? ServerStreamingHandler<Req, Res>
          : M extends { requestStream: false; responseStream: false }
            ? UnaryHandler<Req, Res>
            : AnyHandler<Req, Res>
    : never;

/** A service's implementation: a handler for each of its methods. */
export type Implementation<S extends ServiceDefinition> = { [K in keyof S]: HandlerFor<S[K]> };

/**
 * A method defined in code, its stream flags kept as literal types (so its handler is typed exactly).
 *
 * @example
 * ```ts
 * const json = <T>() => ({ serialize: (v: T) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as T });
 * const Echo = { Say: method('/demo.Echo/Say', 'unary', json<{ text: string }>(), json<{ text: string }>()) };
 * ```
 */
export function method<K extends 'unary' | 'server-streaming' | 'client-streaming' | 'bidi', Req, Res>(
  path: string,
  kind: K,
  request: { serialize(v: Req): Uint8Array; deserialize(b: Buffer): Req },
  response: { serialize(v: Res): Uint8Array; deserialize(b: Buffer): Res },
): MethodDefinition<Req, Res> & { requestStream: K extends 'client-streaming' | 'bidi' ? true : false; responseStream: K extends 'server-streaming' | 'bidi' ? true : false } {
  type Flags = { requestStream: K extends 'client-streaming' | 'bidi' ? true : false; responseStream: K extends 'server-streaming' | 'bidi' ? true : false };
  const def: MethodDefinition<Req, Res> = {
    path,
    requestStream: kind === 'client-streaming' || kind === 'bidi',
    responseStream: kind === 'server-streaming' || kind === 'bidi',
    requestSerialize: (v) => request.serialize(v),
    requestDeserialize: (b) => request.deserialize(b),
    responseSerialize: (v) => response.serialize(v),
    responseDeserialize: (b) => response.deserialize(b),
  };
  return def as MethodDefinition<Req, Res> & Flags;
}

/**
 * Whether a value of a package definition is a service (its members are methods).
 *
 * @example
 * ```ts
 * const pkg = await loadProto('greeter.proto');
 * const services = Object.entries(pkg).filter(([, v]) => isService(v));
 * ```
 */
export function isService(value: unknown): value is ServiceDefinition {
  if (value === null || typeof value !== 'object') return false;
  const members = Object.values(value);
  return members.length > 0 && members.every((m) => m !== null && typeof m === 'object' && typeof (m as { path?: unknown }).path === 'string' && typeof (m as { requestDeserialize?: unknown }).requestDeserialize === 'function');
}
