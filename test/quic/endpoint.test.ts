/**
 * QuicServer, the dgram endpoint: datagrams routed to connections by DCID (two ngtcp2 clients downloading at
 * once each get their own response), new connections only from full-size Initials that open (RFC 9000 §14.1,
 * §12.2) and up to maxConnections (at the limit and one past), everything else dropped unanswered and
 * counted, and a client that goes silent forgotten at the idle timeout.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { QuicServer, StatelessResets, type QuicServerOptions, type ServerConnection } from '../../lib/quic/index.js';
import { pemCertificates } from '../../lib/tls13/index.js';
import { needPeers, NGTCP2_CLIENT } from '../peers.js';
import { clientInitial, clientPing } from './client-initial.js';
import { controlStream, response } from './h3-bytes.js';
import { tempDir } from '../temp-dir.js';

const dir = tempDir('covet-quic-');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
const cert = { privateKey: createPrivateKey(readFileSync(join(dir, 'key.pem'))), certificateChain: pemCertificates(readFileSync(join(dir, 'cert.pem'), 'utf8')) };

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function start(o: Partial<QuicServerOptions> = {}) {
  const opened: ServerConnection[] = [];
  const server = new QuicServer({ ...cert, alpn: ['h3'], ...o, onConnection: (c, a) => (opened.push(c), o.onConnection?.(c, a)) });
  const { port } = await server.listen();
  cleanup.push(() => server.close());
  return { server, port, opened };
}

/** A bare UDP socket playing the client: what it sends, and what comes back. */
async function udp(port: number) {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  cleanup.push(() => new Promise<void>((r) => sock.close(() => r())));
  return { got, send: (b: Buffer) => new Promise<void>((r) => sock.send(b, port, '127.0.0.1', () => r())) };
}

it('two ngtcp2 clients at once, each on its own connection, each downloading its own response', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const bodies = new Map<ServerConnection, Buffer>();
  const { server, port, opened } = await start({
    onConnection: (c) => {
      const body = Buffer.from(`connection ${bodies.size} ${c.localCid.toString('hex')}\n`.repeat(400)); // ~16 KB
      bodies.set(c, body);
      c.onStream = (s) => {
        if (s.id !== 0) return;
        s.onEnd = () => {
          c.openUniStream().write(controlStream());
          s.end(response(200, body));
        };
      };
    },
  });
  const run = (name: string) => {
    const dl = tempDir('covet-h3-');
    const client = spawn('gtlsclient', ['--timeout=10s', '--exit-on-all-streams-close', `--download=${dl}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/${name}`], { stdio: 'ignore' });
    cleanup.push(() => client.kill('SIGKILL'));
    return new Promise<Buffer>((resolve, reject) => client.once('exit', (code) => (code === 0 ? resolve(readFileSync(join(dl, name))) : reject(new Error(`gtlsclient exited ${code}`)))));
  };
  const [a, b] = await Promise.all([run('a.txt'), run('b.txt')]);
  expect(opened).toHaveLength(2);
  const served = opened.map((c) => bodies.get(c)!);
  expect(a.equals(b)).toBe(false);
  expect(served.some((s) => s.equals(a)) && served.some((s) => s.equals(b))).toBe(true);
  // Both clients closed (H3_NO_ERROR): their connections are forgotten.
  await expect.poll(() => server.connections).toBe(0);
  expect(opened.map((c) => c.closeReason?.code)).toEqual([0x100, 0x100]);
  expect(server.dropped).toBe(0);
});

it('opens a connection for a 1200-byte Initial and drops a 1199-byte one (RFC 9000 §14.1)', async () => {
  const { server, port, opened } = await start();
  const c = await udp(port);
  const short = clientInitial({ size: 1199 });
  const full = clientInitial({ size: 1200 });
  await c.send(short.datagram);
  await c.send(full.datagram);
  await expect.poll(() => opened.length).toBe(1);
  expect(server.dropped).toBe(1);
  expect(opened[0]!.peerCid.equals(full.scid)).toBe(true);
  await expect.poll(() => c.got.length).toBeGreaterThan(0); // its first flight came back
  // The same client's next Initial (its original DCID) reaches the same connection, not a new one.
  await c.send(clientPing(full, 1));
  await c.send(Buffer.from('sync')); // dropped: once counted, the ping before it was handled
  await expect.poll(() => server.dropped).toBe(2);
  expect([opened.length, server.connections]).toEqual([1, 1]);
});

