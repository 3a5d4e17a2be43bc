/**
 * New PGlite databases from a saved copy of an initialised data directory (#30.5): the first one makes the
 * copy before anything is written to it, the next ones load it (empty, working) — in memory, or into a data
 * directory not yet initialised, where what is written stays — a copy that does not load is made again, and
 * COVET_PGLITE_CACHE=0 neither reads nor writes one.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../../lib/app/db/pglite-cache.js';

const saved = { tmp: process.env.TMPDIR, flag: process.env.COVET_PGLITE_CACHE };
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'covet-pglite-cache-'));
  process.env.TMPDIR = dir; // os.tmpdir() reads it at each call
  delete process.env.COVET_PGLITE_CACHE;
});
afterAll(() => {
  if (saved.tmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = saved.tmp;
  if (saved.flag === undefined) delete process.env.COVET_PGLITE_CACHE;
  else process.env.COVET_PGLITE_CACHE = saved.flag;
  rmSync(dir, { recursive: true, force: true });
});
const copies = () => readdirSync(dir).filter((f) => /^covet-pglite-.*\.tar$/.test(f));

describe('the saved copy of an initialised PGlite', () => {
  it('made by the first database, before its writes; loaded by the next, empty and working; made again when broken', async () => {
    const first = await openPglite(PGlite);
    expect(first.fromCopy).toBe(false);
    expect(copies()).toHaveLength(1);
    await first.pglite.exec('create table written_after (x int)');
    await first.pglite.close();

    const second = await openPglite(PGlite);
    expect(second.fromCopy).toBe(true);
    expect((await second.pglite.query<{ n: number }>("select count(*)::int as n from pg_tables where tablename = 'written_after'")).rows).toEqual([{ n: 0 }]);
    await second.pglite.exec('create table t (x int); insert into t values (1)');
    expect((await second.pglite.query<{ x: number }>('select x from t')).rows).toEqual([{ x: 1 }]);
    await second.pglite.close();

    writeFileSync(join(dir, copies()[0]!), 'not a tar file');
    const third = await openPglite(PGlite);
    expect(third.fromCopy).toBe(false);
    expect((await third.pglite.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await third.pglite.close();
    const fourth = await openPglite(PGlite); // the copy was made again
    expect(fourth.fromCopy).toBe(true);
    await fourth.pglite.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
  }, 240_000);

  it('a data directory not yet initialised starts from the copy and keeps what is written; an initialised one opens as it is', async () => {
    expect(copies()).toHaveLength(1); // made above
    const data = join(dir, 'data');
    const fresh = await openPglite(PGlite, data);
    expect(fresh.fromCopy).toBe(true);
    await fresh.pglite.exec('create table kept (x int); insert into kept values (7)');
    await fresh.pglite.close();
    const again = await openPglite(PGlite, data);
    expect(again.fromCopy).toBe(false);
    expect((await again.pglite.query<{ x: number }>('select x from kept')).rows).toEqual([{ x: 7 }]);
    await again.pglite.close();
  }, 120_000);

  it('COVET_PGLITE_CACHE=0: initdb each time, no copy read or written', async () => {
    for (const f of copies()) rmSync(join(dir, f));
    process.env.COVET_PGLITE_CACHE = '0';
    try {
      const db = await openPglite(PGlite);
      expect(db.fromCopy).toBe(false);
      await db.pglite.close();
      expect(copies()).toEqual([]);
    } finally {
      delete process.env.COVET_PGLITE_CACHE;
    }
  }, 120_000);
});
