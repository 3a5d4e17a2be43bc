/** What the restart tests share: a producer as an app would be, enqueuing until told to stop. */

/**
 * Enqueues `{ n }` for n = 0, 1, ... with the key `n:<n>`, trying an enqueue again while it fails (the
 * server is restarting); `enqueued` lists the n whose enqueue was answered.
 */
export function producer(enqueue: (n: number, key: string) => Promise<unknown>): { enqueued: number[]; stop(): Promise<void> } {
  const enqueued: number[] = [];
  let running = true;
  let next = 0;
  const done = (async () => {
    while (running) {
      const n = next++;
      for (;;) {
        try {
          await enqueue(n, `n:${n}`);
          enqueued.push(n);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    enqueued,
    stop: async () => {
      running = false;
      await done;
    },
  };
}
