// Loaded into every bench server (--import): SIGUSR2 runs a full garbage collection (needs --expose-gc),
// so memory benches compare live data rather than garbage not yet collected.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
});
