/**
 * Our gRPC server against `@grpc/grpc-js` as the client: the gRPC project's interop client cases
 * (grpc/doc/interop-test-descriptions.md), each as that document describes it, over h2c on a real socket.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, Status, type GrpcServer } from '../../lib/grpc/index.js';
import { interopServices, PROTO, testServiceImpl } from './interop-service.js';

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;
interface Msg { [k: string]: unknown }
interface TestServiceClient extends grpc.Client {
  EmptyCall(req: Msg, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<Msg>): grpc.ClientUnaryCall;
  UnaryCall(req: Msg, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<Msg>): grpc.ClientUnaryCall;
  StreamingOutputCall(req: Msg, md?: grpc.Metadata, opts?: grpc.CallOptions): grpc.ClientReadableStream<Msg>;
  StreamingInputCall(md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<Msg>): grpc.ClientWritableStream<Msg>;
  FullDuplexCall(md?: grpc.Metadata, opts?: grpc.CallOptions): grpc.ClientDuplexStream<Msg, Msg>;
  UnimplementedCall(req: Msg, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<Msg>): grpc.ClientUnaryCall;
}

const definition = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true, oneofs: true });
const testing = (grpc.loadPackageDefinition(definition) as unknown as { grpc: { testing: Record<string, new (addr: string, creds: grpc.ChannelCredentials, opts?: object) => TestServiceClient> } }).grpc.testing;

/** A unary call as a promise: the response, the initial metadata, the status. */
function unary(client: TestServiceClient, name: 'EmptyCall' | 'UnaryCall' | 'UnimplementedCall', req: Msg, md = new grpc.Metadata(), opts: grpc.CallOptions = {}) {
  return new Promise<{ err: grpc.ServiceError | null; value: Msg | undefined; headers: grpc.Metadata | null; status: grpc.StatusObject | null }>((resolve) => {
    let headers: grpc.Metadata | null = null;
    let status: grpc.StatusObject | null = null;
    let result: { err: grpc.ServiceError | null; value: Msg | undefined } | null = null;
    const done = () => result !== null && status !== null && resolve({ ...result, headers, status });
    const call = client[name](req, md, opts, (err, value) => {
      result = { err, value };
      done();
    });
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
    call.on('status', (s: grpc.StatusObject) => {
      status = s;
      done();
    });
  });
}

/** Reads a server stream to its end: the messages and the status. */
function readAll(stream: grpc.ClientReadableStream<Msg> | grpc.ClientDuplexStream<Msg, Msg>) {
  return new Promise<{ messages: Msg[]; status: grpc.StatusObject; error: grpc.ServiceError | null }>((resolve) => {
    const messages: Msg[] = [];
    let error: grpc.ServiceError | null = null;
    stream.on('data', (m: Msg) => messages.push(m));
    stream.on('error', (e: grpc.ServiceError) => (error = e));
    stream.on('status', (status: grpc.StatusObject) => setImmediate(() => resolve({ messages, status, error })));
  });
}

const size = (m: Msg) => ((m.payload as { body: Buffer }).body).length;

