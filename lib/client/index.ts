/**
 * `covet/client`: a fetch-based client typed from an app's routes (see {@link createClient}).
 */
export { createClient, type Answer, type CallOptions, type Client, type ClientOptions, type PathsFor, type Problem, type Reply, type RoutesOf } from './client.js';
export { CookieJar } from './cookie-jar.js';
export { ClientPathError, fillPath } from './path.js';
