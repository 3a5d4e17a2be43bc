// gRPC (#31): unary calls per second under h2load (a prepared UnaryCall body, 16 and 64 concurrent streams)
// and server-streaming messages per second (bench/grpc-stream-client.mjs), covet/grpc against
// @grpc/grpc-js and @connectrpc/connect-node on the same Node, the same proto, the same handlers; server pinned to CPU 0, load on CPU 1;
// rounds interleaved, ratio = median of per-round ratios. Every call is checked to end with grpc-status 0
// first (h2load only sees the HTTP status).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { benchDir, ensureCommand, fmt, log, recordRatios, root, rss, startServer, table, writeSection, median } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SERVERS = [['covet/grpc', 'grpc-covet.mjs'], ['@grpc/grpc-js', 'grpc-js.mjs'], ['@connectrpc/connect-node', 'grpc-connect.mjs']];

function envelope(bytes) {
  const out = Buffer.alloc(5 + bytes.length);
  out.writeUInt32BE(bytes.length, 1);
  bytes.copy(out, 5);
  return out;
}

/** One unary call over node:http2: its grpc-status (the bench only counts servers that answer 0). */
function check(port, path, body) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const s = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    s.on('trailers', (t) => resolve(t['grpc-status']));
    s.on('response', (h) => h['grpc-status'] !== undefined && resolve(h['grpc-status']));
    s.on('error', reject);
    s.on('close', () => session.close());
    s.resume();
    s.end(body);
  });
}

function h2load(port, file, clients, streams) {
  const out = execFileSync('taskset', ['-c', '1', 'h2load', `-c${clients}`, `-m${streams}`, `-D${SECONDS}`, '--warm-up-time=1', '-d', file, '-H', 'content-type: application/grpc', '-H', 'te: trailers', `http://127.0.0.1:${port}/grpc.testing.TestService/UnaryCall`], { encoding: 'utf8' });
  const m = out.match(/finished in [\d.]+\w+, ([\d.]+) req\/s/);
  if (!m) throw new Error(`h2load output not understood:\n${out}`);
  return Number(m[1]);
}

function streamRate(port) {
  const out = execFileSync('taskset', ['-c', '1', process.execPath, join(benchDir, 'grpc-stream-client.mjs'), String(port), '4', '1000', '16', String(SECONDS)], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').at(-1));
  if (r.failed > 0) throw new Error(`${r.failed} streaming calls failed`);
  return r.rate;
}

const IDLE_CONNS = Number(process.env.BENCH_GRPC_CONNS ?? 4000);

/** Server memory per idle client connection (each made one call), after a full GC, in bytes. */
async function idleBytes(s, file) {
  await s.gc();
  const before = rss(s.pid);
  const client = spawn('taskset', ['-c', '1', process.execPath, join(benchDir, 'grpc-idle-client.mjs'), String(s.port), String(IDLE_CONNS), file], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    client.stdout.on('data', (d) => String(d).includes('ready') && resolve());
    client.once('exit', (code) => reject(new Error(`idle client exited with ${code}`)));
  });
  await s.gc();
  const after = rss(s.pid);
  client.stdin.end();
  await new Promise((r) => client.once('exit', r));
  return (after - before) / IDLE_CONNS;
}

/**
 * The message libraries themselves, in this process: encode + decode of the bench's SimpleRequest with
 * protobufjs (what @grpc/proto-loader — and so covet's loadProto and grpc-js — use) and with
 * @bufbuild/protobuf (Connect's), from the same .proto. Operations per second, best of 5 runs.
 */
async function codecRates(proto) {
  const { create, createFileRegistry, fromBinary, toBinary } = await import('@bufbuild/protobuf');
  const { FileDescriptorSetSchema } = await import('@bufbuild/protobuf/wkt');
  const descriptor = (await import('protobufjs/ext/descriptor/index.js')).default;
  const set = proto.toDescriptor('proto3');
  for (const f of set.file) {
    const q = (n) => (n && !n.startsWith('.') ? `.${f.package}.${n}` : n);
    for (const m of f.messageType) for (const fl of m.field) fl.typeName = q(fl.typeName);
    for (const sv of f.service) for (const me of sv.method) Object.assign(me, { inputType: q(me.inputType), outputType: q(me.outputType) });
  }
  const reg = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptor.FileDescriptorSet.encode(set).finish()));
  const BufSimple = reg.getMessage('grpc.testing.SimpleRequest');
  const Simple = proto.lookupType('grpc.testing.SimpleRequest');
  const value = { response_size: 314, payload: { body: Buffer.alloc(64) }, response_status: { code: 2, message: 'status text' } };
  const pbjs = Simple.fromObject(value);
  const buf = create(BufSimple, { responseSize: 314, payload: { body: new Uint8Array(64) }, responseStatus: { code: 2, message: 'status text' } });
  const N = 100_000;
  const best = (fn) => {
    let top = 0;
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      for (let i = 0; i < N; i++) fn();
      top = Math.max(top, N / ((performance.now() - t) / 1000));
    }
    return top;
  };
  return {
    protobufjs: best(() => Simple.decode(Simple.encode(pbjs).finish())),
    bufbuild: best(() => fromBinary(BufSimple, toBinary(BufSimple, buf))),
  };
}

