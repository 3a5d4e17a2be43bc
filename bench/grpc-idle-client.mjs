// Opens CONNS HTTP/2 connections to a gRPC server, makes one unary call on each, then keeps them open and
// idle until stdin closes; prints "ready" when all are open (bench/grpc.mjs measures the server's memory).
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';

const [port, conns, bodyFile] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const body = readFileSync(bodyFile);
const sessions = [];
for (let i = 0; i < conns; i += 50) {
  await Promise.all(
    Array.from({ length: Math.min(50, conns - i) }, async () => {
      const s = http2.connect(`http://127.0.0.1:${port}`);
      s.on('error', () => {});
      sessions.push(s);
      await new Promise((resolve, reject) => {
        const r = s.request({ ':method': 'POST', ':path': '/grpc.testing.TestService/UnaryCall', 'content-type': 'application/grpc', te: 'trailers' });
        r.on('error', reject);
        r.resume();
        r.on('close', resolve);
        r.end(body);
      });
    }),
  );
}
console.log('ready');
process.stdin.resume();
process.stdin.on('end', () => {
  for (const s of sessions) s.destroy();
  process.exit(0);
});
