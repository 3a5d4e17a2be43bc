/**
 * What `covet migrate` tells a user when a migration cannot run (#30.1): the file, relative to where the
 * command runs, and what to do — a file written for another database, a statement that fails (with its
 * line and number) — and exit 1, no stack.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', '..', 'dist', 'lib', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'covet-migrate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const migrate = (args: string[], url: string) =>
  run(process.execPath, [cli, 'migrate', ...args], { cwd: dir, env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8' }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );

describe('covet migrate, when a migration cannot run', () => {
  it('a file written for another database: named relative to here, with the command to run', async () => {
    mkdirSync(join(dir, 'migrations'), { recursive: true });
    writeFileSync(join(dir, 'migrations', '001_init.sql'), '-- covet:dialect postgres\n-- up\ncreate table t (id serial primary key);\n-- down\ndrop table t;\n');
    const r = await migrate(['up'], `sqlite://${join(dir, 'a.db')}`);
    expect(r.code).toBe(1);
    expect(r.out).toContain('migrations: migrations\n');
    expect(r.err).toBe(
      'covet: migrations/001_init.sql was generated for postgres, and this database is sqlite: its SQL would not run here. ' +
        "Generate this database's own migrations (covet migrate generate <name> with DATABASE_URL set to it: they go to migrations/sqlite/), or move the postgres ones to migrations/postgres/.\n",
    );
  });

  it('a statement that fails: its file and line, its number, the database words and the statement', async () => {
    writeFileSync(join(dir, 'migrations', '001_init.sql'), '-- up\ncreate table t (id integer primary key);\n\ninsert into t values (1);\ninsert into nowhere values (2);\n-- down\ndrop table t;\n');
    const r = await migrate(['up'], `sqlite://${join(dir, 'b.db')}`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^covet: migrations\/001_init\.sql:5, up statement 3 of 3 failed: no such table: nowhere\n {2}insert into nowhere values \(2\);\n$/);
    expect((await migrate(['status'], `sqlite://${join(dir, 'b.db')}`)).out).toMatch(/pending\s+001\s+init/); // nothing applied
  });
});
