// Mutation testing (#28), run through scripts/mutate.mjs (`npm run mutate [group …]`), which picks a group's
// modules and tests and names the incremental file and reports after the group. Not in CI's time budget.
import { GROUPS } from './scripts/mutation-groups.mjs';

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
  // scripts/mutate.mjs runs one group at a time (its modules against its own tests); a plain `stryker run`
  // takes every group's modules.
  mutate: Object.values(GROUPS).flatMap((g) => g.mutate),
  timeoutMS: 5_000,
  // Stryker would rewrite tsconfig references through TypeScript's JS API, which TypeScript 7 (native)
  // does not have; vitest compiles the sources itself, so there is nothing to rewrite.
  tsconfigFile: 'tsconfig.stryker-none.json',
  disableTypeChecks: false,
};
