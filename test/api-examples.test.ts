/**
 * "Every public export with its example" (#29 point 6), held for every subpath: each function and class a
 * subpath's index.ts exports carries an `@example` in the doc comment right above it (the API reference,
 * docs/api, shows them). Interfaces and types are documented by their fields' comments.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
/**
 * Every subpath's folder, from package.json's export map: `./dist/lib/x/index.js` → `lib/x` (its index.ts and every
 * file below it). Subpaths that name a single module (`covet/http1/parser`) export a part of their folder's index.
 */
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> };
const FOLDERS = Object.values(pkg.exports)
  .map((target) => (typeof target === 'string' ? target : target.default))
  .filter((target) => target.endsWith('/index.js'))
  .map((target) => target.replace(/^\.\/dist\//, '').replace(/\/index\.js$/, ''));

/** The value names a module exports: its own declarations, `export { a, b as c } from`, and through `export * from`. */
function publicNames(file: string): Set<string> {
  const source = readFileSync(file, 'utf8');
  const names = new Set<string>();
  for (const m of source.matchAll(/export \* from '(\.[^']+)\.js'/g)) {
    for (const n of publicNames(join(dirname(file), `${m[1]}.ts`))) names.add(n);
  }
  for (const m of source.matchAll(/^export (?:async )?(?:function|class|abstract class|const|let) (\w+)/gm)) names.add(m[1]!);
  for (const m of source.matchAll(/export \{([^}]*)\} from/g)) {
    for (const part of m[1]!.split(',')) {
      const p = part.trim();
      if (p === '' || p.startsWith('type ')) continue;
      names.add(p.split(/\s+as\s+/).pop()!);
    }
  }
  return names;
}

it('every public function and class of the listed subpaths has an @example', () => {
  expect(FOLDERS).toEqual(expect.arrayContaining(['lib', 'lib/net', 'lib/app', 'lib/app/auth', 'lib/quic', 'lib/http3', 'lib/app/http3']));
  const missing: string[] = [];
  for (const folder of FOLDERS) {
    const names = publicNames(join(root, folder, 'index.ts'));
    const files = (readdirSync(join(root, folder), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    for (const file of files) {
      const lines = readFileSync(join(root, folder, file), 'utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        const m = /^export (?:async )?(?:function|class) (\w+)/.exec(lines[i]!);
        if (m === null || !names.has(m[1]!)) continue;
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
