// The streaming load client (run pinned to CPU 1): CALLS concurrent server-streaming calls on one HTTP/2
// connection, each asking for MESSAGES messages of SIZE bytes, again and again for SECONDS; prints the
// messages per second it received (counted from the length prefixes, not decoded).
import http2 from 'node:http2';
import { join } from 'node:path';
import protobuf from 'protobufjs';

const [port, calls, messages, size, seconds] = process.argv.slice(2).map(Number);
const root = await new protobuf.Root().load(join(import.meta.dirname, '../test/grpc/interop.proto'), { keepCase: true });
const Req = root.lookupType('grpc.testing.StreamingOutputCallRequest');
const body = Buffer.from(Req.encode(Req.fromObject({ response_parameters: Array.from({ length: messages }, () => ({ size })) })).finish());
const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
frame.writeUInt32BE(body.length, 1);
const session = http2.connect(`http://127.0.0.1:${port}`);
let received = 0;
let failed = 0;
const end = performance.now() + seconds * 1000;
const warm = performance.now() + 1000;
let counting = false;
let start = 0;

function one() {
  return new Promise((resolve) => {
    const s = session.request({ ':method': 'POST', ':path': '/grpc.testing.TestService/StreamingOutputCall', 'content-type': 'application/grpc', te: 'trailers' });
    let pending = Buffer.alloc(0);
    s.on('data', (d) => {
      pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
      while (pending.length >= 5) {
        const len = pending.readUInt32BE(1);
        if (pending.length < 5 + len) break;
        pending = pending.subarray(5 + len);
        if (counting) received++;
      }
    });
    s.on('trailers', (t) => t['grpc-status'] !== '0' && failed++);
    s.on('close', resolve);
    s.end(frame);
  });
}

async function loop() {
  while (performance.now() < end) {
    if (!counting && performance.now() >= warm) {
      counting = true;
      start = performance.now();
    }
    await one();
  }
}
await Promise.all(Array.from({ length: calls }, loop));
console.log(JSON.stringify({ rate: received / ((performance.now() - start) / 1000), failed }));
session.close();
