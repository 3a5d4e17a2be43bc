/**
 * `app.graphql(options)`: the GraphQL plugin as a method that returns its endpoint (to `persist` trusted
 * documents). Installed on App by `covet/app`'s entry — the app core does not import GraphQL.
 */
import { App } from '../app.js';
import { mountGraphql, type GraphqlEndpoint, type GraphqlOptions } from './server.js';

declare module '../app.js' {
  interface App {
    /**
     * GraphQL at `path` (default `/graphql`): HTTP per the GraphQL-over-HTTP spec, subscriptions over
     * WebSocket (graphql-transport-ws) and SSE, depth and cost limits, persisted queries, GraphiQL (see
     * covet/app/graphql). Needs `npm install graphql` (and `graphql-ws` for WebSocket).
     *
     * @example
     * ```ts
     * app.graphql({ schema, context: (ctx) => ({ user: ctx.state.user }) });
     * ```
     */
    graphql(options: GraphqlOptions): GraphqlEndpoint;
  }
}

App.prototype.graphql = function graphql(this: App, options: GraphqlOptions): GraphqlEndpoint {
  return mountGraphql(this, options);
};
