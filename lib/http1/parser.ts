import { CR, FIELD_VALUE, HEX, HTAB, LF, REASON, SEMI, SP, TARGET, TOKEN, COLON } from './chars.js';
import { Http1ParseError, type Http1ErrorCode } from './errors.js';
import {
  H_CONNECTION,
  H_CONTENT_LENGTH,
  H_EXPECT,
  H_HOST,
  H_TRANSFER_ENCODING,
  H_UPGRADE,
  fieldIdAt,
  matchKnown,
} from './known-headers.js';

/**
 * The head of a request or response, handed to {@link Http1ParserHandler.onHeadersComplete}.
 * A new object per message: it may be kept.
 */
export interface MessageHead {
  /** Request method (case-sensitive token), `''` for responses. */
  method: string;
  /** Request-target exactly as sent, `''` for responses. */
  url: string;
  versionMajor: number;
  versionMinor: number;
  /** Response status code, 0 for requests. */
  statusCode: number;
  /** Response reason phrase, `''` for requests. */
  statusMessage: string;
  /** Raw fields as flat pairs `[name, value, name, value, ...]`, names as sent, values trimmed of OWS. */
  headers: string[];
  /** Whether the connection may carry another message after this one (RFC 9112 §9.3). */
  keepAlive: boolean;
  /** Upgrade (with `Connection: upgrade`) or CONNECT: the parser stops after this message. */
  upgrade: boolean;
  /** Body length from Content-Length, or -1 when absent. */
  contentLength: number;
  /** Body uses chunked transfer coding. */
  chunked: boolean;
  /** Request carries `Expect: 100-continue`. */
  expectContinue: boolean;
}

/**
 * Events of {@link Http1Parser}. Only `onHeadersComplete`, `onBody` and `onMessageComplete` are required.
 * The optional span events carry whole strings (the parser reassembles tokens split across chunks).
 */
export interface Http1ParserHandler {
  onMessageBegin?(): void;
  onMethod?(method: string): void;
  onUrl?(url: string): void;
  onHeader?(name: string, value: string): void;
  /**
   * The head is complete. For responses, return `true` when the message has no body whatever its headers
   * say (the answer to a HEAD request, RFC 9110 §9.3.2).
   */
  onHeadersComplete(head: MessageHead): boolean | void;
  /** A piece of body: a view into the chunk given to `execute` (no copy). Valid as long as that chunk. */
  onBody(chunk: Buffer): void;
  /** Trailer fields of a chunked message (only when there are some), flat pairs like `headers`. */
  onTrailers?(trailers: string[]): void;
  onMessageComplete(): void;
}

export type ParserKind = 'request' | 'response';

export interface Http1ParserOptions {
  /** Longest request-target accepted (414 beyond). Default 8 KiB. */
  maxUrlLength?: number;
  /** Longest method (400 beyond). Default 32. */
  maxMethodLength?: number;
  /** Most bytes in start-line + header section, and separately in the trailer section (431 beyond). Default 16 KiB. */
  maxHeaderSize?: number;
  /** Most header fields (431 beyond). Default 100. */
  maxHeaderCount?: number;
  /** Most bytes of chunk extensions in one message (400 beyond). Default 16 KiB. */
  maxChunkExtensionsSize?: number;
  /** Largest body accepted, by Content-Length or as received (413 beyond). Default: unlimited (-1). */
  maxBodySize?: number;
  /** Requests: HTTP/1.1 without exactly one valid Host is a 400 (RFC 9112 §3.2). Default true. */
  requireHost?: boolean;
  /**
   * Where the scratch buffer for tokens split across chunks comes from (e.g. a `covet/net` BufferPool);
   * it is given back by {@link Http1Parser.dispose}. Default: plain allocation.
   */
  scratch?: ScratchAllocator;
}

/** A source of reusable buffers (structurally, `BufferPool` from `covet/net`). */
export interface ScratchAllocator {
  acquire(size: number): Buffer;
  release(buf: Buffer): void;
}

// States. Names say what is expected next.
const S_START = 0; // before a message: CRLFs are skipped (RFC 9112 §2.2), then method or version
const S_METHOD = 1;
const S_URL = 2;
const S_REQ_VERSION = 3;
const S_LINE_LF = 4; // after the CR of the start-line
const S_RES_VERSION = 5;
const S_STATUS = 6;
const S_REASON = 7;
const S_FIELD_START = 8; // start of a field line, or the CR of the empty line
const S_FIELD_NAME = 9;
const S_VALUE_OWS = 10;
const S_VALUE = 11;
const S_VALUE_LF = 12;
const S_HEAD_END_LF = 13; // after the CR of the empty line
const S_BODY_LENGTH = 14;
const S_BODY_EOF = 15;
const S_CHUNK_SIZE = 16;
const S_CHUNK_EXT = 17; // from the first BWS or ';' after the size, up to CR
const S_CHUNK_SIZE_LF = 18;
const S_CHUNK_DATA = 19;
const S_CHUNK_DATA_CR = 20;
const S_CHUNK_DATA_LF = 21;
const S_CLOSED = 22; // after a message that ends the connection: further bytes are ignored
const S_UPGRADED = 23; // bytes after an Upgrade/CONNECT belong to another protocol
const S_ERROR = 24;

const MAX_SAFE_DIV16 = Math.floor(Number.MAX_SAFE_INTEGER / 16);

/** Bytes looked at first for a complete head on the fast path (most request heads are smaller). */
const FAST_WINDOW = 2048;

/** The fields of no message (frozen: a push into it would throw rather than leak across parsers). */
const NO_FIELDS = Object.freeze([]) as unknown as string[];

