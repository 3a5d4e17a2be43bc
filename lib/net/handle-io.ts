import util from 'node:util';

/**
 * Connections that live on their libuv handle — TCP, or a unix socket's pipe — with no `net.Socket`.
 *
 * An idle keep-alive connection held through `net.Socket` costs about 900 bytes of JS heap for the socket
 * and its Readable/Writable state, and its construction makes garbage at every accept that grows V8's young
 * generation (measured: 3.0 KiB of RSS per idle connection for a bare `net` server against 0.9 KiB for the
 * handle alone; bench/RESULTS.md). Our connections already read into one shared buffer (shared-read.ts),
 * write straight to the handle (direct-write.ts) and keep their own deadlines, so the socket was only a
 * holder. Here the server takes the handle from `net.Server`'s accept callback and the {@link Connection}
 * drives it: reads arrive in `onread` with the byte count in Node's stream state, writes are write
 * requests on the handle, a graceful end is a shutdown request, a close is `handle.close`. A `net.Socket`
 * is made around the handle only when someone asks for one (`conn.socket`, `conn.detach()`), and the
 * connection then goes on through it.
 *
 * These are the same bindings `node:net` is built on (`process.binding('tcp_wrap' | 'pipe_wrap' | 'stream_wrap')`, which
 * Node 20, 24 and 26 expose without a warning); the calling forms used here — a write request object
 * passed to `writeBuffer` / `writeLatin1String` / `writev`, `shutdown(req)`, `close(cb)`, `onread` with
 * the count in `streamBaseState` — are the ones all three lines accept (test/net/handle-io.test.ts).
 * Where the bindings are missing or refused (a permission model, another runtime) {@link handleIoAvailable}
 * is false and servers keep `net.Socket`.
 */

/** The handle methods used (Node's `TCP` and `Pipe` wraps: `StreamBase` and `HandleWrap`; a pipe has no Nagle or peer address). */
export interface RawHandle {
  /** Called with `this` the handle for each read; see {@link readResult}. Node asserts it is a function. */
  onread: (this: never) => void;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buf: Uint8Array): void;
  writeBuffer(req: WriteRequest, data: Uint8Array): number;
  writeLatin1String(req: WriteRequest, data: string): number;
  writev(req: WriteRequest, chunks: Uint8Array[], allBuffers: true): number;
  shutdown(req: object): number;
  close(cb?: () => void): void;
  setNoDelay?(on: boolean): number;
  getpeername?(out: { address?: string; port?: number; family?: string }): number;
  readonly writeQueueSize: number;
}

/**
 * A write request (Node's `WriteWrap`), for bare handles and for direct writes on sockets alike:
 * `oncomplete(status)` is called with `this` the request when libuv had to queue the bytes.
 */
export interface WriteRequest {
  /** The handle written to, kept alive until the write completes (as Node's own writes do). */
  handle?: unknown;
  oncomplete: (this: WriteRequest, status: number) => void;
  /** What is being written, kept alive until the write completes. */
  buffer: Uint8Array | Uint8Array[] | null;
  /** For the completion callback. */
  owner: unknown;
  /** Bytes libuv queued for this write when it was made. */
  queued: number;
  /** Node 24+'s null-request form only: a completion that happened inside the write call, or null. */
  writeStatus?: number | null;
}

/** What a write needs of a handle, in the form every Node line accepts (a request object passed). */
export interface WriteTarget {
  writeLatin1String(req: WriteRequest, data: string): number;
  writeBuffer(req: WriteRequest, data: Uint8Array): number;
  writev(req: WriteRequest, chunks: Uint8Array[], allBuffers: true): number;
  readonly writeQueueSize: number;
}

interface ShutdownRequest {
  handle: RawHandle;
  oncomplete: (this: ShutdownRequest, status: number) => void;
  owner: unknown;
}

type HandleClass = new (...args: never[]) => object;

/** @internal What handle-io takes from Node's bindings. */
export interface Bindings {
  TCP: HandleClass;
  /** Unix sockets' handle class; null where it is missing (then their connections keep sockets). */
  Pipe: HandleClass | null;
  WriteWrap: new () => WriteRequest;
  ShutdownWrap: new () => ShutdownRequest;
  state: Int32Array;
  kReadBytesOrError: number;
  /** Where `state` says whether the last write was queued by libuv (1) or finished inside the call (0). */
  kLastWriteWasAsync: number;
}

/**
 * @internal The bindings from `tcp_wrap`, `stream_wrap` and `pipe_wrap`'s exports, or null when any piece
 * TCP needs is missing (another runtime, a Node that moved them): then servers keep `net.Socket`.
 */
export function bindingsFrom(tcp: Record<string, unknown>, sw: Record<string, unknown>, pipe: Record<string, unknown> = {}): Bindings | null {
  const ok =
    typeof tcp.TCP === 'function' &&
    typeof sw.WriteWrap === 'function' &&
    typeof sw.ShutdownWrap === 'function' &&
    sw.streamBaseState instanceof Int32Array &&
    typeof sw.kReadBytesOrError === 'number' &&
    typeof sw.kLastWriteWasAsync === 'number';
  if (!ok) return null;
  return {
    TCP: tcp.TCP as HandleClass,
    Pipe: typeof pipe.Pipe === 'function' ? (pipe.Pipe as HandleClass) : null,
    WriteWrap: sw.WriteWrap as Bindings['WriteWrap'],
    ShutdownWrap: sw.ShutdownWrap as Bindings['ShutdownWrap'],
    state: sw.streamBaseState as Int32Array,
    kReadBytesOrError: sw.kReadBytesOrError as number,
    kLastWriteWasAsync: sw.kLastWriteWasAsync as number,
  };
}

