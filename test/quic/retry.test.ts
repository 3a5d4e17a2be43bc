/**
 * Retry (RFC 9000 §8.1.2, RFC 9001 §5.8): the integrity tag on RFC 9001's Appendix A.4 packet; tokens good
 * only from the same address and port, with the same connection id, not altered, and within their lifetime
 * (at it and one millisecond past, on an injected clock); ngtcp2 retried by the endpoint completes, its
 * transport parameters naming both connection ids; a forged token opens nothing.
 */
import { spawn } from 'node:child_process';

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLongPacket, buildRetry, initialKeys, PACKET_INITIAL, QuicServer, retryIntegrityTag, RetryTokens, ServerConnection } from '../../lib/quic/index.js';
import { needPeers, NGTCP2_CLIENT } from '../peers.js';
import { clientInitial } from './client-initial.js';
import { response } from './h3-bytes.js';
import { testCertificate } from './test-client.js';
import { tempDir } from '../temp-dir.js';

describe('Retry packets and tokens', () => {
  it("computes RFC 9001 Appendix A.4's integrity tag", () => {
    const odcid = Buffer.from('8394c8f03e515708', 'hex');
    const packet = Buffer.from('ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba', 'hex');
    expect(retryIntegrityTag(odcid, packet.subarray(0, -16)).toString('hex')).toBe('04a265ba2eff4d829058fb3f0f2496ba');
    const built = buildRetry({ dcid: Buffer.alloc(0), scid: Buffer.from('f067a5502a4262b5', 'hex'), token: Buffer.from('token'), odcid, unused: 0x0f });
    expect(built.toString('hex')).toBe(packet.toString('hex'));
  });

  it('a token is good from its address, port and connection id, unaltered, for its lifetime and not a millisecond more', () => {
    let now = 1_000_000;
    const tokens = new RetryTokens({ lifetimeMs: 10_000, now: () => now });
    const odcid = Buffer.from('0102030405060708', 'hex');
    const scid = Buffer.from('a1a2a3a4a5a6a7a8', 'hex');
    const t = tokens.issue('192.0.2.1', 4433, odcid, scid);
    expect(tokens.check(t, '192.0.2.1', 4433, scid)).toEqual({ originalDcid: odcid });
    expect(tokens.check(t, '192.0.2.2', 4433, scid)).toBe(null);
    expect(tokens.check(t, '192.0.2.1', 4434, scid)).toBe(null);
    expect(tokens.check(t, '192.0.2.1', 4433, odcid)).toBe(null);
    for (let i = 0; i < t.length; i++) {
      const bad = Buffer.from(t);
      bad[i]! ^= 1;
      expect(tokens.check(bad, '192.0.2.1', 4433, scid)).toBe(null);
    }
    expect(tokens.check(t.subarray(0, -1), '192.0.2.1', 4433, scid)).toBe(null);
    now += 10_000;
    expect(tokens.check(t, '192.0.2.1', 4433, scid)).not.toBe(null);
    now += 1;
    expect(tokens.check(t, '192.0.2.1', 4433, scid)).toBe(null);
    expect(new RetryTokens({ now: () => now }).check(t, '192.0.2.1', 4433, scid)).toBe(null); // another key
  });
});

