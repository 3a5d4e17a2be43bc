import type { Socket } from 'node:net';
import { submitWrite, WRITE_ASYNC_AT, WRITE_STATE, type WriteRequest, type WriteTarget } from './handle-io.js';

/**
 * Writes that go straight to a socket's libuv handle.
 *
 * `socket.write` runs Node's Writable machinery for every call — state checks, a write request object, a
 * callback and a `process.nextTick` after each write — measured at about a microsecond per write on this
 * kind of machine; our connections write once per event-loop turn and do their own batching and
 * backpressure, so they can hand the bytes to the handle as Node's own `writeGeneric` does
 * (`writeLatin1String` / `writeBuffer`). Small writes complete at once (libuv's `uv_try_write`); what the
 * kernel does not take is queued by libuv, in order with any later write, direct or through the stream,
 * and reported through the request's `oncomplete`. `end()` still goes through the stream: its shutdown
 * waits for libuv's queue.
 *
 * Node has two calling conventions for these handle methods, and which one a process has is learned from
 * the first write Node itself makes on a handle (the methods are briefly wrapped to see their arguments):
 * - `'request'` (Node 20, 22): the caller makes a write request (Node's `WriteWrap`, not exported; its
 *   constructor is taken from the request Node passes) and the method returns 0 or a negative errno.
 * - `'returned'` (Node 24, 26): the caller passes `null`; the method returns 0 or a negative errno when
 *   the write finished at once, else the request object libuv completes later. (A request is also
 *   returned when libuv refused to queue it — an error Node reads from a private state array; that only
 *   happens on a handle already shut down or closed, and connections never write on one.)
 *
 * Where neither is seen (another Node, TLS, a wrapped stream) `directHandle` returns null and the caller
 * keeps `socket.write`. {@link directWriteMode} says which path this process takes.
 */

/** The handle methods used, as Node's stream_base_commons calls them. */
interface StreamHandle {
  writeLatin1String(req: object | null, data: string): number | WriteRequest;
  writeBuffer(req: object | null, data: Uint8Array): number | WriteRequest;
  readonly writeQueueSize: number;
}

type WriteWrapCtor = new () => WriteRequest;

/** How this process writes to a handle directly; see the file comment. */
export type DirectWriteMode = 'request' | 'returned';

/** undefined: not learned yet; null: not available in this process. */
let mode: DirectWriteMode | null | undefined;
let writeWrap: WriteWrapCtor | null = null;

const HOOKED = ['writeLatin1String', 'writeBuffer', 'writeUtf8String', 'writeAsciiString', 'writev'] as const;

/**
 * Which direct-write convention this process uses: `'request'`, `'returned'`, `null` when direct writes
 * are not available (sockets keep `socket.write`), or `undefined` before the first plain TCP write taught
 * it.
 *
 * @example
 * ```ts
 * import { directWriteMode } from 'covet/net';
 * console.log(directWriteMode()); // 'returned' on Node 24
 * ```
 */
export function directWriteMode(): DirectWriteMode | null | undefined {
  return mode;
}

/**
 * The handle of `socket` if direct writes can be used on it, else null. The first call on a process that
 * has not yet learned Node's convention makes `probe()` (a normal `socket.write` of the bytes at hand)
 * with the handle's write methods briefly wrapped to see what Node passes, and returns undefined: the
 * bytes are written.
 */
export function directHandle(socket: Socket, probe: () => void): StreamHandle | null | undefined {
  if (mode === null || (socket as { encrypted?: boolean }).encrypted === true) return null;
  const h = (socket as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  if (h == null || typeof h.writeLatin1String !== 'function' || typeof h.writeBuffer !== 'function' || typeof h.writeQueueSize !== 'number') return null;
  if (mode === undefined) {
    learn(h as StreamHandle, probe);
    return undefined;
  }
  return h as StreamHandle;
}

function learn(handle: StreamHandle, probe: () => void): void {
  const h = handle as unknown as Record<string, unknown>;
  let called = false;
  let seen: unknown;
  const proto = Object.getPrototypeOf(h) as Record<string, unknown>;
  for (const name of HOOKED) {
    const orig = proto[name];
    if (typeof orig !== 'function') continue;
    h[name] = function (this: unknown, req: unknown, ...rest: unknown[]): unknown {
      if (!called) {
        called = true;
        seen = req;
      }
      return (orig as (...a: unknown[]) => unknown).call(this, req, ...rest);
    };
  }
  try {
    probe();
  } finally {
    for (const name of HOOKED) delete h[name];
  }
  // Not called: the write waited in the stream (still connecting, corked). Learn on a later write.
  if (!called) return;
  if (seen === null) {
    mode = 'returned';
    return;
  }
  const ctor = (seen as { constructor?: unknown } | undefined)?.constructor;
  try {
    const r: unknown = typeof ctor === 'function' ? new (ctor as WriteWrapCtor)() : null;
    if (typeof r === 'object' && r !== null) {
      writeWrap = ctor as WriteWrapCtor;
      mode = 'request';
      return;
    }
  } catch {
    /* not a constructor we can use */
  }
  mode = null;
}

/**
 * Writes `data` (a latin1 string or bytes) to the handle. Returns a negative errno, 0 when the kernel took
 * everything, or (> 0) the bytes libuv queued: `oncomplete` is then called, with `this` the request
 * (`owner`, `queued`), when they are written (status < 0: failed).
 */
export function writeDirect(h: StreamHandle, data: string | Uint8Array, owner: unknown, oncomplete: (this: WriteRequest, status: number) => void, queueEmpty = false): number {
  const before = queueEmpty ? 0 : h.writeQueueSize;
  if (mode === 'returned') {
    const ret = typeof data === 'string' ? h.writeLatin1String(null, data) : h.writeBuffer(null, data);
    if (typeof ret === 'number') return ret;
    const status = ret.writeStatus;
    if (status !== null && status !== undefined) return status < 0 ? status : 0; // finished inside the call
    ret.oncomplete = oncomplete;
    ret.owner = owner;
    ret.buffer = typeof data === 'string' ? null : data;
    return (ret.queued = Math.max(0, h.writeQueueSize - before));
  }
  // A socket's handle takes the same request form as a bare one (handle-io.ts).
  return submitWrite(new writeWrap!(), h as unknown as WriteTarget, data, owner, oncomplete, before, WRITE_STATE, WRITE_ASYNC_AT);
}