it('drops, unanswered, what opens no connection: garbage, unknown ids, an Initial that does not open', async () => {
  const { server, port, opened } = await start();
  const c = await udp(port);
  const forged = clientInitial();
  forged.datagram[forged.datagram.length - 1]! ^= 1; // the AEAD tag no longer checks
  const noise = randomBytes(42);
  noise[0]! &= 0x7f; // a short header for no connection of ours, too small to answer with a reset
  const vn = clientInitial();
  vn.datagram.writeUInt32BE(0, 1); // a Version Negotiation packet sent to a server (§6.2)
  const sent = [Buffer.alloc(0), noise, vn.datagram, forged.datagram, Buffer.from([0xc0, 0, 0])];
  for (const d of sent) await c.send(d);
  await expect.poll(() => server.dropped).toBe(sent.length);
  expect([opened.length, server.connections, c.got.length]).toEqual([0, 0, 0]);
});

it('listens on a host name (looked up) and answers a client Initial from there', async () => {
  const server = new QuicServer({ ...cert, alpn: ['h3'], onConnection: () => {} });
  const { port, address } = await server.listen({ host: 'localhost' });
  cleanup.push(() => server.close());
  expect(address).toBe('127.0.0.1');
  const c = await udp(port);
  await c.send(clientInitial().datagram);
  await expect.poll(() => server.connections).toBe(1);
  // The reply went back to the client's address (a literal: answered without a lookup).
  await expect.poll(() => c.got.length).toBeGreaterThan(0);
});

it("a connection's timer is not re-armed for each datagram: one that fires no later than needed is kept", async () => {
  const { server, port } = await start();
  const c = await udp(port);
  const full = clientInitial();
  await c.send(full.datagram);
  await expect.poll(() => server.connections).toBe(1);
  const armed = vi.spyOn(globalThis, 'setTimeout');
  try {
    for (let pn = 1; pn <= 20; pn++) await c.send(clientPing(full, pn));
    await c.send(Buffer.from('sync')); // dropped once the pings before it were handled
    // Waited for without timers of its own (expect.poll's would be counted).
    for (let k = 0; server.dropped < 1 && k < 100_000; k++) await new Promise((r) => setImmediate(r));
    expect(server.dropped).toBe(1);
    // Each ping moved the idle deadline on; the timer armed before it already fires earlier.
    expect(armed.mock.calls.length).toBeLessThan(5);
  } finally {
    armed.mockRestore();
  }
  expect(server.connections).toBe(1);
});

it('holds at most maxConnections: at the limit a new one opens, one past it is dropped', async () => {
  const { server, port, opened } = await start({ maxConnections: 2 });
  const c = await udp(port);
  await c.send(clientInitial().datagram);
  await c.send(clientInitial().datagram);
  await expect.poll(() => opened.length).toBe(2);
  await c.send(clientInitial().datagram);
  await expect.poll(() => server.dropped).toBe(1);
  expect([opened.length, server.connections]).toEqual([2, 2]);
});

it('forgets a client that goes silent, at the idle timeout, and then has room for a new one', async () => {
  // Idle 1 ms: three probe timeouts (≈ 3 s at the initial RTT) is the floor.
  const { server, port, opened } = await start({ maxConnections: 1, transportParameters: { maxIdleTimeout: 1 } });
  const c = await udp(port);
  await c.send(clientInitial().datagram);
  await expect.poll(() => opened.length).toBe(1);
  await expect.poll(() => server.connections, { timeout: 20_000 }).toBe(0);
  expect(opened[0]!.closeReason?.message).toMatch(/^idle for \d+ ms$/);
  await c.send(clientInitial().datagram);
  await expect.poll(() => opened.length).toBe(2);
  expect(server.dropped).toBe(0);
}, 30_000);

it('answers a full-size Initial of another version with Version Negotiation (§6.1); a smaller one is dropped', async () => {
  const { server, port, opened } = await start();
  const c = await udp(port);
  const small = clientInitial({ size: 1199 });
  small.datagram.writeUInt32BE(0x6b3343cf, 1); // QUIC version 2's number
  const v2 = clientInitial({ size: 1200 });
  v2.datagram.writeUInt32BE(0x6b3343cf, 1);
  await c.send(small.datagram);
  await c.send(v2.datagram);
  await expect.poll(() => c.got.length).toBe(1);
  expect([server.dropped, server.versionNegotiations, opened.length]).toEqual([1, 1, 0]);
  const vn = c.got[0]!;
  expect(vn[0]! & 0x80).toBe(0x80);
  expect(vn.readUInt32BE(1)).toBe(0); // version 0: Version Negotiation
  expect(vn.subarray(6, 6 + vn[5]!).equals(v2.scid)).toBe(true); // its DCID is the client's SCID
  const at = 6 + vn[5]!;
  expect(vn.subarray(at + 1, at + 1 + vn[at]!).equals(v2.dcid)).toBe(true);
  const versions = [];
  for (let i = at + 1 + vn[at]!; i < vn.length; i += 4) versions.push(vn.readUInt32BE(i));
  expect(versions).toContain(1);
  expect(versions.every((v) => v === 1 || (v & 0x0f0f0f0f) === 0x0a0a0a0a)).toBe(true); // 1, and reserved ones
});

