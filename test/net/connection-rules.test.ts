// Connection's rules, each on both transports a server gives it: the bare handle (handle-io.ts) and a
// net.Socket (fastPaths: false). The mutation run of the net group showed these unchecked.
import net from 'node:net';
import diagnostics from 'node:diagnostics_channel';
import { EventEmitter, once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection, Server, TimeoutSweeper, defaultBufferPool, defaultSweeper, type ConnectionHandler, type ServerOptions } from '../../lib/net/index.js';

const servers: Server[] = [];
const plain: net.Server[] = [];
const plainSockets: net.Socket[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
  for (const s of plainSockets.splice(0)) s.destroy();
  for (const p of plain.splice(0)) p.close();
});

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
};

/**
 * A connection and its client. `options.transport` 'socket-direct' wraps the sockets of a plain `net`
 * server in a Connection with the fast paths on (the path TLS-less sockets made by hand take: direct
 * writes to the socket's handle); otherwise a covet Server makes it (bare handle or socket, as the
 * options say).
 */
async function pair(
  options: Partial<ServerOptions> & { transport?: 'socket-direct' },
  handler: (c: Connection) => Partial<ConnectionHandler> = () => ({}),
): Promise<{ conn: Connection; client: net.Socket }> {
  let conn: Connection | null = null;
  const { transport, ...rest } = options;
  let port: number;
  if (transport === 'socket-direct') {
    const p = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
      plainSockets.push(socket);
      // The handler's functions are looked up when called, so it can be filled in once the connection exists.
      const h: ConnectionHandler = { onData() {} };
      const c = new Connection(socket, h, { ...rest, fastPaths: true });
      Object.assign(h, handler(c));
      conn = c;
    });
    plain.push(p);
    await new Promise<void>((r) => p.listen(0, '127.0.0.1', r));
    port = (p.address() as net.AddressInfo).port;
  } else {
    const server = new Server({ ...rest, onConnection: (c) => ((conn = c), { onData() {}, ...handler(c) }) });
    servers.push(server);
    port = ((await server.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo).port;
  }
  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(client, 'connect');
  await until(() => conn !== null);
  return { conn: conn!, client };
}

function collect(client: net.Socket): { text: () => string } {
  let text = '';
  client.on('data', (d: Buffer) => void (text += d.toString('latin1')));
  return { text: () => text };
}

// The options say which transport, whatever COVET_NET_FAST_PATHS says (it only sets the default).
const TRANSPORTS: Array<[string, Partial<ServerOptions> & { transport?: 'socket-direct' }, boolean]> = [
  ['bare handle', { fastPaths: true }, true],
  ['net.Socket', { fastPaths: false }, false],
  ['net.Socket with direct writes', { transport: 'socket-direct' }, false],
];

