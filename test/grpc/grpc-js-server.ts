/**
 * The interop TestService on @grpc/grpc-js's server (callback and stream API), for our client's interop
 * tests: payloads of the asked sizes, statuses and metadata echoed, sleeps for the deadline case.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO } from './interop-service.js';

interface Status { code: number; message: string }
type Any = Record<string, unknown>;

function echoMetadata(call: { metadata: grpc.Metadata; sendMetadata(md: grpc.Metadata): void }): grpc.Metadata {
  const initial = call.metadata.get('x-grpc-test-echo-initial');
  if (initial.length > 0) {
    const md = new grpc.Metadata();
    md.set('x-grpc-test-echo-initial', initial[0]!);
    call.sendMetadata(md);
  }
  const trailing = new grpc.Metadata();
  const t = call.metadata.get('x-grpc-test-echo-trailing-bin');
  if (t.length > 0) trailing.set('x-grpc-test-echo-trailing-bin', t[0]!);
  return trailing;
}

const zeros = (n: number) => ({ type: 'COMPRESSABLE', body: Buffer.alloc(n) });

export async function startGrpcJsServer(): Promise<{ port: number; server: grpc.Server }> {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, defaults: true, oneofs: true })) as unknown as { grpc: { testing: { TestService: { service: grpc.ServiceDefinition } } } };
  const server = new grpc.Server();
  server.addService(pkg.grpc.testing.TestService.service, {
    EmptyCall: (_call: grpc.ServerUnaryCall<Any, Any>, cb: grpc.sendUnaryData<Any>) => cb(null, {}),
    UnaryCall: (call: grpc.ServerUnaryCall<Any, Any>, cb: grpc.sendUnaryData<Any>) => {
      const trailing = echoMetadata(call);
      const st = call.request.response_status as Status | null;
      if (st && st.code !== 0) return cb({ code: st.code, details: st.message, metadata: trailing });
      cb(null, { payload: zeros(call.request.response_size as number) }, trailing);
    },
    StreamingOutputCall: async (call: grpc.ServerWritableStream<Any, Any>) => {
      for (const p of call.request.response_parameters as Array<{ size: number; interval_us: number }>) {
        if (p.interval_us > 0) await new Promise((r) => setTimeout(r, p.interval_us / 1000));
        if (call.cancelled) return;
        call.write({ payload: zeros(p.size) });
      }
      call.end();
    },
    StreamingInputCall: (call: grpc.ServerReadableStream<Any, Any>, cb: grpc.sendUnaryData<Any>) => {
      let n = 0;
      call.on('data', (m: Any) => (n += ((m.payload as { body: Buffer } | null)?.body.length ?? 0)));
      call.on('end', () => cb(null, { aggregated_payload_size: n }));
    },
    FullDuplexCall: (call: grpc.ServerDuplexStream<Any, Any>) => {
      const trailing = echoMetadata(call);
      call.on('data', async (m: Any) => {
        const st = m.response_status as Status | null;
        if (st && st.code !== 0) return call.emit('error', { code: st.code, details: st.message, metadata: trailing });
        for (const p of m.response_parameters as Array<{ size: number; interval_us: number }>) {
          if (p.interval_us > 0) await new Promise((r) => setTimeout(r, p.interval_us / 1000));
          call.write({ payload: zeros(p.size) });
        }
      });
      call.on('end', () => call.end(trailing));
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, server };
}
