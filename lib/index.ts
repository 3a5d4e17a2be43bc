/**
 * `covet`: the framework (`covet/app`), re-exported. The layers below are their own subpaths, so a
 * program that needs only a parser or a router loads only that: `covet/net`, `covet/http1`, `covet/http2`,
 * `covet/ws`, `covet/router`; the services are `covet/app/db`, `covet/app/orm`, `covet/app/auth`,
 * `covet/app/cache`, `covet/app/realtime`.
 *
 * @example
 * ```ts
 * import { createApp, Type } from 'covet';
 * const app = createApp();
 * app.get('/hello/{name}', (ctx) => ({ hello: ctx.params.name }));
 * await app.listen({ port: 3000 });
 * ```
 * @module
 */
export * from './app/index.js';
