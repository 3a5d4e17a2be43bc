/**
 * llhttp as a reference oracle and benchmark baseline, behind the same interface as our `Http1Parser`
 * (handler object in, `execute(chunk)` returning bytes consumed, typed error out).
 *
 * - {@link LlhttpWasmParser}: the llhttp WebAssembly build that the `undici` package ships
 *   (`undici/lib/llhttp/llhttp-wasm.js`, llhttp 9.x compiled by undici's build). See wasm/README.md.
 * - {@link NodeBindingParser}: Node's own native llhttp through `process.binding('http_parser')`.
 *
 * Never used by the production server: tests (differential fuzzing) and benches only.
 */
import { createRequire } from 'node:module';
import type { Http1ParserHandler, MessageHead, ParserKind } from '../lib/http1/parser.js';

const require = createRequire(import.meta.url);

/** An llhttp rejection: `code` is llhttp's error name (`HPE_INVALID_METHOD`, ...). */
export class LlhttpError extends Error {
  readonly code: string;
  readonly reason: string;
  constructor(code: string, reason: string) {
    super(`${code}: ${reason}`);
    this.name = 'LlhttpError';
    this.code = code;
    this.reason = reason;
  }
}

/** The common surface of our parser and the oracles. */
export interface ParserLike {
  execute(buf: Buffer): number;
  finish(): void;
}

interface LlhttpExports {
  memory: WebAssembly.Memory;
  llhttp_alloc(type: number): number;
  llhttp_free(p: number): void;
  malloc(n: number): number;
  free(p: number): void;
  llhttp_execute(p: number, data: number, len: number): number;
  llhttp_finish(p: number): number;
  llhttp_get_method(p: number): number;
  llhttp_method_name(m: number): number;
  llhttp_get_http_major(p: number): number;
  llhttp_get_http_minor(p: number): number;
  llhttp_get_error_reason(p: number): number;
  llhttp_get_error_pos(p: number): number;
  llhttp_errno_name(e: number): number;
  llhttp_resume_after_upgrade(p: number): void;
}

const ERR_PAUSED = 21;
const ERR_PAUSED_UPGRADE = 22;
// Offsets in `llhttp_t` (llhttp.h) on wasm32: content_length u64 @32, flags u16 @50.
const OFF_CONTENT_LENGTH = 32;
const OFF_FLAGS = 50;
const F_CHUNKED = 1 << 3;
const F_CONTENT_LENGTH = 1 << 5;

const parsers = new Map<number, LlhttpWasmParser>();
let wasm: LlhttpExports | null = null;
let current: { buf: Buffer; ptr: number } | null = null;

function cString(mem: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return '';
  const bytes = new Uint8Array(mem.buffer, ptr);
  const end = bytes.indexOf(0);
  return Buffer.from(mem.buffer, ptr, end).toString('latin1');
}

function span(at: number, len: number): Buffer {
  const c = current!;
  return c.buf.subarray(at - c.ptr, at - c.ptr + len);
}

function load(): LlhttpExports {
  if (wasm !== null) return wasm;
  const bytes = require('undici/lib/llhttp/llhttp-wasm.js') as Buffer;
  const mod = new WebAssembly.Module(bytes);
  const inst = new WebAssembly.Instance(mod, {
    env: {
      wasm_on_message_begin: (p: number) => parsers.get(p)!._begin(),
      wasm_on_url: (p: number, at: number, len: number) => parsers.get(p)!._url(span(at, len)),
      wasm_on_status: (p: number, at: number, len: number) => parsers.get(p)!._status(span(at, len)),
      wasm_on_header_field: (p: number, at: number, len: number) => parsers.get(p)!._field(span(at, len)),
      wasm_on_header_value: (p: number, at: number, len: number) => parsers.get(p)!._value(span(at, len)),
      wasm_on_headers_complete: (p: number, status: number, upgrade: number, keepAlive: number) =>
        parsers.get(p)!._headersComplete(status, upgrade === 1, keepAlive === 1),
      wasm_on_body: (p: number, at: number, len: number) => parsers.get(p)!._body(span(at, len)),
      wasm_on_message_complete: (p: number) => parsers.get(p)!._complete(),
    },
  });
  wasm = inst.exports as unknown as LlhttpExports;
  return wasm;
}

