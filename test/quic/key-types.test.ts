/**
 * Certificates of every key type we sign with (RFC 8446 §4.2.3, §4.4.3): ngtcp2's client (GnuTLS, which
 * verifies the CertificateVerify signature) completes a handshake and a download with an RSA (PSS), an
 * ECDSA P-384 and an Ed25519 certificate; a key the client's signature_algorithms leave out is refused
 * with handshake_failure.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QuicServer } from '../../lib/quic/index.js';
import { certificateVerify, pemCertificates, signatureScheme, TlsAlert } from '../../lib/tls13/index.js';
import { needPeers, NGTCP2_CLIENT } from '../peers.js';
import { response } from './h3-bytes.js';
import { tempDir } from '../temp-dir.js';

function certificate(newkey: string[]) {
  const dir = tempDir('covet-quic-key-');
  execFileSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  return { privateKey: createPrivateKey(readFileSync(join(dir, 'key.pem'))), certificateChain: pemCertificates(readFileSync(join(dir, 'cert.pem'), 'utf8')) };
}

describe('key types', () => {
  const cases: Array<[string, string[], number]> = [
    ['RSA 2048 (rsa_pss_rsae_sha256)', ['-newkey', 'rsa:2048'], 0x0804],
    ['ECDSA P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1'], 0x0503],
    ['Ed25519', ['-newkey', 'ed25519'], 0x0807],
  ];
  for (const [name, newkey, scheme] of cases) it(`ngtcp2 completes a handshake and a download with an ${name} certificate`, async (ctx) => {
    needPeers(ctx, NGTCP2_CLIENT);
    const cert = certificate(newkey);
    expect(signatureScheme(cert.privateKey)).toBe(scheme);
    const server = new QuicServer({
      ...cert,
      alpn: ['h3'],
      onConnection: (c) => {
        c.onStream = (s) => {
          if (s.id === 0) s.onEnd = () => s.end(response(200, Buffer.from('signed\n')));
        };
      },
    });
    const { port } = await server.listen();
    const dl = tempDir('covet-quic-dl-');
    const client = spawn('gtlsclient', ['--timeout=5s', '--exit-on-all-streams-close', `--download=${dl}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/k.txt`], { stdio: 'ignore' });
    try {
      expect(await new Promise<number | null>((resolve) => client.once('exit', resolve))).toBe(0);
      expect(readFileSync(join(dl, 'k.txt'), 'utf8')).toBe('signed\n');
    } finally {
      client.kill('SIGKILL');
      await server.close();
    }
  }, 20_000);

  it('a scheme the client did not offer is handshake_failure; a key of another kind is refused', () => {
    const ed = generateKeyPairSync('ed25519').privateKey;
    expect(() => certificateVerify(ed, Buffer.alloc(32), [0x0403, 0x0804])).toThrow(TlsAlert);
    try {
      certificateVerify(ed, Buffer.alloc(32), [0x0403]);
    } catch (err) {
      expect((err as TlsAlert).alert).toBe(40); // handshake_failure
    }
    expect(certificateVerify(ed, Buffer.alloc(32), [0x0807])[0]).toBe(15);
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey;
    expect(signatureScheme(p521)).toBe(null);
    expect(() => certificateVerify(p521, Buffer.alloc(32))).toThrow('cannot sign');
  });
});

describe('key exchange with a real client', () => {
  const cases: Array<[string, string, number, boolean]> = [
    ['P-256 only', '-GROUP-ALL:+GROUP-SECP256R1', 0x0017, false],
    // GnuTLS always shares X25519 when it offers it (no HelloRetryRequest): that path is key-exchange.test.ts's.
    ['P-384 first, X25519 too', '-GROUP-ALL:+GROUP-SECP384R1:+GROUP-SECP521R1:+GROUP-X25519', 0x001d, false],
  ];
  for (const [name, groups, group, retried] of cases) it(`ngtcp2 (GnuTLS) with ${name}`, async (ctx) => {
    needPeers(ctx, NGTCP2_CLIENT);
    const seen: Array<[number | null, boolean]> = [];
    const server = new QuicServer({
      ...certificate(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']),
      alpn: ['h3'],
      onConnection: (c) => {
        c.onStream = (s) => {
          if (s.id === 0) s.onEnd = () => (seen.push([c.group, c.helloRetried]), s.end(response(200, Buffer.from('kx\n'))));
        };
      },
    });
    const { port } = await server.listen();
    const dl = tempDir('covet-quic-dl-');
    const client = spawn('gtlsclient', ['--timeout=5s', '--exit-on-all-streams-close', `--groups=${groups}`, `--download=${dl}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/k.txt`], { stdio: 'ignore' });
    try {
      expect(await new Promise<number | null>((resolve) => client.once('exit', resolve))).toBe(0);
      expect(seen).toEqual([[group, retried]]);
    } finally {
      client.kill('SIGKILL');
      await server.close();
    }
  }, 20_000);
});
