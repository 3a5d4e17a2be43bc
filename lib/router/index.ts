/**
 * `covet/router`: a radix-tree router on plain strings. Imports nothing else of Covet.
 * @module
 */
export {
  Router,
  type RouterOptions,
  type RouteResult,
  type RouteFound,
  type RouteNotFound,
  type RouteMethodNotAllowed,
  type RouteBadRequest,
  type RouteRedirect,
  type RouteInfo,
  type Params,
  type ParamValue,
} from './router.js';
export type { PathParams } from './path-params.js';
export { RouteError, parsePattern, type Token, type ParamToken, type StaticToken, type ParamType } from './pattern.js';
