// HPACK bench (benchmark.js): header blocks/s encoding and decoding a 16-field browser request on a warm
// table (the second and later requests of a connection), ours vs hpack.js, same run, median of rounds.
import Benchmark from 'benchmark';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { HpackDecoder, HpackEncoder } from '../dist/lib/http2/hpack/index.js';
import { fmt, log, root, table, writeSection } from './lib.mjs';
import { REQUEST_FIELDS } from './tools/hot-paths.mjs';

const require = createRequire(import.meta.url);
const hpackjs = require('hpack.js');

export const REQUEST = REQUEST_FIELDS; // the same fields the regression gate encodes

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

/**
 * Octets of the hpack-test-case stories (../shared/vectors/hpack) as our encoder writes them (a fresh
 * 4096-octet table per story) and as each other implementation's folder records its encoder's output.
 */
function storySizes() {
  const dir = join(root, '..', 'shared', 'vectors', 'hpack');
  if (!existsSync(dir)) return null;
  const files = readdirSync(join(dir, 'raw-data')).filter((f) => f.endsWith('.json'));
  const read = (folder, f) => JSON.parse(readFileSync(join(dir, folder, f), 'utf8'));
  let ours = 0;
  for (const f of files) {
    const enc = new HpackEncoder();
    for (const c of read('raw-data', f).cases) ours += enc.encode(c.headers.map((h) => Object.entries(h)[0])).length;
  }
  const theirs = {};
  for (const folder of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'raw-data').map((d) => d.name)) {
    let total = 0;
    for (const f of files) {
      if (!existsSync(join(dir, folder, f))) total = NaN;
      else for (const c of read(folder, f).cases) total += c.header_table_size !== undefined && c.header_table_size !== 4096 ? NaN : c.wire.length / 2;
    }
    if (!Number.isNaN(total)) theirs[folder] = total;
  }
  return { ours, theirs, stories: files.length };
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
  const sizes = storySizes();
  const sizeTable = sizes === null
    ? '\n\nEncoded size: not measured (../shared/vectors/hpack is absent).'
    : `\n\nEncoded size: the ${sizes.stories} hpack-test-case stories (real browsing sessions' requests and responses), each on a fresh 4096-octet table, in octets — ours against what each implementation's own encoder wrote for them (target: no larger than the best).\n\n` +
      table(['encoder', 'octets', 'covet ÷ it'], [['covet', String(sizes.ours), '—'], ...Object.entries(sizes.theirs).sort((a, b) => a[1] - b[1]).map(([k, v]) => [k, String(v), `${(sizes.ours / v).toFixed(3)}`])]);
  writeSection(
    '50-hpack',
    `## HPACK (benchmark.js, header blocks/s, a 16-field browser request on a warm table, median of ${ROUNDS} rounds)\n\n` +
      `Decode: both decoders read the same block (the second request of a connection as hpack.js encodes it). Encode: each encoder on its own warm table (ours keeps :path out of the table, so its blocks carry that literal). Targets: decode and encode ≥ 3× hpack.js.\n\n` +
      table(
        ['', 'covet', 'hpack.js', 'ratio'],
        [
          ['decode', fmt(m['covet decode']), fmt(m['hpack.js decode']), `${(m['covet decode'] / m['hpack.js decode']).toFixed(2)}×`],
          ['encode', fmt(m['covet encode']), fmt(m['hpack.js encode']), `${(m['covet encode'] / m['hpack.js encode']).toFixed(2)}×`],
        ],
      ) +
      sizeTable,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runHpackBench();
