// Shared helpers for the benches: pinned server processes, wrk runs, ratio tables, result files.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { createRequire } from 'node:module';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const root = join(benchDir, '..');

export function log(msg) {
  process.stdout.write(`${msg}\n`);
}

/** Installs a Debian package if its command is missing (the bench machine is ours to set up). */
export function ensureCommand(cmd, pkg = cmd) {
  try {
    execFileSync('which', [cmd], { stdio: 'ignore' });
  } catch {
    log(`installing ${pkg} with apt-get`);
    execFileSync('bash', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg}`], { stdio: 'inherit' });
  }
}

// Below the ephemeral port range (32768+), so the 10,000 client sockets of the memory benches never take it.
let nextPort = 21000;

/** Starts `bench/servers/<script>` pinned to CPU 0; resolves when it prints "listening on". */
export async function startServer(script, env = {}, nodeArgs = []) {
  const port = nextPort++;
  // --expose-gc + gc.mjs: SIGUSR2 makes the server collect garbage, so memory benches measure live data.
  const child = spawn('taskset', ['-c', '0', process.execPath, '--expose-gc', ...nodeArgs, '--import', join(benchDir, 'gc.mjs'), isAbsolute(script) ? script : join(benchDir, 'servers', script)], {
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    port,
    pid: child.pid,
    /** After a full GC, the server's JS heap and external memory in use (bytes). */
    async usage() {
      const at = out.length;
      child.kill('SIGUSR1');
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const m = out.slice(at).match(/memory (\{.*\})/);
        if (m) return JSON.parse(m[1]);
      }
      throw new Error(`${script} did not report its memory`);
    },
    /** Asks the server to run a full garbage collection, and waits a moment for it. */
    async gc() {
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 300));
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 3000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    },
  };
}

/** Runs wrk pinned to CPU 1; returns requests/s. */
export function wrk(port, { connections = 64, seconds = 10, pipeline = 0, path = '/' } = {}) {
  const args = ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`];
  if (pipeline > 0) args.push('-s', join(benchDir, 'pipeline.lua'));
  args.push(`http://127.0.0.1:${port}${path}`);
  const out = execFileSync('taskset', args, { env: { ...process.env, PIPELINE: String(pipeline) }, encoding: 'utf8' });
  const m = out.match(/Requests\/sec:\s+([\d.]+)/);
  const total = out.match(/(\d+) requests in/);
  const errors = out.match(/Socket errors:.*|Non-2xx or 3xx responses: \d+/g);
  if (!m || !total) throw new Error(`wrk output not understood:\n${out}`);
  return { rps: Number(m[1]), requests: Number(total[1]), errors: errors ? errors.join('; ') : '' };
}

let clockTicks = 0;

/**
 * CPU time a process has used so far, in seconds, user and system apart (all its threads), from
 * /proc/<pid>/stat (in clock ticks: 10 ms here).
 */
function cpuTimes(pid) {
  clockTicks ||= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command's closing parenthesis, from the state (field 3): utime is field 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) / clockTicks, sys: Number(f[12]) / clockTicks };
}

/**
 * `fn()`'s result, and the CPU seconds process `pid` used while it ran: `cpu` in all, `user` in the process
 * itself, `sys` in the kernel on its behalf (on loopback that includes delivering what it sends).
 */
export async function cpuDuring(pid, fn) {
  const c0 = cpuTimes(pid);
  const result = await fn();
  const c1 = cpuTimes(pid);
  const user = c1.user - c0.user;
  const sys = c1.sys - c0.sys;
  return { result, cpu: user + sys, user, sys };
}

/** Resident set size of a process in bytes. */
export function rss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+) kB/)[1]) * 1024;
}

/** The middle value (the upper one of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * `contenders` ([name, fn] pairs) timed by benchmark.js in `rounds` suites, the running order rotated each round so
 * none always runs first; `onRound(i, hz)` after each; the median ops/s of each name.
 */
export async function interleavedRounds(contenders, rounds, onRound = () => {}) {
  const { default: Benchmark } = await import('benchmark');
  const runs = Object.fromEntries(contenders.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    const suite = new Benchmark.Suite();
    for (let i = 0; i < contenders.length; i++) {
      const [name, fn] = contenders[(i + r) % contenders.length];
      suite.add(name, fn);
    }
    await new Promise((resolve) => suite.on('complete', resolve).run());
    suite.forEach((b) => runs[b.name].push(b.hz));
    onRound(r, Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.at(-1)])));
  }
  return Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
}

export const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(1));

/** A markdown table: rows of [name, value, ...]. */
export function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/**
 * Whether uWebSockets.js loads on this Node here. Its npm package ships prebuilt binaries per Node ABI;
 * those for Node 22+ need glibc 2.38 (Debian 12 has 2.36), and none exists for Node 26: the benches then
 * leave it out and say so.
 */
export const uwsError = (() => {
  try {
    createRequire(import.meta.url)('uwebsockets');
    return null;
  } catch (err) {
    const why = String(err.message).split('\n').filter((l) => l.trim() !== '').pop();
    log(`uWebSockets.js is left out on Node ${process.version}: ${why}`);
    return why;
  }
})();

/** The Node release line this run measures (its major version). */
export const nodeLine = Number(process.versions.node.split('.')[0]);

/**
 * Where this run's sections go: bench/results/ for a run on the default Node, bench/results/node-<line>/
 * for one asked for with `BENCH_NODE=` (bench/run.mjs sets BENCH_LINE then), so RESULTS.md keeps its main tables
 * from one line and shows the others' ratios side by side.
 */
export const resultsDir = process.env.BENCH_LINE ? join(benchDir, 'results', `node-${nodeLine}`) : join(benchDir, 'results');

/** Writes one bench's section; bench/run.mjs assembles bench/RESULTS.md from them. */
export function writeSection(name, markdown) {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.md`), `${markdown.trim()}\n`);
  log(`\n${markdown.trim()}\n`);
}

/**
 * Records this run's headline ratios (ours ÷ a named peer) for the table of ratios by Node line:
 * bench/results/lines/node-<line>.json, one object per bench, replaced on each run of that bench.
 * `version`: the Node the numbers were measured on, when a bench ran them in a child on another line.
 */
export function recordRatios(bench, ratios, version = process.version) {
  const dir = join(benchDir, 'results', 'lines');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `node-${Number(version.slice(1).split('.')[0])}.json`);
  let all = {};
  try {
    all = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    /* first bench recorded for this line */
  }
  all.node ??= version;
  all[bench] = { date: new Date().toISOString().slice(0, 10), ratios };
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
}

export function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`;
}
