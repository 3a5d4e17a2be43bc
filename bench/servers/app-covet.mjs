// The app-bench shape on covet/app: hello world, a JSON route with a typed param + query validation,
// one middleware on every request, and 404s. PORT from the environment; prints "listening on PORT".
import { Type } from '@sinclair/typebox';
import { createApp } from '../../dist/lib/app/index.js';

const app = createApp();
app.use(async (ctx, next) => {
  ctx.res.setHeader('x-served-by', 'bench');
  await next();
});
app.get('/', () => 'Hello, World!');
app.get(
  '/users/{id:int}',
  { schema: { query: Type.Object({ fields: Type.Optional(Type.String({ maxLength: 64 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }) } },
  (ctx) => ({ id: ctx.params.id, name: 'Ada', fields: ctx.query.fields ?? null, limit: ctx.query.limit ?? 10 }),
);
const server = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${server.address().port}`);
process.once('SIGTERM', () => app.close(1000).then(() => process.exit(0)));