describe.each(TRANSPORTS)('on a %s', (_name, options, bare) => {
  // Node's stream path keeps reading a paused socket into its buffer, so it may meet a reset as a read error.
  const streamReads = options.fastPaths === false;
  it('runs on the transport it says', async () => {
    const { conn, client } = await pair(options);
    expect(conn.bare).toBe(bare);
    client.destroy();
  });

  it('the peer address and port, not encrypted, no ALPN', async () => {
    const { conn, client } = await pair(options);
    expect(conn.remoteAddress).toBe('127.0.0.1');
    expect(conn.remotePort).toBe(client.localPort);
    expect(conn.encrypted).toBe(false);
    expect(conn.alpnProtocol).toBe(false);
    client.destroy();
  });

  it('counts bytes written whichever way they leave: a string run, one buffer, several', async () => {
    const { conn, client } = await pair(options);
    const got = collect(client);
    conn.write('abc');
    await until(() => got.text().length === 3);
    expect(conn.bytesWritten).toBe(3);
    conn.write(Buffer.from('defg'));
    await until(() => got.text().length === 7);
    expect(conn.bytesWritten).toBe(7);
    conn.write('h');
    conn.write(Buffer.from('ij'));
    await until(() => got.text().length === 10);
    expect(got.text()).toBe('abcdefghij');
    expect(conn.bytesWritten).toBe(10);
    expect(conn.bufferedAmount).toBe(0);
    client.destroy();
  });

  it('write() says go on while nothing blocks; under the high-water mark bytes wait for the turn’s flush, past it they leave at once', async () => {
    const { conn, client } = await pair({ ...options, highWaterMark: 1000, lowWaterMark: 100 });
    const got = collect(client);
    expect(conn.write('abc')).toBe(true);
    expect(conn.write(Buffer.alloc(500, 0x61))).toBe(true);
    expect(conn.bufferedAmount).toBe(503); // queued until the end of the turn
    expect(conn.write(Buffer.alloc(600, 0x62))).toBe(true); // 1103 queued: past the mark, flushed now
    expect(conn.bufferedAmount).toBe(0); // the kernel took it all (the peer reads)
    await until(() => got.text().length === 1103);
    expect(conn.bytesWritten).toBe(1103);
    client.destroy();
  });

  it('a long string is sent whole, after what was queued before it', async () => {
    const { conn, client } = await pair(options);
    const got = collect(client);
    const long = 'x'.repeat(20_000); // past the coalescing limit: sent as bytes
    conn.write('head:');
    conn.write(long);
    conn.write(':tail');
    await until(() => got.text().length === 5 + long.length + 5);
    expect(got.text()).toBe(`head:${long}:tail`);
    client.destroy();
  });

  it('writes after end() or destroy() are refused and send nothing; end() and destroy() act once', async () => {
    let closes = 0;
    const { conn, client } = await pair(options, () => ({ onClose: () => void closes++ }));
    const got = collect(client);
    conn.write('last');
    conn.end();
    conn.end();
    expect(conn.write('more')).toBe(false);
    await once(client, 'end');
    expect(got.text()).toBe('last');
    conn.destroy();
    conn.destroy();
    expect(conn.write('after')).toBe(false);
    await until(() => closes > 0);
    await new Promise((r) => setTimeout(r, 20));
    expect(closes).toBe(1);
    client.destroy();
  });

  it('a read error closes with an errno error that names the read', async () => {
    const errors: Array<Error | undefined> = [];
    const { client } = await pair(options, () => ({ onClose: (e) => void errors.push(e) }));
    client.resetAndDestroy();
    await until(() => errors.length === 1);
    const e = errors[0] as NodeJS.ErrnoException;
    expect(e.code).toBe('ECONNRESET');
    expect(e.syscall).toBe('read');
    expect(e.message).toBe('read ECONNRESET');
  });

  it('every close callback is called once, with the error and the connection', async () => {
    const { conn, client } = await pair(options);
    const calls: Array<[Error | undefined, Connection]> = [];
    for (let i = 0; i < 3; i++) conn.onceClosed((e, c) => void calls.push([e, c]));
    const boom = new Error('boom');
    conn.destroy(boom);
    await until(() => calls.length === 3);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toEqual([
      [boom, conn],
      [boom, conn],
      [boom, conn],
    ]);
    client.destroy();
  });

  it('detach() still calls the close callbacks when the socket it handed over closes', async () => {
    const { conn, client } = await pair(options);
    const calls: Array<Error | undefined> = [];
    conn.onceClosed((e) => void calls.push(e));
    conn.onceClosed((e) => void calls.push(e));
    const raw = conn.detach();
    raw.destroy();
    await until(() => calls.length === 2);
    expect(calls).toEqual([undefined, undefined]);
    client.destroy();
  });

  it('a passed deadline goes to onTimeout with its kind (then flushes what it wrote); without onTimeout it destroys', async () => {
    const kinds: string[] = [];
    const a = await pair(options, (c) => ({
      onTimeout: (k) => {
        kinds.push(k);
        c.write(`timed out: ${k}`);
      },
    }));
    const got = collect(a.client);
    a.conn.setTimeout('custom', 1);
    a.conn.deadline = 1; // long passed on the sweeper's clock
    defaultSweeper.tick();
    expect(kinds).toEqual(['custom']);
    await until(() => got.text() === 'timed out: custom');
    expect(a.conn.closed).toBe(false);
    a.client.destroy();
    const b = await pair(options);
    const ended = once(b.client, 'end');
    b.conn.setTimeout('idle', 1);
    b.conn.deadline = 1;
    defaultSweeper.tick();
    expect(b.conn.closed).toBe(true);
    await ended;
    b.client.destroy();
  });

  it('setHandler hands over unread bytes to the new handler, not counted again', async () => {
    const { conn, client } = await pair(options);
    client.write('x');
    await until(() => conn.bytesRead === 1);
    const seen: string[] = [];
    conn.setHandler({ onData: (d) => void seen.push(d.toString()) }, Buffer.from('unread'));
    conn.setHandler({ onData: (d) => void seen.push(d.toString()) }, Buffer.alloc(0));
    expect(seen).toEqual(['unread']);
    expect(conn.bytesRead).toBe(1);
    client.destroy();
  });

  /**
   * A connection whose peer stopped reading, written to until its reading paused for backpressure (`before`
   * runs first); `sent` counts the bytes written, `seen` what the handler read, `drains()` its onDrain calls.
   */
  async function blockedPair(before: (conn: Connection) => void = () => {}) {
    const seen: string[] = [];
    let drains = 0;
    const { conn, client } = await pair({ ...options, highWaterMark: 64 * 1024, lowWaterMark: 16 * 1024 }, () => ({
      onData: (d) => void seen.push(d.toString()),
      onDrain: () => void drains++,
    }));
    before(conn);
    client.pause();
    let sent = 0;
    while (!conn.writeBlocked) {
      conn.write(Buffer.alloc(32 * 1024, sent & 0xff));
      sent += 32 * 1024;
      await new Promise((r) => setImmediate(r));
      if (sent > 256 * 1024 * 1024) throw new Error('never blocked');
    }
    return { conn, client, seen, drains: () => drains, sent };
  }

  it('a peer that stops reading: our reading pauses and the send deadline runs; once it reads, the old deadline is back, reading resumes, onDrain once', async () => {
    let idleDeadline = 0;
    const { conn, client, seen, drains, sent } = await blockedPair((c) => {
      c.setTimeout('idle', 600_000);
      idleDeadline = c.deadline;
    });
    expect(conn.timeoutKind).toBe('send');
    expect(conn.bufferedAmount).toBeGreaterThanOrEqual(64 * 1024);
    expect(conn.write('z')).toBe(false); // queued, and the caller is told to wait
    const total = sent + 1;
    client.write('sent while blocked');
    await new Promise((r) => setTimeout(r, 40));
    expect(seen).toEqual([]); // not read while the peer does not read ours
    let received = 0;
    client.on('data', (d: Buffer) => void (received += d.length));
    client.resume();
    await until(() => received === total && drains() > 0);
    expect(drains()).toBe(1);
    expect(conn.writeBlocked).toBe(false);
    expect([conn.timeoutKind, conn.deadline]).toEqual(['idle', idleDeadline]);
    await until(() => seen.length > 0);
    expect(seen.join('')).toBe('sent while blocked');
    client.destroy();
  });

  it('behind bytes the kernel has not taken, each write counts what it adds: 20 × 1000 bytes add 20,000', async () => {
    const { conn, client } = await pair({ ...options, highWaterMark: 256 * 1024 * 1024 });
    client.pause();
    let sent = 0;
    while (conn.bufferedAmount === 0) {
      conn.write(Buffer.alloc(1024 * 1024, 1));
      sent += 1024 * 1024;
      await new Promise((r) => setImmediate(r));
      if (sent > 256 * 1024 * 1024) throw new Error('the kernel took everything');
    }
    const b0 = conn.bufferedAmount;
    for (let i = 0; i < 20; i++) {
      conn.write(Buffer.alloc(1000, i));
      await new Promise((r) => setImmediate(r));
    }
    expect(conn.bufferedAmount - b0).toBe(20_000);
    let received = 0;
    client.on('data', (d: Buffer) => void (received += d.length));
    client.resume();
    await until(() => received === sent + 20_000);
    expect(conn.bufferedAmount).toBe(0);
    client.destroy();
  });

  it('reading paused by the protocol stays paused through a drain; resumeReading resumes it', async () => {
    const { conn, client, seen, drains, sent } = await blockedPair();
    conn.pauseReading();
    client.write('held');
    let received = 0;
    client.on('data', (d: Buffer) => void (received += d.length));
    client.resume();
    await until(() => received === sent && drains() === 1);
    await new Promise((r) => setTimeout(r, 40));
    expect(seen).toEqual([]);
    conn.resumeReading();
    await until(() => seen.length > 0);
    expect(seen.join('')).toBe('held');
    client.destroy();
  });

  it('a string run waits for the turn’s flush up to 16 KiB whatever the high-water mark; a longer string is bytes and past the mark leaves at once', async () => {
    const a = await pair({ ...options, highWaterMark: 1000 });
    a.conn.write('x'.repeat(16 * 1024));
    expect(a.conn.bufferedAmount).toBe(16 * 1024);
    a.client.destroy();
    const b = await pair({ ...options, highWaterMark: 1000 });
    const got = collect(b.client);
    b.conn.write('y'.repeat(16 * 1024 + 1));
    // Handed to the kernel now: less than all of it is still ours (queued until the flush, it would be all).
    expect(b.conn.bufferedAmount).toBeLessThan(16 * 1024 + 1);
    await until(() => got.text().length === 16 * 1024 + 1);
    b.client.destroy();
  });

  it('buffers: one short of the high-water mark waits, at the mark leaves at once', async () => {
    const a = await pair({ ...options, highWaterMark: 1000 });
    a.conn.write(Buffer.alloc(999));
    expect(a.conn.bufferedAmount).toBe(999);
    a.client.destroy();
    const b = await pair({ ...options, highWaterMark: 1000 });
    b.conn.write('ab');
    b.conn.write(Buffer.alloc(998));
    expect(b.conn.bufferedAmount).toBeLessThan(1000); // handed to the kernel now
    b.client.destroy();
  });

  it('strings are latin1 unless utf8 is asked for, in a run, before a buffer and alone', async () => {
    const { conn, client } = await pair(options);
    const bytes: Buffer[] = [];
    client.on('data', (d: Buffer) => void bytes.push(d));
    conn.write('\xe9');
    conn.write(Buffer.from([1]));
    conn.write('\xe9t\xe9', 'utf8');
    conn.write('\xff');
    await until(() => Buffer.concat(bytes).length === 8);
    expect(Buffer.concat(bytes).toString('hex')).toBe('e901' + 'c3a974c3a9' + 'ff');
    client.destroy();
  });

  it('destroy() drops what was queued: nothing reaches the peer, nothing stays counted', async () => {
    const { conn, client } = await pair(options);
    const got = collect(client);
    conn.write('abc');
    conn.write(Buffer.from('def'));
    conn.write('ghi');
    conn.destroy();
    expect(conn.bufferedAmount).toBe(0);
    await once(client, 'end');
    expect(got.text()).toBe('');
    client.destroy();
  });

  it('what onEnd writes leaves when it returns; without onEnd the peer’s FIN is answered with ours, closing without an error', async () => {
    let after = -1;
    const a = await pair(options, (c) => ({
      onEnd: () => {
        c.write('bye');
        queueMicrotask(() => void (after = c.bufferedAmount));
      },
    }));
    const got = collect(a.client);
    a.client.end();
    await until(() => got.text() === 'bye');
    expect(after).toBe(0);
    a.client.destroy();
    const errors: Array<Error | undefined> = [];
    const b = await pair(options, () => ({ onClose: (e) => void errors.push(e) }));
    const ended = once(b.client, 'end');
    b.client.end();
    await ended;
    await until(() => errors.length === 1);
    expect(errors).toEqual([undefined]);
  });

  it('a graceful end() twice closes without an error', async () => {
    const errors: Array<Error | undefined> = [];
    const { conn, client } = await pair(options, () => ({ onClose: (e) => void errors.push(e) }));
    conn.end();
    conn.end();
    await once(client, 'end');
    client.end();
    await until(() => errors.length === 1);
    expect(errors).toEqual([undefined]);
  });

  it('deadlines: what onTimeout writes leaves at once; without onTimeout the close has no error; a closed connection’s deadline calls nothing', async () => {
    let after = -1;
    const a = await pair(options, (c) => ({ onTimeout: () => void c.write('late') }));
    a.conn.setTimeout('idle', 1);
    a.conn.deadline = 1;
    defaultSweeper.tick();
    after = a.conn.bufferedAmount;
    expect(after).toBe(0);
    a.client.destroy();
    const errors: Array<Error | undefined> = [];
    const b = await pair(options, () => ({ onClose: (e) => void errors.push(e) }));
    b.conn.deadline = 1;
    defaultSweeper.tick();
    await until(() => errors.length === 1);
    expect(errors).toEqual([undefined]);
    b.client.destroy();
    const kinds: string[] = [];
    const c = await pair(options, () => ({ onTimeout: (k) => void kinds.push(k) }));
    c.conn.destroy();
    c.conn.deadline = 1;
    c.conn.onDeadline();
    expect(kinds).toEqual([]);
    c.client.destroy();
  });

  it('detach(): what was queued goes first; the old handler hears nothing more; the connection leaves its sweeper', async () => {
    const sweeper = new TimeoutSweeper(1000);
    const events: string[] = [];
    const { conn, client } = await pair({ ...options, sweeper }, () => ({
      onData: () => void events.push('data'),
      onEnd: () => void events.push('end'),
      onClose: () => void events.push('close'),
      onTimeout: () => void events.push('timeout'),
    }));
    expect(sweeper.size).toBe(1);
    conn.write('queued ');
    const raw = conn.detach();
    expect(sweeper.size).toBe(0);
    raw.write('then raw');
    const got = collect(client);
    await until(() => got.text() === 'queued then raw');
    let rawData = '';
    raw.on('data', (d: Buffer) => void (rawData += d.toString()));
    client.write('to the new owner');
    await until(() => rawData === 'to the new owner');
    client.end();
    await once(raw, 'end');
    raw.destroy();
    await once(raw, 'close');
    expect(events).toEqual([]);
  });

  it('a closed connection leaves its sweeper; the open and close are published on the diagnostics channels', async () => {
    const sweeper = new TimeoutSweeper(1000);
    const opened: unknown[] = [];
    const closed: Array<{ connection: unknown; error: unknown }> = [];
    const onOpen = (m: unknown) => void opened.push((m as { connection: unknown }).connection);
    const onClose = (m: unknown) => void closed.push(m as { connection: unknown; error: unknown });
    diagnostics.subscribe('covet:net.connection.open', onOpen);
    diagnostics.subscribe('covet:net.connection.close', onClose);
    try {
      const { conn, client } = await pair({ ...options, sweeper });
      expect(opened).toEqual([conn]);
      expect(sweeper.size).toBe(1);
      const boom = new Error('boom');
      conn.destroy(boom);
      await until(() => closed.length === 1);
      expect(closed[0]).toEqual({ connection: conn, error: boom });
      expect(sweeper.size).toBe(0);
      client.destroy();
    } finally {
      diagnostics.unsubscribe('covet:net.connection.open', onOpen);
      diagnostics.unsubscribe('covet:net.connection.close', onClose);
    }
  });

  it('a write to a peer that reset while our reading was paused fails the connection with the write’s error', async () => {
    const errors: Array<Error | undefined> = [];
    const { conn, client } = await pair(options, () => ({ onClose: (e) => void errors.push(e) }));
    conn.pauseReading(); // the reset is not read: the write is what meets it
    client.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 30));
    conn.write('after the reset');
    conn.flush();
    await until(() => errors.length === 1);
    const e = errors[0] as NodeJS.ErrnoException;
    expect([e.syscall === 'write' || streamReads, ['ECONNRESET', 'EPIPE'].includes(e.code!)]).toEqual([true, true]);
    expect(conn.closed).toBe(true);
  });

  it('bytes the kernel had not taken when the peer reset fail the connection with the write’s error', async () => {
    const errors: Array<Error | undefined> = [];
    const { conn, client } = await pair(options, () => ({ onClose: (e) => void errors.push(e) }));
    client.pause();
    while (!conn.writeBlocked) {
      conn.write(Buffer.alloc(64 * 1024));
      await new Promise((r) => setImmediate(r));
    }
    expect(conn.bufferedAmount).toBeGreaterThan(0);
    client.resetAndDestroy();
    await until(() => errors.length === 1);
    const e = errors[0] as NodeJS.ErrnoException;
    expect([e.syscall === 'write' || streamReads, ['ECONNRESET', 'EPIPE'].includes(e.code!)]).toEqual([true, true]);
  });

  it('a handler that throws closes the connection with its error: in onData, onEnd, onTimeout', async () => {
    for (const where of ['onData', 'onEnd', 'onTimeout'] as const) {
      const errors: Array<Error | undefined> = [];
      const boom = new Error(`thrown in ${where}`);
      const { conn, client } = await pair(options, () => ({
        [where]: () => {
          throw boom;
        },
        onClose: (e: Error | undefined) => void errors.push(e),
      }));
      if (where === 'onData') client.write('x');
      if (where === 'onEnd') client.end();
      if (where === 'onTimeout') {
        conn.deadline = 1;
        defaultSweeper.tick();
      }
      await until(() => errors.length === 1);
      expect([where, errors[0]]).toEqual([where, boom]);
      client.destroy();
    }
  });

  it('clearTimeout() disarms the deadline', async () => {
    const kinds: string[] = [];
    const { conn, client } = await pair(options, () => ({ onTimeout: (k) => void kinds.push(k) }));
    conn.setTimeout('headers', 5000);
    expect(conn.deadline).toBeGreaterThan(0);
    conn.clearTimeout();
    expect(conn.deadline).toBe(0);
    defaultSweeper.tick();
    expect(kinds).toEqual([]);
    client.destroy();
  });

  it('a closed connection never asked for its peer says undefined, and does not throw', async () => {
    const { conn, client } = await pair(options);
    const closed = once(client, 'end');
    conn.destroy();
    await closed;
    await until(() => conn.closed);
    await new Promise((r) => setTimeout(r, 20));
    expect(() => [conn.remoteAddress, conn.remotePort]).not.toThrow();
    if (bare) expect([conn.remoteAddress, conn.remotePort]).toEqual([undefined, undefined]);
    client.destroy();
  });
});