export async function runGrpcBench() {
  ensureCommand('h2load', 'nghttp2-client');
  const proto = await new protobuf.Root().load(join(root, 'test/grpc/interop.proto'), { keepCase: true });
  const Simple = proto.lookupType('grpc.testing.SimpleRequest');
  const body = envelope(Buffer.from(Simple.encode(Simple.fromObject({ response_size: 16, payload: { body: Buffer.alloc(16) } })).finish()));
  const dir = mkdtempSync(join(tmpdir(), 'covet-grpc-bench-'));
  const file = join(dir, 'unary.bin');
  writeFileSync(file, body);
  const loads = [['unary, 16 streams (h2load -c1 -m16)', 1, 16], ['unary, 64 streams (h2load -c4 -m16)', 4, 16]];
  const rates = {}; // case → server → [per round]
  const memory = {}; // server → [bytes per idle connection]
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, script] of SERVERS) {
        const s = await startServer(script);
        try {
          const status = await check(s.port, '/grpc.testing.TestService/UnaryCall', body);
          if (status !== '0') throw new Error(`${name} answered grpc-status ${status}`);
          for (const [label, c, m] of loads) ((rates[label] ??= {})[name] ??= []).push(h2load(s.port, file, c, m));
          ((rates['server streaming, 4 calls × 1000 messages of 16 B'] ??= {})[name] ??= []).push(streamRate(s.port));
          (memory[name] ??= []).push(await idleBytes(s, file));
        } finally {
          await s.stop();
        }
        log(`round ${round + 1}: ${name} ${Object.entries(rates).map(([k, v]) => `${k.split(',')[0]} ${fmt(v[name].at(-1))}`).join(', ')}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const codecs = await codecRates(proto);
  log(`codecs: protobufjs ${fmt(codecs.protobufjs)}/s, @bufbuild/protobuf ${fmt(codecs.bufbuild)}/s (encode + decode)`);
  const rows = [];
  const ratios = {};
  for (const [label, by] of Object.entries(rates)) {
    const ours = by['covet/grpc'];
    const grpcJs = by['@grpc/grpc-js'];
    const connect = by['@connectrpc/connect-node'];
    const ratio = median(ours.map((v, i) => v / grpcJs[i]));
    const ratioConnect = median(ours.map((v, i) => v / connect[i]));
    const key = label.startsWith('unary, 16') ? 'grpc unary ×16' : label.startsWith('unary, 64') ? 'grpc unary ×64' : 'grpc streaming';
    ratios[`${key} ÷ grpc-js`] = ratio;
    ratios[`${key} ÷ connect-node`] = ratioConnect;
    rows.push([label, fmt(median(ours)), fmt(median(grpcJs)), fmt(median(connect)), `${ratio.toFixed(2)}×`, `${ratioConnect.toFixed(2)}×`]);
  }
  recordRatios('grpc', ratios);
  writeSection(
    '62-grpc',
    `## gRPC (#31): covet/grpc vs @grpc/grpc-js and @connectrpc/connect-node\n\n` +
      `The interop TestService's UnaryCall (16-byte payload each way) under h2load, and StreamingOutputCall read by bench/grpc-stream-client.mjs (messages counted from their length prefixes); same proto and handlers (grpc-js and covet with @grpc/proto-loader's protobufjs codecs, Connect with @bufbuild/protobuf's from the same .proto); ${process.version}, server on CPU 0, load on CPU 1, ${SECONDS} s × ${ROUNDS} interleaved rounds, medians, ratio = median of per-round ratios. Goal: ≥ 2× grpc-js on both.\n\n` +
      table(['load', 'covet/grpc', '@grpc/grpc-js', '@connectrpc/connect-node', '÷ grpc-js', '÷ connect-node'], rows) +
      `\n\nServer memory per idle client connection (${IDLE_CONNS} h2c connections, each made one unary call and then stays open; RSS after a full GC, less the RSS before): ` +
      `covet/grpc ${(median(memory['covet/grpc']) / 1024).toFixed(1)} KiB, @grpc/grpc-js ${(median(memory['@grpc/grpc-js']) / 1024).toFixed(1)} KiB, @connectrpc/connect-node ${(median(memory['@connectrpc/connect-node']) / 1024).toFixed(1)} KiB (median of ${ROUNDS}; goal: no more than grpc-js). ` +
      `Connect's unary rate is as measured, untuned (its default node:http2 server and adapter).\n` +
      `\nThe message libraries alone (encode + decode of a SimpleRequest with a 64-byte payload, best of 5 × 100k): protobufjs ${fmt(codecs.protobufjs)}/s, @bufbuild/protobuf ${fmt(codecs.bufbuild)}/s — ` +
      `${(codecs.protobufjs / codecs.bufbuild).toFixed(1)}×. covet/grpc takes services from @grpc/proto-loader (protobufjs: .proto files at run time, grpc-js's definitions as they are) for that reason; its core takes any codec a method definition carries.\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runGrpcBench();
