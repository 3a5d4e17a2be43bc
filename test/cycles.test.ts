/**
 * #29: no import cycle anywhere in lib/ (type-only imports included: a type cycle is a knot too), and the
 * app core loads none of the features that attach to it as plugins. Read from the TypeScript sources.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const lib = join(root, 'lib');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Relative imports of a file (`import`, `import type`, `export … from`, `import()`), as files. */
export function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/(?:^|[;\s])(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|^import\s+['"](\.[^'"]+)['"]/gm)) {
    const spec = (m[1] ?? m[2] ?? m[3]!).replace(/\.js$/, '.ts');
    const target = resolve(dirname(file), spec);
    if (existsSync(target)) out.push(target);
  }
  return out;
}

/** Every cycle's files (strongly connected components of more than one file, or a file importing itself). */
export function cycles(files: string[]): string[][] {
  const edges = new Map(files.map((f) => [f, importsOf(f)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  let n = 0;
  const visit = (v: string): void => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(relative(root, w));
      } while (w !== v);
      if (comp.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(comp.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

describe('import graph', () => {
  it('lib/ has no import cycle, type-only imports included', () => {
    expect(cycles(sources(lib))).toEqual([]);
  });

  it('the checker finds a cycle, a type-only one included (so the test above can fail)', () => {
    const fixtures = join(root, 'test/fixtures/cycle');
    expect(cycles(sources(fixtures))).toEqual([['test/fixtures/cycle/a.ts', 'test/fixtures/cycle/b.ts', 'test/fixtures/cycle/c.ts']]);
  });

  it('the app core loads none of the features that are plugins on it', () => {
    const seen = new Set<string>();
    const todo = [join(lib, 'app/app.ts')];
    while (todo.length > 0) {
      const f = todo.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      todo.push(...importsOf(f));
    }
    const core = [...seen].map((f) => relative(lib, f)).sort();
    const features = /^app\/(graphql\/|tracing|versioning|openapi|docs|static|metrics|health|jobs\/|realtime\/|auth\/|cache\/|tenancy\/|audit\/|orm\/|db\/|create-app)/;
    expect(core.filter((f) => features.test(f))).toEqual([]);
    expect(core).toContain('app/route.ts');
  });
});
