/**
 * `app.grpc(service, impl, options)`: the gRPC plugin as a method. Installed on App by `covet/app/grpc`'s
 * entry — the app core does not import gRPC.
 */
import { App } from '../app.js';
import type { Implementation, ServiceDefinition } from '../../grpc/index.js';
import { mountGrpc, type GrpcMountOptions } from './plugin.js';

declare module '../app.js' {
  interface App {
    /**
     * Serves a gRPC service on the app's port (HTTP/2: h2c or h2): its methods as POST routes
     * `/package.Service/Method`, after the app's middleware and `options.deps`.
     *
     * @example
     * ```ts
     * app.grpc(Greeter, { SayHello: async (req) => ({ message: `hello ${req.name}` }) }, { deps: [auth] });
     * ```
     */
    grpc<S extends ServiceDefinition>(service: S, impl: Partial<Implementation<S>>, options?: GrpcMountOptions): this;
  }
}

App.prototype.grpc = function grpc<S extends ServiceDefinition>(this: App, service: S, impl: Partial<Implementation<S>>, options?: GrpcMountOptions) {
  mountGrpc(this, service, impl, options);
  return this;
};
