/** Polls `cond` (sync or async) every `everyMs` until it holds; fails after `ms` with `what`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition', everyMs = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
