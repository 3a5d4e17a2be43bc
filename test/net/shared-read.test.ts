import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readIntoSharedBuffer, readIntoStream } from '../../lib/net/index.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** A TCP server whose first accepted socket is returned with a connected client. */
async function pair(): Promise<{ server: net.Socket; client: net.Socket }> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const accepted = once(srv, 'connection');
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  const [server] = (await accepted) as [net.Socket];
  await once(client, 'connect').catch(() => undefined);
  cleanup.push(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  return { server, client };
}

const until = async (f: () => boolean): Promise<void> => {
  while (!f()) await new Promise((r) => setTimeout(r, 2));
};

type Got = { chunks: Buffer[]; total: () => number };
const collector = (): Got & { onChunk: (this: net.Socket, c: Buffer) => void } => {
  const chunks: Buffer[] = [];
  return { chunks, total: () => chunks.reduce((n, c) => n + c.length, 0), onChunk: (c: Buffer) => void chunks.push(c) };
};

describe('readIntoSharedBuffer', () => {
  it('takes plain TCP sockets on this Node; each chunk is the callback’s own copy', async () => {
    const { server, client } = await pair();
    const got = collector();
    expect(readIntoSharedBuffer(server, got.onChunk)).toBe(true);
    client.write('first');
    await until(() => got.total() === 5);
    client.write('SECOND!');
    await until(() => got.total() === 12);
    // The shared buffer was overwritten by the second read: the first chunk must not have changed.
    expect(Buffer.concat(got.chunks).toString()).toBe('firstSECOND!');
    expect(got.chunks[0]!.toString()).toBe('first');
  });

  it('delivers 4 MiB intact across many reads, then the end of stream', async () => {
    const { server, client } = await pair();
    const got = collector();
    readIntoSharedBuffer(server, got.onChunk);
    const ended = once(server, 'end');
    const data = randomBytes(4 * 1024 * 1024);
    client.end(data);
    await ended;
    expect(got.chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(got.chunks).equals(data)).toBe(true);
  });

  it('stops reading while paused and loses nothing when resumed', async () => {
    const { server, client } = await pair();
    const got = collector();
    readIntoSharedBuffer(server, got.onChunk);
    server.pause();
    client.write('while paused');
    await new Promise((r) => setTimeout(r, 50));
    expect(got.total()).toBe(0);
    server.resume();
    await until(() => got.total() === 12);
    expect(Buffer.concat(got.chunks).toString()).toBe('while paused');
  });

  it('leaves TLS sockets alone', async () => {
    const srv = tls.createServer({ key: readFileSync(join(fixtures, 'key.pem')), cert: readFileSync(join(fixtures, 'cert.pem')) });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const accepted = once(srv, 'secureConnection');
    const client = tls.connect({ port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
    const [server] = (await accepted) as [tls.TLSSocket];
    cleanup.push(() => {
      client.destroy();
      server.destroy();
      srv.close();
    });
    expect(readIntoSharedBuffer(server, () => undefined)).toBe(false);
    const data = once(server, 'data');
    client.write('still on data events');
    expect(((await data) as [Buffer])[0].toString()).toBe('still on data events');
  });
});

describe('readIntoStream', () => {
  it('hands a plain Readable on: data events, backpressure through pause, unshift', async () => {
    const { server, client } = await pair();
    const got = collector();
    readIntoSharedBuffer(server, got.onChunk);
    client.write('to the callback');
    await until(() => got.total() === 15);
    readIntoStream(server);
    const seen: string[] = [];
    server.on('data', (c: Buffer) => void seen.push(c.toString()));
    client.write('to the stream');
    await until(() => seen.join('') === 'to the stream');
    server.pause();
    client.write('later');
    await new Promise((r) => setTimeout(r, 30));
    expect(seen.join('')).toBe('to the stream');
    server.unshift(Buffer.from('first, '));
    server.resume();
    await until(() => seen.join('') === 'to the streamfirst, later');
    expect(Buffer.concat(got.chunks).toString()).toBe('to the callback'); // nothing more went to the callback
  });
});
