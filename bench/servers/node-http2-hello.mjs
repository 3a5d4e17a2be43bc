// node:http2 hello world, stream API (its fastest), h2c. PORT from the environment; BODY=65536 for 64 KiB.
import http2 from 'node:http2';

const body = process.env.BODY ? Buffer.alloc(Number(process.env.BODY), 0x61) : 'Hello, World!';
const server = http2.createServer();
server.on('stream', (stream) => {
  stream.respond({ ':status': 200, 'content-type': 'text/plain' });
  stream.end(body);
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
