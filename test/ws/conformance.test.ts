/**
 * A conformance suite modelled on the Autobahn fuzzingclient case groups (1 framing, 2 pings, 3 reserved
 * bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close handling, 9 large payloads, 12/13 compression), run
 * against our echo server over raw sockets: each case writes exact frames and checks the verdict the RFC
 * requires (echo, pong, close code, TCP closed by the server).
 */
import net from 'node:net';
import { once } from 'node:events';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameParser, createWsServer, frameBytes, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT } from '../../lib/ws/index.js';
import type { Server } from '../../lib/net/index.js';

let server: Server;
let port: number;
beforeAll(async () => {
  server = createWsServer({
    perMessageDeflate: true,
    maxMessageSize: 8 * 1024 * 1024,
    onConnection: (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })),
  });
  port = ((await server.listen({ port: 0, host: '127.0.0.1' })) as AddressInfo).port;
});
afterAll(() => server.close({ graceMs: 100 }));

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
  #parser = new FrameParser({ role: 'client', allowRsv1: true, maxFrameSize: 64 * 1024 * 1024 }, {
    onFrame: (fin, rsv1, opcode, payload) => void this.frames.push({ fin, rsv1, opcode, data: Buffer.from(payload) }),
  });

  async open(deflate = false): Promise<void> {
    this.sock = net.connect(port, '127.0.0.1');
    await once(this.sock, 'connect');
    this.sock.write(
      'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        (deflate ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : '') +
        '\r\n',
    );
    let head = Buffer.alloc(0);
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        expect(head.subarray(0, 12).toString()).toBe('HTTP/1.1 101');
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

async function client(deflate = false): Promise<RawClient> {
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
  it('9.x a message over the limit → 1009', async () => {
    const c = await client();
    c.send(OP_BINARY, Buffer.alloc(9 * 1024 * 1024));
    expect(await c.closeCode()).toBe(1009);
  });
});

describe('12/13 compression', () => {
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
