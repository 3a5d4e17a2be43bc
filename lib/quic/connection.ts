/**
 * A QUIC server connection, sans I/O (RFC 9000, RFC 9001): datagrams in (`receive`), datagrams out
 * (`poll`); the caller owns the socket and the clock. Three packet number spaces, each with its keys, its
 * ACK tracker and its CRYPTO stream; the TLS 1.3 server handshake on lib/tls13; bidirectional and
 * unidirectional streams with in-order delivery and the peer's flow-control limits; the anti-amplification
 * limit before the client's address is validated (§8.1).
 *
 * Lost packets are found by RFC 9002's loss detection (recovery.ts) and what they carried is sent again.
 * The idle timeout (§10.1) closes it silently when neither side has been heard from for the smaller of the
 * two advertised timeouts (at least three probe timeouts).
 * Streams (stream.ts) open within the limits we advertise and are credited back as they finish (§4.6); data
 * in both directions stays within stream and connection flow control (§4.1); resets go both ways (§3.5).
 * New data waits for room in the congestion window (CUBIC by default, cubic.ts, RFC 9438; or NewReno, RFC 9002 §7,
 * congestion.ts) and is paced (§7.7, pacer.ts).
 * After a Retry (retry.ts, the endpoint's) the address is proven from the first packet.
 * The client's key updates (RFC 9001 §6) are followed: a packet under the next keys moves both directions on.
 * PATH_CHALLENGE is answered; when the endpoint sees the client's newest packet come from a new address (a NAT
 * rebinding, or the client migrating with one of the ids we issue — connection-ids.ts, §5.1) it moves there
 * and validates the path (`pathChanged`), sending at most three times what came from it until then (§9.3).
 * Datagrams start at 1200 bytes; one PING padded to 1452 (or the smaller limit either side set) probes the
 * path, and once acknowledged that is the size (§14.3; a lost probe is no congestion signal, §14.4).
 * Not yet (#32, next stages): initiating a key update, 0-RTT, our own migration (a server does not move).
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { AckTracker } from './ack-tracker.js';
import { Recovery, type Retransmittable } from './recovery.js';
import { readFrames, type Frame } from './frames.js';
import { initialKeys, packetKeys, type PacketKeys } from './initial.js';
import { buildLongPacket, buildShortPacket } from './packet-builder.js';
import { parseLongHeader, unprotect, PACKET_HANDSHAKE, PACKET_INITIAL } from './packet.js';
import { own } from './owned.js';
import { OpenStreams } from './open-streams.js';
import { Pacer } from './pacer.js';
import { NewReno } from './congestion.js';
import { Cubic } from './cubic.js';
import { CID_LENGTH, ConnectionIds } from './connection-ids.js';
import { QuicConnectionError } from './errors.js';
import { Reassembly } from './reassembly.js';
import { QuicStream, type StreamOwner } from './stream.js';
import { encodeTransportParameters, parseTransportParameters, type TransportParameters } from './transport-params.js';
import { encodeVarint, varintLength, writeVarint } from './varint.js';
import { Alert, TlsAlert } from '../tls13/alert.js';
import { chooseCipherSuite, CIPHER_SUITES, TLS_AES_128_GCM_SHA256, type CipherSuite } from '../tls13/cipher-suite.js';
import { HASH_LENGTH, hkdfExpandLabel } from '../tls13/hkdf.js';
import { parseClientHello, GROUP_SECP256R1, GROUP_X25519 } from '../tls13/client-hello.js';
import { handshakeSecrets, keyExchange, transcriptHash } from '../tls13/key-schedule.js';
import { helloRetryRequest, messageHash, serverHello } from '../tls13/server-hello.js';
import { applicationSecrets, certificateMessage, certificateVerify, checkClientFinished, encryptedExtensions, finishedData, handshakeMessage } from '../tls13/server-flight.js';

export interface ServerConnectionOptions {
  /** DER certificates, leaf first (`pemCertificates(pem)`), and the leaf's private key (ECDSA P-256/P-384, RSA, Ed25519). */
  certificateChain: readonly Buffer[];
  privateKey: KeyObject;
  /** Application protocols, in our order of preference (`['h3']`). */
  alpn: readonly string[];
  /** What we allow the client (flow control, streams, idle timeout). */
  transportParameters?: Partial<TransportParameters>;
  /** Bytes of CRYPTO data held out of order in one space (CRYPTO_BUFFER_EXCEEDED past it). Default 64 KiB. */
  maxCryptoBuffer?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /**
   * The first Initial came after a Retry with a valid token (retry.ts): the address is proven, and the
   * transport parameters name the client's original DCID and the id the Retry gave it (§7.3).
   */
  retry?: { originalDcid: Buffer };
  /** The first Initial carried a valid NEW_TOKEN token of ours (§8.1.3): the address is proven. */
  addressValidated?: boolean;
  /** A token for NEW_TOKEN, sent once the handshake is confirmed, for the client's next connection (§8.1.3). */
  newToken?: () => Buffer;
  /** The stateless reset token for our connection id (§10.3), sent in the transport parameters. */
  resetToken?: (cid: Buffer) => Buffer;
  /**
   * The TLS 1.3 cipher suites served (`covet/tls13`'s constants); the client's first choice among them is
   * taken. Default all three: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305.
   */
  cipherSuites?: readonly CipherSuite[];
  /**
   * Congestion control: CUBIC (RFC 9438; after a loss the window is cut to 0.7, not half, and grows back
   * along a cubic curve) or NewReno (RFC 9002 §7). Default 'cubic' (bench/RESULTS.md, "HTTP/3 congestion
   * control": 1.3× NewReno's throughput with 1 % and 5 % loss).
   */
  congestionControl?: 'newreno' | 'cubic';
}

const MAX_DATAGRAM = 1200;
const NO_BYTES = Buffer.alloc(0);
/** Initial packets are always AES-128-GCM (RFC 9001 §5.2), whatever suite the handshake settles on. */
const INITIAL_AEAD = TLS_AES_128_GCM_SHA256.aead;
/** The datagram size probed for (RFC 9000 §14.3): 1500-byte Ethernet less IPv6 and UDP headers. */
const PROBE_SIZE = 1452;
/** Key exchange groups we serve, in our order of preference (§4.2.7). */
const GROUPS = [GROUP_X25519, GROUP_SECP256R1];
/** CRYPTO bytes per packet, so a packet with its header and an ACK stays within MAX_DATAGRAM. */
const CRYPTO_CHUNK = 1000;
/** STREAM bytes per frame: the datagram less this (short header, AEAD tag, frame header, an ACK). */
const STREAM_SLACK = 90;

/** Frames as one payload; a lone frame (most packets of a transfer: one STREAM frame) as it is, uncopied. */
function joined(frames: Buffer[]): Buffer {
  return frames.length === 1 ? frames[0]! : Buffer.concat(frames);
}

