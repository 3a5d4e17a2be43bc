// covet/app's GraphQL endpoint on the bench schema (bench/servers/graphql-data.mjs). PORT from the env.
// The graphql-js covet loads (the project's; bench/node_modules has mercurius's own copy, and a schema
// from one copy is refused by the other).
import { createRequire } from 'node:module';
const { buildSchema } = createRequire(new URL('../../package.json', import.meta.url))('graphql');
import { createApp } from '../../dist/lib/app/index.js';
import { resolvers, typeDefs } from './graphql-data.mjs';

const schema = buildSchema(typeDefs);
for (const [type, fields] of Object.entries(resolvers)) for (const [name, fn] of Object.entries(fields)) schema.getType(type).getFields()[name].resolve = fn;
const app = createApp();
app.graphql({ schema, websocket: false, graphiql: false, ...(process.env.JIT === '1' ? { jit: 1 } : {}) });
const server = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${server.address().port}`);
process.once('SIGTERM', () => app.close(1000).then(() => process.exit(0)));
