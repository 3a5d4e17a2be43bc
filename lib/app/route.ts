/**
 * What a route is: its handler, options, middleware and hooks — the types the app core, its plugins and
 * the features built on them share.
 */
import type { WsConnectionOptions, WebSocket } from '../ws/index.js';
import type { AnyResponse, Context } from './context.js';
import type { Http1Request } from '../http1/index.js';
import type { Server } from '../net/index.js';
import type { ListenOptions } from './options.js';
import type { Dep } from './deps.js';
import type { HttpError } from './errors.js';
import type { CompiledSchema, RouteSchema, SchemaTypes } from './schema.js';

/** When a version or a route goes away (RFC 9745 `Deprecation`, RFC 8594 `Sunset`). */
export interface Deprecation {
  /** Since when it is deprecated (default: deprecated now, without a date). */
  since?: Date | string;
  /** When it stops answering. */
  sunset?: Date | string;
  /** A page about it (sent as `Link: <...>; rel="deprecation"`; and `rel="sunset"` with a sunset). */
  link?: string;
}

/**
 * A route handler: its return value is the response (object → JSON, string → text, Buffer → bytes). With
 * response schemas, it must return a value of one of them (checked by `tsc`, and at run time in `dev` and
 * tests). Params are typed from the pattern `P` (`{id:int}` → number) unless a params schema says more.
 */
export type Handler<S extends RouteSchema = RouteSchema, P extends string = string> = (
  ctx: Context<SchemaTypes<S, P>['params'], SchemaTypes<S, P>['query'], SchemaTypes<S, P>['body']>,
) => SchemaTypes<S, P>['result'] | Promise<SchemaTypes<S, P>['result']>;

/** Schema and documentation of a route. */
export interface RouteOptions<S extends RouteSchema = RouteSchema> {
  schema?: S;
  summary?: string;
  description?: string;
  tags?: string[];
  operationId?: string;
  /** Leave the route out of the OpenAPI document. */
  hide?: boolean;
  /**
   * The status of a successful answer when the handler does not set one (e.g. 204 for a DELETE, 201 for a
   * create); documented in OpenAPI. Default: the one 2xx code of the response schemas, else 200.
   */
  status?: number;
  /** Largest body (bytes) the route's body schema reads before answering 413. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * The API versions the route exists in (with `createApp({ versioning })`): `'2'`, `'>=2'`, `'>=1 <3'`,
   * `'1 || 3'`; default every version. Routes on one path may split the versions between them. `false`:
   * the route belongs to no version (served whatever the request names; the OpenAPI documents, health).
   */
  version?: string | false;
  /**
   * The route is on its way out: answered with `Deprecation` (RFC 9745) and, with a date, `Sunset`
   * (RFC 8594) and `Link` headers; `deprecated` in OpenAPI.
   */
  deprecated?: boolean | Deprecation;
  /**
   * Dependencies resolved (in order) before the request is validated — as FastAPI runs dependencies
   * before checking the endpoint's own parameters — so an auth check (`bearerAuth()`, `jwtAuth()`, ...)
   * answers 401/403 before a bad query or body is reported (or its schema revealed) to an anonymous
   * caller. A dependency that needs the validated input is `ctx.use`d from the handler instead.
   */
  deps?: readonly Dep<unknown>[];
  /**
   * Permissions the caller must hold (checked by the app's `authorize`, e.g. `rbac(...).authorize`,
   * after `deps`, before validation): 401 when nobody is authenticated, 403 when the caller lacks one.
   */
  requires?: readonly string[];
}
/** Onion middleware: code before `await next()` runs on the way in, after it on the way out. */
export type Middleware = (ctx: Context, next: () => Promise<void>) => unknown | Promise<unknown>;

/**
 * Lifecycle hooks (Fastify's names). `onRequest` and `onResponse` wrap every request like middleware;
 * `preHandler` runs after validation, just before the handler; `onSend` may replace the serialized body
 * of a returned value (before ETag and compression); `onError` observes every error about to be
 * answered. Like middleware, hooks apply to the routes added after them, per app or per group.
 */
