/**
 * `covet/app/graphql`: GraphQL over HTTP, WebSocket and SSE on a covet app (`app.graphql()`), with depth
 * and cost limits, persisted queries and GraphiQL; `Loader`/`rowsBy` batch per-request loads so
 * resolvers over the ORM do not issue a query per item.
 * @module
 */
export { graphql, mountGraphql, measure, type GraphqlOptions, type GraphqlEndpoint } from './server.js';
export { Loader, rowsBy } from './loader.js';
import './shorthand.js';
