/**
 * A QUIC server handshake driven step by step on lib/quic and lib/tls13 (there is no connection state
 * machine yet): enough to run a real client (ngtcp2's gtlsclient) through a handshake and look at what it
 * sends after. The tests build on it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildLongPacket, buildShortPacket, encodeTransportParameters, encodeVarint, initialKeys, packetKeys, parseLongHeader, parseTransportParameters, readFrames, unprotect, PACKET_HANDSHAKE, PACKET_INITIAL, type PacketKeys, type TransportParameters } from '../../lib/quic/index.js';
import { applicationSecrets, certificateMessage, certificateVerify, checkClientFinished, encryptedExtensions, finishedData, GROUP_X25519, handshakeMessage, handshakeSecrets, parseClientHello, pemCertificates, serverHello, transcriptHash, x25519KeyPair, x25519Shared } from '../../lib/tls13/index.js';
import { tempDir } from '../temp-dir.js';

export const cryptoFrame = (offset: number, data: Buffer) => Buffer.concat([Buffer.from([0x06]), encodeVarint(offset), encodeVarint(data.length), data]);
export const ackFrame = (largest: number) => Buffer.concat([Buffer.from([0x02]), encodeVarint(largest), encodeVarint(0), encodeVarint(0), encodeVarint(0)]);

export interface Established {
  /** The client's 1-RTT packets' frames seen so far (those that came with its Finished). */
  early: ReturnType<typeof readFrames>;
  clientParams: TransportParameters;
  clientFinished: Buffer;
  /** Sends frames in a 1-RTT packet (our packet numbers counted here). */
  send1Rtt(frames: Buffer): void;
  /** The frames of the client's next 1-RTT packet (long-header packets skipped). */
  next1Rtt(): Promise<{ pn: number; frames: ReturnType<typeof readFrames> }>;
  client: ChildProcess;
  close(): void;
}

/** Starts gtlsclient with `args` against a UDP socket of ours, and completes the handshake with it. */
export async function handshakeWith(args: (port: number) => string[]): Promise<Established> {
  const dir = tempDir('covet-quic-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(join(dir, 'key.pem')));
  const chain = pemCertificates(readFileSync(join(dir, 'cert.pem'), 'utf8'));
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
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
  const client = spawn('gtlsclient', args(sock.address().port), { stdio: ['ignore', 'pipe', 'pipe'] });
  const close = (): void => {
    client.kill('SIGKILL');
    sock.close();
  };
  try {
    const first = await next();
    const h = parseLongHeader(first.msg);
    const initial = initialKeys(h.dcid);
    const p = unprotect('aes-128-gcm', initial.client, first.msg, 0, h.pnOffset, h.end, true);
    const chBytes = Buffer.concat(readFrames(p.payload).flatMap((f) => (f.type === 'crypto' ? [[f.offset, f.data] as const] : [])).sort((a, b) => a[0] - b[0]).map(([, b]) => b));
    const ch = parseClientHello(chBytes);
    const clientParams = parseTransportParameters(ch.transportParameters!, 'client');
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
    const serverHs = packetKeys(hs.server);
    const clientHs = packetKeys(hs.client);
    const serverAp: PacketKeys = packetKeys(app.server);
    const clientAp: PacketKeys = packetKeys(app.client);
    const to = (b: Buffer) => sock.send(b, first.rinfo.port, first.rinfo.address);
    const handshakePacket = buildLongPacket('aes-128-gcm', serverHs, { type: PACKET_HANDSHAKE, version: 1, dcid: h.scid, scid: ourCid, pn: 0, payload: cryptoFrame(0, flight) });
    const initialPayload = Buffer.concat([ackFrame(p.pn), cryptoFrame(0, sh)]);
    const padding = Math.max(0, 1200 - handshakePacket.length - (initialPayload.length + 60));
    to(Buffer.concat([buildLongPacket('aes-128-gcm', initial.server, { type: PACKET_INITIAL, version: 1, dcid: h.scid, scid: ourCid, pn: 0, payload: Buffer.concat([initialPayload, Buffer.alloc(padding)]) }), handshakePacket]));

    let clientFinished: Buffer | null = null;
    let hsLargest = -1;
    let apLargest = -1;
    const early: ReturnType<typeof readFrames> = [];
    const pending1Rtt: Array<{ pn: number; frames: ReturnType<typeof readFrames> }> = [];
    /** Takes a datagram apart: Handshake packets (the Finished) and 1-RTT packets (queued). */
    const take = (d: Buffer): void => {
      for (let at = 0; at < d.length; ) {
        if ((d[at]! & 0x80) === 0) {
          const op = unprotect('aes-128-gcm', clientAp, d, at, at + 1 + ourCid.length, d.length, false, apLargest);
          apLargest = Math.max(apLargest, op.pn);
          pending1Rtt.push({ pn: op.pn, frames: readFrames(op.payload) });
          return;
        }
        const ph = parseLongHeader(d, at);
        if (ph.type === PACKET_HANDSHAKE) {
          const op = unprotect('aes-128-gcm', clientHs, d, at, ph.pnOffset, ph.end, true, hsLargest);
          hsLargest = Math.max(hsLargest, op.pn);
          for (const f of readFrames(op.payload)) {
            if (f.type === 'connection_close') throw new Error(`the client closed the connection: 0x${f.code.toString(16)} ${f.reason}`);
            if (f.type === 'crypto') clientFinished = f.data;
          }
        }
        at = ph.end;
      }
    };
    while (clientFinished === null) take((await next()).msg);
    checkClientFinished('sha256', hs.client, transcriptHash('sha256', chBytes, sh, flight), clientFinished);
    let ourPn = 0;
    const send1Rtt = (frames: Buffer): void => void to(buildShortPacket('aes-128-gcm', serverAp, h.scid, ourPn++, frames));
    to(buildLongPacket('aes-128-gcm', serverHs, { type: PACKET_HANDSHAKE, version: 1, dcid: h.scid, scid: ourCid, pn: 1, payload: ackFrame(hsLargest) }));
    send1Rtt(Buffer.from([0x1e])); // HANDSHAKE_DONE (RFC 9001 §4.1.2)
    for (const q of pending1Rtt) early.push(...q.frames);
    return {
      early,
      clientParams,
      clientFinished,
      send1Rtt,
      async next1Rtt() {
        while (pending1Rtt.length === 0) take((await next()).msg);
        return pending1Rtt.shift()!;
      },
      client,
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}
