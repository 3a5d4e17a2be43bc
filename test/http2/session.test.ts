/**
 * The HTTP/2 server against real clients (Node's http2 client, curl, nghttp, h2load) and against raw
 * frame sequences that break RFC 9113 rules, each with the reaction the RFC requires. Attacks run on one
 * connection while a well-behaved client on another is still served.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { H2LOAD, NGHTTP, needPeers } from '../peers.js';
import {
  createServer, createHttp2Server, HpackEncoder, PREFACE, H2,
  settingsFrame, headersFrames, dataFrame, rstStreamFrame, windowUpdateFrame, rawFrame, pingFrame,
  T_HEADERS, T_SETTINGS, T_PING, T_CONTINUATION, S_INITIAL_WINDOW_SIZE,
} from '../../lib/http2/index.js';
import type { Server } from '../../lib/net/index.js';
import { rawClient } from './raw-client.js';

const exec = promisify(execFile);
const fixtures = join(import.meta.dirname, '..', 'fixtures');
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 200 })));
});

async function start(options = {}, tls = false): Promise<number> {
  const server = createServer(
    async (req, res) => {
      if (req.path === '/echo') {
        res.setHeader('content-type', 'application/octet-stream');
        for await (const chunk of req) if (!res.write(chunk)) await res.drained();
        res.addTrailers({ 'x-trailer': 'done' });
        res.end();
        return;
      }
      if (req.path === '/big') {
        res.end(Buffer.alloc(1024 * 1024, 0x61));
        return;
      }
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.method} ${req.url} ${req.httpVersion} ${req.get('x-test') ?? ''}`);
    },
    { ...options, ...(tls ? { tls: { key: readFileSync(join(fixtures, 'key.pem')), cert: readFileSync(join(fixtures, 'cert.pem')) } } : {}) },
  );
  servers.push(server);
  return ((await server.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo).port;
}

function request(c: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer) {
  return new Promise<{ status: number; body: Buffer; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
    const q = c.request(headers);
    let status = 0;
    let trailers: http2.IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    q.on('response', (h) => void (status = Number(h[':status'])));
    q.on('trailers', (t) => void (trailers = t));
    q.on('data', (d: Buffer) => parts.push(d));
    q.on('end', () => resolve({ status, body: Buffer.concat(parts), trailers }));
    q.on('error', reject);
    q.end(body);
  });
}


describe('a graceful close on the shared port', () => {
  it('a connection that has said nothing yet when the close begins is served, in either protocol, then closed', async () => {
    for (const proto of ['http/1.1', 'h2'] as const) {
      const port = await start();
      const server = servers[servers.length - 1]!;
      const sock = net.connect(port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      await expect.poll(() => server.connections.size).toBe(1);
      const closing = server.close({ graceMs: 5000 });
      if (proto === 'http/1.1') {
        let text = '';
        sock.on('data', (d: Buffer) => void (text += d.toString('latin1')));
        sock.write('GET /fresh HTTP/1.1\r\nHost: a\r\n\r\n');
        await new Promise((r) => sock.once('close', r));
        expect([text.split('\r\n')[0], /\r\nconnection: close\r\n/i.test(text), text.endsWith('GET /fresh 1.1 ')], proto).toEqual(['HTTP/1.1 200 OK', true, true]);
      } else {
        const c = http2.connect(`http://127.0.0.1:${port}`, { createConnection: () => sock });
        const r = await request(c, { ':path': '/fresh' });
        expect([r.status, r.body.toString()], proto).toEqual([200, 'GET /fresh 2.0 ']);
        c.close();
      }
      await closing;
      expect(server.connections.size).toBe(0);
    }
  });
});

describe('HTTP/2 with real clients', () => {
  it('node:http2: 200 concurrent streams on one connection', async () => {
    const port = await start();
    const c = http2.connect(`http://127.0.0.1:${port}`);
    const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => request(c, { ':path': `/s/${i}`, 'x-test': String(i) })));
    rs.forEach((r, i) => expect([r.status, r.body.toString()]).toEqual([200, `GET /s/${i} 2.0 ${i}`]));
    c.close();
  });

  it('node:http2: large bodies both ways with trailers, and a client with a small window', async () => {
    const port = await start();
    const c = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1024 } });
    const payload = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
    const r = await request(c, { ':path': '/echo', ':method': 'POST' }, payload);
    expect(r.body.equals(payload)).toBe(true);
    expect(r.trailers['x-trailer']).toBe('done');
    const big = await request(c, { ':path': '/big' });
    expect(big.body.length).toBe(1024 * 1024);
    c.close();
  });

  it('res.destroy() after the head resets that stream with INTERNAL_ERROR; the connection serves on', async () => {
    const errors: string[] = [];
    const server = createServer(
      (req, res) => {
        if (req.path !== '/broken') return res.end('fine');
        res.write('partial');
        setTimeout(() => res.destroy(new Error('source broke')), 10);
      },
      { onError: (e: Error) => void errors.push(e.message) },
    );
    servers.push(server);
    const port = ((await server.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo).port;
    const c = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const q = c.request({ ':path': '/broken' });
      q.resume();
      const failed = new Promise<Error>((resolve) => q.on('error', resolve));
      await new Promise((resolve) => q.on('close', resolve));
      expect((await failed).message).toContain('INTERNAL_ERROR');
      expect(q.rstCode).toBe(H2.INTERNAL_ERROR);
      expect((await request(c, { ':path': '/next' })).body.toString()).toBe('fine');
      expect(errors).toEqual(['source broke']);
    } finally {
      c.close();
    }
  });

  it('curl --http2-prior-knowledge, curl over TLS (ALPN h2), and HTTP/1.1 on the same ports', async () => {
    const port = await start();
    expect((await exec('curl', ['-s', '--http2-prior-knowledge', `http://127.0.0.1:${port}/x`])).stdout).toBe('GET /x 2.0 ');
    expect((await exec('curl', ['-s', `http://127.0.0.1:${port}/y`])).stdout).toBe('GET /y 1.1 ');
    const tlsPort = await start({}, true);
    expect((await exec('curl', ['-sk', '--http2', `https://127.0.0.1:${tlsPort}/z`])).stdout).toBe('GET /z 2.0 ');
    expect((await exec('curl', ['-sk', '--http1.1', `https://127.0.0.1:${tlsPort}/w`])).stdout).toBe('GET /w 1.1 ');
  });

  it('curl --http2 on cleartext switches with Upgrade: h2c and gets the answer over HTTP/2', async () => {
    const port = await start();
    const r = await exec('curl', ['-sv', '--http2', '-d', 'body-before-upgrade', `http://127.0.0.1:${port}/up`]);
    expect(r.stderr).toContain('HTTP/1.1 101 Switching Protocols');
    expect(r.stderr).toMatch(/< HTTP\/2 200/);
    expect(r.stdout).toBe('POST /up 1.1 ');
  });

  it('nghttp and h2load get every response', async (ctx) => {
    needPeers(ctx, NGHTTP, H2LOAD);
    const port = await start();
    const n = await exec('nghttp', ['-n', '-s', `http://127.0.0.1:${port}/a`, `http://127.0.0.1:${port}/b`]);
    expect(n.stdout).toMatch(/200/);
    const h = await exec('h2load', ['-n', '2000', '-c', '4', '-m', '16', `http://127.0.0.1:${port}/`]);
    expect(h.stdout).toMatch(/2000 succeeded, 0 failed, 0 errored/);
  });
});

/** A raw HTTP/2 client: writes frames, collects the server's frames. */
/** A well-behaved client on another connection still gets an answer. */
async function othersServed(port: number): Promise<void> {
  const good = http2.connect(`http://127.0.0.1:${port}`);
  expect((await request(good, { ':path': '/still-here' })).status).toBe(200);
  good.close();
}

