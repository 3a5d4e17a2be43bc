/**
 * A conformance suite modelled on the Autobahn fuzzingclient case groups (1 framing, 2 pings, 3 reserved
 * bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close handling, 9 large payloads, 12/13 compression), run
 * over raw sockets against the echo server Autobahn runs against (conformance/ws-echo-server.mjs, default
 * options), once with permessage-deflate on and once off: each case writes exact frames and checks the
 * verdict the RFC requires (echo, pong, close code, TCP closed by the server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import net from 'node:net';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameParser, frameBytes, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT } from '../../lib/ws/index.js';

let port: number;
let echo: ChildProcess;
/** Starts conformance/ws-echo-server.mjs (the build) with compression on or off. */
function startEcho(compress: boolean): Promise<number> {
  echo = spawn(process.execPath, [join(import.meta.dirname, '../../conformance/ws-echo-server.mjs')], { env: { ...process.env, PORT: '0', COMPRESS: compress ? '1' : '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    echo.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    echo.once('exit', (code) => reject(new Error(`echo server exited (${code}): ${out}`)));
  });
}

interface Got {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  data: Buffer;
}

class RawClient {
  sock!: net.Socket;
  frames: Got[] = [];
  closed = false;
  /** The response head of the handshake. */
  head = '';
  #parser = new FrameParser({ role: 'client', allowRsv1: true, maxFrameSize: 64 * 1024 * 1024 }, {
    onFrame: (fin, rsv1, opcode, payload) => void this.frames.push({ fin, rsv1, opcode, data: Buffer.from(payload) }),
  });

  async open(deflate: boolean | string = false): Promise<void> {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.setNoDelay(true);
    await once(this.sock, 'connect');
    const offer = deflate === true ? 'permessage-deflate' : deflate === false ? null : deflate;
    this.sock.write(
      'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        (offer === null ? '' : `Sec-WebSocket-Extensions: ${offer}\r\n`) +
        '\r\n',
    );
    let head = Buffer.alloc(0);
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        expect(head.subarray(0, 12).toString()).toBe('HTTP/1.1 101');
        this.head = head.subarray(0, end).toString();
        this.sock.off('data', onData);
        this.sock.on('data', (x: Buffer) => this.#parser.push(x));
        const rest = head.subarray(end + 4);
        if (rest.length > 0) this.#parser.push(rest);
        resolve();
      };
      this.sock.on('data', onData);
    });
    this.sock.on('close', () => void (this.closed = true));
    this.sock.on('error', () => {});
  }

  /** The response's Sec-WebSocket-Extensions, or null. */
  get extensions(): string | null {
    return /\r\nsec-websocket-extensions: ([^\r]*)/i.exec(this.head)?.[1] ?? null;
  }

  send(opcode: number, payload: Buffer | string, opts: { fin?: boolean; rsv1?: boolean; rsv?: number; mask?: boolean } = {}): void {
    const b = frameBytes(opcode, typeof payload === 'string' ? Buffer.from(payload) : payload, { fin: opts.fin ?? true, rsv1: opts.rsv1, mask: opts.mask ?? true });
    if (opts.rsv !== undefined) b[0] |= opts.rsv;
    this.sock.write(b);
  }

  raw(bytes: Buffer): void {
    this.sock.write(bytes);
  }

  async until(pred: () => boolean, ms = 3000): Promise<void> {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out; frames: ${JSON.stringify(this.frames.map((f) => [f.opcode, f.data.length]))}, closed: ${this.closed}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Waits for the server's close frame and the TCP close; returns the close code (1005 if none). */
  async closeCode(): Promise<number> {
    await this.until(() => this.frames.some((f) => f.opcode === OP_CLOSE) && this.closed);
    const f = this.frames.find((x) => x.opcode === OP_CLOSE)!;
    return f.data.length >= 2 ? f.data.readUInt16BE(0) : 1005;
  }

  /** Whole data messages received so far (fragments joined). */
  messages(): Got[] {
    const out: Got[] = [];
    let cur: Got | null = null;
    for (const f of this.frames) {
      if (f.opcode === OP_TEXT || f.opcode === OP_BINARY) cur = { ...f };
      else if (f.opcode === OP_CONTINUATION && cur !== null) cur = { opcode: cur.opcode, rsv1: cur.rsv1, fin: f.fin, data: Buffer.concat([cur.data, f.data]) };
      else continue;
      if (cur.fin) {
        out.push(cur);
        cur = null;
      }
    }
    return out;
  }

  async echo(n = 1): Promise<Got[]> {
    await this.until(() => this.messages().length >= n);
    return this.messages();
  }
}

