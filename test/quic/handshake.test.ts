/**
 * A whole QUIC + TLS 1.3 handshake with a real client (ngtcp2's `gtlsclient`), driven step by step here on
 * the pieces lib/quic and lib/tls13 have so far: its ClientHello in; our ServerHello (X25519), then
 * EncryptedExtensions (ALPN h3, transport parameters), Certificate (a P-256 certificate made by openssl),
 * CertificateVerify and Finished; its Finished in and verified; HANDSHAKE_DONE out in a 1-RTT packet —
 * and the client's own 1-RTT packets then open under the application keys both sides derived.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { buildLongPacket, buildShortPacket, encodeTransportParameters, encodeVarint, initialKeys, packetKeys, parseLongHeader, parseTransportParameters, readVarint, unprotect, PACKET_HANDSHAKE, PACKET_INITIAL } from '../../lib/quic/index.js';
import { applicationSecrets, certificateMessage, certificateVerify, checkClientFinished, encryptedExtensions, finishedData, GROUP_X25519, handshakeMessage, handshakeSecrets, parseClientHello, pemCertificates, serverHello, transcriptHash, x25519KeyPair, x25519Shared } from '../../lib/tls13/index.js';
import { needPeers, NGTCP2_CLIENT } from '../peers.js';

/** CRYPTO data (in offset order) and whether an ACK came, from a packet's frames. */
function frames(payload: Buffer): { crypto: Array<[number, Buffer]>; close: number | null } {
  const crypto: Array<[number, Buffer]> = [];
  let close: number | null = null;
  for (let i = 0; i < payload.length; ) {
    const t = payload[i]!;
    if (t === 0x00 || t === 0x01) i++;
    else if (t === 0x02 || t === 0x03) {
      let r = readVarint(payload, i + 1); // largest
      r = readVarint(payload, r.next); // delay
      const count = readVarint(payload, r.next);
      r = readVarint(payload, count.next); // first range
      for (let k = 0; k < count.value; k++) r = readVarint(payload, readVarint(payload, r.next).next);
      i = r.next;
      if (t === 0x03) for (let k = 0; k < 3; k++) i = readVarint(payload, i).next;
    } else if (t === 0x06) {
      const off = readVarint(payload, i + 1);
      const len = readVarint(payload, off.next);
      crypto.push([off.value, payload.subarray(len.next, len.next + len.value)]);
      i = len.next + len.value;
    } else if (t === 0x1c || t === 0x1d) {
      close = readVarint(payload, i + 1).value;
      break;
    } else break; // other frames: not needed here
  }
  return { crypto, close };
}

const cryptoFrame = (offset: number, data: Buffer) => Buffer.concat([Buffer.from([0x06]), encodeVarint(offset), encodeVarint(data.length), data]);
const ackFrame = (largest: number) => Buffer.concat([Buffer.from([0x02]), encodeVarint(largest), encodeVarint(0), encodeVarint(0), encodeVarint(0)]);