/**
 * The standard methods as string literals, which V8 keeps internalized: code keyed by the method (a
 * router's per-method records, `method === 'GET'`) then compares pointers and finds the hash cached,
 * instead of hashing a fresh copy of three letters per request.
 */
function knownMethod(m: string): string {
  switch (m.length) {
    case 3:
      return m === 'GET' ? 'GET' : m === 'PUT' ? 'PUT' : m;
    case 4:
      return m === 'POST' ? 'POST' : m === 'HEAD' ? 'HEAD' : m;
    case 5:
      return m === 'PATCH' ? 'PATCH' : m === 'TRACE' ? 'TRACE' : m;
    case 6:
      return m === 'DELETE' ? 'DELETE' : m;
    case 7:
      return m === 'OPTIONS' ? 'OPTIONS' : m === 'CONNECT' ? 'CONNECT' : m;
    default:
      return m;
  }
}

/**
 * A whole request head in one match (RFC 9112 §3, §5): method SP request-target SP HTTP/1.x CRLF, then
 * field lines `token ":" field-value CRLF` (no whitespace before the colon, no obs-fold, no CTLs), then
 * CRLF. Values here are visible ASCII and SP only: one range is ~12 % faster to match than the whole
 * field-value grammar; the rare HTAB or obs-text byte, like anything else it does not match, goes to the
 * byte-by-byte parser, which accepts what is valid and names the error in what is not. Sticky: it is
 * matched at `lastIndex` inside a window holding several pipelined requests, with `test` (no captures, no
 * match array: the parts are found by `indexOf` in what it proved well-formed).
 */
const REQUEST_HEAD_AT = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e]+ HTTP\/1\.[01]\r\n(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[ -~]*\r\n)*\r\n/y;

/**
 * An incremental HTTP/1.1 request or response parser: a state machine over a byte offset that reports
 * events to a handler. It never touches a socket: feed it bytes with {@link execute}, tell it about EOF with
 * {@link finish}. Any split of the input gives the same events as one call.
 *
 * Strict by default: every verdict that matters for request smuggling is listed in docs/http1-verdicts.md.
 * Errors are thrown as {@link Http1ParseError}, after which the parser stays failed.
 *
 * @example
 * ```ts
 * import { Http1Parser } from 'covet/http1';
 * const parser = new Http1Parser('request', {
 *   onHeadersComplete(head) { console.log(head.method, head.url, head.headers); },
 *   onBody(chunk) { console.log('body', chunk.length); },
 *   onMessageComplete() { console.log('done'); },
 * });
 * parser.execute(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
 * ```
 */
export class Http1Parser {
  readonly kind: ParserKind;
  handler: Http1ParserHandler;
  readonly maxUrlLength: number;
  readonly maxMethodLength: number;
  readonly maxHeaderSize: number;
  readonly maxHeaderCount: number;
  readonly maxChunkExtensionsSize: number;
  readonly maxBodySize: number;
  readonly requireHost: boolean;

  /** Set once a parse error was thrown; the parser then refuses further input. */
  error: Http1ParseError | null = null;
  /** True after an Upgrade/CONNECT message completed; `execute` returned the offset of the unread bytes. */
  upgraded = false;

  #state = S_START;
  #paused = false;
  // Token reassembly across chunks.
  #scratch: Buffer | null = null;
  #alloc: ScratchAllocator | null;
  #partLen = 0;
  /** The fast path's latin1 window of the current chunk (see #fastHead): text, chunk, start offset. */
  #win = '';
  #winBuf: Buffer | null = null;
  #winStart = 0;
  // Current head.
  #headBytes = 0;
  #inTrailers = false;
  #method = '';
  #url = '';
  #vMajor = 1;
  #vMinor = 1;
  #status = 0;
  #reason = '';
  #headers: string[] = [];
  #name = '';
  #nameId = 0;
  #contentLength = -1;
  #clCount = 0;
  #te: string | null = null;
  #connClose = false;
  #connKeepAlive = false;
  #connUpgrade = false;
  #hasUpgrade = false;
  #hostCount = 0;
  #expectContinue = false;
  // Body.
  #remaining = 0;
  #bodyBytes = 0;
  #chunkSize = 0;
  #chunkDigits = 0;
  #extBytes = 0;
  #extSawSemi = false;
  #keepAlive = true;
  #upgrade = false;
  /** Set by the owner of a response parser: the request was HEAD, so the response has no body. */
  #skipBody = false;

  constructor(kind: ParserKind, handler: Http1ParserHandler, options: Http1ParserOptions = {}) {
    this.kind = kind;
    this.handler = handler;
    this.maxUrlLength = options.maxUrlLength ?? 8 * 1024;
    this.maxMethodLength = options.maxMethodLength ?? 32;
    this.maxHeaderSize = options.maxHeaderSize ?? 16 * 1024;
    this.maxHeaderCount = options.maxHeaderCount ?? 100;
    this.maxChunkExtensionsSize = options.maxChunkExtensionsSize ?? 16 * 1024;
    this.maxBodySize = options.maxBodySize ?? -1;
    this.requireHost = options.requireHost ?? true;
    this.#alloc = options.scratch ?? null;
  }

