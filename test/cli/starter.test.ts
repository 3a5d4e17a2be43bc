/**
 * The newcomer's path, as a user walks it, from the packed tarball: `covet new`, `npm install`, the
 * starter's own tests, `covet routes`, `covet migrate generate/up/status` with a `.ts` schema, and
 * `covet dev` reloading on a change with the port and the data kept (Node ≥ 22.15: it runs `.ts`;
 * Node 20 gets the error that says what to do).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { freePort } from '../helpers/free-port.js';
import { testDb, testMysql } from '../app/db/helpers.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const node = process.execPath;
const work = mkdtempSync(join(tmpdir(), 'covet-starter-'));
const app = join(work, 'my-app');
const cli = join(app, 'node_modules', 'covet', 'dist', 'lib', 'cli', 'main.js');
const nodeSqlite = (() => {
  try {
    createRequire(import.meta.url)('node:sqlite');
    return true;
  } catch {
    return false;
  }
})();
const typescriptRuns = Number(process.versions.node.split('.')[0]) > 22 || (process.versions.node.startsWith('22.') && Number(process.versions.node.split('.')[1]) >= 15);
// npm runs with this line's node first on PATH, so scripts and bins use it.
const env = { ...process.env, PATH: `${join(node, '..')}:${process.env.PATH}`, DATABASE_URL: undefined, NODE_ENV: undefined, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const covet = (args: string[], extra: Record<string, string | undefined> = {}) => run(node, [cli, ...args], { cwd: app, env: { ...env, ...extra }, encoding: 'utf8', timeout: 120_000 });

beforeAll(async () => {
  const { stdout } = await run('npm', ['pack', '--pack-destination', work, '--json'], { cwd: root, encoding: 'utf8', env });
  const tarball = join(work, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
  await run(node, [join(root, 'dist/lib/cli/main.js'), 'new', 'my-app'], { cwd: work, env });
  // The starter depends on covet ^version from the registry; here, the tarball just packed.
  await run('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: app, env, encoding: 'utf8', timeout: 240_000 });
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('covet new, from the packed tarball', () => {
  it('writes the starter: app, schema, migration, test, tsconfig, Dockerfile', () => {
    const files = readdirSync(app, { recursive: true, encoding: 'utf8' }).filter((f) => !f.startsWith('node_modules'));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'tsconfig.json', 'Dockerfile', '.dockerignore', 'src/app.ts', 'src/server.ts', 'src/schema.ts', 'test/app.test.ts', 'migrations/20260101000000_initial.sql', 'migrations/sqlite/20260101000000_initial.sql', 'migrations/mysql/20260101000000_initial.sql']));
    // Each migration says which database it was written for; the image ships no tests.
    expect(readFileSync(join(app, 'migrations/mysql/20260101000000_initial.sql'), 'utf8').split('\n', 1)[0]).toBe('-- covet:dialect mysql');
    expect(readFileSync(join(app, 'Dockerfile'), 'utf8')).toMatch(/docker run -e DATABASE_URL=[\s\S]*RUN npm run build && rm -rf dist\/test && npm prune --omit=dev/);
  });

  it("refuses a folder that is not empty", async () => {
    await expect(run(node, [cli, 'new', 'my-app'], { cwd: work, env })).rejects.toMatchObject({ stderr: expect.stringContaining('my-app is not empty') });
  });

  it("the starter's own tests pass (npm test: tsc, then node --test)", async () => {
    const { stdout } = await run('npm', ['test'], { cwd: app, env, encoding: 'utf8', timeout: 120_000 });
    expect(stdout).toMatch(/(#|ℹ) pass 3\b/); // TAP (Node 20) or spec (22+)
    expect(stdout).toMatch(/(#|ℹ) fail 0\b/);
  }, 150_000);

  it('covet routes lists method, pattern, typed params and the built-ins, from the .ts app module', async () => {
    if (!typescriptRuns) {
      await expect(covet(['routes'])).rejects.toMatchObject({ stderr: expect.stringContaining('cannot run TypeScript directly') });
      return;
    }
    const { stdout } = await covet(['routes']);
    expect(stdout.split('\n')[0]).toMatch(/^METHOD\s+PATTERN\s+PARAMS\s+AUTH\s+SUMMARY$/);
    expect(stdout).toMatch(/^PATCH\s+\/todos\/\{id:int\}\s+id:int\s+-/m);
    expect(stdout).toMatch(/^GET\s+\/users\/\{id:int\}\/todos\s+id:int/m);
    expect(stdout).toMatch(/^GET\s+\/openapi\.json/m);
    const json = JSON.parse((await covet(['routes', '--json'])).stdout) as Array<{ method: string; pattern: string }>;
    expect(json.filter((r) => !r.pattern.startsWith('/docs') && !r.pattern.startsWith('/openapi')).map((r) => `${r.method} ${r.pattern}`).sort()).toEqual(
      ['DELETE /todos/{id:int}', 'GET /health', 'GET /ready', 'GET /users/{id:int}/todos', 'PATCH /todos/{id:int}', 'POST /todos', 'POST /users'].sort(),
    );
  }, 60_000);
});

describe('covet migrate and covet dev on the starter', () => {
  it('migrate: up, then generate from a changed .ts schema (a new table referencing todos), up, status', async () => {
    expect((await covet(['migrate', 'up'])).stdout).toContain('applied 1 migration(s)');
    if (!typescriptRuns) {
      // Node 20: migrations run (SQL), but a .ts schema cannot be loaded — the error says what to do.
      expect((await covet(['migrate', 'status'])).stdout).toMatch(/applied .*initial/);
      await expect(covet(['migrate', 'generate', 'x'])).rejects.toMatchObject({ stderr: expect.stringContaining('cannot run TypeScript directly') });
      return;
    }
    // Nothing to generate while the models match the database.
    expect((await covet(['migrate', 'generate', 'nothing'])).stdout).toContain('the database already matches');
    const schemaFile = join(app, 'src/schema.ts');
    const schema = readFileSync(schemaFile, 'utf8');
    writeFileSync(
      schemaFile,
      schema.replace(
        'export const schema = {',
        "export const tags = table('tags', {\n  id: serial().primaryKey(),\n  todoId: integer().notNull().references(() => todos.columns.id),\n  label: text().notNull(),\n});\n\nexport const schema = {",
      ),
    );
    const gen = await covet(['migrate', 'generate', 'add_tags']);
    expect(gen.stdout).toMatch(/wrote migrations\/\d{14}_add_tags\.sql/);
    const file = readdirSync(join(app, 'migrations')).find((f) => f.endsWith('_add_tags.sql'))!;
    const sql = readFileSync(join(app, 'migrations', file), 'utf8');
    expect(sql).toContain('create table "tags"');
    expect(sql).toContain('references "todos" ("id")');
    expect(sql).not.toContain('create table "users"');
    expect((await covet(['migrate', 'up'])).stdout).toContain('applied 1 migration(s)');
    expect((await covet(['migrate', 'status'])).stdout).toMatch(/applied .*add_tags/);
    writeFileSync(schemaFile, schema); // back as it was, for the dev test
  }, 120_000);

  it('dev: serves, reloads on a change without refusing a connection, keeps the data, survives a broken save', async () => {
    if (!typescriptRuns) {
      await expect(covet(['dev'])).rejects.toMatchObject({ stderr: expect.stringMatching(/src\/server\.ts is TypeScript, and Node 20\.\d+\.\d+ cannot run TypeScript directly[\s\S]*covet dev dist\/src\/server\.js/) });
      return;
    }
    const port = await freePort();
    const dbPort = port + 1;
    const child: ChildProcess = spawn(node, [cli, 'dev', '--port', String(port), '--db-port', String(dbPort)], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitFor(() => out.includes('covet dev'), 60_000);
      expect(out).toContain(`➜ app:      ${base}/`);
      expect(out).toContain(`➜ docs:     ${base}/docs`);
      expect(out).toMatch(/database: PGlite in \.covet\/dev-db/);
      expect(out).toContain(`psql 'postgres://postgres@127.0.0.1:${dbPort}/postgres?sslmode=disable'`); // --db-port
      const user = (await (await fetch(`${base}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Ann"}' })).json()) as { id: number };

      // A new route; connections keep being made while the app reloads, and none is refused (the port
      // stays with covet dev). Each request on a new connection: an idle keep-alive connection of the old
      // generation is closed at once when it stops, so a request racing that close could meet it.
      const appFile = join(app, 'src/app.ts');
      const source = readFileSync(appFile, 'utf8');
      let polling = true;
      const failures: string[] = [];
      let served = 0;
      const fresh = () =>
        new Promise<number>((resolve, reject) => {
          http.get(`${base}/health`, { agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          }).on('error', reject);
        });
      const poll = (async () => {
        while (polling) {
          try {
            const status = await fresh();
            if (status === 200) served++;
            else failures.push(String(status));
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      })();
      writeFileSync(appFile, source.replace('export default app;', "app.get('/version', () => ({ version: 2 }));\n\nexport default app;"));
      await waitFor(() => /reloaded in \d+ ms/.test(out), 30_000);
      polling = false;
      await poll;
      expect(failures).toEqual([]);
      expect(served).toBeGreaterThan(0);
      expect(await (await fetch(`${base}/version`)).json()).toEqual({ version: 2 });
      // The data is still there: the database lives in covet dev, not in the reloaded process.
      expect((await fetch(`${base}/users/${user.id}/todos`)).status).toBe(200);

      // A broken save: reported, and the last good version keeps serving.
      writeFileSync(appFile, source.replace('export default app;', "app.get('/version', () => ({ version: 3 }) ;;; )\nexport default app;"));
      await waitFor(() => out.includes('failed to start'), 30_000);
      expect(out).toContain('the previous version keeps serving');
      expect(await (await fetch(`${base}/version`)).json()).toEqual({ version: 2 });
      const reloads = (out.match(/reloaded in/g) ?? []).length;
      writeFileSync(appFile, source);
      await waitFor(() => (out.match(/reloaded in/g) ?? []).length > reloads, 30_000);
      expect((await fetch(`${base}/version`)).status).toBe(404);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
    // Stopped cleanly: the dev database is closed and the URL file for covet migrate is gone.
    expect(readdirSync(join(app, '.covet'))).not.toContain('dev-db.url');
  }, 120_000);
});

describe('the starter on every database, by URL alone (#30.2)', () => {
  it('refuses to start in production without DATABASE_URL, saying what to set', async () => {
    await run('npm', ['run', 'build'], { cwd: app, env, timeout: 120_000 });
    const started = run(node, ['dist/src/server.js'], { cwd: app, env: { ...env, NODE_ENV: 'production' }, encoding: 'utf8', timeout: 60_000 });
    await expect(started).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('no DATABASE_URL with NODE_ENV=production') });
  }, 90_000);

  for (const kind of ['sqlite', 'postgres', 'mariadb'] as const) {
    it(`${kind}: the starter's tests pass on it, its own migrations apply, and the schema then matches`, async () => {
      const made = kind === 'sqlite' ? { url: `sqlite://${join(work, 'starter.db')}`, drop: async () => {} } : kind === 'postgres' ? await testDb('postgres') : await testMysql();
      try {
        const url = made.url!;
        // The driver the database needs, as its error tells a user to add it: mysql2 from the registry; on a
        // Node line without node:sqlite, better-sqlite3 as built for this checkout, linked (a native build
        // needs a download this machine cannot make; npm drops the link at its next install, which is fine).
        if (kind === 'mariadb') await run('npm', ['install', '--no-audit', '--no-fund', 'mysql2'], { cwd: app, env, timeout: 120_000 });
        if (kind === 'sqlite' && !nodeSqlite) symlinkSync(join(root, 'node_modules', 'better-sqlite3'), join(app, 'node_modules', 'better-sqlite3'));
        const { stdout } = await run('npm', ['test'], { cwd: app, env: { ...env, TEST_DATABASE_URL: url }, encoding: 'utf8', timeout: 120_000 }).catch((e: { stdout?: string; stderr?: string }) => {
          throw new Error(`npm test on ${kind} failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
        });
        expect(stdout).toMatch(/(#|ℹ) pass 3\b/);
        expect(stdout).toMatch(/(#|ℹ) fail 0\b/);
        const status = (await covet(['migrate', 'status'], { DATABASE_URL: url })).stdout;
        expect(status).toContain(`migrations: ${kind === 'postgres' ? 'migrations' : `migrations/${kind === 'mariadb' ? 'mysql' : 'sqlite'}`}\n`);
        expect(status).toMatch(/applied \S+\s+20260101000000\s+initial/);
        if (typescriptRuns) expect((await covet(['migrate', 'generate', 'nothing'], { DATABASE_URL: url })).stdout).toContain('the database already matches');
      } finally {
        await made.drop();
      }
    }, 180_000);
  }
});

describe('the starter in production, as its Dockerfile runs it', () => {
  it('an optional peer that is not installed is named with its install command', async () => {
    const script = "import('covet/app').then(({ createApp, metrics }) => metrics(createApp()))";
    await expect(run(node, ['--input-type=module', '-e', script], { cwd: app, env })).rejects.toMatchObject({ stderr: expect.stringContaining('metrics() needs the package "prom-client", which is not installed: run `npm install prom-client`') });
  });

  // No Docker engine here: the Dockerfile's steps are run as it runs them (build, prune the dev
  // dependencies, start dist/src/server.js under NODE_ENV=production, its HEALTHCHECK command, SIGTERM).
  it('builds, runs on production dependencies only, passes its HEALTHCHECK, stops on SIGTERM', async () => {
    const dockerfile = readFileSync(join(app, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:24-slim AS build$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain('RUN npm run build && rm -rf dist/test && npm prune --omit=dev');
    await run('npm', ['run', 'build'], { cwd: app, env, timeout: 120_000 });
    rmSync(join(app, 'dist', 'test'), { recursive: true, force: true });
    await run('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund'], { cwd: app, env, timeout: 120_000 });
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const health = JSON.parse(/^HEALTHCHECK .* CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(cmd).toEqual(['node', 'dist/src/server.js']);
    const port = await freePort();
    // As `docker run -e DATABASE_URL=...` would (the app refuses to start without one): here PGlite in memory, on purpose.
    const server = spawn(node, cmd.slice(1), { cwd: app, env: { ...env, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: 'pglite:memory' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    try {
      await waitFor(() => out.includes('listening on'), 60_000, `the server to start: ${out}`);
      const check = health.slice(1).map((a) => a.replace('127.0.0.1:3000', `127.0.0.1:${port}`));
      await run(node, check, { cwd: app, env }); // exit code 0, or this throws
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 240_000);
});
