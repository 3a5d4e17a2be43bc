// Shared by the net tests: a server handing its connections to the test, and a hashing reader.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { afterEach } from 'vitest';
import { Connection, Server, type ConnectionHandler, type ServerOptions } from '../../lib/net/index.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

/** A server whose connections are handed to `onConn`; returns a connected client. */
export async function setup(onConn: (conn: Connection) => void, handler: Partial<ConnectionHandler> = {}, options: Partial<ServerOptions> = {}): Promise<net.Socket> {
  const s = new Server({
    ...options,
    onConnection: (conn) => {
      onConn(conn);
      return { onData() {}, ...handler };
    },
  });
  servers.push(s);
  const addr = (await s.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo;
  const client = net.connect(addr.port, '127.0.0.1');
  await once(client, 'connect');
  return client;
}

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Reads everything `client` receives into a running SHA-256 and a byte count. */
export function hashingReader(client: net.Socket): { received: () => number; digest: () => string } {
  const got = createHash('sha256');
  let received = 0;
  client.on('data', (d: Buffer) => {
    got.update(d);
    received += d.length;
  });
  return { received: () => received, digest: () => got.digest('hex') };
}
