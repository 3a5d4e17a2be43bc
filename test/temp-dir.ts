/**
 * Temporary directories for tests (certificates, downloads): made under the system's temporary directory and
 * removed after the test file that made them, so a run leaves none behind. Vitest evaluates this module
 * afresh for each test file (isolation), so the hook below belongs to that file; its workers end without
 * an 'exit' event, so process exit hooks would not do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made = new Set<string>();
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  made.clear();
});

/** A new, empty directory named `<prefix>XXXXXX`, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}
