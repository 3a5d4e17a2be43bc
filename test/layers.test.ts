/**
 * Design §1: a layer imports only from layers below it, and importing one subpath loads nothing above.
 * Checked on the built output: the import closure of each `exports` entry, followed file by file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { default?: string } | string> };

/** Layers each layer may load (itself included). */
const ALLOWED: Record<string, string[]> = {
  net: ['net'],
  http1: ['http1', 'net', 'types'],
  http2: ['http2', 'net', 'http1'],
  ws: ['ws', 'net', 'http1'],
  router: ['router'],
  // `trace`: the tracing seam (lib/trace/hook.ts), which imports nothing; every instrumented layer may load it.
  app: ['app', 'router', 'http1', 'http2', 'ws', 'net', 'trace'],
  // The database service is usable without the HTTP app: it loads none of it.
  'app/db': ['app/db', 'net', 'trace'],
  'app/orm': ['app/orm', 'app/db', 'net', 'trace'],
  'app/auth': ['app', 'router', 'http1', 'http2', 'ws', 'net', 'trace'],
  'app/cache': ['app', 'router', 'http1', 'http2', 'ws', 'net', 'trace'],
  'app/realtime': ['app', 'router', 'http1', 'http2', 'ws', 'net', 'trace'],
  // Jobs run on a database or Redis only: no HTTP app is loaded (of the app, its string formats, the
  // logger and the Redis guard).
  'app/jobs': ['app/jobs', 'app/db', 'net', 'app', 'trace'],
  'app/audit': ['app/audit', 'app/db', 'net', 'trace'],
  'app/tenancy': ['app', 'router', 'http1', 'http2', 'ws', 'net', 'trace'],
  'app/graphql': ['app', 'router', 'http1', 'http2', 'ws', 'net', 'trace'],
};

/** `l` is `a` or inside it (`app/db` is inside `app`). */
const within = (l: string, a: string) => l === a || l.startsWith(`${a}/`);

function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      todo.push(resolve(dirname(file), spec));
    }
  }
  return seen;
}

/** `http1`, `app`, or `app/db` for a service folder under app. */
const layerOf = (file: string) => {
  const parts = relative(join(root, 'dist/lib'), file).split('/');
  return (parts[0] === 'app' && parts.length > 2 ? `app/${parts[1]}` : parts[0]!).replace(/\.js$/, '');
};

describe('layering', () => {
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (sub === '.' || sub === './package.json') continue;
    const layer = sub.slice(2);
    const file = join(root, typeof target === 'string' ? target : target.default!);
    it(`covet/${layer} loads only ${ALLOWED[layer]!.join(', ')}`, () => {
      expect(existsSync(file)).toBe(true);
      const layers = new Set([...closure(file)].map(layerOf));
      expect([...layers].filter((l) => !ALLOWED[layer]!.some((a) => within(l, a)))).toEqual([]);
    });
  }

  it('the tracing seam imports nothing (instrumented code pays a null check, not a dependency)', () => {
    expect([...closure(join(root, 'dist/lib/trace/hook.js'))].map((f) => relative(root, f))).toEqual(['dist/lib/trace/hook.js']);
  });

  it('covet/app/jobs loads none of the HTTP layers', () => {
    const layers = new Set([...closure(join(root, 'dist/lib/app/jobs/index.js'))].map(layerOf));
    expect([...layers].filter((l) => ['http1', 'http2', 'ws', 'router'].includes(l))).toEqual([]);
  });

  it('parsers and codecs import nothing that touches a socket', () => {
    const parser = closure(join(root, 'dist/lib/http1/parser.js'));
    expect([...parser].map(layerOf).filter((l) => l !== 'http1')).toEqual([]);
    for (const f of parser) expect(readFileSync(f, 'utf8')).not.toMatch(/node:(net|tls|http)/);
  });
});
