/**
 * PGlite over the PostgreSQL wire protocol: one PGlite instance (one backend, one session) served to any
 * number of client connections on a TCP port, so processes that come and go (the `covet dev` workers),
 * `psql` or another driver share one embedded database. Used by `covet dev`; not meant for production.
 *
 * PGlite has a single session, so the server shares it fairly and safely:
 * - A connection owns the session from its first message until an answer ends in ReadyForQuery with
 *   status `I` (idle, outside a transaction); others wait their turn. A transaction is never interleaved.
 * - Named prepared statements and portals are renamed per connection (`c7_s1`), so two drivers that both
 *   name their statements `s1` do not collide; a connection's statements are deallocated when it closes,
 *   and a transaction it left open is rolled back.
 *
 * Not carried: LISTEN/NOTIFY between connections, COPY, cancel requests, TLS (answered 'N'; clients fall
 * back to plain TCP on loopback).
 *
 * @example
 * ```ts
 * import { PGlite } from '@electric-sql/pglite';
 * const server = await servePglite(await PGlite.create('./.data'), { port: 0 });
 * console.log(server.url); // postgres://postgres@127.0.0.1:41234/postgres
 * ```
 */
import net from 'node:net';
import { quoteIdent } from './sql.js';
import { execPglite, type PGliteLike } from './transport.js';

export interface PgliteServerOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
}

export interface PgliteServer {
  readonly port: number;
  /** A connection string for clients: `postgres://postgres@host:port/postgres`. */
  readonly url: string;
  /** Stops listening and closes every client connection (the PGlite instance stays open). */
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
/** A startup packet or message over this is refused (the protocol's own limit is 1 GB; ours is smaller). */
const MAX_MESSAGE = 64 * 1024 * 1024;

interface Job {
  /** null: cleanup after a connection closed (its answer is dropped; it leaves the session idle). */
  conn: Conn | null;
  bytes: Buffer;
}

class Conn {
  buf: Buffer = Buffer.alloc(0);
  started = false;
  closed = false;
  /** Status of the last ReadyForQuery this connection was sent. */
  status = 'I';
  readonly statements = new Set<string>();
  readonly id: number;
  readonly socket: net.Socket;
  constructor(id: number, socket: net.Socket) {
    this.id = id;
    this.socket = socket;
  }
  get prefix(): string {
    return `c${this.id}_`;
  }
}

/** Serves `db` on a TCP port (see the module comment for what is shared and how). */
export async function servePglite(db: PGliteLike, options: PgliteServerOptions = {}): Promise<PgliteServer> {
  const host = options.host ?? '127.0.0.1';
  const params = await serverParams(db);
  const queue: Job[] = [];
  const conns = new Set<Conn>();
  let owner: Conn | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  let nextId = 1;

  const exec = (bytes: Buffer): Promise<Buffer> => execPglite(db, bytes, true);

  const pump = (): Promise<void> => (running ??= drain().finally(() => (running = null)));
  const drain = async (): Promise<void> => {
    {
      while (!stopped) {
        const i = queue.findIndex((j) => owner === null || owner.closed || j.conn === owner);
        if (i < 0) break;
        const { conn, bytes } = queue.splice(i, 1)[0]!;
        if (conn?.closed === true) continue;
        const out = await exec(bytes);
        if (conn === null) {
          if (owner?.closed === true) owner = null;
          continue;
        }
        const z = lastReadyStatus(out);
        if (z !== null) conn.status = z;
        owner = z === 'I' ? null : conn; // mid-transaction or mid-extended-query: keep the session
        if (!conn.closed) conn.socket.write(out);
      }
    }
  };

  /** A closed connection leaves the session clean: its transaction rolled back, its statements gone. */
  const release = async (conn: Conn): Promise<void> => {
    for (let i = queue.length - 1; i >= 0; i--) if (queue[i]!.conn === conn) queue.splice(i, 1);
    const cleanup: string[] = [];
    if (conn.status !== 'I') cleanup.push('ROLLBACK');
    for (const name of conn.statements) cleanup.push(`DEALLOCATE ${quoteIdent(name)}`);
    // First in the queue, so it runs before anyone else uses the session (the owner's turn passes to it).
    if (cleanup.length > 0) queue.unshift({ conn: null, bytes: Buffer.concat(cleanup.map((q) => queryMessage(q))) });
    else if (owner === conn) owner = null;
    void pump();
  };

  const onData = (conn: Conn, chunk: Buffer): void => {
    conn.buf = conn.buf.length === 0 ? chunk : Buffer.concat([conn.buf, chunk]);
    const out: Buffer[] = [];
    let off = 0;
    while (!conn.closed) {
      if (!conn.started) {
        if (conn.buf.length - off < 8) break;
        const len = conn.buf.readInt32BE(off);
        if (len < 8 || len > 10_000) return fail(conn, 'invalid startup packet length');
        if (conn.buf.length - off < len) break;
        const code = conn.buf.readInt32BE(off + 4);
        off += len;
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) conn.socket.write('N');
        else if (code === CANCEL_REQUEST) return void conn.socket.end();
        else if (code === PROTOCOL_3) {
          conn.started = true;
          conn.socket.write(startupAnswer(conn.id, params));
        } else return fail(conn, `unsupported protocol ${code >> 16}.${code & 0xffff}`);
        continue;
      }
      if (conn.buf.length - off < 5) break;
      const type = conn.buf[off]!;
      const len = conn.buf.readInt32BE(off + 1);
      if (len < 4 || len > MAX_MESSAGE) return fail(conn, 'invalid message length');
      if (conn.buf.length - off < 1 + len) break;
      const msg = conn.buf.subarray(off, off + 1 + len);
      off += 1 + len;
      if (type === 0x58 /* X: Terminate */) {
        conn.socket.end();
        break;
      }
      out.push(renameStatements(conn, type, msg));
    }
    conn.buf = off === conn.buf.length ? Buffer.alloc(0) : Buffer.from(conn.buf.subarray(off));
    if (out.length > 0) {
      queue.push({ conn, bytes: out.length === 1 ? out[0]! : Buffer.concat(out) });
      void pump();
    }
  };