  /**
   * Gives the scratch buffer back to its allocator and lets go of the last message's strings (the
   * connection is done with this parser; an idle one may go on to parse another connection's messages).
   */
  dispose(): void {
    if (this.#scratch !== null) this.#alloc?.release(this.#scratch);
    this.#scratch = null;
    this.#partLen = 0;
    this.#method = '';
    this.#url = '';
    this.#reason = '';
    this.#name = '';
    this.#te = null;
  }

  /**
   * Stops `execute` at the next boundary — the end of the head being parsed (after `onHeadersComplete`,
   * before the body) or of the message (after `onMessageComplete`); it returns the offset of the first
   * unparsed byte. Call {@link resume} and feed the rest to continue.
   */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** True between messages (nothing of the next message seen yet). */
  get idle(): boolean {
    return this.#state === S_START && this.#partLen === 0;
  }

  /** After an Upgrade that the owner declined, continue parsing HTTP on this connection. */
  resumeAfterUpgrade(): void {
    if (this.#state === S_UPGRADED) {
      this.#state = this.#keepAlive ? S_START : S_CLOSED;
      this.upgraded = false;
    }
  }

  /**
   * Parses `buf`. Returns the number of bytes consumed: `buf.length`, or less when paused or upgraded.
   * @throws Http1ParseError on a protocol violation (the parser then stays failed).
   */
  execute(buf: Buffer): number {
    if (this.#state === S_ERROR) throw this.error!;
    // No window survives a call: the caller may reuse the buffer with other bytes, and an idle keep-alive
    // connection would hold the last read's text. Cleared before too, for a call a handler's error ended.
    this.#winBuf = null;
    const n = this.#run(buf); // a protocol error (#fail) leaves the parser failed; a handler's own error does not
    this.#winBuf = null;
    this.#win = '';
    return n;
  }

  /**
   * The peer closed the connection. Completes a read-until-close response body; anything else
   * mid-message is `INCOMPLETE_MESSAGE`.
   */
  finish(): void {
    const s = this.#state;
    if (s === S_BODY_EOF) {
      this.#state = S_CLOSED;
      this.handler.onMessageComplete();
      return;
    }
    if (s === S_START || s === S_CLOSED || s === S_UPGRADED || s === S_ERROR) {
      if (s === S_START && this.#partLen > 0) this.#fail('INCOMPLETE_MESSAGE', 0);
      return;
    }
    this.#fail('INCOMPLETE_MESSAGE', 0);
  }

  /** For response parsers: the next response answers a HEAD request (no body, RFC 9110 §9.3.2). */
  expectNoBody(): void {
    this.#skipBody = true;
  }

  #fail(code: Http1ErrorCode, offset: number, detail?: string): never {
    const err = new Http1ParseError(code, offset, detail);
    this.#state = S_ERROR;
    this.error = err;
    throw err;
  }

  // ---- token reassembly -------------------------------------------------------------------------

  /** Keeps `buf[s, e)` (an unfinished token at the end of a chunk) for the next call. */
  #save(buf: Buffer, s: number, e: number): void {
    const len = e - s;
    if (len === 0) return;
    const need = this.#partLen + len;
    let sc = this.#scratch;
    if (sc === null || sc.length < need) {
      const size = Math.max(256, need * 2);
      const next = this.#alloc === null ? Buffer.allocUnsafe(size) : this.#alloc.acquire(size);
      if (sc !== null) {
        sc.copy(next, 0, 0, this.#partLen);
        this.#alloc?.release(sc);
      }
      sc = this.#scratch = next;
    }
    buf.copy(sc, this.#partLen, s, e);
    this.#partLen = need;
  }

  /** The bytes of the token ending at `buf[e]`, joined with any saved part, as a latin1 string. */
  #take(buf: Buffer, s: number, e: number): string {
    if (this.#partLen === 0) return buf.latin1Slice(s, e);
    this.#save(buf, s, e);
    const str = this.#scratch!.latin1Slice(0, this.#partLen);
    this.#partLen = 0;
    return str;
  }

  #takeName(buf: Buffer, s: number, e: number): string {
    let b = buf;
    if (this.#partLen !== 0) {
      this.#save(buf, s, e);
      b = this.#scratch!;
      s = 0;
      e = this.#partLen;
      this.#partLen = 0;
    }
    const k = matchKnown(b, s, e);
    if (k !== undefined) {
      this.#nameId = k.id;
      const first = b[s]!;
      // Hand out the interned string when the bytes are one of the usual spellings.
      if (first === k.bytes[0] && equalsBytes(b, s, e, k.lower)) return k.lower;
      if (equalsBytes(b, s, e, k.canonical)) return k.canonical;
      return b.latin1Slice(s, e);
    }
    const name = b.latin1Slice(s, e);
    this.#nameId = 0;
    return name;
  }

  #takeValue(buf: Buffer, s: number, e: number): string {
    let b = buf;
    if (this.#partLen !== 0) {
      this.#save(buf, s, e);
      b = this.#scratch!;
      s = 0;
      e = this.#partLen;
      this.#partLen = 0;
    }
    // Trailing OWS is not part of the value (RFC 9110 §5.5).
    while (e > s && (b[e - 1] === SP || b[e - 1] === HTAB)) e--;
    return b.latin1Slice(s, e);
  }

  // ---- the machine ------------------------------------------------------------------------------

  #beginMessage(): void {
    this.#headBytes = 0;
    this.#inTrailers = false;
    this.#method = '';
    this.#url = '';
    this.#vMajor = 1;
    this.#vMinor = 1;
    this.#status = 0;
    this.#reason = '';
    this.#headers = [];
    this.#contentLength = -1;
    this.#clCount = 0;
    this.#te = null;
    this.#connClose = false;
    this.#connKeepAlive = false;
    this.#connUpgrade = false;
    this.#hasUpgrade = false;
    this.#hostCount = 0;
    this.#expectContinue = false;
    this.#bodyBytes = 0;
    this.#extBytes = 0;
    this.handler.onMessageBegin?.();
  }

