// HPACK bench (benchmark.js): header blocks/s encoding and decoding a 16-field browser request on a warm
// table (the second and later requests of a connection), ours vs hpack.js, same run, median of rounds.
import Benchmark from 'benchmark';
import { createRequire } from 'node:module';
import { HpackDecoder, HpackEncoder } from '../dist/lib/http2/hpack/index.js';
import { fmt, log, table, writeSection } from './lib.mjs';

const require = createRequire(import.meta.url);
const hpackjs = require('hpack.js');

export const REQUEST = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'www.example.com'],
  [':path', '/api/v1/users/12345/profile?fields=name,email'],
  ['sec-ch-ua', '"Chromium";v="130", "Not?A_Brand";v="99"'],
  ['sec-ch-ua-mobile', '?0'],
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'],
  ['sec-ch-ua-platform', '"Linux"'],
  ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['sec-fetch-site', 'same-origin'],
  ['sec-fetch-mode', 'navigate'],
  ['sec-fetch-dest', 'document'],
  ['referer', 'https://www.example.com/app/dashboard'],
  ['accept-encoding', 'gzip, deflate, br, zstd'],
  ['accept-language', 'en-US,en;q=0.9'],
  ['cookie', 'session=abc123; theme=dark'],
];

function hpackjsEncode(comp, fields) {
  comp.write(fields.map(([name, value]) => ({ name, value })));
  const chunks = [];
  for (let c = comp.read(); c !== null; c = comp.read()) chunks.push(c);
  return Buffer.concat(chunks);
}

function cases() {
  // Decoding: both decoders read the same bytes — the second block of a connection as hpack.js encodes
  // it (after the first block has filled the dynamic table), decoded again and again.
  const src = hpackjs.compressor.create({ table: { size: 4096 } });
  const first = hpackjsEncode(src, REQUEST);
  const second = hpackjsEncode(src, REQUEST);
  const ourDec = new HpackDecoder();
  ourDec.decode(first);
  const theirDec = hpackjs.decompressor.create({ table: { size: 4096 } });
  theirDec.write(first);
  theirDec.execute();
  while (theirDec.read() !== null);
  // Encoding: each encoder on its own warm table.
  const ourEnc = new HpackEncoder();
  ourEnc.encode(REQUEST);
  const theirComp = hpackjs.compressor.create({ table: { size: 4096 } });
  hpackjsEncode(theirComp, REQUEST);
  return {
    'covet decode': () => ourDec.decode(second),
    'hpack.js decode': () => {
      theirDec.write(second);
      theirDec.execute();
      while (theirDec.read() !== null);
    },
    'covet encode': () => ourEnc.encode(REQUEST),
    'hpack.js encode': () => hpackjsEncode(theirComp, REQUEST),
  };
}

export async function runHpackBench() {
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const runs = {};
  for (let r = 0; r < ROUNDS; r++) {
    const c = cases();
    for (const [name, fn] of Object.entries(c)) {
      const b = new Benchmark(name, fn);
      b.options.maxTime = 2;
      b.run({ async: false });
      (runs[name] ??= []).push(b.hz);
      log(`  round ${r + 1}: ${name} ${fmt(b.hz)} blocks/s ±${b.stats.rme.toFixed(1)}%`);
    }
  }
  const med = (l) => l.slice().sort((a, b) => a - b)[Math.floor(l.length / 2)];
  const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, med(v)]));
  writeSection(
    '50-hpack',
    `## HPACK (benchmark.js, header blocks/s, a 16-field browser request on a warm table, median of ${ROUNDS} rounds)\n\n` +
      `Decode: both decoders read the same block (the second request of a connection as hpack.js encodes it). Encode: each encoder on its own warm table (ours keeps :path and cookies out of the table, so its blocks carry those literals). Target: decode ≥ 3× hpack.js.\n\n` +
      table(
        ['', 'covet', 'hpack.js', 'ratio'],
        [
          ['decode', fmt(m['covet decode']), fmt(m['hpack.js decode']), `${(m['covet decode'] / m['hpack.js decode']).toFixed(2)}×`],
          ['encode', fmt(m['covet encode']), fmt(m['hpack.js encode']), `${(m['covet encode'] / m['hpack.js encode']).toFixed(2)}×`],
        ],
      ),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runHpackBench();
