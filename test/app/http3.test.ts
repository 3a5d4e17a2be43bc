/**
 * covet/app/http3: one app, its routes served over HTTP/3 by the plugin (ngtcp2's client as the peer) with
 * the same pipeline as over TCP, and advertised with Alt-Svc on the TCP answers (not on HTTP/3's own).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createApp, type App } from '../../lib/app/index.js';
import { http3, HTTP3 } from '../../lib/app/http3/index.js';
import { Http3Server } from '../../lib/http3/index.js';
import { needPeers, NGTCP2_CLIENT } from '../peers.js';
import { tempDir } from '../temp-dir.js';

const dir = tempDir('covet-app-h3-');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
const tls = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };

let app: App | null = null;
afterEach(async () => {
  await app?.close(0);
  app = null;
});

function gtls(port: number, dl: string, paths: string[], extra: string[] = []) {
  const child = spawn('gtlsclient', ['--timeout=10s', '--exit-on-all-streams-close', `--download=${dl}`, ...extra, '127.0.0.1', String(port), ...paths.map((p) => `https://localhost:${port}${p}`)], { stdio: 'ignore' });
  return new Promise<number | null>((resolve) => child.once('exit', resolve));
}

it('serves the same routes over HTTP/3, through the same hooks, and advertises h3 on TCP answers', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const protocols: string[] = [];
  app = createApp();
  app.register(http3, { port: 0, ...tls });
  app.addHook('onResponse', (c) => void protocols.push(`${c.req.httpVersion} ${c.res.statusCode}`));
  app.get('/hello', (c) => ({ hi: c.req.httpVersion }));
  await app.ready(); // async plugins are waited for here
  const h3 = app.value<Http3Server>(HTTP3)!;
  const bound = h3.port;
  const tcp = await app.listen({ port: 0, host: '127.0.0.1' });
  const tcpPort = (tcp.address() as { port: number }).port;
  expect([h3.port, h3.port === tcpPort]).toEqual([bound, false]); // the port it was given, bound at registration, kept
  const viaTcp = await fetch(`http://127.0.0.1:${tcpPort}/hello`);
  expect(await viaTcp.json()).toEqual({ hi: '1.1' });
  expect(viaTcp.headers.get('alt-svc')).toBe(`h3=":${h3.port}"; ma=86400`);
  expect((await fetch(`http://127.0.0.1:${tcpPort}/missing`)).headers.get('alt-svc')).toBe(`h3=":${h3.port}"; ma=86400`);
  const dl = tempDir('covet-app-h3-dl-');
  expect(await gtls(h3.port, dl, ['/hello', '/missing'])).toBe(0);
  expect(JSON.parse(readFileSync(join(dl, 'hello'), 'utf8'))).toEqual({ hi: '3.0' });
  expect(JSON.parse(readFileSync(join(dl, 'missing'), 'utf8'))).toMatchObject({ status: 404 });
  await expect.poll(() => protocols.filter((p) => p.startsWith('3.0')).sort()).toEqual(['3.0 200', '3.0 404']);
});

it('advertises h3 on routes added before the plugin too, in any scope, over HTTP/1.1 and HTTP/2', async () => {
  app = createApp();
  app.get('/early', () => 'early'); // the natural order: routes, then the plugin
  app.group('/api', (g) => g.get('/item', () => ({ id: 1 })));
  app.register(http3, { port: 0, ...tls });
  await app.ready();
  const h3 = app.value<Http3Server>(HTTP3)!;
  const tcp = await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(tcp.address() as { port: number }).port}`;
  const want = `h3=":${h3.port}"; ma=86400`;
  for (const path of ['/early', '/api/item', '/missing']) expect((await fetch(base + path)).headers.get('alt-svc')).toBe(want);
  const { connect } = await import('node:http2');
  const session = connect(base);
  const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const req = session.request({ ':path': '/early' });
    req.once('response', resolve).once('error', reject).resume();
  });
  session.close();
  expect(headers['alt-svc']).toBe(want);
});

it("given no port and no certificate, binds UDP on the TCP port when listen() runs, with listen()'s certificate, and advertises it there", async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  app = createApp();
  app.get('/hello', (c) => ({ hi: c.req.httpVersion }));
  app.register(http3);
  expect(app.value<Http3Server>(HTTP3)).toBeUndefined(); // made when the app listens
  const hosts: Array<string | undefined> = [];
  const listen = Http3Server.prototype.listen;
  Http3Server.prototype.listen = function (this: Http3Server, o) {
    hosts.push(o?.host);
    return listen.call(this, o);
  };
  let tcp;
  try {
    tcp = await app.listen({ port: 0, host: '127.0.0.1', tls });
  } finally {
    Http3Server.prototype.listen = listen;
  }
  expect(hosts).toEqual(['127.0.0.1']); // the TCP listener's host too
  const port = (tcp.address() as { port: number }).port;
  expect(app.value<Http3Server>(HTTP3)!.port).toBe(port);
  const { connect } = await import('node:http2');
  const session = connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
  const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const req = session.request({ ':path': '/hello' });
    req.once('response', resolve).once('error', reject).resume();
  });
  session.close();
  expect(headers['alt-svc']).toBe(`h3=":${port}"; ma=86400`);
  const dl = tempDir('covet-app-h3-dl-');
  expect(await gtls(port, dl, ['/hello'])).toBe(0);
  expect(JSON.parse(readFileSync(join(dl, 'hello'), 'utf8'))).toEqual({ hi: '3.0' });
});

it('without a certificate of its own or in listen(), listen() fails saying where to give one, and frees the TCP port', async () => {
  app = createApp();
  app.get('/', () => 'ok');
  app.register(http3, { port: 0 });
  const net = await import('node:net');
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  await expect(app.listen({ port, host: '127.0.0.1' })).rejects.toThrow('http3: no certificate: give `cert` and `key` (PEM) to the plugin, or `tls: { cert, key }` to listen()');
  expect(app.value<Http3Server>(HTTP3)).toBeUndefined();
  const again = net.createServer();
  await new Promise<void>((resolve, reject) => again.once('error', reject).listen(port, '127.0.0.1', resolve));
  await new Promise((resolve) => again.close(resolve));
  // Half a certificate is refused at once, as createHttp3Server refuses it.
  expect(() => createApp().register(http3, { cert: tls.cert })).toThrow(/`key`/);
});

it('an app on a unix socket has no port for UDP: without a port of its own, listen() fails saying so and lets the socket go', async () => {
  app = createApp();
  app.get('/', () => 'ok');
  app.register(http3, { cert: tls.cert, key: tls.key });
  const path = join(dir, `app-${process.pid}.sock`);
  await expect(app.listen({ path })).rejects.toThrow('http3: the app listens on a unix socket, which has no port for UDP: give the plugin a `port`');
  expect(existsSync(path)).toBe(false);
});

it('refuses a cluster before forking it, and a UDP port it cannot bind fails listen() and frees the TCP one', async () => {
  const cluster = (await import('node:cluster')).default;
  app = createApp();
  app.get('/', () => 'ok');
  app.register(http3, tls);
  await expect(app.listen({ port: 0, workers: 2 })).rejects.toThrow('http3: served by one process (QUIC connections are not routed between cluster workers): listen with workers: 1');
  expect(Object.keys(cluster.workers ?? {})).toEqual([]); // nothing was forked
  // The UDP port of the TCP port's number is taken: listen() fails with the bind error, the TCP port is let go.
  const dgram = await import('node:dgram');
  const net = await import('node:net');
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const taken = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => taken.bind(port, '127.0.0.1', resolve));
  try {
    await app.close(0);
    app = createApp();
    app.get('/', () => 'ok');
    app.register(http3, tls);
    await expect(app.listen({ port, host: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/);
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => again.close(resolve));
  } finally {
    taken.close();
  }
});
