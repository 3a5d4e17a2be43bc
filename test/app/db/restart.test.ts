/**
 * A PostgreSQL restart under load. It stops the server every other test uses, so it runs alone, after
 * all other test files (its own project in vitest.config.ts, sequence.groupOrder 1).
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, createDb, PgError, PoolTimeoutError } from '../../../lib/app/db/index.js';
import { testDb, type TestDb } from './helpers.js';
import { waitFor } from '../../helpers/wait-for.js';


describe('PostgreSQL restart', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await testDb('postgres');
  }, 30_000);
  afterAll(async () => {
    await t.drop();
  });

  it('survives a PostgreSQL restart during a load: queries after it succeed, none hangs', async () => {
    const cluster = execFileSync('sh', ['-c', 'ls /etc/postgresql'], { encoding: 'utf8' }).trim().split('\n')[0];
    const db = createDb({ url: t.url, max: 4, acquireTimeoutMs: 5000 });
    let ok = 0;
    let failed = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        await Promise.all(
          Array.from({ length: 8 }, () =>
            db.query('select 1').then(
              () => ok++,
              (e: unknown) => {
                failed++;
                expect(e instanceof ConnectionError || e instanceof PgError || e instanceof PoolTimeoutError).toBe(true);
              },
            ),
          ),
        );
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 300));
      const before = ok;
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster!, 'main', 'restart', '-m', 'fast'], { stdio: 'ignore' });
      await waitFor(async () => (await db.query('select 1').then(() => true, () => false)), 15_000);
      const after = ok;
      await new Promise((r) => setTimeout(r, 300));
      running = false;
      await load;
      expect(before).toBeGreaterThan(0);
      expect(ok).toBeGreaterThan(after); // the load goes on after the restart
      // Queries in flight at the restart (if any) failed with a typed error, checked above; none hung.
      expect(failed).toBeLessThan(ok);
    } finally {
      running = false;
      await db.close();
    }
  }, 30_000);
});
