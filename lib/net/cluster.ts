import cluster from 'node:cluster';

export interface ClusterOptions {
  /** Number of worker processes. `1` (or fewer) runs `main` in this process without forking. */
  workers: number;
  /** Runs in each worker (and in the single process when `workers <= 1`). Typically starts a server. */
  main: () => void | Promise<void>;
  /** Restart a worker that exits unexpectedly. Default true. */
  restart?: boolean;
  /** Log function for primary-side events. Default: none. */
  log?: (message: string) => void;
}

export interface ClusterHandle {
  /** True in the primary process that forked workers. */
  isPrimary: boolean;
  /** Primary only: stop all workers (SIGTERM, they shut down gracefully) and resolve when all exited. */
  stop(): Promise<void>;
}

/**
 * Starts `workers` processes sharing one listening port (node:cluster: the primary accepts and hands
 * connections round-robin on Linux). SIGTERM/SIGINT to the primary are forwarded to the workers, which
 * should close gracefully; crashed workers are restarted unless stopping.
 *
 * @example
 * ```ts
 * import { startCluster } from 'covet/net';
 * startCluster({ workers: 4, main: async () => { await server.listen({ port: 3000 }); } });
 * ```
 */
export function startCluster(options: ClusterOptions): ClusterHandle {
  const log = options.log ?? (() => {});
  if (options.workers <= 1 || !cluster.isPrimary) {
    void Promise.resolve(options.main());
    return { isPrimary: false, stop: () => Promise.resolve() };
  }
  // Round-robin gives even load across workers; it is the Linux default but make it explicit.
  cluster.schedulingPolicy = cluster.SCHED_RR;
  let stopping = false;
  const restart = options.restart ?? true;
  for (let i = 0; i < options.workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping || !restart) return;
    log(`worker ${worker.process.pid} exited (${signal ?? code}); restarting`);
    cluster.fork();
  });
  const stop = (): Promise<void> => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    return Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      ),
    ).then(() => undefined);
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`primary got ${sig}; stopping ${options.workers} workers`);
    void stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return { isPrimary: true, stop };
}