describe('NEW_TOKEN tokens (§8.1.3)', () => {
  it('prove an address (any port) for their lifetime and not a millisecond more, and are told apart from Retry tokens', () => {
    let now = 5_000_000;
    const key = Buffer.alloc(32, 1);
    const tokens = new RetryTokens({ key, addressLifetimeMs: 60_000, now: () => now });
    const t = tokens.issueForAddress('192.0.2.1');
    expect([tokens.checkAddress(t, '192.0.2.1'), tokens.checkAddress(t, '192.0.2.2')]).toEqual([true, false]);
    expect(new RetryTokens({ key, now: () => now }).checkAddress(t, '192.0.2.1')).toBe(true); // another instance, the same key
    expect(new RetryTokens({ now: () => now }).checkAddress(t, '192.0.2.1')).toBe(false); // another key
    const altered = Buffer.from(t);
    altered[3]! ^= 1;
    expect(tokens.checkAddress(altered, '192.0.2.1')).toBe(false);
    // A Retry token is no address token, nor the reverse.
    const retry = tokens.issue('192.0.2.1', 4433, Buffer.alloc(8, 2), Buffer.alloc(8, 3));
    expect(tokens.checkAddress(retry, '192.0.2.1')).toBe(false);
    expect(tokens.check(t, '192.0.2.1', 4433, Buffer.alloc(8, 3))).toBe(null);
    now += 60_000;
    expect(tokens.checkAddress(t, '192.0.2.1')).toBe(true);
    now += 1;
    expect(tokens.checkAddress(t, '192.0.2.1')).toBe(false);
  });

  it('a connection whose token proved the address sends its whole first flight; one without, three times what it got', () => {
    // A long certificate chain: a flight past three times the client's 1200-byte Initial.
    const cert = testCertificate();
    const chain = Array.from({ length: 8 }, () => cert.certificateChain[0]!);
    const flight = (addressValidated: boolean) => {
      const conn = new ServerConnection(clientInitial().datagram, { privateKey: cert.privateKey, certificateChain: chain, alpn: ['h3'], addressValidated });
      return conn.poll().reduce((n, d) => n + d.length, 0);
    };
    expect(flight(false)).toBeLessThanOrEqual(3 * 1200);
    expect(flight(true)).toBeGreaterThan(3 * 1200);
  });

  it("issues ngtcp2 a NEW_TOKEN token; an Initial carrying it is let in without a Retry, by any instance sharing the key", async (ctx) => {
    needPeers(ctx, NGTCP2_CLIENT);
    const key = Buffer.alloc(32, 9);
    const opened: string[] = [];
    const serve = (name: string, addressTokenKey?: Buffer) =>
      new QuicServer({
        ...testCertificate(),
        alpn: ['h3'],
        retryAbove: 0, // every client without a token of ours is retried
        ...(addressTokenKey === undefined ? {} : { addressTokenKey }),
        onConnection: (c) => {
          opened.push(name);
          c.onStream = (s) => {
            if (s.id === 0) s.onEnd = () => s.end(response(200, Buffer.from('tokens\n')));
          };
        },
      });
    const dir = tempDir('covet-token-');
    const tokenFile = join(dir, 'token');
    const first = serve('first', key);
    const servers = [first];
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const got: Buffer[] = [];
    sock.on('message', (m) => got.push(m));
    try {
      const { port } = await first.listen();
      const client = spawn('gtlsclient', ['--timeout=5s', '--exit-on-all-streams-close', `--token-file=${tokenFile}`, `--download=${dir}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/t.txt`], { stdio: 'ignore' });
      expect(await new Promise<number | null>((resolve) => client.once('exit', resolve))).toBe(0);
      expect(readFileSync(join(dir, 't.txt'), 'utf8')).toBe('tokens\n');
      expect(first.retries).toBe(1); // no token yet
      // What the client kept (PEM) is our NEW_TOKEN token for its address. (This ngtcp2 cannot read its own
      // token file back — gtlsserver's tokens neither — so the return is an Initial of ours carrying it.)
      const pem = readFileSync(tokenFile, 'utf8');
      const token = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
      expect(new RetryTokens({ key }).checkAddress(token, '127.0.0.1')).toBe(true);
      const ci = clientInitial();
      const keys = initialKeys(ci.dcid).client;
      const crypto = Buffer.concat([Buffer.from([0x06, 0x00]), Buffer.from([0x40 | (ci.clientHello.length >> 8), ci.clientHello.length & 0xff]), ci.clientHello]);
      const build = (pad: number) => buildLongPacket('aes-128-gcm', keys, { type: PACKET_INITIAL, version: 1, dcid: ci.dcid, scid: ci.scid, token, pn: 0, payload: Buffer.concat([crypto, Buffer.alloc(pad)]) });
      const initial = build(1200 - build(0).length);
      const send = async (server: QuicServer) => {
        const before = got.length;
        const { port: p } = await server.listen();
        await new Promise<void>((r) => sock.send(initial, p, '127.0.0.1', () => r()));
        await expect.poll(() => got.length).toBeGreaterThan(before);
        return (got.at(-1)![0]! & 0xf0) === 0xf0 ? 'Retry' : 'Initial';
      };
      await first.close();
      const other = serve('other'); // a restart with a new random key: the token proves nothing, and costs nothing
      const same = serve('same', key); // another instance sharing the key
      servers.push(other, same);
      expect(await send(other)).toBe('Retry');
      expect(await send(same)).toBe('Initial'); // its handshake begins: no Retry
      expect([other.retries, same.retries, opened]).toEqual([1, 0, ['first', 'same']]);
    } finally {
      sock.close();
      for (const s of servers) await s.close();
    }
  }, 30_000);
});

