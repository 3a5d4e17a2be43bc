/**
 * gRPC services on an app's own port (the `grpc` plugin, `app.grpc(service, impl)`): each method is a
 * POST route at `/package.Service/Method`, so the app's middleware, the route's `deps` and `requires`
 * run first, as for any route; failures anywhere in that chain answer as gRPC statuses, not problem+json
 * (an HttpError 401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED, 404 → NOT_FOUND, 422 → INVALID_ARGUMENT,
 * 429 → RESOURCE_EXHAUSTED, 503 → UNAVAILABLE; anything unexpected → INTERNAL, its text kept in the log).
 */
import type { Dep } from '../deps.js';
import type { Context } from '../context.js';
import { HttpError } from '../errors.js';
import { definePlugin } from '../plugin.js';
import { GRPC_CALL_END } from '../../trace/channels.js';
import { encodeGrpcMessage, GrpcError, grpcProtocol, GrpcRouter, HealthService, ReflectionService, ReflectionServiceV1Alpha, reflectionImplementation, statusName, healthImplementation, Status, type GrpcServerOptions, type Implementation, type ServerCall, type ServiceDefinition, type ServingStatusName, type StatusCode } from '../../grpc/index.js';
import type { App } from '../app.js';
import { READINESS } from '../health.js';

export interface GrpcMountOptions extends Omit<GrpcServerOptions, 'onError'> {
  /** Dependencies each call resolves first (auth: `jwtAuth(...)`), as route `deps`. */
  deps?: readonly Dep<unknown>[];
  /** Permissions each call needs (the app's `authorize`), as route `requires`. */
  requires?: readonly string[];
  /**
   * Serve grpc.health.v1.Health (with the app's first gRPC service, without these deps): "" and each gRPC
   * service of the app are SERVING while the app's readiness checks (`health(app, { checks })`) pass, else
   * NOT_SERVING. Default true.
   */
  health?: boolean;
}

export interface GrpcPluginOptions extends GrpcMountOptions {
  /** The services and their implementations. */
  services: ReadonlyArray<readonly [ServiceDefinition, object]>;
}

/** The app context of each call in flight, for `contextOf`. */
const contexts = new WeakMap<object, Context>();

/**
 * The app context of a gRPC call served by an app: what its deps resolved (`ctx.use(auth)`), the request
 * id and logger, `ctx.state`.
 *
 * @example
 * ```ts
 * app.grpc(Notes, { async Get(req, call) { const user = await contextOf(call).use(auth); return notes.get(req.id, user.sub); } }, { deps: [auth] });
 * ```
 */
export function contextOf(call: ServerCall): Context {
  const ctx = contexts.get(call.request);
  if (ctx === undefined) throw new Error('contextOf: this call was not served by an app (createGrpcServer serves without one)');
  return ctx;
}

/**
 * The gRPC status for an HTTP status an app error carries.
 *
 * @example
 * ```ts
 * statusForHttp(404); // Status.NOT_FOUND
 * statusForHttp(429); // Status.RESOURCE_EXHAUSTED
 * ```
 */
export function statusForHttp(status: number): StatusCode {
  switch (status) {
    case 400:
    case 422:
      return Status.INVALID_ARGUMENT;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.NOT_FOUND;
    case 408:
    case 504:
      return Status.DEADLINE_EXCEEDED;
    case 409:
      return Status.ALREADY_EXISTS;
    case 412:
      return Status.FAILED_PRECONDITION;
    case 413:
    case 429:
      return Status.RESOURCE_EXHAUSTED;
    case 501:
      return Status.UNIMPLEMENTED;
    case 503:
      return Status.UNAVAILABLE;
    default:
      return status >= 400 && status < 500 ? Status.FAILED_PRECONDITION : Status.INTERNAL;
  }
}

/**
 * An app error as a gRPC error: its status mapped, its client-facing text kept (never a server error's).
 *
 * @example
 * ```ts
 * app.addHook('onError', (ctx, err) => {
 *   const g = grpcErrorOf(err); // what a gRPC caller is told for this error
 *   if (g !== undefined) ctx.log.warn({ code: g.code }, 'gRPC call failed');
 * });
 * ```
 */
export function grpcErrorOf(err: unknown): GrpcError | undefined {
  if (err instanceof GrpcError) return err;
  let status: number | undefined;
  let text = '';
  if (err instanceof HttpError) {
    status = err.status;
    text = err.status < 500 ? (err.fields.detail ?? err.fields.title ?? err.message) : '';
  } else if (err !== null && typeof err === 'object' && typeof (err as { toProblem?: unknown }).toProblem === 'function') {
    const p = (err as { toProblem(): { status?: number; fields?: { detail?: string; title?: string } } | undefined }).toProblem();
    if (p?.status !== undefined) {
      status = p.status;
      text = p.fields?.detail ?? p.fields?.title ?? '';
    }
  }
  if (status === undefined) return undefined;
  const code = statusForHttp(status);
  return new GrpcError(code, text !== '' ? text : code === Status.INTERNAL ? 'internal error' : '');
}

