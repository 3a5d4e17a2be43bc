/**
 * Prometheus metrics (prom-client, an optional peer: `npm install prom-client`): request count and latency by method, route pattern and status, open
 * connections, and Node's default process metrics (event-loop lag, heap, GC, ...), exposed at `/metrics`;
 * with `databases` and `caches`, their pools and hit rates.
 * Routes are labelled by their pattern (`/notes/{id}`), never the raw path, so label cardinality stays
 * bounded; unmatched requests share one label.
 */
import type { Registry } from 'prom-client';
import type { App } from './app.js';
import type { Cache } from './cache/cache.js';
import type { PoolStats } from './db/pool.js';
import type { ReplicaStats } from './db/replicas.js';
import { requirePeer } from './optional-peer.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { GrpcCallMessage } from '../trace/channels.js';

export interface MetricsOptions {
  /** Default `/metrics`. */
  path?: string;
  /** Registry to use; default a new one per app (so two apps in one process do not collide). */
  registry?: Registry;
  /** Collect Node's default process metrics (event-loop lag, memory, GC). Default true. */
  defaultMetrics?: boolean;
  /** Latency histogram buckets in seconds. */
  buckets?: number[];
  /**
   * Databases whose pools to report, by a name of your choice (`{ main: db }`): connections open, busy
   * and max, and callers waiting — read at scrape time; and each read replica's state, lag and reads.
   */
  databases?: Record<string, { poolStats(): PoolStats; replicaStats?(): ReplicaStats[] }>;
  /** Caches to report, by name: reads by outcome (hit, stale, miss), loads, and in-process entries. */
  caches?: Record<string, Cache>;
}

/** The label used for requests no route matched (404/405/400). */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * Instruments every request of an app and serves the exposition format. Call it before adding routes:
 * like any `app.use`, it wraps the routes registered after it (and every 404/405).
 *
 * @example
 * ```ts
 * const registry = metrics(app, { databases: { main: db }, caches: { pages: cache } }); // GET /metrics
 * new Counter({ name: 'notes_created_total', help: 'Notes created', registers: [registry] }).inc();
 * ```
 */
export function metrics(app: App, options: MetricsOptions = {}): Registry {
  // prom-client is an optional peer: loaded here, so apps without metrics need not install it.
  const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } = requirePeer<typeof import('prom-client')>('prom-client', 'metrics()');
  const registry = options.registry ?? new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from routing to the end of the response',
    labelNames,
    buckets: options.buckets ?? [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'http_open_connections',
    help: 'Client connections currently open',
    registers: [registry],
    collect() {
      this.set(app.server?.connections.size ?? 0);
    },
  });
  const dbs = Object.entries(options.databases ?? {});
  if (dbs.length > 0) {
    const gauge = (name: string, help: string, pick: (s: PoolStats) => number): void =>
      void new Gauge({
        name,
        help,
        labelNames: ['db'],
        registers: [registry],
        collect() {
          for (const [db, d] of dbs) this.set({ db }, pick(d.poolStats()));
        },
      });
    gauge('covet_db_pool_connections', 'Database connections open (or opening)', (s) => s.open);
    gauge('covet_db_pool_busy', 'Database connections running a query or reserved by a transaction', (s) => s.busy);
    gauge('covet_db_pool_waiting', 'Callers waiting for a database connection', (s) => s.waiting);
    gauge('covet_db_pool_max', 'The most connections the pool opens', (s) => s.max);
    const replicas = (name: string, help: string, pick: (r: ReplicaStats) => number | null): void =>
      void new Gauge({
        name,
        help,
        labelNames: ['db', 'replica'],
        registers: [registry],
        collect() {
          this.reset();
          for (const [db, d] of dbs) {
            for (const r of d.replicaStats?.() ?? []) {
              const v = pick(r);
              if (v !== null) this.set({ db, replica: r.name }, v);
            }
          }
        },
      });
    replicas('covet_db_replica_up', 'Whether a read replica is in rotation (1) or down, lagging, or not a standby (0)', (r) => (r.state === 'up' ? 1 : 0));
    replicas('covet_db_replica_lag_seconds', 'Replay lag of a read replica at its last check', (r) => (r.lagMs === null ? null : r.lagMs / 1000));
    replicas('covet_db_replica_reads', 'Reads a read replica answered', (r) => r.reads);
  }
  const caches = Object.entries(options.caches ?? {});
  if (caches.length > 0) {
    // The caches count as they go (plain integers); the counters are set from them at scrape time.
    new Counter({
      name: 'covet_cache_reads_total',
      help: 'Cache reads by outcome: hit (fresh), stale (served while refreshed), miss',
      labelNames: ['cache', 'outcome'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [cache, c] of caches) for (const outcome of ['hit', 'stale', 'miss'] as const) this.inc({ cache, outcome }, c.counts[outcome === 'hit' ? 'hits' : outcome === 'stale' ? 'stale' : 'misses']);
      },
    });
    new Counter({
      name: 'covet_cache_loads_total',
      help: 'Values loaded into the cache by getOrSet',
      labelNames: ['cache'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [cache, c] of caches) this.inc({ cache }, c.counts.loads);
      },
    });
    new Gauge({
      name: 'covet_cache_local_entries',
      help: 'Entries in the in-process layer (memory, or L1 of two-level)',
      labelNames: ['cache'],
      registers: [registry],
      collect() {
        for (const [cache, c] of caches) this.set({ cache }, c.backend.local?.size ?? 0);
      },
    });
  }
  // gRPC calls (covet/app/grpc, covet/grpc) by method and status, from their diagnostics channel — the
  // HTTP status of a gRPC call is 200 whatever happened.
  const grpcHandled = new Counter({ name: 'grpc_server_handled_total', help: 'gRPC calls completed, by method and status code', labelNames: ['grpc_service', 'grpc_method', 'grpc_code'], registers: [registry] });
  const grpcSeconds = new Histogram({ name: 'grpc_server_handling_seconds', help: 'gRPC call duration in seconds', labelNames: ['grpc_service', 'grpc_method'], buckets: options.buckets ?? [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  const onGrpcCall = (m: unknown): void => {
    const c = m as GrpcCallMessage;
    const slash = c.method.lastIndexOf('/');
    const labels = { grpc_service: c.method.slice(1, slash), grpc_method: c.method.slice(slash + 1) };
    grpcHandled.inc({ ...labels, grpc_code: c.codeName });
    if (Number.isFinite(c.durationMs)) grpcSeconds.observe(labels, c.durationMs / 1000);
  };
  subscribe('covet:grpc.server.call.end', onGrpcCall);
  app.onClose(() => unsubscribe('covet:grpc.server.call.end', onGrpcCall));
  app.use(async (ctx, next) => {
    const t0 = process.hrtime.bigint();
    // 'finish' fires after error answers too, so the status recorded is the one sent.
    ctx.res.once('finish', () => {
      const labels = { method: ctx.req.method, route: ctx.route === '' ? UNMATCHED_ROUTE : ctx.route, status: String(ctx.res.statusCode) };
      requests.inc(labels);
      duration.observe(labels, Number(process.hrtime.bigint() - t0) / 1e9);
    });
    await next();
  });
  app.get(options.path ?? '/metrics', { summary: 'Prometheus metrics', tags: ['health'] }, async (ctx) => {
    ctx.res.setHeader('content-type', registry.contentType);
    ctx.res.end(await registry.metrics());
  });
  return registry;
}

/** `app.register(metrics, options)`: the same, as a plugin (call `metrics(app)` for the registry it returns). */
metrics.pluginName = 'metrics';
metrics.encapsulate = false;
