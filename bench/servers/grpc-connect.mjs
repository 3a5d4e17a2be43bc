// Connect's Node server (@connectrpc/connect-node on node:http2, gRPC protocol) serving the same TestService
// methods; the service's descriptors from the same .proto (protobufjs writes them). PORT from the environment.
import http2 from 'node:http2';
import { join } from 'node:path';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';

const root = await new protobuf.Root().load(join(import.meta.dirname, '../../test/grpc/interop.proto'), { keepCase: true });
const set = root.toDescriptor('proto3');
for (const f of set.file) {
  const q = (n) => (n && !n.startsWith('.') ? `.${f.package}.${n}` : n);
  for (const m of f.messageType) for (const fl of m.field) fl.typeName = q(fl.typeName);
  for (const s of f.service) for (const me of s.method) Object.assign(me, { inputType: q(me.inputType), outputType: q(me.outputType) });
}
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptor.FileDescriptorSet.encode(set).finish()));
const TestService = registry.getService('grpc.testing.TestService');
const bodies = new Map();
const body = (n) => bodies.get(n) ?? (bodies.set(n, new Uint8Array(n)), bodies.get(n));

const handler = connectNodeAdapter({
  grpc: true,
  grpcWeb: false,
  connect: false,
  routes: (router) =>
    router.service(TestService, {
      unaryCall: (req) => ({ payload: { body: body(req.responseSize) } }),
      async *streamingOutputCall(req) {
        for (const p of req.responseParameters) yield { payload: { body: body(p.size) } };
      },
    }),
});
const server = http2.createServer(handler);
const port = Number(process.env.PORT ?? 50051);
server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
