/** `covet routes [app module]`: the app's routes as a table (or `--json`), from the module that exports it. */
import { formatRoutes } from '../app/route-list.js';
import { appOf, CliError, findEntry, importUserModule, shortPath } from './load-app.js';

export async function routes(cwd: string, given: string | undefined, json: boolean, log: (s: string) => void): Promise<void> {
  const file = findEntry(cwd, given, 'app', ['src/app.ts', 'app.ts', 'src/server.ts', 'server.ts', 'src/app.js', 'app.js']);
  const mod = await importUserModule(file, 'routes');
  const app = appOf(mod);
  if (app === undefined) {
    throw new CliError(`${shortPath(file, cwd)} does not export an app: add \`export default app\` (or \`export const app = createApp()\`), and start it in another module (src/server.ts) so that importing this one does not listen`);
  }
  const list = app.routes();
  log(json ? JSON.stringify(list, null, 2) : formatRoutes(list));
}
