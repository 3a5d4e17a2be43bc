/**
 * What `npm install covet` gives a user: the files the package ships (the user guide, no contributor docs, no source maps
 * pointing at sources it does not ship, the vendored Swagger UI with its licence, the CLI), and what it
 * installs (the heavy services are optional peers, nothing runs at install time).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

it('ships the build, the vendored Swagger UI with its licence, the CLI, the user guide — and no maps or contributor docs', async () => {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/lib/index.js', 'dist/lib/cli/main.js', 'dist/vendor/swagger-ui/swagger-ui-bundle.js', 'dist/vendor/swagger-ui/swagger-ui.css', 'dist/vendor/swagger-ui/LICENSE', 'docs/guide/01-getting-started.md', 'docs/guide/07-deployment.md']));
  expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  expect(files.filter((f) => (f.startsWith('docs/') && !f.startsWith('docs/guide/')) || f.startsWith('test/') || f.startsWith('lib/') || f.startsWith('bench/'))).toEqual([]);
  expect(readFileSync(join(root, pkg.bin.covet!), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
});

it('PGlite, ioredis, prom-client and @opentelemetry/api are optional peers; swagger-ui-dist (and its install-time @scarf/scarf) is not installed for users', () => {
  for (const peer of ['@electric-sql/pglite', 'ioredis', 'prom-client', '@opentelemetry/api']) {
    expect(pkg.dependencies[peer], peer).toBeUndefined();
    expect(pkg.peerDependencies[peer], peer).toBeDefined();
    expect(pkg.peerDependenciesMeta[peer]?.optional, peer).toBe(true);
  }
  expect(pkg.dependencies['swagger-ui-dist']).toBeUndefined();
  expect(Object.keys(pkg.dependencies).sort()).toEqual(['@noble/hashes', '@sinclair/typebox', 'pg-protocol', 'pino']);
  expect(pkg.scripts.postinstall).toBeUndefined();
  expect(pkg.scripts.install).toBeUndefined();
});
