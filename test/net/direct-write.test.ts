import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection, Server, type ConnectionHandler } from '../../lib/net/index.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

/** A server whose connections are handed to `onConn`; returns a connected client. */
async function setup(onConn: (conn: Connection) => void, handler: Partial<ConnectionHandler> = {}): Promise<net.Socket> {
  const s = new Server({
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

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('direct writes', () => {
  it('bypass socket.write once learned: only the first write goes through the stream', async () => {
    let conn!: Connection;
    const client = await setup((c) => (conn = c));
    while (conn === undefined) await tick();
    let streamWrites = 0;
    const orig = conn.socket.write.bind(conn.socket);
    conn.socket.write = ((...a: Parameters<net.Socket['write']>) => (streamWrites++, orig(...a))) as net.Socket['write'];
    let got = '';
    client.on('data', (d: Buffer) => void (got += d.toString('latin1')));
    let expected = '';
    for (let i = 0; i < 50; i++) {
      conn.write(`line ${i}\n`); // one write per turn
      expected += `line ${i}\n`;
      await tick();
    }
    while (got.length < expected.length) await tick();
    expect(got).toBe(expected);
    // At most the one write that taught the process Node's write request (an earlier test may have).
    expect(streamWrites).toBeLessThanOrEqual(1);
    const before = streamWrites;
    for (let i = 0; i < 10; i++) {
      conn.write(`line ${i}\n`);
      conn.write(Buffer.from(`buf ${i}\n`)); // a string and a Buffer in one turn: one corked batch, through the stream
      expected += `line ${i}\nbuf ${i}\n`;
      await tick();
    }
    while (got.length < expected.length) await tick();
    expect(got).toBe(expected);
    expect(streamWrites - before).toBe(20);
    client.destroy();
  });

  it('keeps order and applies backpressure against a peer that stops reading, mixing direct and stream writes', async () => {
    let conn!: Connection;
    let drains = 0;
    const client = await setup((c) => (conn = c), { onDrain: () => void drains++ });
    client.pause();
    while (conn === undefined) await tick();
    const sent = createHash('sha256');
    let bytes = 0;
    const send = (piece: string | Buffer): void => {
      sent.update(piece);
      bytes += piece.length;
      conn.write(piece);
    };
    // One write per turn (each goes direct) until the peer's window and the kernel buffers are full and
    // libuv queues the rest: only the direct writes' completions can tell when that queue drains.
    let i = 0;
    while (!conn.writeBlocked && i < 100_000) {
      send(i % 3 === 0 ? randomBytes(3000) : `${'x'.repeat(i % 97)}|${i}\n`);
      await tick();
      i++;
    }
    expect(conn.writeBlocked).toBe(true);
    expect(conn.bufferedAmount).toBeGreaterThan(0);
    const got = createHash('sha256');
    let received = 0;
    client.on('data', (d: Buffer) => {
      got.update(d);
      received += d.length;
    });
    client.resume();
    while (conn.writeBlocked) await tick();
    expect(drains).toBe(1);
    while (received < bytes) await tick();
    // Blocked again, now alternating turns of one single write and of a corked batch (which goes through
    // the stream and waits there behind its earlier batch): a single write must not overtake it.
    client.pause();
    for (let k = 0; !conn.writeBlocked && k < 100_000; k++) {
      send(k % 2 === 0 ? randomBytes(4000) : `${'y'.repeat(k % 89)}|${k}\n`);
      await tick();
    }
    expect(conn.writeBlocked).toBe(true);
    for (let k = 0; k < 300; k++) {
      send(`blocked ${k}\n`);
      if (k % 2 === 0) send(randomBytes(700));
      await tick();
    }
    client.resume();
    while (conn.writeBlocked) await tick();
    expect(drains).toBe(2);
    send('after\n'); // unblocked: single writes go direct again, after everything queued before them
    while (received < bytes) await tick();
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    client.destroy();
  });

  it('a write to a peer that reset the connection closes it with the errno error, without throwing', async () => {
    let conn!: Connection;
    const client = await setup((c) => (conn = c));
    while (conn === undefined) await tick();
    const closed = new Promise<void>((r) => conn.onceClosed(() => r()));
    client.resetAndDestroy();
    await once(client, 'close');
    await new Promise((r) => setTimeout(r, 20));
    for (let k = 0; k < 20 && !conn.closed; k++) {
      conn.write(Buffer.alloc(64 * 1024));
      await tick();
    }
    await closed;
    expect(conn.closed).toBe(true);
  });
});
