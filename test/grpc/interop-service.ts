/**
 * The interop tests' TestService (grpc/doc/interop-test-descriptions.md, "Server"), on covet/grpc: what
 * each interop client case expects of a server — payloads of the asked sizes, statuses echoed, metadata
 * echoed, compression checked and chosen per message.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { GrpcError, loadProto, Status, type ServerCall, type ServiceDefinition, type StatusCode } from '../../lib/grpc/index.js';

export const PROTO = join(import.meta.dirname, 'interop.proto');

interface Payload { type?: string; body: Buffer }
interface EchoStatus { code: number; message: string }
interface SimpleRequest { response_size: number; payload?: Payload | null; response_compressed?: { value: boolean } | null; response_status?: EchoStatus | null; expect_compressed?: { value: boolean } | null }
interface ResponseParameters { size: number; interval_us: number; compressed?: { value: boolean } | null }
interface StreamingOutputCallRequest { response_parameters: ResponseParameters[]; payload?: Payload | null; response_status?: EchoStatus | null }
interface StreamingInputCallRequest { payload?: Payload | null; expect_compressed?: { value: boolean } | null }

export async function interopServices(): Promise<{ TestService: ServiceDefinition; UnimplementedService: ServiceDefinition }> {
  const pkg = await loadProto(PROTO);
  return { TestService: pkg['grpc.testing.TestService']!, UnimplementedService: pkg['grpc.testing.UnimplementedService']! };
}

const zeros = (n: number): { type: string; body: Buffer } => ({ type: 'COMPRESSABLE', body: Buffer.alloc(n) });

/** Echo the interop metadata: x-grpc-test-echo-initial as header metadata, x-grpc-test-echo-trailing-bin as trailers. */
function echoMetadata(call: ServerCall): void {
  const initial = call.metadata.get('x-grpc-test-echo-initial');
  if (initial !== undefined) call.headers.set('x-grpc-test-echo-initial', initial);
  const trailing = call.metadata.get('x-grpc-test-echo-trailing-bin');
  if (trailing !== undefined) call.trailers.set('x-grpc-test-echo-trailing-bin', trailing);
}

function checkStatus(s: EchoStatus | null | undefined): void {
  if (s != null && s.code !== 0) throw new GrpcError(s.code as StatusCode, s.message);
}

function checkCompressed(call: ServerCall, expect: { value: boolean } | null | undefined): void {
  if (expect?.value === true && !call.requestCompressed) throw new GrpcError(Status.INVALID_ARGUMENT, 'expected a compressed request message');
  if (expect?.value === false && call.requestCompressed) throw new GrpcError(Status.INVALID_ARGUMENT, 'expected an uncompressed request message');
}

async function* respond(requests: AsyncIterable<StreamingOutputCallRequest>, call: ServerCall): AsyncGenerator<{ payload: Payload }> {
  echoMetadata(call);
  for await (const r of requests) {
    checkStatus(r.response_status);
    for (const p of r.response_parameters) {
      if (p.interval_us > 0) await sleep(p.interval_us / 1000, undefined, { signal: call.signal });
      call.compression = p.compressed?.value === true ? 'gzip' : call.compression;
      yield { payload: zeros(p.size) };
    }
  }
}

export const testServiceImpl = {
  EmptyCall: () => ({}),
  UnaryCall: (req: SimpleRequest, call: ServerCall) => {
    echoMetadata(call);
    checkStatus(req.response_status);
    checkCompressed(call, req.expect_compressed);
    if (req.response_compressed?.value === true) call.compression = 'gzip';
    return { payload: zeros(req.response_size) };
  },
  StreamingOutputCall: async function* (req: StreamingOutputCallRequest, call: ServerCall) {
    yield* respond((async function* () { yield req; })(), call);
  },
  StreamingInputCall: async (requests: AsyncIterable<StreamingInputCallRequest>, call: ServerCall) => {
    let size = 0;
    for await (const r of requests) {
      checkCompressed(call, r.expect_compressed);
      size += r.payload?.body.length ?? 0;
    }
    return { aggregated_payload_size: size };
  },
  FullDuplexCall: respond,
  HalfDuplexCall: async function* (requests: AsyncIterable<StreamingOutputCallRequest>, call: ServerCall) {
    const all: StreamingOutputCallRequest[] = [];
    for await (const r of requests) all.push(r);
    yield* respond((async function* () { yield* all; })(), call);
  },
};
