/**
 * The `covet` command's own behaviour (#27.11): `--help` on a command prints that command's help and runs
 * nothing; a one-shot command exits when done even if the user's module left a handle open; the Node 20
 * TypeScript hint names the command that was run and a relative dist/ path.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TypeScriptUnsupportedError } from '../../lib/cli/ts-hooks.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/lib/cli/main.js');

describe('covet command', () => {
  it('`covet dev --help` prints the dev lines and exits 0 without starting a server', async () => {
    const { stdout } = await run(process.execPath, [cli, 'dev', '--help'], { cwd: root, timeout: 20_000 });
    expect(stdout).toMatch(/^ {2}covet dev \[entry\]/);
    expect(stdout).toContain('--port <n>');
    expect(stdout).toContain('--db-port <n>');
    await expect(run(process.execPath, [cli, 'dev', '--db-port', 'x'], { cwd: root, timeout: 20_000 })).rejects.toMatchObject({ stderr: expect.stringContaining('--db-port x: not a port number') });
    expect(stdout).not.toContain('covet routes');
    const all = await run(process.execPath, [cli, '--help'], { cwd: root, timeout: 20_000 });
    expect(all.stdout).toContain('covet routes');
  });

  it('`covet routes` prints and exits even when the module keeps a handle open', async () => {
    const { stdout } = await run(process.execPath, [cli, 'routes', 'test/fixtures/app-with-open-handle.mjs'], { cwd: root, timeout: 20_000 });
    expect(stdout).toMatch(/GET\s+\/ping/);
  });

  it('the TypeScript hint names the command run and a dist/ path relative to the working directory', () => {
    const e = new TypeScriptUnsupportedError(join(process.cwd(), 'src/app.ts'), 'routes');
    expect(e.message).toContain(`covet routes ${join('dist', 'src', 'app.js')}`);
    expect(e.message).toMatch(/^src\/app\.ts is TypeScript/);
  });
});
