/**
 * lib/quic's ServerConnection (sans I/O) with a socket around it and a real client: ngtcp2's gtlsclient
 * completes the handshake with it and downloads an HTTP/3 response (made of bytes here: the HTTP/3 layer is
 * a later stage) byte for byte; a client offering no protocol we serve is refused with the TLS alert.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ServerConnection } from '../../lib/quic/index.js';
import { pemCertificates } from '../../lib/tls13/index.js';
import { needPeers, NGTCP2_CLIENT } from '../peers.js';
import { controlStream, response } from './h3-bytes.js';
import { tempDir } from '../temp-dir.js';

function certificate(sans = 0) {
  const dir = tempDir('covet-quic-');
  const extra = sans > 0 ? ['-addext', `subjectAltName=${Array.from({ length: sans }, (_, i) => `DNS:host-${i}.a-rather-long-name.example`).join(',')}`] : [];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', ...extra], { stdio: 'ignore' });
  return { dir, privateKey: createPrivateKey(readFileSync(join(dir, 'key.pem'))), certificateChain: pemCertificates(readFileSync(join(dir, 'cert.pem'), 'utf8')) };
}

/** A UDP socket serving one connection at a time: datagrams in, the connection's datagrams out. */
async function serve(alpn: string[], onConnection: (c: ServerConnection) => void, sans = 0) {
  const cert = certificate(sans);
  const sent: number[] = []; // bytes sent after each datagram received
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  let conn: ServerConnection | null = null;
  let timer: NodeJS.Timeout | null = null;
  let peer: dgram.RemoteInfo | null = null;
  /** Sends what the connection has, and arms its timer (loss detection's probe timeout). */
  const pump = (): number => {
    let n = 0;
    for (const d of conn!.poll()) {
      n += d.length;
      sock.send(d, peer!.port, peer!.address);
    }
    if (timer !== null) clearTimeout(timer);
    const t = conn!.timeout();
    timer = t === null ? null : setTimeout(() => (conn!.onTimeout(), pump()), Math.max(0, t - Date.now()));
    return n;
  };
  sock.on('message', (msg, rinfo) => {
    peer = rinfo;
    if (conn === null) {
      conn = new ServerConnection(msg, { certificateChain: cert.certificateChain, privateKey: cert.privateKey, alpn });
      onConnection(conn);
    } else conn.receive(msg);
    sent.push(msg.length, pump());
  });
  const close = () => {
    if (timer !== null) clearTimeout(timer);
    sock.close();
  };
  return { port: sock.address().port, dir: cert.dir, conn: () => conn, sent, chain: cert.certificateChain, close };
}

it('serves an HTTP/3 GET to ngtcp2 through ServerConnection: handshake, the request stream, the response downloaded', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const body = Buffer.from('served by ServerConnection\n'.repeat(200)); // several packets' worth
  const server = await serve(['h3'], (c) => {
    c.onStream = (s) => {
      if (s.id !== 0) return; // the client's control and QPACK streams: not read yet
      s.onEnd = () => {
        c.openUniStream().write(controlStream());
        s.end(response(200, body));
      };
    };
  });
  const dl = tempDir('covet-h3-');
  const client = spawn('gtlsclient', ['--timeout=5s', '--exit-on-all-streams-close', `--download=${dl}`, '127.0.0.1', String(server.port), `https://127.0.0.1:${server.port}/page.txt`], { stdio: 'ignore' });
  try {
    const code = await new Promise<number | null>((resolve) => client.once('exit', resolve));
    expect(code).toBe(0);
    expect(readFileSync(join(dl, 'page.txt')).equals(body)).toBe(true);
    // Done, the client closes the connection with H3_NO_ERROR (0x100), an application close.
    expect([server.conn()!.alpn, server.conn()!.state, server.conn()!.closeReason?.code]).toEqual(['h3', 'closed', 0x100]);
  } finally {
    client.kill('SIGKILL');
    server.close();
  }
}, 20_000);

it('a client asking for a protocol we do not serve gets CRYPTO_ERROR no_application_protocol (0x178)', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const server = await serve(['not-h3'], () => {});
  const client = spawn('gtlsclient', ['--timeout=3s', '127.0.0.1', String(server.port), `https://127.0.0.1:${server.port}/`], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => client.once('exit', resolve));
  try {
    await expect.poll(() => server.conn()?.closeReason?.code).toBe(0x178);
    expect(server.conn()!.closeReason!.message).toBe("none of the client's protocols (h3) is served");
    expect(server.conn()!.state).toBe('closed');
    await exited; // told (CONNECTION_CLOSE), the client stops
  } finally {
    client.kill('SIGKILL');
    server.close();
  }
}, 20_000);

it('a first flight past three times what the client sent waits for its address to be validated (RFC 9000 §8.1), then completes', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const body = Buffer.from('after a large certificate\n');
  const server = await serve(['h3'], (c) => {
    c.onStream = (s) => {
      if (s.id === 0) s.onEnd = () => s.end(response(200, body));
    };
  }, 150);
  expect(server.chain[0]!.length).toBeGreaterThan(4000); // the flight cannot fit in 3 × 1200 bytes
  const dl = tempDir('covet-h3-');
  const client = spawn('gtlsclient', ['--timeout=5s', '--exit-on-all-streams-close', `--download=${dl}`, '127.0.0.1', String(server.port), `https://127.0.0.1:${server.port}/big.txt`], { stdio: 'ignore' });
  try {
    expect(await new Promise<number | null>((resolve) => client.once('exit', resolve))).toBe(0);
    expect(readFileSync(join(dl, 'big.txt')).equals(body)).toBe(true);
    const [firstIn, firstOut] = server.sent;
    expect(firstOut).toBeLessThanOrEqual(3 * firstIn!); // the limit held at the first flight
  } finally {
    client.kill('SIGKILL');
    server.close();
  }
}, 20_000);

it('with packets lost both ways (ngtcp2 drops 10 % of what it sends and of what it gets), the download still completes byte for byte', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => `line ${i}\n`).join('')); // ~25 KB: many packets
  const server = await serve(['h3'], (c) => {
    c.onStream = (s) => {
      if (s.id === 0) s.onEnd = () => s.end(response(200, body));
    };
  });
  const dl = tempDir('covet-h3-');
  const client = spawn('gtlsclient', ['--timeout=20s', '-r', '0.1', '-t', '0.1', '--exit-on-all-streams-close', `--download=${dl}`, '127.0.0.1', String(server.port), `https://127.0.0.1:${server.port}/lossy.txt`], { stdio: 'ignore' });
  try {
    expect(await new Promise<number | null>((resolve) => client.once('exit', resolve))).toBe(0);
    const got = readFileSync(join(dl, 'lossy.txt'));
    expect(got.equals(body)).toBe(true);
  } finally {
    client.kill('SIGKILL');
    server.close();
  }
}, 60_000);
