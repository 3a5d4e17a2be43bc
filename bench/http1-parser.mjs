// Parser microbench (benchmark.js): messages/s parsing a ~590-byte browser GET (12 fields) and a small
// POST, ours vs llhttp through Node's native binding and through WebAssembly. Each (parser, sample) runs
// in its own worker thread so one contender's JIT state and garbage do not bias the next; all run in
// this one process, one after another, pinned by the caller (bench/run.mjs uses CPU 1).
import Benchmark from 'benchmark';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Http1Parser } from '../dist/lib/http1/index.js';
import { LlhttpWasmParser, NodeBindingParser } from '../dist/wasm/llhttp.js';
import { fmt, log, table, writeSection } from './lib.mjs';
import { PARSER_SAMPLES } from './tools/hot-paths.mjs';

process.noDeprecation = true; // process.binding('http_parser') warns once

export const SAMPLES = PARSER_SAMPLES; // the same samples the regression gate times

const noop = { onHeadersComplete() {}, onBody() {}, onMessageComplete() {} };
const CONTENDERS = {
  'covet Http1Parser': () => new Http1Parser('request', noop),
  'llhttp (Node binding, C)': () => new NodeBindingParser('request', noop),
  'llhttp (WebAssembly)': () => new LlhttpWasmParser('request', noop),
};

function measure(name, sample) {
  const input = SAMPLES[sample];
  const p = CONTENDERS[name]();
  if (p.execute(input) !== input.length) throw new Error(`${name} did not accept the ${sample} sample`);
  const b = new Benchmark(name, () => {
    p.execute(input);
  });
  b.options.maxTime = 3;
  b.run({ async: false });
  return { hz: b.hz, rme: b.stats.rme };
}

if (!isMainThread) {
  parentPort.postMessage(measure(workerData.name, workerData.sample));
}

export async function runParserBench() {
  log(`parser bench: GET ${SAMPLES.GET.length} bytes, POST ${SAMPLES.POST.length} bytes`);
  // Median of interleaved rounds: the VM's speed drifts, interleaving spreads the drift over everyone.
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const runs = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const sample of Object.keys(SAMPLES)) {
      for (const name of Object.keys(CONTENDERS)) {
        const r = await new Promise((resolve, reject) => {
          const w = new Worker(fileURLToPath(import.meta.url), { workerData: { name, sample } });
          w.once('message', resolve);
          w.once('error', reject);
        });
        log(`  round ${round + 1} ${sample}: ${name} ${fmt(r.hz)}/s ±${r.rme.toFixed(1)}%`);
        ((runs[name] ??= {})[sample] ??= []).push(r.hz);
      }
    }
  }
  const results = {};
  for (const [name, bySample] of Object.entries(runs)) {
    for (const [sample, list] of Object.entries(bySample)) {
      const sorted = list.slice().sort((a, b) => a - b);
      (results[name] ??= {})[sample] = sorted[Math.floor(sorted.length / 2)];
    }
  }
  const base = results['llhttp (Node binding, C)'];
  const rows = Object.entries(results).map(([name, r]) => [
    name,
    `${fmt(r.GET)}/s`,
    `${(r.GET / base.GET).toFixed(2)}×`,
    `${fmt(r.POST)}/s`,
    `${(r.POST / base.POST).toFixed(2)}×`,
  ]);
  writeSection(
    '10-http1-parser',
    `## HTTP/1.1 parser (benchmark.js, messages parsed per second, median of ${ROUNDS} interleaved rounds, one core, one worker per case)\n\n` +
      `Samples: a ${SAMPLES.GET.length}-byte browser GET with 12 fields, a ${SAMPLES.POST.length}-byte JSON POST. Ratio: ÷ llhttp through Node's binding (target ≥ 1.5×).\n\n` +
      table(['parser', 'GET', 'ratio', 'POST', 'ratio'], rows),
  );
  return results;
}

if (isMainThread && import.meta.url === `file://${process.argv[1]}`) await runParserBench();