it('ngtcp2 starting with a version we do not speak moves to version 1 on our Version Negotiation and completes', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const { server, port } = await start({
    onConnection: (c) => {
      c.onStream = (s) => {
        if (s.id === 0) s.onEnd = () => s.end(response(200, Buffer.from('negotiated\n')));
      };
    },
  });
  const dl = tempDir('covet-h3-');
  const client = spawn('gtlsclient', ['--timeout=5s', '--exit-on-all-streams-close', '-v', '0xbabababa', '--preferred-versions=0x00000001', `--download=${dl}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/v.txt`], { stdio: 'ignore' });
  cleanup.push(() => client.kill('SIGKILL'));
  expect(await new Promise<number | null>((resolve) => client.once('exit', resolve))).toBe(0);
  expect(readFileSync(join(dl, 'v.txt'), 'utf8')).toBe('negotiated\n');
  expect(server.versionNegotiations).toBe(1);
}, 20_000);

it('follows a key update the client makes mid-transfer (RFC 9001 §6), and the download completes', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const body = Buffer.alloc(3 << 20, 0x6b);
  const { port, opened } = await start({
    onConnection: (c) => {
      c.onStream = (s) => {
        if (s.id === 0) s.onEnd = () => s.end(response(200, body));
      };
    },
  });
  const dl = tempDir('covet-h3-');
  const client = spawn('gtlsclient', ['--timeout=10s', '--exit-on-all-streams-close', '--key-update=10ms', `--download=${dl}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/ku.bin`], { stdio: 'ignore' });
  cleanup.push(() => client.kill('SIGKILL'));
  expect(await new Promise<number | null>((resolve) => client.once('exit', resolve))).toBe(0);
  expect(readFileSync(join(dl, 'ku.bin')).equals(body)).toBe(true);
  expect(opened[0]!.keyUpdates).toBeGreaterThanOrEqual(1);
}, 30_000);

it("follows the client to a new address when a NAT rebinds it (§9.3) and validates the new path", async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const body = Buffer.alloc(2 << 20, 0x6e);
  const { port, opened } = await start({
    transportParameters: { disableActiveMigration: false },
    onConnection: (c) => {
      c.onStream = (s) => {
        if (s.id === 0) s.onEnd = () => s.end(response(200, body));
      };
    },
  });
  const dl = tempDir('covet-h3-');
  // The client moves to a new local port 30 ms in and sends its request only after (--delay-stream): what
  // reaches us from the new port is its newest packet.
  const client = spawn('gtlsclient', ['--timeout=10s', '--exit-on-all-streams-close', '--nat-rebinding', '--change-local-addr=30ms', '--delay-stream=100ms', `--download=${dl}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/nat.bin`], { stdio: 'ignore' });
  cleanup.push(() => client.kill('SIGKILL'));
  expect(await new Promise<number | null>((resolve) => client.once('exit', resolve))).toBe(0);
  expect(readFileSync(join(dl, 'nat.bin')).equals(body)).toBe(true);
  expect(opened[0]!.pathsValidated).toBe(1);
}, 30_000);

