// One side of a case for bench/compare.mjs, in a process of its own: `compare-side.mjs <dist> <case>`,
// answering the parent's requests over IPC (ready: load, and warm for warmMs; size: the count of operations that
// takes about `ms`; run: the time n operations take, in ms).
import { HOT_PATHS } from './hot-paths.mjs';

const [dist, name] = process.argv.slice(2);
const now = () => Number(process.hrtime.bigint()) / 1e6;
let run;
const time = async (n) => {
  const t0 = now();
  await run(n);
  return now() - t0;
};
process.on('message', async (m) => {
  try {
    if (m.cmd === 'ready') {
      run = await HOT_PATHS[name](dist);
      // Warm until `m.warmMs` of running: the optimizing compiler takes seconds to settle on some cases
      // (the app route ran 6× slower in its first 200 ms), and a side still warming would read as slower.
      const until = now() + m.warmMs;
      for (let n = 100; now() < until; n = Math.min(n * 2, 100000)) await time(n);
      process.send({});
    } else if (m.cmd === 'size') {
      let n = 100;
      for (;;) {
        const t = await time(n);
        if (t >= m.ms / 4) {
          process.send({ n: Math.max(1, Math.round((n * m.ms) / t)) });
          return;
        }
        n *= 4;
      }
    } else process.send({ ms: await time(m.n) });
  } catch (err) {
    process.send({ error: String(err?.stack ?? err) });
  }
});
