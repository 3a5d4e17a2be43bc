/**
 * What an idle keep-alive connection keeps: nothing of the last request. A parser between messages
 * holds neither the bytes it was given (its latin1 window) nor the fields it handed out.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Connection, Http1Parser, type Http1Handler, type Http1ServerOptions, type MessageHead } from '../../lib/http1/index.js';
import { Server } from '../../lib/net/index.js';
import { waitFor } from '../helpers/wait-for.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

it('after a message, the parser keeps neither the read it came in nor its fields (whole head and byte by byte)', async () => {
  for (const split of [false, true]) {
    let fields: WeakRef<string[]> | null = null;
    const parser = new Http1Parser('request', {
      onHeadersComplete(head: MessageHead) {
        fields = new WeakRef(head.headers);
      },
      onBody() {},
      onMessageComplete() {},
    });
    // Its own allocation (not a slice of Buffer's shared pool), so it can be collected on its own.
    let bytes: Buffer | null = Buffer.alloc(64, ' ');
    const n = bytes.write('GET / HTTP/1.1\r\nHost: a\r\nX-Long: ' + 'v'.repeat(20) + '\r\n\r\n', 'latin1');
    bytes = bytes.subarray(0, n);
    const read = new WeakRef(bytes);
    if (split) for (let i = 0; i < n; i++) parser.execute(bytes.subarray(i, i + 1));
    else parser.execute(bytes);
    bytes = null;
    expect(fields).not.toBeNull();
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect([split, read.deref(), fields!.deref()]).toEqual([split, undefined, undefined]);
    expect(parser.idle).toBe(true);
  }
});

describe('an idle keep-alive connection holds no parser: it goes to the server’s spares between requests', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
  });

  /** A server whose Http1Connections are listed, sharing one options object (so one set of spares). */
  async function start(handler: Http1Handler): Promise<{ port: number; h1s: Http1Connection[] }> {
    const options: Http1ServerOptions = {};
    const h1s: Http1Connection[] = [];
    const server = new Server({ ...options, onConnection: (conn) => (h1s[h1s.length] = new Http1Connection(conn, handler, options)) });
    servers.push(server);
    const addr = (await server.listen({ port: 0, host: '127.0.0.1' })) as net.AddressInfo;
    return { port: addr.port, h1s };
  }

  async function get(sock: net.Socket, path: string): Promise<string> {
    sock.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
    const [d] = (await once(sock, 'data')) as [Buffer];
    return d.toString('latin1');
  }

  async function connect(port: number): Promise<net.Socket> {
    const s = net.connect(port, '127.0.0.1');
    await once(s, 'connect');
    return s;
  }

  it('the next connection’s request is read by the parser the idle one gave back; answers intact', async () => {
    const used: Http1Parser[] = [];
    let h1s!: Http1Connection[];
    const s = await start((req, res) => {
      used.push(h1s[h1s.length - 1]!.parser);
      res.end(`hi ${req.url}`);
    });
    h1s = s.h1s;
    const a = await connect(s.port);
    expect(await get(a, '/a')).toMatch(/hi \/a$/);
    const b = await connect(s.port); // `a` stays open, idle
    expect(await get(b, '/b')).toMatch(/hi \/b$/);
    expect(used[1]).toBe(used[0]);
    // And back on `a`: it takes a parser again (the spare `b` left, or a new one) and reads its next request.
    expect(await get(a, '/a2')).toMatch(/hi \/a2$/);
    a.destroy();
    b.destroy();
  });

  it('a parser in the middle of a head is not given away when its connection closes', async () => {
    const used: Http1Parser[] = [];
    let h1s!: Http1Connection[];
    const s = await start((_req, res) => {
      used.push(h1s[h1s.length - 1]!.parser);
      res.end('ok');
    });
    h1s = s.h1s;
    const a = await connect(s.port);
    a.write('GET /half HTTP/1.1\r\nHo');
    await waitFor(() => h1s.length === 1 && !h1s[0]!.parser.idle);
    const half = h1s[0]!.parser;
    a.resetAndDestroy(); // no FIN: the parser is not asked to finish (which would fail it), it is cut off
    await waitFor(() => h1s[0]!.conn.closed);
    const b = await connect(s.port);
    expect(await get(b, '/b')).toMatch(/ok$/);
    expect(used[0]).not.toBe(half);
    b.destroy();
  });

  it('a spare parser keeps no connection alive', async () => {
    let h1s!: Http1Connection[];
    const s = await start((_req, res) => void res.end('ok'));
    h1s = s.h1s;
    const a = await connect(s.port);
    await get(a, '/');
    const closed = once(a, 'close');
    a.end();
    await closed;
    await waitFor(() => h1s[0]!.conn.closed);
    const gone = new WeakRef(h1s[0]!);
    h1s.length = 0;
    await new Promise((r) => setTimeout(r, 10));
    gc();
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect(gone.deref()).toBeUndefined();
  });
});
