// Covet HTTP/2 over TLS (ALPN h2) hello world. PORT from the environment; CERT and KEY: PEM files.
// BODY=33554432 answers a 32 MiB body instead.
import { readFileSync } from 'node:fs';
import { createServer } from '../../dist/lib/http2/index.js';

const body = process.env.BODY ? Buffer.alloc(Number(process.env.BODY), 0x61) : 'Hello, World!';
const server = createServer(
  (req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(body);
  },
  { tls: { cert: readFileSync(process.env.CERT), key: readFileSync(process.env.KEY) } },
);
const addr = await server.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${addr.port}`);
process.once('SIGTERM', () => server.close({ graceMs: 500 }).then(() => process.exit(0)));
