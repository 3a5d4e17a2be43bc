/**
 * A nested transaction as every SQL database here spells it: SAVEPOINT, RELEASE on success, ROLLBACK TO
 * and RELEASE on throw (the rolled-back savepoint stays on the stack until released). `run` sends one
 * statement on the session holding the transaction; `live` says whether that session can still take one.
 */
export async function savepoint<T>(run: (statement: string) => unknown, name: string, fn: () => Promise<T>, live: () => boolean = () => true): Promise<T> {
  await run(`savepoint ${name}`);
  try {
    const out = await fn();
    await run(`release savepoint ${name}`);
    return out;
  } catch (err) {
    if (live()) {
      await run(`rollback to savepoint ${name}`);
      await run(`release savepoint ${name}`);
    }
    throw err;
  }
}
