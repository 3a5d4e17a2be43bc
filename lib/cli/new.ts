/**
 * `covet new <dir>`: a typed starter that runs as it is — an app with a database table and CRUD routes,
 * its migration, a test, tsconfig, a Dockerfile — and that the CLI's own test builds, tests and serves.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './load-app.js';
import { boolean, createSchemaSql, integer, migrationText, now, serial, table, text, timestamptz, type Table } from '../app/orm/index.js';
import type { DialectName } from '../app/orm/dialect.js';

/**
 * The starter's tables as its src/schema.ts declares them: its first migration is written from these, one
 * per database (test/cli/starter.test.ts checks, on each, that the schema then matches: nothing to generate).
 */
function starterTables(): Table[] {
  const users = table('users', { id: serial().primaryKey(), name: text().notNull(), createdAt: timestamptz().notNull().default(now()) });
  const todos = table('todos', {
    id: serial().primaryKey(),
    ownerId: integer().notNull().references(() => users.columns.id, { onDelete: 'cascade' }),
    title: text().notNull(),
    done: boolean().notNull().default(false),
    createdAt: timestamptz().notNull().default(now()),
  });
  return [users, todos];
}

/** The first migration for each database: PostgreSQL's (PGlite's) at the top, the others in their folders. */
function initialMigrations(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [d, folder] of [['postgres', 'migrations'], ['sqlite', 'migrations/sqlite'], ['mysql', 'migrations/mysql']] as Array<[DialectName, string]>) {
    out[`${folder}/20260101000000_initial.sql`] = migrationText(createSchemaSql(starterTables(), d), d);
  }
  return out;
}

const ownVersion = (): string => (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The starter's files, by path. */
function starterFiles(name: string, covetVersion = ownVersion()): Record<string, string> {
  return {
    'package.json': `${JSON.stringify(
      {
        name,
        version: '0.1.0',
        private: true,
        type: 'module',
        engines: { node: '>=22.15' },
        covet: { entry: 'src/server.ts', app: 'src/app.ts', schema: 'src/schema.ts' },
        scripts: {
          dev: 'covet dev',
          routes: 'covet routes',
          migrate: 'covet migrate',
          seed: 'covet db seed',
          build: 'tsc',
          start: 'node dist/src/server.js',
          // --liftoff-only: see the README below (on Node 24 each PGlite test process otherwise waits ~1.7 s to exit).
          test: 'tsc && node --liftoff-only --test dist/test/*.test.js',
        },
        dependencies: { covet: `^${covetVersion}`, '@electric-sql/pglite': '^0.5.16' },
        devDependencies: { '@types/node': '^24.0.0', typescript: '^7.0.2' },
      },
      null,
      2,
    )}\n`,
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'es2023',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          // Imports name the .ts file (Node runs it as it is under covet dev); tsc rewrites them to .js.
          rewriteRelativeImportExtensions: true,
          erasableSyntaxOnly: true,
          verbatimModuleSyntax: true,
          skipLibCheck: true,
          outDir: 'dist',
          rootDir: '.',
        },
        include: ['src', 'test'],
      },
      null,
      2,
    )}\n`,
    'src/schema.ts': `// The tables (covet/app/orm). After changing them: npm run migrate generate <name>, then npm run migrate up.
import { belongsTo, boolean, hasMany, integer, now, serial, table, text, timestamptz } from 'covet/app/orm';

export const users = table('users', {
  id: serial().primaryKey(),
  name: text().notNull(),
  createdAt: timestamptz().notNull().default(now()),
});

export const todos = table('todos', {
  id: serial().primaryKey(),
  ownerId: integer().notNull().references(() => users.columns.id, { onDelete: 'cascade' }),
  title: text().notNull(),
  done: boolean().notNull().default(false),
  createdAt: timestamptz().notNull().default(now()),
});

export const schema = {
  tables: { users, todos },
  relations: {
    users: { todos: hasMany(() => todos, 'ownerId') },
    todos: { owner: belongsTo(() => users, 'ownerId') },
  },
};
`,
    'src/seed.ts': `// Demo data: \`npm run seed\` (covet db seed) writes it into the dev database, or DATABASE_URL's.
import type { Database } from 'covet/app/db';
import { createOrm, factory } from 'covet/app/orm';
import { schema } from './schema.ts';