describe('interop cases: grpc-js client → covet/grpc server', () => {
  let server: GrpcServer;
  let client: TestServiceClient;
  let gzipClient: TestServiceClient;
  beforeAll(async () => {
    const { TestService, UnimplementedService } = await interopServices();
    void UnimplementedService;
    server = await createGrpcServer({ compression: 'identity' }).add(TestService, testServiceImpl).listen({ host: '127.0.0.1' });
    client = new testing.TestService!(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    gzipClient = new testing.TestService!(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 /* gzip */ });
  });
  afterAll(async () => {
    client?.close();
    gzipClient?.close();
    await server?.close(0);
  });

  it('empty_unary', async () => {
    const r = await unary(client, 'EmptyCall', {});
    expect(r.err).toBeNull();
    expect(r.value).toEqual({});
  });

  it('large_unary: 271828 bytes out, 314159 back', async () => {
    const r = await unary(client, 'UnaryCall', { response_size: 314159, payload: { body: Buffer.alloc(271828) } });
    expect(r.err).toBeNull();
    expect(size(r.value!)).toBe(314159);
  });

  it('client_compressed_unary: the server checks the flag it was sent', async () => {
    const compressed = await unary(gzipClient, 'UnaryCall', { response_size: 314159, payload: { body: Buffer.alloc(271828) }, expect_compressed: { value: true } });
    expect(compressed.err).toBeNull();
    const plain = await unary(client, 'UnaryCall', { response_size: 314159, payload: { body: Buffer.alloc(271828) }, expect_compressed: { value: false } });
    expect(plain.err).toBeNull();
    // The probe: expecting compression from a client that does not compress is INVALID_ARGUMENT.
    const probe = await unary(client, 'UnaryCall', { response_size: 1, payload: { body: Buffer.alloc(10) }, expect_compressed: { value: true } });
    expect(probe.err?.code).toBe(Status.INVALID_ARGUMENT);
  });

  it('server_compressed_unary (grpc-js hides grpc-encoding; wire.test.ts checks the flag on the wire)', async () => {
    for (const compressed of [true, false]) {
      const r = await unary(client, 'UnaryCall', { response_size: 314159, payload: { body: Buffer.alloc(271828) }, response_compressed: { value: compressed } });
      expect(r.err).toBeNull();
      expect(size(r.value!)).toBe(314159);
    }
  });

  it('client_streaming: 27182 + 8 + 1828 + 45904', async () => {
    const total = await new Promise<Msg>((resolve, reject) => {
      const call = client.StreamingInputCall(new grpc.Metadata(), {}, (err, v) => (err ? reject(err) : resolve(v!)));
      for (const n of [27182, 8, 1828, 45904]) call.write({ payload: { body: Buffer.alloc(n) } });
      call.end();
    });
    expect(total.aggregated_payload_size).toBe(74922);
  });

  it('client_compressed_streaming: every message compressed, and the server checks it', async () => {
    const total = await new Promise<Msg>((resolve, reject) => {
      const call = gzipClient.StreamingInputCall(new grpc.Metadata(), {}, (err, v) => (err ? reject(err) : resolve(v!)));
      for (const n of [27182, 45904]) call.write({ payload: { body: Buffer.alloc(n) }, expect_compressed: { value: true } });
      call.end();
    });
    expect(total.aggregated_payload_size).toBe(73086);
  });

  it('server_streaming: 31415, 9, 2653, 58979', async () => {
    const r = await readAll(client.StreamingOutputCall({ response_parameters: [31415, 9, 2653, 58979].map((n) => ({ size: n })) }));
    expect(r.status.code).toBe(grpc.status.OK);
    expect(r.messages.map(size)).toEqual([31415, 9, 2653, 58979]);
  });

  it('server_compressed_streaming: one compressed, one not', async () => {
    const r = await readAll(client.StreamingOutputCall({ response_parameters: [{ size: 31415, compressed: { value: true } }, { size: 92653, compressed: { value: false } }] }));
    expect(r.status.code).toBe(grpc.status.OK);
    expect(r.messages.map(size)).toEqual([31415, 92653]);
  });

  it('ping_pong: each request answered before the next is sent', async () => {
    const call = client.FullDuplexCall();
    const sizes: number[] = [];
    const next = () => new Promise<Msg>((resolve) => call.once('data', resolve));
    for (const [req, res] of [[27182, 31415], [8, 9], [1828, 2653], [45904, 58979]] as const) {
      const answer = next();
      call.write({ response_parameters: [{ size: res }], payload: { body: Buffer.alloc(req) } });
      sizes.push(size(await answer));
    }
    const end = readAll(call);
    call.end();
    expect((await end).status.code).toBe(grpc.status.OK);
    expect(sizes).toEqual([31415, 9, 2653, 58979]);
  });

  it('empty_stream', async () => {
    const call = client.FullDuplexCall();
    const r = readAll(call);
    call.end();
    expect((await r).status.code).toBe(grpc.status.OK);
    expect((await r).messages).toEqual([]);
  });

  it('cancel_after_begin: CANCELLED at the client', async () => {
    const begin = new Promise<grpc.ServiceError>((resolve) => {
      const call = client.StreamingInputCall(new grpc.Metadata(), {}, (err) => resolve(err!));
      call.cancel();
    });
    expect((await begin).code).toBe(grpc.status.CANCELLED);
  });

  it('cancel_after_first_response: CANCELLED at the client; the RST_STREAM ends the call on the server', async () => {
    // A server of its own: grpc-js may cancel a call that just began without resetting its stream, which
    // no server can see (cancel_after_begin above), and that call would stay counted on the shared one.
    const { TestService } = await interopServices();
    const own = await createGrpcServer().add(TestService, testServiceImpl).listen({ host: '127.0.0.1' });
    const c = new testing.TestService!(`127.0.0.1:${own.port}`, grpc.credentials.createInsecure());
    try {
      const call = c.FullDuplexCall();
      const r = readAll(call);
      const first = new Promise<Msg>((resolve) => call.once('data', resolve));
      call.write({ response_parameters: [{ size: 31415 }], payload: { body: Buffer.alloc(27182) } });
      await first;
      expect(own.router.calls).toBe(1);
      call.cancel();
      expect((await r).status.code).toBe(grpc.status.CANCELLED);
      await expect.poll(() => own.router.calls).toBe(0);
    } finally {
      c.close();
      await own.close(0);
    }
  });

  it('timeout_on_sleeping_server: DEADLINE_EXCEEDED', async () => {
    const call = client.FullDuplexCall(new grpc.Metadata(), { deadline: Date.now() + 1 });
    const r = readAll(call);
    call.write({ payload: { body: Buffer.alloc(27182) } });
    expect((await r).status.code).toBe(grpc.status.DEADLINE_EXCEEDED);
  });

  it('status_code_and_message, unary and streaming', async () => {
    const status = { code: 2, message: 'test status message' };
    const u = await unary(client, 'UnaryCall', { response_status: status });
    expect([u.err?.code, u.err?.details]).toEqual([2, 'test status message']);
    const call = client.FullDuplexCall();
    const r = readAll(call);
    call.write({ response_status: status });
    call.end();
    expect([(await r).status.code, (await r).status.details]).toEqual([2, 'test status message']);
  });

  it('special_status_message: whitespace, BMP and non-BMP characters survive the percent-encoding', async () => {
    const message = '\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n';
    const u = await unary(client, 'UnaryCall', { response_status: { code: 2, message } });
    expect([u.err?.code, u.err?.details]).toEqual([2, message]);
  });

  it('custom_metadata: initial and trailing metadata echoed, unary and streaming', async () => {
    const md = new grpc.Metadata();
    md.set('x-grpc-test-echo-initial', 'test_initial_metadata_value');
    md.set('x-grpc-test-echo-trailing-bin', Buffer.from([0xab, 0xab, 0xab]));
    const u = await unary(client, 'UnaryCall', { response_size: 314159, payload: { body: Buffer.alloc(271828) } }, md);
    expect(u.err).toBeNull();
    expect(u.headers?.get('x-grpc-test-echo-initial')).toEqual(['test_initial_metadata_value']);
    expect(u.status?.metadata.get('x-grpc-test-echo-trailing-bin')).toEqual([Buffer.from([0xab, 0xab, 0xab])]);
    const call = client.FullDuplexCall(md);
    let headers: grpc.Metadata | null = null;
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
    const r = readAll(call);
    call.write({ response_parameters: [{ size: 314159 }], payload: { body: Buffer.alloc(271828) } });
    call.end();
    const done = await r;
    expect(done.status.code).toBe(grpc.status.OK);
    expect(headers!.get('x-grpc-test-echo-initial')).toEqual(['test_initial_metadata_value']);
    expect(done.status.metadata.get('x-grpc-test-echo-trailing-bin')).toEqual([Buffer.from([0xab, 0xab, 0xab])]);
  });

  it('unimplemented_method and unimplemented_service', async () => {
    const m = await unary(client, 'UnimplementedCall', {});
    expect(m.err?.code).toBe(grpc.status.UNIMPLEMENTED);
    const other = new testing.UnimplementedService!(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    try {
      const s = await unary(other, 'UnimplementedCall', {});
      expect(s.err?.code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      other.close();
    }
  });
});
