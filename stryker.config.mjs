// Mutation testing (#28): `npm run mutate` (all the modules below; incremental: a re-run tests only the
// mutants whose code or tests changed), `npm run mutate -- --mutate lib/router/radix-tree.ts` for one.
// Not in CI's time budget. StrykerJS needs Node ≥ 22: the script runs it on Node 24 (scripts/node-line.sh).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts', related: true },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  thresholds: { high: 90, low: 80, break: null },
  ignorePatterns: ['dist', 'bench', 'reports', 'coverage', '.node-lines', 'conformance', 'wasm/build'],
  mutate: [
    'lib/http1/parser.ts',
    'lib/http2/session.ts',
    'lib/http2/frame-parser.ts',
    'lib/http2/hpack/*.ts',
    'lib/ws/frame-parser.ts',
    'lib/ws/receiver.ts',
    'lib/ws/permessage-deflate.ts',
    'lib/ws/utf8.ts',
    'lib/router/*.ts',
    'lib/app/auth/jwt.ts',
    'lib/app/auth/csrf.ts',
    'lib/app/cookies.ts',
    'lib/app/serializer.ts',
    'lib/app/db/sql.ts',
    'lib/app/orm/where.ts',
    'lib/app/tenancy/tenancy.ts',
    '!lib/http2/hpack/tables.ts',
  ],
  timeoutMS: 20_000,
  // Stryker would rewrite tsconfig references through TypeScript's JS API, which TypeScript 7 (native)
  // does not have; vitest compiles the sources itself, so there is nothing to rewrite.
  tsconfigFile: 'tsconfig.stryker-none.json',
  disableTypeChecks: false,
};