describe('RFC 9113 conformance on raw frames', () => {
  it('§3.4 sends SETTINGS first, ACKs ours, answers PING', async () => {
    const c = await rawClient(await start());
    c.open();
    c.write(pingFrame(Buffer.from('12345678')));
    await c.until(() => c.frames.some((f) => f.type === T_PING));
    expect(c.frames[0]!.type).toBe(T_SETTINGS);
    expect(c.frames.some((f) => f.type === T_SETTINGS && f.ack)).toBe(true);
    expect(c.frames.find((f) => f.type === T_PING)).toMatchObject({ ack: true });
    c.sock.destroy();
  });

  it('§3.4 invalid preface → PROTOCOL_ERROR (h2-only server; the shared port would take it for HTTP/1.1)', async () => {
    const server = createHttp2Server((_req, res) => res.end());
    servers.push(server);
    const c = await rawClient(((await server.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo).port);
    c.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'));
    expect(await c.goaway()).toBe(H2.PROTOCOL_ERROR);
  });

  const connCases: Array<[string, (c: Awaited<ReturnType<typeof rawClient>>) => void, number]> = [
    ['§3.4 first frame not SETTINGS → PROTOCOL_ERROR', (c) => c.write(PREFACE, pingFrame(Buffer.alloc(8))), H2.PROTOCOL_ERROR],
    ['§5.1.1 even stream id → PROTOCOL_ERROR', (c) => (c.open(), c.write(...c.req(2))), H2.PROTOCOL_ERROR],
    ['§5.1.1 stream id going backwards → STREAM_CLOSED', (c) => (c.open(), c.write(...c.req(5), ...c.req(3))), H2.STREAM_CLOSED],
    ['§5.1 DATA on an idle stream → PROTOCOL_ERROR', (c) => (c.open(), c.write(dataFrame(7, Buffer.from('x')))), H2.PROTOCOL_ERROR],
    ['§5.1 RST_STREAM on an idle stream → PROTOCOL_ERROR', (c) => (c.open(), c.write(rstStreamFrame(9, 0))), H2.PROTOCOL_ERROR],
    ['§6.9.1 connection window overflow → FLOW_CONTROL_ERROR', (c) => (c.open(), c.write(windowUpdateFrame(0, 0x7fffffff))), H2.FLOW_CONTROL_ERROR],
    ['§6.5.2 bad SETTINGS_INITIAL_WINDOW_SIZE → FLOW_CONTROL_ERROR', (c) => c.write(PREFACE, settingsFrame([[S_INITIAL_WINDOW_SIZE, 2 ** 31]])), H2.FLOW_CONTROL_ERROR],
    ['§4.3 undecodable header block → COMPRESSION_ERROR', (c) => (c.open(), c.write(...headersFrames(1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])))), H2.COMPRESSION_ERROR],
    ['§6.10 CONTINUATION flood → ENHANCE_YOUR_CALM', (c) => (c.open(), c.write(rawFrame(T_HEADERS, 0, 1, Buffer.from([0x82])), ...Array.from({ length: 50 }, () => rawFrame(T_CONTINUATION, 0, 1, Buffer.from([0x84]))))), H2.ENHANCE_YOUR_CALM],
    ['§8.4 PUSH_PROMISE from a client → PROTOCOL_ERROR', (c) => (c.open(), c.write(rawFrame(0x5, 4, 1, Buffer.from([0, 0, 0, 2, 0x82])))), H2.PROTOCOL_ERROR],
  ];
  for (const [name, act, code] of connCases) {
    it(name, async () => {
      const port = await start();
      const c = await rawClient(port);
      act(c);
      expect(await c.goaway()).toBe(code);
      await othersServed(port);
    });
  }

  const streamCases: Array<[string, Array<[string, string]>, number]> = [
    ['§8.3 uppercase field name', [['X-Upper', '1']], H2.PROTOCOL_ERROR],
    ['§8.2.2 connection-specific field', [['connection', 'keep-alive']], H2.PROTOCOL_ERROR],
    ['§8.2.2 te other than trailers', [['te', 'gzip']], H2.PROTOCOL_ERROR],
    ['§8.3 pseudo-header after a regular field', [['x-a', 'b'], [':path', '/again']], H2.PROTOCOL_ERROR],
    ['§8.3 unknown pseudo-header', [[':foo', 'x']], H2.PROTOCOL_ERROR],
  ];
  for (const [name, extra, code] of streamCases) {
    it(`${name} → RST_STREAM ${code}, connection stays`, async () => {
      const c = await rawClient(await start());
      c.open();
      c.write(...c.req(1, extra));
      expect(await c.rst(1)).toBe(code);
      c.write(...c.req(3));
      await c.until(() => c.frames.some((f) => f.type === T_HEADERS && f.streamId === 3));
      c.sock.destroy();
    });
  }

  // A malformed request is reset and never reaches the handler (a client may safely retry it).
  const malformed: Array<[string, Array<[string, string]>]> = [
    ['§8.3 :path repeated', [[':method', 'DELETE'], [':scheme', 'http'], [':path', '/notes/1'], [':path', '/notes/2'], [':authority', 'a']]],
    ['§8.3 :method repeated', [[':method', 'GET'], [':method', 'DELETE'], [':scheme', 'http'], [':path', '/x'], [':authority', 'a']]],
    ['§8.3 :scheme repeated', [[':method', 'GET'], [':scheme', 'http'], [':scheme', 'https'], [':path', '/x'], [':authority', 'a']]],
    ['§8.3 :authority repeated', [[':method', 'GET'], [':scheme', 'http'], [':path', '/x'], [':authority', 'a'], [':authority', 'b']]],
    ['§8.3 :path repeated after an empty one', [[':method', 'GET'], [':scheme', 'http'], [':path', ''], [':path', '/x'], [':authority', 'a']]],
    ['§8.2.1 CR/LF in a value', [[':method', 'GET'], [':scheme', 'http'], [':path', '/x'], [':authority', 'a'], ['x-inject', 'a\r\nx-admin: 1']]],
    ['§8.2.1 NUL in a value', [[':method', 'GET'], [':scheme', 'http'], [':path', '/x'], [':authority', 'a'], ['x-a', 'a\0b']]],
    ['§8.3.1 :path * with GET (only OPTIONS)', [[':method', 'GET'], [':scheme', 'http'], [':path', '*'], [':authority', 'a']]],
    ['§8.3.1 :path not starting with /', [[':method', 'GET'], [':scheme', 'http'], [':path', 'x/y'], [':authority', 'a']]],
    ['§8.2.1 a space in a name', [[':method', 'GET'], [':scheme', 'http'], [':path', '/x'], [':authority', 'a'], ['x a', 'b']]],
  ];
  for (const [name, fields] of malformed) {
    it(`${name} → RST_STREAM PROTOCOL_ERROR, the handler never runs, the connection stays`, async () => {
      const seen: string[] = [];
      const server = createServer((req, res) => {
        seen.push(`${req.method} ${req.path}`);
        res.end('ok');
      });
      servers.push(server);
      const c = await rawClient(((await server.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo).port);
      c.open();
      c.write(...headersFrames(1, c.enc.encode(fields), { endStream: true }));
      expect(await c.rst(1)).toBe(H2.PROTOCOL_ERROR);
      c.write(...c.req(3));
      await c.until(() => c.frames.some((f) => f.type === T_HEADERS && f.streamId === 3));
      expect(c.frames.some((f) => f.type === T_HEADERS && f.streamId === 1)).toBe(false);
      expect(seen).toEqual(['GET /']);
      c.sock.destroy();
    });
  }

  it('§8.2.1 an invalid field indexed into the dynamic table is refused again when referenced by index', async () => {
    const c = await rawClient(await start());
    c.open();
    const bad: Array<[string, string]> = [['x-evil', 'a\nb']];
    const first = c.req(1, bad);
    c.write(...first);
    expect(await c.rst(1)).toBe(H2.PROTOCOL_ERROR);
    const second = c.req(3, bad); // the encoder now sends x-evil as an index into the dynamic table
    expect(second[0]!.length).toBeLessThan(first[0]!.length);
    c.write(...second);
    expect(await c.rst(3)).toBe(H2.PROTOCOL_ERROR);
    c.write(...c.req(5));
    await c.until(() => c.frames.some((f) => f.type === T_HEADERS && f.streamId === 5));
    c.sock.destroy();
  });

  it('§5.1.2 streams beyond SETTINGS_MAX_CONCURRENT_STREAMS are refused', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server = createHttp2Server(async (_req, res) => {
      await gate;
      res.end('ok');
    }, { maxConcurrentStreams: 2 });
    servers.push(server);
    const port = ((await server.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo).port;
    const c = await rawClient(port);
    c.open();
    c.write(...c.req(1), ...c.req(3), ...c.req(5));
    expect(await c.rst(5)).toBe(H2.REFUSED_STREAM);
    release();
    await c.until(() => c.frames.filter((f) => f.type === T_HEADERS).length === 2); // the first two are served
    c.sock.destroy();
  });

  it('§6.9 DATA beyond the stream window → FLOW_CONTROL_ERROR on that stream', async () => {
    const c = await rawClient(await start({ initialWindowSize: 100, connectionWindowSize: 65535 }));
    c.open();
    c.write(...c.req(1, [], false), dataFrame(1, Buffer.alloc(101)));
    expect(await c.rst(1)).toBe(H2.FLOW_CONTROL_ERROR);
    c.sock.destroy();
  });

  it('rapid reset (CVE-2023-44487) ends in GOAWAY ENHANCE_YOUR_CALM while another client is served', async () => {
    const port = await start({ resetBurst: 50, resetRate: 10 });
    const good = http2.connect(`http://127.0.0.1:${port}`);
    const c = await rawClient(port);
    c.open();
    const frames: Buffer[] = [];
    for (let id = 1; id < 400; id += 2) frames.push(...c.req(id, [], false), rstStreamFrame(id, H2.CANCEL));
    c.write(...frames);
    expect(await c.goaway()).toBe(H2.ENHANCE_YOUR_CALM);
    expect((await request(good, { ':path': '/ok' })).status).toBe(200);
    good.close();
  });

  it('§6.5.3 a client that never acknowledges our SETTINGS gets SETTINGS_TIMEOUT', async () => {
    const { TimeoutSweeper } = await import('../../lib/net/index.js');
    const port = await start({ sweeper: new TimeoutSweeper(20), settingsTimeout: 150 });
    const c = await rawClient(port);
    c.write(PREFACE, settingsFrame([])); // our SETTINGS are never ACKed
    expect(await c.goaway()).toBe(H2.SETTINGS_TIMEOUT);
  });

  const floods: Array<[string, (c: Awaited<ReturnType<typeof rawClient>>) => Buffer[]]> = [
    ['PING', () => Array.from({ length: 300 }, () => pingFrame(Buffer.alloc(8)))],
    ['SETTINGS', () => Array.from({ length: 300 }, () => settingsFrame([]))],
    ['empty DATA', (c) => [...c.req(1, [], false), ...Array.from({ length: 300 }, () => dataFrame(1, Buffer.alloc(0)))]],
    ['WINDOW_UPDATE on closed streams', (c) => [...c.req(1)].concat(Array.from({ length: 300 }, () => windowUpdateFrame(1, 1)))],
  ];
  for (const [name, frames] of floods) {
    it(`a ${name} flood ends in GOAWAY ENHANCE_YOUR_CALM while another client is served`, async () => {
      const port = await start({ glitchBurst: 100, glitchRate: 10 });
      const good = http2.connect(`http://127.0.0.1:${port}`);
      const c = await rawClient(port);
      c.open();
      c.write(...frames(c));
      expect(await c.goaway()).toBe(H2.ENHANCE_YOUR_CALM);
      expect((await request(good, { ':path': '/ok' })).status).toBe(200);
      good.close();
    });
  }

  it('an HPACK bomb is stopped at the header list limit', async () => {
    const port = await start({ maxHeaderListSize: 16 * 1024 });
    const c = await rawClient(port);
    c.open();
    const enc = new HpackEncoder();
    const first = enc.encode([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'a'], ['x-bomb', 'y'.repeat(1500)]]);
    c.write(...headersFrames(1, first));
    await c.until(() => c.frames.some((f) => f.type === T_HEADERS && f.streamId === 1));
    // :method GET, :scheme http, :path /, :authority (dynamic 63), then x-bomb (dynamic 62) a hundred times.
    c.write(...headersFrames(3, Buffer.concat([Buffer.from([0x82, 0x86, 0x84, 0xbf]), Buffer.alloc(100, 0xbe)])));
    expect(await c.goaway()).toBe(H2.ENHANCE_YOUR_CALM);
    await othersServed(port);
  });

  it('a response stalled on a window that never opens is reset with CANCEL after sendTimeout; the connection serves on', async () => {
    const port = await start({ sendTimeout: 300 });
    const c = await rawClient(port);
    c.write(PREFACE, settingsFrame([[S_INITIAL_WINDOW_SIZE, 0]]));
    c.write(...c.req(1, [['x-p', '/big']]));
    await c.until(() => c.frames.some((f) => f.type === T_HEADERS && f.streamId === 1));
    expect(await c.rst(1)).toBe(H2.CANCEL);
    // The stream's place is free and the connection answers: a PING, and a request with a body-less answer.
    c.write(pingFrame(Buffer.alloc(8)));
    await c.until(() => c.frames.some((f) => f.type === T_PING && f.ack));
    c.write(...c.req(3));
    await c.until(() => c.frames.some((f) => f.type === T_HEADERS && f.streamId === 3));
    c.sock.destroy();
  });

  it('a peer that never opens its window: output waits, memory stays bounded, the connection stays usable', async () => {
    const port = await start();
    const c = await rawClient(port);
    c.write(PREFACE, settingsFrame([[S_INITIAL_WINDOW_SIZE, 0]]));
    c.write(...c.req(1, [['x-p', '/big']]));
    // The body of 1 MiB cannot go out (window 0): only the HEADERS arrive.
    await c.until(() => c.frames.some((f) => f.type === T_HEADERS && f.streamId === 1));
    await new Promise((r) => setTimeout(r, 100));
    expect(c.frames.filter((f) => f.type === 0x0)).toEqual([]);
    c.write(pingFrame(Buffer.alloc(8)));
    await c.until(() => c.frames.some((f) => f.type === T_PING && f.ack));
    await othersServed(port);
    c.sock.destroy();
  });

  it('graceful shutdown sends GOAWAY NO_ERROR and lets open streams finish', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server = createHttp2Server(async (_req, res) => {
      await gate;
      res.end('finished');
    });
    const port = ((await server.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo).port;
    const c = http2.connect(`http://127.0.0.1:${port}`);
    const pending = request(c, { ':path': '/slow' });
    await new Promise((r) => setTimeout(r, 50));
    const goaways: number[][] = [];
    c.on('goaway', (code: number, last: number) => void goaways.push([code, last]));
    const closing = server.close({ graceMs: 5000 });
    // Two phases: first the largest stream id, then (after the PING round trip) the real last one.
    while (goaways.length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(goaways).toEqual([[H2.NO_ERROR, 2 ** 31 - 1], [H2.NO_ERROR, 1]]);
    release();
    expect((await pending).body.toString()).toBe('finished');
    await closing;
  });
});
