/**
 * "Every public export with its example" (#29 point 6), held for the subpaths listed here: each function and
 * class their index.ts exports carries an `@example` in the doc comment right above it (the API reference,
 * docs/api, shows them). A subpath joins the list once its exports all have one; it never leaves.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
/** A subpath's folder (its index.ts and every file below it). */
const FOLDERS = ['lib/app/auth', 'lib/client', 'lib/http3', 'lib/app/http3'];

/** The names an index re-exports (`export { a, b as c, type T } from './x.js'` and `export * from`). */
function publicNames(folder: string): Set<string> | 'all' {
  const index = readFileSync(join(root, folder, 'index.ts'), 'utf8');
  if (/export \* from/.test(index)) return 'all';
  const names = new Set<string>();
  for (const m of index.matchAll(/export \{([^}]*)\} from/g)) {
    for (const part of m[1]!.split(',')) {
      const p = part.trim();
      if (p === '' || p.startsWith('type ')) continue;
      names.add(p.split(/\s+as\s+/).pop()!);
    }
  }
  return names;
}

it('every public function and class of the listed subpaths has an @example', () => {
  const missing: string[] = [];
  for (const folder of FOLDERS) {
    const names = publicNames(folder);
    const files = (readdirSync(join(root, folder), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    for (const file of files) {
      const lines = readFileSync(join(root, folder, file), 'utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        const m = /^export (?:async )?(?:function|class) (\w+)/.exec(lines[i]!);
        if (m === null || (names !== 'all' && !names.has(m[1]!))) continue;
        // Overloads: the doc comment sits above the first signature.
        let j = i - 1;
        while (j >= 0 && lines[j]!.startsWith(`export function ${m[1]}`)) j--;
        if (!lines[j]!.trim().endsWith('*/')) {
          missing.push(`${folder}/${file}: ${m[1]} (no doc comment)`);
          continue;
        }
        let doc = '';
        for (; j >= 0 && !lines[j]!.trim().startsWith('/**'); j--) doc = `${lines[j]}\n${doc}`;
        if (!`${lines[j]}\n${doc}`.includes('@example')) missing.push(`${folder}/${file}: ${m[1]}`);
      }
    }
  }
  expect(missing).toEqual([]);
});