/**
 * The gRPC plugin.
 *
 * @example
 * ```ts
 * const { 'helloworld.Greeter': Greeter } = await loadProto('helloworld.proto');
 * app.register(grpc, { services: [[Greeter, { SayHello: async (req) => ({ message: `hello ${req.name}` }) }]], deps: [auth] });
 * ```
 */
export const grpc = definePlugin<GrpcPluginOptions>('grpc', (app, options) => {
  const { services, deps, requires, health, reflection, ...serverOptions } = options;
  const router = new GrpcRouter({
    ...serverOptions,
    mapError: grpcErrorOf,
    // A handler's crash is logged as the app logs a route's: its onError, else the request's logger.
    onError: (err, call) => {
      const ctx = contexts.get(call.request);
      if (ctx === undefined) return;
      if (app.config.onError !== undefined) app.config.onError(err, ctx);
      else ctx.log.error({ err, method: call.method }, 'gRPC handler failed');
    },
  });
  for (const [service, impl] of services) router.add(service, impl as Partial<Implementation<ServiceDefinition>>);
  // The app's gRPC services by name, for the health and reflection services (made with the first mount).
  let all = app.value<Record<string, ServiceDefinition>>(SERVICES);
  const first = all === undefined;
  if (all === undefined) app.decorate(SERVICES, (all = {}));
  Object.assign(all, router.services);
  const names = { has: (s: string) => Object.hasOwn(all!, s) };
  // Failures in the chain before the handler (middleware, deps, requires) answer as gRPC statuses.
  app.addHook('onError', (ctx, err) => {
    const res = ctx.res;
    if (res.headersSent) return;
    const e = grpcErrorOf(err) ?? new GrpcError(Status.INTERNAL, 'internal error');
    // Trailers-Only: the status in the head, which gRPC-Web clients read too (CORS exposes it to scripts).
    const protocol = grpcProtocol(ctx.req.get('content-type'));
    res.statusCode = 200;
    res.setHeader('content-type', protocol === 'grpc-web' ? 'application/grpc-web+proto' : protocol === 'grpc-web-text' ? 'application/grpc-web-text+proto' : 'application/grpc');
    res.setHeader('grpc-status', String(e.code));
    if (e.message !== '') res.setHeader('grpc-message', encodeGrpcMessage(e.message));
    res.end();
    // Counted like calls the router ended (metrics() listens); how long it took is not known here.
    if (GRPC_CALL_END.hasSubscribers) GRPC_CALL_END.publish({ method: ctx.req.path, code: e.code, codeName: statusName(e.code), protocol: protocol ?? 'grpc', durationMs: Number.NaN, request: ctx.req });
  });
  serve(app, router, { hide: true, ...(deps === undefined ? {} : { deps }), ...(requires === undefined ? {} : { requires }) });
  if (first && health !== false) {
    const status = async (service: string): Promise<ServingStatusName> => {
      if (service !== '' && !names.has(service)) return 'SERVICE_UNKNOWN';
      const ready = app.value<() => Promise<boolean>>(READINESS);
      return (ready === undefined ? !app.closing : await ready()) ? 'SERVING' : 'NOT_SERVING';
    };
    const healthRouter = new GrpcRouter().add(HealthService, healthImplementation({ status }));
    Object.assign(all, healthRouter.services);
    serve(app, healthRouter, { hide: true });
  }
  // Reflection once per app, when a mount asks for it: every gRPC service of the app, without the deps.
  if (reflection === true && app.value(REFLECTION) === undefined) {
    app.decorate(REFLECTION, true);
    const impl = reflectionImplementation(() => ({ ...all }));
    const reflectionRouter = new GrpcRouter().add(ReflectionService, impl).add(ReflectionServiceV1Alpha, impl);
    Object.assign(all, reflectionRouter.services);
    serve(app, reflectionRouter, { hide: true });
  }
});

/** The app values: its gRPC services by name, and whether reflection is served. */
const SERVICES = Symbol.for('covet.grpc.services');
const REFLECTION = Symbol.for('covet.grpc.reflection');

/** Each method of `router` as a POST route. */
function serve(app: App, router: GrpcRouter, routeOptions: { hide: boolean; deps?: readonly Dep<unknown>[]; requires?: readonly string[] }): void {
  for (const path of router.paths) {
    app.post(path, routeOptions, (ctx) => {
      contexts.set(ctx.req, ctx);
      return router.handle(ctx.req, ctx.res as Parameters<GrpcRouter['handle']>[1]);
    });
  }
}

/**
 * `app.grpc(service, impl, options)`: one service through the plugin.
 *
 * @example
 * ```ts
 * mountGrpc(app, Notes, { Get: async (req) => notes.get(req.id) }, { deps: [auth] });
 * ```
 */
export function mountGrpc<S extends ServiceDefinition>(app: Parameters<typeof grpc>[0], service: S, impl: Partial<Implementation<S>>, options: GrpcMountOptions = {}): void {
  app.register(grpc, { ...options, services: [[service, impl]] });
}
