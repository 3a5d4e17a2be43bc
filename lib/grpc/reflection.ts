/**
 * Server reflection (grpc/doc/server-reflection.md; grpc.reflection.v1 and its older v1alpha twin, the
 * same messages under another package): lists the services a server has and hands out the
 * FileDescriptorProtos that describe them, so tools (grpcurl, Postman, grpcui) can call them without the
 * .proto files. Descriptors come from the definitions — `@grpc/proto-loader`'s carry the files they came
 * from; a service defined in code has none, and is listed but not described.
 */
import type { ServerCall } from './call.js';
import { PbWriter, readFields, stringField, type PbField } from './pb.js';
import { method, type ServiceDefinition } from './service.js';
import { Status } from './status.js';

/** A request, as the fields we read: which question (field number) and its argument. */
interface ReflectionRequest {
  host: string;
  kind: number;
  arg: string;
  raw: Buffer;
}

const codec = (name: string) => ({
  request: {
    serialize: (r: ReflectionRequest) => r.raw,
    deserialize: (b: Buffer): ReflectionRequest => {
      const f = readFields(b);
      const q = f.find((x) => x.no >= 3 && x.no <= 7);
      return { host: stringField(f, 1), kind: q?.no ?? 0, arg: q === undefined || q.wire !== 2 ? '' : (q.value as Buffer).toString('utf8'), raw: b };
    },
  },
  response: { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b },
  path: `/grpc.reflection.${name}.ServerReflection/ServerReflectionInfo`,
});

const v1 = codec('v1');
const v1alpha = codec('v1alpha');

/** grpc.reflection.v1.ServerReflection. */
export const ReflectionService = { ServerReflectionInfo: method(v1.path, 'bidi', v1.request, v1.response) };
/** grpc.reflection.v1alpha.ServerReflection (what older tools ask). */
export const ReflectionServiceV1Alpha = { ServerReflectionInfo: method(v1alpha.path, 'bidi', v1alpha.request, v1alpha.response) };

interface FileInfo {
  name: string;
  bytes: Buffer;
  deps: string[];
}

/**
 * A FileDescriptorProto with every type reference made fully qualified (`.pkg.Msg`), as protoc writes
 * them: proto-loader's (protobufjs's) are relative (`Msg`), which descriptor.proto allows (C++ scoping
 * rules) but some readers (@bufbuild/protobuf's registry) refuse. `known`: every type name, unqualified.
 */
function qualify(file: Buffer, known: ReadonlySet<string>): Buffer {
  const top = readFields(file);
  const pkg = stringField(top, 2);
  const resolve = (name: string, scope: string): string => {
    if (name === '' || name.startsWith('.')) return name;
    // Innermost scope outward (descriptor.proto, FieldDescriptorProto.type_name).
    for (let s = scope; ; s = s.slice(0, Math.max(0, s.lastIndexOf('.')))) {
      const candidate = s === '' ? name : `${s}.${name}`;
      if (known.has(candidate)) return `.${candidate}`;
      if (s === '') return name; // not ours to resolve: left as it was
    }
  };
  const field = (bytes: Buffer, scope: string): Buffer => {
    const w = new PbWriter();
    for (const x of readFields(bytes)) {
      // type_name (6) and extendee (2) name types.
      if ((x.no === 6 || x.no === 2) && x.wire === 2) w.bytes(x.no, resolve((x.value as Buffer).toString('utf8'), scope), true);
      else w.field(x);
    }
    return w.finish();
  };
  const message = (bytes: Buffer, scope: string): Buffer => {
    const fields = readFields(bytes);
    const name = `${scope === '' ? '' : `${scope}.`}${stringField(fields, 1)}`;
    const w = new PbWriter();
    for (const x of fields) {
      if ((x.no === 2 || x.no === 6) && x.wire === 2) w.bytes(x.no, field(x.value as Buffer, name), true); // field, extension
      else if (x.no === 3 && x.wire === 2) w.bytes(3, message(x.value as Buffer, name), true); // nested_type
      else w.field(x);
    }
    return w.finish();
  };
  const service = (bytes: Buffer): Buffer => {
    const w = new PbWriter();
    for (const x of readFields(bytes)) {
      if (x.no !== 2 || x.wire !== 2) {
        w.field(x);
        continue;
      }
      const m = new PbWriter();
      for (const y of readFields(x.value as Buffer)) {
        // input_type (2), output_type (3).
        if ((y.no === 2 || y.no === 3) && y.wire === 2) m.bytes(y.no, resolve((y.value as Buffer).toString('utf8'), pkg), true);
        else m.field(y);
      }
      w.bytes(2, m.finish(), true);
    }
    return w.finish();
  };
  const w = new PbWriter();
  for (const x of top) {
    if (x.no === 4 && x.wire === 2) w.bytes(4, message(x.value as Buffer, pkg), true);
    else if (x.no === 6 && x.wire === 2) w.bytes(6, service(x.value as Buffer), true);
    else if (x.no === 7 && x.wire === 2) w.bytes(7, field(x.value as Buffer, pkg), true);
    else w.field(x);
  }
  return w.finish();
}

