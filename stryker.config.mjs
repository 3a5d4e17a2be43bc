// Mutation testing (#28), run through scripts/mutate.mjs (`npm run mutate [group …]`), which picks a group's
// modules and tests and names the incremental file and reports after the group. Not in CI's time budget.
const group = process.env.COVET_MUTATE_GROUP ? `-${process.env.COVET_MUTATE_GROUP}` : '';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts', related: true },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  incremental: true,
  incrementalFile: `reports/stryker-incremental${group}.json`,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/mutation${group}.json` },
  htmlReporter: { fileName: `reports/mutation/mutation${group}.html` },
  thresholds: { high: 90, low: 80, break: null },
  ignorePatterns: ['dist', 'bench', 'reports', 'coverage', '.node-lines', 'conformance', 'wasm/build'],
  // scripts/mutate.mjs runs one group at a time (its modules against its own tests); this list is every
  // module, for a plain `stryker run`.
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
  timeoutMS: 5_000,
  // Stryker would rewrite tsconfig references through TypeScript's JS API, which TypeScript 7 (native)
  // does not have; vitest compiles the sources itself, so there is nothing to rewrite.
  tsconfigFile: 'tsconfig.stryker-none.json',
  disableTypeChecks: false,
};
