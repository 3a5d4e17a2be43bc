/**
 * TLS 1.3's three cipher suites over QUIC (RFC 8446 §B.4, RFC 9001 §5): the client's first choice among
 * those served, the key schedule on the suite's hash (SHA-384 for AES-256-GCM, HelloRetryRequest and key
 * update included), packets under its AEAD — in process, and with ngtcp2's client (GnuTLS) downloading a
 * response byte for byte under each suite while it updates its keys.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { QuicServer, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, type CipherSuite, type ServerConnection } from '../../lib/quic/index.js';
import { chooseCipherSuite, TlsAlert } from '../../lib/tls13/index.js';
import { needPeers, NGTCP2_CLIENT } from '../peers.js';
import { response } from './h3-bytes.js';
import { TestClient, testCertificate } from './test-client.js';
import { tempDir } from '../temp-dir.js';

describe('choosing the suite', () => {
  it("takes the client's first choice among those served, and refuses when none is shared", () => {
    expect(chooseCipherSuite([0x1303, 0x1301])).toBe(TLS_CHACHA20_POLY1305_SHA256);
    expect(chooseCipherSuite([0x1302, 0x1301])).toBe(TLS_AES_256_GCM_SHA384);
    expect(chooseCipherSuite([0x1304, 0x1301])).toBe(TLS_AES_128_GCM_SHA256); // TLS_AES_128_CCM_SHA256: not served
    expect(chooseCipherSuite([0x1301, 0x1302], [TLS_AES_256_GCM_SHA384])).toBe(TLS_AES_256_GCM_SHA384);
    try {
      chooseCipherSuite([0x1301], [TLS_CHACHA20_POLY1305_SHA256]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TlsAlert);
      expect((err as TlsAlert).alert).toBe(40); // handshake_failure
      expect((err as Error).message).toBe('the client offers no cipher suite we serve (TLS_CHACHA20_POLY1305_SHA256)');
    }
  });
});

describe('in process', () => {
  for (const suite of [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256]) {
    it(`completes a handshake and speaks 1-RTT under ${suite.name}`, () => {
      const c = new TestClient({ suites: [suite.id, 0x1301] });
      expect(c.conn.cipherSuite).toBe(suite);
      expect(c.suite).toBe(suite);
      expect(c.conn.state).toBe('established');
      expect(c.frames.some((f) => f.type === 'handshake_done')).toBe(true); // read under the suite's 1-RTT keys
    });
  }

  it('keeps the suite across a HelloRetryRequest (its message_hash on SHA-384)', () => {
    // A P-384-sized share we do not take, X25519 among the groups: the server asks again for X25519.
    const c = new TestClient({ suites: [0x1302], shares: [0x0018], groups: [0x0018, 0x001d] });
    expect([c.retried, c.conn.helloRetried, c.conn.cipherSuite]).toEqual([0x001d, true, TLS_AES_256_GCM_SHA384]);
    expect(c.conn.state).toBe('established');
  });

  /** The connection a TestClient's refused handshake left, closed. */
  function refused(o: ConstructorParameters<typeof TestClient>[0]): ServerConnection {
    try {
      new TestClient(o);
    } catch (err) {
      return (err as { conn: ServerConnection }).conn;
    }
    throw new Error('the handshake completed');
  }

  it('refuses a second ClientHello that no longer offers the suite of the HelloRetryRequest (illegal_parameter)', () => {
    const conn = refused({ suites: [0x1302, 0x1301], secondSuites: [0x1301], shares: [0x0018], groups: [0x0018, 0x001d] });
    expect(conn.closeReason?.code).toBe(0x100 + 47);
    expect(conn.closeReason?.message).toBe('the second ClientHello does not offer TLS_AES_256_GCM_SHA384, the suite of the HelloRetryRequest (§4.1.4)');
  });

  it('serves only the suites it is given', () => {
    const c = new TestClient({ suites: [0x1301, 0x1303], server: { cipherSuites: [TLS_CHACHA20_POLY1305_SHA256] } });
    expect(c.conn.cipherSuite).toBe(TLS_CHACHA20_POLY1305_SHA256);
    expect(refused({ suites: [0x1301], server: { cipherSuites: [TLS_AES_256_GCM_SHA384] } }).closeReason?.code).toBe(0x100 + 40);
  });
});

describe('with ngtcp2 (GnuTLS)', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f();
  });

  async function download(ciphers: string, served?: CipherSuite[]) {
    const body = Buffer.alloc(1 << 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const opened: ServerConnection[] = [];
    const server = new QuicServer({
      ...testCertificate(),
      alpn: ['h3'],
      ...(served === undefined ? {} : { cipherSuites: served }),
      onConnection: (c) => {
        opened.push(c);
        c.onStream = (s) => {
          if (s.id === 0) s.onEnd = () => s.end(response(200, body));
        };
      },
    });
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    const dl = tempDir('covet-quic-suite-');
    const client = spawn('gtlsclient', ['--timeout=10s', '--exit-on-all-streams-close', '--key-update=10ms', `--ciphers=${ciphers}`, `--download=${dl}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/s.bin`], { stdio: 'ignore' });
    cleanup.push(() => client.kill('SIGKILL'));
    const code = await new Promise<number | null>((resolve) => client.once('exit', resolve));
    let got: Buffer | null = null;
    try {
      got = readFileSync(join(dl, 's.bin'));
    } catch {
      /* nothing downloaded */
    }
    return { code, ok: got !== null && got.equals(body), conn: opened[0] };
  }

  const only = (c: string) => `NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:${c}`;
  const cases: Array<[string, string, CipherSuite]> = [
    ['AES-256-GCM', only('+AES-256-GCM'), TLS_AES_256_GCM_SHA384],
    ['ChaCha20-Poly1305', only('+CHACHA20-POLY1305'), TLS_CHACHA20_POLY1305_SHA256],
    ['ChaCha20-Poly1305 first, AES-128-GCM too', only('+CHACHA20-POLY1305:+AES-128-GCM'), TLS_CHACHA20_POLY1305_SHA256],
  ];
  for (const [name, ciphers, suite] of cases) it(`downloads 1 MiB byte for byte under ${name}, updating its keys`, async (ctx) => {
    needPeers(ctx, NGTCP2_CLIENT);
    const r = await download(ciphers);
    expect([r.code, r.ok, r.conn?.cipherSuite.name]).toEqual([0, true, suite.name]);
    expect(r.conn!.keyUpdates).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it("takes the one suite it serves from the client's list, and refuses a client without it (handshake_failure)", async (ctx) => {
    needPeers(ctx, NGTCP2_CLIENT);
    const r = await download(only('+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305'), [TLS_AES_256_GCM_SHA384]);
    expect([r.code, r.ok, r.conn?.cipherSuite.name]).toEqual([0, true, 'TLS_AES_256_GCM_SHA384']);
    const refused = await download(only('+AES-128-GCM'), [TLS_CHACHA20_POLY1305_SHA256]);
    // gtlsclient exits 0 on a connection the server closed; nothing was downloaded.
    expect(refused.ok).toBe(false);
    expect(refused.conn?.closeReason?.code).toBe(0x100 + 40);
    expect(refused.conn?.closeReason?.message).toBe('the client offers no cipher suite we serve (TLS_CHACHA20_POLY1305_SHA256)');
  }, 30_000);
});
