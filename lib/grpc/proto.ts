/**
 * Services from `.proto` files at run time, through `@grpc/proto-loader` (protobufjs; an optional peer:
 * `npm install @grpc/proto-loader`) — the same definitions `@grpc/grpc-js` serves. For typed handlers, give
 * the service's type (proto-loader's `proto-loader-gen-types` writes them) or define methods with `method()`.
 */
import { isService, type ServiceDefinition } from './service.js';

export interface LoadProtoOptions {
  /** Directories imports are found in. */
  includeDirs?: string[];
  /** Field names as written in the .proto (default) or camelCase. */
  keepCase?: boolean;
  /** How 64-bit integers, enums, bytes come out: as proto-loader's options (`String`, `Number`...). */
  longs?: StringConstructor | NumberConstructor;
  enums?: StringConstructor;
  bytes?: BufferConstructor | StringConstructor;
  /** Set fields to their defaults when absent. Default true. */
  defaults?: boolean;
  oneofs?: boolean;
}

/**
 * The services of a `.proto` file (and its imports), by full name.
 *
 * @example
 * ```ts
 * const { 'routeguide.RouteGuide': RouteGuide } = await loadProto('route_guide.proto');
 * createGrpcServer().add(RouteGuide, { GetFeature: async (point) => lookup(point) });
 * ```
 */
export async function loadProto(file: string | string[], options: LoadProtoOptions = {}): Promise<Record<string, ServiceDefinition>> {
  let loader: { loadSync(file: string | string[], options: object): Record<string, unknown> };
  try {
    loader = (await import('@grpc/proto-loader')) as unknown as typeof loader;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error('loadProto needs the package "@grpc/proto-loader", which is not installed: run `npm install @grpc/proto-loader` (or define methods with method())');
  }
  const pkg = loader.loadSync(file, { keepCase: true, defaults: true, oneofs: true, ...options });
  const out: Record<string, ServiceDefinition> = {};
  for (const [name, value] of Object.entries(pkg)) if (isService(value)) out[name] = value;
  return out;
}
