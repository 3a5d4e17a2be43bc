// Covet's HTTP/1.1 server: hello world. PORT from the environment; prints "listening on PORT".
import { createHttp1Server } from '../../dist/lib/http1/index.js';

const server = createHttp1Server(
  (req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end('Hello, World!');
  },
  { keepAliveTimeout: Number(process.env.KEEPALIVE_MS ?? 5000) },
);
const addr = await server.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${addr.port}`);
process.once('SIGTERM', () => server.close({ graceMs: 1000 }).then(() => process.exit(0)));
