/**
 * Liveness and readiness endpoints in the Kubernetes manner: `/health` answers 200 while the process can
 * serve at all; `/ready` runs every registered dependency check (database, cache, ...) concurrently, each
 * with a deadline, and answers 503 if any fails, times out, or the app is shutting down — so traffic
 * drains away before the process exits.
 */
import type { App } from './app.js';

/** The app value (`app.value(READINESS)`) that runs the readiness checks: resolves true when all pass and the app is not closing. */
export const READINESS = Symbol.for('covet.readiness');

/** A dependency check: resolves when the dependency is usable, rejects (or throws) when not. */
export type HealthCheck = () => unknown;

export interface HealthOptions {
  /** Readiness checks by name. */
  checks?: Record<string, HealthCheck>;
  /** Deadline per check in milliseconds. Default 2000. */
  timeoutMs?: number;
  /** Default `/health`. */
  livePath?: string;
  /** Default `/ready`. */
  readyPath?: string;
}

export interface CheckResult {
  status: 'ok' | 'fail';
  ms: number;
  error?: string;
}

/**
 * Adds the liveness and readiness routes to an app.
 *
 * @example
 * ```ts
 * health(app, { checks: { db: () => sql`select 1`, redis: () => redis.ping() }, timeoutMs: 1000 });
 * // GET /ready → 200 {"status":"ok","checks":{"db":{"status":"ok","ms":1.2},...}} or 503 with the failures
 * ```
 */
export function health(app: App, options: HealthOptions = {}): void {
  const checks = Object.entries(options.checks ?? {});
  const timeoutMs = options.timeoutMs ?? 2000;
  const readiness = async (): Promise<{ ok: boolean; out: Record<string, CheckResult> }> => {
    const results = await Promise.all(checks.map(([, check]) => runCheck(check, timeoutMs)));
    const out: Record<string, CheckResult> = {};
    checks.forEach(([name], i) => (out[name] = results[i]!));
    return { ok: !app.closing && results.every((r) => r.status === 'ok'), out };
  };
  // Other readiness probes (the gRPC health service) ask the same checks.
  app.decorate(READINESS, async () => (await readiness()).ok);
  app.get(options.livePath ?? '/health', { summary: 'Liveness', tags: ['health'] }, () => ({ status: 'ok', uptime: Math.round(process.uptime()) }));
  app.get(options.readyPath ?? '/ready', { summary: 'Readiness: every dependency answers', tags: ['health'] }, async (ctx) => {
    const { ok, out } = await readiness();
    ctx.res.setHeader('cache-control', 'no-store');
    ctx.json({ status: ok ? 'ok' : 'fail', ...(app.closing ? { shuttingDown: true } : {}), checks: out }, ok ? 200 : 503);
  });
}

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(check), deadline]);
    return { status: 'ok', ms: round(performance.now() - t0) };
  } catch (err) {
    return { status: 'fail', ms: round(performance.now() - t0), error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

/** `app.register(health, options)`: the same routes, as a plugin (on the app it is registered on). */
health.pluginName = 'health';
health.encapsulate = false;
