/**
 * The ClientHello (RFC 8446 §4.1.2) a TLS 1.3 server reads: every length checked against what contains it,
 * every extension at most once (§4.2), the ones the server acts on parsed and validated — supported
 * versions, key shares (the key sizes of their groups), signature algorithms, groups, server name (RFC 6066
 * §3), ALPN (RFC 7301), QUIC transport parameters (kept as bytes for `covet/quic`). A bad message is a
 * TlsAlert naming the alert to send; nothing here reads past its input.
 */
import { Alert, TlsAlert } from './alert.js';

export const EXT_SERVER_NAME = 0x0000;
export const EXT_SUPPORTED_GROUPS = 0x000a;
export const EXT_SIGNATURE_ALGORITHMS = 0x000d;
export const EXT_ALPN = 0x0010;
export const EXT_PRE_SHARED_KEY = 0x0029;
export const EXT_EARLY_DATA = 0x002a;
export const EXT_SUPPORTED_VERSIONS = 0x002b;
export const EXT_PSK_KEY_EXCHANGE_MODES = 0x002d;
export const EXT_KEY_SHARE = 0x0033;
export const EXT_QUIC_TRANSPORT_PARAMETERS = 0x0039;

export const GROUP_SECP256R1 = 0x0017;
export const GROUP_X25519 = 0x001d;
/** Key share sizes we can check (RFC 8446 §4.2.8.2: uncompressed P-256 points; X25519 keys). */
const SHARE_LENGTH: Record<number, number> = { [GROUP_SECP256R1]: 65, [GROUP_X25519]: 32 };

export interface ClientHello {
  random: Buffer;
  sessionId: Buffer;
  cipherSuites: number[];
  /** Every extension by type, as sent. */
  extensions: Map<number, Buffer>;
  supportedVersions: number[];
  keyShares: Array<{ group: number; key: Buffer }>;
  signatureAlgorithms: number[];
  supportedGroups: number[];
  serverName: string | null;
  alpn: string[];
  /** `quic_transport_parameters` (RFC 9001 §8.2), for the QUIC layer to parse. */
  transportParameters: Buffer | null;
  /** The message's bytes (type and length included), for the transcript hash. */
  raw: Buffer;
}

