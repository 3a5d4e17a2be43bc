// The WebSocket echo cases whose ratio moved most between Node lines, re-measured with the servers of
// both lines alternating (rounds × lines × servers), so the VM's drift between speed levels cannot pass
// for a difference between lines. The load client runs on this process's Node, on CPU 1.
//   taskset -c 1 node bench/tools/ws-lines.mjs 24        (compares this Node with line 24)
import { spawn, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { echoLoad } from '../ws.mjs';
import { benchDir, root } from '../lib.mjs';

const other = execFileSync(join(root, 'scripts', 'node-line.sh'), [process.argv[2] ?? '24'], { encoding: 'utf8' }).trim();
const lines = { [process.version]: process.execPath, [execFileSync(other, ['--version'], { encoding: 'utf8' }).trim()]: other };
const CASES = [
  { size: 16384, inflight: 16, deflate: false },
  { size: 16384, inflight: 16, deflate: true },
  { size: 16384, inflight: 1, deflate: false },
];
let port = 23000;
async function server(node, script, deflate) {
  const p = port++;
  const child = spawn('taskset', ['-c', '0', node, join(benchDir, 'servers', script)], { env: { ...process.env, PORT: String(p), COMPRESS: deflate ? '1' : '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => child.stdout.on('data', (d) => String(d).includes('listening on') && r()));
  return { port: p, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) };
}
const rounds = Number(process.env.ROUNDS ?? 3);
for (const c of CASES) {
  const res = {};
  for (let r = 0; r < rounds; r++) {
    for (const [v, node] of Object.entries(lines)) {
      for (const [name, script] of [['covet', 'ws-echo.mjs'], ['ws', 'ws-lib-echo.mjs']]) {
        const s = await server(node, script, c.deflate);
        await echoLoad(s.port, { ...c, seconds: 1 });
        const m = await echoLoad(s.port, { ...c, seconds: 3 });
        await s.stop();
        ((res[v] ??= {})[name] ??= []).push(m.rate);
      }
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const label = `${c.size} B, ${c.inflight} in flight${c.deflate ? ', deflate' : ''}`;
  console.log(label + ': ' + Object.entries(res).map(([v, r]) => `${v} covet ${med(r.covet).toFixed(0)}/s ws ${med(r.ws).toFixed(0)}/s ratio ${(med(r.covet) / med(r.ws)).toFixed(2)}×`).join(' | '));
}
