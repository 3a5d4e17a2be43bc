/**
 * A QUIC client for tests, in process and sans I/O: it completes the handshake with a ServerConnection
 * (its own ClientHello, the server's flight read, its Finished sent), then speaks 1-RTT frames to it, and
 * reads what the server sends back — so stream, flow-control and HTTP/3 rules can be driven frame by frame
 * on an injected clock.
 */
import { createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildLongPacket,
  buildShortPacket,
  encodeVarint,
  initialKeys,
  PACKET_HANDSHAKE,
  PACKET_INITIAL,
  packetKeys,
  parseLongHeader,
  readFrames,
  ServerConnection,
  unprotect,
  type Frame,
  type PacketKeys,
  type ServerConnectionOptions,
  type TransportParameters,
  CIPHER_SUITES,
  TLS_AES_128_GCM_SHA256,
  type CipherSuite,
} from '../../lib/quic/index.js';
import { applicationSecrets, finishedData, handshakeMessage, handshakeSecrets, HRR_RANDOM, messageHash, pemCertificates, transcriptHash } from '../../lib/tls13/index.js';
import { clientInitial } from './client-initial.js';
import { tempDir } from '../temp-dir.js';

let cert: { privateKey: ReturnType<typeof createPrivateKey>; certificateChain: Buffer[] } | null = null;
/** One P-256 certificate for all the tests of a file. */
export function testCertificate() {
  if (cert !== null) return cert;
  const dir = tempDir('covet-quic-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  cert = { privateKey: createPrivateKey(readFileSync(join(dir, 'key.pem'))), certificateChain: pemCertificates(readFileSync(join(dir, 'cert.pem'), 'utf8')) };
  return cert;
}

/** A STREAM frame with offset and length (§19.8). */
export const streamFrame = (id: number, offset: number, data: Buffer, fin = false) => Buffer.concat([Buffer.from([0x0e | (fin ? 1 : 0)]), encodeVarint(id), encodeVarint(offset), encodeVarint(data.length), data]);

export interface TestClientOptions {
  params?: Partial<TransportParameters>;
  /** Key shares of the first ClientHello, and its supported_groups (a HelloRetryRequest is then answered). */
  shares?: number[];
  groups?: number[];
  server?: Partial<ServerConnectionOptions>;
  alpn?: string;
  /** cipher_suites of the ClientHello (default [0x1301]), and of the second one after a HelloRetryRequest (default the same). */
  suites?: number[];
  secondSuites?: number[];
}

/** The cipher suite a ServerHello or HelloRetryRequest names (after version, random and session id). */
function suiteOf(hello: Buffer): CipherSuite {
  const id = hello.readUInt16BE(4 + 2 + 32 + 1 + hello[4 + 2 + 32]!);
  const suite = CIPHER_SUITES.find((s) => s.id === id);
  if (suite === undefined) throw new Error(`the server chose an unknown suite 0x${id.toString(16)}`);
  return suite;
}

export class TestClient {
  readonly conn: ServerConnection;
  now = 1000;
  /** Frames the server sent in 1-RTT packets, in order. */
  readonly frames: Frame[] = [];
  /** Data the server sent per stream (in offset order as it came; tests send no loss). */
  readonly data = new Map<number, Buffer>();
  readonly fin = new Set<number>();
  #ap: { read: PacketKeys; write: PacketKeys } | null = null;
  /** The suite the server chose (AES-128-GCM until its ServerHello). */
  suite: CipherSuite = TLS_AES_128_GCM_SHA256;
  #pn = 0;
  #largest = -1;
  /** The group the server asked for with a HelloRetryRequest, if it did; the group of the key exchange. */
  retried: number | null = null;
  group: number | null = null;
  readonly #scid: Buffer;

  constructor(o: TestClientOptions = {}) {
    const params: Partial<TransportParameters> = { initialMaxStreamDataBidiLocal: 1 << 20, initialMaxStreamDataUni: 1 << 20, initialMaxData: 4 << 20, initialMaxStreamsUni: 3, ...o.params };
    let ci = clientInitial({ params, alpn: o.alpn, shares: o.shares, groups: o.groups, suites: o.suites });
    const keys = (secret: Buffer) => packetKeys(secret, this.suite.keyLength, this.suite.hash);
    /** The transcript before the ClientHello in use: after a HelloRetryRequest, message_hash and the HRR. */
    let prefix: Buffer[] = [];
    this.#scid = ci.scid;
    const c = testCertificate();
    this.conn = new ServerConnection(ci.datagram, { ...c, alpn: ['h3'], now: () => this.now, ...o.server });
    const ik = initialKeys(ci.dcid);
    // The server's Initial (ServerHello, or a HelloRetryRequest first) and Handshake (its flight) packets.
    let sh = null as Buffer | null;
    let initialCrypto = Buffer.alloc(0);
    let initialAt = 0; // the CRYPTO stream's offset of initialCrypto's end
    const flight: Buffer[] = [];
    let hsKeys = null as { read: PacketKeys; write: PacketKeys } | null;
    let hsSecrets = null as ReturnType<typeof handshakeSecrets> | null;
    for (let round = 0; round < 10 && this.#ap === null; round++) {
      for (const d of this.conn.poll()) {
        for (let at = 0; at < d.length; ) {
          const h = parseLongHeader(d, at);
          if (h.type === PACKET_INITIAL) {
            const p = unprotect('aes-128-gcm', ik.server, d, at, h.pnOffset, h.end, true);
            for (const f of readFrames(p.payload)) {
              if (f.type !== 'crypto' || f.offset !== initialAt) continue;
              initialCrypto = Buffer.concat([initialCrypto, f.data]);
              initialAt += f.data.length;
            }
            // Whole messages: a HelloRetryRequest (answered with a second ClientHello), then the ServerHello.
            const firstLen = initialCrypto.length >= 4 ? 4 + initialCrypto.readUIntBE(1, 3) : Infinity;
            if (prefix.length === 0 && initialCrypto.length >= firstLen && initialCrypto.subarray(6, 38).equals(HRR_RANDOM)) {
              const hrr = initialCrypto.subarray(0, firstLen);
              this.retried = shareOf(hrr).group;
              this.suite = suiteOf(hrr);
              prefix = [messageHash(transcriptHash(this.suite.hash, ci.clientHello)), hrr];
              const offset = ci.clientHello.length;
              ci = clientInitial({ params, alpn: o.alpn, dcid: ci.dcid, scid: ci.scid, shares: [this.retried], groups: o.groups, cryptoOffset: offset, pn: 1, suites: o.secondSuites ?? o.suites });
              this.conn.receive(ci.datagram);
              initialCrypto = initialCrypto.subarray(firstLen);
              continue;
            }
            const shLen = initialCrypto.length >= 4 ? 4 + initialCrypto.readUIntBE(1, 3) : Infinity;
            if (sh === null && initialCrypto.length >= shLen) sh = initialCrypto.subarray(0, shLen);
            if (sh !== null && hsSecrets === null) {
              const share = shareOf(sh);
              this.group = share.group;
              this.suite = suiteOf(sh);
              const hash = this.suite.hash;
              hsSecrets = handshakeSecrets(hash, ci.shared(share.group, share.key), transcriptHash(hash, ...prefix, ci.clientHello, sh));
              hsKeys = { read: keys(hsSecrets.server), write: keys(hsSecrets.client) };
            }
          } else if (h.type === PACKET_HANDSHAKE && hsKeys !== null) {
            const p = unprotect(this.suite.aead, hsKeys.read, d, at, h.pnOffset, h.end, true);
            for (const f of readFrames(p.payload)) if (f.type === 'crypto') flight[f.offset] = f.data;
          }
          at = h.end;
        }
      }
      const all = Buffer.concat(flight.filter((b) => b !== undefined));
      if (hsSecrets === null || !hasFinished(all)) {
        // The amplification limit holds the rest until we speak: an ACK-only Handshake packet would prove us, so
        // send an Initial ACK (which does not) — a flight that fits needs no more.
        continue;
      }
      const hash = this.suite.hash;
      const fin = handshakeMessage(20, finishedData(hash, hsSecrets.client, transcriptHash(hash, ...prefix, ci.clientHello, sh!, all)));
      const crypto = Buffer.concat([Buffer.from([0x06]), encodeVarint(0), encodeVarint(fin.length), fin]);
      this.conn.receive(buildLongPacket(this.suite.aead, hsKeys!.write, { type: PACKET_HANDSHAKE, version: 1, dcid: this.conn.localCid, scid: ci.scid, pn: 0, payload: crypto }));
      const app = applicationSecrets(hash, hsSecrets.handshakeSecret, transcriptHash(hash, ...prefix, ci.clientHello, sh!, all));
      this.#ap = { read: keys(app.server), write: keys(app.client) };
    }
    // The connection goes with the error: a test of a refused handshake reads its close reason.
    if (this.#ap === null) throw Object.assign(new Error('the test client did not complete the handshake'), { conn: this.conn });
    this.read();
  }

  /** The largest packet number received from the server in 1-RTT packets (what an ACK would name). */
  get largestReceived(): number {
    return this.#largest;
  }

  /** Sends 1-RTT frames in one packet. */
  send(...frames: Buffer[]): void {
    this.sendTo(this.conn.localCid, ...frames);
  }

  /** The same, addressed to another of the server's connection ids. */
  sendTo(dcid: Buffer, ...frames: Buffer[]): void {
    const d = buildShortPacket(this.suite.aead, this.#ap!.write, dcid, this.#pn++, Buffer.concat(frames));
    this.lastSentSize = d.length;
    this.conn.receive(d);
  }

  /** The size of the last datagram `send` made. */
  lastSentSize = 0;

  /** The sizes of the datagrams the server sent, in order, and their 1-RTT packet numbers (-1: not 1-RTT). */
  readonly sizes: number[] = [];
  readonly pns: number[] = [];

  /** Takes what the server has to send, and records its frames (and stream data). Returns the new frames. */
  read(): Frame[] {
    const got: Frame[] = [];
    for (const d of this.conn.poll()) {
      this.sizes.push(d.length);
      if ((d[0]! & 0x80) !== 0) {
        this.pns.push(-1);
        continue; // handshake packets (ACKs) after the fact
      }
      const p = unprotect(this.suite.aead, this.#ap!.read, d, 0, 1 + this.#scid.length, d.length, false, this.#largest);
      this.pns.push(p.pn);
      this.#largest = Math.max(this.#largest, p.pn);
      for (const f of readFrames(p.payload)) {
        got.push(f);
        if (f.type === 'stream') {
          const prev = this.data.get(f.stream) ?? Buffer.alloc(0);
          if (f.offset === prev.length) this.data.set(f.stream, Buffer.concat([prev, f.data]));
          if (f.fin) this.fin.add(f.stream);
        }
      }
    }
    this.frames.push(...got);
    return got;
  }
}

/** The key_share of a ServerHello (group and share) or a HelloRetryRequest (group only) (RFC 8446 §4.2.8). */
function shareOf(sh: Buffer): { group: number; key: Buffer } {
  let i = 4 + 2 + 32;
  i += 1 + sh[i]!; // session id
  i += 2 + 1; // cipher suite, compression
  const end = i + 2 + sh.readUInt16BE(i);
  for (i += 2; i < end; ) {
    const type = sh.readUInt16BE(i);
    const len = sh.readUInt16BE(i + 2);
    if (type === 0x0033) return { group: sh.readUInt16BE(i + 4), key: sh.subarray(i + 4 + 4, i + 4 + len) };
    i += 4 + len;
  }
  throw new Error('no key share in the ServerHello');
}

/** Whether a run of handshake messages ends with a complete Finished (type 20). */
function hasFinished(b: Buffer): boolean {
  for (let i = 0; i + 4 <= b.length; ) {
    const len = b.readUIntBE(i + 1, 3);
    if (i + 4 + len > b.length) return false;
    if (b[i] === 20 && i + 4 + len === b.length) return true;
    i += 4 + len;
  }
  return false;
}
