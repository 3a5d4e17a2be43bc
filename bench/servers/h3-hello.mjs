// Covet HTTP/3 hello world on covet/quic (UDP). PORT from the environment; CERT and KEY: PEM files.
// BODY=1048576 answers a 1 MiB body instead; CC=newreno uses NewReno congestion control (default CUBIC).
import { readFileSync } from 'node:fs';
import { createHttp3Server } from '../../dist/lib/http3/index.js';

const body = process.env.BODY ? Buffer.alloc(Number(process.env.BODY), 0x61) : 'Hello, World!';
const server = createHttp3Server(
  (req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(body);
  },
  { cert: readFileSync(process.env.CERT), key: readFileSync(process.env.KEY), transportParameters: process.env.STREAMS ? { initialMaxStreamsBidi: Number(process.env.STREAMS) } : undefined, congestionControl: process.env.CC === 'newreno' ? 'newreno' : 'cubic' },
);
const addr = await server.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${addr.port}`);
process.once('SIGTERM', () => server.close(500).then(() => process.exit(0)));
