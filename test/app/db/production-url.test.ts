/**
 * No silent in-memory production (#30.4): with NODE_ENV=production and no DATABASE_URL, opening the
 * database refuses, saying what to set; `pglite:memory` (or `pglite://memory`) says "in memory" on purpose.
 */
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, openDatabase } from '../../../lib/app/db/index.js';

const saved = { env: process.env.NODE_ENV, url: process.env.DATABASE_URL };
beforeEach(() => {
  delete process.env.DATABASE_URL;
});
afterEach(() => {
  process.env.NODE_ENV = saved.env;
  if (saved.url === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = saved.url;
});

describe('the embedded default in production', () => {
  it('refuses with NODE_ENV=production and no DATABASE_URL, naming what to set', () => {
    process.env.NODE_ENV = 'production';
    for (const open of [() => openDatabase(), () => createDb(), () => openDatabase({})]) {
      expect(open).toThrow(
        'no DATABASE_URL with NODE_ENV=production: the embedded database would keep its data in memory and lose it at every restart. ' +
          'Set DATABASE_URL (postgres://user:pass@host/db, mysql://..., sqlite:///path/app.db, pglite:///path/dir), or DATABASE_URL=pglite:memory to mean it.',
      );
    }
  });

  it('takes a URL that says in memory, or any other URL, or a PGlite instance given', async () => {
    process.env.NODE_ENV = 'production';
    for (const url of ['pglite:memory', 'pglite://memory', 'postgres://u@127.0.0.1:1/x', 'sqlite::memory:']) {
      const db = openDatabase({ url });
      expect(db.kind).toBe(url.startsWith('pglite') ? 'pglite' : url.startsWith('postgres') ? 'postgres' : 'sqlite');
      await db.close();
    }
    process.env.DATABASE_URL = 'pglite:memory';
    const fromEnv = openDatabase();
    expect(fromEnv.kind).toBe('pglite');
    // In memory indeed: it answers, and no data directory named after the URL's tail appears.
    expect((await fromEnv.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    expect([existsSync('memory'), existsSync('ory')]).toEqual([false, false]);
    await fromEnv.close();
  }, 60_000);

  it('elsewhere than production, no URL is the in-memory default', async () => {
    for (const env of ['development', 'test', undefined]) {
      if (env === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = env;
      const db = openDatabase();
      expect(db.kind).toBe('pglite');
      await db.close();
    }
  });
});
