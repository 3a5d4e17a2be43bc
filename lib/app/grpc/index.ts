/**
 * `covet/app/grpc`: gRPC services on a covet app's own port — `app.grpc(service, impl)` or
 * `app.register(grpc, { services })` — behind the app's middleware and auth deps, errors as gRPC statuses.
 * @module
 */
export { contextOf, grpc, grpcErrorOf, mountGrpc, statusForHttp, type GrpcMountOptions, type GrpcPluginOptions } from './plugin.js';
import './shorthand.js';
