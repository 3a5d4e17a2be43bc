// Connections a Server runs on the bare TCP handle (lib/net/handle-io.ts): no net.Socket unless asked for.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Connection, Server, TimeoutSweeper, handleIoAvailable, type ConnectionHandler, type ServerOptions } from '../../lib/net/index.js';
import { bindingsFrom, submitWrite, writeRequestsMade, type WriteRequest, type WriteTarget } from '../../lib/net/handle-io.js';
import { tick } from './helpers.js';
import { tempDir } from '../temp-dir.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Every server here says `fastPaths` itself, so these run the same when CI sets COVET_NET_FAST_PATHS=0
// (which only changes the default).
const FAST = { fastPaths: true };

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

async function serve(handler: (conn: Connection) => Partial<ConnectionHandler>, options: Partial<ServerOptions> = FAST): Promise<{ server: Server; port: number; conns: Connection[] }> {
  const conns: Connection[] = [];
  const server = new Server({
    ...options,
    onConnection: (c) => {
      conns.push(c);
      return { onData() {}, ...handler(c) };
    },
  });
  servers.push(server);
  const addr = (await server.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo;
  return { server, port: addr.port, conns };
}

async function connect(port: number): Promise<net.Socket> {
  const c = net.connect(port, '127.0.0.1');
  await once(c, 'connect');
  return c;
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
};

/** Writes random 32 KiB pieces (hashed into `sent`) until the kernel's buffers are full and `c` says stop; returns the bytes. */
async function fillUntilBlocked(c: Connection, sent: ReturnType<typeof createHash>): Promise<number> {
  let total = 0;
  while (!c.writeBlocked) {
    const piece = randomBytes(32 * 1024);
    sent.update(piece);
    total += piece.length;
    c.write(piece);
    await tick();
    if (total > 64 * 1024 * 1024) throw new Error('never blocked');
  }
  return total;
}

it('a Connection given anything but a TCP handle drives it as a socket (a Duplex that behaves like one)', async () => {
  const written: string[] = [];
  const like = Object.assign(new EventEmitter(), {
    writableLength: 0,
    setNoDelay() {},
    cork() {},
    uncork() {},
    pause() {},
    resume() {},
    write(d: string | Buffer) {
      written.push(d.toString());
      return true;
    },
    end() {},
    destroy() {},
  });
  const seen: string[] = [];
  const conn = new Connection(like as unknown as net.Socket, { onData: (d) => void seen.push(d.toString()) });
  like.emit('data', Buffer.from('in'));
  conn.write('out');
  conn.flush();
  expect(seen).toEqual(['in']);
  expect(written).toEqual(['out']);
  expect(conn.bare).toBe(false);
  conn.destroy();
});

describe('connections on the bare handle', () => {
  it('is available on this Node line, and a plain TCP server uses it: no net.Socket, no connection event', async () => {
    expect(handleIoAvailable()).toBe(true);
    const { server, port, conns } = await serve((c) => ({ onData: (d) => void c.write(d) }));
    let socketEvents = 0;
    server.raw.on('connection', () => void socketEvents++);
    const client = await connect(port);
    await until(() => conns.length === 1);
    expect(conns[0]!.bare).toBe(true);
    client.write('ping');
    const [echo] = (await once(client, 'data')) as [Buffer];
    expect(echo.toString()).toBe('ping');
    expect(socketEvents).toBe(0);
    expect(server.connections.size).toBe(1);
    client.destroy();
    await until(() => server.connections.size === 0);
  });

  it('holds a socket where asked: fastPaths false, TLS', async () => {
    const a = await serve(() => ({}), { fastPaths: false });
    const ca = await connect(a.port);
    await until(() => a.conns.length === 1);
    expect(a.conns[0]!.bare).toBe(false);
    ca.destroy();
    const fixtures = join(import.meta.dirname, '..', 'fixtures');
    const b = await serve(() => ({}), { ...FAST, tls: { key: readFileSync(join(fixtures, 'key.pem')), cert: readFileSync(join(fixtures, 'cert.pem')) } });
    const cb = tls.connect({ port: b.port, host: '127.0.0.1', rejectUnauthorized: false });
    await once(cb, 'secureConnect');
    await until(() => b.conns.length === 1);
    expect(b.conns[0]!.bare).toBe(false);
    expect(b.conns[0]!.encrypted).toBe(true);
    cb.destroy();
  });

  it('echoes random bytes in random writes intact, single writes and batches of several buffers (writev)', async () => {
    const { port, conns } = await serve((c) => ({
      onData: (d) => {
        // Split each read into a string part and buffers: one turn's writes leave as one writev.
        const cut = d.length >> 1;
        c.write(d.subarray(0, cut).toString('latin1'));
        c.write(d.subarray(cut));
        c.write(Buffer.alloc(0));
      },
    }));
    const client = await connect(port);
    const sent = createHash('sha256');
    const got = createHash('sha256');
    let received = 0;
    client.on('data', (d: Buffer) => {
      got.update(d);
      received += d.length;
    });
    let total = 0;
    for (let i = 0; i < 200; i++) {
      const piece = randomBytes(1 + ((i * 7919) % 9000));
      sent.update(piece);
      total += piece.length;
      client.write(piece);
      if (i % 10 === 0) await tick();
    }
    await until(() => received === total);
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    expect(conns[0]!.bare).toBe(true);
    expect(conns[0]!.bytesWritten).toBe(total);
    expect(conns[0]!.bytesRead).toBe(total);
    client.destroy();
  });

  it('one write request serves every write the kernel took at once; a write libuv queued gets its own, bytes intact', async () => {
    const { port, conns } = await serve((c) => ({ onData: (d) => void c.write(d) }));
    const client = await connect(port);
    const got = createHash('sha256');
    let received = 0;
    client.on('data', (d: Buffer) => {
      got.update(d);
      received += d.length;
    });
    await until(() => conns.length === 1);
    const sent = createHash('sha256');
    let total = 0;
    const made = writeRequestsMade();
    for (let i = 0; i < 50; i++) {
      const ping = Buffer.from(`ping ${i};`);
      sent.update(ping);
      total += ping.length;
      client.write(ping);
      await until(() => received === total);
    }
    expect(writeRequestsMade() - made).toBeLessThanOrEqual(1); // 50 writes, each finished at once: one request
    // A peer that does not read: the writes past the kernel's buffers are queued, each on a request of its own.
    client.pause();
    const c = conns[0]!;
    const before = writeRequestsMade();
    total += await fillUntilBlocked(c, sent);
    // Behind a non-empty queue each write counts what it adds, not the queue: 20 × 1000 bytes add 20,000.
    const b0 = c.bufferedAmount;
    for (let i = 0; i < 20; i++) {
      const last = Buffer.alloc(1000, i);
      sent.update(last);
      total += last.length;
      c.write(last);
      await tick();
    }
    expect(c.bufferedAmount - b0).toBe(20_000);
    expect(writeRequestsMade() - before).toBeGreaterThanOrEqual(20);
    client.resume();
    await until(() => received === total);
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    // Each queued write counted only what it added to libuv's queue: all written, nothing left counted.
    expect(c.bufferedAmount).toBe(0);
    client.destroy();
  });

  it('the write request kept for the next write holds nothing of the last: a closed connection is collected', async () => {
    let ref: WeakRef<Connection> | null = null;
    const server = new Server({
      ...FAST,
      onConnection: (c) => {
        ref = new WeakRef(c);
        return { onData: (d) => void c.write(d) };
      },
    });
    servers.push(server);
    const port = ((await server.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo).port;
    const client = await connect(port);
    client.write('x');
    await once(client, 'data');
    client.destroy();
    await until(() => server.connections.size === 0);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // A deref() keeps its target alive until the turn ends: collect in a turn of its own.
    let alive = true;
    for (let i = 0; i < 20 && alive; i++) {
      await tick();
      gc();
      await tick();
      alive = ref!.deref() !== undefined;
    }
    expect(alive).toBe(false);
  });

  it('knows the peer address from the handle', async () => {
    const { port, conns } = await serve(() => ({}));
    const client = await connect(port);
    await until(() => conns.length === 1);
    expect(conns[0]!.remoteAddress).toBe('127.0.0.1');
    expect(conns[0]!.remotePort).toBe(client.localPort);
    expect(conns[0]!.alpnProtocol).toBe(false);
    expect(conns[0]!.encrypted).toBe(false);
    client.destroy();
  });

  it('pauses reading past the high-water mark against a peer that does not read, resumes below the low one, bytes intact', async () => {
    let drains = 0;
    const { port, conns } = await serve(() => ({ onDrain: () => void drains++ }), { ...FAST, highWaterMark: 64 * 1024, lowWaterMark: 16 * 1024 });
    const client = await connect(port);
    client.pause();
    await until(() => conns.length === 1);
    const c = conns[0]!;
    const sent = createHash('sha256');
    const total = await fillUntilBlocked(c, sent);
    expect(c.bare).toBe(true);
    expect(c.bufferedAmount).toBeGreaterThanOrEqual(64 * 1024);
    // Reading from the peer is paused meanwhile: what it sends is not delivered.
    const got = createHash('sha256');
    let received = 0;
    client.on('data', (d: Buffer) => {
      got.update(d);
      received += d.length;
    });
    client.resume();
    await until(() => received === total);
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    await until(() => drains > 0);
    expect(c.writeBlocked).toBe(false);
    expect(c.timeoutKind).not.toBe('send');
    client.destroy();
  });

  it('a read of nothing (libuv’s EAGAIN: a count of 0) hands nothing on and is no error', async () => {
    const seen: Buffer[] = [];
    const closes: Array<Error | undefined> = [];
    const { server, port, conns } = await serve(() => ({ onData: (d) => void seen.push(d), onClose: (e) => void closes.push(e) }));
    // The accepted handle, as the server's accept callback receives it.
    const listening = (server.raw as unknown as { _handle: { onconnection: (err: number, h: unknown) => void } })._handle;
    const accept = listening.onconnection;
    let handle: { onread: () => void } | null = null;
    listening.onconnection = (err, h) => {
      handle = h as { onread: () => void };
      accept(err, h);
    };
    const client = await connect(port);
    await until(() => conns.length === 1);
    const sw = (process as unknown as { binding(n: string): { streamBaseState: Int32Array; kReadBytesOrError: number } }).binding('stream_wrap');
    sw.streamBaseState[sw.kReadBytesOrError] = 0;
    handle!.onread.call(handle);
    expect([seen.length, conns[0]!.closed, conns[0]!.bytesRead]).toEqual([0, false, 0]);
    client.write('after');
    await until(() => seen.length === 1);
    expect(seen[0]!.toString()).toBe('after');
    client.destroy();
    await until(() => closes.length === 1);
  });

  it('pauseReading holds the peer’s bytes until resumeReading', async () => {
    const seen: string[] = [];
    const { port, conns } = await serve(() => ({ onData: (d) => void seen.push(d.toString()) }));
    const client = await connect(port);
    await until(() => conns.length === 1);
    conns[0]!.pauseReading();
    client.write('held');
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toEqual([]);
    conns[0]!.resumeReading();
    await until(() => seen.length > 0);
    expect(seen.join('')).toBe('held');
    client.destroy();
  });

  it('the peer’s FIN reaches onEnd; what the handler writes after it arrives, then our FIN, then the close', async () => {
    let closeErr: Error | undefined | null = null;
    const { port, server } = await serve((c) => ({
      onEnd: () => {
        c.write('bye');
        c.end();
      },
      onClose: (e) => void (closeErr = e),
    }));
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await once(client, 'connect');
    let got = '';
    client.on('data', (d: Buffer) => void (got += d.toString()));
    client.end();
    await once(client, 'end');
    expect(got).toBe('bye');
    await until(() => closeErr !== null);
    expect(closeErr).toBeUndefined();
    expect(server.connections.size).toBe(0);
    client.destroy();
  });

  it('the FIN is reported once, however often reading is paused and resumed after it', async () => {
    let ends = 0;
    const { port, conns } = await serve(() => ({ onEnd: () => void ends++ })); // stays half-open: writes later
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await once(client, 'connect');
    await until(() => conns.length === 1);
    client.end();
    await until(() => ends === 1);
    for (let i = 0; i < 3; i++) {
      conns[0]!.pauseReading();
      conns[0]!.resumeReading();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(ends).toBe(1);
    conns[0]!.write('still here');
    const [d] = (await once(client, 'data')) as [Buffer];
    expect(d.toString()).toBe('still here');
    conns[0]!.end();
    await once(client, 'close');
  });

  it('end() with no handler onEnd: our FIN first, the handle closes when the peer’s FIN arrives', async () => {
    let closed = false;
    const { port, conns } = await serve(() => ({ onClose: () => void (closed = true) }));
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await once(client, 'connect');
    await until(() => conns.length === 1);
    conns[0]!.write('last words');
    conns[0]!.end();
    let got = '';
    client.on('data', (d: Buffer) => void (got += d.toString()));
    await once(client, 'end');
    expect(got).toBe('last words');
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false); // half-closed: the peer may still send
    client.write('late');
    client.end();
    await until(() => closed);
    client.destroy();
  });

  it('a peer that never sends its FIN after ours is cut off by the send deadline', async () => {
    const sweeper = new TimeoutSweeper(1_000_000); // swept by hand below
    let closed = false;
    const { port, conns } = await serve(() => ({ onClose: () => void (closed = true) }), { ...FAST, sweeper });
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await once(client, 'connect');
    await until(() => conns.length === 1);
    const c = conns[0]!;
    c.end();
    await once(client, 'end');
    expect(c.timeoutKind).toBe('send');
    expect(c.deadline - sweeper.now).toBeGreaterThanOrEqual(30_000);
    sweeper.tick();
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false); // half-closed, within its deadline
    c.deadline = sweeper.now; // the deadline passes
    sweeper.tick();
    await until(() => closed);
    client.destroy();
  });

  it('a reset peer closes the connection with the error; destroy(err) reports that error', async () => {
    const errors: Array<Error | undefined> = [];
    const { port, conns } = await serve(() => ({ onClose: (e) => void errors.push(e) }));
    const a = await connect(port);
    await until(() => conns.length === 1);
    a.resetAndDestroy();
    await until(() => errors.length === 1);
    expect((errors[0] as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNRESET');
    const b = await connect(port);
    await until(() => conns.length === 2);
    const mine = new Error('mine');
    const bClosed = once(b, 'close');
    conns[1]!.destroy(mine);
    await until(() => errors.length === 2);
    expect(errors[1]).toBe(mine);
    await bClosed;
  });

  it('a write to a peer that is gone fails the connection with the write error, not a crash', async () => {
    const errors: Array<Error | undefined> = [];
    const { port, conns } = await serve(() => ({ onClose: (e) => void errors.push(e) }));
    const client = await connect(port);
    await until(() => conns.length === 1);
    client.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 20));
    // The read side may have seen the reset already; if not, the write meets it.
    for (let i = 0; i < 5 && errors.length === 0; i++) {
      conns[0]!.write(randomBytes(1024));
      conns[0]!.flush();
      await new Promise((r) => setTimeout(r, 10));
    }
    await until(() => errors.length === 1);
    expect(['ECONNRESET', 'EPIPE']).toContain((errors[0] as NodeJS.ErrnoException).code);
    expect(conns[0]!.closed).toBe(true);
  });

  it('makes a socket when asked, mid-stream: bytes before and after reach the handler in order, paused state kept', async () => {
    const seen: string[] = [];
    const { port, conns } = await serve((c) => ({ onData: (d) => void (seen.push(d.toString()), c.write(d)) }));
    const client = await connect(port);
    let echoed = '';
    client.on('data', (d: Buffer) => void (echoed += d.toString()));
    client.write('one');
    await until(() => echoed === 'one');
    const c = conns[0]!;
    expect(c.bare).toBe(true);
    c.pauseReading();
    const socket = c.socket;
    expect(socket).toBeInstanceOf(net.Socket);
    expect(c.bare).toBe(false);
    expect(c.socket).toBe(socket); // made once
    expect(socket.remotePort).toBe(client.localPort);
    client.write('two');
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toEqual(['one']); // still paused through the socket
    c.resumeReading();
    await until(() => echoed === 'onetwo');
    expect(seen).toEqual(['one', 'two']);
    client.destroy();
    await until(() => c.closed);
  });

  it('a closed bare connection asked for its socket gets a destroyed one, and closes once', async () => {
    let closes = 0;
    const { port, conns } = await serve(() => ({ onClose: () => void closes++ }));
    const client = await connect(port);
    await until(() => conns.length === 1);
    const clientClosed = once(client, 'close');
    conns[0]!.destroy();
    const s = conns[0]!.socket;
    expect(s.destroyed).toBe(true);
    expect(conns[0]!.bare).toBe(true); // no socket was made around the closed handle
    await clientClosed;
    await until(() => closes > 0);
    await new Promise((r) => setTimeout(r, 30));
    expect(closes).toBe(1);
  });

  it('detach() hands over a socket made around the handle, reading as a plain stream', async () => {
    const seen: string[] = [];
    const { port, conns, server } = await serve(() => ({ onData: (d) => void seen.push(d.toString()) }));
    const client = await connect(port);
    client.write('before');
    await until(() => seen.length > 0);
    const raw = conns[0]!.detach();
    const rawData: string[] = [];
    raw.on('data', (d: Buffer) => void rawData.push(d.toString()));
    client.write('after');
    await until(() => rawData.length > 0);
    expect(seen).toEqual(['before']);
    expect(rawData).toEqual(['after']);
    raw.end('reply');
    const [reply] = (await once(client, 'data')) as [Buffer];
    expect(reply.toString()).toBe('reply');
    client.destroy();
    await until(() => server.connections.size === 0);
  });

  it('a unix-socket server runs its connections on the bare pipe handle: echo, writev, no peer address, FIN both ways', async () => {
    const path = join(tempDir('covet-sock-'), 'covet-bare.sock');
    const ends: string[] = [];
    const closes: Array<Error | undefined> = [];
    const conns: Connection[] = [];
    const server = new Server({
      ...FAST,
      onConnection: (c) => {
        conns.push(c);
        return {
          onData: (d) => {
            c.write(d); // one buffer
            c.write(':');
            c.write(Buffer.from(d)); // several in one writev
          },
          onEnd: () => {
            ends.push('peer FIN');
            c.end();
          },
          onClose: (e) => void closes.push(e),
        };
      },
    });
    servers.push(server);
    expect(await server.listen({ path })).toBe(path);
    const client = net.connect({ path, allowHalfOpen: true });
    await once(client, 'connect');
    await until(() => conns.length === 1);
    const c = conns[0]!;
    expect(c.bare).toBe(true);
    expect([c.remoteAddress, c.remotePort]).toEqual([undefined, undefined]); // as net.Socket says for a unix socket
    let got = '';
    client.on('data', (d: Buffer) => void (got += d.toString()));
    client.write('ping');
    await until(() => got === 'ping:ping');
    expect(c.bytesRead).toBe(4);
    const clientEnded = once(client, 'end');
    client.end();
    await clientEnded; // our FIN answered theirs
    await until(() => closes.length === 1);
    expect([ends, closes]).toEqual([['peer FIN'], [undefined]]);
    expect(server.connections.size).toBe(0);
  });

  it('a unix-socket connection makes its socket when asked, and goes on through it', async () => {
    const path = join(tempDir('covet-sock-'), 'covet-bare-sock.sock');
    const conns: Connection[] = [];
    const server = new Server({ ...FAST, onConnection: (c) => (conns.push(c), { onData: (d) => void c.write(d) }) });
    servers.push(server);
    await server.listen({ path });
    const client = net.connect({ path });
    await once(client, 'connect');
    await until(() => conns.length === 1);
    const c = conns[0]!;
    let got = '';
    client.on('data', (d: Buffer) => void (got += d.toString()));
    client.write('one');
    await until(() => got === 'one');
    expect(c.socket.remoteAddress).toBeUndefined();
    expect(c.bare).toBe(false);
    client.write('two');
    await until(() => got === 'onetwo');
    client.destroy();
    await until(() => c.closed);
  });

  it('maxConnections refuses the handle past the limit: closed at once, counted', async () => {
    const { port, server } = await serve(() => ({}), { ...FAST, maxConnections: 1 });
    const a = await connect(port);
    await until(() => server.connections.size === 1);
    const b = await connect(port);
    await once(b, 'close');
    expect(server.refused).toBe(1);
    expect(server.connections.size).toBe(1);
    a.destroy();
  });

  it('an accept error goes to onError as an errno error', async () => {
    const errors: Error[] = [];
    const { server } = await serve(() => ({}), { ...FAST, onError: (e) => void errors.push(e) });
    const listening = (server.raw as unknown as { _handle: { onconnection: (err: number, h: unknown) => void } })._handle;
    listening.onconnection(-24, undefined);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe('accept EMFILE');
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('EMFILE');
  });

  it('graceful close ends bare connections and waits for them', async () => {
    const { port, server, conns } = await serve((c) => ({ onShutdown: () => void (c.write('closing'), c.end()) }));
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await once(client, 'connect');
    await until(() => conns.length === 1);
    let got = '';
    client.on('data', (d: Buffer) => void (got += d.toString()));
    const closed = server.close({ graceMs: 5000 });
    await once(client, 'end');
    expect(got).toBe('closing');
    client.end();
    await closed;
    expect(server.connections.size).toBe(0);
    expect(conns[0]!.closed).toBe(true);
  });
});

describe('the bindings and the write submission, on stand-ins', () => {
  const tcp = { TCP: class {} };
  const sw = { WriteWrap: class {}, ShutdownWrap: class {}, streamBaseState: new Int32Array(4), kReadBytesOrError: 1, kLastWriteWasAsync: 3 };

  it('the bindings are taken only when every piece is there, of its kind', () => {
    const b = bindingsFrom(tcp, sw)!;
    expect([b.TCP, b.WriteWrap, b.ShutdownWrap, b.state, b.kReadBytesOrError, b.kLastWriteWasAsync]).toEqual([tcp.TCP, sw.WriteWrap, sw.ShutdownWrap, sw.streamBaseState, 1, 3]);
    expect(b.Pipe).toBeNull(); // no pipe_wrap given: unix sockets keep net.Socket
    const Pipe = class {};
    expect(bindingsFrom(tcp, sw, { Pipe })!.Pipe).toBe(Pipe);
    expect(bindingsFrom(tcp, sw, { Pipe: {} })!.Pipe).toBeNull();
    expect(bindingsFrom({}, sw, { Pipe })).toBeNull();
    expect(bindingsFrom({}, sw)).toBeNull();
    for (const [key, wrong] of [
      ['WriteWrap', {}],
      ['ShutdownWrap', undefined],
      ['streamBaseState', [0, 0, 0, 0]],
      ['kReadBytesOrError', '1'],
      ['kLastWriteWasAsync', undefined],
    ] as const) {
      expect([key, bindingsFrom(tcp, { ...sw, [key]: wrong })]).toEqual([key, null]);
    }
  });

  /**
   * A write target whose queue grows by `queues` bytes a write (the write then async in `state[3]`, as Node
   * says it), or which refuses with `err`; `asked` counts reads of its queue size.
   */
  function target(queues: number, err = 0) {
    let queue = 1000; // something already queued: only this write's growth counts
    const calls: string[] = [];
    const state = new Int32Array(4);
    const t = { calls, state, asked: 0, t: null as unknown as WriteTarget };
    const write = (name: string) => (_req: WriteRequest, data: unknown): number => {
      calls.push(`${name} ${Array.isArray(data) ? data.length : typeof data}`);
      if (err !== 0) return err;
      queue += queues;
      state[3] = queues > 0 ? 1 : 0;
      return 0;
    };
    t.t = {
      writeLatin1String: write('latin1'),
      writeBuffer: write('buffer'),
      writev: write('writev'),
      get writeQueueSize() {
        t.asked++;
        return queue;
      },
    } as unknown as WriteTarget;
    return t;
  }

  it('submitWrite: the bytes this write left queued, the errno a refused write returns, the request filled in', () => {
    const done = function (this: WriteRequest) {};
    const a = target(7);
    const req = {} as WriteRequest;
    expect(submitWrite(req, a.t, 'abc', 'me', done, 1000, a.state, 3)).toBe(7);
    const bytes = Buffer.from('x');
    expect(submitWrite({} as WriteRequest, a.t, bytes, 'me', done, 1007, a.state, 3)).toBe(7);
    expect(submitWrite({} as WriteRequest, a.t, [bytes, bytes], 'me', done, 1014, a.state, 3)).toBe(7);
    // `before` is the caller's: the queue size is asked once, after each async write.
    expect(a.asked).toBe(3);
    expect(a.calls).toEqual(['latin1 string', 'buffer object', 'writev 2']);
    expect(req.handle === a.t && req.owner === 'me' && req.oncomplete === done && req.queued === 7 && req.buffer === null).toBe(true);
    const refused = {} as WriteRequest;
    expect(submitWrite(refused, target(7, -32).t, 'abc', 'me', done, 1000, a.state, 3)).toBe(-32);
    expect(refused.queued).toBe(0);
  });

  it('submitWrite: a write that finished inside the call is 0 without asking the queue size; without the state, it is asked', () => {
    const done = function (this: WriteRequest) {};
    const sync = target(0);
    expect(submitWrite({} as WriteRequest, sync.t, 'abc', 'me', done, 1000, sync.state, 3)).toBe(0);
    expect(sync.asked).toBe(0);
    // Async by Node's flag though the queue did not grow (libuv wrote the rest inside uv_write): 0 queued,
    // and the completion still comes.
    sync.state[3] = 1;
    const req = {} as WriteRequest;
    const asyncFlagOnly = { ...sync.t, writeLatin1String: () => 0 } as unknown as WriteTarget;
    expect(submitWrite(req, asyncFlagOnly, 'abc', 'me', done, 1000, sync.state, 3)).toBe(0);
    expect(req.oncomplete).toBe(done);
    const noState = target(5);
    expect(submitWrite({} as WriteRequest, noState.t, 'abc', 'me', done, 1000, null, 3)).toBe(5);
    expect(noState.asked).toBe(1);
  });

  it('a bare connection turns Nagle off on its handle', async () => {
    const TCP = (process as unknown as { binding(n: string): { TCP: { prototype: { setNoDelay(on: boolean): number } } } }).binding('tcp_wrap').TCP;
    const spy = vi.spyOn(TCP.prototype, 'setNoDelay');
    try {
      const { port, conns } = await serve(() => ({}));
      const client = await connect(port);
      await until(() => conns.length === 1);
      expect(conns[0]!.bare).toBe(true);
      expect(spy).toHaveBeenCalledWith(true);
      client.destroy();
    } finally {
      spy.mockRestore();
    }
  });
});
