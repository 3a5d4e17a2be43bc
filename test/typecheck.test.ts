import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

// The whole project — lib, examples, tests and the type-level tests in test/types — must compile under
// strict TypeScript: a type assertion that fails, or an @ts-expect-error that meets no error, fails here.
it('tsc --noEmit passes on the project, type-level tests included', async () => {
  const r = await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--noEmit'], { cwd: root }).then(
    () => ({ code: 0, out: '' }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: `${e.stdout}${e.stderr}` }),
  );
  expect(r.out).toBe('');
  expect(r.code).toBe(0);
}, 120_000);
