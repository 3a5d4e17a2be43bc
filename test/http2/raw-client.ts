/** A client speaking raw HTTP/2 frames, for conformance tests: what it writes and every frame it gets. */
import { once } from 'node:events';
import net from 'node:net';
import { FrameParser, HpackEncoder, PREFACE, settingsFrame, headersFrames, T_GOAWAY, T_RST_STREAM, type Frame } from '../../lib/http2/index.js';

export async function rawClient(port: number) {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const frames: Frame[] = [];
  const parser = new FrameParser({ onFrame: (f) => void frames.push(f), onStreamError: () => {} }, { maxFrameSize: 1 << 24 });
  sock.on('data', (d: Buffer) => {
    try {
      parser.push(d);
    } catch {
      /* the server may send anything before closing */
    }
  });
  let closed = false;
  sock.on('close', () => void (closed = true));
  sock.on('error', () => {});
  const until = async (pred: () => boolean, ms = 3000) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > ms) throw new Error(`timeout; frames: ${JSON.stringify(frames.map((f) => f.type))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const enc = new HpackEncoder();
  const req = (id: number, extra: Array<[string, string]> = [], endStream = true) =>
    headersFrames(id, enc.encode([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'a'], ...extra]), { endStream });
  return {
    sock,
    frames,
    write: (...b: Buffer[]) => void sock.write(Buffer.concat(b)),
    open: () => sock.write(Buffer.concat([PREFACE, settingsFrame([])])),
    req,
    enc,
    until,
    get closed() {
      return closed;
    },
    async goaway(): Promise<number> {
      await until(() => frames.some((f) => f.type === T_GOAWAY) && closed);
      return (frames.find((f) => f.type === T_GOAWAY) as Extract<Frame, { type: 7 }>).code;
    },
    async rst(id: number): Promise<number> {
      await until(() => frames.some((f) => f.type === T_RST_STREAM && f.streamId === id));
      return (frames.find((f) => f.type === T_RST_STREAM && f.streamId === id) as Extract<Frame, { type: 3 }>).code;
    },
  };
}
