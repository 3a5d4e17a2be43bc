// @grpc/grpc-js serving the same TestService methods (callback and stream API), h2c. PORT from the environment.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const def = protoLoader.loadSync(join(import.meta.dirname, '../../test/grpc/interop.proto'), { keepCase: true, defaults: true, oneofs: true });
const pkg = grpc.loadPackageDefinition(def);
const payloads = new Map();
const payload = (n) => payloads.get(n) ?? (payloads.set(n, { type: 'COMPRESSABLE', body: Buffer.alloc(n) }), payloads.get(n));

const server = new grpc.Server();
server.addService(pkg.grpc.testing.TestService.service, {
  UnaryCall: (call, cb) => cb(null, { payload: payload(call.request.response_size) }),
  StreamingOutputCall: async (call) => {
    for (const p of call.request.response_parameters) {
      if (!call.write({ payload: payload(p.size) })) await new Promise((r) => call.once('drain', r));
    }
    call.end();
  },
});
const port = Number(process.env.PORT ?? 50051);
await new Promise((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
console.log(`listening on ${port}`);
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
