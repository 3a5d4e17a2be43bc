#!/usr/bin/env node
// `npm run mutate [group …] [-- stryker options]`: mutation testing (#28), one group at a time. A group is a
// set of modules and the tests that own them — a layer's mutants are run against that layer's tests, not the
// whole suite (a mutant in module-level code runs every test that loads the module: against the whole suite
// the router alone took 7 hours). Each group keeps its own incremental file, so a re-run after a change
// tests only the mutants whose code or tests changed. At the end the per-module table of every group run
// so far is printed (scripts/mutation-table.mjs). StrykerJS needs Node ≥ 22: it runs on Node 24.
//
//   npm run mutate                      every group
//   npm run mutate router http1         those groups
//   npm run mutate router -- --force    every mutant again (static mutants keep stale results otherwise)
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { GROUPS } from './mutation-groups.mjs';

const root = join(import.meta.dirname, '..');


const argv = process.argv.slice(2);
// Group names come first; from the first option on, everything is StrykerJS's (npm eats the `--` of
// `npm run mutate ws -- --mutate lib/ws/receiver.ts:90-95`, so an option's value must not be read as a group).
let cut = argv.indexOf('--');
if (cut < 0) cut = argv.findIndex((a) => a.startsWith('-'));
const names = cut < 0 ? argv : argv.slice(0, cut);
const extra = cut < 0 ? [] : argv.slice(argv[cut] === '--' ? cut + 1 : cut);
const unknown = names.filter((n) => !(n in GROUPS));
if (unknown.length > 0) {
  console.error(`mutate: unknown group ${unknown.join(', ')}; groups: ${Object.keys(GROUPS).join(', ')}`);
  process.exit(2);
}
const node24 = spawnSync(join(root, 'scripts/node-line.sh'), ['24'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).stdout.trim();
if (node24 === '') {
  console.error('mutate: could not install Node 24 (scripts/node-line.sh 24)');
  process.exit(1);
}
const PATH = `${dirname(node24)}:${process.env.PATH}`;
let failed = 0;
for (const name of names.length > 0 ? names : Object.keys(GROUPS)) {
  const g = GROUPS[name];
  console.log(`\n── mutate ${name}: ${g.mutate.join(' ')} against ${g.tests.join(' ')}`);
  const args = ['node_modules/@stryker-mutator/core/bin/stryker.js', 'run', '--mutate', g.mutate.join(','), ...extra];
  // Property suites with fewer runs and a fixed seed: every mutant meets the same inputs, so a kill is
  // reproducible, and a property test does not cost seconds per mutant.
  const env = { FUZZ_RUNS: '60', FUZZ_SEED: '1', ...process.env, PATH, COVET_MUTATE_GROUP: name, COVET_TEST_INCLUDE: g.tests.join(',') };
  const r = spawnSync(node24, args, { cwd: root, env, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`mutate ${name}: stryker exited ${r.status ?? r.signal}`);
    failed++;
  }
}
spawnSync(process.execPath, [join(root, 'scripts/mutation-table.mjs')], { cwd: root, stdio: 'inherit' });
process.exit(failed > 0 ? 1 : 0);