const BINDINGS: Bindings | null = (() => {
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    let pipe: Record<string, unknown> = {};
    try {
      pipe = binding('pipe_wrap');
    } catch {
      /* unix sockets keep net.Socket; TCP need not */
    }
    return bindingsFrom(binding('tcp_wrap'), binding('stream_wrap'), pipe);
  } catch {
    return null; // refused (a permission model) or absent
  }
})();

/** libuv's end-of-stream code (`UV_EOF`). */
export const UV_EOF = -4095;

/**
 * Whether servers can run connections on bare handles in this process (else they use `net.Socket`).
 *
 * @example
 * ```ts
 * import { handleIoAvailable } from 'covet/net';
 * if (!handleIoAvailable()) console.warn('each connection holds a net.Socket on this runtime');
 * ```
 */
export function handleIoAvailable(): boolean {
  return BINDINGS !== null;
}

/** `handle` if it is a TCP or unix-socket handle these functions can drive, else null. */
export function asRawHandle(handle: unknown): RawHandle | null {
  if (BINDINGS === null) return null;
  return handle instanceof BINDINGS.TCP || (BINDINGS.Pipe !== null && handle instanceof BINDINGS.Pipe) ? (handle as RawHandle) : null;
}

/** The byte count (> 0) or libuv error (< 0, {@link UV_EOF} at the end) of the read being delivered. */
export function readResult(): number {
  return BINDINGS!.state[BINDINGS!.kReadBytesOrError]!;
}

/** Node's per-write stream state (null where the bindings are unavailable: then the queue size is asked) and its "last write was async" index. */
export const WRITE_STATE: Int32Array | null = BINDINGS?.state ?? null;
export const WRITE_ASYNC_AT: number = BINDINGS?.kLastWriteWasAsync ?? 0;

/**
 * A write request that finished inside its call, kept for the next write: Node binds a request to its write
 * only when libuv has to queue the bytes (StreamBase::Write returns before that when the kernel took them
 * all), so an unbound one is as new — and making one costs a template instantiation per write.
 */
let spare: WriteRequest | null = null;
let made = 0;

/** @internal Write requests made for bare handles so far (a test checks one serves every write finished at once). */
export function writeRequestsMade(): number {
  return made;
}

/**
 * Writes `data` (a latin1 string, bytes, or several buffers as one `writev`). Returns a negative errno, 0
 * when the kernel took everything, or (> 0) the bytes libuv queued: `oncomplete` is then called, with
 * `this` the request (`owner`, `queued`), once they are written (status < 0: failed). `queueEmpty`: the
 * caller knows libuv holds nothing of this handle's (its own queued writes all completed), which saves
 * asking the handle.
 */
export function writeHandle(
  h: RawHandle,
  data: string | Uint8Array | Uint8Array[],
  owner: unknown,
  oncomplete: (this: WriteRequest, status: number) => void,
  queueEmpty = false,
): number {
  let req = spare;
  if (req === null) {
    req = new BINDINGS!.WriteWrap();
    made++;
  } else spare = null;
  const r = submitWrite(req, h, data, owner, oncomplete, queueEmpty ? 0 : h.writeQueueSize, WRITE_STATE, WRITE_ASYNC_AT);
  if (r === 0 && WRITE_STATE![WRITE_ASYNC_AT] === 0) {
    // Nothing of this write kept alive by the spare: not its bytes, nor its handle and connection.
    req.buffer = null;
    req.owner = null;
    req.handle = null;
    spare = req;
  }
  return r;
}

/**
 * Makes `req` the write of `data` on `h` (see {@link writeHandle} for the result). Shared with the direct
 * writes on sockets (direct-write.ts), whose request class is learned from Node's own first write.
 * `before` is libuv's queue size for the handle before this write; `state[asyncAt]` is Node's flag for
 * the write just made (1: libuv queued part of it and completes it later).
 */
export function submitWrite(
  req: WriteRequest,
  h: WriteTarget,
  data: string | Uint8Array | Uint8Array[],
  owner: unknown,
  oncomplete: (this: WriteRequest, status: number) => void,
  before: number,
  state: Int32Array | null,
  asyncAt: number,
): number {
  req.handle = h;
  req.oncomplete = oncomplete;
  req.owner = owner;
  req.queued = 0;
  let err: number;
  if (typeof data === 'string') {
    req.buffer = null;
    err = h.writeLatin1String(req, data);
  } else {
    req.buffer = data;
    err = Array.isArray(data) ? h.writev(req, data, true) : h.writeBuffer(req, data);
  }
  if (err !== 0) return err;
  // Finished inside the call: nothing queued, no completion will come.
  if (state !== null && state[asyncAt] === 0) return 0;
  // libuv queued the rest; its queue grew by it.
  return (req.queued = Math.max(0, h.writeQueueSize - before));
}

/** A libuv error code (negative errno) as the Error Node reports for it: `'<syscall> ECODE'`, errno, code, syscall. */
export function errnoError(code: number, syscall: string): NodeJS.ErrnoException {
  const name = util.getSystemErrorName(code);
  const e = new Error(`${syscall} ${name}`) as NodeJS.ErrnoException;
  e.errno = code;
  e.code = name;
  e.syscall = syscall;
  return e;
}

/** Sends FIN once queued writes are out (libuv orders the shutdown behind them); `done(status)` after. */
export function shutdownHandle(h: RawHandle, owner: unknown, done: (this: ShutdownRequest, status: number) => void): number {
  const req = new BINDINGS!.ShutdownWrap();
  req.handle = h;
  req.owner = owner;
  req.oncomplete = done;
  return h.shutdown(req);
}