/** A cursor that refuses to read past its end (decode_error). */
class Reader {
  i: number;
  readonly end: number;
  readonly #b: Buffer;
  constructor(b: Buffer, start = 0, end = b.length) {
    this.#b = b;
    this.i = start;
    this.end = end;
  }
  need(n: number, what: string): void {
    if (this.i + n > this.end) throw new TlsAlert(Alert.decode_error, `ClientHello: ${what} runs past its end`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.#b[this.i++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.#b.readUInt16BE(this.i);
    this.i += 2;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const out = this.#b.subarray(this.i, this.i + n);
    this.i += n;
    return out;
  }
  /** A vector with a 1- or 2-byte length, as a reader over its contents. */
  vector(lenBytes: 1 | 2, what: string, min = 0, max = 0xffff): Reader {
    const n = lenBytes === 1 ? this.u8(what) : this.u16(what);
    if (n < min || n > max) throw new TlsAlert(Alert.decode_error, `ClientHello: ${what} of ${n} bytes (allowed ${min}..${max})`);
    this.need(n, what);
    const r = new Reader(this.#b, this.i, this.i + n);
    this.i += n;
    return r;
  }
  /** What is left of this reader's range. */
  rest(): Buffer {
    const out = this.#b.subarray(this.i, this.end);
    this.i = this.end;
    return out;
  }
  get done(): boolean {
    return this.i === this.end;
  }
  finish(what: string): void {
    if (!this.done) throw new TlsAlert(Alert.decode_error, `ClientHello: ${this.end - this.i} bytes left over in ${what}`);
  }
}

/**
 * Parses a ClientHello handshake message (type 1, 3-byte length, body).
 *
 * @example
 * ```ts
 * const ch = parseClientHello(cryptoStreamBytes);
 * if (!ch.alpn.includes('h3')) throw new TlsAlert(Alert.no_application_protocol, 'no h3');
 * ```
 */
export function parseClientHello(msg: Buffer): ClientHello {
  if (msg.length < 4) throw new TlsAlert(Alert.decode_error, 'ClientHello: shorter than a handshake header');
  if (msg[0] !== 1) throw new TlsAlert(Alert.unexpected_message, `expected a ClientHello (1), got handshake type ${msg[0]}`);
  const len = msg.readUIntBE(1, 3);
  if (4 + len !== msg.length) throw new TlsAlert(Alert.decode_error, `ClientHello: length ${len} but ${msg.length - 4} bytes given`);
  const r = new Reader(msg, 4);
  const legacyVersion = r.u16('legacy_version');
  if (legacyVersion !== 0x0303) throw new TlsAlert(Alert.protocol_version, `ClientHello: legacy_version 0x${legacyVersion.toString(16)} (TLS 1.3 clients send 0x0303)`);
  const random = r.bytes(32, 'random');
  const sessionId = r.vector(1, 'legacy_session_id', 0, 32).rest();
  const suites = r.vector(2, 'cipher_suites', 2, 0xfffe);
  if ((suites.end - suites.i) % 2 !== 0) throw new TlsAlert(Alert.decode_error, 'ClientHello: cipher_suites of an odd length');
  const cipherSuites: number[] = [];
  while (!suites.done) cipherSuites.push(suites.u16('cipher suite'));
  const comp = r.vector(1, 'legacy_compression_methods', 1, 255);
  // §4.1.2: exactly one byte, null compression.
  if (comp.end - comp.i !== 1 || comp.u8('compression') !== 0) throw new TlsAlert(Alert.illegal_parameter, 'ClientHello: legacy_compression_methods must be the one null method');
  const exts = r.vector(2, 'extensions', 8, 0xffff);
  r.finish('the message');
  const extensions = new Map<number, Buffer>();
  while (!exts.done) {
    const type = exts.u16('extension type');
    const data = exts.vector(2, `extension 0x${type.toString(16)}`);
    if (extensions.has(type)) throw new TlsAlert(Alert.illegal_parameter, `ClientHello: extension 0x${type.toString(16)} sent twice (§4.2)`);
    extensions.set(type, data.rest());
  }
  // §4.2.11: pre_shared_key, when present, is the last extension.
  if (extensions.has(EXT_PRE_SHARED_KEY) && [...extensions.keys()].at(-1) !== EXT_PRE_SHARED_KEY) throw new TlsAlert(Alert.illegal_parameter, 'ClientHello: pre_shared_key must be the last extension (§4.2.11)');

  const list16 = (type: number, what: string, min: number): number[] => {
    const d = extensions.get(type);
    if (d === undefined) return [];
    const v = new Reader(d).vector(2, what, min);
    if ((v.end - v.i) % 2 !== 0) throw new TlsAlert(Alert.decode_error, `ClientHello: ${what} of an odd length`);
    const out: number[] = [];
    while (!v.done) out.push(v.u16(what));
    return out;
  };

  let supportedVersions: number[] = [];
  const sv = extensions.get(EXT_SUPPORTED_VERSIONS);
  if (sv !== undefined) {
    const v = new Reader(sv).vector(1, 'supported_versions', 2, 254);
    if ((v.end - v.i) % 2 !== 0) throw new TlsAlert(Alert.decode_error, 'ClientHello: supported_versions of an odd length');
    while (!v.done) supportedVersions.push(v.u16('version'));
  }
  if (!supportedVersions.includes(0x0304)) throw new TlsAlert(Alert.protocol_version, 'ClientHello: TLS 1.3 is not among the supported versions');

  const keyShares: Array<{ group: number; key: Buffer }> = [];
  const ks = extensions.get(EXT_KEY_SHARE);
  if (ks !== undefined) {
    const outer = new Reader(ks);
    const v = outer.vector(2, 'client_shares');
    outer.finish('key_share');
    while (!v.done) {
      const group = v.u16('key share group');
      const key = v.vector(2, 'key_exchange', 1).rest();
      const expected = SHARE_LENGTH[group];
      if (keyShares.some((k) => k.group === group)) throw new TlsAlert(Alert.illegal_parameter, `ClientHello: two key shares for group 0x${group.toString(16)} (§4.2.8)`);
      keyShares.push({ group, key });
      if (expected !== undefined && key.length !== expected) throw new TlsAlert(Alert.illegal_parameter, `ClientHello: a 0x${group.toString(16)} key share of ${key.length} bytes (expected ${expected})`);
      if (group === GROUP_SECP256R1 && key[0] !== 0x04) throw new TlsAlert(Alert.illegal_parameter, 'ClientHello: a P-256 key share must be an uncompressed point (§4.2.8.2)');
    }
  }

  let serverName: string | null = null;
  const sni = extensions.get(EXT_SERVER_NAME);
  if (sni !== undefined && sni.length > 0) {
    const outer = new Reader(sni);
    const list = outer.vector(2, 'server_name_list', 1);
    outer.finish('server_name');
    while (!list.done) {
      const type = list.u8('name type');
      const name = list.vector(2, 'host name', 1);
      // RFC 6066 §3: one host_name; its bytes ASCII, without a trailing dot.
      if (type !== 0) continue;
      if (serverName !== null) throw new TlsAlert(Alert.illegal_parameter, 'ClientHello: two host names in server_name');
      const text = name.rest().toString('latin1');
      if (!/^[\x21-\x7e]+$/.test(text) || text.endsWith('.')) throw new TlsAlert(Alert.illegal_parameter, 'ClientHello: server_name is not a host name');
      serverName = text.toLowerCase();
    }
  }

  const alpn: string[] = [];
  const al = extensions.get(EXT_ALPN);
  if (al !== undefined) {
    const outer = new Reader(al);
    const list = outer.vector(2, 'protocol_name_list', 2);
    outer.finish('application_layer_protocol_negotiation');
    while (!list.done) {
      const p = list.vector(1, 'protocol name', 1);
      alpn.push(p.rest().toString('latin1'));
    }
  }

  return {
    random,
    sessionId: Buffer.from(sessionId),
    cipherSuites,
    extensions,
    supportedVersions,
    keyShares,
    signatureAlgorithms: list16(EXT_SIGNATURE_ALGORITHMS, 'signature_algorithms', 2),
    supportedGroups: list16(EXT_SUPPORTED_GROUPS, 'supported_groups', 2),
    serverName,
    alpn,
    transportParameters: extensions.get(EXT_QUIC_TRANSPORT_PARAMETERS) ?? null,
    raw: msg,
  };
}
