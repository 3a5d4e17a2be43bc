/**
 * Services from `@bufbuild/protoc-gen-es` (Connect's generated code): `fromBufbuild` serves a `DescService`
 * — made here the way generated code makes it, from the file descriptor of interop.proto — to grpc-js, a
 * client whose codecs (protobufjs) are not @bufbuild's: unary, server streaming and bidi calls, messages
 * returned as @bufbuild messages or as plain init objects.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { create, createFileRegistry, fromBinary, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGrpcServer, fromBufbuild, type GrpcServer } from '../../lib/grpc/index.js';
import { PROTO } from './interop-service.js';

interface Msg { [k: string]: unknown }
let server: GrpcServer;
let client: grpc.Client & Record<string, (...a: unknown[]) => unknown>;

beforeAll(async () => {
  // What protoc-gen-es output holds: the file's descriptor, registered, and the service looked up in it.
  const root = await new protobuf.Root().load(PROTO, { keepCase: true });
  // protobufjs's descriptor extension (imported above) adds toDescriptor to Root.
  type Set = { file: Array<{ package: string; messageType: Array<{ field: Array<{ typeName?: string }> }>; service: Array<{ method: Array<{ inputType?: string; outputType?: string }> }> }> };
  const set = (root as unknown as { toDescriptor(syntax: string): Set }).toDescriptor('proto3');
  for (const f of set.file) {
    const q = (n: string | undefined) => (n && !n.startsWith('.') ? `.${f.package}.${n}` : n);
    for (const m of f.messageType) for (const fl of m.field) fl.typeName = q(fl.typeName);
    for (const sv of f.service) for (const me of sv.method) Object.assign(me, { inputType: q(me.inputType), outputType: q(me.outputType) });
  }
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, (descriptor as unknown as { FileDescriptorSet: { encode(s: unknown): { finish(): Uint8Array } } }).FileDescriptorSet.encode(set).finish()));
  const TestService = registry.getService('grpc.testing.TestService')!;
  const SimpleResponse = registry.getMessage('grpc.testing.SimpleResponse') as DescMessage;
  const service = await fromBufbuild(TestService);
  expect(Object.keys(service)).toContain('UnaryCall');
  type Req = { responseSize?: number; responseParameters?: Array<{ size: number }>; payload?: { body: Uint8Array } };
  server = await createGrpcServer()
    .add(service, {
      // A message of the schema…
      UnaryCall: async (req: Req) => create(SimpleResponse, { payload: { body: new Uint8Array(req.responseSize ?? 0).fill(7) }, username: 'bufbuild' }),
      // …or plain init objects.
      StreamingOutputCall: async function* (req: Req) {
        for (const p of req.responseParameters ?? []) yield { payload: { body: new Uint8Array(p.size) } };
      },
      FullDuplexCall: async function* (requests: AsyncIterable<Req>) {
        for await (const r of requests) for (const p of r.responseParameters ?? []) yield { payload: { body: new Uint8Array(p.size).fill(1) } };
      },
    } as never)
    .listen({ host: '127.0.0.1' });
  const def = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true, oneofs: true });
  const Client = (grpc.loadPackageDefinition(def) as unknown as { grpc: { testing: Record<string, new (a: string, c: grpc.ChannelCredentials) => typeof client> } }).grpc.testing.TestService!;
  client = new Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  await server?.close(0);
});

it('unary: a @bufbuild message encodes for a protobufjs client', async () => {
  const res = await new Promise<Msg>((resolve, reject) => client.UnaryCall!({ response_size: 5, fill_username: true }, (err: Error | null, v: Msg) => (err ? reject(err) : resolve(v))));
  expect([(res.payload as { body: Buffer }).body.length, res.username]).toEqual([5, 'bufbuild']);
});

it('server streaming and bidi: plain init objects become messages', async () => {
  const read = (s: grpc.ClientReadableStream<Msg>) => new Promise<number[]>((resolve, reject) => {
    const sizes: number[] = [];
    s.on('data', (m: Msg) => sizes.push((m.payload as { body: Buffer }).body.length));
    s.on('error', reject);
    s.on('end', () => resolve(sizes));
  });
  const out = client.StreamingOutputCall!({ response_parameters: [{ size: 1 }, { size: 2 }, { size: 3 }] }) as grpc.ClientReadableStream<Msg>;
  expect(await read(out)).toEqual([1, 2, 3]);
  const duplex = client.FullDuplexCall!() as grpc.ClientDuplexStream<Msg, Msg>;
  const got = read(duplex);
  duplex.write({ response_parameters: [{ size: 4 }] });
  duplex.write({ response_parameters: [{ size: 5 }, { size: 6 }] });
  duplex.end();
  expect(await got).toEqual([4, 5, 6]);
});
