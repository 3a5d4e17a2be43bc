// GraphQL bench: a three-level query (10 users × 5 posts × 3 comments, in memory) POSTed as JSON, covet's
// app.graphql vs mercurius on Fastify (with and without its graphql-jit), servers on CPU 0, wrk -t1 -c64
// on CPU 1, interleaved rounds, median. Both answer the same JSON (checked first).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { benchDir, ensureCommand, fmt, log, recordRatios, startServer, table, writeSection } from './lib.mjs';
import { QUERY } from './servers/graphql-data.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BODY = JSON.stringify({ query: QUERY });
const SERVERS = { covet: ['graphql-covet.mjs', {}], 'covet (jit)': ['graphql-covet.mjs', { JIT: '1' }], mercurius: ['graphql-mercurius.mjs', {}], 'mercurius (jit)': ['graphql-mercurius.mjs', { JIT: '1' }] };
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function wrkPost(port, seconds) {
  const out = execFileSync('taskset', ['-c', '1', 'wrk', '-t1', '-c64', `-d${seconds}s`, '-s', join(benchDir, 'graphql-post.lua'), `http://127.0.0.1:${port}/graphql`], { env: { ...process.env, GQL_BODY: BODY }, encoding: 'utf8' });
  const m = out.match(/Requests\/sec:\s+([\d.]+)/);
  if (!m || /Non-2xx/.test(out)) throw new Error(`wrk output not understood or errors:\n${out}`);
  return Number(m[1]);
}

async function answer(port) {
  const r = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
  return JSON.stringify(await r.json());
}

export async function runGraphqlBench() {
  ensureCommand('wrk');
  const rps = Object.fromEntries(Object.keys(SERVERS).map((k) => [k, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, [script, env]] of Object.entries(SERVERS)) {
      const s = await startServer(script, env);
      try {
        if (round === 1) {
          const a = await answer(s.port);
          if (!a.startsWith('{"data":{"users":[{"id":0,"name":"user 0","posts":[{"id":0,')) throw new Error(`${name} answered ${a.slice(0, 200)}`);
          (SERVERS[name].answer = a);
        }
        wrkPost(s.port, 1); // warm-up
        const r = wrkPost(s.port, SECONDS);
        rps[name].push(r);
        log(`round ${round}/${ROUNDS} ${name}: ${fmt(r)} req/s`);
      } finally {
        await s.stop();
      }
    }
  }
  if (SERVERS.covet.answer !== SERVERS.mercurius.answer) throw new Error('covet and mercurius answer differently');
  const m = (k) => med(rps[k]);
  const rows = Object.keys(SERVERS).map((k) => [k, fmt(m(k)), `${(m('covet') / m(k)).toFixed(2)}×`, `${(m('covet (jit)') / m(k)).toFixed(2)}×`]);
  recordRatios('graphql', { 'graphql 3-level ÷ mercurius': m('covet') / m('mercurius'), 'graphql 3-level, both jit ÷ mercurius jit': m('covet (jit)') / m('mercurius (jit)') });
  writeSection(
    'graphql',
    `## GraphQL: a three-level query over HTTP (requests/s; POST JSON, server on CPU 0, wrk -t1 -c64 on CPU 1, ${SECONDS} s, median of ${ROUNDS} rounds)\n\n` +
      `${table(['server', 'req/s', 'covet ÷ it', 'covet (jit) ÷ it'], rows)}\n\n` +
      '`{ users(first: 10) { id name posts(first: 5) { id title comments(first: 3) { id body } } } }` over in-memory data (210 objects ' +
      'in the answer, 6.3 KB); the same schema and resolvers in both; both cache parsed documents. Each with graphql-jit ' +
      '(`jit: 1`: compiled after the first run) and without (graphql-js\'s `execute`); covet checks depth and cost per request.',
  );
}
