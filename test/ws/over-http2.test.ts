/**
 * WebSocket over HTTP/2 (RFC 8441): Node's http2 client opens extended CONNECT streams to our server;
 * the stream carries WebSocket frames (masked by the client, as RFC 8441 §5 keeps RFC 6455 framing).
 */
import http2 from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../../lib/http2/index.js';
import { webSocketOverHttp2, frameBytes, FrameParser, OP_TEXT, OP_BINARY, OP_CLOSE, type WsServerOptions } from '../../lib/ws/index.js';
import type { Server } from '../../lib/net/index.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

async function start(extra: Partial<WsServerOptions> = {}): Promise<number> {
  const server = createServer((_req, res) => res.end('plain http'), {
    onConnect: webSocketOverHttp2({
      ...extra,
      onConnection: (ws) => ws.on('message', (d, isBinary) => ws.send(isBinary ? d : `echo:${d}`, { binary: isBinary })),
    } as WsServerOptions),
  });
  servers.push(server);
  return ((await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo).port;
}

async function open(port: number, headers: http2.OutgoingHttpHeaders = {}) {
  const c = http2.connect(`http://127.0.0.1:${port}`);
  await once(c, 'remoteSettings');
  const st = c.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/chat', ':scheme': 'http', ':authority': 'localhost', 'sec-websocket-version': '13', ...headers });
  const [h] = (await once(st, 'response')) as [http2.IncomingHttpHeaders];
  const frames: Array<[number, Buffer]> = [];
  const p = new FrameParser({ role: 'client', maxFrameSize: 1 << 24 }, { onFrame: (_fin, _rsv1, op, payload) => void frames.push([op, Buffer.from(payload)]) });
  st.on('data', (d: Buffer) => p.push(Buffer.from(d)));
  const until = async (n: number) => {
    for (let i = 0; i < 300 && frames.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };
  return { c, st, status: Number(h[':status']), headers: h, frames, until };
}

describe('WebSocket over HTTP/2 (RFC 8441)', () => {
  it('advertises SETTINGS_ENABLE_CONNECT_PROTOCOL and echoes text and binary over a CONNECT stream', async () => {
    const port = await start();
    const w = await open(port);
    expect(w.c.remoteSettings.enableConnectProtocol).toBe(true);
    expect(w.status).toBe(200);
    w.st.write(frameBytes(OP_TEXT, Buffer.from('hello over h2'), { mask: true }));
    const big = Buffer.alloc(200_000, 7);
    w.st.write(frameBytes(OP_BINARY, big, { mask: true }));
    await w.until(2);
    expect(w.frames[0]).toEqual([OP_TEXT, Buffer.from('echo:hello over h2')]);
    expect(w.frames[1]![0]).toBe(OP_BINARY);
    expect(w.frames[1]![1].equals(big)).toBe(true);
    // Closing handshake: our close frame is echoed and the stream ends.
    const ended = once(w.st, 'end');
    w.st.write(frameBytes(OP_CLOSE, Buffer.from([0x03, 0xe8]), { mask: true }));
    await ended;
    expect(w.frames[2]).toEqual([OP_CLOSE, Buffer.from([0x03, 0xe8])]);
    w.c.close();
  });

  it('serves plain requests and several WebSocket streams on one connection', async () => {
    const port = await start();
    const c = http2.connect(`http://127.0.0.1:${port}`);
    const plain = c.request({ ':path': '/' });
    let body = '';
    plain.on('data', (d: Buffer) => void (body += d));
    await once(plain, 'end');
    expect(body).toBe('plain http');
    c.close();
    const a = await open(port);
    const b = await open(port);
    a.st.write(frameBytes(OP_TEXT, Buffer.from('a'), { mask: true }));
    b.st.write(frameBytes(OP_TEXT, Buffer.from('b'), { mask: true }));
    await a.until(1);
    await b.until(1);
    expect([String(a.frames[0]![1]), String(b.frames[0]![1])]).toEqual(['echo:a', 'echo:b']);
    a.c.close();
    b.c.close();
  });

  it('refuses with the verify hook status, and a wrong version with 426', async () => {
    const port = await start({ verify: (req) => (req.get('origin') === 'https://evil.example' ? { status: 403 } : true) });
    expect((await open(port, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await open(port, { 'sec-websocket-version': '8' })).status).toBe(426);
  });

  it('answers 501 to another :protocol', async () => {
    const port = await start();
    expect((await open(port, { ':protocol': 'something-else' })).status).toBe(501);
  });
});
