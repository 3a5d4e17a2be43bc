/**
 * The example server (`npm start`): hello + echo on PORT (default 3000) over HTTP/1.1 and HTTP/2 (h2c with
 * prior knowledge or `Upgrade: h2c`) on the same port, graceful shutdown on SIGTERM/SIGINT. Data is kept
 * nowhere: there is no app layer yet (see README).
 */
import { createServer } from '../lib/http2/index.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

const server = createServer(async (req, res) => {
  if (req.path === '/echo' && req.method === 'POST') {
    const body = await req.buffer(10 * 1024 * 1024);
    res.setHeader('Content-Type', req.get('content-type') ?? 'application/octet-stream');
    res.end(body);
    return;
  }
  if (req.path === '/') {
    res.setHeader('Content-Type', 'text/plain');
    res.end(`Hello, World! (HTTP/${req.httpVersion})`);
    return;
  }
  res.statusCode = 404;
  res.setHeader('Content-Type', 'text/plain');
  res.end('Not Found\n');
});

const addr = await server.listen({ port, host });
console.log(`listening on http://${typeof addr === 'string' ? addr : `${host}:${addr.port}`}`);
console.log('try: curl localhost:%d/ ; curl -d hi localhost:%d/echo ; curl --http2-prior-knowledge localhost:%d/', port, port, port);

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    console.log(`${sig}: closing (in-flight requests finish, idle connections close)`);
    void server.close({ graceMs: 10_000 }).then(() => {
      console.log('closed');
      process.exit(0);
    });
  });
}
