/**
 * The user guide (docs/guide/*.md) as users read it: every ```ts block is a whole module importing
 * `covet/...` (resolved to this package's build, as a user's import would be), is type-checked with the
 * project's strict settings, and is run (its `assert`s are the checks) — unless marked `ts compile-only`
 * (blocks that listen on fixed ports or wait for signals). A guide page with a block that no longer
 * compiles or whose asserts fail fails here.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const guide = join(root, 'docs', 'guide');
// Inside the package (so `covet/app` resolves to it by name, through package.json's exports), outside test/.
const out = join(root, '.guide-out');

interface Block {
  page: string;
  index: number;
  run: boolean;
  code: string;
  file: string;
}

const pages = readdirSync(guide).filter((f) => f.endsWith('.md')).sort();
const blocks: Block[] = [];
for (const page of pages) {
  const text = readFileSync(join(guide, page), 'utf8');
  let i = 0;
  for (const m of text.matchAll(/^```ts( compile-only)?\n([\s\S]*?)^```$/gm)) {
    i++;
    blocks.push({ page, index: i, run: m[1] === undefined, code: m[2]!, file: join(out, `${page.replace(/\.md$/, '')}-${i}.ts`) });
  }
}

it('the guide has its pages, each with code', () => {
  expect(pages).toEqual(['01-getting-started.md', '02-routes-and-schemas.md', '03-auth.md', '04-database.md', '05-realtime.md', '06-testing.md', '07-deployment.md', '08-observability.md', '09-grpc.md']);
  for (const p of pages) if (p !== '07-deployment.md') expect(blocks.filter((b) => b.page === p && b.run).length, p).toBeGreaterThan(0);
});

it('every ts block compiles under strict TypeScript', async () => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const b of blocks) writeFileSync(b.file, b.code);
  writeFileSync(join(out, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true, rootDir: '..' }, include: ['*.ts', '../lib/types/*.d.ts'] }));
  const r = await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(out, 'tsconfig.json')], { cwd: root }).then(
    () => '',
    (e: { stdout: string; stderr: string }) => `${e.stdout}${e.stderr}`,
  );
  expect(r).toBe('');
}, 120_000);

describe('every runnable block runs and its asserts hold', () => {
  for (const b of blocks.filter((x) => x.run)) {
    it(`${b.page} block ${b.index}`, async () => {
      mkdirSync(out, { recursive: true });
      writeFileSync(b.file, b.code);
      await import(pathToFileURL(b.file).href);
    }, 60_000);
  }
});
