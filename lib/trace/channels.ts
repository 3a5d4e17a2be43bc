/**
 * `node:diagnostics_channel` events, in the style of undici and Node's own `http.*` channels, so APM agents
 * and users observe Covet without our OpenTelemetry glue: subscribe by name, get a message object. With no
 * subscriber an instrumented point costs one `hasSubscribers` read. The request and job start channels are
 * published with `runStores`, so an `AsyncLocalStorage` bound to them (`bindStore`) holds for the whole
 * request or job run.
 *
 * | channel | message |
 * |---|---|
 * | `covet:http.server.request.start` | `{ request, response }` — a request reached the app |
 * | `covet:http.server.response.finish` | `{ request, response, statusCode, durationMs }` — its answer was sent (or the stream closed) |
 * | `covet:http.server.request.error` | `{ request, response, error, route }` — a failure the app answered (or cut) |
 * | `covet:net.connection.open` | `{ connection }` |
 * | `covet:net.connection.close` | `{ connection, error }` |
 * | `covet:db.query.start` | `{ system, text, namespace, host, port }` — `postgresql`, `sqlite`, `mysql` |
 * | `covet:db.query.end` | the same object, with `durationMs` and `rowCount` or `error` |
 * | `covet:jobs.run.start` | `{ queue, name, id, attempt }` |
 * | `covet:jobs.run.end` | `{ queue, name, id, attempt, outcome, durationMs, error? }` |
 * | `covet:grpc.server.call.end` | `{ method, code, codeName, protocol, durationMs, request }` — a gRPC call ended (`code` its status, `codeName` e.g. `NOT_FOUND`; CANCELLED when the client cancelled) |
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe('covet:db.query.end', (m) => { const q = m as { text: string; durationMs: number }; if (q.durationMs > 100) console.warn('slow', q.text); });
 * ```
 */
import { channel } from 'node:diagnostics_channel';

export const REQUEST_START = channel('covet:http.server.request.start');
export const RESPONSE_FINISH = channel('covet:http.server.response.finish');
export const REQUEST_ERROR = channel('covet:http.server.request.error');
export const CONNECTION_OPEN = channel('covet:net.connection.open');
export const CONNECTION_CLOSE = channel('covet:net.connection.close');
export const QUERY_START = channel('covet:db.query.start');
export const QUERY_END = channel('covet:db.query.end');
export const JOB_START = channel('covet:jobs.run.start');
export const JOB_END = channel('covet:jobs.run.end');
export const GRPC_CALL_END = channel('covet:grpc.server.call.end');

/** A gRPC call as `covet:grpc.server.call.end` carries it. */
export interface GrpcCallMessage {
  /** `/package.Service/Method`. */
  method: string;
  /** The status code it ended with, and its name (`OK`, `NOT_FOUND`...). */
  code: number;
  codeName: string;
  protocol: 'grpc' | 'grpc-web' | 'grpc-web-text';
  /** NaN when refused before its handler (an app's dependency or middleware answered). */
  durationMs: number;
  /** The HTTP request that carried the call (its span, its logger...). */
  request: unknown;
}

/** Whether anyone listens to the query channels. */
export function queriesObserved(): boolean {
  return QUERY_START.hasSubscribers || QUERY_END.hasSubscribers;
}

/** A query as the query channels carry it: the same object on start and, completed, on end. */
export interface QueryMessage {
  system: string;
  text: string;
  /** The database name, server address and port, where the driver knows them. */
  namespace?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  durationMs?: number;
  /** The rows the statement affected or returned, as the driver counts them. */
  rowCount?: number | null;
  /** The rows it returned. */
  returnedRows?: number;
  error?: unknown;
}

/**
 * Runs a query, telling the query channels its start and end (with the row count, or the error) — one
 * message object, so a subscriber can pair them (the OpenTelemetry plugin's client spans do).
 */
export async function observeQuery<T extends { rowCount?: number | null; rows?: unknown[] }>(system: string, text: string, run: () => Promise<T>, where?: { namespace?: string | undefined; host?: string | undefined; port?: number | undefined }): Promise<T> {
  const m: QueryMessage = { system, text, namespace: where?.namespace, host: where?.host, port: where?.port };
  const t0 = performance.now();
  if (QUERY_START.hasSubscribers) QUERY_START.publish(m);
  try {
    const r = await run();
    m.durationMs = performance.now() - t0;
    m.rowCount = r.rowCount ?? r.rows?.length ?? null;
    if (r.rows !== undefined) m.returnedRows = r.rows.length;
    if (QUERY_END.hasSubscribers) QUERY_END.publish(m);
    return r;
  } catch (error) {
    m.durationMs = performance.now() - t0;
    m.error = error;
    if (QUERY_END.hasSubscribers) QUERY_END.publish(m);
    throw error;
  }
}
