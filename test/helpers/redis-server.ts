/** A redis-server of a test's own (to stop, freeze or crash without touching the shared one). */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { waitFor } from './wait-for.js';

/** Starts redis-server on `port` with `args`; resolves once it answers PING. */
export async function startRedisServer(port: number, args: readonly string[]): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...args], { stdio: 'ignore' });
  await waitFor(async () => {
    const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    const ok = await probe.connect().then(() => probe.ping()).then(() => true, () => false);
    probe.disconnect();
    return ok;
  }, 10_000, 'redis-server to start');
  return server;
}
