import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'fuzz/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests bind ports and spawn processes; two workers match the two cores here.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