/** A socket-like object whose stream backlog (`writableLength`) the test sets, and what was done to it. */
function fakeSocket() {
  const calls: string[] = [];
  const callbacks: Array<(err?: Error | null) => void> = [];
  const written: Array<{ data: string; cb: boolean; enc?: string }> = [];
  const like = Object.assign(new EventEmitter(), {
    writableLength: 0,
    setNoDelay(on: boolean) {
      calls.push(`noDelay ${on}`);
    },
    cork() {},
    uncork() {},
    pause() {
      calls.push('pause');
    },
    resume() {
      calls.push('resume');
    },
    write(d: string | Buffer, enc?: unknown, cb?: unknown) {
      const done = (typeof enc === 'function' ? enc : cb) as ((err?: Error | null) => void) | undefined;
      written.push({ data: Buffer.isBuffer(d) ? d.toString('latin1') : d, cb: done !== undefined, ...(typeof enc === 'string' ? { enc } : {}) });
      if (done !== undefined) callbacks.push(done);
      return true;
    },
    end() {},
    destroy() {
      calls.push('destroy');
    },
  });
  return { like, socket: like as unknown as net.Socket, calls, callbacks, written };
}

describe('backpressure bookkeeping on a socket whose stream holds bytes (water marks at and one past the limit)', () => {
  const opts = { highWaterMark: 100, lowWaterMark: 10, fastPaths: false, sweeper: new TimeoutSweeper(1000) };
  /** A connection whose reading is paused for backpressure: the stream holds the high-water mark. */
  function blocked(f: ReturnType<typeof fakeSocket>, handler: ConnectionHandler = { onData() {} }): Connection {
    const conn = new Connection(f.socket, handler, opts);
    f.like.writableLength = 100;
    conn.write('a');
    conn.flush();
    return conn;
  }
  /** Writes a string, a buffer and two buffers, each flushed, and returns what the stream was given. */
  function writeEachWay(conn: Connection, f: ReturnType<typeof fakeSocket>, text: string): typeof f.written {
    f.written.length = 0;
    conn.write(text);
    conn.flush();
    conn.write(Buffer.from('c'));
    conn.flush();
    conn.write(Buffer.from('d'));
    conn.write(Buffer.from('e'));
    conn.flush();
    return f.written;
  }
  const eachWay = (text: string, cb: boolean) => [{ data: text, cb, enc: 'latin1' }, { data: 'c', cb }, { data: 'd', cb }, { data: 'e', cb }];

  it('reading pauses when the stream holds the high-water mark, not one byte less; strings and buffers alike', () => {
    for (const data of ['s', Buffer.from('b')]) {
      const f = fakeSocket();
      const conn = new Connection(f.socket, { onData() {} }, opts);
      f.like.writableLength = 99;
      conn.write(data);
      conn.flush();
      expect(conn.writeBlocked).toBe(false);
      f.like.writableLength = 100;
      conn.write(data);
      conn.flush();
      expect(conn.writeBlocked).toBe(true);
      expect(conn.bufferedAmount).toBe(100); // the stream's bytes count as unsent
      expect(f.calls.filter((c) => c === 'pause')).toEqual(['pause']);
      // Behind the stream's earlier writes, one empty write reports when they are done.
      expect(f.written.at(-1)).toEqual({ data: '', cb: true });
      conn.destroy();
    }
  });

  it('several buffers sent in one batch past the high-water mark block reading too', () => {
    const f = fakeSocket();
    const conn = new Connection(f.socket, { onData() {} }, opts);
    f.like.writableLength = 100;
    conn.write(Buffer.from('a'));
    conn.write(Buffer.from('b'));
    conn.flush();
    expect(conn.writeBlocked).toBe(true);
    conn.destroy();
  });

  it('while blocked every write reports its completion: a string, a buffer, several in one batch', () => {
    const f = fakeSocket();
    const conn = blocked(f);
    expect(writeEachWay(conn, f, 's')).toEqual(eachWay('s', true));
    conn.destroy();
  });

  it('reading resumes when the stream is down to the low-water mark, not one byte more; onDrain once; a failed write changes nothing', () => {
    const f = fakeSocket();
    let drains = 0;
    const conn = new Connection(f.socket, { onData() {}, onDrain: () => void drains++ }, opts);
    conn.setTimeout('idle', 5000);
    const idle = conn.deadline;
    f.like.writableLength = 100;
    conn.write('a');
    conn.flush();
    expect([conn.timeoutKind, conn.writeBlocked]).toEqual(['send', true]);
    f.like.writableLength = 5;
    f.callbacks[0]!(new Error('failed')); // 'close' follows a failed write
    expect(conn.writeBlocked).toBe(true);
    f.like.writableLength = 11;
    f.callbacks[0]!(null);
    expect([conn.writeBlocked, drains]).toEqual([true, 0]);
    f.like.writableLength = 10;
    f.callbacks[0]!(null);
    expect([conn.writeBlocked, drains, conn.timeoutKind, conn.deadline]).toEqual([false, 1, 'idle', idle]);
    expect(f.calls.filter((c) => c === 'pause' || c === 'resume')).toEqual(['pause', 'resume']);
    // Later writes carry no callback again: a string (as latin1), a buffer, several.
    expect(writeEachWay(conn, f, '\xe9')).toEqual(eachWay('\xe9', false));
    conn.destroy();
  });

  it('a deadline the protocol set while blocked is kept when the drain comes', () => {
    const f = fakeSocket();
    const conn = blocked(f);
    conn.setTimeout('request', 7000);
    const body = conn.deadline;
    f.like.writableLength = 0;
    f.callbacks[0]!(null);
    expect([conn.timeoutKind, conn.deadline]).toEqual(['request', body]);
    conn.destroy();
  });

  it('the protocol’s pause and the backpressure pause are one pause of the socket; each resume needs both released', () => {
    const f = fakeSocket();
    const conn = blocked(f);
    conn.pauseReading();
    conn.resumeReading(); // still blocked: reading stays paused
    expect(f.calls.filter((c) => c === 'pause' || c === 'resume')).toEqual(['pause']);
    conn.pauseReading();
    conn.pauseReading();
    f.like.writableLength = 0;
    f.callbacks[0]!(null);
    expect(f.calls.filter((c) => c === 'pause' || c === 'resume')).toEqual(['pause']);
    conn.resumeReading();
    expect(f.calls.filter((c) => c === 'pause' || c === 'resume')).toEqual(['pause', 'resume']);
    conn.pauseReading();
    conn.destroy();
    conn.resumeReading(); // closed: nothing to resume
    expect(f.calls.filter((c) => c === 'pause' || c === 'resume')).toEqual(['pause', 'resume', 'pause']);
  });

  it('a new connection: no delay on, an idle deadline kind, and a close with no onceClosed callback is fine', () => {
    const f = fakeSocket();
    const closes: Array<Error | undefined> = [];
    const conn = new Connection(f.socket, { onData() {}, onClose: (e) => void closes.push(e) }, opts);
    expect(f.calls).toEqual(['noDelay true']);
    expect(conn.timeoutKind).toBe('idle');
    f.like.emit('close');
    expect(closes).toEqual([undefined]);
    expect(conn.closed).toBe(true);
  });
});

it('settings: the defaults, and what options say', () => {
  const like = Object.assign(new EventEmitter(), { writableLength: 0, setNoDelay() {}, destroy() {} });
  const d = new Connection(like as unknown as net.Socket, { onData() {} });
  expect([d.highWaterMark, d.lowWaterMark, d.sendTimeout, d.pool, d.sweeper]).toEqual([64 * 1024, 16 * 1024, 60_000, defaultBufferPool, defaultSweeper]);
  const o = new Connection(like as unknown as net.Socket, { onData() {} }, { highWaterMark: 10, lowWaterMark: 5, sendTimeout: 7 });
  expect([o.highWaterMark, o.lowWaterMark, o.sendTimeout]).toEqual([10, 5, 7]);
});