export async function seed(db: Database): Promise<void> {
  const orm = createOrm(db, schema);
  const users = factory(orm.users, (n) => ({ name: \`User \${n}\` }));
  // A todo's owner is made for it unless one is given.
  const todos = factory(orm.todos, (n) => ({ title: \`Todo \${n}\`, ownerId: async () => (await users.create()).id }));
  const ann = await users.create({ name: 'Ann' });
  await todos.createMany(3, (i) => ({ ownerId: ann.id, done: i === 0 }));
  await todos.create(); // with an owner of its own
}
`,
    'src/app.ts': `// The app: routes and their schemas. Importing it does not listen (src/server.ts does), so tests and
// \`covet routes\` can load it.
import { createApp, health, HttpError, Type } from 'covet/app';
import { openDatabase } from 'covet/app/db';
import { createOrm } from 'covet/app/orm';
import { schema } from './schema.ts';

/**
 * DATABASE_URL picks the database: postgres://..., mysql://... (MariaDB too), sqlite:///path.db; without
 * one, PGlite — under covet dev the dev database in .covet/dev-db. In production DATABASE_URL is required.
 */
export const db = openDatabase();
const orm = createOrm(db, schema);

export const app = createApp({
  dev: process.env.NODE_ENV === 'development',
  openapi: { info: { title: '${name}', version: '0.1.0' } }, // /openapi.json and /docs
});

health(app, { checks: { database: () => db.ping(1000) } }); // /health and /ready

const User = Type.Object({ id: Type.Integer(), name: Type.String(), createdAt: Type.String({ format: 'date-time' }) }, { $id: 'User' });
const Todo = Type.Object({ id: Type.Integer(), ownerId: Type.Integer(), title: Type.String(), done: Type.Boolean(), createdAt: Type.String({ format: 'date-time' }) }, { $id: 'Todo' });

app.post('/users', { schema: { body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }), response: { 201: User } } }, async (ctx) => {
  const [user] = await orm.users.insert(ctx.body);
  return user;
});

app.get('/users/{id:int}/todos', { schema: { query: Type.Object({ done: Type.Optional(Type.Boolean()) }), response: { 200: Type.Array(Todo) } } }, async (ctx) => {
  if ((await orm.users.find(ctx.params.id)) === undefined) throw new HttpError(404, { detail: \`user \${ctx.params.id} does not exist\` });
  return orm.todos.findMany({ where: { ownerId: ctx.params.id, ...(ctx.query.done === undefined ? {} : { done: ctx.query.done }) }, orderBy: { id: 'asc' } });
});

app.post('/todos', { schema: { body: Type.Object({ ownerId: Type.Integer(), title: Type.String({ minLength: 1, maxLength: 200 }) }), response: { 201: Todo } } }, async (ctx) => {
  const [todo] = await orm.todos.insert(ctx.body); // an ownerId with no user: the database says 23503, answered 422
  return todo;
});

app.patch('/todos/{id:int}', { schema: { body: Type.Object({ title: Type.Optional(Type.String({ minLength: 1 })), done: Type.Optional(Type.Boolean()) }), response: { 200: Todo } } }, async (ctx) => {
  const [todo] = await orm.todos.update({ id: ctx.params.id }, ctx.body);
  if (todo === undefined) throw new HttpError(404, { detail: \`todo \${ctx.params.id} does not exist\` });
  return todo;
});

app.delete('/todos/{id:int}', { status: 204 }, async (ctx) => {
  if ((await orm.todos.delete({ id: ctx.params.id })).length === 0) throw new HttpError(404, { detail: \`todo \${ctx.params.id} does not exist\` });
});

export default app;
`,
    'src/server.ts': `// Starts the app: migrations, then listen; SIGTERM/SIGINT close gracefully. \`npm run dev\` runs this
// file and reloads it on every change; \`npm start\` runs the build.
import { join } from 'node:path';
import { Migrator } from 'covet/app/orm';
import { app, db } from './app.ts';

const migrator = new Migrator(db, join(process.cwd(), 'migrations'));
migrator.log = (m) => console.log(m);
await migrator.up();

const port = Number(process.env.PORT ?? 3000);
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' });
app.closeOnSignals({ beforeExit: () => db.close() });
if (process.env.COVET_DEV_ENTRY === undefined) console.log(\`listening on http://localhost:\${port} (docs: /docs)\`);

export { app };
`,
    ...initialMigrations(),
    'test/app.test.ts': `// Requests through the whole app, without a socket (app.inject), on a fresh in-memory database —
// or on TEST_DATABASE_URL (postgres://, mysql://, sqlite:) to test against another one.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createOrm, factory, Migrator } from 'covet/app/orm';
import { schema } from '../src/schema.ts';

process.env.DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'pglite://memory';
const { app, db } = await import('../src/app.ts');

before(() => new Migrator(db, join(process.cwd(), 'migrations')).up());
after(() => db.close());

test('a user gets a todo, marks it done, and lists it', async () => {
  const user = await app.inject({ method: 'POST', url: '/users', body: { name: 'Ann' } });
  assert.equal(user.status, 201);
  const { id: ownerId } = user.json() as { id: number };
  const todo = await app.inject({ method: 'POST', url: '/todos', body: { ownerId, title: 'write tests' } });
  assert.equal(todo.status, 201);
  const { id } = todo.json() as { id: number };
  assert.equal((await app.inject({ method: 'PATCH', url: \`/todos/\${id}\`, body: { done: true } })).status, 200);
  const done = await app.inject({ method: 'GET', url: \`/users/\${ownerId}/todos?done=true\` });
  assert.deepEqual((done.json() as Array<{ title: string }>).map((t) => t.title), ['write tests']);
});

test("a user's todos, filtered by done (rows made by factories)", async () => {
  const orm = createOrm(db, schema);
  const users = factory(orm.users, (n) => ({ name: \`user \${n}\` }));
  const todos = factory(orm.todos, (n) => ({ title: \`todo \${n}\`, ownerId: async () => (await users.create()).id }));
  const owner = await users.create();
  await todos.createMany(3, (i) => ({ ownerId: owner.id, done: i !== 1 }));
  const res = await app.inject({ method: 'GET', url: \`/users/\${owner.id}/todos?done=true\` });
  assert.deepEqual((res.json() as Array<{ title: string }>).map((t) => t.title), ['todo 1', 'todo 3']);
});

test('bad input is answered with the field that is wrong', async () => {
  const res = await app.inject({ method: 'POST', url: '/todos', body: { ownerId: 'one', title: '' } });
  assert.equal(res.status, 422);
  assert.deepEqual((res.json() as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort(), ['/body/ownerId', '/body/title']);
  assert.equal((await app.inject({ method: 'POST', url: '/todos', body: { ownerId: 999, title: 'orphan' } })).status, 422);
});
`,
    Dockerfile: `# Build with the dev dependencies, run with the production ones only, as a non-root user.
# Run it with the database's URL: docker run -e DATABASE_URL=postgres://user:pass@host/db ... — without one
# the app refuses to start (it would otherwise keep its data in memory and lose it at every restart).
FROM node:24-slim AS build
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build && rm -rf dist/test && npm prune --omit=dev

FROM node:24-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules node_modules
COPY --from=build --chown=node:node /app/dist dist
COPY --from=build --chown=node:node /app/migrations migrations
COPY --from=build --chown=node:node /app/package.json package.json
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s CMD ["node", "-e", "fetch('http://127.0.0.1:3000/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/server.js"]
`,
    '.dockerignore': 'node_modules\ndist\n.covet\n.git\n',
    '.gitignore': 'node_modules\ndist\n.covet\n',
    'README.md': `# ${name}

A [covet](https://www.npmjs.com/package/covet) app.

    npm install
    npm run dev        # http://localhost:3000/docs — reloads on save; data kept in .covet/dev-db
    npm test
    npm run routes     # every route: method, pattern, params, auth
    npm run migrate status
    npm run seed       # demo data from src/seed.ts (covet db seed)

Change the tables in src/schema.ts, then \`npm run migrate generate <name>\` and \`npm run migrate up\`.
In production set DATABASE_URL (postgres://..., mysql://..., sqlite:///path.db): the app refuses to start
without one. \`TEST_DATABASE_URL=... npm test\` runs the tests on another database than in-memory PGlite.

\`npm test\` runs node with \`--liftoff-only\`: V8 then runs PGlite's WebAssembly with its baseline compiler
only. Without it, Node 24 keeps each test process alive ~1.7 s after the tests end, finishing optimized code
nothing will run (nodejs/node#36616); a test run is too short for that code to pay off.
`,
  };
}

/** Writes the starter into `dir` (which must be empty or absent) and says what to do next. */
export function scaffold(dir: string, log: (s: string) => void, covetVersion?: string): void {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0) throw new CliError(`${dir} is not empty: covet new writes a new project into an empty or new folder`);
  const name = basename(target).toLowerCase().replace(/[^a-z0-9-~._]+/g, '-') || 'covet-app';
  const files = starterFiles(name, covetVersion);
  for (const [rel, text] of Object.entries(files)) {
    const file = join(target, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  log(`created ${dir}: ${Object.keys(files).join(', ')}\n\nnext:\n  cd ${dir}\n  npm install\n  npm run dev      # then open http://localhost:3000/docs\n  npm test`);
}
