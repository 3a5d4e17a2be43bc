/**
 * The UDP side of a QUIC server (the one `node:dgram` user): datagrams routed to connections by their
 * Destination Connection ID — ours after the first flight, the client's original one for its repeated
 * Initials — new connections made only from Initial packets in datagrams of at least 1200 bytes (RFC 9000
 * §14.1) that open with the Initial keys, up to `maxConnections`; one timer per connection for its loss
 * detection and idle timeout. A full-size datagram of another version gets Version Negotiation (§6); anything
 * else that arrives (garbage, unknown ids, short datagrams) is dropped without an answer and counted in `dropped`.
 */
import dgram from 'node:dgram';
import { lookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { parseLongHeader, PACKET_INITIAL } from './packet.js';
import { ServerConnection, type ServerConnectionOptions } from './connection.js';
import { CID_LENGTH } from './connection-ids.js';
import { buildRetry, RETRY_TOKEN_KIND, RetryTokens } from './retry.js';
import { StatelessResets } from './stateless-reset.js';
import { randomBytes } from 'node:crypto';

export interface QuicServerOptions extends Omit<ServerConnectionOptions, 'now'> {
  /** A new connection, before its handshake completes (set `onStream` here), and the client's address. */
  onConnection: (conn: ServerConnection, address: string) => void;
  /** Connections at once; Initials past it are dropped. Default 10 000. */
  maxConnections?: number;
  /**
   * New clients must prove their address with a Retry (RFC 9000 §8.1.2) while this many connections are still
   * in their handshake — an Initial flood then costs us one small packet each, no state. 0: always. Default 100.
   */
  retryAbove?: number;
  /** How long a Retry token stays good, ms. Default 10 000. */
  retryTokenLifetimeMs?: number;
  /**
   * The key of address tokens (Retry and NEW_TOKEN; 32 bytes): the same on every instance, so a token from
   * one is good at another and after a restart. Default: random per process.
   */
  addressTokenKey?: Buffer;
  /** How long a NEW_TOKEN token lets a client from the same address skip validation (ms). Default 24 h. */
  addressTokenLifetimeMs?: number;
  /**
   * The key of stateless reset tokens (§10.3). Give the same 32 bytes to a restarted server (or to every
   * server behind one address) so it can reset its predecessor's connections; default: random per process.
   */
  statelessResetKey?: Buffer;
  /**
   * The socket's receive and send buffers, bytes (SO_RCVBUF, SO_SNDBUF; the kernel caps them, on Linux at
   * net.core.rmem_max and wmem_max). While the server writes a burst of packets it reads nothing, so the
   * clients' ACKs wait in the receive buffer, and Linux's default (~208 KiB) drops some (`netstat -su`,
   * bench/h3.mjs's 32 MiB downloads: fewer receive-buffer errors at 4 MiB, throughput within noise). Default
   * 4 MiB.
   */
  socketBufferSize?: number;
}

interface Entry {
  conn: ServerConnection;
  port: number;
  address: string;
  timer: NodeJS.Timeout | null;
  /** When the armed timer fires (ms, Date.now's clock). */
  at: number;
  ids: string[];
  /** A pump is scheduled (the connection has something to send written outside a datagram's handling). */
  soon: boolean;
}

/**
 * dgram resolves the address of every send, and dns.lookup answers even an IP literal on the next tick: a
 * closure and a tick per datagram. Our sends always go to a literal (the client's, from rinfo): answered at
 * once; a name (a host to bind to) is still looked up.
 */
function literalLookup(host: string, options: LookupOneOptions | number, cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(host);
  if (family !== 0) cb(null, host, family);
  else lookup(host, options as LookupOneOptions, cb);
}

/**
 * @example
 * ```ts
 * const server = new QuicServer({ certificateChain, privateKey, alpn: ['h3'], onConnection: (c) => (c.onStream = handle) });
 * const { port } = await server.listen({ port: 4433 });
 * ```
 */
export class QuicServer {
  readonly #o: QuicServerOptions;
  readonly #byId = new Map<string, Entry>();
  readonly #entries = new Set<Entry>();
  readonly #pending = new Set<Entry>();
  #socket: dgram.Socket | null = null;
  #dropped = 0;
  #negotiated = 0;
  #retries = 0;
  #resetsSent = 0;
  readonly #tokens: RetryTokens;
  readonly #resets: StatelessResets;

  constructor(options: QuicServerOptions) {
    // Every handshake would fail at its Certificate message (RFC 8446 §4.4.2: at least one entry): say so now.
    if (!Array.isArray(options.certificateChain) || options.certificateChain.length === 0) {
      throw new TypeError('QuicServer: `certificateChain` is empty: give the DER certificates, leaf first (pemCertificates(pem) reads a PEM chain)');
    }
    this.#o = options;
    this.#tokens = new RetryTokens({ lifetimeMs: options.retryTokenLifetimeMs, addressLifetimeMs: options.addressTokenLifetimeMs, key: options.addressTokenKey });
    this.#resets = new StatelessResets(options.statelessResetKey);
  }

  /** Stateless resets sent (to datagrams for connections we do not have, §10.3). */
  get statelessResets(): number {
    return this.#resetsSent;
  }

  /** Retry packets sent (address validation of new clients). */
  get retries(): number {
    return this.#retries;
  }

  /** Datagrams dropped unanswered so far: not a packet, no connection of ours, or no room for a new one. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Version Negotiation packets sent (to Initials of versions we do not speak). */
  get versionNegotiations(): number {
    return this.#negotiated;
  }

  /** The socket's buffers as the kernel reports them (Linux reports twice the size it was given, for its bookkeeping). */
  get socketBuffers(): { receive: number; send: number } | null {
    const s = this.#socket;
    return s === null ? null : { receive: s.getRecvBufferSize(), send: s.getSendBufferSize() };
  }

  /** Connections open now. */
  get connections(): number {
    return this.#entries.size;
  }

  async listen(options: { port?: number; host?: string } = {}): Promise<{ port: number; address: string }> {
    const socket = dgram.createSocket({ type: options.host?.includes(':') === true ? 'udp6' : 'udp4', lookup: literalLookup });
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => this.#datagram(msg, rinfo));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const size = this.#o.socketBufferSize ?? 4 * 1024 * 1024;
    try {
      socket.setRecvBufferSize(size);
      socket.setSendBufferSize(size);
    } catch {
      // refused by the kernel (a size it does not take): its default stays
    }
    const a = socket.address();
    return { port: a.port, address: a.address };
  }

  #datagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 1) {
      this.#dropped++;
      return;
    }
    // A version we do not speak, in a datagram big enough to start a connection: Version Negotiation (§6.1).
    if ((msg[0]! & 0x80) !== 0 && msg.length >= 1200) {
      const version = msg.readUInt32BE(1);
      if (version !== 1) {
        if (version !== 0) this.#negotiate(msg, rinfo);
        else this.#dropped++; // a Version Negotiation packet sent to a server: ignored (§6.2)
        return;
      }
    }
    let dcid: Buffer;
    let initial = false;
    let scid: Buffer | null = null;
    let token: Buffer | null = null;
    try {
      if ((msg[0]! & 0x80) === 0) dcid = msg.subarray(1, 1 + CID_LENGTH); // our ids are all this long
      else {
        const h = parseLongHeader(msg);
        dcid = h.dcid;
        scid = h.scid;
        token = h.token;
        initial = h.type === PACKET_INITIAL && h.version === 1;
      }
    } catch {
      this.#dropped++; // not a packet
      return;
    }
    const entry = this.#byId.get(dcid.toString('hex'));
    if (entry !== undefined) {
      entry.conn.receive(msg);
      // §9.3: a client's new address is taken only from its newest authentic packet (an old one replayed from
      // elsewhere moves nothing), then validated.
      if ((rinfo.port !== entry.port || rinfo.address !== entry.address) && entry.conn.receivedNewest) {
        const portOnly = rinfo.address === entry.address;
        entry.port = rinfo.port;
        entry.address = rinfo.address;
        entry.conn.pathChanged(portOnly);
      }
      this.#pump(entry);
      return;
    }
    // A short-header packet for a connection we do not have: a stateless reset (§10.3), when big enough.
    if ((msg[0]! & 0x80) === 0) {
      const reset = this.#resets.packet(dcid, msg.length);
      if (reset !== null) {
        this.#socket?.send(reset, rinfo.port, rinfo.address);
        this.#resetsSent++;
        return;
      }
    }
    // A new connection: an Initial in a full-size datagram (§14.1), room for it.
    if (!initial || msg.length < 1200 || this.#entries.size >= (this.#o.maxConnections ?? 10_000)) {
      this.#dropped++;
      return;
    }
    // Address validation (§8.1.2): a token from our Retry, or a Retry when too many handshakes are open —
    // unless a NEW_TOKEN token of ours proves the address already (§8.1.3).
    let retry: { originalDcid: Buffer } | undefined;
    let validated = false;
    if (token !== null && token.length > 0) {
      if (this.#tokens.checkAddress(token, rinfo.address)) validated = true;
      else {
        const info = this.#tokens.check(token, rinfo.address, rinfo.port, dcid);
        if (info !== null) retry = info;
        else if (token[0] === RETRY_TOKEN_KIND) {
          this.#dropped++; // a Retry token of ours gone stale or moved: the client takes no second Retry (§8.1.2)
          return;
        }
        // Else another server's token, or one of ours from before a restart: as if there were none (§8.1.3).
      }
    }
    if (retry === undefined && !validated && this.#handshaking() >= (this.#o.retryAbove ?? 100)) {
      const next = randomBytes(CID_LENGTH);
      this.#socket?.send(buildRetry({ dcid: scid!, scid: next, token: this.#tokens.issue(rinfo.address, rinfo.port, dcid, next), odcid: dcid }), rinfo.port, rinfo.address);
      this.#retries++;
      return;
    }
    let conn: ServerConnection;
    try {
      conn = new ServerConnection(msg, {
        ...this.#o,
        resetToken: (cid) => this.#resets.token(cid),
        newToken: () => this.#tokens.issueForAddress(rinfo.address),
        addressValidated: validated,
        ...(retry === undefined ? {} : { retry }),
      });
    } catch {
      this.#dropped++;
      return;
    }
    if (!conn.authenticated) {
      this.#dropped++; // an Initial that does not open: no state kept for it (RFC 9000 §12.2)
      return;
    }
    const e: Entry = { conn, port: rinfo.port, address: rinfo.address, timer: null, at: 0, ids: [dcid.toString('hex'), conn.localCid.toString('hex')], soon: false };
    conn.onReady = () => {
      if (e.soon) return;
      e.soon = true;
      setImmediate(() => {
        e.soon = false;
        if (this.#entries.has(e)) this.#pump(e);
      });
    };
    // The ids the connection issues are routed to it too, until the client retires them (RFC 9000 §5.1).
    conn.onConnectionId = (cid, added) => {
      const id = cid.toString('hex');
      if (added) {
        e.ids.push(id);
        this.#byId.set(id, e);
      } else if (this.#byId.get(id) === e) {
        this.#byId.delete(id);
        e.ids = e.ids.filter((x) => x !== id);
      }
    };
    for (const id of e.ids) this.#byId.set(id, e);
    this.#entries.add(e);
    this.#pending.add(e);
    this.#o.onConnection(conn, rinfo.address);
    this.#pump(e);
  }

  /**
   * A Version Negotiation packet (RFC 9000 §17.2.1) from the invariant header fields (RFC 8999 §5.1) alone:
   * the client's connection ids swapped, then the versions we speak — 1, and a reserved one (§15) so clients
   * keep tolerating unknown versions.
   */
  #negotiate(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const dcidLen = msg[5]!;
    const scidAt = 6 + dcidLen;
    if (scidAt >= msg.length) return void this.#dropped++;
    const scidLen = msg[scidAt]!;
    if (scidAt + 1 + scidLen > msg.length) return void this.#dropped++;
    const dcid = msg.subarray(6, scidAt);
    const scid = msg.subarray(scidAt + 1, scidAt + 1 + scidLen);
    const out = Buffer.alloc(1 + 4 + 1 + scid.length + 1 + dcid.length + 8);
    let i = 0;
    out[i++] = 0x80 | (Math.random() * 0x80);
    i = out.writeUInt32BE(0, i);
    out[i++] = scid.length;
    i += scid.copy(out, i);
    out[i++] = dcid.length;
    i += dcid.copy(out, i);
    i = out.writeUInt32BE(0x00000001, i);
    out.writeUInt32BE(0x1a2a3a4a, i);
    this.#socket?.send(out, rinfo.port, rinfo.address);
    this.#negotiated++;
  }

  /** Connections still in their handshake (the set is pruned as it is counted: it stays near `retryAbove`). */
  #handshaking(): number {
    for (const e of this.#pending) if (e.conn.state !== 'handshake' || !this.#entries.has(e)) this.#pending.delete(e);
    return this.#pending.size;
  }

  /** Sends what the connection has, re-arms its timer, and forgets it once closed. */
  #pump(e: Entry): void {
    for (const d of e.conn.poll()) this.#socket?.send(d, e.port, e.address);
    if (e.conn.state === 'closed') {
      this.#forget(e);
      return;
    }
    const t = e.conn.timeout();
    if (t === null) {
      if (e.timer !== null) clearTimeout(e.timer);
      e.timer = null;
      return;
    }
    // A timer that fires no later than needed is kept: every datagram moves the idle deadline on, and
    // re-arming each time was a clearTimeout and a setTimeout per datagram. One that fires early finds
    // nothing due (onTimeout checks the time) and is armed again for the deadline then.
    if (e.timer !== null && e.at <= t) return;
    if (e.timer !== null) clearTimeout(e.timer);
    e.at = t;
    e.timer = setTimeout(() => {
      e.timer = null;
      e.conn.onTimeout();
      this.#pump(e);
    }, Math.max(0, t - Date.now()));
    e.timer.unref();
  }

  #forget(e: Entry): void {
    if (e.timer !== null) clearTimeout(e.timer);
    e.conn.onClosed();
    for (const id of e.ids) this.#byId.delete(id);
    this.#entries.delete(e);
    this.#pending.delete(e);
  }

  /** Stops: the socket closes, connections are dropped (no CONNECTION_CLOSE yet). */
  close(): Promise<void> {
    for (const e of [...this.#entries]) this.#forget(e);
    const s = this.#socket;
    this.#socket = null;
    return new Promise((resolve) => (s === null ? resolve() : s.close(() => resolve())));
  }
}
