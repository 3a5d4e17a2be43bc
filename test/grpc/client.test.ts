/**
 * Our gRPC client (covet/grpc GrpcClient, on our HTTP/2 client) against @grpc/grpc-js's server and against
 * our own: the interop client cases, deadlines, cancellation, compression, limits, and retries of a call
 * refused UNAVAILABLE.
 */
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, GrpcClient, GrpcError, Metadata, method, Status, type ServiceDefinition } from '../../lib/grpc/index.js';
import { startGrpcJsServer } from './grpc-js-server.js';
import { interopServices, testServiceImpl } from './interop-service.js';

type Msg = Record<string, unknown>;
let TestService: ServiceDefinition;
const m = (name: string) => TestService[name] as unknown as Parameters<GrpcClient['unary']>[0] & { path: string };
const size = (r: unknown) => ((r as { payload: { body: Buffer } }).payload.body.length);

const peers: Array<[string, () => Promise<{ url: string; stop: () => Promise<void> }>]> = [
  ['@grpc/grpc-js server', async () => {
    const { port, server } = await startGrpcJsServer();
    return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
  }],
  ['covet/grpc server', async () => {
    const s = await createGrpcServer().add(TestService, testServiceImpl).listen({ host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${s.port}`, stop: () => s.close(0) };
  }],
];

beforeAll(async () => {
  TestService = (await interopServices()).TestService;
});

for (const [peer, start] of peers) {
  describe(`interop cases: covet/grpc client → ${peer}`, () => {
    let stop: () => Promise<void>;
    let client: GrpcClient;
    let gzip: GrpcClient;
    beforeAll(async () => {
      const s = await start();
      stop = s.stop;
      client = new GrpcClient(s.url);
      gzip = new GrpcClient(s.url, { compression: 'gzip' });
    });
    afterAll(async () => {
      await client?.close();
      await gzip?.close();
      await stop?.();
    });

    it('empty_unary, large_unary, client_compressed_unary', async () => {
      expect(await client.unary(m('EmptyCall'), {})).toEqual({});
      expect(size(await client.unary(m('UnaryCall'), { response_size: 314159, payload: { body: Buffer.alloc(271828) } }))).toBe(314159);
      expect(size(await gzip.unary(m('UnaryCall'), { response_size: 314159, payload: { body: Buffer.alloc(271828) } }))).toBe(314159);
    });

    it('client_streaming, server_streaming, empty_stream', async () => {
      const sum = await client.clientStream(m('StreamingInputCall'), [27182, 8, 1828, 45904].map((n) => ({ payload: { body: Buffer.alloc(n) } })));
      expect((sum as Msg).aggregated_payload_size).toBe(74922);
      const sizes: number[] = [];
      for await (const r of client.serverStream(m('StreamingOutputCall'), { response_parameters: [31415, 9, 2653, 58979].map((s) => ({ size: s })) })) sizes.push(size(r));
      expect(sizes).toEqual([31415, 9, 2653, 58979]);
      const none: unknown[] = [];
      for await (const r of client.bidi(m('FullDuplexCall'), [])) none.push(r);
      expect(none).toEqual([]);
    });

    it('ping_pong: each answer before the next request', async () => {
      const pairs = [[27182, 31415], [8, 9], [1828, 2653], [45904, 58979]];
      let turn: (() => void) | null = null;
      async function* requests() {
        for (const [req, res] of pairs) {
          yield { response_parameters: [{ size: res }], payload: { body: Buffer.alloc(req!) } };
          await new Promise<void>((r) => (turn = r));
        }
      }
      const got: number[] = [];
      for await (const r of client.bidi(m('FullDuplexCall'), requests())) {
        got.push(size(r));
        turn!();
      }
      expect(got).toEqual([31415, 9, 2653, 58979]);
    });

    it('status_code_and_message and special_status_message', async () => {
      const message = '\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n';
      await expect(client.unary(m('UnaryCall'), { response_status: { code: 2, message } })).rejects.toMatchObject({ code: Status.UNKNOWN, message });
      const err = await (async () => {
        for await (const r of client.bidi(m('FullDuplexCall'), [{ response_status: { code: 2, message: 'test status message' } }])) void r;
      })().catch((e: unknown) => e);
      expect([(err as GrpcError).code, (err as GrpcError).message]).toEqual([2, 'test status message']);
    });

    it('custom_metadata: echoed in the headers and the trailers', async () => {
      const md = new Metadata().set('x-grpc-test-echo-initial', 'test_initial_metadata_value').set('x-grpc-test-echo-trailing-bin', Buffer.from([0xab, 0xab, 0xab]));
      let headers: Metadata | null = null;
      let trailers: Metadata | null = null;
      await client.unary(m('UnaryCall'), { response_size: 314159, payload: { body: Buffer.alloc(271828) } }, { metadata: md, onHeaders: (h) => (headers = h), onTrailers: (t) => (trailers = t) });
      expect(headers!.get('x-grpc-test-echo-initial')).toBe('test_initial_metadata_value');
      expect(trailers!.get('x-grpc-test-echo-trailing-bin')).toEqual(Buffer.from([0xab, 0xab, 0xab]));
    });

    it('timeout_on_sleeping_server: DEADLINE_EXCEEDED; cancel_after_first_response: CANCELLED', async () => {
      const slow = client.serverStream(m('StreamingOutputCall'), { response_parameters: [{ size: 1, interval_us: 5_000_000 }] }, { timeoutMs: 20 });
      await expect((async () => { for await (const r of slow) void r; })()).rejects.toEqual(new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded'));
      const ctl = new AbortController();
      const got: number[] = [];
      const err = await (async () => {
        for await (const r of client.serverStream(m('StreamingOutputCall'), { response_parameters: [{ size: 31415 }, { size: 9, interval_us: 5_000_000 }] }, { signal: ctl.signal })) {
          got.push(size(r));
          ctl.abort();
        }
      })().catch((e: unknown) => e);
      expect(got).toEqual([31415]);
      expect((err as GrpcError).code).toBe(Status.CANCELLED);
    });

    it('cancel_after_begin: CANCELLED before any request', async () => {
      const ctl = new AbortController();
      async function* none(): AsyncGenerator<Msg> {
        ctl.abort(); // the call has begun; nothing was sent
        await new Promise(() => {});
      }
      const err = await client.clientStream(m('StreamingInputCall'), none(), { signal: ctl.signal }).catch((e: unknown) => e);
      expect((err as GrpcError).code).toBe(Status.CANCELLED);
    });

    it('client_compressed_streaming and server_compressed_streaming', async () => {
      const sum = await gzip.clientStream(m('StreamingInputCall'), [27182, 45904].map((n) => ({ expect_compressed: { value: true }, payload: { body: Buffer.alloc(n) } })));
      expect((sum as Msg).aggregated_payload_size).toBe(73086);
      const sizes: number[] = [];
      for await (const r of client.serverStream(m('StreamingOutputCall'), { response_parameters: [{ size: 31415, compressed: { value: true } }, { size: 92653, compressed: { value: false } }] })) sizes.push(size(r));
      expect(sizes).toEqual([31415, 92653]);
    });

    it('unimplemented_method', async () => {
      const unknown = method('/grpc.testing.TestService/UnimplementedCall', 'unary', { serialize: () => Buffer.alloc(0), deserialize: () => ({}) }, { serialize: () => Buffer.alloc(0), deserialize: () => ({}) });
      await expect(client.unary(unknown, {})).rejects.toMatchObject({ code: Status.UNIMPLEMENTED });
    });
  });
}

describe('client limits and retries', () => {
  it('a response past maxReceiveMessageLength is RESOURCE_EXHAUSTED; the call is reset', async () => {
    const s = await createGrpcServer().add(TestService, testServiceImpl).listen({ host: '127.0.0.1' });
    const c = new GrpcClient(`http://127.0.0.1:${s.port}`, { maxReceiveMessageLength: 1000 });
    try {
      expect(size(await c.unary(m('UnaryCall'), { response_size: 990 }))).toBe(990);
      await expect(c.unary(m('UnaryCall'), { response_size: 2000 })).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
      await expect.poll(() => s.router.calls).toBe(0);
    } finally {
      await c.close();
      await s.close(0);
    }
  });

  it('retries a unary call the server refused UNAVAILABLE, with backoff, up to maxAttempts', async () => {
    let calls = 0;
    const Flaky = { Get: method('/flaky.Flaky/Get', 'unary', { serialize: (v: number) => Buffer.from([v]), deserialize: (b: Buffer) => b[0]! }, { serialize: (v: number) => Buffer.from([v]), deserialize: (b: Buffer) => b[0]! }) };
    const s = await createGrpcServer().add(Flaky, { Get: (v: number) => (++calls < 3 ? Promise.reject(new GrpcError(Status.UNAVAILABLE, 'warming up')) : v + 1) }).listen({ host: '127.0.0.1' });
    const url = `http://127.0.0.1:${s.port}`;
    try {
      expect(await new GrpcClient(url, { retry: { maxAttempts: 3, initialBackoffMs: 1 } }).unary(Flaky.Get, 41)).toBe(42);
      expect(calls).toBe(3);
      calls = 0;
      await expect(new GrpcClient(url, { retry: { maxAttempts: 2, initialBackoffMs: 1 } }).unary(Flaky.Get, 1)).rejects.toMatchObject({ code: Status.UNAVAILABLE, message: 'warming up' });
      expect(calls).toBe(2);
      calls = 0;
      await expect(new GrpcClient(url, { retry: false }).unary(Flaky.Get, 1)).rejects.toMatchObject({ code: Status.UNAVAILABLE });
      expect(calls).toBe(1);
    } finally {
      await s.close(0);
    }
  });

  it('keepalive: PINGs go out while a call is in flight, and none when idle', async () => {
    // A gRPC server on node:http2 that answers after a while, counting the PINGs it is sent.
    let pings = 0;
    let release: (() => void) | null = null;
    const server = http2.createServer();
    server.on('session', (s) => s.on('ping', () => pings++));
    server.on('stream', (stream) => {
      stream.resume();
      stream.on('end', () => {
        release = () => {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          stream.end(Buffer.from([0, 0, 0, 0, 0]));
        };
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = new GrpcClient(`http://127.0.0.1:${(server.address() as { port: number }).port}`, { keepalive: { intervalMs: 20, timeoutMs: 5000 } });
    try {
      const call = c.unary(m('EmptyCall'), {});
      await expect.poll(() => pings).toBeGreaterThanOrEqual(2); // while the call waits
      await expect.poll(() => release !== null).toBe(true);
      release!();
      expect(await call).toEqual({});
      const after = pings;
      await new Promise((r) => setTimeout(r, 100));
      expect(pings - after).toBeLessThanOrEqual(1); // idle: at most one already on its way
    } finally {
      await c.close();
      server.close();
    }
  });

  it('no server: UNAVAILABLE, naming the address', async () => {
    const c = new GrpcClient('http://127.0.0.1:1', { retry: false, connectTimeoutMs: 2000 });
    await expect(c.unary(m('EmptyCall'), {})).rejects.toMatchObject({ code: Status.UNAVAILABLE, message: expect.stringContaining('cannot reach 127.0.0.1:1') });
    void grpc;
  });
});
