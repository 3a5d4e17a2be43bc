/**
 * `covet/grpc`: gRPC on covet/http2 — services from `.proto` files or code, async handlers for the four call
 * kinds, metadata, deadlines, cancellation, compression, limits.
 */
export { ServerCall } from './call.js';
export { compress, decompress, knownEncoding, ENCODINGS, type Encoding } from './compression.js';
export { Deadlines, type Expiring } from './deadlines.js';
export { COMPRESSED, TRAILERS, EnvelopeDecoder, encodeEnvelope, type Envelope } from './envelope.js';
export { Metadata, MetadataError, type MetadataValue } from './metadata.js';
export { loadProto, type LoadProtoOptions } from './proto.js';
export { fromBufbuild, type BufbuildService } from './bufbuild.js';
export { createGrpcServer, GrpcRouter, GrpcServer, grpcProtocol, isGrpcRequest, type GrpcProtocol, type GrpcServerListenOptions, type GrpcServerOptions } from './server.js';
export { Base64Decoder, Base64Encoder } from './base64-stream.js';
export {
  isService,
  method,
  type AnyMethodDefinition,
  type BidiStreamingHandler,
  type ClientStreamingHandler,
  type HandlerFor,
  type LooseHandler,
  type Implementation,
  type MethodDefinition,
  type ServerStreamingHandler,
  type ServiceDefinition,
  type UnaryHandler,
} from './service.js';
export { decodeGrpcMessage, encodeGrpcMessage, GrpcError, Status, statusFromHttp, statusName, type GrpcErrorOptions, type StatusCode } from './status.js';
export { formatGrpcTimeout, parseGrpcTimeout } from './timeout.js';
export { HealthService, healthImplementation, ServingStatus, type HealthOptions, type ServingStatusName } from './health.js';
export { PbWriter, readFields, stringField, type PbField } from './pb.js';
export { ReflectionService, ReflectionServiceV1Alpha, reflectionImplementation } from './reflection.js';
export { GrpcClient, type GrpcCallOptions, type GrpcClientOptions, type GrpcRetryPolicy } from './client.js';
