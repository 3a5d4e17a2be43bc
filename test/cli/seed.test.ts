/**
 * `covet db seed` (#30.11): the seed module's seed(db) run against DATABASE_URL, on the database it names;
 * what it says when there is no module, no seed function, or an unknown db command.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../lib/app/db/index.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'lib', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'covet-seed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const covet = (args: string[], url: string) =>
  run(process.execPath, [cli, ...args], { cwd: dir, env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8' }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );

describe('covet db seed', () => {
  it('runs src/seed.js against DATABASE_URL, with the ORM and a factory', async () => {
    const url = `sqlite://${join(dir, 'app.db')}`;
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    const orm = JSON.stringify(join(root, 'dist/lib/app/orm/index.js'));
    writeFileSync(
      join(dir, 'seed.js'),
      `import { createOrm, factory, serial, table, text, createSchemaSql } from ${orm};
const users = table('users', { id: serial().primaryKey(), name: text().notNull() });
export async function seed(db) {
  await db.exec(createSchemaSql([users], db.dialect).up.join('\\n'));
  await factory(createOrm(db, { tables: { users } }).users, (n) => ({ name: 'user ' + n })).createMany(3);
}
`,
    );
    const r = await covet(['db', 'seed'], url);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toBe(`database: ${url}\nseeded from seed.js\n`);
    const db = openDatabase({ url });
    expect((await db.query<{ name: string }>('select name from users order by id')).rows.map((u) => u.name)).toEqual(['user 1', 'user 2', 'user 3']);
    await db.close();
  });

  it('says what is missing: the module, its seed function, the command', async () => {
    const url = `sqlite://${join(dir, 'other.db')}`;
    writeFileSync(join(dir, 'empty.js'), 'export const x = 1;\n');
    expect((await covet(['db', 'seed', 'empty.js'], url)).err).toBe('covet: empty.js exports no seed function: export async function seed(db) { ... }\n');
    expect((await covet(['db', 'seed', 'nowhere.js'], url)).err).toBe(`covet: nowhere.js: no such file (from ${dir})\n`);
    expect((await covet(['db', 'grow'], url))).toMatchObject({ code: 1, err: 'covet: unknown db command "grow"\nusage: covet db seed [seed module]\n' });
  });
});
