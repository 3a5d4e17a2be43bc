#!/usr/bin/env node
// Prints line and branch coverage per layer from coverage/coverage-summary.json (written by
// `npm run coverage`), overall last. `--check` exits 1 when overall lines < 90 %, branches < 85 % or a
// layer's lines < 85 % (#28's bar).
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const summary = JSON.parse(readFileSync(join(root, 'coverage', 'coverage-summary.json'), 'utf8'));
const layers = new Map();
const add = (name, m) => {
  const l = layers.get(name) ?? { lines: [0, 0], branches: [0, 0], files: 0 };
  l.lines[0] += m.lines.covered;
  l.lines[1] += m.lines.total;
  l.branches[0] += m.branches.covered;
  l.branches[1] += m.branches.total;
  l.files++;
  layers.set(name, l);
};
for (const [file, m] of Object.entries(summary)) {
  if (file === 'total') continue;
  const rel = relative(root, file).split('/');
  // lib/<layer>, and lib/app/<service> for the app's services (a folder), lib/app for the core.
  const layer = rel[1] === 'app' && rel.length > 3 ? `lib/app/${rel[2]}` : `lib/${rel[1]}`;
  add(layer, m);
}
const pct = ([c, t]) => (t === 0 ? 100 : (100 * c) / t);
const rows = [...layers.entries()].sort(([a], [b]) => a.localeCompare(b));
const total = summary.total;
const line = (name, lines, branches, files) => `| ${name} | ${files} | ${lines.toFixed(1)} % | ${branches.toFixed(1)} % |`;
console.log('| layer | files | lines | branches |\n|---|---|---|---|');
for (const [name, l] of rows) console.log(line(name, pct(l.lines), pct(l.branches), l.files));
console.log(line('**overall**', total.lines.pct, total.branches.pct, rows.reduce((n, [, l]) => n + l.files, 0)));
if (process.argv.includes('--check')) {
  const low = rows.filter(([, l]) => pct(l.lines) < 85).map(([n]) => n);
  const fail = total.lines.pct < 90 || total.branches.pct < 85 || low.length > 0;
  if (fail) {
    console.error(`coverage below the bar: lines ${total.lines.pct} % (90), branches ${total.branches.pct} % (85)${low.length > 0 ? `; layers under 85 % of lines: ${low.join(', ')}` : ''}`);
    process.exit(1);
  }
}
