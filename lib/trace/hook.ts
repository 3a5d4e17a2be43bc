/**
 * The seam between covet's instrumented code (Redis services, cache, jobs, the app's requests; database
 * queries are observed through the query channels of channels.ts instead) and OpenTelemetry. It holds no
 * OpenTelemetry code: `tracing()` / `enableTracing()` (tracing.ts, which loads `@opentelemetry/api`)
 * installs an implementation; until then `spans` is null and every instrumented point costs one null check.
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
