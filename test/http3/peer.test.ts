/**
 * covet/http3 against a real client: ngtcp2's gtlsclient (on nghttp3) GETs and uploads through
 * `createHttp3Server`; the handler is the same (req, res) one the HTTP/1.1 and HTTP/2 servers call.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createHttp3Server, TLS_CHACHA20_POLY1305_SHA256, type Http3Server } from '../../lib/http3/index.js';
import { needPeers, NGTCP2_CLIENT } from '../peers.js';
import { tempDir } from '../temp-dir.js';

const dir = tempDir('covet-h3-');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
const tls = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };

let server: Http3Server | null = null;
afterEach(async () => {
  await server?.close(0);
  server = null;
});

/** Runs gtlsclient with `args` then the URLs; resolves with its exit code and what it printed. */
function gtls(port: number, args: string[], paths: string[]) {
  const child = spawn('gtlsclient', ['--timeout=10s', '--exit-on-all-streams-close', ...args, '127.0.0.1', String(port), ...paths.map((p) => `https://localhost:${port}${p}`)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise<{ code: number | null; out: string }>((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

it('serves GETs with the (req, res) handler: several requests on one connection', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const seen: Array<{ method: string; url: string; version: string; ua: string | undefined }> = [];
  let tableEntries = 0;
  let ourInserts = 0;
  server = createHttp3Server((req, res) => {
    for (const s of server!.sessions) {
      tableEntries = Math.max(tableEntries, s.decoder.tableLength);
      ourInserts = Math.max(ourInserts, s.encoder.insertCount);
    }
    seen.push({ method: req.method, url: req.url, version: req.httpVersion, ua: req.get('user-agent') });
    res.setHeader('content-type', 'text/plain');
    res.setHeader('x-served-by', 'covet');
    res.end(`${req.method} ${req.url} over HTTP/${req.httpVersion}\n`.repeat(req.url === '/big' ? 2000 : 1));
  }, tls);
  const { port } = await server.listen();
  const dl = tempDir('covet-h3-dl-');
  const r = await gtls(port, [`--download=${dl}`], ['/a', '/b?x=1', '/big']);
  expect(r.code, r.out).toBe(0);
  expect(readFileSync(join(dl, 'a'), 'utf8')).toBe('GET /a over HTTP/3.0\n');
  expect(readFileSync(join(dl, 'big'), 'utf8')).toBe('GET /big over HTTP/3.0\n'.repeat(2000));
  expect(seen.map((s) => s.url).sort()).toEqual(['/a', '/b?x=1', '/big']);
  expect(seen.every((s) => s.method === 'GET' && s.version === '3.0' && s.ua !== undefined)).toBe(true);
  // nghttp3's encoder (in gtlsclient) sends literals and static references only: the dynamic table is
  // exercised by test/http3/qpack.test.ts's encoder, not by this peer.
  expect(tableEntries).toBe(0);
  // Ours does use it (nghttp3 allows a table): the later responses refer to entries, and gtlsclient read them.
  expect(ourInserts).toBeGreaterThan(0);
  expect(r.out.match(/\[x-served-by: covet\]/g)?.length).toBe(3);
}, 30_000);

it('serves the cipher suites it is given (cipherSuites): ChaCha20-Poly1305 only, though the client lists AES-128-GCM first', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  server = createHttp3Server((_req, res) => res.end('chacha\n'), { ...tls, cipherSuites: [TLS_CHACHA20_POLY1305_SHA256] });
  const { port } = await server.listen();
  const dl = tempDir('covet-h3-dl-');
  const r = await gtls(port, [`--download=${dl}`], ['/c']);
  expect(r.code, r.out).toBe(0);
  expect(r.out).toContain('Negotiated cipher suite is CHACHA20-POLY1305');
  expect(readFileSync(join(dl, 'c'), 'utf8')).toBe('chacha\n');
}, 30_000);

it('takes an upload: the body read with req.buffer(), answered with its digest', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  server = createHttp3Server(async (req, res) => {
    const body = await req.buffer(4 << 20);
    res.end(`${body.length} ${createHash('sha256').update(body).digest('hex')}`);
  }, tls);
  const { port } = await server.listen();
  const file = join(dir, 'upload.bin');
  const data = Buffer.alloc(1 << 20, 7); // 1 MiB: past the first stream and connection windows
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
  writeFileSync(file, data);
  const dl = tempDir('covet-h3-dl-');
  const r = await gtls(port, [`--data=${file}`, `--download=${dl}`], ['/upload']);
  expect(r.code, r.out).toBe(0);
  expect(readFileSync(join(dl, 'upload'), 'utf8')).toBe(`${data.length} ${createHash('sha256').update(data).digest('hex')}`);
}, 30_000);

it('refuses to start without a certificate chain or its key, saying which', () => {
  const handler = () => {};
  expect(() => createHttp3Server(handler, { key: tls.key } as never)).toThrow('HTTP/3: `cert` must be a PEM certificate chain, leaf first');
  expect(() => createHttp3Server(handler, { cert: 'not a PEM', key: tls.key })).toThrow('HTTP/3: `cert` must be a PEM certificate chain, leaf first');
  expect(() => createHttp3Server(handler, { cert: tls.cert } as never)).toThrow("HTTP/3: `key` must be the certificate's private key");
  expect(() => createHttp3Server(handler, { cert: tls.cert, key: createPrivateKey(tls.key) })).not.toThrow(); // a KeyObject too
});

it('socketBufferSize reaches the UDP socket (default 4 MiB)', async () => {
  // Linux reports twice what it was given, capped at net.core.rmem_max.
  const reported = (size: number) => 2 * Math.min(size, Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8')));
  server = createHttp3Server(() => {}, { ...tls, socketBufferSize: 96 * 1024 });
  await server.listen();
  expect(server.quic.socketBuffers?.receive).toBe(reported(96 * 1024));
  await server.close(0);
  server = createHttp3Server(() => {}, tls);
  await server.listen();
  expect(server.quic.socketBuffers?.receive).toBe(reported(4 * 1024 * 1024));
});
