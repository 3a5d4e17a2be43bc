/**
 * Pipelining and transactions on one pool (found through the audit log's concurrent-appends test, which
 * lost entries now and then, more often on Node 24): an autocommit query on a new statement waits for
 * its Describe before its Bind/Execute is written; a transaction must not take the session in that gap,
 * or the query is written after BEGIN, runs inside someone else's transaction and is rolled back with it
 * — after its promise resolved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../../lib/app/db/index.js';
import { testDb, type TestDb } from './helpers.js';

describe('a transaction and a query being prepared, on one session', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await testDb('postgres');
    await t.db.query('create table kept (id serial primary key, n int not null)');
  }, 30_000);
  afterAll(() => t.drop());

  it('the query commits on its own, whatever the transaction beside it does', async () => {
    for (let round = 0; round < 40; round++) {
      // One session: the transaction can only run on the session the query is being prepared on.
      const db = createDb({ url: t.url, max: 1 });
      try {
        // Odd rounds: the session is open and idle first (the gap is then the statement's Describe);
        // even rounds: it is still connecting (the gap is the handoff from the pool to the query).
        if (round % 2 === 1) await db.query('select 1');
        const text = `insert into kept (n) values ($1) -- ${round}`; // a statement new to this session
        const inserted = db.query(text, [round]);
        const rolledBack = db.transaction(async (tx) => {
          await tx.query('select 1');
          throw new Error('roll back');
        });
        await inserted;
        await expect(rolledBack).rejects.toThrow('roll back');
        // Seen from another session: the row is there.
        expect((await t.db.query<{ n: number }>('select count(*)::int as n from kept where n = $1', [round])).rows[0]!.n).toBe(1);
      } finally {
        await db.close();
      }
    }
  });
});
