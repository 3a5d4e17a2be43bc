/**
 * Server reflection (v1 and v1alpha) asked by @grpc/grpc-js as a client, the way grpcurl asks: list the
 * services, fetch the file describing one by a symbol, and build a working description from what came
 * back (@bufbuild/protobuf's registry reads the FileDescriptorProtos).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, loadProto, method, type GrpcServer } from '../../lib/grpc/index.js';
import { interopServices, testServiceImpl } from './interop-service.js';
import { tempDir } from '../temp-dir.js';

interface Response {
  valid_host: string;
  message_response: string;
  list_services_response?: { service: Array<{ name: string }> };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}
type Reflection = grpc.Client & { ServerReflectionInfo(): grpc.ClientDuplexStream<object, Response> };

function reflectionClient(version: 'v1' | 'v1alpha', port: number): Reflection {
  let file = join(import.meta.dirname, 'reflection.proto');
  if (version === 'v1alpha') {
    file = join(tempDir('covet-reflection-'), 'reflection.proto');
    writeFileSync(file, readFileSync(join(import.meta.dirname, 'reflection.proto'), 'utf8').replace('package grpc.reflection.v1;', 'package grpc.reflection.v1alpha;'));
  }
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(file, { keepCase: true, oneofs: true })) as unknown as { grpc: { reflection: Record<string, { ServerReflection: new (a: string, c: grpc.ChannelCredentials) => Reflection }> } };
  return new pkg.grpc.reflection[version]!.ServerReflection(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

/** Sends each request on one stream and collects the answers in order. */
async function ask(client: Reflection, requests: object[]): Promise<Response[]> {
  const call = client.ServerReflectionInfo();
  const out: Response[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (r: Response) => out.push(r));
    call.on('end', resolve);
    call.on('error', reject);
  });
  for (const r of requests) call.write(r);
  call.end();
  await done;
  return out;
}

let server: GrpcServer;
beforeAll(async () => {
  const { TestService } = await interopServices();
  const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown };
  server = await createGrpcServer({ reflection: true })
    .add(TestService, testServiceImpl)
    .add({ Say: method('/code.Defined/Say', 'unary', json, json) }, { Say: (v: unknown) => v })
    .listen({ host: '127.0.0.1' });
});
afterAll(() => server?.close(0));

describe('server reflection', () => {
  for (const version of ['v1', 'v1alpha'] as const) {
    it(`${version}: lists the services, and describes one by a symbol so a tool can call it`, async () => {
      const client = reflectionClient(version, server.port);
      try {
        const [list, file, method, missing, code] = await ask(client, [
          { host: 'h', list_services: '' },
          { file_containing_symbol: 'grpc.testing.TestService' },
          { file_containing_symbol: 'grpc.testing.TestService.UnaryCall' },
          { file_containing_symbol: 'no.such.Thing' },
          { file_containing_symbol: 'code.Defined' }, // defined in code: listed, not described
        ]);
        expect(list!.valid_host).toBe('h');
        expect(list!.list_services_response!.service.map((s) => s.name)).toEqual(['code.Defined', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection', 'grpc.testing.TestService']);
        const protos = file!.file_descriptor_response!.file_descriptor_proto;
        expect(protos).toHaveLength(1);
        const fd = fromBinary(FileDescriptorProtoSchema, protos[0]!);
        expect(fd.package).toBe('grpc.testing');
        expect(code!.error_response?.error_code).toBe(5);
        // The file's own name (proto-loader names it by its package) finds it too.
        const [byName] = await ask(client, [{ file_by_filename: fd.name }]);
        const service = createFileRegistry(fd, () => undefined).getService('grpc.testing.TestService')!;
        expect(service.methods.map((m) => `${m.name}:${m.methodKind}`)).toContain('StreamingOutputCall:server_streaming');
        expect(method!.file_descriptor_response!.file_descriptor_proto).toHaveLength(1);
        expect(missing!.error_response).toEqual({ error_code: 5, error_message: 'symbol not found: no.such.Thing' });
        expect(byName!.file_descriptor_response!.file_descriptor_proto[0]!.equals(protos[0]!)).toBe(true);
      } finally {
        client.close();
      }
    });
  }

  it('type references come back fully qualified, resolved as protoc resolves them (nested scopes first)', async () => {
    const dir = tempDir('covet-reflection-');
    writeFileSync(join(dir, 'nested.proto'), `syntax = "proto3";
package shop.v1;
message Item { string id = 1; }
message Order {
  message Line { int32 qty = 1; }
  Line line = 1;       // Order.Line: the nested scope first
  Item product = 2;    // then the package's
  Status status = 3;
  enum Status { OPEN = 0; }
}
service Orders { rpc Get(Item) returns (Order); }`);
    // (Not tested: a nested type shadowing an outer one. proto-loader writes both references as the bare
    // name, so its descriptor cannot tell them apart; no server can serve back what was lost.)
    const { 'shop.v1.Orders': Orders } = await loadProto(join(dir, 'nested.proto'));
    const own = await createGrpcServer({ reflection: true }).add(Orders!, { Get: () => ({}) }).listen({ host: '127.0.0.1' });
    const client = reflectionClient('v1', own.port);
    try {
      const [r] = await ask(client, [{ file_containing_symbol: 'shop.v1.Orders' }]);
      const fd = fromBinary(FileDescriptorProtoSchema, r!.file_descriptor_response!.file_descriptor_proto[0]!);
      const order = fd.messageType.find((m) => m.name === 'Order')!;
      expect(order.field.map((f) => [f.name, f.typeName])).toEqual([['line', '.shop.v1.Order.Line'], ['product', '.shop.v1.Item'], ['status', '.shop.v1.Order.Status']]);
      expect(fd.service[0]!.method.map((m) => [m.inputType, m.outputType])).toEqual([['.shop.v1.Item', '.shop.v1.Order']]);
      const registry = createFileRegistry(fd, () => undefined);
      expect(registry.getMessage('shop.v1.Order')!.fields.map((f) => f.name)).toEqual(['line', 'product', 'status']);
    } finally {
      client.close();
      await own.close(0);
    }
  });

  it('is off unless asked for: UNIMPLEMENTED', async () => {
    const { TestService } = await interopServices();
    const plain = await createGrpcServer().add(TestService, testServiceImpl).listen({ host: '127.0.0.1' });
    const client = reflectionClient('v1', plain.port);
    try {
      await expect(ask(client, [{ list_services: '' }])).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
    } finally {
      client.close();
      await plain.close(0);
    }
  });
});