  const fail = (conn: Conn, message: string): void => {
    conn.socket.end(errorMessage('08P01', message));
    conn.closed = true;
  };

  const server = net.createServer((socket) => {
    const conn = new Conn(nextId++, socket);
    conns.add(conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => onData(conn, chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      conn.closed = true;
      conns.delete(conn);
      void release(conn);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port ?? 0 }, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `postgres://postgres@${host.includes(':') ? `[${host}]` : host}:${port}/postgres?sslmode=disable`,
    close: async () => {
      stopped = true;
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await running; // the answer being computed, if any: PGlite may be closed right after
    },
  };
}

/** The status byte of the last ReadyForQuery ('Z') in an answer, or null if it has none. */
function lastReadyStatus(out: Buffer): string | null {
  let status: string | null = null;
  let off = 0;
  while (off + 5 <= out.length) {
    const len = out.readInt32BE(off + 1);
    if (out[off] === 0x5a && len === 5) status = String.fromCharCode(out[off + 5]!);
    off += 1 + len;
  }
  return status;
}

/**
 * Parse (P), Bind (B), Describe (D), Close (C) and Execute (E) name statements and portals; non-empty
 * names get the connection's prefix, and statements it creates are remembered for cleanup.
 */
function renameStatements(conn: Conn, type: number, msg: Buffer): Buffer {
  const body = msg.subarray(5);
  let fields: Array<Buffer | string>;
  switch (type) {
    case 0x50: {
      // Parse: statement name, query, ...
      const [name, rest] = cstring(body, 0);
      if (name === '') return msg;
      conn.statements.add(conn.prefix + name);
      fields = [conn.prefix + name, body.subarray(rest)];
      break;
    }
    case 0x42: {
      // Bind: portal name, statement name, ...
      const [portal, p2] = cstring(body, 0);
      const [stmt, rest] = cstring(body, p2);
      if (portal === '' && stmt === '') return msg;
      fields = [portal === '' ? '' : conn.prefix + portal, stmt === '' ? '' : conn.prefix + stmt, body.subarray(rest)];
      break;
    }
    case 0x44:
    case 0x43: {
      // Describe / Close: 'S' or 'P', then the name.
      const [name, rest] = cstring(body, 1);
      if (name === '') return msg;
      if (type === 0x43 && body[0] === 0x53) conn.statements.delete(conn.prefix + name);
      fields = [body.subarray(0, 1), conn.prefix + name, body.subarray(rest)];
      break;
    }
    case 0x45: {
      // Execute: portal name, max rows.
      const [portal, rest] = cstring(body, 0);
      if (portal === '') return msg;
      fields = [conn.prefix + portal, body.subarray(rest)];
      break;
    }
    default:
      return msg;
  }
  const parts = fields.map((f) => (typeof f === 'string' ? Buffer.from(`${f}\0`) : f));
  const len = 4 + parts.reduce((n, p) => n + p.length, 0);
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeInt32BE(len, 1);
  return Buffer.concat([head, ...parts]);
}

function cstring(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  if (end < 0) return [buf.toString('utf8', at), buf.length];
  return [buf.toString('utf8', at, end), end + 1];
}


function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

function queryMessage(sql: string): Buffer {
  return message('Q', Buffer.from(`${sql}\0`));
}

function errorMessage(code: string, text: string): Buffer {
  return message('E', Buffer.from(`SFATAL\0C${code}\0M${text}\0\0`));
}

/** AuthenticationOk, the session's parameters, BackendKeyData and ReadyForQuery (idle). */
function startupAnswer(id: number, params: Record<string, string>): Buffer {
  const auth = Buffer.alloc(4);
  const parts = [message('R', auth)];
  for (const [k, v] of Object.entries(params)) parts.push(message('S', Buffer.from(`${k}\0${v}\0`)));
  const key = Buffer.alloc(8);
  key.writeInt32BE(id, 0);
  parts.push(message('K', key), message('Z', Buffer.from('I')));
  return Buffer.concat(parts);
}

/** What a server reports at startup, read from PGlite itself. */
async function serverParams(db: PGliteLike): Promise<Record<string, string>> {
  const names = ['server_version', 'server_encoding', 'client_encoding', 'DateStyle', 'IntervalStyle', 'TimeZone', 'integer_datetimes', 'standard_conforming_strings'];
  const out = await execPglite(db, queryMessage(`SELECT ${names.map((n) => `current_setting('${n}')`).join(', ')}`), false);
  const params: Record<string, string> = {};
  let off = 0;
  while (off + 5 <= out.length) {
    const len = out.readInt32BE(off + 1);
    if (out[off] === 0x44 /* DataRow */) {
      let p = off + 7;
      for (const n of names) {
        const l = out.readInt32BE(p);
        p += 4;
        params[n] = l < 0 ? '' : out.toString('utf8', p, p + l);
        p += Math.max(l, 0);
      }
    }
    off += 1 + len;
  }
  params.application_name = '';
  return params;
}
