import { defineConfig } from 'vitest/config';

// Heavy tests run alone, after everything else: the restarts (each on a PostgreSQL or Redis server of its
// own — no test touches the machine's shared servers' lifecycle) and the 10,000-client cluster broadcast.
const SERIAL = ['test/app/db/restart.test.ts', 'test/app/jobs/restart.test.ts', 'test/app/cache/redis-restart.test.ts', 'test/app/realtime/cluster.test.ts'];

// `COVET_TEST_INCLUDE=a,b` runs only those test globs (scripts/mutate.mjs: a group's own tests).
const only = process.env.COVET_TEST_INCLUDE?.split(',').filter(Boolean);

export default defineConfig({
  // One graphql-js for everyone: Node loads its CommonJS build (package.json "main"), so the app code,
  // graphql-ws and graphql-jit get that one; without this, Vite would give test files its ESM build and
  // graphql-js would refuse their schemas as "from another realm".
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    // dist/ rebuilt first when a source is newer (child processes of some tests run the build).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // expect.poll waits for a condition that holds at once on an idle machine; the bound is for a busy
    // one (CI runs the suite with both cores taken), not a verdict on time.
    expect: { poll: { timeout: 10_000 } },
    // Integration tests bind ports and spawn processes; two workers match the two cores here.
    maxWorkers: 2,
    projects: only !== undefined && only.length > 0 ? [{ extends: true, test: { name: 'main', include: only } }] : [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts', 'fuzz/**/*.test.ts'], exclude: SERIAL, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'serial', include: SERIAL, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
