// The bare covet HTTP/1.1 server answering exactly the bytes covet/app's hello route answers (same
// status, fields and body; only Date varies): the baseline of "what the app layer costs". With
// SERVED_BY=1 it also sets the header the app bench's middleware sets. PORT from the environment;
// prints "listening on PORT".
import { createHttp1Server } from '../../dist/lib/http1/index.js';

const servedBy = process.env.SERVED_BY === '1';
const server = createHttp1Server((req, res) => {
  if (servedBy) res.setHeader('x-served-by', 'bench');
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end('Hello, World!');
});
const addr = await server.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${addr.port}`);
process.once('SIGTERM', () => server.close({ graceMs: 1000 }).then(() => process.exit(0)));
