import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferPool, Connection, Server, TimeoutSweeper, type ConnectionHandler } from '../../lib/net/index.js';
import { tempDir } from '../temp-dir.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const key = readFileSync(join(fixtures, 'key.pem'));
const cert = readFileSync(join(fixtures, 'cert.pem'));

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

function echoServer(extra: Partial<ConstructorParameters<typeof Server>[0]> = {}): Server {
  const s = new Server({
    onConnection: (conn) => ({ onData: (chunk) => void conn.write(chunk) }),
    ...extra,
  });
  servers.push(s);
  return s;
}

async function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  const c = net.connect(port, host);
  await once(c, 'connect');
  return c;
}

async function readUntil(sock: net.Socket | tls.TLSSocket, predicate: (all: string) => boolean): Promise<string> {
  let all = '';
  for await (const chunk of sock) {
    all += (chunk as Buffer).toString('latin1');
    if (predicate(all)) break;
  }
  return all;
}

describe('BufferPool', () => {
  it('reuses released buffers and rounds sizes up to a class', () => {
    const pool = new BufferPool({ classes: [64, 256], slabSize: 1024 });
    const a = pool.acquire(10);
    expect(a.length).toBe(64);
    pool.release(a);
    const b = pool.acquire(60);
    expect(b.buffer).toBe(a.buffer); // same slab memory
    expect(pool.outstanding).toBe(1);
  });

  it('never retains more than maxRetainedBytes and leaves oversize buffers to the GC', () => {
    const pool = new BufferPool({ classes: [64], slabSize: 64 * 16, maxRetainedBytes: 256 });
    const bufs = Array.from({ length: 20 }, () => pool.acquire(64));
    for (const b of bufs) pool.release(b);
    expect(pool.retainedBytes).toBeLessThanOrEqual(256);
    const big = pool.acquire(10_000);
    expect(big.length).toBe(10_000);
    pool.release(big);
    expect(pool.retainedBytes).toBeLessThanOrEqual(256);
  });

  it('rejects non-ascending classes', () => {
    expect(() => new BufferPool({ classes: [256, 64] })).toThrow(RangeError);
  });
});

