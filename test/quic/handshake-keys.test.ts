/**
 * The first round trip of a QUIC handshake with a real client: ngtcp2's `gtlsclient` sends its Initial;
 * we answer with a ServerHello (X25519) in an Initial of ours and a PING in a Handshake packet sealed with
 * the server handshake keys our key schedule derived; the client can open that only with the same keys, and
 * answers with an ACK in a Handshake packet sealed with the client handshake keys — which we open. Both
 * directions' handshake keys, and packet building with header protection, agree with ngtcp2's.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { expect, it } from 'vitest';
import { buildLongPacket, encodeVarint, initialKeys, packetKeys, parseLongHeader, readVarint, unprotect, PACKET_HANDSHAKE, PACKET_INITIAL } from '../../lib/quic/index.js';
import { GROUP_X25519, handshakeSecrets, parseClientHello, serverHello, transcriptHash, x25519KeyPair, x25519Shared } from '../../lib/tls13/index.js';
import { needPeers, NGTCP2_CLIENT } from '../peers.js';

/** CRYPTO data at offset 0 of an Initial's frames (PADDING and PING skipped). */
function cryptoOf(frames: Buffer): Buffer {
  const parts: Array<[number, Buffer]> = [];
  for (let i = 0; i < frames.length; ) {
    const t = frames[i]!;
    if (t === 0x00 || t === 0x01) {
      i++;
      continue;
    }
    if (t !== 0x06) throw new Error(`frame 0x${t.toString(16)}`);
    const off = readVarint(frames, i + 1);
    const len = readVarint(frames, off.next);
    parts.push([off.value, frames.subarray(len.next, len.next + len.value)]);
    i = len.next + len.value;
  }
  return Buffer.concat(parts.sort((a, b) => a[0] - b[0]).map(([, b]) => b));
}

it('agrees on the handshake keys with ngtcp2: our Handshake PING is opened and ACKed under the client handshake keys', async (ctx) => {
  needPeers(ctx, NGTCP2_CLIENT);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = sock.address().port;
  const datagrams: Array<{ msg: Buffer; rinfo: dgram.RemoteInfo }> = [];
  let wake: (() => void) | null = null;
  sock.on('message', (msg, rinfo) => {
    datagrams.push({ msg, rinfo });
    wake?.();
  });
  const next = async (): Promise<{ msg: Buffer; rinfo: dgram.RemoteInfo }> => {
    while (datagrams.length === 0) await new Promise<void>((r) => (wake = r));
    return datagrams.shift()!;
  };
  const client = spawn('gtlsclient', ['--timeout=5s', '127.0.0.1', String(port), `https://127.0.0.1:${port}/`], { stdio: 'ignore' });
  try {
    // 1. The client's Initial: its ClientHello.
    const first = await next();
    const h = parseLongHeader(first.msg);
    const initial = initialKeys(h.dcid);
    const p = unprotect('aes-128-gcm', initial.client, first.msg, 0, h.pnOffset, h.end, true);
    const chBytes = cryptoOf(p.payload);
    const ch = parseClientHello(chBytes);
    const share = ch.keyShares.find((k) => k.group === GROUP_X25519);
    expect(share).toBeDefined();
    expect(ch.cipherSuites).toContain(0x1301);

    // 2. Our ServerHello, and the handshake secrets from it.
    const kp = x25519KeyPair();
    const sh = serverHello({ random: randomBytes(32), sessionId: ch.sessionId, cipherSuite: 0x1301, group: GROUP_X25519, keyShare: kp.publicKey });
    const secrets = handshakeSecrets('sha256', x25519Shared(kp, share!.key), transcriptHash('sha256', chBytes, sh));
    const serverHs = packetKeys(secrets.server);
    const clientHs = packetKeys(secrets.client);
    const ourCid = randomBytes(8);
    const ack = Buffer.concat([Buffer.from([0x02]), encodeVarint(p.pn), encodeVarint(0), encodeVarint(0), encodeVarint(0)]);
    const crypto = Buffer.concat([Buffer.from([0x06]), encodeVarint(0), encodeVarint(sh.length), sh]);
    const handshake = buildLongPacket('aes-128-gcm', serverHs, { type: PACKET_HANDSHAKE, version: 1, dcid: h.scid, scid: ourCid, pn: 0, payload: Buffer.from([0x01]) });
    // RFC 9000 §14.1: a datagram with an ack-eliciting Initial is padded to 1200 bytes (PADDING frames in it).
    const pad = Math.max(0, 1200 - handshake.length - (1 + 4 + 1 + h.scid.length + 1 + 8 + 1 + 2 + 2 + ack.length + crypto.length + 16));
    const ourInitial = buildLongPacket('aes-128-gcm', initial.server, { type: PACKET_INITIAL, version: 1, dcid: h.scid, scid: ourCid, pn: 0, payload: Buffer.concat([ack, crypto, Buffer.alloc(pad)]) });
    sock.send(Buffer.concat([ourInitial, handshake]), first.rinfo.port, first.rinfo.address);

    // 3. The client's answer: a Handshake packet that opens with the client handshake keys and ACKs ours.
    let acked = false;
    while (!acked) {
      const d = await next();
      for (let at = 0; at < d.msg.length && !acked; ) {
        if ((d.msg[at]! & 0x80) === 0) break; // a short header: not before the handshake ends
        const ph = parseLongHeader(d.msg, at);
        if (ph.type === PACKET_HANDSHAKE) {
          const hp = unprotect('aes-128-gcm', clientHs, d.msg, at, ph.pnOffset, ph.end, true);
          expect(ph.dcid.equals(ourCid)).toBe(true); // the client now addresses us by the id we chose
          const type = hp.payload[0]!;
          expect(type === 0x02 || type === 0x03).toBe(true); // ACK
          expect(readVarint(hp.payload, 1).value).toBe(0); // largest acknowledged: our packet 0
          acked = true;
        }
        at = ph.end;
      }
    }
    expect(acked).toBe(true);
  } finally {
    client.kill('SIGKILL');
    sock.close();
  }
}, 20_000);
