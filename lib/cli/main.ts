#!/usr/bin/env node
/**
 * The `covet` command: `new`, `dev`, `routes`, `migrate`, `db seed`, `worker`. Errors are one message a person can act on;
 * `--verbose` (or COVET_DEBUG=1) adds the stack.
 */
import { parseArgs } from 'node:util';
import { CliError, findEntry } from './load-app.js';

const HELP = `covet — the covet command

  covet new <dir>                 a typed starter app: routes, a table, a migration, a test, a Dockerfile
  covet dev [entry]               run the app, reload on save (port kept, data kept in .covet/dev-db)
        --port <n> --host <h>     default PORT or 3000, HOST or 127.0.0.1
        --memory                  a throwaway in-memory database instead of .covet/dev-db
        --db-port <n>             the dev database's psql port (default: any free one)
  covet routes [app module]       every route: method, pattern, params, auth (--json for JSON)
  covet migrate up|down|status    migrations in ./migrations against DATABASE_URL, else the dev database
  covet migrate generate <name>   a migration from the tables in src/schema.ts (foreign keys in order)
        --dir <d> --schema <file> --steps <n>
  covet db seed [seed module]     run src/seed.ts's seed(db) against DATABASE_URL, else the dev database
  covet worker [jobs module]      run the background jobs a module's createJobs queue defines
        --concurrency <n> --queues a,b --grace <ms>

The entry defaults to package.json's "covet": { "entry": ... }, else src/server.ts (and similar).
`;

/** The lines of HELP about one command (and their option lines), or all of it for an unknown command. */
function commandHelp(command: string): string {
  const lines = HELP.split('\n');
  const out: string[] = [];
  let keep = false;
  for (const l of lines) {
    if (/^ {2}covet /.test(l)) keep = l.startsWith(`  covet ${command} `) || l === `  covet ${command}`;
    else if (!/^ {8}/.test(l)) keep = false;
    if (keep) out.push(l);
  }
  return out.length === 0 ? HELP : `${out.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      memory: { type: 'boolean' },
      'db-port': { type: 'string' },
      json: { type: 'boolean' },
      dir: { type: 'string' },
      schema: { type: 'string' },
      steps: { type: 'string' },
      concurrency: { type: 'string' },
      queues: { type: 'string' },
      grace: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.verbose === true) process.env.COVET_DEBUG = '1';
  const [command, ...rest] = positionals;
  const cwd = process.cwd();
  const log = (s: string): void => console.log(s);
  // `covet <command> --help` prints help; it never runs the command (a `covet dev --help` started a server).
  if (values.help === true) {
    log(command === undefined || command === 'help' ? HELP : commandHelp(command));
    return 0;
  }
  if (values.version === true) {
    const { readFileSync } = await import('node:fs');
    log((JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
    return 0;
  }
  switch (command) {
    case 'new': {
      if (rest[0] === undefined) throw new CliError('covet new needs a folder: covet new my-app');
      (await import('./new.js')).scaffold(rest[0], log);
      return 0;
    }
    case 'dev': {
      const { dev } = await import('./dev.js');
      const port = values.port === undefined ? undefined : Number(values.port);
      if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new CliError(`--port ${values.port}: not a port number`);
      const dbPort = values['db-port'] === undefined ? undefined : Number(values['db-port']);
      if (dbPort !== undefined && !(Number.isInteger(dbPort) && dbPort > 0 && dbPort < 65536)) throw new CliError(`--db-port ${values['db-port']}: not a port number`);
      await dev({ entry: findEntry(cwd, rest[0]), root: cwd, port, host: values.host, memory: values.memory === true, dbPort, log });
      return -1; // keeps running
    }
    case 'routes':
      await (await import('./routes.js')).routes(cwd, rest[0], values.json === true, log);
      return 0;
    case 'migrate': {
      const steps = Number(values.steps ?? 1);
      if (!(Number.isInteger(steps) && steps >= 1)) throw new CliError(`--steps ${values.steps}: a whole number ≥ 1`);
      await (await import('./migrate.js')).migrate({ command: rest[0], name: rest[1], dir: values.dir ?? 'migrations', schema: values.schema, steps, cwd, log });
      return 0;
    }
    case 'db': {
      if (rest[0] !== 'seed') throw new CliError(rest[0] === undefined ? 'usage: covet db seed [seed module]' : `unknown db command "${rest[0]}"\nusage: covet db seed [seed module]`);
      await (await import('./seed.js')).seed({ cwd, module: rest[1], log });
      return 0;
    }
    case 'worker': {
      const concurrency = Number(values.concurrency ?? 1);
      const graceMs = Number(values.grace ?? 30_000);
      if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new CliError(`--concurrency ${values.concurrency}: a whole number ≥ 1`);
      if (!(Number.isFinite(graceMs) && graceMs >= 0)) throw new CliError(`--grace ${values.grace}: milliseconds ≥ 0`);
      await (await import('./worker.js')).worker({ cwd, module: rest[0], concurrency, queues: values.queues?.split(',').map((q) => q.trim()).filter(Boolean), graceMs, log });
      return -1; // runs until stopped
    }
    case undefined:
    case 'help':
      log(HELP);
      return command === undefined ? 2 : 0;
    default:
      throw new CliError(`unknown command "${command}"\n\n${HELP}`);
  }
}

try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) {
    // A one-shot command is done: exit even if the user's module left a handle open (an ioredis client
    // made at import kept `covet routes` running), once what was printed is written.
    process.exitCode = code;
    process.stdout.write('', () => process.exit(code));
  }
} catch (err) {
  const e = err as Error & { code?: string };
  const known = e instanceof CliError || e.name === 'MigrationError' || e.name === 'MissingPeerError' || e.name === 'TypeScriptUnsupportedError' || e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL';
  console.error(`covet: ${known && process.env.COVET_DEBUG !== '1' ? e.message : (e.stack ?? String(e))}`);
  process.exitCode = 1;
}
