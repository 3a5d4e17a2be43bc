/**
 * The app's logger type and the process's default logger (pino to stdout), apart from the request
 * context so that services without the HTTP app (jobs, the Redis guard) can log without loading it.
 */
import { pino, type LogFn } from 'pino';

/** What the app needs of a logger: pino's, whatever its options and custom levels. */
export interface Logger {
  child(bindings: Record<string, unknown>): Logger;
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
}

let defaultLogger: Logger | null = null;
/** pino to stdout, made once per process on first use. */
export function processLogger(): Logger {
  return (defaultLogger ??= pino());
}

let quiet: Logger | null = null;
/** A logger that writes nothing (`createApp({ logger: false })`), made once per process. */
export function silentLogger(): Logger {
  return (quiet ??= pino({ level: 'silent' }));
}
