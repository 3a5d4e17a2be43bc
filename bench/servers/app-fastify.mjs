// The app-bench shape on Fastify: the same routes, schemas and middleware as app-covet.mjs (no response
// schema in either, so both serialize with JSON.stringify). PORT from the environment.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.addHook('onRequest', async (req, reply) => {
  reply.header('x-served-by', 'bench');
});
app.get('/', (req, reply) => {
  reply.header('Content-Type', 'text/plain; charset=utf-8').send('Hello, World!');
});
app.get(
  '/users/:id',
  {
    schema: {
      params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
      querystring: { type: 'object', properties: { fields: { type: 'string', maxLength: 64 }, limit: { type: 'integer', minimum: 1, maximum: 100 } } },
    },
  },
  async (req) => ({ id: req.params.id, name: 'Ada', fields: req.query.fields ?? null, limit: req.query.limit ?? 10 }),
);
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${app.server.address().port}`);
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