describe('TimeoutSweeper', () => {
  it('fires passed deadlines once per arming, on its own tick', () => {
    const sweeper = new TimeoutSweeper(10_000);
    let fired = 0;
    const item = { deadline: 0, onDeadline: () => void fired++ };
    sweeper.add(item);
    item.deadline = sweeper.now - 1;
    sweeper.tick();
    sweeper.tick();
    expect(fired).toBe(1);
    item.deadline = sweeper.now + 60_000;
    sweeper.tick();
    expect(fired).toBe(1);
    sweeper.delete(item);
    expect(sweeper.size).toBe(0);
  });

  it('keeps an HTTP date string', () => {
    const sweeper = new TimeoutSweeper(1000);
    expect(sweeper.httpDate).toMatch(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
  });
});

describe('Connection', () => {
  it('batches the writes of one tick into one socket write', async () => {
    const server = echoServer();
    let conn!: Connection;
    let calls = 0;
    const s = new Server({
      onConnection: (c) => {
        conn = c;
        const orig = c.socket.write.bind(c.socket);
        c.socket.write = ((...args: Parameters<typeof orig>) => {
          calls++;
          return orig(...args);
        }) as typeof c.socket.write;
        return { onData() {} };
      },
    });
    servers.push(s);
    void server;
    const addr = (await s.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo;
    const client = await connect(addr.port);
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 100; i++) conn.write(`line ${i}\n`);
    conn.write(Buffer.from('binary\n'));
    conn.write('tail\n');
    const got = await readUntil(client, (a) => a.endsWith('tail\n'));
    expect(got.split('\n').length).toBe(103);
    expect(calls).toBe(3); // string run, buffer, string run: one corked batch of three
    expect(conn.bytesWritten).toBe(Buffer.byteLength(got));
    client.destroy();
  });

  it('pauses reading when the peer does not read, and resumes below the low-water mark', async () => {
    let conn!: Connection;
    let drains = 0;
    const s = new Server({
      onConnection: (c) => {
        conn = c;
        return { onData() {}, onDrain: () => void drains++ };
      },
      highWaterMark: 256 * 1024,
      lowWaterMark: 1024,
    });
    servers.push(s);
    const addr = (await s.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo;
    const client = await connect(addr.port);
    client.pause();
    await new Promise((r) => setTimeout(r, 50));
    const block = Buffer.alloc(64 * 1024, 97);
    let n = 0;
    while (!conn.writeBlocked && n < 10_000) {
      conn.write(block);
      conn.flush();
      n++;
    }
    expect(conn.writeBlocked).toBe(true);
    expect(conn.socket.isPaused()).toBe(true);
    expect(conn.timeoutKind).toBe('send');
    let received = 0;
    client.on('data', (d: Buffer) => void (received += d.length));
    client.resume();
    while (drains === 0) await new Promise((r) => setTimeout(r, 10));
    expect(conn.writeBlocked).toBe(false);
    expect(conn.socket.isPaused()).toBe(false);
    expect(received).toBeGreaterThan(0);
    client.destroy();
  });

  it('times out with the coarse sweeper and calls the handler', async () => {
    const sweeper = new TimeoutSweeper(20);
    const kinds: string[] = [];
    const s = new Server({
      sweeper,
      onConnection: (c) => {
        c.setTimeout('idle', 50);
        return {
          onData() {},
          onTimeout(kind) {
            kinds.push(kind);
            c.destroy();
          },
        };
      },
    });
    servers.push(s);
    const addr = (await s.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo;
    const client = await connect(addr.port);
    await once(client, 'close');
    expect(kinds).toEqual(['idle']);
  });

  it('hands unread bytes to the next protocol with setHandler, and detaches a raw socket', async () => {
    const seen: string[] = [];
    const s = new Server({
      onConnection: (c) => ({
        onData(chunk) {
          const text = chunk.toString();
          const i = text.indexOf('|');
          const next: ConnectionHandler = { onData: (d) => void seen.push(`next:${d.toString()}`) };
          if (i >= 0) {
            seen.push(`first:${text.slice(0, i)}`);
            c.setHandler(next, chunk.subarray(i + 1));
          }
        },
      }),
    });
    servers.push(s);
    const addr = (await s.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo;
    const client = await connect(addr.port);
    client.write('hello|world');
    await new Promise((r) => setTimeout(r, 50));
    client.write('!');
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['first:hello', 'next:world', 'next:!']);
    client.destroy();
  });
});

describe('Connection.detach', () => {
  it('hands the raw socket over: no more events to the handler, no longer tracked', async () => {
    let conn!: Connection;
    const seen: string[] = [];
    const s = new Server({
      onConnection: (c) => {
        conn = c;
        return { onData: (d) => void seen.push(d.toString()) };
      },
    });
    servers.push(s);
    const addr = (await s.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo;
    const client = await connect(addr.port);
    client.write('before');
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    const raw = conn.detach();
    const rawData: string[] = [];
    raw.on('data', (d: Buffer) => void rawData.push(d.toString()));
    client.write('after');
    while (rawData.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(['before']);
    expect(rawData).toEqual(['after']);
    expect(conn.closed).toBe(true); // the wrapper is done with the socket
    raw.destroy();
    await once(client, 'close');
    await new Promise((r) => setTimeout(r, 20));
    expect(s.connections.size).toBe(0);
  });
});

describe('Server', () => {
  it('serves TCP on IPv4 and IPv6', async () => {
    const s = echoServer();
    const addr = (await s.listen({ port: 0, host: '::' })) as net.AddressInfo;
    for (const host of ['127.0.0.1', '::1']) {
      const c = await connect(addr.port, host);
      c.write('ping');
      expect(await readUntil(c, (a) => a === 'ping')).toBe('ping');
      c.destroy();
    }
  });

  it('serves a unix socket', async () => {
    const s = echoServer();
    const path = join(tempDir('covet-sock-'), 'covet.sock');
    expect(await s.listen({ path })).toBe(path);
    const c = net.connect(path);
    await once(c, 'connect');
    c.write('unix');
    expect(await readUntil(c, (a) => a === 'unix')).toBe('unix');
    c.destroy();
  });

  it('serves TLS and exposes the ALPN protocol', async () => {
    let alpn: string | false = false;
    const s = new Server({
      tls: { key, cert, ALPNProtocols: ['h2', 'http/1.1'] },
      onConnection: (c) => {
        alpn = c.alpnProtocol;
        return { onData: (d) => void c.write(d) };
      },
    });
    servers.push(s);
    const addr = (await s.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo;
    for (const [offer, want] of [
      [['http/1.1'], 'http/1.1'],
      [['h2', 'http/1.1'], 'h2'],
    ] as const) {
      const c = tls.connect({ port: addr.port, host: '127.0.0.1', ca: cert, servername: 'localhost', ALPNProtocols: [...offer] });
      await once(c, 'secureConnect');
      c.write('tls!');
      expect(await readUntil(c, (a) => a === 'tls!')).toBe('tls!');
      expect(alpn).toBe(want);
      c.destroy();
    }
  });

  it('refuses connections beyond maxConnections', async () => {
    const s = echoServer({ maxConnections: 2 });
    const addr = (await s.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo;
    const a = await connect(addr.port);
    const b = await connect(addr.port);
    await new Promise((r) => setTimeout(r, 30));
    const c = await connect(addr.port);
    await once(c, 'close');
    expect(s.refused).toBe(1);
    expect(s.connections.size).toBe(2);
    a.destroy();
    b.destroy();
  });

  it('closes gracefully: stops accepting, lets busy connections finish, forces stragglers at the deadline', async () => {
    const busy = new Set<Connection>();
    const s = new Server({
      onConnection: (c) => ({
        onData(d) {
          if (d.toString() === 'busy') busy.add(c);
          else c.write(d);
        },
        onShutdown() {
          if (!busy.has(c)) c.end();
        },
      }),
    });
    servers.push(s);
    const addr = (await s.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo;
    const idle = await connect(addr.port);
    const working = await connect(addr.port);
    working.write('busy');
    const stuck = await connect(addr.port);
    stuck.write('busy');
    await new Promise((r) => setTimeout(r, 30));
    const t0 = Date.now(); // before close(): the deadline check below can only over-measure
    const closed = s.close({ graceMs: 300 });
    await once(idle, 'close'); // idle closed at once: before the grace ran out for the stuck one
    expect(stuck.destroyed).toBe(false);
    await expect(connect(addr.port)).rejects.toThrow(); // not accepting
    // One busy connection finishes its work.
    const [w] = [...busy].filter((c) => c.remotePort === working.localPort);
    w!.write('done');
    w!.end();
    expect(await readUntil(working, (a) => a === 'done')).toBe('done');
    await closed; // the other one is destroyed at the deadline
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(s.connections.size).toBe(0);
    stuck.destroy();
    working.destroy();
  });

  it('a connection handed over while closing (a cluster worker as it stops) is asked to finish, not dropped', async () => {
    const shutdowns: Connection[] = [];
    const s = new Server({
      onConnection: (c) => ({
        onData(d) {
          c.write(d);
          c.end();
        },
        onShutdown() {
          shutdowns.push(c);
        },
      }),
    });
    servers.push(s);
    await s.listen({ port: 0, host: '127.0.0.1' });
    // A socket accepted elsewhere, given to the server after its close began.
    const other = net.createServer();
    const addr = await new Promise<net.AddressInfo>((r) => other.listen(0, '127.0.0.1', () => r(other.address() as net.AddressInfo)));
    const accepted = once(other, 'connection');
    const client = await connect(addr.port);
    const [socket] = (await accepted) as [net.Socket];
    other.close();
    const closed = s.close({ graceMs: 5000 });
    s.raw.emit('connection', socket);
    expect([s.refused, s.connections.size, shutdowns.length]).toEqual([0, 1, 1]);
    client.write('late');
    expect(await readUntil(client, (a) => a === 'late')).toBe('late');
    await closed; // the close waited for it
    expect(s.connections.size).toBe(0);
    client.destroy();
  });
});
