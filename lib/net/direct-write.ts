import type { Socket } from 'node:net';

/**
 * Writes that go straight to a socket's libuv handle.
 *
 * `socket.write` runs Node's Writable machinery for every call — state checks, a write request object, a
 * callback and a `process.nextTick` after each write — measured at about a microsecond per write on this
 * kind of machine; our connections write once per event-loop turn and do their own batching and
 * backpressure, so they can hand the bytes to the handle as Node's own `writeGeneric` does: a write
 * request (Node's `WriteWrap`) and `writeLatin1String` / `writeBuffer`. Small writes complete at once
 * (libuv's `uv_try_write`); what the kernel does not take is queued by libuv, in order with any later
 * write, direct or through the stream, and reported through the request's `oncomplete`. `end()` still
 * goes through the stream: its shutdown waits for libuv's queue.
 *
 * Node does not export `WriteWrap`; it is taken from the first write Node itself makes on a handle (the
 * constructor of the request it passes). Where that does not work (another Node, TLS, a wrapped stream)
 * `directWriter` returns null and the caller keeps `socket.write`.
 */

/** The handle methods used, as Node's stream_base_commons calls them. */
interface StreamHandle {
  writeLatin1String(req: object, data: string): number;
  writeBuffer(req: object, data: Uint8Array): number;
  readonly writeQueueSize: number;
}

/** A write request: completion is reported to `oncomplete(status)` with `this` the request. */
export interface DirectWriteRequest {
  oncomplete: (this: DirectWriteRequest, status: number) => void;
  /** Kept alive until the write completes (for Buffers). */
  buffer: Uint8Array | null;
  /** For the completion callback. */
  owner: unknown;
}

type WriteWrapCtor = new () => DirectWriteRequest;

/** undefined: not found yet; null: not available in this process. */
let writeWrap: WriteWrapCtor | null | undefined;

const HOOKED = ['writeLatin1String', 'writeBuffer', 'writeUtf8String', 'writev'] as const;

/**
 * The handle of `socket` if direct writes can be used on it, else null. The first call on a process that
 * has not yet learned Node's write-request class makes `probe()` (a normal `socket.write` of the bytes at
 * hand) with the handle's write methods briefly wrapped to see the request Node passes, and returns
 * undefined: the bytes are written.
 */
export function directHandle(socket: Socket, probe: () => void): StreamHandle | null | undefined {
  if (writeWrap === null || (socket as { encrypted?: boolean }).encrypted === true) return null;
  const h = (socket as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  if (h == null || typeof h.writeLatin1String !== 'function' || typeof h.writeBuffer !== 'function' || typeof h.writeQueueSize !== 'number') return null;
  if (writeWrap === undefined) {
    learn(h as StreamHandle, probe);
    return undefined;
  }
  return h as StreamHandle;
}

function learn(handle: StreamHandle, probe: () => void): void {
  const h = handle as unknown as Record<string, unknown>;
  let seen: unknown;
  const proto = Object.getPrototypeOf(h) as Record<string, unknown>;
  for (const name of HOOKED) {
    const orig = proto[name];
    if (typeof orig !== 'function') continue;
    h[name] = function (this: unknown, req: { constructor?: unknown }, ...rest: unknown[]): unknown {
      seen ??= req?.constructor;
      return (orig as (...a: unknown[]) => unknown).call(this, req, ...rest);
    };
  }
  try {
    probe();
  } finally {
    for (const name of HOOKED) delete h[name];
  }
  if (typeof seen !== 'function') {
    writeWrap = null;
    return;
  }
  try {
    const r = new (seen as WriteWrapCtor)();
    writeWrap = typeof r === 'object' && r !== null ? (seen as WriteWrapCtor) : null;
  } catch {
    writeWrap = null;
  }
}

/** Bytes libuv holds for `socket` that the kernel has not taken yet (direct writes and stream writes alike). */
export function handleQueueSize(socket: Socket): number {
  const h = (socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle;
  return h?.writeQueueSize ?? 0;
}

/**
 * Writes `data` (a latin1 string or bytes) to the handle. Returns 0 or a negative errno. Bytes the
 * kernel did not take are queued by libuv (`writeQueueSize`) and `oncomplete` is called when they are
 * written (status < 0: failed).
 */
export function writeDirect(h: StreamHandle, data: string | Uint8Array, owner: unknown, oncomplete: (this: DirectWriteRequest, status: number) => void): number {
  const req = new writeWrap!();
  req.oncomplete = oncomplete;
  req.owner = owner;
  if (typeof data === 'string') {
    req.buffer = null;
    return h.writeLatin1String(req, data);
  }
  req.buffer = data;
  return h.writeBuffer(req, data);
}
