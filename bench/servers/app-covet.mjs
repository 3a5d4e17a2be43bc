// The app-bench shape on covet/app: hello world, a JSON route with a typed param + query validation,
// one middleware on every request, and 404s. PORT from the environment; prints "listening on PORT".
// TRACING=api: `tracing(app)` with @opentelemetry/api and no SDK registered (what tracing costs an app
// whose operator has not turned an SDK on); TRACING=sdk: an SDK recording every span into a processor
// that drops them (the cost of recording, without an exporter's).
import { join } from 'node:path';
import { benchApp } from '../tools/hot-paths.mjs';

if (process.env.TRACING?.startsWith('sdk')) {
  const { context, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const drop = { onStart() {}, onEnd() {}, forceFlush: async () => {}, shutdown: async () => {} };
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [drop] }));
}
const app = await benchApp(join(import.meta.dirname, '../../dist'), (a, lib) => {
  if (process.env.TRACING) lib.tracing(a, { routeSpans: process.env.TRACING !== 'sdk-server-span' });
});
const server = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${server.address().port}`);
process.once('SIGTERM', () => app.close(1000).then(() => process.exit(0)));
