/**
 * The seam between covet's instrumented code (database drivers, Redis services, cache, jobs, the app's
 * requests) and OpenTelemetry. It holds no OpenTelemetry code: `tracing()` / `enableTracing()`
 * (tracing.ts, which loads `@opentelemetry/api`) installs an implementation; until then `spans` is null
 * and every instrumented point costs one null check.
 */

export type SpanKindName = 'internal' | 'client' | 'producer' | 'consumer';
export type SpanAttributes = Record<string, string | number | boolean | undefined>;

export interface Spans {
  /**
   * Runs `fn` inside a span (a child of the active one, or of `parent` — a `traceparent` value — when
   * given), ended when `fn`'s promise settles; a rejection is recorded on it. `done` may add attributes
   * from the result.
   */
  around<T>(name: string, kind: SpanKindName, attributes: SpanAttributes, fn: () => Promise<T>, done?: (result: T) => SpanAttributes | undefined, parent?: string | null): Promise<T>;
  /** The active span's context as a W3C `traceparent` value, or null when there is none (or it is invalid). */
  traceparent(): string | null;
}

/** The installed implementation, or null when tracing is off. */
export let spans: Spans | null = null;

/** @internal Installs (or, with null, removes) the implementation. */
export function installSpans(s: Spans | null): void {
  spans = s;
}

/** A database client span's name and attributes (OpenTelemetry database semantic conventions). */
export function dbSpan(system: string, sql: string, namespace: string | undefined, host: string | undefined, port: number | undefined): { name: string; attributes: SpanAttributes } {
  const m = /^\s*([A-Za-z]+)/.exec(sql);
  const op = m === null ? undefined : m[1]!.toUpperCase();
  return {
    name: op === undefined ? system : namespace === undefined ? op : `${op} ${namespace}`,
    attributes: { 'db.system.name': system, 'db.namespace': namespace, 'db.operation.name': op, 'db.query.text': sql, 'server.address': host, 'server.port': port },
  };
}