  /**
   * Adds the head bytes seen in this call and enforces the head-size limit — 431 whatever part of the head
   * is being read (414 is maxUrlLength's alone), so the answer does not depend on where the input was cut.
   */
  #countHead(n: number, offset: number): void {
    this.#headBytes += n;
    if (this.#headBytes > this.maxHeaderSize) this.#fail('HEADERS_TOO_LARGE', offset);
  }

  #run(buf: Buffer): number {
    const n = buf.length;
    if (this.#paused) return 0;
    let i = 0;
    // Start of the head bytes in this call (for the head-size limit), -1 when not in a head.
    let headMark = this.#state < S_BODY_LENGTH && this.#state !== S_START ? 0 : -1;

    while (i < n) {
      switch (this.#state) {
        case S_START: {
          if (this.#partLen === 0) {
            // Empty lines before a request-line are ignored (RFC 9112 §2.2); each must be a full CRLF.
            const c = buf[i]!;
            if (c === CR) {
              if (i + 1 < n) {
                if (buf[i + 1] !== LF) this.#fail('BARE_CR', i);
                i += 2;
              } else {
                this.#save(buf, i, i + 1);
                i++;
              }
              continue;
            }
            if (c === LF) this.#fail('BARE_LF', i);
          } else {
            // A CR was saved at the end of the previous chunk.
            if (buf[i] !== LF) this.#fail('BARE_CR', i);
            this.#partLen = 0;
            i++;
            continue;
          }
          this.#beginMessage();
          if (this.kind === 'request') {
            // Fast path: a whole head in this chunk is validated and split with native string search.
            const j = this.#fastHead(buf, i, n);
            if (j >= 0) {
              i = j;
              if (this.#stopped()) return i;
              break;
            }
          }
          headMark = i;
          this.#state = this.kind === 'request' ? S_METHOD : S_RES_VERSION;
          break;
        }

        case S_METHOD: {
          const s = i;
          while (i < n && TOKEN[buf[i]!] === 1) i++;
          if (i === n) {
            this.#save(buf, s, i);
            if (this.#partLen > this.maxMethodLength) this.#fail('INVALID_METHOD', i, 'too long');
            break;
          }
          if (buf[i] !== SP || (i === s && this.#partLen === 0)) this.#fail('INVALID_METHOD', i);
          if (this.#partLen + (i - s) > this.maxMethodLength) this.#fail('INVALID_METHOD', i, 'too long');
          this.#method = knownMethod(this.#take(buf, s, i));
          this.handler.onMethod?.(this.#method);
          i++;
          this.#state = S_URL;
          break;
        }

        case S_URL: {
          const s = i;
          while (i < n && TARGET[buf[i]!] === 1) i++;
          const len = this.#partLen + (i - s);
          if (len > this.maxUrlLength) this.#fail('URI_TOO_LONG', i);
          if (i === n) {
            this.#save(buf, s, i);
            break;
          }
          const c = buf[i]!;
          if (c !== SP) {
            if (c === CR || c === LF) this.#fail('INVALID_REQUEST_LINE', i, 'missing HTTP-version');
            this.#fail('INVALID_TARGET', i);
          }
          if (len === 0) this.#fail('INVALID_REQUEST_LINE', i, 'empty request-target');
          this.#url = this.#take(buf, s, i);
          if (!validTargetForm(this.#url, this.#method)) this.#fail('INVALID_TARGET', i, this.#url === '*' ? 'asterisk-form (*) is for OPTIONS only (RFC 9112 §3.2.4)' : this.#method === 'CONNECT' ? 'CONNECT takes authority-form (host:port) (RFC 9112 §3.2.3)' : 'not origin-form (/path) or absolute-form (http://host/path) (RFC 9112 §3.2)');
          this.handler.onUrl?.(this.#url);
          i++;
          this.#state = S_REQ_VERSION;
          break;
        }

        case S_REQ_VERSION: {
          const s = i;
          while (i < n && i - s + this.#partLen < 9 && buf[i] !== CR && buf[i] !== LF) i++;
          if (i === n) {
            this.#save(buf, s, i);
            break;
          }
          const c = buf[i]!;
          if (c === LF) this.#fail('BARE_LF', i);
          if (c !== CR) this.#fail('INVALID_VERSION', i);
          this.#version(this.#take(buf, s, i), i);
          i++;
          this.#state = S_LINE_LF;
          break;
        }

        case S_LINE_LF: {
          if (buf[i] !== LF) this.#fail('BARE_CR', i);
          i++;
          this.#state = S_FIELD_START;
          break;
        }

        case S_RES_VERSION: {
          const s = i;
          while (i < n && i - s + this.#partLen < 9 && buf[i] !== SP && buf[i] !== CR && buf[i] !== LF) i++;
          if (i === n) {
            this.#save(buf, s, i);
            break;
          }
          if (buf[i] !== SP) this.#fail('INVALID_STATUS', i, 'expected SP after HTTP-version');
          this.#version(this.#take(buf, s, i), i);
          i++;
          this.#state = S_STATUS;
          break;
        }

        case S_STATUS: {
          const s = i;
          while (i < n && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++;
          if (i === n) {
            this.#save(buf, s, i);
            if (this.#partLen > 3) this.#fail('INVALID_STATUS', i, 'status code must be 3 digits');
            break;
          }
          const digits = this.#take(buf, s, i);
          if (digits.length !== 3) this.#fail('INVALID_STATUS', i, 'status code must be 3 digits');
          this.#status = +digits;
          const c = buf[i]!;
          if (c === SP) {
            i++;
            this.#state = S_REASON;
          } else if (c === CR) {
            // "HTTP/1.1 200\r\n": the SP before an empty reason is commonly omitted; tolerated for responses.
            i++;
            this.#state = S_LINE_LF;
          } else if (c === LF) this.#fail('BARE_LF', i);
          else this.#fail('INVALID_STATUS', i);
          break;
        }

        case S_REASON: {
          const s = i;
          while (i < n && REASON[buf[i]!] === 1) i++;
          if (i === n) {
            this.#save(buf, s, i);
            break;
          }
          const c = buf[i]!;
          if (c === LF) this.#fail('BARE_LF', i);
          if (c !== CR) this.#fail('INVALID_STATUS', i, 'invalid character in reason-phrase');
          this.#reason = this.#take(buf, s, i);
          i++;
          this.#state = S_LINE_LF;
          break;
        }

        case S_FIELD_START: {
          const c = buf[i]!;
          if (c === CR) {
            i++;
            this.#state = S_HEAD_END_LF;
            break;
          }
          if (c === LF) this.#fail('BARE_LF', i);
          if (c === SP || c === HTAB) this.#fail('OBS_FOLD', i);
          if (TOKEN[c] !== 1) this.#fail('INVALID_HEADER_NAME', i);
          if (this.#headers.length >= this.maxHeaderCount * 2) this.#fail('TOO_MANY_HEADERS', i);
          this.#state = S_FIELD_NAME;
          break;
        }

        case S_FIELD_NAME: {
          const s = i;
          while (i < n && TOKEN[buf[i]!] === 1) i++;
          if (i === n) {
            this.#save(buf, s, i);
            break;
          }
          const c = buf[i]!;
          if (c !== COLON) {
            if (c === SP || c === HTAB) this.#fail('WHITESPACE_BEFORE_COLON', i);
            if (c === CR || c === LF) this.#fail('INVALID_HEADER_NAME', i, 'field line without colon');
            this.#fail('INVALID_HEADER_NAME', i);
          }
          this.#name = this.#takeName(buf, s, i);
          i++;
          this.#state = S_VALUE_OWS;
          break;
        }

        case S_VALUE_OWS: {
          while (i < n && (buf[i] === SP || buf[i] === HTAB)) i++;
          if (i < n) this.#state = S_VALUE;
          break;
        }

        case S_VALUE: {
          const s = i;
          while (i < n && FIELD_VALUE[buf[i]!] === 1) i++;
          if (i === n) {
            this.#save(buf, s, i);
            break;
          }
          const c = buf[i]!;
          if (c !== CR) {
            if (c === LF) this.#fail('BARE_LF', i);
            this.#fail('INVALID_HEADER_VALUE', i);
          }
          this.#field(this.#name, this.#takeValue(buf, s, i), i, this.#nameId);
          i++;
          this.#state = S_VALUE_LF;
          break;
        }

        case S_VALUE_LF: {
          if (buf[i] !== LF) this.#fail('BARE_CR', i);
          i++;
          this.#state = S_FIELD_START;
          break;
        }

        case S_HEAD_END_LF: {
          if (buf[i] !== LF) this.#fail('BARE_CR', i);
          i++;
          this.#countHead(i - headMark, i);
          headMark = -1;
          if (this.#inTrailers) {
            if (this.#headers.length > 0) this.handler.onTrailers?.(this.#headers);
            this.#completeMessage();
          } else {
            this.#headersDone(i);
          }
          if (this.#stopped()) return i;
          break;
        }

        case S_BODY_LENGTH: {
          const take = Math.min(this.#remaining, n - i);
          this.#remaining -= take;
          const piece = buf.subarray(i, i + take);
          i += take;
          this.handler.onBody(piece);
          if (this.#remaining === 0) {
            this.#completeMessage();
            if (this.#stopped()) return i;
          }
          break;
        }

        case S_BODY_EOF: {
          this.#bodyBytes += n - i;
          if (this.maxBodySize >= 0 && this.#bodyBytes > this.maxBodySize) this.#fail('BODY_TOO_LARGE', i);
          this.handler.onBody(buf.subarray(i, n));
          i = n;
          break;
        }

        case S_CHUNK_SIZE: {
          while (i < n) {
            const h = HEX[buf[i]!]!;
            if (h === 0) break;
            if (this.#chunkSize > MAX_SAFE_DIV16 || ++this.#chunkDigits > 16) this.#fail('CHUNK_SIZE_OVERFLOW', i);
            this.#chunkSize = this.#chunkSize * 16 + (h - 1);
            i++;
          }
          if (i === n) break;
          const c = buf[i]!;
          if (this.#chunkDigits === 0) this.#fail('INVALID_CHUNK_SIZE', i);
          if (c === CR) {
            i++;
            this.#state = S_CHUNK_SIZE_LF;
          } else if (c === SEMI || c === SP || c === HTAB) {
            this.#extSawSemi = false;
            this.#state = S_CHUNK_EXT;
          } else if (c === LF) this.#fail('BARE_LF', i);
          else this.#fail('INVALID_CHUNK_SIZE', i);
          break;
        }

        case S_CHUNK_EXT: {
          // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) (RFC 9112 §7.1.1). Validated as
          // field-value bytes (no CTLs) with at least one ';' after any BWS; names and values are not used.
          const s = i;
          while (i < n) {
            const c = buf[i]!;
            if (c === SEMI) this.#extSawSemi = true;
            else if (FIELD_VALUE[c] !== 1) break;
            else if (!this.#extSawSemi && c !== SP && c !== HTAB) this.#fail('INVALID_CHUNK_SIZE', i);
            i++;
          }
          this.#extBytes += i - s;
          if (this.#extBytes > this.maxChunkExtensionsSize) this.#fail('CHUNK_EXTENSIONS_TOO_LARGE', i);
          if (i === n) break;
          const c = buf[i]!;
          if (c === LF) this.#fail('BARE_LF', i);
          if (c !== CR) this.#fail('INVALID_CHUNK_EXTENSION', i);
          if (!this.#extSawSemi) this.#fail('INVALID_CHUNK_SIZE', i, 'whitespace after chunk size');
          i++;
          this.#state = S_CHUNK_SIZE_LF;
          break;
        }

        case S_CHUNK_SIZE_LF: {
          if (buf[i] !== LF) this.#fail('BARE_CR', i);
          i++;
          const size = this.#chunkSize;
          if (size === 0) {
            // Last chunk: the trailer section follows (RFC 9112 §7.1.2).
            this.#inTrailers = true;
            this.#headers = [];
            this.#headBytes = 0;
            headMark = i;
            this.#state = S_FIELD_START;
          } else {
            this.#bodyBytes += size;
            if (this.maxBodySize >= 0 && this.#bodyBytes > this.maxBodySize) this.#fail('BODY_TOO_LARGE', i);
            this.#remaining = size;
            this.#state = S_CHUNK_DATA;
          }
          break;
        }

        case S_CHUNK_DATA: {
          const take = Math.min(this.#remaining, n - i);
          this.#remaining -= take;
          const piece = buf.subarray(i, i + take);
          i += take;
          this.handler.onBody(piece);
          if (this.#remaining === 0) this.#state = S_CHUNK_DATA_CR;
          break;
        }

        case S_CHUNK_DATA_CR: {
          if (buf[i] !== CR) this.#fail('INVALID_CHUNK_END', i);
          i++;
          this.#state = S_CHUNK_DATA_LF;
          break;
        }

        case S_CHUNK_DATA_LF: {
          if (buf[i] !== LF) this.#fail('INVALID_CHUNK_END', i);
          i++;
          this.#chunkSize = 0;
          this.#chunkDigits = 0;
          this.#state = S_CHUNK_SIZE;
          break;
        }

        case S_CLOSED:
          return n; // RFC 9112 §9.6: nothing after a message that closes the connection is processed

        case S_UPGRADED:
          return i;

        default:
          throw new Error(`Http1Parser: bad state ${this.#state}`);
      }
    }
    if (headMark >= 0) this.#countHead(n - headMark, n);
    return n;
  }

  /** Paused by the owner or upgraded: `execute` must return now. */
  #stopped(): boolean {
    return this.#paused || this.#state === S_UPGRADED;
  }

  #version(v: string, offset: number): void {
    // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3)
    if (
      v.length !== 8 ||
      !v.startsWith('HTTP/') ||
      v.charCodeAt(6) !== 0x2e ||
      !isDigit(v.charCodeAt(5)) ||
      !isDigit(v.charCodeAt(7))
    ) {
      this.#fail(this.kind === 'request' ? 'INVALID_VERSION' : 'INVALID_STATUS', offset, JSON.stringify(v));
    }
    const major = v.charCodeAt(5) - 0x30;
    const minor = v.charCodeAt(7) - 0x30;
    if (major !== 1 || minor > 1) {
      this.#fail(this.kind === 'request' ? 'VERSION_NOT_SUPPORTED' : 'INVALID_STATUS', offset, v);
    }
    this.#vMajor = major;
    this.#vMinor = minor;
  }

  /**
   * The head starting at `buf[i]`, when it is complete in this chunk, well-formed and within the limits:
   * one latin1 string, one regular expression for the grammar of RFC 9112 §3 and §5, native `indexOf`
   * for the splits. Returns the offset after the head, or -1 to let the byte-by-byte machine parse it
   * (split heads, and every malformed one, so errors are found and named in one place).
   */
  #fastHead(buf: Buffer, i: number, n: number): number {
    const avail = n - i;
    // The head is matched in a latin1 window of the chunk, kept for the next pipelined request in the same
    // chunk (one slice per window, not one per request). The expression stops at the first empty line,
    // so it also finds the end of the head; a head cut by the window's end is matched again in a slice
    // as long as the header limit.
    let win = this.#win;
    let off = i - this.#winStart;
    if (this.#winBuf !== buf || off < 0 || off >= win.length) {
      win = this.#window(buf, i, avail < FAST_WINDOW ? avail : FAST_WINDOW);
      off = 0;
    }
    REQUEST_HEAD_AT.lastIndex = off;
    if (!REQUEST_HEAD_AT.test(win)) {
      if (this.#winStart + win.length >= n) return -1; // all the bytes at hand were seen
      win = this.#window(buf, i, Math.min(avail, this.maxHeaderSize));
      off = 0;
      REQUEST_HEAD_AT.lastIndex = 0;
      if (!REQUEST_HEAD_AT.test(win)) return -1;
    }
    const headLen = REQUEST_HEAD_AT.lastIndex - off;
    if (headLen > this.maxHeaderSize) return -1;
    // method SP request-target SP "HTTP/1." DIGIT: neither part holds a space.
    const sp1 = win.indexOf(' ', off);
    const sp2 = win.indexOf(' ', sp1 + 1);
    const method = knownMethod(win.slice(off, sp1));
    const url = win.slice(sp1 + 1, sp2);
    if (method.length > this.maxMethodLength || url.length > this.maxUrlLength || !validTargetForm(url, method)) return -1;
    this.#method = method;
    this.#url = url;
    this.#vMinor = win.charCodeAt(sp2 + 8) === 0x31 ? 1 : 0;
    const hd = this.handler;
    hd.onMethod?.(method);
    hd.onUrl?.(url);
    const headers = this.#headers;
    const maxFields = this.maxHeaderCount * 2;
    const last = off + headLen - 2;
    const at = i - off; // a position in the window → its offset in the input
    let p = sp2 + 11; // past " HTTP/1.x" CRLF
    while (p < last) {
      // The expression guarantees a ':' and a CR follow. Native search, not a loop over the name: paired
      // runs measured a 12-field GET at 0.9x the time of a charCodeAt or byte loop (Node 20, 24, 26).
      const c = win.indexOf(':', p);
      const nl = win.indexOf('\r', c);
      if (headers.length >= maxFields) this.#fail('TOO_MANY_HEADERS', at + p);
      let vs = c + 1;
      let ve = nl;
      while (vs < ve && buf[vs + at] === SP) vs++; // no HTAB here: the expression let none through
      while (ve > vs && buf[ve - 1 + at] === SP) ve--;
      this.#field(win.slice(p, c), win.slice(vs, ve), at + nl, fieldIdAt(buf, p + at, c - p));
      p = nl + 2;
    }
    this.#headersDone(i + headLen);
    return i + headLen;
  }

  #window(buf: Buffer, start: number, len: number): string {
    this.#winBuf = buf;
    this.#winStart = start;
    return (this.#win = buf.latin1Slice(start, start + len));
  }

  /** A complete field line. Framing fields are interpreted here; all are kept in `headers`. */
  #field(name: string, value: string, offset: number, id: number): void {
    this.#headers.push(name, value);
    this.handler.onHeader?.(name, value);
    if (this.#inTrailers) {
      // Trailers never change framing or routing (RFC 9110 §6.5.1); those fields there are refused.
      if (id === H_CONTENT_LENGTH || id === H_TRANSFER_ENCODING || id === H_HOST) {
        this.#fail('FORBIDDEN_TRAILER', offset, name);
      }
      return;
    }
    switch (id) {
      case 0:
        return;
      case H_CONTENT_LENGTH: {
        // Any second Content-Length is refused, even an identical one (RFC 9110 §8.6 allows rejecting).
        if (++this.#clCount > 1) this.#fail('DUPLICATE_CONTENT_LENGTH', offset);
        const len = value.length;
        if (len === 0 || len > 15) this.#fail('INVALID_CONTENT_LENGTH', offset, JSON.stringify(value));
        let v = 0;
        for (let k = 0; k < len; k++) {
          const d = value.charCodeAt(k) - 0x30;
          if (d < 0 || d > 9) this.#fail('INVALID_CONTENT_LENGTH', offset, JSON.stringify(value));
          v = v * 10 + d;
        }
        this.#contentLength = v;
        return;
      }
      case H_TRANSFER_ENCODING:
        this.#te = this.#te === null ? value : `${this.#te}, ${value}`;
        return;
      case H_CONNECTION: {
        const lv = value.toLowerCase();
        if (lv === 'keep-alive') this.#connKeepAlive = true;
        else if (lv === 'close') this.#connClose = true;
        else
          for (const tok of splitList(lv)) {
          if (tok === 'close') this.#connClose = true;
          else if (tok === 'keep-alive') this.#connKeepAlive = true;
          else if (tok === 'upgrade') this.#connUpgrade = true;
          }
        return;
      }
      case H_UPGRADE:
        this.#hasUpgrade = true;
        return;
      case H_HOST:
        this.#hostCount++;
        if (this.kind === 'request' && !validHost(value)) this.#fail('INVALID_HOST', offset);
        return;
      case H_EXPECT:
        if (value.length === 12 && value.toLowerCase() === '100-continue') this.#expectContinue = true;
        return;
    }
  }

  #headersDone(offset: number): void {
    const isRequest = this.kind === 'request';
    const http11 = this.#vMinor === 1;
    if (isRequest && this.requireHost && http11) {
      if (this.#hostCount === 0) this.#fail('MISSING_HOST', offset);
    }
    if (isRequest && this.#hostCount > 1) this.#fail('DUPLICATE_HOST', offset);

    // Framing (RFC 9112 §6.3).
    let chunked = false;
    let untilClose = false;
    if (this.#te !== null) {
      if (this.#contentLength >= 0 || this.#clCount > 0) {
        if (isRequest) this.#fail('CONTENT_LENGTH_WITH_TRANSFER_ENCODING', offset);
        this.#contentLength = -1; // §6.3 ¶3: Transfer-Encoding overrides Content-Length
      }
      if (!http11) {
        if (isRequest) this.#fail('TRANSFER_ENCODING_IN_HTTP10', offset);
      }
      const codings = splitList(this.#te);
      if (codings.length === 0) this.#fail('INVALID_TRANSFER_ENCODING', offset);
      const last = codings[codings.length - 1];
      let chunkedCount = 0;
      for (const c of codings) {
        if (c === 'chunked') chunkedCount++;
        else if (!isToken(c)) this.#fail('INVALID_TRANSFER_ENCODING', offset, JSON.stringify(c));
      }
      if (last === 'chunked') {
        if (chunkedCount > 1) this.#fail('CHUNKED_TWICE', offset);
        if (codings.length > 1 && isRequest) this.#fail('UNSUPPORTED_TRANSFER_CODING', offset, this.#te);
        chunked = true;
      } else {
        if (isRequest) this.#fail('CHUNKED_NOT_LAST', offset, this.#te);
        untilClose = true; // §6.3 ¶4 for responses
      }
    }

    // Persistence (RFC 9112 §9.3).
    let keepAlive = http11 ? !this.#connClose : this.#connKeepAlive && !this.#connClose;
    if (untilClose) keepAlive = false;
    if (!isRequest && !chunked && this.#contentLength < 0 && !this.#skipBody) {
      const st = this.#status;
      // A response without framing runs until close, unless its status has no body (§6.3 ¶1, ¶8).
      if (!((st >= 100 && st < 200) || st === 204 || st === 304)) keepAlive = false;
    }

    // Upgrade (RFC 9110 §7.8; ignored in HTTP/1.0) and CONNECT (RFC 9110 §9.3.6).
    let upgrade = false;
    if (isRequest) {
      upgrade = this.#method === 'CONNECT' || (http11 && this.#hasUpgrade && this.#connUpgrade);
    } else {
      upgrade = this.#status === 101;
    }

    if (isRequest && this.maxBodySize >= 0 && this.#contentLength > this.maxBodySize) {
      this.#fail('BODY_TOO_LARGE', offset);
    }

    const head: MessageHead = {
      method: this.#method,
      url: this.#url,
      versionMajor: this.#vMajor,
      versionMinor: this.#vMinor,
      statusCode: this.#status,
      statusMessage: this.#reason,
      headers: this.#headers,
      keepAlive,
      upgrade,
      contentLength: this.#contentLength,
      chunked,
      expectContinue: this.#expectContinue && isRequest && http11,
    };
    this.#keepAlive = keepAlive;
    this.#upgrade = upgrade;
    // The head's fields are the message's now: an idle connection does not keep the last request's.
    this.#headers = NO_FIELDS;
    const skip = this.handler.onHeadersComplete(head) === true || this.#skipBody;
    this.#skipBody = false;
    if (this.#state === S_ERROR) return;

    if (!isRequest) {
      const st = this.#status;
      if (st >= 100 && st < 200 && st !== 101) {
        // Interim response: no body, and the final response follows on the same connection.
        this.#keepAlive = true;
        this.#completeMessage();
        return;
      }
      if (skip || st === 204 || st === 304 || upgrade) {
        this.#completeMessage();
        return;
      }
    } else if (this.#method === 'CONNECT') {
      this.#completeMessage();
      return;
    }

    if (chunked) {
      this.#chunkSize = 0;
      this.#chunkDigits = 0;
      this.#state = S_CHUNK_SIZE;
    } else if (this.#contentLength > 0) {
      this.#remaining = this.#contentLength;
      this.#state = S_BODY_LENGTH;
    } else if (this.#contentLength === 0 || isRequest) {
      this.#completeMessage(); // requests without framing have no body (§6.3 ¶7)
    } else {
      this.#keepAlive = false;
      this.#state = S_BODY_EOF; // responses without framing run until close (§6.3 ¶8)
    }
  }

  #completeMessage(): void {
    this.#state = this.#upgrade ? S_UPGRADED : this.#keepAlive ? S_START : S_CLOSED;
    if (this.#upgrade) this.upgraded = true;
    this.#upgrade = false;
    this.handler.onMessageComplete();
  }
}

/**
 * request-target forms (RFC 9112 §3.2): origin-form "/...", asterisk-form "*", authority-form for CONNECT,
 * absolute-form "scheme://..." otherwise. Characters were already checked byte by byte.
 */
function validTargetForm(url: string, method: string): boolean {
  // CONNECT takes the authority-form only (§3.2.3): "CONNECT /x" is not a tunnel to anywhere.
  if (method === 'CONNECT') return url.indexOf('/') < 0 && url.indexOf(':') > 0;
  const c = url.charCodeAt(0);
  if (c === 0x2f) return true; // '/'
  // '*' (asterisk-form) is only for a server-wide OPTIONS (§3.2.4): "GET *" is malformed.
  if (c === 0x2a) return url.length === 1 && method === 'OPTIONS';
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" (RFC 3986 §3.1)
  if (!isAlpha(c)) return false;
  for (let i = 1; i < url.length; i++) {
    const d = url.charCodeAt(i);
    // Only hierarchical URIs with an authority ("http://h/p") are meaningful targets for HTTP.
    if (d === 0x3a) return url.startsWith('//', i + 1) && i + 3 < url.length;
    if (!(isAlpha(d) || isDigit(d) || d === 0x2b || d === 0x2d || d === 0x2e)) return false;
  }
  return false;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || TOKEN[c] !== 1) return false;
  }
  return true;
}

function equalsBytes(b: Uint8Array, s: number, e: number, str: string): boolean {
  for (let i = 0; s + i < e; i++) if (b[s + i] !== str.charCodeAt(i)) return false;
  return true;
}

/** Splits a comma-separated list (RFC 9110 §5.6.1), lowercased, empty elements dropped. */
function splitList(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const t = part.trim();
    if (t.length > 0) out.push(t.toLowerCase());
  }
  return out;
}

/** Host = uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986 §3.2.2). Empty is allowed (no authority). */
function validHost(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    // unreserved / pct-encoded / sub-delims / ":" / "[" / "]" (IP-literal)
    if (
      !(
        (c >= 0x61 && c <= 0x7a) ||
        (c >= 0x41 && c <= 0x5a) ||
        (c >= 0x30 && c <= 0x39) ||
        c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e || c === 0x25 ||
        c === 0x21 || c === 0x24 || c === 0x26 || c === 0x27 || c === 0x28 || c === 0x29 ||
        c === 0x2a || c === 0x2b || c === 0x2c || c === 0x3b || c === 0x3d || c === 0x3a ||
        c === 0x5b || c === 0x5d
      )
    ) {
      return false;
    }
  }
  return true;
}

// `covet/http1/parser` is this file: its errors travel with it, so the parser alone is one import.
export { Http1ParseError, HTTP1_ERRORS, type Http1ErrorCode } from './errors.js';
