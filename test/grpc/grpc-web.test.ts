/**
 * gRPC-Web (PROTOCOL-WEB.md) on our gRPC server: binary and text (base64) modes over HTTP/1.1 and HTTP/2,
 * the status as the body's last frame, checked on the wire; Connect's gRPC-Web transport
 * (@connectrpc/connect-web, on fetch — the same code runs in browsers) as a real client; and the base64
 * stream codec under any split.
 */
import http2 from 'node:http2';
import { createClient, ConnectError, type Client } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-web';
import { createFileRegistry, fromBinary, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Base64Decoder, Base64Encoder, createGrpcServer, encodeEnvelope, GrpcError, grpcProtocol, Status, type GrpcServer } from '../../lib/grpc/index.js';
import { interopServices, PROTO, testServiceImpl } from './interop-service.js';

let server: GrpcServer;
let base: string;
let Simple: protobuf.Type;
let SimpleResponse: protobuf.Type;
let TestService: DescService;
beforeAll(async () => {
  const { TestService: def } = await interopServices();
  server = await createGrpcServer().add(def, testServiceImpl).listen({ host: '127.0.0.1' });
  base = `http://127.0.0.1:${server.port}`;
  const root = await new protobuf.Root().load(PROTO, { keepCase: true });
  Simple = root.lookupType('grpc.testing.SimpleRequest');
  SimpleResponse = root.lookupType('grpc.testing.SimpleResponse');
  // The service for Connect's client, from the same .proto (protobufjs writes the descriptors; type names
  // made absolute, as protoc writes them).
  const set = (root as unknown as { toDescriptor(syntax: string): unknown }).toDescriptor('proto3') as { file: Array<{ package: string; messageType: Array<{ field: Array<{ typeName?: string }> }>; service: Array<{ method: Array<{ inputType: string; outputType: string }> }> }> };
  for (const f of set.file) {
    const q = (n: string | undefined) => (n !== undefined && n !== '' && !n.startsWith('.') ? `.${f.package}.${n}` : n);
    for (const m of f.messageType) for (const fl of m.field) fl.typeName = q(fl.typeName);
    for (const s of f.service) for (const me of s.method) Object.assign(me, { inputType: q(me.inputType), outputType: q(me.outputType) });
  }
  const bytes = (descriptor as unknown as { FileDescriptorSet: protobuf.Type }).FileDescriptorSet.encode(set as unknown as protobuf.Message).finish();
  TestService = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes)).getService('grpc.testing.TestService')!;
});
afterAll(() => server?.close(0));