it('follows a client that migrates to a new address with one of the connection ids we issued (§9), which it then retires', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const body = Buffer.alloc(2 << 20, 0x6d);
  const ids: Array<[string, boolean]> = [];
  const { port, opened } = await start({
    onConnection: (c) => {
      const route = c.onConnectionId; // the endpoint's: kept, and watched
      c.onConnectionId = (cid, added) => (ids.push([cid.toString('hex'), added]), route(cid, added));
      c.onStream = (s) => {
        if (s.id === 0) s.onEnd = () => s.end(response(200, body));
      };
    },
  });
  const dl = tempDir('covet-h3-');
  // Without --nat-rebinding the client itself moves: a new local port, a new connection id of ours, its own
  // PATH_CHALLENGE; it retires the id it used before.
  const client = spawn('gtlsclient', ['--timeout=10s', '--exit-on-all-streams-close', '--change-local-addr=30ms', '--delay-stream=100ms', `--download=${dl}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/mig.bin`], { stdio: 'ignore' });
  cleanup.push(() => client.kill('SIGKILL'));
  expect(await new Promise<number | null>((resolve) => client.once('exit', resolve))).toBe(0);
  expect(readFileSync(join(dl, 'mig.bin')).equals(body)).toBe(true);
  expect(opened[0]!.pathsValidated).toBe(1);
  const issued = ids.filter(([, added]) => added).map(([id]) => id);
  const retired = ids.filter(([, added]) => !added).map(([id]) => id);
  expect(issued.length).toBeGreaterThanOrEqual(4); // three at once (its limit allows more; we keep four), one in place of the retired
  expect(retired).toEqual([opened[0]!.localCid.toString('hex')]); // the id of the handshake
}, 30_000);

describe('stateless reset (§10.3)', () => {
  it('answers a short-header datagram for no connection of ours, from 43 bytes, with a smaller reset ending in the id\'s token', async () => {
    const key = randomBytes(32);
    const { server, port } = await start({ statelessResetKey: key });
    const c = await udp(port);
    const cid = randomBytes(8);
    const packet = (n: number) => Buffer.concat([Buffer.from([0x40]), cid, randomBytes(n - 9)]);
    await c.send(packet(42)); // one under: dropped
    await c.send(packet(43));
    await expect.poll(() => c.got.length).toBe(1);
    expect([server.statelessResets, server.dropped]).toEqual([1, 1]);
    const reset = c.got[0]!;
    expect(reset.length).toBe(42);
    expect(reset[0]! & 0xc0).toBe(0x40); // looks like a short header
    expect(reset.subarray(-16).equals(new StatelessResets(key).token(cid))).toBe(true);
  });

  it('after a restart with the same key, ngtcp2 still sending to the old connection is reset and stops', async (ctx) => {
    needPeers(ctx, NGTCP2_CLIENT);
    const key = randomBytes(32);
    const first = await start({ statelessResetKey: key });
    // The client's request waits 1.5 s; meanwhile the server "restarts": a new endpoint on the port, same key.
    const child = spawn('gtlsclient', ['--timeout=20s', '--delay-stream=1500ms', '--exit-on-all-streams-close', '127.0.0.1', String(first.port), `https://127.0.0.1:${first.port}/late`], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(() => child.kill('SIGKILL'));
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    await expect.poll(() => first.opened[0]?.state).toBe('established');
    await first.server.close(); // no CONNECTION_CLOSE: the client does not know
    const second = new QuicServer({ ...cert, alpn: ["h3"], statelessResetKey: key, onConnection: () => {} });
    await second.listen({ port: first.port });
    cleanup.push(() => second.close());
    await new Promise((resolve) => child.once('exit', resolve));
    expect(second.statelessResets).toBeGreaterThanOrEqual(1);
    // ngtcp2 recognised our reset (its token matched) and stopped: "SR token=…", then draining.
    expect(log).toMatch(/pkt rx 0 SR token=0x[0-9a-f]{32}/);
    expect(log.trim().split('\n').at(-1)).toBe('ngtcp2_conn_read_pkt: ERR_DRAINING');
  }, 30_000);
});

describe('socket buffers', () => {
  // Linux reports twice what it was given (its bookkeeping share), capped at net.core.rmem_max/wmem_max.
  const reported = (size: number, max: string) => 2 * Math.min(size, Number(readFileSync(`/proc/sys/net/core/${max}`, 'utf8')));

  it('4 MiB each way by default, so the clients\' ACKs are not dropped while a burst is written; socketBufferSize sets them', async () => {
    const { server } = await start();
    expect(server.socketBuffers).toEqual({ receive: reported(4 * 1024 * 1024, 'rmem_max'), send: reported(4 * 1024 * 1024, 'wmem_max') });
    const small = await start({ socketBufferSize: 64 * 1024 });
    expect(small.server.socketBuffers).toEqual({ receive: reported(64 * 1024, 'rmem_max'), send: reported(64 * 1024, 'wmem_max') });
  });
});

it('refuses an empty certificate chain at once (every handshake would fail at its Certificate message)', () => {
  expect(() => new QuicServer({ ...cert, certificateChain: [], alpn: ['h3'], onConnection: () => {} })).toThrow('QuicServer: `certificateChain` is empty');
  expect(() => new QuicServer({ ...cert, alpn: ['h3'], onConnection: () => {} })).not.toThrow();
});
