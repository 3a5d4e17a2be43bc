// mercurius (Fastify's GraphQL) on the bench schema (bench/servers/graphql-data.mjs), its defaults (query
// cache on, graphql-jit off unless JIT=1). PORT from the env.
import Fastify from 'fastify';
import mercurius from 'mercurius';
import { resolvers, typeDefs } from './graphql-data.mjs';

const app = Fastify({ logger: false });
await app.register(mercurius, { schema: typeDefs, resolvers, graphiql: false, ...(process.env.JIT === '1' ? { jit: 1 } : {}) });
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${process.env.PORT}`);
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
