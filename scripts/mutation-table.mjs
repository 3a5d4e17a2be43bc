#!/usr/bin/env node
// Prints the per-module mutation table from every group's report (reports/mutation/mutation-<group>.json,
// written by `npm run mutate`, else the committed reports/stryker-incremental-<group>.json): mutants, killed, survived, timed out, no coverage, score. Score as StrykerJS
// counts it, (killed + timed out) / (killed + timed out + survived + no coverage), with one correction:
// StrykerJS (10.1, vitest runner) now and then reports a mutant "Survived" after running none of its tests
// (testsCompleted 0) — each such mutant checked by hand was killed by its tests. Those are counted apart
// ("no test ran") and left out of the score; `npm run mutate <group> -- --mutate file:line-line` runs one alone.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GROUPS } from './mutation-groups.mjs';

/** Whether `file` is one of a group's modules (its `mutate` globs: `*`, `**`, `!` to leave out). */
function owns(group, file) {
  const g = GROUPS[group];
  if (g === undefined) return true;
  const re = (glob) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\0').replace(/\*/g, '[^/]*').replace(/\0/g, '.*')}$`);
  return g.mutate.some((m) => !m.startsWith('!') && re(m).test(file)) && !g.mutate.some((m) => m.startsWith('!') && re(m.slice(1)).test(file));
}

const root = join(import.meta.dirname, '..');
const dir = join(root, 'reports/mutation');
const rows = new Map();
// A group's full report when this checkout ran it; else its incremental file (committed, the same mutants
// and results), so a fresh clone prints the whole table without running anything.
const sources = new Map();
for (const group of Object.keys(GROUPS)) {
  const full = join(dir, `mutation-${group}.json`);
  const incremental = join(root, 'reports', `stryker-incremental-${group}.json`);
  if (existsSync(full)) sources.set(group, full);
  else if (existsSync(incremental)) sources.set(group, incremental);
}
for (const f of existsSync(dir) ? readdirSync(dir).filter((n) => /^mutation-.+\.json$/.test(n)) : []) if (!sources.has(f.slice(9, -5))) sources.set(f.slice(9, -5), join(dir, f));
for (const [group, path] of sources) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  // A committed incremental file: when it was committed (a checkout's mtime says nothing).
  let when = statSync(path).mtime.toISOString().slice(0, 16).replace('T', ' ');
  if (path.includes('stryker-incremental-')) {
    try {
      const d = execFileSync('git', ['log', '-1', '--format=%cI', '--', relative(root, path)], { cwd: root, encoding: 'utf8' }).trim();
      if (d !== '') when = `${new Date(d).toISOString().slice(0, 16).replace('T', ' ')} (committed)`;
    } catch {
      // not a git checkout: the file's time
    }
  }
  for (const [file, { mutants }] of Object.entries(report.files)) {
    // A report also carries results of modules that moved to another group (kept by the incremental file).
    if (!owns(group, file)) continue;
    const c = { Killed: 0, Survived: 0, Timeout: 0, NoCoverage: 0, Ignored: 0, CompileError: 0, RuntimeError: 0 };
    c.NotRun = 0;
    for (const m of mutants) {
      const status = m.status === 'Survived' && m.testsCompleted === 0 ? 'NotRun' : m.status;
      c[status] = (c[status] ?? 0) + 1;
    }
    const detected = c.Killed + c.Timeout;
    const valid = detected + c.Survived + c.NoCoverage;
    const name = relative(root, join(root, file));
    // A module in two groups' reports: the newer report wins.
    if (rows.has(name) && rows.get(name).when > when) continue;
    rows.set(name, { name, total: valid + c.NotRun, ...c, score: valid === 0 ? 100 : (100 * detected) / valid, when, group });
  }
}
if (rows.size === 0) {
  console.log('no mutation reports yet: npm run mutate [group]');
  process.exit(0);
}
console.log('| module | group | mutants | killed | survived | timed out | no coverage | no test ran | ignored | score | run (UTC) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of [...rows.values()].sort((a, b) => a.name.localeCompare(b.name))) {
  console.log(`| ${r.name} | ${r.group} | ${r.total} | ${r.Killed} | ${r.Survived} | ${r.Timeout} | ${r.NoCoverage} | ${r.NotRun} | ${r.Ignored} | ${r.score >= 90 ? `**${r.score.toFixed(1)} %**` : `${r.score.toFixed(1)} %`} | ${r.when} |`);
}
const low = [...rows.values()].filter((r) => r.score < 90);
if (low.length > 0) console.log(`\nunder 90 %: ${low.map((r) => r.name).join(', ')}`);