describe('the endpoint', () => {
  // ngtcp2 checks our original_destination_connection_id and retry_source_connection_id (§7.3): it completes
  // only if both are right.
  it('retries ngtcp2 when told to (retryAbove 0); it comes back with the token and completes', async (ctx) => {
    needPeers(ctx, NGTCP2_CLIENT);
    const server = new QuicServer({
      ...testCertificate(),
      alpn: ['h3'],
      retryAbove: 0,
      onConnection: (c) => {
        c.onStream = (s) => {
          if (s.id === 0) s.onEnd = () => s.end(response(200, Buffer.from('after a retry\n')));
        };
      },
    });
    const { port } = await server.listen();
    const dl = tempDir('covet-retry-');
    const client = spawn('gtlsclient', ['--timeout=5s', '--exit-on-all-streams-close', `--download=${dl}`, '127.0.0.1', String(port), `https://127.0.0.1:${port}/r.txt`], { stdio: 'ignore' });
    try {
      expect(await new Promise<number | null>((resolve) => client.once('exit', resolve))).toBe(0);
      expect(readFileSync(join(dl, 'r.txt'), 'utf8')).toBe('after a retry\n');
      expect([server.retries, server.dropped]).toEqual([1, 0]);
    } finally {
      client.kill('SIGKILL');
      await server.close();
    }
  }, 20_000);

  it("an Initial with another server's token is treated as one without (a Retry here); one with a Retry token of ours that fails is dropped", async () => {
    const opened: unknown[] = [];
    const server = new QuicServer({ ...testCertificate(), alpn: ['h3'], retryAbove: 0, onConnection: (c) => opened.push(c) });
    const { port } = await server.listen();
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const got: Buffer[] = [];
    sock.on('message', (m) => got.push(m));
    try {
      const ci = clientInitial();
      // The same ClientHello, in an Initial with a made-up token, padded to 1200 bytes.
      const keys = initialKeys(ci.dcid).client;
      const crypto = Buffer.concat([Buffer.from([0x06, 0x00]), Buffer.from([0x40 | (ci.clientHello.length >> 8), ci.clientHello.length & 0xff]), ci.clientHello]);
      const withToken = (token: Buffer) => {
        const build = (pad: number) => buildLongPacket('aes-128-gcm', keys, { type: PACKET_INITIAL, version: 1, dcid: ci.dcid, scid: ci.scid, token, pn: 0, payload: Buffer.concat([crypto, Buffer.alloc(pad)]) });
        return build(1200 - build(0).length);
      };
      // §8.1.3: a token we cannot read (another server's, or ours from before a restart) proves nothing — and
      // costs the client nothing either: it is answered as if it had none (a Retry, as retryAbove is 0).
      await new Promise<void>((r) => sock.send(withToken(Buffer.alloc(40, 7)), port, '127.0.0.1', () => r()));
      await expect.poll(() => got.length).toBe(1);
      expect(got[0]![0]! & 0xf0).toBe(0xf0);
      // A Retry token of ours (its first byte) that does not check: the client takes no second Retry (§8.1.2).
      const forged = Buffer.concat([Buffer.from([0x52]), Buffer.alloc(39, 7)]);
      await new Promise<void>((r) => sock.send(withToken(forged), port, '127.0.0.1', () => r()));
      await expect.poll(() => server.dropped).toBe(1);
      expect([got.length, server.retries, opened.length]).toEqual([1, 1, 0]);
    } finally {
      sock.close();
      await server.close();
    }
  });
});
