import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { directWriteMode, sharedReadAvailable, type Connection } from '../../lib/net/index.js';
import { hashingReader, setup, tick } from './helpers.js';

// The read and write fast paths lean on Node internals that differ between release lines; CI runs this
// file on every line we support, so each line proves which path it takes.
const major = Number(process.versions.node.split('.')[0]);

/** The direct-write convention each supported line has (lib/net/direct-write.ts). */
const EXPECTED_WRITE: Record<number, 'request' | 'returned'> = { 20: 'request', 22: 'request', 24: 'returned', 26: 'returned' };

/** `COVET_NET_FAST_PATHS=0` (CI runs this file once so): every connection takes Node's public stream API. */
const OFF = process.env.COVET_NET_FAST_PATHS === '0';

/** Counts a connection's writes that went through `socket.write`, and whether reads arrive as 'data' events. */
async function watch(options: { fastPaths?: boolean } = {}) {
  let conn!: Connection;
  const client = await setup((c) => (conn = c), {}, options);
  while (conn === undefined) await tick();
  let got = '';
  client.on('data', (d: Buffer) => void (got += d.toString('latin1')));
  let streamWrites = 0;
  const orig = conn.socket.write.bind(conn.socket);
  conn.socket.write = ((...a: Parameters<net.Socket['write']>) => (streamWrites++, orig(...a))) as net.Socket['write'];
  const dataListeners = conn.socket.listenerCount('data');
  const echo = async (n: number) => {
    for (let i = 0; i < n; i++) {
      conn.write(i % 2 === 0 ? `s${i}\n` : Buffer.from(`b${i}\n`));
      await tick();
    }
    while (!got.endsWith(`b${n - 1}\n`)) await tick();
  };
  return { conn, client, echo, streamWrites: () => streamWrites, dataListeners };
}

describe(`fast paths on Node ${process.versions.node}`, () => {
  it('accepted TCP sockets can read into the shared buffer', () => {
    // Every supported line has the onread fields; a line without them would silently read the slow way.
    expect(sharedReadAvailable()).toBe(true);
  });

  it(OFF ? 'COVET_NET_FAST_PATHS=0: reads through data events, every write through socket.write' : 'reads into the shared buffer; single writes take the direct path with this line’s calling convention', async () => {
    const w = await watch();
    w.conn.write('learn\n'); // the first plain write teaches the process (if nothing did before)
    await tick();
    if (OFF) {
      expect(w.dataListeners).toBe(1);
      await w.echo(20);
      expect(w.streamWrites()).toBe(21);
    } else {
      expect(w.dataListeners).toBe(0);
      const mode = directWriteMode();
      // A line not in the table must still find one of the two conventions: a new one needs code.
      if (major in EXPECTED_WRITE) expect(mode, `Node ${major}`).toBe(EXPECTED_WRITE[major]);
      else expect(['request', 'returned'], `Node ${major}`).toContain(mode);
      const before = w.streamWrites(); // the probe that learned the convention wrote through the stream
      await w.echo(20);
      expect(w.streamWrites() - before).toBe(0);
    }
    w.client.destroy();
  });

  it('fastPaths: false reads through data events and writes through socket.write, bytes intact', async () => {
    const w = await watch({ fastPaths: false });
    expect(w.dataListeners).toBe(1);
    await w.echo(20);
    expect(w.streamWrites()).toBe(20);
    w.client.destroy();
  });
});

describe('backpressure resumes whatever the stream’s own high-water mark', () => {
  // Regression (Node 22+ COPY FROM hang): reading was paused at our high-water mark and resumed on the
  // stream's 'drain', which the stream emits only after its own (larger since Node 22) mark was reached:
  // a connection blocked below it stayed paused for ever. Our mark here is below every line's stream
  // mark, so the old code hangs on every line.
  it('a connection blocked by corked stream batches unblocks and delivers every byte', async () => {
    let conn!: Connection;
    let drains = 0;
    const client = await setup((c) => (conn = c), { onDrain: () => void drains++ }, { highWaterMark: 4096, lowWaterMark: 1024 });
    while (conn === undefined) await tick();
    client.pause();
    const sent = createHash('sha256');
    let bytes = 0;
    // Two buffers per turn: a corked batch, through the stream, never the direct path.
    for (let i = 0; !conn.writeBlocked && i < 100_000; i++) {
      for (const b of [randomBytes(1500), randomBytes(1500)]) {
        sent.update(b);
        bytes += b.length;
        conn.write(b);
      }
      await tick();
    }
    expect(conn.writeBlocked).toBe(true);
    expect(conn.socket.writableLength).toBeLessThan(conn.socket.writableHighWaterMark);
    const reader = hashingReader(client);
    client.resume();
    const deadline = Date.now() + 10_000;
    while (conn.writeBlocked && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(conn.writeBlocked, 'still blocked after the peer read everything').toBe(false);
    expect(drains).toBe(1);
    expect(conn.socket.isPaused()).toBe(false);
    while (reader.received() < bytes) await tick();
    expect(reader.digest()).toBe(sent.digest('hex'));
    client.destroy();
  });
});