/** The frame that carries an item. */
function frameOf(item: Retransmittable): Buffer {
  switch (item.kind) {
    case 'crypto':
      return Buffer.concat([Buffer.from([0x06]), encodeVarint(item.offset), encodeVarint(item.data.length), item.data]);
    case 'stream': {
      // One allocation per frame: type, id, offset, length, then the data (the hot path of every response).
      const n = item.data.length;
      const out = Buffer.allocUnsafe(1 + varintLength(item.id) + varintLength(item.offset) + varintLength(n) + n);
      out[0] = 0x0e | (item.fin ? 1 : 0);
      let at = writeVarint(out, 1, item.id);
      at = writeVarint(out, at, item.offset);
      at = writeVarint(out, at, n);
      item.data.copy(out, at);
      return out;
    }
    case 'handshake_done':
      return Buffer.from([0x1e]);
    case 'reset_stream':
      return Buffer.concat([Buffer.from([0x04]), encodeVarint(item.id), encodeVarint(item.code), encodeVarint(item.finalSize)]);
    case 'stop_sending':
      return Buffer.concat([Buffer.from([0x05]), encodeVarint(item.id), encodeVarint(item.code)]);
    case 'path_challenge':
      return Buffer.concat([Buffer.from([0x1a]), item.data]);
    case 'path_response':
      return Buffer.concat([Buffer.from([0x1b]), item.data]);
    case 'pmtu_probe':
      return Buffer.from([0x01]); // PING; the connection pads the packet to the size probed
    case 'new_connection_id': // §19.15: Retire Prior To 0 (we never ask the client to drop ours)
      return Buffer.concat([Buffer.from([0x18]), encodeVarint(item.seq), encodeVarint(0), Buffer.from([item.cid.length]), item.cid, item.resetToken]);
    case 'retire_connection_id':
      return Buffer.concat([Buffer.from([0x19]), encodeVarint(item.seq)]);
    case 'new_token':
      return Buffer.concat([Buffer.from([0x07]), encodeVarint(item.token.length), item.token]);
    default:
      throw new Error(`${item.kind} is framed by the connection`);
  }
}

interface Space {
  keys: { read: PacketKeys; write: PacketKeys } | null;
  acks: AckTracker;
  crypto: Reassembly;
  cryptoOut: Buffer[];
  cryptoOffset: number;
  pn: number;
  /** What lost packets carried, to send again first. */
  lost: Retransmittable[];
}

/**
 * @example
 * ```ts
 * const conn = new ServerConnection(firstDatagram, { certificateChain, privateKey, alpn: ['h3'] });
 * conn.onStream = (s) => (s.onData = (d) => s.end(d)); // echo
 * for (const d of conn.poll()) socket.send(d, port, address);
 * ```
 */
export class ServerConnection implements StreamOwner {
  readonly localCid = own(randomBytes(CID_LENGTH));
  /** The client's connection id (our packets' DCID): the one of its ids we use now (§5.1). */
  peerCid: Buffer;
  /** An id of ours was issued (true) or retired by the client (false): the endpoint routes datagrams by them. */
  onConnectionId: (cid: Buffer, added: boolean) => void = () => {};
  state: 'handshake' | 'established' | 'closed' = 'handshake';
  /** Why the connection ended, when it did. */
  closeReason: QuicConnectionError | null = null;
  /** A new stream the client opened. */
  onStream: (stream: QuicStream) => void = () => {};
  /** The endpoint forgot the connection (closed, or idle past its timeout). */
  onClosed: () => void = () => {};
  /** The handshake completed (the client's Finished verified): streams can be opened. */
  onEstablished: () => void = () => {};
  /** Something new is ready to send (a stream written to outside `receive`): call `poll` soon. */
  onReady: () => void = () => {};
  /**
   * Called at the start of every `poll`: the last chance to write what the application batched while the
   * datagrams just received were read (HTTP/3 sends its QPACK acknowledgments for all of them at once).
   */
  beforePoll: (() => void) | null = null;
  alpn: string | null = null;
  peerParams: TransportParameters | null = null;
  readonly #o: ServerConnectionOptions;
  /** Our transport parameters (asked for on every stream opened, settled and credited: made once). */
  readonly #tp: TransportParameters;
  readonly #originalDcid: Buffer;
  #retrySource: Buffer | null = null;
  /** 1-RTT secrets of the current key phase, the phase bit, and the previous phase's read keys (late packets). */
  #appSecrets: { client: Buffer; server: Buffer } | null = null;
  #keyPhase: 0 | 1 = 0;
  #prevRead: PacketKeys | null = null;
  /** Key updates the client made. */
  keyUpdates = 0;
  /** The key exchange group (0x001d X25519, 0x0017 secp256r1), and whether a HelloRetryRequest asked for it. */
  group: number | null = null;
  helloRetried = false;

  /** The handshake's cipher suite (TLS_AES_128_GCM_SHA256 until the ClientHello is read). */
  get cipherSuite(): CipherSuite {
    return this.#suite;
  }
  /** The PATH_CHALLENGE data we wait to see echoed, after the client's address changed (§9.3). */
  #challenge: Buffer | null = null;
  /** The PATH_CHALLENGE goes first, in a packet of its own, ahead of anything the new path's limit holds. */
  #challengeOut = false;
  /** New client addresses proven by PATH_RESPONSE. */
  pathsValidated = 0;
  /** Whether the last `receive` brought the newest 1-RTT packet so far (what may move the path, §9.3). */
  #newest = false;
  /** The datagram size in use: 1200 until a larger one is proven by an acknowledged probe (§14.3). */
  maxDatagram = MAX_DATAGRAM;
  #probed = false;
  readonly #spaces: [Space, Space, Space];
  readonly #streams: OpenStreams<QuicStream>;
  #clientHello: Buffer | null = null;
  /** After a HelloRetryRequest: the transcript's first messages (message_hash, HRR) and the group asked for. */
  #prefix: Buffer[] = [];
  #hrrGroup: number | null = null;
  /** The handshake's cipher suite (chosen at the ClientHello): Handshake and 1-RTT packets, the key schedule. */
  #suite: CipherSuite = TLS_AES_128_GCM_SHA256;
  #flight: Buffer | null = null;
  #sh: Buffer | null = null;
  #hs: ReturnType<typeof handshakeSecrets> | null = null;
  #handshakeDone = false;
  #addressValidated = false;
  /** The Initial space is over (its keys discarded once a Handshake packet opened). */
  #initialDone = false;
  #received = 0;
  #sent = 0;
  /** The size of the last datagram received (what a new path is credited with, §9.3). */
  #lastDatagram = 0;
  /** The path being validated is a new IP address, not just a new port (§9.4). */
  #newAddress = false;
  #closeToSend: Buffer | null = null;
  /** Datagrams over the anti-amplification limit, sent once the address is validated (or the limit grows). */
  #held: Buffer[] = [];
  readonly #now: () => number;
  /** When the connection last proved alive (an authentic packet in, or the first ack-eliciting one out after it). */
  #activeAt: number;
  #elicitingSinceReceive = false;
  /** Control frames to send in 1-RTT packets (resets, credit). */
  #control: Retransmittable[] = [];
  #woken = false;
  /** Client-initiated streams per kind (0 bidi, 1 uni): how many opened, closed, and the limit we advertised. */
  readonly #opened = [0, 0];
  readonly #retired = [0, 0];
  readonly #streamLimit = [0, 0];
  /** Connection flow control (§4.1): what the peer may send in all, what it sent (highest offsets), what was consumed. */
  #recvMaxData = 0;
  #recvTotal = 0;
  #consumedTotal = 0;
  /** What we may send in all (the peer's MAX_DATA), and what we sent (new bytes, not retransmissions). */
  #sendMaxData = 0;
  #sendTotal = 0;
  /** Our unidirectional streams opened, and the peer's limit for them. */
  #ownUni = 0;
  #ownUniLimit = 0;
  readonly #recovery: Recovery;
  /** New 1-RTT data is paced (RFC 9002 §7.7); when the pacer, not the window, holds data back, the time to send it. */
  readonly #pacer: Pacer;
  /** Our connection ids and the client's (RFC 9000 §5.1). */
  readonly #ids: ConnectionIds;
  /**
   * Where the DCID of the short-header packet being read sits (RETIRE_CONNECTION_ID may not name it, §19.16;
   * a new one on a new path means the client moved by itself): a view is made only when asked.
   */
  #dcidIn: Buffer = NO_BYTES;
  #dcidAt = 0;
  /** The last datagram came to another id of ours than the current path's: that id. */
  #movedTo: Buffer | null = null;
  /** The id of ours the client addresses the current path by. */
  #pathDcid: Buffer;
  #paceAt: number | null = null;