/** The frames of a gRPC-Web response body: messages, then the trailer frame's fields. */
function frames(body: Buffer): { messages: Buffer[]; trailers: Record<string, string> | null } {
  const messages: Buffer[] = [];
  let trailers: Record<string, string> | null = null;
  for (let i = 0; i < body.length; ) {
    const flags = body[i]!;
    const len = body.readUInt32BE(i + 1);
    const data = body.subarray(i + 5, i + 5 + len);
    if (flags & 0x80) trailers = Object.fromEntries(data.toString('latin1').split('\r\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
    else messages.push(data);
    i += 5 + len;
  }
  return { messages, trailers };
}

const unaryBody = (size: number) => encodeEnvelope(Simple.encode(Simple.fromObject({ response_size: size, payload: { body: Buffer.alloc(3) } })).finish());

describe('gRPC-Web on the wire', () => {
  it('binary mode over HTTP/1.1: the answer, then the status as a frame flagged 0x80', async () => {
    const r = await fetch(`${base}/grpc.testing.TestService/UnaryCall`, { method: 'POST', headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' }, body: unaryBody(7) });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/grpc-web+proto');
    expect(r.headers.get('grpc-status')).toBeNull(); // in the body, not the headers
    const f = frames(Buffer.from(await r.arrayBuffer()));
    expect(f.messages.map((m) => (SimpleResponse.decode(m) as unknown as { payload: { body: Uint8Array } }).payload.body.length)).toEqual([7]);
    expect(f.trailers).toEqual({ 'grpc-status': '0' });
  });

  it('text mode: base64 in, base64 out — one base64 text for the whole body', async () => {
    const r = await fetch(`${base}/grpc.testing.TestService/UnaryCall`, { method: 'POST', headers: { 'content-type': 'application/grpc-web-text' }, body: unaryBody(5).toString('base64') });
    expect(r.headers.get('content-type')).toBe('application/grpc-web-text+proto');
    const text = await r.text();
    expect(text).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
    const f = frames(Buffer.from(text, 'base64'));
    expect(f.messages).toHaveLength(1);
    expect(f.trailers).toEqual({ 'grpc-status': '0' });
  });

  it('over HTTP/2 too; errors and trailing metadata go in the trailer frame, percent-encoded as in gRPC', async () => {
    const session = http2.connect(base);
    try {
      const body = await new Promise<Buffer>((resolve, reject) => {
        const s = session.request({ ':method': 'POST', ':path': '/grpc.testing.TestService/UnaryCall', 'content-type': 'application/grpc-web+proto', 'x-grpc-test-echo-trailing-bin': 'q6ur' });
        const chunks: Buffer[] = [];
        s.on('data', (d: Buffer) => chunks.push(d));
        s.on('end', () => resolve(Buffer.concat(chunks)));
        s.on('error', reject);
        s.end(encodeEnvelope(Simple.encode(Simple.fromObject({ response_status: { code: 5, message: 'not here ☺' } })).finish()));
      });
      expect(frames(body)).toEqual({ messages: [], trailers: { 'grpc-status': '5', 'grpc-message': 'not here %E2%98%BA', 'x-grpc-test-echo-trailing-bin': 'q6ur' } });
    } finally {
      session.close();
    }
  });

  it('an unknown method is UNIMPLEMENTED in the trailer frame; a content type that is neither is 415; gRPC over HTTP/1.1 is 505', async () => {
    const r = await fetch(`${base}/grpc.testing.TestService/Nope`, { method: 'POST', headers: { 'content-type': 'application/grpc-web' }, body: unaryBody(1) });
    expect(frames(Buffer.from(await r.arrayBuffer())).trailers).toMatchObject({ 'grpc-status': String(Status.UNIMPLEMENTED) });
    expect((await fetch(`${base}/x.Y/Z`, { method: 'POST', headers: { 'content-type': 'application/grpc-webby' }, body: '' })).status).toBe(415);
    expect((await fetch(`${base}/x.Y/Z`, { method: 'POST', headers: { 'content-type': 'application/grpc' }, body: '' })).status).toBe(505);
    expect([grpcProtocol('application/grpc-web-text+proto'), grpcProtocol('application/grpc-web;charset=x'), grpcProtocol('application/grpc-webx'), grpcProtocol('application/grpc')]).toEqual(['grpc-web-text', 'grpc-web', null, 'grpc']);
  });

  it('a text body that is not base64 is INTERNAL, in words', async () => {
    const r = await fetch(`${base}/grpc.testing.TestService/UnaryCall`, { method: 'POST', headers: { 'content-type': 'application/grpc-web-text' }, body: 'not*base64!' });
    const f = frames(Buffer.from(await r.text(), 'base64'));
    expect(f.trailers).toEqual({ 'grpc-status': String(Status.INTERNAL), 'grpc-message': 'the grpc-web-text body is not base64' });
  });
});

describe("Connect's gRPC-Web client (fetch: the browser transport)", () => {
  let client: Client<DescService>;
  beforeAll(() => {
    client = createClient(TestService, createGrpcWebTransport({ baseUrl: base, useBinaryFormat: true }));
  });
  const call = (name: string, ...args: unknown[]) => (client as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);

  it('unary: a large payload each way', async () => {
    const r = (await call('unaryCall', { responseSize: 314159, payload: { body: new Uint8Array(271828) } })) as { payload: { body: Uint8Array } };
    expect(r.payload.body.length).toBe(314159);
  });

  it('server streaming: each message as it comes, then OK', async () => {
    const sizes: number[] = [];
    for await (const m of call('streamingOutputCall', { responseParameters: [31415, 9, 2653, 58979].map((size) => ({ size })) }) as AsyncIterable<{ payload: { body: Uint8Array } }>) sizes.push(m.payload.body.length);
    expect(sizes).toEqual([31415, 9, 2653, 58979]);
  });

  it('a status with a message, and trailing metadata, reach the client', async () => {
    const err = await (call('unaryCall', { responseStatus: { code: 7, message: 'no entry ☺' } }) as Promise<unknown>).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect([(err as ConnectError).code, (err as ConnectError).rawMessage]).toEqual([7, 'no entry ☺']);
  });

  it('the deadline: DEADLINE_EXCEEDED', async () => {
    const err = await (call('streamingOutputCall', { responseParameters: [{ size: 1, intervalUs: 2_000_000 }] }, { timeoutMs: 50 }) as AsyncIterable<unknown>)[Symbol.asyncIterator]().next().catch((e: unknown) => e);
    expect((err as ConnectError).code).toBe(4);
  });
});

describe('the base64 stream codec', () => {
  it('any bytes written in any pieces come out as the one base64 text of all of them (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 8 }), (pieces) => {
        const enc = new Base64Encoder();
        const text = pieces.map((p) => enc.push(Buffer.from(p))).join('') + enc.end();
        expect(text).toBe(Buffer.concat(pieces.map((p) => Buffer.from(p))).toString('base64'));
      }),
    );
  });

  it('decodes text split anywhere, and bodies of separately padded segments (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 }), (segments, cuts) => {
        const text = Buffer.from(segments.map((s) => Buffer.from(s).toString('base64')).join(''), 'latin1');
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const dec = new Base64Decoder();
        const out: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, text.length]) {
          out.push(dec.push(text.subarray(prev, p)));
          prev = p;
        }
        dec.end();
        expect(Buffer.concat(out)).toEqual(Buffer.concat(segments.map((s) => Buffer.from(s))));
      }),
    );
  });

  it('refuses what is not base64, and a text cut inside a group', () => {
    expect(() => new Base64Decoder().push(Buffer.from('AB*D'))).toThrow(new GrpcError(Status.INTERNAL, 'the grpc-web-text body is not base64'));
    expect(() => new Base64Decoder().push(Buffer.from('A=BC'))).toThrow(/not base64/);
    const cut = new Base64Decoder();
    cut.push(Buffer.from('QUJD' + 'QQ'));
    expect(() => cut.end()).toThrow('the grpc-web-text body ended inside a base64 group');
  });
});
