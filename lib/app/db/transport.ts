/**
 * Where the protocol bytes go: a TCP or unix socket (optionally upgraded to TLS by SSLRequest), through
 * our `lib/net` Connection for write batching; or PGlite, the embedded PostgreSQL, through its raw
 * protocol entry point. The driver above speaks the same bytes to both.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Connection } from '../../net/index.js';
import { ConnectionError } from './errors.js';
import type { ConnectionConfig } from './url.js';

export interface TransportSink {
  onData(chunk: Buffer): void;
  onClose(error: Error | undefined): void;
  /** Written bytes went out after `write` returned false. */
  onDrain?(): void;
}

export interface Transport {
  /** Queues bytes; they go out together at the end of the tick. False: above the high-water mark. */
  write(bytes: Buffer): boolean;
  close(): void;
  /** Stop and resume reading (a slow COPY TO consumer). */
  pause(): void;
  resume(): void;
  /** Whether the startup handshake must be sent (PGlite is connected from the start). */
  readonly needsStartup: boolean;
  /**
   * Whether the peer reads our bytes as they come. PGlite does not: it runs each batch to completion, so
   * a COPY FROM must arrive whole (Query, CopyData..., CopyDone) in one batch.
   */
  readonly streaming: boolean;
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** Opens a socket to the server; with `sslmode` other than `disable`, negotiates TLS first. */
export async function connectSocket(config: ConnectionConfig, sink: TransportSink, connectTimeoutMs = 10_000): Promise<Transport> {
  let socket: net.Socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = config.socketDir !== undefined ? net.connect(`${config.socketDir}/.s.PGSQL.${config.port}`) : net.connect(config.port, config.host);
    const timer = setTimeout(() => s.destroy(new ConnectionError(`connecting to ${config.host}:${config.port} timed out after ${connectTimeoutMs} ms`)), connectTimeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.setNoDelay(true);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(new ConnectionError(`cannot connect to PostgreSQL at ${config.socketDir ?? `${config.host}:${config.port}`}: ${err.message}`, { cause: err }));
    });
  });
  if (config.sslmode !== 'disable') socket = await startTls(socket, config);
  const conn = new Connection(socket, {
    onData: (chunk) => sink.onData(chunk),
    onClose: (err) => sink.onClose(err),
    onDrain: () => sink.onDrain?.(),
    onTimeout: () => {}, // the driver has its own deadlines; an idle pooled connection is fine
  });
  return {
    needsStartup: true,
    streaming: true,
    write: (bytes) => conn.write(bytes),
    close: () => conn.end(),
    pause: () => conn.pauseReading(),
    resume: () => conn.resumeReading(),
  };
}

/** SSLRequest (protocol §54.2.10): the server answers one byte, `S` to go on in TLS or `N`. */
async function startTls(socket: net.Socket, config: ConnectionConfig): Promise<net.Socket> {
  const answer = await new Promise<number>((resolve, reject) => {
    socket.once('data', (d: Buffer) => (d.length === 1 ? resolve(d[0]!) : reject(new ConnectionError('unexpected answer to SSLRequest'))));
    socket.once('error', reject);
    socket.write(SSL_REQUEST);
  });
  if (answer !== 0x53) {
    if (config.sslmode === 'prefer') return socket;
    socket.destroy();
    throw new ConnectionError(`the server refused TLS (sslmode=${config.sslmode})`);
  }
  const verify = config.sslmode === 'verify-ca' || config.sslmode === 'verify-full';
  return new Promise((resolve, reject) => {
    const t = tls.connect({
      socket,
      servername: net.isIP(config.host) === 0 ? config.host : undefined,
      rejectUnauthorized: verify,
      checkServerIdentity: config.sslmode === 'verify-full' ? tls.checkServerIdentity : () => undefined,
    });
    t.once('secureConnect', () => resolve(t));
    t.once('error', (err) => reject(new ConnectionError(`TLS with the server failed: ${err.message}`, { cause: err })));
  });
}

/** What the driver needs of a PGlite instance. */
export interface PGliteLike {
  execProtocolRaw(message: Uint8Array, options?: { syncToFs?: boolean }): Promise<Uint8Array>;
  /** PGlite ≥ 0.3: the answer in chunks, to a callback, without parsing it (see pgliteTransport). */
  execProtocolRawStream?(message: Uint8Array, options: { syncToFs?: boolean; onRawData: (data: Uint8Array) => void }): Promise<void>;
  close(): Promise<void>;
  readonly closed?: boolean;
}

/**
 * Runs protocol bytes on PGlite and returns its answer, copied out of PGlite's memory (its chunks are
 * reused by the next call). Through `execProtocolRawStream` where PGlite has it: `execProtocolRaw` also
 * parses every backend message into an array that only `execProtocol`/`execProtocolStream` ever empty, so
 * a driver that speaks the raw protocol through it keeps every answer it was ever sent (a leak of ~1.3 KB
 * per 1 KB row).
 */
export async function execPglite(db: PGliteLike, bytes: Uint8Array, syncToFs: boolean): Promise<Buffer> {
  if (db.execProtocolRawStream === undefined) {
    const out = await db.execProtocolRaw(bytes, { syncToFs });
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }
  const parts: Buffer[] = [];
  await db.execProtocolRawStream(bytes, { syncToFs, onRawData: (d) => void parts.push(Buffer.from(d)) });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * PGlite runs one backend in this process: the bytes of a tick go to it in one call and its answer comes
 * back as if read from a socket. Calls are chained so answers keep their order (see execPglite).
 */
export function pgliteTransport(db: PGliteLike, sink: TransportSink): Transport {
  let pending: Buffer[] = [];
  let scheduled = false;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  const flush = (): void => {
    scheduled = false;
    const bytes = Buffer.concat(pending);
    pending = [];
    chain = chain.then(async () => {
      if (closed) return;
      try {
        const out = await execPglite(db, bytes, false);
        if (out.length > 0) sink.onData(out);
      } catch (err) {
        closed = true;
        sink.onClose(err as Error);
      }
    });
  };
  return {
    needsStartup: false,
    streaming: false,
    write(bytes) {
      if (closed) return true;
      pending.push(bytes);
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
      return true;
    },
    // Answers arrive whole from execProtocolRaw; there is no socket to pause.
    pause() {},
    resume() {},
    close() {
      if (closed) return;
      closed = true;
      void chain.then(() => sink.onClose(undefined));
    },
  };
}
