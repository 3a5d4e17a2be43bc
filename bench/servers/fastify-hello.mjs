// Fastify hello world. PORT from the environment; prints "listening on PORT".
import Fastify from 'fastify';

const app = Fastify({ logger: false, keepAliveTimeout: Number(process.env.KEEPALIVE_MS ?? 5000) });
app.get('/', (req, reply) => {
  reply.header('Content-Type', 'text/plain').send('Hello, World!');
});
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${app.server.address().port}`);
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
