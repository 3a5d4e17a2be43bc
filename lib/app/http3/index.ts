/**
 * `covet/app/http3`: an app served over HTTP/3 too — `app.register(http3, { port, cert, key })` starts a
 * covet/http3 listener on UDP beside the app's TCP one, with the same handler, and advertises it on every
 * other response with `Alt-Svc` so browsers move over by themselves (RFC 9114 §3.1.1).
 * @module
 */
export { http3, HTTP3, type Http3PluginOptions } from './plugin.js';
