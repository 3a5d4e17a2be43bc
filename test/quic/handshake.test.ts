/**
 * A whole QUIC + TLS 1.3 handshake with a real client (ngtcp2's `gtlsclient`), driven by
 * handshake-driver.ts on lib/quic and lib/tls13: its ClientHello in; our ServerHello (X25519),
 * EncryptedExtensions (ALPN h3, transport parameters), Certificate (P-256, made by openssl),
 * CertificateVerify and Finished out; its Finished in and verified; HANDSHAKE_DONE — then its 1-RTT
 * packets open under the application keys, and an HTTP/3 GET on stream 0 is answered and downloaded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { encodeVarint } from '../../lib/quic/index.js';
import { needPeers, NGTCP2_CLIENT } from '../peers.js';
import { ackFrame, handshakeWith } from './handshake-driver.js';
import { controlStream, response } from './h3-bytes.js';
import { tempDir } from '../temp-dir.js';

it('completes a handshake with ngtcp2: its Finished verifies, and its 1-RTT packets open under the application keys', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const c = await handshakeWith((port) => ['--timeout=5s', '127.0.0.1', String(port), `https://127.0.0.1:${port}/`]);
  try {
    expect(c.clientFinished[0]).toBe(20);
    const { frames } = await c.next1Rtt(); // opened with the client application keys
    expect(frames.length).toBeGreaterThan(0);
  } finally {
    c.close();
  }
}, 20_000);

const streamFrame = (id: number, data: Buffer, fin: boolean) => Buffer.concat([Buffer.from([0x0a | (fin ? 1 : 0)]), encodeVarint(id), encodeVarint(data.length), data]);

it('serves one HTTP/3 GET to ngtcp2: the request on stream 0, the response downloaded byte for byte', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const dir = tempDir('covet-h3-');
  const c = await handshakeWith((port) => ['--timeout=5s', '--exit-on-all-streams-close', `--download=${dir}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/hello.txt`]);
  const exited = new Promise<number | null>((resolve) => c.client.once('exit', (code) => resolve(code)));
  try {
    // The request: stream 0's data up to its FIN (its control and QPACK streams may come along).
    const request: Buffer[] = [];
    let fin = false;
    let largest = -1;
    const take = (frames: typeof c.early) => {
      for (const f of frames) if (f.type === 'stream' && f.stream === 0) {
        request.push(f.data);
        fin ||= f.fin;
      }
    };
    take(c.early);
    while (!fin) {
      const p = await c.next1Rtt();
      largest = Math.max(largest, p.pn);
      take(p.frames);
    }
    expect(Buffer.concat(request)[0]).toBe(0x01); // a HEADERS frame
    // The answer: our control stream (id 3: type 0x00, then SETTINGS), and on stream 0 HEADERS + DATA, FIN.
    const body = Buffer.from('hello over HTTP/3, from covet\n');
    c.send1Rtt(Buffer.concat([ackFrame(Math.max(largest, 0)), streamFrame(3, controlStream(), false), streamFrame(0, response(200, body), true)]));
    expect(await exited).toBe(0);
    expect(readFileSync(join(dir, 'hello.txt'), 'utf8')).toBe(body.toString());
  } finally {
    c.close();
  }
}, 20_000);
