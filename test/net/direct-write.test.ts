import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../lib/net/index.js';
import { hashingReader, setup, tick } from './helpers.js';

// These tests are about the fast path: they ask for it (a connection gets it anyway unless
// COVET_NET_FAST_PATHS=0, under which CI runs test/net once).
const FAST = { fastPaths: true };

describe('direct writes', () => {
  it('bypass socket.write once learned: only the first write goes through the stream', async () => {
    let conn!: Connection;
    const client = await setup((c) => (conn = c), {}, FAST);
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
    const client = await setup((c) => (conn = c), { onDrain: () => void drains++ }, FAST);
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
    const reader = hashingReader(client);
    client.resume();
    while (conn.writeBlocked) await tick();
    expect(drains).toBe(1);
    while (reader.received() < bytes) await tick();
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
    while (reader.received() < bytes) await tick();
    expect(reader.digest()).toBe(sent.digest('hex'));
    client.destroy();
  });

  it('a write to a peer that reset the connection closes it with the errno error, without throwing', async () => {
    let conn!: Connection;
    const client = await setup((c) => (conn = c), {}, FAST);
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
