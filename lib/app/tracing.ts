/**
 * OpenTelemetry tracing through `@opentelemetry/api` (an optional peer: `npm install @opentelemetry/api`).
 * covet creates spans; which SDK records and exports them is the app's choice (the NodeSDK, a
 * `BasicTracerProvider` with an OTLP exporter, ...). With no SDK registered, the API hands out
 * non-recording spans and covet skips everything that only a recording span needs.
 *
 * - `tracing(app)`: a server span per request — HTTP/1.1, HTTP/2 and WebSocket upgrades alike — named
 *   `GET /notes/{id}` after routing, with the stable HTTP semantic-convention attributes, a child span
 *   for the router match, status ERROR for 5xx; the handler runs inside it, so the spans below are its
 *   children. A W3C `traceparent` (and `tracestate`) on the request continues the caller's trace.
 * - Every covet service once tracing is on (`tracing()` or, in a process without an app such as a
 *   `covet worker`, `enableTracing()`): database queries (PostgreSQL, PGlite, SQLite, MySQL/MariaDB),
 *   Redis commands of the rate limiter, cache, sessions, rooms and jobs, cache reads, and jobs — enqueue
 *   (producer) and each run (consumer), the run continuing the trace of the request that enqueued it.
 * - Out: `traceparentHeader()` for an outgoing call; `traceResponse: true` answers with the request's
 *   trace in a `traceresponse` header (W3C Trace Context Level 2).
 *
 * Propagation uses the globally registered propagator (an SDK registers W3C Trace Context); when none
 * is registered, covet reads and writes `traceparent` itself, so traces still join.
 *
 * @example
 * ```ts
 * import { trace } from '@opentelemetry/api';
 * import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
 * import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
 * import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
 * import { context } from '@opentelemetry/api';
 * context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
 * trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] }));
 * const app = createApp();
 * tracing(app);
 * ```
 */
import type * as Otel from '@opentelemetry/api';
import type { Http1Request } from '../http1/request.js';
import type { App, RequestWrapper } from './app.js';
import type { AnyResponse } from './context.js';
import { requirePeer } from './optional-peer.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { installSpans, spans, type SpanAttributes, type SpanKindName } from '../trace/hook.js';
import type { GrpcCallMessage, QueryMessage } from '../trace/channels.js';

export interface TracingOptions {
  /** The tracer's name (instrumentation scope). Default `covet`. */
  name?: string;
  /** Answer traced requests with a `traceresponse` header naming their trace. Default false. */
  traceResponse?: boolean;
  /** Requests to leave untraced (health checks, metrics scrapes): by path. */
  ignore?: (path: string) => boolean;
  /**
   * A child span for each router match. Default true; false keeps the route on the server span only
   * (its name and `http.route`) and halves what a request costs the SDK (bench/RESULTS.md, tracing).
   */
  routeSpans?: boolean;
}

const VERSION = '0.1.0';
let api: typeof Otel | null = null;
let scopeName = 'covet';

let noopProvider: Otel.TracerProvider | null = null;

function otel(): typeof Otel {
  if (api === null) {
    api = requirePeer<typeof Otel>('@opentelemetry/api', 'tracing()');
    // The API's no-op provider: what a fresh proxy delegates to while no SDK is registered.
    noopProvider = new api.ProxyTracerProvider().getDelegate();
  }
  return api;
}

/**
 * Whether an SDK is registered now. Until one is, the API would only hand out non-recording spans and
 * (with no context manager) carry no context, so covet skips the calls altogether: tracing on and no SDK
 * costs the app a check per request (measured in bench/tracing.mjs).
 */
function recording(o: typeof Otel): boolean {
  const p = o.trace.getTracerProvider();
  return !(p instanceof o.ProxyTracerProvider && p.getDelegate() === noopProvider);
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-|$)/;

/** The context whose span is the remote parent in `traceparent` (W3C Trace Context §3.2), or `base`. */
function fromTraceparent(o: typeof Otel, base: Otel.Context, value: string | undefined, state: string | undefined): Otel.Context {
  const m = value === undefined ? null : TRACEPARENT.exec(value.trim());
  // Version ff is invalid; a higher version is parsed as far as version 00 goes (§3.2.4).
  if (m === null || m[1] === 'ff' || (m[1] === '00' && m[5] === '-')) return base;
  const sc: Otel.SpanContext = { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16) & 1, isRemote: true };
  if (!o.isSpanContextValid(sc)) return base;
  if (state !== undefined && state !== '') sc.traceState = o.createTraceState(state);
  return o.trace.setSpanContext(base, sc);
}

