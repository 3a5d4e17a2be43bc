/**
 * `covet worker [module]`: runs the background jobs a module defines, in a process of their own. The
 * module (default package.json's `covet.jobs`, else src/jobs.ts) exports a `Jobs` queue (`createJobs`)
 * with its jobs defined; the worker serves it until SIGTERM/SIGINT, then stops gracefully (running jobs
 * get `--grace` ms, then go back to the queue).
 */
import type { Jobs } from '../app/jobs/index.js';
import { CliError, findEntry, importUserModule, shortPath } from './load-app.js';

function isJobs(v: unknown): v is Jobs {
  return typeof v === 'object' && v !== null && typeof (v as Jobs).work === 'function' && typeof (v as Jobs).define === 'function' && typeof (v as Jobs).migrate === 'function';
}

export async function worker(o: { cwd: string; module: string | undefined; concurrency: number; queues: string[] | undefined; graceMs: number; log: (s: string) => void }): Promise<void> {
  const file = findEntry(o.cwd, o.module, 'jobs', ['src/jobs.ts', 'jobs.ts', 'src/jobs.js', 'jobs.js']);
  const mod = await importUserModule(file, 'worker');
  const queues = Object.values(mod).filter(isJobs);
  if (queues.length === 0) throw new CliError(`${shortPath(file, o.cwd)} exports no job queue: export the queue made by createJobs (export const jobs = createJobs(db)) with its jobs defined`);
  const workers = queues.map((q) => q.work({ concurrency: o.concurrency, ...(o.queues === undefined ? {} : { queues: o.queues }) }));
  const stop = async (sig: string): Promise<void> => {
    o.log(`${sig}: stopping — running jobs get ${o.graceMs} ms, then go back to the queue`);
    try {
      await Promise.all(workers.map((w) => w.stop(o.graceMs)));
      await Promise.all(queues.map((q) => q.close()));
    } catch (err) {
      // Said in words and exit 1, not an unhandled rejection's stack.
      console.error(`covet worker: stopping failed: ${(err as Error).message}`);
      process.exit(1);
    }
    o.log('stopped');
    process.exit(0);
  };
  // Listening before saying it started: a SIGTERM sent as soon as the line is read finds the handler.
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  o.log(`covet worker: ${shortPath(file, o.cwd)} — ${queues.length} queue(s), concurrency ${o.concurrency}${o.queues === undefined ? '' : `, queues ${o.queues.join(', ')}`}; ctrl-c stops gracefully`);
}
