/**
 * Migrations per database (#30.1): `generate` writes where the runner reads for that URL's database and
 * records the database in the file; the runner refuses a file written for another database before running
 * anything, naming the file and what to do; a failing statement is reported with its file, line and number.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationError, Migrator, generateMigration, migrationsFolder, serial, table, text } from '../../../lib/app/orm/index.js';
import { testDb, testSqlite, type TestDb, type TestSqlite } from '../db/helpers.js';

const notes = table('dialect_notes', { id: serial().primaryKey(), body: text().notNull() });

let dir: string;
let pg: TestDb;
let lite: TestSqlite;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'covet-dialect-'));
  pg = await testDb('postgres');
  lite = testSqlite();
}, 30_000);
afterAll(async () => {
  await pg.drop();
  await lite.drop();
  await rm(dir, { recursive: true, force: true });
});

const failure = async (p: Promise<unknown>): Promise<MigrationError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MigrationError);
    return e as MigrationError;
  }
  throw new Error('expected a MigrationError');
};

describe('generate and run, per database', () => {
  it('a sqlite migration in the top folder; then PostgreSQL refuses it, and generates its own into migrations/postgres/', async () => {
    const m = join(dir, 'a');
    const first = await generateMigration(lite.db, [notes], m, 'init');
    expect(first).toMatch(/a\/\d{14}_init\.sql$/);
    expect((await readFile(first!, 'utf8')).split('\n').slice(0, 2)).toEqual(['-- covet:dialect sqlite', '-- up']);
    expect(await new Migrator(lite.db, m).up()).toHaveLength(1);

    const refused = await failure(new Migrator(pg.db, m).up());
    expect(refused.file).toBe(first);
    expect(refused.message).toBe(
      `${first} was generated for sqlite, and this database is postgres: its SQL would not run here. ` +
        `Generate this database's own migrations (covet migrate generate <name> with DATABASE_URL set to it: they go to ${m}/postgres/), or move the sqlite ones to ${m}/sqlite/.`,
    );
    await failure(new Migrator(pg.db, m).status()); // refused before anything, status too

    const own = await generateMigration(pg.db, [notes], m, 'init');
    expect(own).toMatch(/a\/postgres\/\d{14}_init\.sql$/);
    expect((await readFile(own!, 'utf8')).startsWith('-- covet:dialect postgres\n-- up\n')).toBe(true);
    expect(await migrationsFolder(m, 'postgres')).toBe(join(m, 'postgres'));
    expect(await migrationsFolder(m, 'sqlite')).toBe(m);
    expect(await new Migrator(pg.db, m).up()).toHaveLength(1);
    // The sqlite database still reads the top folder, and is up to date.
    expect(await new Migrator(lite.db, m).up()).toEqual([]);
    await new Migrator(pg.db, m).down();
  });

  it("with a database's own folder present, generate writes there", async () => {
    const m = join(dir, 'b');
    await mkdir(join(m, 'sqlite'), { recursive: true });
    const path = await generateMigration(pg.db, [table('dialect_b', { id: serial().primaryKey() })], m, 'b');
    expect(path).toMatch(/b\/\d{14}_b\.sql$/); // postgres has no folder of its own: the top one
    await mkdir(join(m, 'postgres'));
    const again = await generateMigration(pg.db, [table('dialect_b2', { id: serial().primaryKey() })], m, 'b2');
    expect(again).toMatch(/b\/postgres\/\d{14}_b2\.sql$/);
    expect(await new Migrator(pg.db, m).folder()).toBe(join(m, 'postgres'));
  });

  it('files without a dialect line run anywhere; an unknown dialect is refused by name', async () => {
    const m = join(dir, 'c');
    await mkdir(m);
    await writeFile(join(m, '001_plain.sql'), '-- up\ncreate table dialect_plain (id int);\n-- down\ndrop table dialect_plain;\n');
    expect(await new Migrator(lite.db, m).up()).toEqual(['001']);
    await writeFile(join(m, '002_odd.sql'), '-- covet:dialect oracle\n-- up\nselect 1;\n');
    await expect(new Migrator(lite.db, m).up()).rejects.toThrow('002_odd.sql: "-- covet:dialect oracle" names no database covet speaks (postgres, sqlite, mysql)');
  });
});

describe('a failing statement is named', () => {
  it('its file, line, number, the database words and the statement; the statements before it are undone', async () => {
    const m = join(dir, 'd');
    await mkdir(m);
    const file = join(m, '001_bad.sql');
    await writeFile(file, "-- covet:dialect postgres\n-- up\n\ncreate table dialect_bad (id int);\n-- a comment\ninsert into dialect_bad values (1);\nselect strftime('%s', 'now');\n\n-- down\ndrop table dialect_bad;\n");
    const e = await failure(new Migrator(pg.db, m).up());
    expect([e.file, e.line, e.statement]).toEqual([file, 7, 3]);
    expect(e.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:7, up statement 3 of 3 failed: .*strftime.*\\n  select strftime\\('%s', 'now'\\);$`));
    const { rows } = await pg.db.query<{ t: string | null }>("select to_regclass('dialect_bad')::text as t");
    expect(rows[0]!.t).toBeNull();
    expect((await new Migrator(pg.db, m).status()).map((s) => s.appliedAt)).toEqual([null]);
  });

  it('on SQLite too, and in a down section', async () => {
    const m = join(dir, 'e');
    await mkdir(m);
    const file = join(m, '001_down.sql');
    await writeFile(file, '-- up\ncreate table dialect_e (id integer);\n-- down\ndrop table dialect_e;\ndrop table dialect_missing;\n');
    const own = testSqlite(); // a database of its own: the last migration applied is this one
    await new Migrator(own.db, m).up();
    const e = await failure(new Migrator(own.db, m).down());
    await own.drop();
    expect([e.line, e.statement]).toEqual([5, 2]);
    expect(e.message).toContain(`${file}:5, down statement 2 of 2 failed: `);
    expect(e.message).toContain('dialect_missing');
    expect((await readdir(m)).length).toBe(1);
  });
});