export interface Hooks {
  onRequest: (ctx: Context) => unknown;
  preHandler: (ctx: Context) => unknown;
  onSend: (ctx: Context, payload: string | Uint8Array) => string | Uint8Array | void | Promise<string | Uint8Array | void>;
  onResponse: (ctx: Context) => void;
  onError: (ctx: Context, err: unknown) => void;
  /**
   * A route about to be added (Fastify's onRoute): change it, or return the routes to add in its place
   * (none: the hook took care of it). The versioning plugin serves a route under each version's prefix.
   */
  onRoute: (route: RouteDefinition) => RouteDefinition[] | void;
  /**
   * The app's one chooser among a router slot's `variants` (the versioning plugin): given the matched
   * entry, the route to run, or the error to answer. Runs before the middleware.
   */
  onMatch: (ctx: Context, entry: RouteEntry, query: string) => RouteEntry | HttpError;
  /** Adds to an OpenAPI document the app serves (`version`: the API version it describes, if any). */
  onOpenApi: (doc: Record<string, unknown>, version: string | undefined) => void;
  /**
   * Every request the app receives, before routing, whichever scope added it and whatever routes came
   * before or after: for what belongs to the transport, not to routes (the HTTP/3 plugin's `Alt-Svc`).
   * Synchronous; it sees the request and response before any middleware.
   */
  onReceive: (req: Http1Request, res: AnyResponse) => void;
  /**
   * `listen()` has the TCP server listening (`options`: what it was given): for what serves beside it
   * (the HTTP/3 plugin binds UDP on the same port). A hook that throws fails `listen()`, which closes the
   * TCP server again. In a cluster primary (`workers` above 1) it runs once before the workers are forked,
   * with `server` null: a plugin that cannot serve from several processes refuses there.
   */
  onListen: (server: Server | null, options: ListenOptions) => void | Promise<void>;
}

/** A route as `onRoute` hooks see it. */
export interface RouteDefinition {
  method: string | string[];
  /** The full path (group and plugin prefixes included). */
  path: string;
  entry: RouteEntry;
  /** `GET /notes/{id}`: for error messages. */
  where: string;
}

/** The hooks a route runs (the lists of its scope when it was added). */
export interface RouteHooks {
  preHandler: Hooks['preHandler'][];
  onSend: Hooks['onSend'][];
  onError: Hooks['onError'][];
}

/**
 * A WebSocket route: routed like HTTP routes (typed params), and upgraded only after the app's middleware,
 * the route's `deps`/`requires` and its params/query/headers schemas pass — a refusal is the same answer
 * (401, 403, 422, 429 ...) an HTTP route would give, sent instead of the 101 (or the HTTP/2 200). Its own
 * negotiation and limits (subprotocols, permessage-deflate, message size...) apply to its connections.
 */
export interface WsRouteHandlers<P extends string = string, S extends RouteSchema = RouteSchema> extends WsConnectionOptions, Pick<RouteOptions<S>, 'deps' | 'requires' | 'schema' | 'summary' | 'description' | 'tags' | 'hide'> {
  /**
   * A client connected to this route (after the handshake); `ctx` is the upgrade request's context: its
   * params, and what the deps set (`ctx.state`, `ctx.use` of the same deps). The upgrade request is over
   * once the socket is handed on, so deps' cleanups have run by then.
   */
  open(ws: WebSocket, ctx: Context<SchemaTypes<S, P>['params'], SchemaTypes<S, P>['query']>): void;
}

export interface RouteEntry {
  handler: Handler;
  middleware: Middleware[];
  hooks: RouteHooks;
  options: RouteOptions;
  compiled: CompiledSchema | null;
  /** Check returned values against the response schemas before sending (see `AppOptions.checkResponses`). */
  checkResponse: boolean;
  /** The success status (see `RouteOptions.status`). */
  status: number;
  /** Plugin data: the API versions (indexes) the route exists in (the versioning plugin). */
  versions?: ReadonlySet<number>;
  /**
   * Routes sharing this router slot (one method and path), of which an `onMatch` hook picks one per request
   * (the versioning plugin: one per version range).
   */
  variants?: RouteEntry[];
}
