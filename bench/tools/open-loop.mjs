// An open-loop load generator: requests are sent at a fixed rate whatever the answers (so a slow server
// builds a backlog, as real traffic does, and latency counts from when a request was due — no
// coordinated omission). Prints one JSON line: statuses, latency percentiles (ms) of each status class.
// Usage: node open-loop.mjs <url> <method> <rate/s> <seconds> [body]
import { Agent, request } from 'undici';

const [url, method, rateArg, secondsArg, body] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const agent = new Agent({ connections: 512, pipelining: 1, keepAliveTimeout: 30_000 });
const total = Math.round(rate * seconds);
const statuses = {};
const latencies = {};
const start = performance.now();
let done = 0;
let errors = 0;
await new Promise((resolve) => {
  let sent = 0;
  const tick = () => {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) / 1000) * rate));
    for (; sent < due; sent++) {
      const at = start + (sent / rate) * 1000; // when this request was due
      request(url, { method, dispatcher: agent, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } }).then(
        async (r) => {
          await r.body.dump();
          const ms = performance.now() - at;
          statuses[r.statusCode] = (statuses[r.statusCode] ?? 0) + 1;
          (latencies[r.statusCode] ??= []).push(ms);
          if (++done === total) resolve();
        },
        () => {
          errors++;
          if (++done === total) resolve();
        },
      );
    }
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
});
const elapsed = (performance.now() - start) / 1000;
const pct = (a, p) => {
  if (a.length === 0) return null;
  a.sort((x, y) => x - y);
  return Number(a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))].toFixed(1));
};
const by = Object.fromEntries(Object.entries(latencies).map(([s, a]) => [s, { p50: pct(a, 50), p99: pct(a, 99), max: pct(a, 100) }]));
console.log(JSON.stringify({ rate, seconds, elapsed: Number(elapsed.toFixed(2)), statuses, errors, latency: by }));
await agent.close();
