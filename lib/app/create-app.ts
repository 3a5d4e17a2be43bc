/**
 * `createApp`: an app with the plugins its options name — the versioning plugin for `versioning`, the
 * OpenAPI plugin for `openapi` — registered in that order (the documents read the versions).
 */
import { App, type AppOptions } from './app.js';
import { openApi, type OpenApiOptions } from './openapi-serve.js';
import { versioning, type VersioningOptions } from './versioning.js';

export interface CreateAppOptions extends AppOptions {
  /** Serve an OpenAPI 3.1 document of the routes at `path` (default `/openapi.json`) and the docs page. */
  openapi?: OpenApiOptions;
  /** API versions and where requests name theirs (see {@link VersioningOptions}). */
  versioning?: VersioningOptions;
}

/**
 * Creates an application.
 *
 * @example
 * ```ts
 * const app = createApp({ openapi: { info: { title: 'Notes', version: '1.0.0' } } });
 * app.get('/health', () => ({ ok: true }));
 * await app.listen({ port: 3000 });
 * ```
 */
export function createApp(options: CreateAppOptions = {}): App {
  const app = new App(options);
  if (options.versioning !== undefined) app.register(versioning, options.versioning);
  if (options.openapi !== undefined) app.register(openApi, options.openapi);
  return app;
}