async function client(deflate: boolean | string = false): Promise<RawClient> {
  const c = new RawClient();
  await c.open(deflate);
  return c;
}

function closeFrame(code: number | null, reason: Buffer | string = ''): Buffer {
  if (code === null) return Buffer.alloc(0);
  const r = typeof reason === 'string' ? Buffer.from(reason) : reason;
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

for (const compress of [true, false]) {
describe(`echo server, permessage-deflate ${compress ? 'on' : 'off'}`, () => {
beforeAll(async () => {
  port = await startEcho(compress);
}, 20_000);
afterAll(async () => {
  echo.kill('SIGTERM');
  if (echo.exitCode === null) await once(echo, 'exit');
});

describe('1 framing', () => {
  for (const [opcode, name] of [[OP_TEXT, 'text'], [OP_BINARY, 'binary']] as const) {
    for (const n of [0, 125, 126, 127, 128, 65535, 65536, 65537]) {
      it(`1.x echoes ${name} of ${n} bytes`, async () => {
        const c = await client();
        const payload = Buffer.alloc(n, opcode === OP_TEXT ? 0x2a : 0xfe);
        c.send(opcode, payload);
        const [e] = await c.echo();
        expect([e!.opcode, e!.data.equals(payload)]).toEqual([opcode, true]);
        c.sock.destroy();
      });
    }
  }
  it('1.x a frame sent one byte at a time', async () => {
    const c = await client();
    const b = frameBytes(OP_TEXT, Buffer.from('byte by byte'), { mask: true });
    for (const byte of b) {
      c.raw(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    expect(String((await c.echo())[0]!.data)).toBe('byte by byte');
    c.sock.destroy();
  });
  it('1.x an unmasked client frame → 1002', async () => {
    const c = await client();
    c.send(OP_TEXT, 'no mask', { mask: false });
    expect(await c.closeCode()).toBe(1002);
  });
  it('1.x a length not in minimal form → 1002', async () => {
    const c = await client();
    c.raw(Buffer.from([0x81, 0x80 | 126, 0x00, 0x05, 1, 2, 3, 4, 1, 2, 3, 4, 5]));
    expect(await c.closeCode()).toBe(1002);
  });
});

describe('2 pings', () => {
  for (const n of [0, 10, 125]) {
    it(`2.x ping with ${n} bytes → pong with the same payload`, async () => {
      const c = await client();
      const p = Buffer.alloc(n, 0x61);
      c.send(OP_PING, p);
      await c.until(() => c.frames.some((f) => f.opcode === OP_PONG));
      expect(c.frames.find((f) => f.opcode === OP_PONG)!.data.equals(p)).toBe(true);
      c.sock.destroy();
    });
  }
  it('2.x ping of 126 bytes → 1002', async () => {
    const c = await client();
    c.send(OP_PING, Buffer.alloc(126));
    expect(await c.closeCode()).toBe(1002);
  });
  it('2.x fragmented ping → 1002', async () => {
    const c = await client();
    c.send(OP_PING, 'frag', { fin: false });
    expect(await c.closeCode()).toBe(1002);
  });
  it('2.x unsolicited pong is ignored, then pings are answered in order', async () => {
    const c = await client();
    c.send(OP_PONG, 'unsolicited');
    for (let i = 0; i < 10; i++) c.send(OP_PING, `p${i}`);
    await c.until(() => c.frames.filter((f) => f.opcode === OP_PONG).length === 10);
    expect(c.frames.map((f) => String(f.data))).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`));
    c.sock.destroy();
  });
});

describe('3 reserved bits', () => {
  for (const [bits, name] of [[0x40, 'RSV1 (no extension)'], [0x20, 'RSV2'], [0x10, 'RSV3'], [0x70, 'all RSV']] as const) {
    it(`3.x ${name} set → 1002`, async () => {
      const c = await client();
      c.send(OP_TEXT, 'x', { rsv: bits });
      expect(await c.closeCode()).toBe(1002);
    });
  }
});

describe('4 opcodes', () => {
  for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    it(`4.x reserved opcode ${op} → 1002`, async () => {
      const c = await client();
      c.send(op, 'x');
      expect(await c.closeCode()).toBe(1002);
    });
  }
});

describe('5 fragmentation', () => {
  it('5.x text in three fragments with a ping between them → pong, then the whole message', async () => {
    const c = await client();
    c.send(OP_TEXT, 'frag1-', { fin: false });
    c.send(OP_PING, 'in between');
    c.send(OP_CONTINUATION, 'frag2-', { fin: false });
    c.send(OP_CONTINUATION, 'frag3', { fin: true });
    const [e] = await c.echo();
    expect(String(e!.data)).toBe('frag1-frag2-frag3');
    expect(c.frames[0]!.opcode).toBe(OP_PONG);
    c.sock.destroy();
  });
  it('5.x empty fragments', async () => {
    const c = await client();
    c.send(OP_TEXT, '', { fin: false });
    c.send(OP_CONTINUATION, '', { fin: false });
    c.send(OP_CONTINUATION, '', { fin: true });
    expect((await c.echo())[0]!.data.length).toBe(0);
    c.sock.destroy();
  });
  it('5.x continuation without a message → 1002', async () => {
    const c = await client();
    c.send(OP_CONTINUATION, 'orphan');
    expect(await c.closeCode()).toBe(1002);
  });
  it('5.x a new text frame inside a fragmented message → 1002', async () => {
    const c = await client();
    c.send(OP_TEXT, 'a', { fin: false });
    c.send(OP_TEXT, 'b', { fin: true });
    expect(await c.closeCode()).toBe(1002);
  });
  it('5.x fragmented close → 1002', async () => {
    const c = await client();
    c.send(OP_CLOSE, closeFrame(1000), { fin: false });
    expect(await c.closeCode()).toBe(1002);
  });
});

describe('6 UTF-8', () => {
  const kosme = Buffer.from('κόσμε', 'utf8');
  it('6.x valid UTF-8 split at every byte between fragments', async () => {
    for (let cut = 1; cut < kosme.length; cut++) {
      const c = await client();
      c.send(OP_TEXT, kosme.subarray(0, cut), { fin: false });
      c.send(OP_CONTINUATION, kosme.subarray(cut), { fin: true });
      expect((await c.echo())[0]!.data.equals(kosme)).toBe(true);
      c.sock.destroy();
    }
  });
  const invalid: Array<[string, number[]]> = [
    ['surrogate', [0xed, 0xa0, 0x80]],
    ['overlong', [0xc0, 0xaf]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['lone continuation', [0x80]],
    ['truncated at the end', [0xe2, 0x82]],
    ['0xFF', [0xff]],
  ];
  for (const [name, bytes] of invalid) {
    it(`6.x invalid UTF-8 (${name}) → 1007`, async () => {
      const c = await client();
      c.send(OP_TEXT, Buffer.concat([Buffer.from('ok '), Buffer.from(bytes)]));
      expect(await c.closeCode()).toBe(1007);
    });
  }
  // 6.4.3 / 6.4.4: one frame (or a fragment) sent in three chops; the middle one holds U+110000 (invalid).
  const chops = [Buffer.from('cebae1bdb9cf83cebcceb5', 'hex'), Buffer.from('f4908080', 'hex'), Buffer.from('656469746564', 'hex')];
  for (const fragmented of [false, true]) {
    it(`6.4.${fragmented ? 4 : 3} fails fast inside a frame${fragmented ? ' (the second fragment)' : ''}: 1007 before the last chop is sent`, async () => {
      const c = await client();
      if (fragmented) c.send(OP_TEXT, chops[0]!, { fin: false });
      const frame = frameBytes(fragmented ? OP_CONTINUATION : OP_TEXT, Buffer.concat(fragmented ? chops.slice(1) : chops), { mask: true });
      const tail = chops[2]!.length;
      const mid = chops[1]!.length;
      c.raw(frame.subarray(0, frame.length - tail - mid));
      await new Promise((r) => setTimeout(r, 50));
      c.raw(frame.subarray(frame.length - tail - mid, frame.length - tail));
      expect(await c.closeCode()).toBe(1007); // the last chop was never sent
    });
  }
  it('6.x fails fast: 1007 arrives before the final fragment is sent', async () => {
    const c = await client();
    c.send(OP_TEXT, Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80]), { fin: false });
    expect(await c.closeCode()).toBe(1007);
  });
});

describe('7 close handling', () => {
  it('7.x close 1000 → close 1000 back, and the server closes TCP', async () => {
    const c = await client();
    c.send(OP_CLOSE, closeFrame(1000, 'bye'));
    expect(await c.closeCode()).toBe(1000);
  });
  it('7.x close without a payload → close without a payload back', async () => {
    const c = await client();
    c.send(OP_CLOSE, Buffer.alloc(0));
    expect(await c.closeCode()).toBe(1005);
  });
  it('7.x data after the close frame is ignored', async () => {
    const c = await client();
    c.send(OP_CLOSE, closeFrame(1000));
    c.send(OP_TEXT, 'too late');
    await c.closeCode();
    expect(c.frames.filter((f) => f.opcode === OP_TEXT)).toEqual([]);
  });
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
    it(`7.x valid close code ${code} is echoed`, async () => {
      const c = await client();
      c.send(OP_CLOSE, closeFrame(code));
      expect(await c.closeCode()).toBe(code);
    });
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    it(`7.x invalid close code ${code} → 1002`, async () => {
      const c = await client();
      c.send(OP_CLOSE, closeFrame(code));
      expect(await c.closeCode()).toBe(1002);
    });
  }
  it('7.x close payload of one byte → 1002', async () => {
    const c = await client();
    c.send(OP_CLOSE, Buffer.from([0x03]));
    expect(await c.closeCode()).toBe(1002);
  });
  it('7.x close reason that is not UTF-8 → 1007', async () => {
    const c = await client();
    c.send(OP_CLOSE, closeFrame(1000, Buffer.from([0xff, 0xfe])));
    expect(await c.closeCode()).toBe(1007);
  });
  it('7.x close reason of 123 bytes is fine', async () => {
    const c = await client();
    c.send(OP_CLOSE, closeFrame(1000, 'r'.repeat(123)));
    expect(await c.closeCode()).toBe(1000);
  });
});

describe('9 large payloads', () => {
  it('9.x 4 MiB binary in one frame, 1 MiB text in 64 KiB fragments', async () => {
    const c = await client();
    const big = Buffer.alloc(4 * 1024 * 1024, 0x5a);
    c.send(OP_BINARY, big);
    const text = Buffer.alloc(1024 * 1024, 0x41);
    for (let off = 0; off < text.length; off += 65536) {
      c.send(off === 0 ? OP_TEXT : OP_CONTINUATION, text.subarray(off, off + 65536), { fin: off + 65536 >= text.length });
    }
    const got = await c.echo(2);
    expect(got[0]!.data.equals(big)).toBe(true);
    expect(got[1]!.data.length).toBe(text.length);
    c.sock.destroy();
  });
  it('9.x a message over the default limit (16 MiB) → 1009', async () => {
    const c = await client();
    c.send(OP_BINARY, Buffer.alloc(16 * 1024 * 1024 + 1));
    expect(await c.closeCode()).toBe(1009);
  });
  // 9.3.x / 9.4.x: a large message in many small fragments is valid traffic.
  for (const [op, size, frag] of [
    [OP_TEXT, 64 * 1024, 64],
    [OP_TEXT, 1024 * 1024, 256],
    [OP_TEXT, 4 * 1024 * 1024, 4096],
    [OP_BINARY, 256 * 1024, 64],
    [OP_BINARY, 4 * 1024 * 1024, 1024],
  ] as const) {
    it(`9.3/9.4 ${op === OP_TEXT ? 'text' : 'binary'} of ${size / 1024} KiB in ${frag}-byte fragments is echoed whole`, async () => {
      const c = await client();
      const data = Buffer.alloc(size, op === OP_TEXT ? 0x2a : 0xfe);
      const frames: Buffer[] = [];
      for (let off = 0; off < size; off += frag) frames.push(frameBytes(off === 0 ? op : OP_CONTINUATION, data.subarray(off, off + frag), { fin: off + frag >= size, mask: true }));
      c.raw(Buffer.concat(frames));
      const [e] = await c.echo();
      expect([e!.opcode, e!.data.length, e!.rsv1 ? 'compressed' : e!.data.equals(data)]).toEqual([op, e!.rsv1 ? e!.data.length : size, e!.rsv1 ? 'compressed' : true]);
      c.sock.destroy();
    }, 20_000);
  }
});

describe('12/13 compression', () => {
  if (!compress) {
    it('12.x with compression off the offer is declined and RSV1 → 1002', async () => {
      const c = await client(true);
      expect(c.extensions).toBeNull();
      c.send(OP_TEXT, 'x', { rsv1: true });
      expect(await c.closeCode()).toBe(1002);
    });
    return;
  }
  // 13.x offers: window bits honoured with the value in the response, malformed offers declined.
  for (let b = 8; b <= 15; b++) {
    it(`13.x an offer of server_max_window_bits=${b} is accepted with that value, and what comes back inflates within it`, async () => {
      const c = await client(`permessage-deflate; server_max_window_bits=${b}, permessage-deflate`);
      expect(c.extensions).toMatch(new RegExp(`server_max_window_bits=${b}$`));
      const text = Buffer.from(Array.from({ length: 6000 }, (_, i) => 'abcdefghij'[(i * 7) % 10]).join('').repeat(2));
      c.send(OP_TEXT, text);
      const [e] = await c.echo();
      expect(e!.rsv1).toBe(true);
      const out = zlib.inflateRawSync(Buffer.concat([e!.data, Buffer.from([0, 0, 0xff, 0xff])]), { windowBits: Math.max(9, b), finishFlush: zlib.constants.Z_SYNC_FLUSH });
      expect(out.equals(text)).toBe(true);
      c.sock.destroy();
    });
  }
  for (const [name, offer] of [
    ['a value-less server_max_window_bits', 'permessage-deflate; server_max_window_bits'],
    ['a repeated parameter', 'permessage-deflate; client_max_window_bits=10; client_max_window_bits=12'],
    ['a leading zero', 'permessage-deflate; server_max_window_bits=010'],
  ] as const) {
    it(`13.x an offer with ${name} is declined (no extension)`, async () => {
      const c = await client(offer);
      expect(c.extensions).toBeNull();
      c.sock.destroy();
    });
  }
  const deflate = (b: Buffer) => {
    const out = zlib.deflateRawSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    return out.subarray(0, out.length - 4);
  };
  it('12.x compressed text and binary echo (fragmented too)', async () => {
    const c = await client(true);
    const text = Buffer.from('compress me '.repeat(500));
    c.send(OP_TEXT, deflate(text), { rsv1: true });
    const z = deflate(Buffer.alloc(20_000, 7));
    c.send(OP_BINARY, z.subarray(0, 10), { rsv1: true, fin: false });
    c.send(OP_CONTINUATION, z.subarray(10), { fin: true });
    const got = await c.echo(2);
    // Our answers come compressed (above the threshold); inflate them to compare.
    const inflate = (g: Got) => (g.rsv1 ? zlib.inflateRawSync(Buffer.concat([g.data, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : g.data);
    expect(inflate(got[0]!).equals(text)).toBe(true);
    expect(inflate(got[1]!).equals(Buffer.alloc(20_000, 7))).toBe(true);
    c.sock.destroy();
  });
  it('13.x RSV1 on a continuation frame → 1002', async () => {
    const c = await client(true);
    c.send(OP_TEXT, deflate(Buffer.from('abc')), { rsv1: true, fin: false });
    c.send(OP_CONTINUATION, 'x', { rsv1: true, fin: true });
    expect(await c.closeCode()).toBe(1002);
  });
  it('13.x data that does not inflate → 1007', async () => {
    const c = await client(true);
    c.send(OP_TEXT, Buffer.from([0xff, 0xff, 0xff, 0x00, 0x12]), { rsv1: true });
    expect(await c.closeCode()).toBe(1007);
  });
  it('13.x a zip bomb past the message limit → 1009', async () => {
    const c = await client(true);
    c.send(OP_BINARY, deflate(Buffer.alloc(64 * 1024 * 1024)), { rsv1: true });
    expect(await c.closeCode()).toBe(1009);
  });
});

});
}
