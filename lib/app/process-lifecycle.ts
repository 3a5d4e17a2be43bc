/**
 * Serving with several processes, and closing on signals: the cluster primary that serves nothing itself,
 * and the SIGTERM/SIGINT handling of `app.closeOnSignals`.
 */
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { Server, startCluster, type ClusterHandle } from '../net/index.js';

/** The primary of a cluster: it serves nothing itself; `close` stops the workers. */
class ClusterPrimary extends Server {
  readonly #address: AddressInfo;
  readonly #handle: ClusterHandle;
  constructor(address: AddressInfo, handle: ClusterHandle) {
    super({ onConnection: () => ({ onData: () => {} }) });
    this.#address = address;
    this.#handle = handle;
  }
  override address(): AddressInfo {
    return this.#address;
  }
  override close(): Promise<void> {
    return this.#handle.stop();
  }
}

/**
 * In the primary of a `workers` > 1 app: forks the workers (each runs the script and listens) and resolves
 * once all listen, with a Server standing for them. In a worker: null (it serves).
 */
export async function listenCluster(workers: number): Promise<Server | null> {
  if (!cluster.isPrimary) return null;
  const listening = new Promise<AddressInfo>((resolve) => {
    let n = 0;
    let first: AddressInfo | undefined;
    const onListening = (_w: unknown, a: { address: string; port: number }): void => {
      first ??= { address: a.address, port: a.port, family: 'IPv4' };
      if (++n === workers) {
        cluster.off('listening', onListening);
        resolve(first);
      }
    };
    cluster.on('listening', onListening);
  });
  const handle = startCluster({ workers, main: () => {}, log: (m) => console.log(m) });
  return new ClusterPrimary(await listening, handle);
}

/** Options of `app.closeOnSignals`. */
export interface SignalOptions {
  graceMs?: number;
  idleLingerMs?: number;
  signals?: readonly NodeJS.Signals[];
  log?: (msg: string) => void;
  beforeExit?: () => unknown;
}

/** Installs the signal handlers of `app.closeOnSignals` (see there). */
export function onSignals(options: SignalOptions, openConnections: () => number, keepAliveMs: number, close: (graceMs: number, idleLingerMs: number) => Promise<void>): void {
  const log = options.log ?? ((m: string) => console.log(m));
  const graceMs = options.graceMs ?? 30_000;
  let closing = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (closing) {
      log(`${sig} again: exiting now`);
      process.exit(1);
    }
    closing = true;
    log(`${sig}: closing — no new connections, ${openConnections()} open, in-flight requests get up to ${graceMs} ms`);
    const t0 = Date.now();
    // Idle keep-alive connections stay until the keep-alive timeout the server advertised: a client may
    // reuse one until then, and gets a 503 + Connection: close rather than a reset. Under covet dev, at
    // once: a browser's next request must reach the new code.
    const idleLingerMs = options.idleLingerMs ?? (process.env.COVET_DEV_ENTRY !== undefined ? 0 : keepAliveMs);
    void close(graceMs, idleLingerMs)
      .then(() => options.beforeExit?.()) // e.g. close database sessions once requests are done
      .then(
        () => {
          log(`closed in ${Date.now() - t0} ms`);
          process.exit(0);
        },
        (err: unknown) => {
          log(`closing failed: ${(err as Error).message}`);
          process.exit(1);
        },
      );
  };
  for (const sig of options.signals ?? ['SIGTERM', 'SIGINT']) process.on(sig, onSignal);
}
