import { Socket } from 'node:net';

/**
 * Socket reads into one process-wide buffer.
 *
 * Node's default read path allocates a fresh 64 KiB backing store for every read, shrinks it to the bytes
 * read, wraps it in an ArrayBuffer and a Buffer (external memory the GC must account for and sweep), and
 * pushes it through the Readable machinery to 'data' listeners. On small keep-alive requests that path
 * measured about a quarter of our server's user time per request (bench/RESULTS.md). `net.Socket`'s
 * `onread` option is Node's documented way around it — libuv reads into a buffer the caller owns and a
 * callback gets the byte count — but a server cannot pass options to the sockets it accepts. So this does
 * for an accepted socket what the Socket constructor does with `onread`: it sets the same three fields
 * (found by their symbol descriptions on a probe socket built with `onread`) and calls the handle's
 * `useUserBuffer`. Each read is copied out of the shared buffer into a right-sized Buffer (from Node's
 * 8 KiB pool when small), which the callback owns. Where any of this is missing (another Node version,
 * TLS, a wrapped stream), the socket is left on 'data' events and `readIntoSharedBuffer` returns false.
 *
 * Reads are delivered synchronously from libuv's read callback, one socket at a time, so one buffer
 * serves every socket of the process.
 */

const READ_SIZE = 64 * 1024;

type UserBufferHandle = { useUserBuffer(buf: Uint8Array): void };
type Fields = { kBuffer: symbol; kBufferCb: symbol; kBufferGen: symbol };

/** The Socket constructor's own field names for `onread`, or null when this Node does not have them. */
const FIELDS: Fields | null = (() => {
  try {
    const probe = new Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as ConstructorParameters<typeof Socket>[0]);
    const syms = Object.getOwnPropertySymbols(probe);
    const find = (d: string): symbol | undefined => syms.find((s) => s.description === d);
    const kBuffer = find('kBuffer');
    const kBufferCb = find('kBufferCb');
    const kBufferGen = find('kBufferGen');
    probe.destroy();
    if (kBuffer === undefined || kBufferCb === undefined || kBufferGen === undefined) return null;
    return { kBuffer, kBufferCb, kBufferGen };
  } catch {
    return null;
  }
})();

/**
 * Whether this Node lets accepted plain TCP sockets read into the shared buffer (else they deliver 'data'
 * events, Node's default path).
 *
 * @example
 * ```ts
 * import { sharedReadAvailable } from 'covet/net';
 * if (!sharedReadAvailable()) console.warn('reads take the default path on this Node');
 * ```
 */
export function sharedReadAvailable(): boolean {
  return FIELDS !== null;
}

let shared: Buffer | null = null;

/** The process-wide read buffer (made on first use). Reads are delivered one at a time, so one serves all. */
export function sharedReadBuffer(): Buffer {
  return (shared ??= Buffer.allocUnsafe(READ_SIZE));
}

/** Read callbacks by delivery function: one wrapper per function, none per socket. */
const readers = new Map<unknown, (this: Socket, n: number, buf: Buffer) => boolean>();

/**
 * Makes libuv read `socket` into the shared buffer and call `onChunk` (with `this` = the socket) with a
 * copy of each read. Returns false, changing nothing, where that cannot be done: deliver 'data' events
 * then. End of stream and errors still arrive as the socket's 'end' / 'error' / 'close' events.
 * `pause()` / `resume()` keep working (Node stops and restarts the handle's reading for such sockets).
 *
 * @example
 * ```ts
 * import { readIntoSharedBuffer } from 'covet/net';
 * function onChunk(this: Socket, chunk: Buffer) { console.log(chunk.length); }
 * if (!readIntoSharedBuffer(socket, onChunk)) socket.on('data', onChunk);
 * ```
 */
export function readIntoSharedBuffer<S extends Socket>(socket: S, onChunk: (this: S, chunk: Buffer) => void): boolean {
  const f = FIELDS;
  const handle = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  if (f === null || handle == null || typeof handle.useUserBuffer !== 'function' || (socket as { encrypted?: boolean }).encrypted === true) return false;
  const buf = sharedReadBuffer();
  let reader = readers.get(onChunk);
  if (reader === undefined) {
    reader = function (this: Socket, n: number, from: Buffer): boolean {
      const chunk = Buffer.allocUnsafe(n);
      from.copy(chunk, 0, 0, n);
      onChunk.call(this as S, chunk);
      return true;
    };
    readers.set(onChunk, reader);
  }
  const s = socket as unknown as Record<symbol, unknown>;
  s[f.kBuffer] = buf;
  s[f.kBufferCb] = reader;
  s[f.kBufferGen] = null;
  handle.useUserBuffer(buf);
  // Flowing, as with a 'data' listener: the end of stream is then reported as soon as it is read.
  socket.resume();
  return true;
}

/**
 * For a socket set up by {@link readIntoSharedBuffer}: later reads are pushed to the socket's Readable
 * side as on any socket ('data' events, `pause`, `unshift`, backpressure), still copied out of the
 * shared buffer. Used when the socket is handed to code that expects a plain `net.Socket`.
 *
 * @example
 * ```ts
 * readIntoStream(socket);
 * wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)); // the `ws` library
 * ```
 */
export function readIntoStream(socket: Socket): void {
  const f = FIELDS;
  if (f === null) return;
  const s = socket as unknown as Record<symbol, unknown>;
  if (s[f.kBuffer] === undefined || s[f.kBuffer] === null) return;
  s[f.kBufferCb] = pushCopy;
}

function pushCopy(this: Socket, n: number, from: Buffer): boolean {
  const chunk = Buffer.allocUnsafe(n);
  from.copy(chunk, 0, 0, n);
  return this.push(chunk); // false: Node stops reading until the Readable is drained
}
