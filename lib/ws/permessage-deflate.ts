/**
 * permessage-deflate (RFC 7692): parameter negotiation and per-message compression with node:zlib.
 *
 * Memory is the first concern (thousands of connections): every message is compressed and inflated with
 * a one-shot zlib context that is freed at once, so an idle connection holds no zlib memory. By default
 * both directions run without context takeover, which the server may impose on the client (§7.1.1.2).
 * With context takeover, the only state is the last 2^bits bytes of plaintext, given to zlib as a preset
 * dictionary. Inflation always stops at `maxMessageSize` (zip bombs end in 1009).
 */
import zlib from 'node:zlib';
import { WsProtocolError } from './errors.js';

export interface PerMessageDeflateOptions {
  /** Server: do not keep our compression context between messages. Default true. */
  serverNoContextTakeover?: boolean;
  /** Ask the client not to keep its context (so we need none to inflate). Default true. */
  clientNoContextTakeover?: boolean;
  /** Server window bits (8–15). Default 15. */
  serverMaxWindowBits?: number;
  /** Client window bits we ask for when the client allows it (8–15). Default 15. */
  clientMaxWindowBits?: number;
  /** Messages smaller than this are sent uncompressed. Default 1024 bytes. */
  threshold?: number;
  /** zlib level 0–9. Default 6 (zlib default). */
  level?: number;
}

