/**
 * Flow control (RFC 9113 §5.2, §6.9) with node:http2 as the peer, both directions past the windows
 * (#28: a server that never sent a connection-level WINDOW_UPDATE, and one that sent past the peer's
 * connection window, both passed the suite): uploads larger than our connection window complete, and
 * concurrent responses larger than the client's connection window arrive whole without a
 * FLOW_CONTROL_ERROR.
 */
import http2 from 'node:http2';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, headersFrames, pingFrame, settingsFrame, windowUpdateFrame, PREFACE, S_INITIAL_WINDOW_SIZE, T_DATA, T_PING, type Frame } from '../../lib/http2/index.js';
import { rawClient } from './raw-client.js';
import type { Server } from '../../lib/net/index.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 200 })));
});

async function start(options: Record<string, unknown>): Promise<number> {
  const server = createServer(async (req, res) => {
    if (req.path === '/count') {
      let n = 0;
      for await (const chunk of req) n += (chunk as Buffer).length;
      res.end(String(n));
      return;
    }
    res.end(Buffer.alloc(Number(new URL(req.url, 'http://x').searchParams.get('size')), 0x62));
  }, options);
  servers.push(server);
  return ((await server.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo).port;
}

function send(c: http2.ClientHttp2Session, path: string, body?: Buffer): Promise<{ status: number; length: number; text: string }> {
  return new Promise((resolve, reject) => {
    const q = c.request({ ':method': body === undefined ? 'GET' : 'POST', ':path': path });
    let status = 0;
    const parts: Buffer[] = [];
    q.on('response', (h) => void (status = Number(h[':status'])));
    q.on('data', (d: Buffer) => parts.push(d));
    q.on('end', () => {
      const all = Buffer.concat(parts);
      resolve({ status, length: all.length, text: all.length < 64 ? all.toString() : '' });
    });
    q.on('error', reject);
    q.end(body);
  });
}

describe('HTTP/2 flow control against node:http2', () => {
  it('an upload past our connection window (several windows over) completes: the connection window is credited back', async () => {
    // Our receive windows: 256 KiB per stream, 1 MiB for the connection; three 3 MiB uploads at once.
    const port = await start({ initialWindowSize: 256 * 1024, connectionWindowSize: 1024 * 1024 });
    const c = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const size = 3 * 1024 * 1024;
      const got = await Promise.all([0, 1, 2].map(() => send(c, '/count', Buffer.alloc(size, 0x61))));
      expect(got.map((g) => [g.status, g.text])).toEqual([0, 1, 2].map(() => [200, String(size)]));
    } finally {
      c.close();
    }
  });

  it('concurrent responses past the client\'s connection window arrive whole (the server waits for the connection window, not only the streams\')', async () => {
    const port = await start({});
    // Large stream windows, the connection window left at its 65,535 default: only the connection window limits.
    const c = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 8 * 1024 * 1024 } });
    let sessionError: unknown = null;
    c.on('error', (e) => (sessionError = e));
    try {
      const got = await Promise.all([0, 1, 2, 3].map(() => send(c, '/bytes?size=1048576')));
      expect(got.map((g) => [g.status, g.length])).toEqual([0, 1, 2, 3].map(() => [200, 1048576]));
      expect(sessionError).toBeNull();
    } finally {
      c.close();
    }
  });

  it('on raw frames: the server never sends more DATA than the peer\'s connection window, however large the stream windows', async () => {
    const port = await start({});
    const c = await rawClient(port);
    // Stream windows of 4 MiB; the connection window stays at 65,535 until this client credits it.
    c.write(PREFACE, settingsFrame([[S_INITIAL_WINDOW_SIZE, 4 * 1024 * 1024]]));
    const get = (id: number) => headersFrames(id, c.enc.encode([[':method', 'GET'], [':scheme', 'http'], [':path', '/bytes?size=1048576'], [':authority', 'a']]), { endStream: true });
    c.write(...get(1), ...get(3));
    const data = () => c.frames.filter((f): f is Extract<Frame, { type: typeof T_DATA }> => f.type === T_DATA).reduce((n, f) => n + f.flowLength, 0);
    // A PING answered after the requests: everything the server sent before reading it is in by then.
    await c.until(() => data() >= 65535);
    c.write(pingFrame(Buffer.from('flowctl1')));
    await c.until(() => c.frames.some((f) => f.type === T_PING && f.ack));
    expect(data()).toBe(65535);
    // Credit 100,000 more: exactly that much more comes.
    c.write(windowUpdateFrame(0, 100_000));
    await c.until(() => data() >= 165_535);
    c.write(pingFrame(Buffer.from('flowctl2')));
    await c.until(() => c.frames.filter((f) => f.type === T_PING && f.ack).length === 2);
    expect(data()).toBe(165_535);
    c.sock.destroy();
  });
});
