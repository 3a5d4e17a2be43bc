// covet/grpc serving the interop TestService's UnaryCall and StreamingOutputCall (h2c). PORT from the environment.
import { join } from 'node:path';
import { createGrpcServer, loadProto } from '../../dist/lib/grpc/index.js';
import { unaryCall, streamingOutputCall } from './grpc-impl.mjs';

const { 'grpc.testing.TestService': TestService } = await loadProto(join(import.meta.dirname, '../../test/grpc/interop.proto'));
const server = await createGrpcServer().add(TestService, { UnaryCall: unaryCall, StreamingOutputCall: streamingOutputCall }).listen({ port: Number(process.env.PORT ?? 50051), host: '127.0.0.1' });
console.log(`listening on ${server.port}`);
process.once('SIGTERM', () => server.close(500).then(() => process.exit(0)));
