/**
 * New PGlite databases from a saved copy of an initialised data directory (#30.5): the first one makes the
 * copy before anything is written to it, the next ones load it (empty, working) — in memory, or into a data
 * directory not yet initialised, where what is written stays — a copy that does not load is made again, and
 * COVET_PGLITE_CACHE=0 neither reads nor writes one.
 */
import { chownSync, existsSync, mkdtempSync, statSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import * as pgliteModule from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../lib/app/db/index.js';
import { openPglite, parsePgliteUrl, PGLITE_START_SETTINGS } from '../../../lib/app/db/pglite-cache.js';

/** The settings of a PGlite that matter for its start. */
async function memory(pglite: { query<R>(q: string): Promise<{ rows: R[] }> }) {
  return (await pglite.query<{ sb: string; mc: string }>("select current_setting('shared_buffers') as sb, current_setting('max_connections') as mc")).rows[0];
}

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
const copies = () => readdirSync(dir).filter((f) => /^covet-pglite-.*\.copy$/.test(f));

/** The one saved copy: its file, bytes, where its header ends, and the header. */
function theCopy() {
  expect(copies()).toHaveLength(1);
  const file = join(dir, copies()[0]!);
  const bytes = readFileSync(file);
  const end = bytes.indexOf(10, 20);
  const header = JSON.parse(bytes.subarray(20, end).toString()) as { dirs: string[]; files: Array<[string, number, number]> };
  return { file, bytes, end, header };
}

describe('the saved copy of an initialised PGlite', () => {
  it('made by the first database, before its writes; loaded by the next, empty and working; made again when broken', async () => {
    const user = String(userInfo().uid);
    writeFileSync(join(dir, `covet-pglite-${user}-1-2.tar`), 'a tarball an earlier version saved');
    writeFileSync(join(dir, `covet-pglite-${user}-1-2.copy`), 'another build');
    const first = await openPglite(pgliteModule);
    expect(first.fromCopy).toBe(false);
    expect(copies().filter((f) => !f.endsWith('-1-2.copy'))).toHaveLength(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tar'))).toEqual([]); // the old format's files removed
    expect(existsSync(join(dir, `covet-pglite-${user}-1-2.copy`))).toBe(true); // another build's copy stays
    rmSync(join(dir, `covet-pglite-${user}-1-2.copy`));
    await first.pglite.exec('create table written_after (x int)');
    await first.pglite.close();

    const second = await openPglite(pgliteModule);
    expect(second.fromCopy).toBe(true);
    expect((await second.pglite.query<{ n: number }>("select count(*)::int as n from pg_tables where tablename = 'written_after'")).rows).toEqual([{ n: 0 }]);
    await second.pglite.exec('create table t (x int); insert into t values (1)');
    expect((await second.pglite.query<{ x: number }>('select x from t')).rows).toEqual([{ x: 1 }]);
    await second.pglite.close();

    writeFileSync(join(dir, copies()[0]!), 'not a tar file');
    const third = await openPglite(pgliteModule);
    expect(third.fromCopy).toBe(false);
    expect((await third.pglite.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await third.pglite.close();
    const fourth = await openPglite(pgliteModule); // the copy was made again
    expect(fourth.fromCopy).toBe(true);
    await fourth.pglite.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
  }, 240_000);

  it('a data directory not yet initialised starts from the copy and keeps what is written; an initialised one opens as it is', async () => {
    expect(copies()).toHaveLength(1); // made above
    const data = join(dir, 'data');
    const fresh = await openPglite(pgliteModule, data);
    expect(fresh.fromCopy).toBe(true);
    await fresh.pglite.exec('create table kept (x int); insert into kept values (7)');
    await fresh.pglite.close();
    const again = await openPglite(pgliteModule, data);
    expect(again.fromCopy).toBe(false);
    expect((await again.pglite.query<{ x: number }>('select x from kept')).rows).toEqual([{ x: 7 }]);
    await again.pglite.close();
  }, 120_000);

  it('COVET_PGLITE_CACHE=0: initdb each time, no copy read or written', async () => {
    for (const f of copies()) rmSync(join(dir, f));
    process.env.COVET_PGLITE_CACHE = '0';
    try {
      const db = await openPglite(pgliteModule);
      expect(db.fromCopy).toBe(false);
      await db.pglite.close();
      expect(copies()).toEqual([]);
    } finally {
      delete process.env.COVET_PGLITE_CACHE;
    }
  }, 120_000);
});

describe('server settings', () => {
  it('every new database starts with the small buffer pool, from the copy and by initdb; given settings replace it', async () => {
    expect(PGLITE_START_SETTINGS).toEqual({ shared_buffers: '16MB', max_connections: '8' });
    const made = await openPglite(pgliteModule); // no copy (removed above): initdb, then the copy
    expect(made.fromCopy).toBe(false);
    expect(await memory(made.pglite)).toEqual({ sb: '16MB', mc: '8' });
    await made.pglite.close();
    const copied = await openPglite(pgliteModule);
    expect(copied.fromCopy).toBe(true);
    expect(await memory(copied.pglite)).toEqual({ sb: '16MB', mc: '8' });
    await copied.pglite.close();
    const given = await openPglite(pgliteModule, undefined, { shared_buffers: '24MB', work_mem: '8MB' });
    expect(await memory(given.pglite)).toEqual({ sb: '24MB', mc: '8' });
    expect((await given.pglite.query<{ w: string }>("select current_setting('work_mem') as w")).rows).toEqual([{ w: '8MB' }]);
    await given.pglite.close();
    // An existing data directory opens with them too.
    const data = join(dir, 'data-settings');
    await (await openPglite(pgliteModule, data)).pglite.close();
    const reopened = await openPglite(pgliteModule, data, { max_connections: '12' });
    expect(reopened.fromCopy).toBe(false);
    expect(await memory(reopened.pglite)).toEqual({ sb: '16MB', mc: '12' });
    await reopened.pglite.close();
  }, 240_000);

  it('a pglite: URL carries settings as a query; a name that is not one is refused with the URL', async () => {
    expect(parsePgliteUrl('pglite://memory')).toEqual({ dir: undefined, settings: {} });
    expect(parsePgliteUrl('pglite:memory?shared_buffers=64MB')).toEqual({ dir: undefined, settings: { shared_buffers: '64MB' } });
    expect(parsePgliteUrl('pglite:///var/db?shared_buffers=64MB&max_connections=4')).toEqual({ dir: '/var/db', settings: { shared_buffers: '64MB', max_connections: '4' } });
    expect(parsePgliteUrl('pglite:./data')).toEqual({ dir: './data', settings: {} });
    expect(() => parsePgliteUrl('pglite://memory?shared_buffers=')).toThrow('pglite://memory?shared_buffers=: "shared_buffers=" is not a PostgreSQL setting');
    expect(() => parsePgliteUrl('pglite://memory?-c=x')).toThrow('"-c=x" is not a PostgreSQL setting');
    const db = openDatabase({ url: 'pglite://memory?shared_buffers=32MB' });
    try {
      expect((await db.query<{ sb: string }>("select current_setting('shared_buffers') as sb")).rows).toEqual([{ sb: '32MB' }]);
    } finally {
      await db.close();
    }
  }, 120_000);

  it('a setting PostgreSQL refuses fails the open and leaves a good copy in place', async () => {
    expect(copies()).toHaveLength(1);
    const before = readFileSync(join(dir, copies()[0]!));
    await expect(openPglite(pgliteModule, undefined, { shared_buffers: 'lots' })).rejects.toThrow('PGlite did not start: invalid value for parameter "shared_buffers": "lots"');
    expect(copies()).toHaveLength(1);
    expect(readFileSync(join(dir, copies()[0]!)).equals(before)).toBe(true);
    const next = await openPglite(pgliteModule);
    expect(next.fromCopy).toBe(true);
    await next.pglite.close();
  }, 120_000);

  it('the copy leaves out the unused zeros of the WAL segment; a database from it writes past them, into new segments; a copy cut short is made again', async () => {
    const { file, bytes, header } = theCopy();
    expect(bytes.subarray(0, 20).toString()).toBe('covet-pglite-copy 1\n');
    const wal = header.files.filter(([path]) => path.startsWith('pg_wal/0'));
    expect(wal).toHaveLength(1);
    expect(wal[0]![1]).toBe(16 * 1024 * 1024);
    expect(wal[0]![2]).toBeLessThan(wal[0]![1]);
    expect(header.files.at(-1)![0]).toBe('PG_VERSION');
    expect(header.files.some(([path]) => path === 'postmaster.pid')).toBe(false);

    const db = await openPglite(pgliteModule);
    expect(db.fromCopy).toBe(true);
    await db.pglite.exec("create table big (x int, pad text); insert into big select g, repeat('x', 100) from generate_series(1, 200000) g; checkpoint");
    expect((await db.pglite.query<{ n: number }>('select count(*)::int as n from big')).rows).toEqual([{ n: 200000 }]);
    expect((await db.pglite.query<{ segs: number }>('select count(*)::int as segs from pg_ls_waldir()')).rows[0]!.segs).toBeGreaterThan(1);
    await db.pglite.close();

    writeFileSync(file, bytes.subarray(0, bytes.length - 1)); // one byte short
    const again = await openPglite(pgliteModule);
    expect(again.fromCopy).toBe(false);
    await again.pglite.close();
    expect(readFileSync(file).length).toBeGreaterThan(bytes.length - 4096); // made again, whole
    const last = await openPglite(pgliteModule);
    expect(last.fromCopy).toBe(true);
    await last.pglite.close();
  }, 240_000);

  it('a copy naming a path outside the data directory, or made by another user, is not used', async () => {
    const { file, bytes: good, end, header } = theCopy();
    header.files[0]![0] = '../escaped';
    writeFileSync(file, Buffer.concat([Buffer.from(`covet-pglite-copy 1\n${JSON.stringify(header)}\n`), good.subarray(end + 1)]));
    const data = join(dir, 'data-escape');
    const opened = await openPglite(pgliteModule, data);
    expect(opened.fromCopy).toBe(false);
    await opened.pglite.close();
    expect(existsSync(join(dir, 'escaped'))).toBe(false);
    expect(readFileSync(file).toString('latin1', 0, 4096)).not.toContain('../'); // made again
    if (process.getuid?.() === 0) {
      // Only root can give the file to another user; CI runs as root.
      chownSync(file, 12345, 12345);
      const foreign = await openPglite(pgliteModule);
      expect(foreign.fromCopy).toBe(false);
      await foreign.pglite.close();
      expect(statSync(file).uid).toBe(0); // replaced by this user's own
    }
  }, 240_000);
});