function formatTraceparent(sc: Otel.SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 1) === 1 ? '01' : '00'}`;
}

/** Reads a covet request's fields for a propagator. */
const requestGetter: Otel.TextMapGetter<Http1Request> = {
  keys: (req) => req.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
  get: (req, key) => req.get(key),
};

const setter: Otel.TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => void (carrier[key] = value),
};

function clean(a: SpanAttributes): Otel.Attributes {
  const out: Otel.Attributes = {};
  for (const k in a) if (a[k] !== undefined) out[k] = a[k];
  return out;
}

function recordError(o: typeof Otel, span: Otel.Span, err: unknown): void {
  if (!span.isRecording()) return;
  const e = err instanceof Error ? err : new Error(String(err));
  span.recordException(e);
  span.setStatus({ code: o.SpanStatusCode.ERROR, message: e.message });
  span.setAttribute('error.type', e.name === 'Error' ? ((e as { code?: string }).code ?? 'Error') : e.name);
}

/** Ends `span` when `p` settles: after `onValue` on success, with the error recorded on failure. */
function endWith<T>(o: typeof Otel, span: Otel.Span, p: Promise<T>, onValue: (v: T) => void): Promise<T> {
  return p.then(
    (v) => {
      onValue(v);
      span.end();
      return v;
    },
    (err: unknown) => {
      recordError(o, span, err);
      span.end();
      throw err;
    },
  );
}

/** The context a request continues: its `traceparent`, through the registered propagator or ours. */
function extract(o: typeof Otel, req: Http1Request): Otel.Context {
  const root = o.ROOT_CONTEXT;
  if (o.propagation.fields().length > 0) return o.propagation.extract(root, req, requestGetter);
  const tp = req.get('traceparent');
  return tp === undefined ? root : fromTraceparent(o, root, tp, req.get('tracestate'));
}

/**
 * Turns on spans for every covet service in this process (database, Redis, cache, jobs) — what
 * `tracing(app)` does besides the requests. For processes without an app, such as a `covet worker`.
 *
 * @example
 * ```ts
 * enableTracing(); // after the SDK is registered, before the worker starts
 * jobs.work({ concurrency: 4 });
 * ```
 */
export function enableTracing(options: Pick<TracingOptions, 'name'> = {}): void {
  const o = otel();
  scopeName = options.name ?? scopeName;
  // The tracer is a proxy: an SDK registered later still receives the spans.
  const tracer = o.trace.getTracer(scopeName, VERSION);
  const kinds: Record<SpanKindName, Otel.SpanKind> = { internal: o.SpanKind.INTERNAL, client: o.SpanKind.CLIENT, producer: o.SpanKind.PRODUCER, consumer: o.SpanKind.CONSUMER };
  installSpans({
    around<T>(name: string, kind: SpanKindName, attributes: SpanAttributes, fn: () => Promise<T>, done?: (r: T) => SpanAttributes | undefined, parent?: string | null): Promise<T> {
      if (!recording(o)) return fn();
      const active = o.context.active();
      // A job's run continues the trace that enqueued it (unless something is active already).
      const base = parent != null && o.trace.getSpan(active) === undefined ? fromTraceparent(o, active, parent, undefined) : active;
      const span = tracer.startSpan(name, { kind: kinds[kind], attributes: clean(attributes) }, base);
      let p: Promise<T>;
      try {
        p = o.context.with(o.trace.setSpan(base, span), fn);
      } catch (err) {
        recordError(o, span, err);
        span.end();
        throw err;
      }
      return endWith(o, span, p, (v) => {
        if (done !== undefined && span.isRecording()) {
          const a = done(v);
          if (a !== undefined) span.setAttributes(clean(a));
        }
      });
    },
    traceparent(): string | null {
      if (!recording(o)) return null;
      const sc = o.trace.getSpanContext(o.context.active());
      return sc !== undefined && o.isSpanContextValid(sc) ? formatTraceparent(sc) : null;
    },
  });
  queryTracer = tracer;
  listenToQueries(o);
}

/** A database client span's name and attributes (OpenTelemetry database semantic conventions). */
function dbSpan(system: string, sql: string, namespace: string | undefined, host: string | undefined, port: number | undefined): { name: string; attributes: SpanAttributes } {
  const m = /^\s*([A-Za-z]+)/.exec(sql);
  const op = m === null ? undefined : m[1]!.toUpperCase();
  return {
    name: op === undefined ? system : namespace === undefined ? op : `${op} ${namespace}`,
    attributes: { 'db.system.name': system, 'db.namespace': namespace, 'db.operation.name': op, 'db.query.text': sql, 'server.address': host, 'server.port': port },
  };
}

/** The tracer the query listeners start spans with (the latest `enableTracing`'s). */
let queryTracer: Otel.Tracer | null = null;
let queryListeners: { start: (m: unknown) => void; end: (m: unknown) => void } | null = null;

/**
 * Database client spans, from the query channels (trace/channels.ts): one span per statement, started
 * when the query channel says so — in the caller's context, so it is a child of the request or job — and
 * ended with the row count or the error.
 */
function listenToQueries(o: typeof Otel): void {
  if (queryListeners !== null) return;
  const open = new WeakMap<QueryMessage, Otel.Span>();
  queryListeners = {
    start(msg) {
      if (queryTracer === null || !recording(o)) return;
      const m = msg as QueryMessage;
      const { name, attributes } = dbSpan(m.system, m.text, m.namespace, m.host, m.port);
      open.set(m, queryTracer.startSpan(name, { kind: o.SpanKind.CLIENT, attributes: clean(attributes) }, o.context.active()));
    },
    end(msg) {
      const m = msg as QueryMessage;
      const span = open.get(m);
      if (span === undefined) return;
      open.delete(m);
      if (m.error !== undefined) recordError(o, span, m.error);
      else if (m.returnedRows !== undefined && span.isRecording()) span.setAttribute('db.response.returned_rows', m.returnedRows);
      span.end();
    },
  };
  subscribe('covet:db.query.start', queryListeners.start);
  subscribe('covet:db.query.end', queryListeners.end);
}

/**
 * Turns tracing off again (spans already started end as usual).
 *
 * @example
 * ```ts
 * enableTracing({ name: 'worker' });
 * // … later, in a test's cleanup:
 * disableTracing();
 * ```
 */
export function disableTracing(): void {
  installSpans(null);
  if (queryListeners !== null) {
    unsubscribe('covet:db.query.start', queryListeners.start);
    unsubscribe('covet:db.query.end', queryListeners.end);
    queryListeners = null;
  }
}

/**
 * Headers carrying the active trace to an outgoing call (`traceparent`, `tracestate`; whatever the
 * registered propagator writes), or `{}` when tracing is off or no span is active.
 *
 * @example
 * ```ts
 * await fetch(url, { headers: { ...traceparentHeader(), accept: 'application/json' } });
 * ```
 */
export function traceparentHeader(): Record<string, string> {
  if (spans === null) return {};
  const o = otel();
  const out: Record<string, string> = {};
  if (o.propagation.fields().length > 0) {
    o.propagation.inject(o.context.active(), out, setter);
    return out;
  }
  const tp = spans.traceparent();
  if (tp !== null) out.traceparent = tp;
  const state = o.trace.getSpanContext(o.context.active())?.traceState?.serialize();
  if (tp !== null && state !== undefined && state !== '') out.tracestate = state;
  return out;
}

/** gRPC statuses that mark a server span as failed (OpenTelemetry's RPC conventions for gRPC servers). */
const SERVER_ERROR_CODES = new Set([2, 4, 12, 13, 14, 15]);

/**
 * Traces an app: a server span per request (HTTP/1.1, HTTP/2, WebSocket upgrade), the router match, and
 * — turned on process-wide — database, Redis, cache and job spans under it (see the module comment).
 *
 * @example
 * ```ts
 * const app = createApp();
 * tracing(app, { ignore: (path) => path === '/health' });
 * ```
 */
export function tracing(app: App, options: TracingOptions = {}): void {
  enableTracing(options);
  const o = otel();
  const tracer = o.trace.getTracer(scopeName, VERSION);
  const traceResponse = options.traceResponse === true;
  const ignore = options.ignore;
  const epoch = performance.timeOrigin;
  const routeSpans = options.routeSpans !== false;
  // gRPC calls (covet/app/grpc): the RPC conventions on their request span, the status when the call ends.
  const rpcSpans = new WeakMap<object, Otel.Span>();
  const onGrpcCall = (m: unknown): void => {
    const c = m as GrpcCallMessage;
    const span = rpcSpans.get(c.request as object);
    if (span === undefined) return;
    span.setAttribute('rpc.grpc.status_code', c.code);
    if (SERVER_ERROR_CODES.has(c.code)) span.setStatus({ code: o.SpanStatusCode.ERROR, message: c.codeName });
  };
  subscribe('covet:grpc.server.call.end', onGrpcCall);
  app.onClose(() => unsubscribe('covet:grpc.server.call.end', onGrpcCall));
  const t: RequestWrapper = {
    enabled: () => recording(o),
    request<T>(req: Http1Request, res: AnyResponse | null, handle: (token: unknown) => T): T {
      if (ignore !== undefined && ignore(req.path)) return handle(null);
      const parent = extract(o, req);
      // Every attribute known now goes in at once (one pass of the SDK's checks).
      const attributes: Otel.Attributes = { 'http.request.method': req.method, 'url.path': req.path, 'network.protocol.version': req.httpVersion === '2.0' ? '2' : req.httpVersion };
      if (req.remoteAddress !== undefined) attributes['client.address'] = req.remoteAddress;
      const ua = req.get('user-agent');
      if (ua !== undefined) attributes['user_agent.original'] = ua;
      const host = req.get('host') ?? req.get(':authority');
      if (host !== undefined) attributes['server.address'] = host.replace(/:\d+$/, '');
      if (res === null) attributes['network.protocol.name'] = 'websocket';
      const grpc = req.get('content-type')?.startsWith('application/grpc') === true;
      if (grpc) attributes['rpc.system'] = 'grpc';
      const span = tracer.startSpan(req.method, { kind: o.SpanKind.SERVER, attributes }, parent);
      if (grpc) rpcSpans.set(req, span);
      const ctx = o.trace.setSpan(parent, span);
      if (res !== null) {
        if (span.isRecording()) {
          if (traceResponse) res.once('head', () => setTraceResponse(res, span));
          let ended = false;
          const end = (): void => {
            if (ended) return;
            ended = true;
            span.setAttribute('http.response.status_code', res.statusCode);
            if (res.statusCode >= 500) span.setStatus({ code: o.SpanStatusCode.ERROR });
            span.end();
          };
          res.on('finish', end).on('close', end);
        }
        return o.context.with(ctx, handle, undefined, span);
      }
      // An upgrade: the span ends with the verdict (101, or the status it answers instead).
      return endWith(o, span, o.context.with(ctx, handle, undefined, span) as Promise<unknown>, (verdict) => {
        span.setAttribute('http.response.status_code', (verdict as { status?: number }).status ?? 101);
      }) as T;
    },
    routed(token, req, pattern, startedAt) {
      const span = token as Otel.Span | null;
      if (span === null || !span.isRecording()) return;
      if (pattern !== '') {
        if (rpcSpans.has(req)) {
          // OpenTelemetry's RPC conventions: named `package.Service/Method`.
          const slash = pattern.lastIndexOf('/');
          span.updateName(pattern.slice(1));
          span.setAttributes({ 'rpc.service': pattern.slice(1, slash), 'rpc.method': pattern.slice(slash + 1) });
        } else span.updateName(`${req.method} ${pattern}`);
        span.setAttribute('http.route', pattern);
      }
      if (!routeSpans) return;
      tracer
        .startSpan('route', { kind: o.SpanKind.INTERNAL, startTime: epoch + startedAt, attributes: pattern === '' ? { 'http.route.matched': false } : { 'http.route': pattern, 'http.route.matched': true } })
        .end(epoch + performance.now());
    },
  };
  app.wrapRequests(t);
}
/** `app.register(tracing, options)`: the same as `tracing(app, options)`, for the whole app. */
tracing.pluginName = 'tracing';
tracing.encapsulate = false;

function setTraceResponse(res: AnyResponse, span: Otel.Span): void {
  const sc = span.spanContext();
  res.setHeader('traceresponse', formatTraceparent(sc));
}
