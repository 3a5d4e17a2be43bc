/**
 * Plugins: the one way features attach to an app (Fastify's plugin model). A plugin is a function of an
 * app and its options; `app.register(plugin, options)` runs it on a child scope of the app — routes,
 * middleware and hooks it adds stay in that scope (and its prefix), the parent's apply to it — unless the
 * plugin is declared with `encapsulate: false`, when it works on the app it was registered on (a plugin
 * that adds middleware or hooks for the whole app). Through the app a plugin can add routes and WebSocket
 * routes, middleware and hooks (`onRequest`, `preHandler`, `onSend`, `onResponse`, `onError`, `onRoute`,
 * `onMatch`, `onOpenApi`), context members (`decorateContext`), values other plugins find (`decorate`),
 * and work to do when the app starts serving or closes (`onStart`, `onClose`). A plugin may be async:
 * `listen`, `inject` and `ready()` wait for it.
 */
import type { App, Plugin } from './app.js';

export type { Plugin } from './app.js';

/**
 * Declares a plugin.
 *
 * @example
 * ```ts
 * const greet = definePlugin('greet', (app, o: { word: string }) => {
 *   app.decorateContext('greeting', () => o.word);
 *   app.get('/hello', (ctx) => `${ctx.ext<string>('greeting')}, world`);
 * });
 * createApp().register(greet, { word: 'hi', prefix: '/v1' }); // GET /v1/hello → "hi, world"
 * ```
 */
export function definePlugin<O = undefined>(name: string, fn: (app: App, options: O) => unknown, meta: { encapsulate?: boolean } = {}): Plugin<O> {
  return Object.assign((app: App, options: O) => fn(app, options), { pluginName: name, encapsulate: meta.encapsulate !== false });
}
