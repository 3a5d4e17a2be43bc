// Response serializer bench (benchmark.js, ops/s, median of rounds): a route's response schema compiled
// to a serializer (ours) vs fast-json-stringify (Fastify's) vs plain JSON.stringify, on the same values.
// Each op also turns the string into bytes (Buffer.byteLength), as sending it does: a concatenated
// string is only flattened then, and leaving that out flatters string-building serializers.
import Benchmark from 'benchmark';
import { Type } from '@sinclair/typebox';
import fastJson from 'fast-json-stringify';
import { compileSerializer } from '../dist/lib/app/serializer.js';
import { fmt, log, table, writeSection } from './lib.mjs';

const Note = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  body: Type.String(),
  tags: Type.Array(Type.String()),
  done: Type.Boolean(),
  createdAt: Type.String(),
});
const one = { id: 42, title: 'Buy milk', body: 'two litres, semi-skimmed', tags: ['home', 'shop'], done: false, createdAt: '2026-11-22T02:00:00.000Z' };
const CASES = {
  'one note (6 fields)': [Note, one],
  '20 notes': [Type.Array(Note), Array.from({ length: 20 }, (_, i) => ({ ...one, id: i }))],
  'small object (3 fields)': [Type.Object({ id: Type.Integer(), name: Type.String(), q: Type.Optional(Type.String()) }), { id: 5, name: 'five', q: 'x' }],
};

export async function runSerializerBench() {
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const rows = [];
  for (const [name, [schema, value]] of Object.entries(CASES)) {
    const ours = compileSerializer(schema);
    const fjs = fastJson(JSON.parse(JSON.stringify(schema)));
    if (ours(value) !== JSON.stringify(value) || fjs(value) !== JSON.stringify(value)) throw new Error(`outputs differ for ${name}`);
    const fns = { covet: () => Buffer.byteLength(ours(value)), 'fast-json-stringify': () => Buffer.byteLength(fjs(value)), 'JSON.stringify': () => Buffer.byteLength(JSON.stringify(value)) };
    const runs = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const [who, fn] of Object.entries(fns)) {
        const b = new Benchmark(who, fn);
        b.options.maxTime = 1;
        b.run({ async: false });
        (runs[who] ??= []).push(b.hz);
        log(`  ${name} round ${r + 1}: ${who} ${fmt(b.hz)} ops/s ±${b.stats.rme.toFixed(1)}%`);
      }
    }
    const med = (l) => l.slice().sort((a, b) => a - b)[Math.floor(l.length / 2)];
    const [c, f, j] = ['covet', 'fast-json-stringify', 'JSON.stringify'].map((k) => med(runs[k]));
    rows.push([name, fmt(c), fmt(f), fmt(j), `${(c / f).toFixed(2)}×`, `${(c / j).toFixed(2)}×`]);
  }
  writeSection(
    '75-serializer',
    `## Response serializer (benchmark.js, ops/s incl. conversion to bytes, median of ${ROUNDS} rounds)\n\n` +
      `A route's TypeBox response schema compiled to a serializer (which also drops undeclared properties) vs fast-json-stringify (Fastify's) and JSON.stringify, same values.\n\n` +
      table(['value', 'covet', 'fast-json-stringify', 'JSON.stringify', 'vs fjs', 'vs JSON.stringify'], rows),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runSerializerBench();
