/**
 * One generation of the app under `covet dev` (a cluster worker; the port belongs to the primary, which
 * keeps it open across restarts). Started ahead of need: it loads the framework, says `ready`, and waits;
 * on `start` it imports the user's entry. If the entry exports an App that is not listening, it is
 * started on PORT; an entry that listens by itself works too.
 */
import { appOf, importUserModule } from './load-app.js';
import { canRunTypeScript, installTypeScriptHooks, warmTypeScript } from './ts-hooks.js';

type Msg = { type: 'ready' } | { type: 'imported'; docs: string | null; routes: number } | { type: 'failed'; error: string };
const send = (m: Msg): void => void process.send?.(m);
const entry = process.env.COVET_DEV_ENTRY!;

// What every generation would otherwise load again: the framework's own modules.
await Promise.all([import('../app/index.js'), import('../app/db/index.js'), import('../app/orm/index.js'), import('../app/auth/index.js'), import('../app/cache/index.js'), import('../app/realtime/index.js')]);
if (canRunTypeScript()) {
  installTypeScriptHooks(entry);
  warmTypeScript();
}
send({ type: 'ready' });

process.on('message', (m: { type?: string }) => {
  if (m?.type === 'start') void start();
});

async function start(): Promise<void> {
  try {
    const mod = await importUserModule(entry);
    const app = appOf(mod);
    if (app !== undefined && app.server === null) {
      await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
      app.closeOnSignals({ graceMs: 2000, log: () => {} });
    }
    const routes = app?.routes() ?? [];
    const docs = routes.find((r) => r.method === 'GET' && r.hidden && !r.pattern.includes('{') && r.pattern.endsWith('docs'))?.pattern ?? null;
    send({ type: 'imported', docs, routes: routes.filter((r) => !r.hidden).length });
  } catch (err) {
    const e = err as Error;
    send({ type: 'failed', error: e?.stack ?? String(err) });
    process.exitCode = 1;
    process.disconnect?.();
  }
}
