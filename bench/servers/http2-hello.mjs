// Covet HTTP/2 hello world (h2c with prior knowledge; HTTP/1.1 also served on the same port).
// PORT from the environment; BODY=65536 answers a 64 KiB body instead.
import { createServer } from '../../dist/lib/http2/index.js';

const body = process.env.BODY ? Buffer.alloc(Number(process.env.BODY), 0x61) : 'Hello, World!';
const server = createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(body);
});
const addr = await server.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${addr.port}`);
process.once('SIGTERM', () => server.close({ graceMs: 500 }).then(() => process.exit(0)));