/** The parameters agreed for one connection. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

/** One extension of a Sec-WebSocket-Extensions value, as offered or answered. */
export interface ExtensionOffer {
  name: string;
  /** Parameter values (`true`: no value); quoted-string values unquoted. */
  params: Map<string, string | true>;
  /** A parameter appeared more than once (RFC 7692 §7: such an offer is declined). */
  duplicate: boolean;
  /** Not the grammar of RFC 6455 §9.1 (a name or value that is not a token, an empty parameter). */
  malformed: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses a Sec-WebSocket-Extensions value into offers (RFC 6455 §9.1, RFC 7692 §5), keeping what must decline one.
 *
 * @example
 * ```ts
 * parseExtensions('permessage-deflate; client_max_window_bits, x-foo');
 * // [{ name: 'permessage-deflate', params: Map { 'client_max_window_bits' => true }, … }, { name: 'x-foo', … }]
 * ```
 */
export function parseExtensions(header: string): ExtensionOffer[] {
  const out: ExtensionOffer[] = [];
  for (const ext of header.split(',')) {
    const [first, ...parts] = ext.split(';').map((p) => p.trim());
    const name = first!.toLowerCase(); // split gives at least one part
    if (name.length === 0) continue;
    const params = new Map<string, string | true>();
    let duplicate = false;
    let malformed = !TOKEN.test(name);
    for (const p of parts) {
      const eq = p.indexOf('=');
      const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
      let value: string | true = true;
      if (eq >= 0) {
        value = p.slice(eq + 1).trim();
        const quoted = /^"(.*)"$/.exec(value);
        if (quoted !== null) value = quoted[1]!.replace(/\\(.)/g, '$1');
        if (!TOKEN.test(value)) malformed = true;
      }
      if (!TOKEN.test(key)) malformed = true;
      if (params.has(key)) duplicate = true;
      params.set(key, value);
    }
    out.push({ name, params, duplicate, malformed });
  }
  return out;
}

const PARAMS = new Set(['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits']);

/** A window-bits value: 8–15 in decimal without leading zeros (RFC 7692 §7.1.2.1); anything else is -1. */
const bits = (v: string | true | undefined): number | null => {
  if (v === undefined) return null;
  if (!/^(?:8|9|1[0-5])$/.test(String(v))) return -1; // a value-less `true` reads "true": not a number
  return Number(v);
};

/** What an offer or response says, or null when it breaks a rule of RFC 7692 §7 (then it is declined). */
function readParams(e: ExtensionOffer): { sBits: number | null; cBits: number | null; cBitsOffered: boolean; serverNct: boolean; clientNct: boolean } | null {
  if (e.malformed || e.duplicate) return null;
  for (const k of e.params.keys()) if (!PARAMS.has(k)) return null; // an unknown parameter
  const p = e.params;
  // The no_context_takeover parameters take no value.
  if ((p.has('server_no_context_takeover') && p.get('server_no_context_takeover') !== true) || (p.has('client_no_context_takeover') && p.get('client_no_context_takeover') !== true)) return null;
  const sBits = bits(p.get('server_max_window_bits')); // a value is required
  const cRaw = p.get('client_max_window_bits'); // a value is optional: alone it says "I support it"
  const cBits = cRaw === true ? null : bits(cRaw);
  if (sBits === -1 || cBits === -1) return null;
  return { sBits, cBits, cBitsOffered: cRaw !== undefined, serverNct: p.has('server_no_context_takeover'), clientNct: p.has('client_no_context_takeover') };
}

/**
 * Server side (RFC 7692 §7): accepts the first permessage-deflate offer it can honour, declining offers
 * that repeat a parameter, carry an unknown one or a value out of the grammar. Returns the agreed
 * parameters and the response extension string, or null when nothing acceptable was offered (the
 * connection then runs without compression).
 *
 * @example
 * ```ts
 * const agreed = acceptOffer(req.get('sec-websocket-extensions'), { threshold: 512 });
 * if (agreed !== null) extraHeaders['Sec-WebSocket-Extensions'] = agreed.response;
 * ```
 */
export function acceptOffer(header: string | undefined, options: PerMessageDeflateOptions): { params: DeflateParams; response: string } | null {
  if (header === undefined) return null;
  for (const ext of parseExtensions(header)) {
    if (ext.name !== 'permessage-deflate') continue;
    const o = readParams(ext);
    if (o === null) continue;
    // §7.1.2.1: a window no larger than the client asked for; 8 is honoured (zlib deflates with 9 but then
    // never refers further back than 250 bytes, within what an 8-bit window holds).
    const wantServerBits = options.serverMaxWindowBits ?? 15;
    const serverBits = o.sBits === null ? wantServerBits : Math.min(o.sBits, wantServerBits);
    // §7.1.2.2: the client's window may only be limited when it said it supports the parameter.
    const clientBits = o.cBitsOffered ? Math.min(o.cBits ?? 15, options.clientMaxWindowBits ?? 15) : 15;
    const serverNct = o.serverNct || (options.serverNoContextTakeover ?? true);
    const clientNct = o.clientNct || (options.clientNoContextTakeover ?? true);
    let response = 'permessage-deflate';
    if (serverNct) response += '; server_no_context_takeover';
    if (clientNct) response += '; client_no_context_takeover';
    if (o.sBits !== null || serverBits < 15) response += `; server_max_window_bits=${serverBits}`;
    if (o.cBitsOffered && clientBits < (o.cBits ?? 15)) response += `; client_max_window_bits=${clientBits}`;
    return {
      params: { serverNoContextTakeover: serverNct, clientNoContextTakeover: clientNct, serverMaxWindowBits: serverBits, clientMaxWindowBits: clientBits },
      response,
    };
  }
  return null;
}

/**
 * Client side: the offer we send.
 *
 * @example
 * ```ts
 * headers['Sec-WebSocket-Extensions'] = clientOffer({}); // 'permessage-deflate; client_max_window_bits'
 * ```
 */
export function clientOffer(options: PerMessageDeflateOptions): string {
  let s = 'permessage-deflate; client_max_window_bits';
  if (options.clientNoContextTakeover) s += '; client_no_context_takeover';
  if (options.serverNoContextTakeover) s += '; server_no_context_takeover';
  if (options.serverMaxWindowBits !== undefined && options.serverMaxWindowBits < 15) s += `; server_max_window_bits=${options.serverMaxWindowBits}`;
  return s;
}

/**
 * Client side: checks the server's response against what we offered. Throws on anything we cannot accept.
 *
 * @example
 * ```ts
 * const params = acceptResponse(res.headers['sec-websocket-extensions'], {}); // throws if the server answered what we did not offer
 * const deflate = new PerMessageDeflate(params, 'client');
 * ```
 */
export function acceptResponse(header: string, options: PerMessageDeflateOptions): DeflateParams {
  const exts = parseExtensions(header);
  if (exts.length !== 1 || exts[0]!.name !== 'permessage-deflate') throw new Error(`unexpected extensions ${JSON.stringify(header)}`);
  const r = readParams(exts[0]!);
  if (r === null) throw new Error(`invalid permessage-deflate response ${JSON.stringify(header)}`);
  if (options.serverMaxWindowBits !== undefined && (r.sBits ?? 15) > options.serverMaxWindowBits) throw new Error('server_max_window_bits above what we asked');
  if (options.serverNoContextTakeover === true && !r.serverNct) throw new Error('server_no_context_takeover was asked for and not agreed');
  return {
    serverNoContextTakeover: r.serverNct,
    clientNoContextTakeover: r.clientNct,
    serverMaxWindowBits: r.sBits ?? 15,
    clientMaxWindowBits: r.cBits ?? 15,
  };
}

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * Compresses a message with no context and a 15-bit window (for messages shared by many connections).
 *
 * @example
 * ```ts
 * const compressed = compressShared(Buffer.from(JSON.stringify(update))); // once, for every subscriber
 * ```
 */
export function compressShared(data: Buffer, level: number = zlib.constants.Z_DEFAULT_COMPRESSION): Buffer {
  const out = zlib.deflateRawSync(data, { windowBits: 15, level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.length >= 4 && out.subarray(out.length - 4).equals(TRAILER) ? out.subarray(0, out.length - 4) : out;
}

/**
 * One connection's compressor and decompressor. `role` decides which side's parameters apply to which
 * direction.
 *
 * @example
 * ```ts
 * const deflate = new PerMessageDeflate(agreed.params, 'server');
 * const out = deflate.compress(Buffer.from('hello hello hello'));  // send with RSV1 set
 * const back = deflate.decompress(incoming, 16 * 1024 * 1024);     // a client's compressed message, bounded
 * deflate.close();
 * ```
 */
export class PerMessageDeflate {
  readonly threshold: number;
  readonly level: number;
  readonly params: DeflateParams;
  readonly role: 'server' | 'client';
  /**
   * Context takeover without a zlib stream per connection: the LZ77 window is just the last 2^bits bytes
   * of plaintext, so it is kept as bytes and given to a one-shot zlib call as its preset dictionary —
   * synchronous (message order is never in question) and bounded (at most 32 KiB per direction).
   */
  #sendWindow: Buffer | null = null;
  #recvWindow: Buffer | null = null;

  constructor(params: DeflateParams, role: 'server' | 'client', options: PerMessageDeflateOptions = {}) {
    this.params = params;
    this.role = role;
    this.threshold = options.threshold ?? 1024;
    this.level = options.level ?? zlib.constants.Z_DEFAULT_COMPRESSION;
  }

  get #sendNct(): boolean {
    return this.role === 'server' ? this.params.serverNoContextTakeover : this.params.clientNoContextTakeover;
  }
  get #recvNct(): boolean {
    return this.role === 'server' ? this.params.clientNoContextTakeover : this.params.serverNoContextTakeover;
  }
  get #sendBits(): number {
    return this.role === 'server' ? this.params.serverMaxWindowBits : this.params.clientMaxWindowBits;
  }
  get #recvBits(): number {
    return this.role === 'server' ? this.params.clientMaxWindowBits : this.params.serverMaxWindowBits;
  }

  /**
   * A message compressed once for many connections can be sent on this one: we send without context
   * takeover and with the full 15-bit window it was made with.
   */
  get acceptsShared(): boolean {
    return this.#sendNct && this.#sendBits === 15;
  }

  /** Compresses one whole message (RFC 7692 §7.2.1: the trailing 00 00 FF FF is removed). */
  compress(data: Buffer): Buffer {
    // zlib has no raw 8-bit window: 9, whose matches reach back at most 250 bytes (see acceptOffer).
    const windowBits = Math.max(9, this.#sendBits);
    const opts: zlib.ZlibOptions = { windowBits, level: this.level, finishFlush: zlib.constants.Z_SYNC_FLUSH };
    if (!this.#sendNct && this.#sendWindow !== null) opts.dictionary = this.#sendWindow;
    const out = zlib.deflateRawSync(data, opts);
    if (!this.#sendNct) this.#sendWindow = slide(this.#sendWindow, data, 1 << windowBits);
    return out.length >= 4 && out.subarray(out.length - 4).equals(TRAILER) ? out.subarray(0, out.length - 4) : out;
  }

  /** Inflates one whole message, refusing more than `limit` bytes of output. */
  decompress(data: Buffer, limit: number): Buffer {
    const input = Buffer.concat([data, TRAILER]);
    try {
      // Inflating with the largest window accepts data made with any smaller one.
      const opts: zlib.ZlibOptions = { windowBits: 15, maxOutputLength: limit + 1, finishFlush: zlib.constants.Z_SYNC_FLUSH };
      if (!this.#recvNct && this.#recvWindow !== null) opts.dictionary = this.#recvWindow;
      const out = zlib.inflateRawSync(input, opts);
      if (out.length > limit) this.#tooBig(limit);
      if (!this.#recvNct) this.#recvWindow = slide(this.#recvWindow, out, 1 << Math.max(9, this.#recvBits));
      return out;
    } catch (err) {
      if (err instanceof WsProtocolError) throw err;
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') this.#tooBig(limit);
      throw new WsProtocolError('INFLATE_FAILED', (err as Error).message);
    }
  }

  #tooBig(limit: number): never {
    throw new WsProtocolError('MESSAGE_TOO_BIG', `inflated message larger than ${limit} bytes`);
  }

  /** @internal Octets kept between messages for context takeover (at most 2^bits per direction that keeps one). */
  get keptBytes(): number {
    return (this.#sendWindow?.length ?? 0) + (this.#recvWindow?.length ?? 0);
  }

  /** Drops the kept windows (the connection is gone). */
  close(): void {
    this.#sendWindow = null;
    this.#recvWindow = null;
  }
}

/**
 * @internal The last `size` bytes of `window` followed by `data`: what is kept is never more than `size`.
 *
 * @example
 * ```ts
 * slide(Buffer.from('abc'), Buffer.from('de'), 4).toString(); // 'bcde'
 * ```
 */
export function slide(window: Buffer | null, data: Buffer, size: number): Buffer {
  if (data.length >= size) return Buffer.from(data.subarray(data.length - size));
  if (window === null) return Buffer.from(data);
  const keep = Math.min(window.length, size - data.length);
  return Buffer.concat([window.subarray(window.length - keep), data]);
}
