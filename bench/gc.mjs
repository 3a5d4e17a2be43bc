// Loaded into every bench server (--import): SIGUSR2 runs a full garbage collection (needs --expose-gc),
// so memory benches compare live data rather than garbage not yet collected.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
});
// SIGUSR1: the same, then the JS heap and external memory in use, as a line on stdout (`memory …`).
process.on('SIGUSR1', () => {
  globalThis.gc?.();
  const u = process.memoryUsage();
  process.stdout.write(`memory ${JSON.stringify({ heapUsed: u.heapUsed, external: u.external })}\n`);
});