/** Names a FileDescriptorProto declares: messages (nested too), enums, services and their methods. */
function symbolsOf(file: PbField[]): string[] {
  const pkg = stringField(file, 2);
  const prefix = pkg === '' ? '' : `${pkg}.`;
  const out: string[] = [];
  const message = (fields: PbField[], scope: string): void => {
    const name = `${scope}${stringField(fields, 1)}`;
    out.push(name);
    for (const f of fields) {
      if (f.no === 3 && f.wire === 2) message(readFields(f.value as Buffer), `${name}.`); // nested_type
      if (f.no === 4 && f.wire === 2) out.push(`${name}.${stringField(readFields(f.value as Buffer), 1)}`); // enum_type
    }
  };
  for (const f of file) {
    if (f.wire !== 2) continue;
    if (f.no === 4) message(readFields(f.value as Buffer), prefix); // message_type
    else if (f.no === 5) out.push(`${prefix}${stringField(readFields(f.value as Buffer), 1)}`); // enum_type
    else if (f.no === 6) {
      const svc = readFields(f.value as Buffer);
      const name = `${prefix}${stringField(svc, 1)}`;
      out.push(name);
      for (const m of svc) if (m.no === 2 && m.wire === 2) out.push(`${name}.${stringField(readFields(m.value as Buffer), 1)}`);
    }
  }
  return out;
}

/** The descriptor bytes a method definition carries (proto-loader's `requestType.fileDescriptorProtos`). */
function descriptorsOf(service: ServiceDefinition): Buffer[] {
  const out: Buffer[] = [];
  for (const m of Object.values(service)) {
    for (const side of [(m as { requestType?: unknown }).requestType, (m as { responseType?: unknown }).responseType]) {
      const protos = (side as { fileDescriptorProtos?: unknown } | undefined)?.fileDescriptorProtos;
      if (Array.isArray(protos)) for (const p of protos) if (Buffer.isBuffer(p) || p instanceof Uint8Array) out.push(Buffer.from(p));
    }
  }
  return out;
}

/**
 * The reflection service's implementation for `services` (by full name); register it under both
 * versions.
 *
 * @example
 * ```ts
 * const impl = reflectionImplementation({ 'notes.Notes': Notes });
 * server.add(ReflectionService, impl).add(ReflectionServiceV1Alpha, impl);
 * ```
 */
export function reflectionImplementation(services: Record<string, ServiceDefinition> | (() => Record<string, ServiceDefinition>)) {
  return {
    async *ServerReflectionInfo(requests: AsyncIterable<ReflectionRequest>, _call: ServerCall): AsyncGenerator<Buffer> {
      // The services as they are when the stream opens (an app may add more after the reflection service).
      const answer = answerer(typeof services === 'function' ? services() : services);
      for await (const r of requests) yield answer(r);
    },
  };
}

/** Answers reflection requests about `services`. */
function answerer(services: Record<string, ServiceDefinition>): (req: ReflectionRequest) => Buffer {
  const files = new Map<string, FileInfo>();
  const bySymbol = new Map<string, FileInfo>();
  for (const svc of Object.values(services)) {
    for (const bytes of descriptorsOf(svc)) {
      const f = readFields(bytes);
      const name = stringField(f, 1);
      if (files.has(name)) continue;
      const info: FileInfo = { name, bytes, deps: f.filter((x) => x.no === 3 && x.wire === 2).map((x) => (x.value as Buffer).toString('utf8')) };
      files.set(name, info);
      for (const s of symbolsOf(f)) bySymbol.set(s, info);
    }
  }
  // Type references made absolute, now that every file's names are known.
  const known = new Set(bySymbol.keys());
  for (const f of files.values()) f.bytes = qualify(f.bytes, known);
  const names = Object.keys(services).sort();
  /** A file and every file it imports, each once, the file first. */
  const withDeps = (first: FileInfo): Buffer[] => {
    const seen = new Set<string>();
    const out: Buffer[] = [];
    const visit = (f: FileInfo): void => {
      if (seen.has(f.name)) return;
      seen.add(f.name);
      out.push(f.bytes);
      for (const d of f.deps) {
        const dep = files.get(d);
        if (dep !== undefined) visit(dep);
      }
    };
    visit(first);
    return out;
  };
  const answer = (req: ReflectionRequest): Buffer => {
    const w = new PbWriter().bytes(1, req.host).bytes(2, req.raw, true);
    const error = (code: number, message: string) => w.bytes(7, new PbWriter().uint(1, code).bytes(2, message).finish(), true).finish();
    switch (req.kind) {
      case 7: {
        // list_services
        const list = new PbWriter();
        for (const n of names) list.bytes(1, new PbWriter().bytes(1, n).finish(), true);
        return w.bytes(6, list.finish(), true).finish();
      }
      case 3:
      case 4: {
        // file_by_filename, file_containing_symbol
        const file = req.kind === 3 ? files.get(req.arg) : bySymbol.get(req.arg);
        if (file === undefined) return error(Status.NOT_FOUND, `${req.kind === 3 ? 'file' : 'symbol'} not found: ${req.arg}`);
        const fd = new PbWriter();
        for (const b of withDeps(file)) fd.bytes(1, b, true);
        return w.bytes(4, fd.finish(), true).finish();
      }
      case 5:
        // file_containing_extension: proto3 services declare none here.
        return error(Status.NOT_FOUND, 'extension not found');
      case 6: {
        // all_extension_numbers_of_type: none known.
        if (!bySymbol.has(req.arg)) return error(Status.NOT_FOUND, `type not found: ${req.arg}`);
        return w.bytes(5, new PbWriter().bytes(1, req.arg).finish(), true).finish();
      }
      default:
        return error(Status.INVALID_ARGUMENT, 'unknown reflection request');
    }
  };
  return answer;
}