it('completes a handshake with ngtcp2: its Finished verifies, and its 1-RTT packets open under the application keys', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const dir = mkdtempSync(join(tmpdir(), 'covet-quic-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(join(dir, 'key.pem')));
  const chain = pemCertificates(readFileSync(join(dir, 'cert.pem'), 'utf8'));

  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = sock.address().port;
  const inbox: Array<{ msg: Buffer; rinfo: dgram.RemoteInfo }> = [];
  let wake: (() => void) | null = null;
  sock.on('message', (msg, rinfo) => {
    inbox.push({ msg, rinfo });
    wake?.();
  });
  const next = async () => {
    while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
    return inbox.shift()!;
  };
  const client = spawn('gtlsclient', ['--timeout=5s', '127.0.0.1', String(port), `https://127.0.0.1:${port}/`], { stdio: 'ignore' });
  try {
    const first = await next();
    const h = parseLongHeader(first.msg);
    const initial = initialKeys(h.dcid);
    const p = unprotect('aes-128-gcm', initial.client, first.msg, 0, h.pnOffset, h.end, true);
    const chBytes = Buffer.concat(frames(p.payload).crypto.sort((a, b) => a[0] - b[0]).map(([, b]) => b));
    const ch = parseClientHello(chBytes);
    const clientParams = parseTransportParameters(ch.transportParameters!, 'client');

    // Our first flight.
    const kp = x25519KeyPair();
    const sh = serverHello({ random: randomBytes(32), sessionId: ch.sessionId, cipherSuite: 0x1301, group: GROUP_X25519, keyShare: kp.publicKey });
    const hs = handshakeSecrets('sha256', x25519Shared(kp, ch.keyShares.find((k) => k.group === GROUP_X25519)!.key), transcriptHash('sha256', chBytes, sh));
    const ourCid = randomBytes(8);
    const params = encodeTransportParameters({ originalDestinationConnectionId: Buffer.from(h.dcid), initialSourceConnectionId: ourCid, maxIdleTimeout: 10_000, initialMaxData: 1 << 20, initialMaxStreamDataBidiLocal: 1 << 18, initialMaxStreamDataBidiRemote: 1 << 18, initialMaxStreamDataUni: 1 << 18, initialMaxStreamsBidi: 10, initialMaxStreamsUni: 10 });
    const ee = encryptedExtensions('h3', params);
    const cert = certificateMessage(chain);
    const cv = certificateVerify(key, transcriptHash('sha256', chBytes, sh, ee, cert));
    const fin = handshakeMessage(20, finishedData('sha256', hs.server, transcriptHash('sha256', chBytes, sh, ee, cert, cv)));
    const flight = Buffer.concat([ee, cert, cv, fin]);
    const app = applicationSecrets('sha256', hs.handshakeSecret, transcriptHash('sha256', chBytes, sh, flight));
    const serverHsKeys = packetKeys(hs.server);
    const clientHsKeys = packetKeys(hs.client);
    const serverApKeys = packetKeys(app.server);
    const clientApKeys = packetKeys(app.client);

    const handshakePacket = buildLongPacket('aes-128-gcm', serverHsKeys, { type: PACKET_HANDSHAKE, version: 1, dcid: h.scid, scid: ourCid, pn: 0, payload: cryptoFrame(0, flight) });
    const initialPayload = Buffer.concat([ackFrame(p.pn), cryptoFrame(0, sh)]);
    const padding = Math.max(0, 1200 - handshakePacket.length - (initialPayload.length + 60));
    const initialPacket = buildLongPacket('aes-128-gcm', initial.server, { type: PACKET_INITIAL, version: 1, dcid: h.scid, scid: ourCid, pn: 0, payload: Buffer.concat([initialPayload, Buffer.alloc(padding)]) });
    sock.send(Buffer.concat([initialPacket, handshakePacket]), first.rinfo.port, first.rinfo.address);

    // The client's Finished (in Handshake packets), then its 1-RTT packets.
    let clientFinished: Buffer | null = null;
    let oneRtt = 0;
    let hsLargest = -1;
    let sentDone = false;
    while (oneRtt === 0) {
      const d = await next();
      for (let at = 0; at < d.msg.length; ) {
        if ((d.msg[at]! & 0x80) === 0) {
          // A short header: our connection id (8 bytes), then the packet number.
          const op = unprotect('aes-128-gcm', clientApKeys, d.msg, at, at + 1 + 8, d.msg.length, false);
          expect(op.header.subarray(1, 9).equals(ourCid)).toBe(true);
          oneRtt++;
          break;
        }
        const ph = parseLongHeader(d.msg, at);
        if (ph.type === PACKET_HANDSHAKE) {
          const op = unprotect('aes-128-gcm', clientHsKeys, d.msg, at, ph.pnOffset, ph.end, true);
          hsLargest = Math.max(hsLargest, op.pn);
          const f = frames(op.payload);
          if (f.close !== null) throw new Error(`the client closed the connection: error 0x${f.close.toString(16)}`);
          for (const [, data] of f.crypto) clientFinished = data;
        }
        at = ph.end;
      }
      if (clientFinished !== null && !sentDone) {
        checkClientFinished('sha256', hs.client, transcriptHash('sha256', chBytes, sh, flight), clientFinished);
        // ACK its Handshake packets; HANDSHAKE_DONE (0x1e) in 1-RTT confirms the handshake (RFC 9001 §4.1.2).
        const ackHs = buildLongPacket('aes-128-gcm', serverHsKeys, { type: PACKET_HANDSHAKE, version: 1, dcid: h.scid, scid: ourCid, pn: 1, payload: ackFrame(hsLargest) });
        const done = buildShortPacket('aes-128-gcm', serverApKeys, h.scid, 0, Buffer.from([0x1e]));
        sock.send(Buffer.concat([ackHs, done]), first.rinfo.port, first.rinfo.address);
        sentDone = true;
      }
    }
    expect(clientFinished).not.toBeNull();
    expect(oneRtt).toBeGreaterThan(0);
    expect(clientParams.initialSourceConnectionId!.equals(h.scid)).toBe(true);
  } finally {
    client.kill('SIGKILL');
    sock.close();
  }
}, 20_000);
