/**
 * A PostgreSQL server of a test's own — `initdb` into a temporary directory, a postmaster on a free
 * port — to restart or kill without touching the machine's shared one (which other tests are using).
 * Run as the `postgres` user when the tests run as root (the server refuses root).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgServer {
  url: string;
  port: number;
  /** `pg_ctl restart -m fast`: every session is cut, the data stays. */
  restart(): void;
  /** `pg_ctl stop -m fast` (the data stays; `start()` again). */
  halt(): void;
  start(): void;
  /** Stops the server and removes its directory. */
  stop(): void;
  /**
   * A streaming replica of this server: `pg_basebackup -R` of it into a directory of its own, a second
   * postmaster (a hot standby) on a free port.
   */
  replica(): Promise<PgServer>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error(`no PostgreSQL under ${root} (apt-get install postgresql)`);
  return join(root, versions[0]!, 'bin');
}

/** Starts a fresh server; `stop()` it when done (its directory is removed). */
export async function startPgServer(): Promise<PgServer> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'covet-pg-'));
  const asRoot = process.getuid?.() === 0;
  let uid = 0;
  let gid = 0;
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const run = (cmd: string, args: string[]): void => {
    if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: 'ignore' });
    else execFileSync(join(bin, cmd), args, { stdio: 'ignore' });
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync']);
  return serve(dir, data, run);
}

async function serve(dir: string, data: string, run: (cmd: string, args: string[]) => void): Promise<PgServer> {
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () => run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    restart: () => run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-m', 'fast', '-w', 'restart']),
    halt: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    start,
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped (halt)
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    replica: async () => {
      const rdir = mkdtempSync(join(tmpdir(), 'covet-pg-replica-'));
      if (process.getuid?.() === 0) chownSync(rdir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
      chmodSync(rdir, 0o700);
      const rdata = join(rdir, 'data');
      // -R writes standby.signal and primary_conninfo: the copy starts as a hot standby streaming from us.
      run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-D', rdata, '-R', '-X', 'stream', '--no-sync']);
      return serve(rdir, rdata, run);
    },
  };
}