/**
 * llhttp (WebAssembly) with our handler interface. Header values are trimmed of OWS like ours.
 *
 * @example
 * ```ts
 * const p = new LlhttpWasmParser('request', handler);
 * p.execute(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
 * ```
 */
export class LlhttpWasmParser implements ParserLike {
  readonly kind: ParserKind;
  readonly handler: Http1ParserHandler;
  upgraded = false;
  #ptr: number;
  #buf = 0;
  #bufSize = 0;
  #url = '';
  #status = '';
  #headers: string[] = [];
  #field = '';
  #value = '';
  #inValue = false;
  #trailing = false;

  constructor(kind: ParserKind, handler: Http1ParserHandler) {
    const w = load();
    this.kind = kind;
    this.handler = handler;
    this.#ptr = w.llhttp_alloc(kind === 'request' ? 1 : 2);
    parsers.set(this.#ptr, this);
  }

  /** Frees the wasm memory of this parser. */
  destroy(): void {
    const w = wasm!;
    parsers.delete(this.#ptr);
    w.llhttp_free(this.#ptr);
    if (this.#buf !== 0) w.free(this.#buf);
  }

  execute(buf: Buffer): number {
    const w = wasm!;
    if (buf.length > this.#bufSize) {
      if (this.#buf !== 0) w.free(this.#buf);
      this.#bufSize = Math.ceil(buf.length / 4096) * 4096;
      this.#buf = w.malloc(this.#bufSize);
    }
    new Uint8Array(w.memory.buffer, this.#buf, buf.length).set(buf);
    current = { buf, ptr: this.#buf };
    let ret: number;
    try {
      ret = w.llhttp_execute(this.#ptr, this.#buf, buf.length);
    } finally {
      current = null;
    }
    if (ret === 0) return buf.length;
    const pos = w.llhttp_get_error_pos(this.#ptr) - this.#buf;
    if (ret === ERR_PAUSED_UPGRADE) {
      this.upgraded = true;
      return pos;
    }
    if (ret === ERR_PAUSED) return pos;
    throw new LlhttpError(cString(w.memory, w.llhttp_errno_name(ret)), cString(w.memory, w.llhttp_get_error_reason(this.#ptr)));
  }

  finish(): void {
    const w = wasm!;
    const ret = w.llhttp_finish(this.#ptr);
    if (ret !== 0 && ret !== ERR_PAUSED && ret !== ERR_PAUSED_UPGRADE) {
      throw new LlhttpError(cString(w.memory, w.llhttp_errno_name(ret)), cString(w.memory, w.llhttp_get_error_reason(this.#ptr)));
    }
  }

  #flushHeader(): void {
    if (this.#inValue) {
      this.#headers.push(this.#field, this.#value.replace(/^[ \t]+|[ \t]+$/g, ''));
      this.handler.onHeader?.(this.#field, this.#value);
      this.#field = '';
      this.#value = '';
      this.#inValue = false;
    }
  }

  /** @internal */ _begin(): number {
    this.#url = '';
    this.#status = '';
    this.#headers = [];
    this.#field = '';
    this.#value = '';
    this.#inValue = false;
    this.#trailing = false;
    this.handler.onMessageBegin?.();
    return 0;
  }
  /** @internal */ _url(b: Buffer): number {
    this.#url += b.latin1Slice(0, b.length);
    return 0;
  }
  /** @internal */ _status(b: Buffer): number {
    this.#status += b.latin1Slice(0, b.length);
    return 0;
  }
  /** @internal */ _field(b: Buffer): number {
    this.#flushHeader();
    this.#field += b.latin1Slice(0, b.length);
    return 0;
  }
  /** @internal */ _value(b: Buffer): number {
    this.#inValue = true;
    this.#value += b.latin1Slice(0, b.length);
    return 0;
  }
  /** @internal */ _headersComplete(status: number, upgrade: boolean, keepAlive: boolean): number {
    this.#flushHeader();
    const w = wasm!;
    const p = this.#ptr;
    const view = new DataView(w.memory.buffer);
    const flags = view.getUint16(p + OFF_FLAGS, true);
    const cl = Number(view.getBigUint64(p + OFF_CONTENT_LENGTH, true));
    const isReq = this.kind === 'request';
    const head: MessageHead = {
      method: isReq ? cString(w.memory, w.llhttp_method_name(w.llhttp_get_method(p))) : '',
      url: this.#url,
      versionMajor: w.llhttp_get_http_major(p),
      versionMinor: w.llhttp_get_http_minor(p),
      statusCode: isReq ? 0 : status,
      statusMessage: this.#status,
      headers: this.#headers,
      keepAlive,
      upgrade,
      contentLength: flags & F_CONTENT_LENGTH ? cl : -1,
      chunked: (flags & F_CHUNKED) !== 0,
      expectContinue: false,
    };
    this.#headers = [];
    this.#trailing = true;
    const skip = this.handler.onHeadersComplete(head);
    return skip === true ? 1 : 0;
  }
  /** @internal */ _body(b: Buffer): number {
    this.handler.onBody(b);
    return 0;
  }
  /** @internal */ _complete(): number {
    this.#flushHeader();
    if (this.#trailing && this.#headers.length > 0) this.handler.onTrailers?.(this.#headers);
    this.handler.onMessageComplete();
    return 0;
  }
}

interface NodeHTTPParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(buf: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [k: number]: unknown;
}

interface NodeBinding {
  HTTPParser: {
    new (): NodeHTTPParser;
    REQUEST: number;
    RESPONSE: number;
    kOnMessageBegin: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kOnExecute: number;
  };
  methods: string[];
}

/**
 * Node's built-in llhttp (C, the one `node:http` uses) through `process.binding('http_parser')`,
 * with our handler interface. For benchmarks: this is the baseline a Node server pays per request.
 * Node 22 and later no longer give it to `process.binding`; there it is read through the internal binding,
 * which needs `node --expose-internals` (bench/run.mjs passes it).
 */
/** Node's native HTTP parser binding, from `process.binding` (Node 20) or the internal binding (22+). */
function nodeHttpBinding(): NodeBinding {
  try {
    return (process as unknown as { binding(name: string): NodeBinding }).binding('http_parser');
  } catch {
    try {
      const internal = require('internal/test/binding') as { internalBinding(name: string): NodeBinding };
      return internal.internalBinding('http_parser');
    } catch {
      throw new Error(`Node ${process.version} gives its native HTTP parser only to a process started with --expose-internals`);
    }
  }
}

export class NodeBindingParser implements ParserLike {
  readonly kind: ParserKind;
  readonly handler: Http1ParserHandler;
  #p: NodeHTTPParser;

  constructor(kind: ParserKind, handler: Http1ParserHandler) {
    const binding = nodeHttpBinding();
    const H = binding.HTTPParser;
    this.kind = kind;
    this.handler = handler;
    const p = new H();
    p.initialize(kind === 'request' ? H.REQUEST : H.RESPONSE, {}, 0, 0);
    let trailers: string[] | null = null;
    p[H.kOnHeaders] = (headers: string[]) => {
      trailers = (trailers ?? []).concat(headers);
    };
    p[H.kOnHeadersComplete] = (
      major: number,
      minor: number,
      headers: string[],
      method: number,
      url: string,
      statusCode: number,
      statusMessage: string,
      upgrade: boolean,
      keepAlive: boolean,
    ) => {
      const head: MessageHead = {
        method: kind === 'request' ? binding.methods[method]! : '',
        url: url ?? '',
        versionMajor: major,
        versionMinor: minor,
        statusCode: statusCode ?? 0,
        statusMessage: statusMessage ?? '',
        headers,
        keepAlive,
        upgrade,
        contentLength: -1,
        chunked: false,
        expectContinue: false,
      };
      trailers = null;
      return handler.onHeadersComplete(head) === true ? 1 : 0;
    };
    p[H.kOnBody] = (b: Buffer) => handler.onBody(b);
    p[H.kOnMessageComplete] = () => {
      if (trailers !== null) handler.onTrailers?.(trailers);
      trailers = null;
      handler.onMessageComplete();
    };
    p[H.kOnExecute] = () => {};
    this.#p = p;
  }

  execute(buf: Buffer): number {
    const r = this.#p.execute(buf);
    if (r instanceof Error) {
      const e = r as Error & { code?: string; reason?: string };
      throw new LlhttpError(e.code ?? 'HPE_UNKNOWN', e.reason ?? e.message);
    }
    return r;
  }

  finish(): void {
    const r = this.#p.finish();
    if (r instanceof Error) {
      const e = r as Error & { code?: string; reason?: string };
      throw new LlhttpError(e.code ?? 'HPE_UNKNOWN', e.reason ?? e.message);
    }
  }

  destroy(): void {
    this.#p.close();
  }
}