  constructor(first: Buffer, options: ServerConnectionOptions) {
    this.#o = options;
    this.#tp = { maxIdleTimeout: 30_000, maxUdpPayloadSize: 1472, initialMaxData: 1 << 20, initialMaxStreamDataBidiLocal: 1 << 18, initialMaxStreamDataBidiRemote: 1 << 18, initialMaxStreamDataUni: 1 << 18, initialMaxStreamsBidi: 100, initialMaxStreamsUni: 10, ackDelayExponent: 3, maxAckDelay: 25, disableActiveMigration: false, activeConnectionIdLimit: 2, ...options.transportParameters };
    this.#now = options.now ?? Date.now;
    this.#pacer = new Pacer(this.#now());
    this.#recovery = new Recovery((level, items) => this.#spaces[level].lost.push(...items), options.congestionControl === 'newreno' ? new NewReno() : new Cubic());
    this.#activeAt = this.#now();
    const h = parseLongHeader(first);
    if (h.type !== PACKET_INITIAL || h.version !== 1) throw new QuicConnectionError(0x0a, 'a connection starts with a version 1 Initial packet');
    this.#originalDcid = own(options.retry?.originalDcid ?? h.dcid);
    if (options.retry !== undefined) {
      this.#retrySource = Buffer.from(h.dcid);
      this.#addressValidated = true; // §8.1.2: the token proved it
    }
    if (options.addressValidated === true) this.#addressValidated = true; // §8.1.3: a NEW_TOKEN token did
    this.peerCid = own(h.scid);
    this.#ids = new ConnectionIds(this.localCid, this.peerCid, this.#tp.activeConnectionIdLimit);
    this.#pathDcid = this.localCid;
    const ik = initialKeys(h.dcid);
    const space = (keys: Space['keys']): Space => ({ keys, acks: new AckTracker(), crypto: null as unknown as Reassembly, cryptoOut: [], cryptoOffset: 0, pn: 0, lost: [] });
    this.#spaces = [space({ read: ik.client, write: ik.server }), space(null), space(null)];
    const max = options.maxCryptoBuffer ?? 64 * 1024;
    this.#spaces[0].crypto = new Reassembly(max, (c) => this.#cryptoIn(0, c));
    this.#spaces[1].crypto = new Reassembly(max, (c) => this.#cryptoIn(1, c));
    this.#spaces[2].crypto = new Reassembly(max, () => {});
    this.#recovery.onProbeAcked = (size) => {
      this.maxDatagram = Math.max(this.maxDatagram, size);
      this.#recovery.cc.maxDatagram = this.maxDatagram;
    };
    const tp = this.#tp;
    this.#streams = new OpenStreams(tp.initialMaxStreamsBidi);
    this.#streamLimit[0] = tp.initialMaxStreamsBidi;
    this.#streamLimit[1] = tp.initialMaxStreamsUni;
    this.#recvMaxData = tp.initialMaxData;
    this.receive(first);
  }

  /** The streams open now, by id (a copy, made when asked). */
  get streams(): ReadonlyMap<number, QuicStream> {
    return new Map(this.#streams.values().map((s) => [s.id, s]));
  }

  /**
   * The client's address changed (NAT rebinding or migration, §9.3) and the datagram from the new one carried
   * its newest packet: validate the new path with a PATH_CHALLENGE (§8.2), sending it at most three times
   * what it sent until then. `portOnly`: the same IP address, a new port (a NAT rebinding) — else, once
   * validated, the congestion controller and RTT estimate start over for the new path (§9.4).
   */
  pathChanged(portOnly = true): void {
    this.#challenge = randomBytes(8);
    this.#challengeOut = true;
    // A client that moved by itself addresses us by a new id; it gets a new one of its own from us (§9.5).
    // One that a NAT moved kept its id, and so do we.
    if (this.#movedTo !== null) {
      this.#pathDcid = this.#movedTo;
      this.#movedTo = null;
      const r = this.#ids.rotatePeer();
      if (r !== null) {
        this.peerCid = r.peer;
        this._queue({ kind: 'retire_connection_id', seq: r.retire });
      }
    }
    // §9.3: until the new address answers, at most three times what came from it (the datagram that moved us).
    this.#addressValidated = false;
    this.#received = this.#lastDatagram;
    this.#sent = 0;
    this.#newAddress = !portOnly;
    this._wake();
  }

  /** Whether the last datagram `receive`d carried the newest authentic 1-RTT packet so far. */
  get receivedNewest(): boolean {
    return this.#newest;
  }

  /** Takes a datagram from the client (coalesced packets included). */
  receive(d: Buffer): void {
    this.#newest = false;
    if (this.state === 'closed') return;
    this.#received += d.length;
    this.#lastDatagram = d.length;
    this.#movedTo = null;
    try {
      for (let at = 0; at < d.length; ) {
        if ((d[at]! & 0x80) === 0) {
          const len = this.localCid.length;
          this.#dcidIn = d;
          this.#dcidAt = at + 1;
          this.#packet(2, d, at, at + 1 + len, d.length, false);
          // The newest authentic packet, addressed by another id of ours than the path's: the client may have
          // moved by itself (pathChanged). (Authentic, so the datagram holds the id.)
          if (this.#newest && d.compare(this.#pathDcid, 0, len, at + 1, at + 1 + len) !== 0) this.#movedTo = Buffer.from(this.#dcid());
          break;
        }
        let h;
        try {
          h = parseLongHeader(d, at);
        } catch {
          break; // the rest of the datagram is not a packet: dropped (§12.2)
        }
        const level = h.type === PACKET_INITIAL ? 0 : h.type === PACKET_HANDSHAKE ? 1 : -1;
        if (level !== -1) this.#packet(level, d, at, h.pnOffset, h.end, true);
        at = h.end;
      }
    } catch (err) {
      this.#fail(err);
    }
    this.#dcidIn = NO_BYTES; // not kept: it would hold the whole datagram
  }

  #packet(level: 0 | 1 | 2, d: Buffer, start: number, pnOffset: number, end: number, isLong: boolean): void {
    const space = this.#spaces[level];
    if (space.keys === null) return; // keys not yet (or no longer) there: dropped (RFC 9001 §5.7)
    let opened;
    try {
      opened = unprotect(level === 0 ? INITIAL_AEAD : this.#suite.aead, space.keys.read, d, start, pnOffset, end, isLong, space.acks.largest);
    } catch {
      // 1-RTT: perhaps the client's next key phase, or a late packet of the previous one (RFC 9001 §6).
      opened = level === 2 ? this.#otherPhase(d, start, pnOffset, end) : null;
      if (opened === null) return; // not authentic: dropped silently (RFC 9000 §12.2)
    }
    const frames = readFrames(opened.payload);
    const eliciting = frames.some((f) => f.type !== 'ack' && f.type !== 'padding' && f.type !== 'connection_close');
    const newest = opened.pn > space.acks.largest;
    if (!space.acks.add(opened.pn, eliciting)) return; // a duplicate
    if (level === 2 && newest) this.#newest = true;
    this.#activeAt = this.#now();
    this.#elicitingSinceReceive = false;
    if (level === 1 && this.#spaces[0].keys !== null) {
      // A Handshake packet proves the client holds the address (§8.1); Initial keys go (RFC 9001 §4.9.1).
      this.#addressValidated = true;
      this.#initialDone = true;
      this.#spaces[0].keys = null;
      this.#spaces[0].lost = [];
      this.#recovery.discard(0);
    }
    for (const f of frames) this.#frame(level, f);
  }

  /**
   * RFC 9001 §6: a packet that does not open under the current 1-RTT keys is tried under the next ones (the
   * client updated its keys: ours follow, the header protection key stays) and then under the previous ones.
   */
  #otherPhase(d: Buffer, start: number, pnOffset: number, end: number): ReturnType<typeof unprotect> | null {
    const space = this.#spaces[2];
    const secrets = this.#appSecrets;
    if (space.keys === null || secrets === null) return null;
    const suite = this.#suite;
    // RFC 9001 §6.1: the next secret is HKDF-Expand-Label(secret, "quic ku", "", Hash.length).
    const next = (secret: Buffer) => hkdfExpandLabel(suite.hash, secret, 'quic ku', Buffer.alloc(0), HASH_LENGTH[suite.hash]);
    const client = next(secrets.client);
    const read: PacketKeys = { ...this.#keys(client), hp: space.keys.read.hp };
    try {
      const opened = unprotect(suite.aead, read, d, start, pnOffset, end, false, space.acks.largest);
      const server = next(secrets.server);
      this.#prevRead = space.keys.read;
      space.keys = { read, write: { ...this.#keys(server), hp: space.keys.write.hp } };
      this.#appSecrets = { client, server };
      this.#keyPhase ^= 1;
      this.keyUpdates++;
      return opened;
    } catch {
      if (this.#prevRead === null) return null;
      try {
        return unprotect(suite.aead, this.#prevRead, d, start, pnOffset, end, false, space.acks.largest);
      } catch {
        return null;
      }
    }
  }

  #frame(level: 0 | 1 | 2, f: Frame): void {
    switch (f.type) {
      case 'crypto':
        this.#spaces[level].crypto.push(f.offset, f.data);
        return;
      case 'stream': {
        if (level !== 2) throw new QuicConnectionError(0x0a, 'STREAM data outside 1-RTT packets');
        const s = this.#peerStream(f.stream, true);
        if (s === null) return; // a stream already finished and forgotten: a late copy
        const end = f.offset + f.data.length;
        if (end > s.recvLimit) throw new QuicConnectionError(0x03, `stream ${f.stream}: data past the limit ${s.recvLimit} (§4.1)`);
        this.#countReceived(s, end);
        if (s.resetCode !== null) return;
        s.recv.push(f.offset, f.data, f.fin);
        // Once, when the last byte is in — whichever frame brings it (the FIN may come before a gap is filled,
        // and a repeated FIN must not end the stream twice).
        if (!s.ended && s.recv.complete) {
          s.ended = true;
          s.onEnd();
          this._settle(s);
        }
        return;
      }
      case 'reset_stream': {
        if (level !== 2) throw new QuicConnectionError(0x0a, 'RESET_STREAM outside 1-RTT packets');
        const s = this.#peerStream(f.stream, true);
        if (s === null || s.ended || s.resetCode !== null) return;
        const known = s.recv.finalSize;
        if ((known !== null && known !== f.finalSize) || f.finalSize < s.highestRecv) throw new QuicConnectionError(0x06, `stream ${f.stream}: RESET_STREAM changes the final size (§4.5)`);
        if (f.finalSize > s.recvLimit) throw new QuicConnectionError(0x03, `stream ${f.stream}: a final size past the limit (§4.1)`);
        this.#countReceived(s, f.finalSize);
        s.resetCode = f.code;
        s.onReset(f.code);
        this._settle(s);
        return;
      }
      case 'stop_sending': {
        if (level !== 2) throw new QuicConnectionError(0x0a, 'STOP_SENDING outside 1-RTT packets');
        const s = this.#peerStream(f.stream, false);
        if (s === null) return;
        if (!s.sendable) throw new QuicConnectionError(0x05, `STOP_SENDING for stream ${f.stream}, which we cannot send on (§19.5)`);
        s.reset(f.code); // §3.5: answered with RESET_STREAM
        return;
      }
      case 'max_data':
        this.#sendMaxData = Math.max(this.#sendMaxData, f.max);
        return;
      case 'max_streams':
        if (!f.bidi) this.#ownUniLimit = Math.max(this.#ownUniLimit, f.max);
        return;
      case 'path_challenge':
        if (level !== 2) throw new QuicConnectionError(0x0a, 'PATH_CHALLENGE outside 1-RTT packets');
        this._queue({ kind: 'path_response', data: Buffer.from(f.data) }); // §8.2.2: echoed on the path it came
        return;
      case 'path_response':
        if (this.#challenge !== null && f.data.equals(this.#challenge)) {
          this.#challenge = null;
          this.pathsValidated++;
          this.#addressValidated = true;
          if (this.#newAddress) this.#recovery.resetPath(); // §9.4: another network, another path's state
          this.#newAddress = false;
        }
        return;
      case 'ack':
        // ACK Delay is in microseconds scaled by the peer's ack_delay_exponent (§19.3).
        this.#recovery.onAck(level, f.ranges, this.#now(), (f.delay * 2 ** (this.peerParams?.ackDelayExponent ?? 3)) / 1000);
        return;
      case 'max_stream_data': {
        const s = this.#peerStream(f.stream, false);
        if (s === null) return;
        if (!s.sendable) throw new QuicConnectionError(0x05, `MAX_STREAM_DATA for stream ${f.stream}, which we cannot send on (§19.10)`);
        s.limit = Math.max(s.limit, f.max);
        return;
      }
      case 'new_connection_id': {
        if (level !== 2) throw new QuicConnectionError(0x0a, 'NEW_CONNECTION_ID outside 1-RTT packets');
        const r = this.#ids.received(f.seq, f.retirePriorTo, f.cid, f.resetToken);
        for (const seq of r.retire) this._queue({ kind: 'retire_connection_id', seq });
        if (r.peer !== null) this.peerCid = r.peer;
        return;
      }
      case 'retire_connection_id': {
        if (level !== 2) throw new QuicConnectionError(0x0a, 'RETIRE_CONNECTION_ID outside 1-RTT packets');
        const gone = this.#ids.retire(f.seq, this.#dcid());
        if (gone !== null) {
          this.onConnectionId(gone, false);
          this.#issueIds(); // one in its place (§5.1.1)
        }
        return;
      }
      case 'connection_close':
        this.state = 'closed';
        this.closeReason = new QuicConnectionError(f.code, `the client closed the connection${f.reason === '' ? '' : `: ${f.reason}`}`);
        return;
      default:
        return; // PING, PADDING, DATA_BLOCKED...: nothing to do now
    }
  }

  /**
   * The stream a frame names: ours if it exists; the client's, opened now (with every lower one of its kind,
   * §3.2) within the limit we advertised (STREAM_LIMIT_ERROR past it, §4.6); null for one already forgotten.
   * `receiving`: the frame carries data to us, which a stream of ours that only sends cannot take.
   */
  #peerStream(id: number, receiving: boolean): QuicStream | null {
    const s = this.#streams.get(id);
    if (s !== undefined) {
      if (receiving && (id & 3) === 3) throw new QuicConnectionError(0x05, `stream ${id} is our unidirectional stream (§19.8)`);
      return s;
    }
    if ((id & 1) === 1) {
      // Ours: one we opened and forgot, or one we never opened.
      if ((id & 2) === 2 && id >> 2 < this.#ownUni) return null;
      throw new QuicConnectionError(0x05, `stream ${id} is ours and was never opened (§19.8)`);
    }
    const kind = (id & 2) === 0 ? 0 : 1;
    const index = id >> 2;
    if (index < this.#opened[kind]!) return null;
    if (index >= this.#streamLimit[kind]!) throw new QuicConnectionError(0x04, `stream ${id} is past the limit of ${this.#streamLimit[kind]} (§4.6)`);
    const tp = this.#tp;
    let made: QuicStream | null = null;
    while (this.#opened[kind]! <= index) {
      const sid = (this.#opened[kind]! << 2) | (kind << 1);
      this.#opened[kind]!++;
      made = new QuicStream(this, sid, kind === 0 ? tp.initialMaxStreamDataBidiRemote : tp.initialMaxStreamDataUni, kind === 0 ? (this.peerParams?.initialMaxStreamDataBidiLocal ?? 0) : 0);
      this.#streams.set(sid, made);
      this.onStream(made);
    }
    return made;
  }

  /** Counts data up to `end` on a stream against the connection's limit (§4.1), and credits it when consumed. */
  #countReceived(s: QuicStream, end: number): void {
    if (end <= s.highestRecv) return;
    this.#recvTotal += end - s.highestRecv;
    s.highestRecv = end;
    if (this.#recvTotal > this.#recvMaxData) throw new QuicConnectionError(0x03, `data past the connection limit ${this.#recvMaxData} (§4.1)`);
  }

  /** @internal A stream delivered `n` bytes: the connection window moves on by half-windows (§4.2). */
  _consumed(n: number): void {
    this.#consumedTotal += n;
    const window = this.#tp.initialMaxData;
    if (this.#recvMaxData - this.#consumedTotal > window / 2) return;
    this.#recvMaxData = this.#consumedTotal + window;
    this._queue({ kind: 'max_data' });
  }

  /** @internal */
  _queue(item: Retransmittable): void {
    this.#control.push(item);
  }

  /** @internal */
  _wake(): void {
    if (this.#woken) return;
    this.#woken = true;
    this.onReady();
  }

  /**
   * @internal A stream finished both ways (the peer's data all in or reset, ours all sent or reset) is
   * forgotten; for the client's, the limit moves on so it may open another (§4.6, MAX_STREAMS at half).
   */
  _settle(s: QuicStream): void {
    const recvDone = s.ended || s.resetCode !== null || (s.id & 3) === 3;
    const sendDone = s.finSent || s.resetSent !== null || (s.id & 3) === 2;
    if (!recvDone || !sendDone || !this.#streams.has(s.id)) return;
    this.#streams.delete(s.id);
    if ((s.id & 1) === 1) return;
    const kind = (s.id & 2) === 0 ? 0 : 1;
    this.#retired[kind]!++;
    const initial = kind === 0 ? this.#tp.initialMaxStreamsBidi : this.#tp.initialMaxStreamsUni;
    if (this.#retired[kind]! + initial - this.#streamLimit[kind]! >= Math.max(1, initial / 2)) {
      this.#streamLimit[kind] = this.#retired[kind]! + initial;
      this._queue({ kind: 'max_streams', bidi: kind === 0 });
      this._wake();
    }
  }

  /** The frame for an item, credit with the value current now. */
  #frameOf(item: Retransmittable): Buffer {
    switch (item.kind) {
      case 'max_data':
        return Buffer.concat([Buffer.from([0x10]), encodeVarint(this.#recvMaxData)]);
      case 'max_stream_data':
        return Buffer.concat([Buffer.from([0x11]), encodeVarint(item.id), encodeVarint(this.#streams.get(item.id)?.recvLimit ?? 0)]);
      case 'max_streams':
        return Buffer.concat([Buffer.from([item.bidi ? 0x12 : 0x13]), encodeVarint(this.#streamLimit[item.bidi ? 0 : 1]!)]);
      default:
        return frameOf(item);
    }
  }

  /**
   * Closes the connection with an application error (CONNECTION_CLOSE 0x1d, §10.2; before the handshake
   * completes, a transport APPLICATION_ERROR, §10.2.3) — `code` is the application's (HTTP/3's H3_*).
   */
  close(code: number, reason = ''): void {
    if (this.state === 'closed') return;
    const r = Buffer.from(reason.slice(0, 200), 'utf8');
    this.closeReason = new QuicConnectionError(code, reason);
    if (this.#spaces[2].keys !== null) this.#closeToSend = this.#packetOut(2, Buffer.concat([Buffer.from([0x1d]), encodeVarint(code), encodeVarint(r.length), r]));
    else {
      const level = this.#spaces[1].keys !== null ? 1 : 0;
      this.#closeToSend = this.#packetOut(level, Buffer.concat([Buffer.from([0x1c]), encodeVarint(0x0c), encodeVarint(0), encodeVarint(0)]));
    }
    this.state = 'closed';
    this._wake();
  }

  /** Handshake messages from the client, as its CRYPTO streams deliver them. */
  #cryptoIn(level: 0 | 1, chunk: Buffer): void {
    if (level === 0) {
      if (this.#sh !== null) throw new TlsAlert(Alert.unexpected_message, 'data after the ClientHello');
      this.#clientHello = this.#clientHello === null ? chunk : Buffer.concat([this.#clientHello, chunk]);
      const ch = this.#clientHello;
      if (ch.length < 4 || ch.length < 4 + ch.readUIntBE(1, 3)) return; // more to come
      if (ch.length > 4 + ch.readUIntBE(1, 3)) throw new TlsAlert(Alert.unexpected_message, 'data after the ClientHello');
      this.#startHandshake(ch);
      return;
    }
    const msg = chunk;
    if (this.#hs === null || this.#flight === null) throw new TlsAlert(Alert.unexpected_message, 'Handshake data before the ClientHello');
    const hash = this.#suite.hash;
    const transcript = transcriptHash(hash, ...this.#prefix, this.#clientHello!, this.#sh!, this.#flight);
    checkClientFinished(hash, this.#hs.client, transcript, msg);
    const app = applicationSecrets(hash, this.#hs.handshakeSecret, transcript);
    this.#spaces[2].keys = { read: this.#keys(app.client), write: this.#keys(app.server) };
    this.#appSecrets = { client: app.client, server: app.server };
    this.state = 'established';
    // RFC 9001 §4.9.2: the server's handshake is confirmed now — its Handshake keys, and the transcript, go.
    this.#clientHello = null;
    this.#flight = null;
    this.#sh = null;
    this.#hs = null;
    this.#prefix = [];
    this.#spaces[1].keys = null;
    this.#spaces[1].lost = [];
    this.#spaces[1].cryptoOut = [];
    this.#recovery.discard(1);
    this.#issueIds();
    if (this.#o.newToken !== undefined) this._queue({ kind: 'new_token', token: this.#o.newToken() });
    this.onEstablished();
  }

  /**
   * The PATH_CHALLENGE for a new address (with an ACK if one is due), ahead of what the address's
   * anti-amplification limit holds back; expanded to 1200 bytes where that limit allows (§8.2.1).
   */
  #challengePacket(): Buffer {
    this.#challengeOut = false;
    const item: Retransmittable = { kind: 'path_challenge', data: this.#challenge! };
    const space = this.#spaces[2];
    let payload = space.acks.pending ? Buffer.concat([space.acks.frame(), frameOf(item)]) : frameOf(item);
    const target = Math.min(MAX_DATAGRAM, 3 * this.#received - this.#sent) - this.#shortOverhead();
    if (target > payload.length) payload = Buffer.concat([payload, Buffer.alloc(target - payload.length)]);
    return this.#send(2, payload, [item], this.#now());
  }

  /** A 1-RTT packet's bytes around its frames: the short header (2-byte packet number) and the AEAD tag. */
  #shortOverhead(): number {
    return 1 + this.peerCid.length + 2 + 16;
  }

  /** The DCID of the short-header packet last read. */
  #dcid(): Buffer {
    return this.#dcidIn.subarray(this.#dcidAt, this.#dcidAt + this.localCid.length);
  }

  /** Ids of ours up to what the client holds (NEW_CONNECTION_ID), each with its stateless reset token (§10.3). */
  #issueIds(): void {
    for (const { seq, cid } of this.#ids.issue(this.peerParams?.activeConnectionIdLimit ?? 2)) {
      this.onConnectionId(cid, true);
      this._queue({ kind: 'new_connection_id', seq, cid, resetToken: this.#o.resetToken?.(cid) ?? randomBytes(16) });
    }
  }

  /** Packet keys from a traffic secret, at the negotiated suite's sizes and hash (RFC 9001 §5.1). */
  #keys(secret: Buffer): PacketKeys {
    return packetKeys(secret, this.#suite.keyLength, this.#suite.hash);
  }

  #startHandshake(chBytes: Buffer): void {
    const ch = parseClientHello(chBytes);
    // After a HelloRetryRequest the ServerHello keeps its suite (RFC 8446 §4.1.4): the second ClientHello must offer it.
    const retried = this.#prefix.length > 0;
    if (retried && !ch.cipherSuites.includes(this.#suite.id)) throw new TlsAlert(Alert.illegal_parameter, `the second ClientHello does not offer ${this.#suite.name}, the suite of the HelloRetryRequest (§4.1.4)`);
    const suite = retried ? this.#suite : chooseCipherSuite(ch.cipherSuites, this.#o.cipherSuites ?? CIPHER_SUITES);
    this.#suite = suite;
    const hash = suite.hash;
    // A key share in a group we serve (X25519 first); else, once, a HelloRetryRequest for one it supports (§4.1.4).
    const share = GROUPS.map((g) => ch.keyShares.find((k) => k.group === g)).find((k) => k !== undefined);
    if (share === undefined) {
      const group = GROUPS.find((g) => ch.supportedGroups.includes(g));
      if (group === undefined) throw new TlsAlert(Alert.handshake_failure, 'the client supports neither X25519 nor secp256r1');
      if (retried) throw new TlsAlert(Alert.illegal_parameter, 'the second ClientHello has no key share for the group asked for (§4.1.2)');
      const hrr = helloRetryRequest({ sessionId: ch.sessionId, cipherSuite: suite.id, group });
      this.#prefix = [messageHash(transcriptHash(hash, chBytes)), hrr];
      this.#hrrGroup = group;
      this.helloRetried = true;
      this.#clientHello = null; // the second ClientHello follows on the same CRYPTO stream
      this.#spaces[0].cryptoOut.push(hrr);
      return;
    }
    if (this.#hrrGroup !== null && share.group !== this.#hrrGroup) throw new TlsAlert(Alert.illegal_parameter, 'the second ClientHello shares another group than the one asked for (§4.1.2)');
    const alpn = this.#o.alpn.find((p) => ch.alpn.includes(p));
    if (alpn === undefined) throw new TlsAlert(Alert.no_application_protocol, `none of the client's protocols (${ch.alpn.join(', ')}) is served`);
    if (ch.transportParameters === null) throw new TlsAlert(Alert.missing_extension, 'no quic_transport_parameters (RFC 9001 §8.2)');
    this.peerParams = parseTransportParameters(ch.transportParameters, 'client');
    this.#sendMaxData = this.peerParams.initialMaxData;
    this.#ownUniLimit = this.peerParams.initialMaxStreamsUni;
    if (!this.peerParams.initialSourceConnectionId!.equals(this.peerCid)) throw new QuicConnectionError(0x08, 'initial_source_connection_id is not the Initial packet\'s SCID (§7.3)');
    this.alpn = alpn;
    const kx = keyExchange(share.group, share.key);
    this.group = share.group;
    const sh = serverHello({ random: randomBytes(32), sessionId: ch.sessionId, cipherSuite: suite.id, group: share.group, keyShare: kx.publicKey });
    const pre = this.#prefix;
    const hs = handshakeSecrets(hash, kx.shared, transcriptHash(hash, ...pre, chBytes, sh));
    const ee = encryptedExtensions(alpn, encodeTransportParameters({ ...this.#tp, originalDestinationConnectionId: this.#originalDcid, initialSourceConnectionId: this.localCid, ...(this.#retrySource === null ? {} : { retrySourceConnectionId: this.#retrySource }), ...(this.#o.resetToken === undefined ? {} : { statelessResetToken: this.#o.resetToken(this.localCid) }) }));
    const cert = certificateMessage(this.#o.certificateChain);
    const cv = certificateVerify(this.#o.privateKey, transcriptHash(hash, ...pre, chBytes, sh, ee, cert), ch.signatureAlgorithms);
    const fin = handshakeMessage(20, finishedData(hash, hs.server, transcriptHash(hash, ...pre, chBytes, sh, ee, cert, cv)));
    this.#sh = sh;
    this.#hs = hs;
    this.#flight = Buffer.concat([ee, cert, cv, fin]);
    this.#spaces[0].cryptoOut.push(sh);
    this.#spaces[1].keys = { read: this.#keys(hs.client), write: this.#keys(hs.server) };
    this.#spaces[1].cryptoOut.push(this.#flight);
  }

  #fail(err: unknown): void {
    const e = err instanceof QuicConnectionError ? err : err instanceof TlsAlert ? new QuicConnectionError(0x0100 + err.alert, err.message) : new QuicConnectionError((err as { code?: number }).code ?? 0x01, (err as Error).message);
    this.closeReason = e;
    // CONNECTION_CLOSE in the highest space we can write (a transport close, §19.19).
    const frame = Buffer.concat([Buffer.from([0x1c]), encodeVarint(e.code), encodeVarint(0), encodeVarint(0)]);
    const level = this.#spaces[2].keys !== null ? 2 : this.#spaces[1].keys !== null ? 1 : 0;
    this.#closeToSend = this.#packetOut(level, frame);
    this.state = 'closed';
  }

  /** A packet carrying `items` (recorded for loss detection when there are any). */
  #send(level: 0 | 1 | 2, payload: Buffer, items: Retransmittable[], now: number): Buffer {
    const pn = this.#spaces[level].pn;
    const packet = this.#packetOut(level, payload);
    if (items.length > 0) {
      this.#recovery.onSent(level, pn, now, items, packet.length);
      if (!this.#elicitingSinceReceive) this.#activeAt = now; // §10.1: restarted by the first one only
      this.#elicitingSinceReceive = true;
    }
    return packet;
  }

  /** The congestion window now, bytes (RFC 9002 §7). */
  get congestionWindow(): number {
    return this.#recovery.cc.window;
  }

  /** The smoothed round-trip time now, ms (RFC 9002 §5.3; 333 before the first sample). */
  get smoothedRtt(): number {
    return this.#recovery.smoothedRtt;
  }

  /** Whether any packet from the client has been authenticated (an Initial that opened). */
  get authenticated(): boolean {
    return this.#spaces[0].acks.largest >= 0 || this.#initialDone;
  }

  /**
   * The idle timeout in force (§10.1): the smaller of ours and the client's non-zero max_idle_timeout, and no
   * less than three probe timeouts; null when both are 0 (none).
   */
  #idleTimeout(): number | null {
    const ours = this.#tp.maxIdleTimeout ?? 0;
    const theirs = this.peerParams?.maxIdleTimeout ?? 0;
    const t = ours === 0 ? theirs : theirs === 0 ? ours : Math.min(ours, theirs);
    return t === 0 ? null : Math.max(t, 3 * this.#recovery.probeTimeout());
  }

  /** When `onTimeout` should be called next (ms, the clock's), or null. */
  timeout(): number | null {
    if (this.state === 'closed') return null;
    const idle = this.#idleTimeout();
    const loss = this.#recovery.timeout();
    const idleAt = idle === null ? null : this.#activeAt + idle;
    let t = idleAt === null ? loss : loss === null ? idleAt : Math.min(idleAt, loss);
    if (this.#paceAt !== null && (t === null || this.#paceAt < t)) t = this.#paceAt;
    return t;
  }

  /** The timer fired: past the idle timeout the connection closes silently; else a probe resends what is in flight (then `poll`). */
  onTimeout(now = this.#now()): void {
    if (this.state === 'closed') return;
    const idle = this.#idleTimeout();
    if (idle !== null && now >= this.#activeAt + idle) {
      this.closeReason = new QuicConnectionError(0x00, `idle for ${idle} ms`);
      this.state = 'closed'; // silently: no CONNECTION_CLOSE (§10.1)
      return;
    }
    this.#recovery.onTimeout(now);
  }

  #packetOut(level: 0 | 1 | 2, payload: Buffer): Buffer {
    const space = this.#spaces[level];
    const pn = space.pn++;
    if (level === 2) return buildShortPacket(this.#suite.aead, space.keys!.write, this.peerCid, pn, payload, 2, this.#keyPhase);
    return buildLongPacket(level === 0 ? INITIAL_AEAD : this.#suite.aead, space.keys!.write, { type: level === 0 ? PACKET_INITIAL : PACKET_HANDSHAKE, version: 1, dcid: this.peerCid, scid: this.localCid, pn, payload });
  }

  /** Datagrams to send now: handshake data, ACKs, HANDSHAKE_DONE, stream data within the peer's limits. */
  poll(): Buffer[] {
    if (this.beforePoll !== null && this.state !== 'closed') this.beforePoll();
    const out: Buffer[] = [];
    this.#woken = false;
    if (this.#closeToSend !== null) {
      out.push(this.#closeToSend);
      this.#closeToSend = null;
      return out;
    }
    if (this.state === 'closed') return out;
    if (this.#challengeOut && this.state === 'established') out.push(this.#challengePacket());
    out.push(...this.#held.splice(0));
    const now = this.#now();
    // Handshake spaces: an Initial padded to 1200 bytes (RFC 9000 §14.1, PADDING frames inside it), then
    // Handshake packets of at most 1200 bytes — lost CRYPTO data first, at its offsets, then new data.
    for (const level of [0, 1] as const) {
      const space = this.#spaces[level];
      if (space.keys === null) continue;
      const items: Retransmittable[] = space.lost.splice(0);
      const fresh = Buffer.concat(space.cryptoOut.splice(0));
      for (let at = 0; at < fresh.length; at += CRYPTO_CHUNK) {
        items.push({ kind: 'crypto', offset: space.cryptoOffset, data: fresh.subarray(at, at + CRYPTO_CHUNK) });
        space.cryptoOffset += Math.min(CRYPTO_CHUNK, fresh.length - at);
      }
      if (items.length === 0 && !space.acks.pending) continue;
      for (let k = 0; k === 0 || k < items.length; k++) {
        const item = items[k];
        const frames: Buffer[] = [];
        if (space.acks.pending) frames.push(space.acks.frame());
        if (item !== undefined) frames.push(frameOf(item));
        let payload = Buffer.concat(frames);
        if (level === 0) {
          const headerLen = 1 + 4 + 1 + this.peerCid.length + 1 + this.localCid.length + 1 + 2 + 2; // token length 0, Length and PN of 2 bytes
          payload = Buffer.concat([payload, Buffer.alloc(Math.max(0, MAX_DATAGRAM - headerLen - payload.length - 16))]);
        }
        out.push(this.#send(level, payload, item === undefined ? [] : [item], now));
      }
    }
    const drained: QuicStream[] = [];
    if (this.state === 'established') {
      const space = this.#spaces[2];
      const items: Retransmittable[] = space.lost.splice(0);
      if (!this.#handshakeDone) {
        items.push({ kind: 'handshake_done' }); // RFC 9001 §4.1.2
        this.#handshakeDone = true;
      }
      // Connection ids and tokens ahead of stream data: a client that closes once its last stream ends (as
      // ngtcp2's can) stops reading the packet there, and would never see what came after.
      if (this.#control.length > 0) {
        const rest: Retransmittable[] = [];
        for (const c of this.#control) (c.kind === 'new_connection_id' || c.kind === 'retire_connection_id' || c.kind === 'new_token' ? items : rest).push(c);
        this.#control = rest;
      }
      // New stream data within the congestion window (RFC 9002 §7) and the pacer's allowance (§7.7); what was
      // lost goes again regardless.
      const cc = this.#recovery.cc;
      const srtt = this.#recovery.smoothedRtt;
      const paced = this.#pacer.allowance(now, cc.window, srtt, this.maxDatagram);
      const allowed = Math.floor(Math.min(cc.room, paced));
      let budget = allowed - items.reduce((n, i) => n + (i.kind === 'stream' ? i.data.length + 16 : 16), 0);
      let starved = false;
      for (const s of this.#streams.values()) {
        while (s.out.length > 0 || (s.finQueued && !s.finSent)) {
          const room = Math.min(s.limit - s.sent, this.#sendMaxData - this.#sendTotal, budget);
          let chunk = s.out[0];
          if (chunk !== undefined && room <= 0) {
            starved ||= budget <= 0;
            break; // the peer's stream or connection window, or ours, is full
          }
          if (chunk !== undefined && s.out.length > 1) {
            // Small writes queued one after another (a QPACK acknowledgment per request) go as one frame.
            const cap = Math.min(room, this.maxDatagram - STREAM_SLACK);
            let total = chunk.length;
            let k = 1;
            while (k < s.out.length && total + s.out[k]!.length <= cap) total += s.out[k++]!.length;
            if (k > 1) {
              chunk = Buffer.concat(s.out.slice(0, k), total);
              s.out.splice(0, k, chunk);
            }
          }
          const n = chunk === undefined ? 0 : Math.min(chunk.length, room, this.maxDatagram - STREAM_SLACK);
          const data = chunk === undefined ? Buffer.alloc(0) : chunk.subarray(0, n);
          if (chunk !== undefined) {
            if (n === chunk.length) s.out.shift();
            else s.out[0] = chunk.subarray(n);
          }
          const fin = s.finQueued && s.out.length === 0;
          items.push({ kind: 'stream', id: s.id, offset: s.sent, data, fin });
          budget -= n + 16; // the frame's header and its share of the packet's
          s.sent += n;
          s.queued -= n;
          this.#sendTotal += n;
          if (fin) s.finSent = true;
        }
        if (s.wantsDrain && s.queued < 64 * 1024) {
          s.wantsDrain = false;
          drained.push(s);
        }
        if (s.finSent) this._settle(s); // values() is a copy: forgetting the stream being visited is safe
      }
      this.#pacer.spend(Math.max(0, allowed - budget));
      // Held back by the pacer rather than the window: a timer sends the rest (a window's worth waits for ACKs).
      // Every poll of an open connection sets it afresh; a closed one has no timeout at all.
      this.#paceAt = starved && paced < cc.room ? this.#pacer.nextAt(now, cc.window, srtt, this.maxDatagram) : null;
      // Control frames last: settling streams above may have added credit.
      for (const c of this.#control.splice(0)) if (c.kind !== 'max_stream_data' || this.#streams.has(c.id)) items.push(c);
      // DPLPMTUD (§14.3): once, a PING padded to the largest size both sides allow; acknowledged, it is ours.
      if (!this.#probed && this.#handshakeDone) {
        this.#probed = true;
        const target = Math.min(this.peerParams?.maxUdpPayloadSize ?? MAX_DATAGRAM, this.#tp.maxUdpPayloadSize, PROBE_SIZE);
        if (target > this.maxDatagram) {
          const overhead = this.#shortOverhead();
          out.push(this.#send(2, Buffer.concat([Buffer.from([0x01]), Buffer.alloc(target - overhead - 1)]), [{ kind: 'pmtu_probe', size: target }], now));
        }
      }
      // Packets of frames up to 40 bytes under the datagram size (header and tag), the ACK in the first.
      let frames: Buffer[] = space.acks.pending ? [space.acks.frame()] : [];
      let size = frames[0]?.length ?? 0;
      let carried: Retransmittable[] = [];
      for (const item of items) {
        const f = this.#frameOf(item);
        if (size + f.length > this.maxDatagram - 40 && frames.length > 0) {
          out.push(this.#send(2, joined(frames), carried, now));
          frames = [];
          carried = [];
          size = 0;
        }
        frames.push(f);
        carried.push(item);
        size += f.length;
      }
      if (frames.length > 0) out.push(this.#send(2, joined(frames), carried, now));
    }
    for (const s of drained) s.onDrain();
    // §8.1: before the address is validated, at most three times what it sent us; the rest waits.
    if (!this.#addressValidated) {
      const kept: Buffer[] = [];
      for (const d of out) {
        if (this.#held.length === 0 && this.#sent + d.length <= 3 * this.#received) {
          kept.push(d);
          this.#sent += d.length;
        } else this.#held.push(d);
      }
      return kept;
    }
    return out;
  }

  /** Opens a unidirectional stream of ours (id 3, 7, 11... for a server), within the peer's limit (§4.6). */
  openUniStream(): QuicStream {
    if (this.#ownUni >= this.#ownUniLimit) throw new QuicConnectionError(0x04, `the client allows ${this.#ownUniLimit} unidirectional streams`);
    const id = (this.#ownUni++ << 2) | 3;
    const s = new QuicStream(this, id, 0, this.peerParams?.initialMaxStreamDataUni ?? 0);
    this.#streams.set(id, s);
    return s;
  }
}
