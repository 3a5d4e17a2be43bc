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
  // `trace`: the tracing seam and the diagnostics channels (lib/trace), which load nothing of ours.
  net: ['net', 'trace'],
  http1: ['http1', 'net', 'types', 'trace'],
  http2: ['http2', 'net', 'http1', 'trace'],
  ws: ['ws', 'net', 'http1', 'trace'],
  router: ['router'],
  // The pure codecs alone (#29): what they load is counted file by file below.
  'http1/parser': ['http1'],
  'http2/hpack': ['http2'],
  'http2/frames': ['http2'],
  'ws/codec': ['ws'],
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
  'app/grpc': ['app', 'grpc', 'router', 'http1', 'http2', 'ws', 'net', 'trace'],
  'app/http3': ['app', 'http3', 'quic', 'tls13', 'router', 'http1', 'http2', 'ws', 'net', 'types', 'trace'],
  // gRPC on our HTTP/2 server: the protocol floors only, not the app.
  grpc: ['grpc', 'http2', 'http1', 'net', 'trace'],
  // QUIC (#32, first stage): the packet layer on node:crypto, the TLS 1.3 key schedule it shares, and net's
  // stream table.
  quic: ['quic', 'tls13', 'net'],
  // HTTP/3 on our QUIC, with HTTP/2's response and request-head rules and HPACK's Huffman code (#32).
  http3: ['http3', 'quic', 'tls13', 'http2', 'http1', 'net', 'types', 'trace'],
  // The typed client runs in browsers: its own files and the router's pattern grammar (counted below).
  client: ['client', 'router'],
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

  it('the tracing seam and the diagnostics channels import nothing of ours (instrumented code pays a check, not a dependency)', () => {
    expect([...closure(join(root, 'dist/lib/trace/hook.js'))].map((f) => relative(root, f))).toEqual(['dist/lib/trace/hook.js']);
    expect([...closure(join(root, 'dist/lib/trace/channels.js'))].map((f) => relative(root, f))).toEqual(['dist/lib/trace/channels.js']);
  });

  it('covet/app/jobs loads none of the HTTP layers', () => {
    const layers = new Set([...closure(join(root, 'dist/lib/app/jobs/index.js'))].map(layerOf));
    expect([...layers].filter((l) => ['http1', 'http2', 'ws', 'router'].includes(l))).toEqual([]);
  });

  // The codec subpaths load their own files and nothing else: not the server, not covet/net (#29; the
  // HTTP/1.1 parser through covet/http1 loads 18 modules).
  const CODECS: Record<string, string[]> = {
    'http1/parser': ['http1/chars', 'http1/errors', 'http1/known-headers', 'http1/parser'],
    'http2/hpack': ['http2/hpack/decoder', 'http2/hpack/dynamic-table', 'http2/hpack/encoder', 'http2/hpack/huffman', 'http2/hpack/index', 'http2/hpack/indexing', 'http2/hpack/tables'],
    'http2/frames': ['http2/errors', 'http2/frame-parser', 'http2/frame-writer', 'http2/frames'],
    'ws/codec': ['ws/codec', 'ws/errors', 'ws/frame-parser', 'ws/frame-writer', 'ws/mask', 'ws/permessage-deflate', 'ws/receiver', 'ws/utf8'],
  };
  for (const [sub, files] of Object.entries(CODECS)) {
    it(`covet/${sub} loads its ${files.length} own modules and no socket`, () => {
      const target = pkg.exports[`./${sub}`]!;
      const loaded = closure(join(root, typeof target === 'string' ? target : target.default!));
      expect([...loaded].map((f) => relative(join(root, 'dist/lib'), f).replace(/\.js$/, '')).sort()).toEqual(files);
      for (const f of loaded) expect(readFileSync(f, 'utf8')).not.toMatch(/node:(net|tls|http|stream|dgram|cluster)/);
    });
  }

  it('covet/client loads its own modules and the pattern grammar, and nothing of Node (it runs in browsers)', () => {
    const loaded = closure(join(root, 'dist/lib/client/index.js'));
    expect([...loaded].map((f) => relative(join(root, 'dist/lib'), f).replace(/\.js$/, '')).sort()).toEqual(['client/client', 'client/cookie-jar', 'client/index', 'client/path', 'router/pattern']);
    for (const f of loaded) expect(readFileSync(f, 'utf8')).not.toMatch(/['"]node:/);
  });

  it('parsers and codecs import nothing that touches a socket', () => {
    const parser = closure(join(root, 'dist/lib/http1/parser.js'));
    expect([...parser].map(layerOf).filter((l) => l !== 'http1')).toEqual([]);
    for (const f of parser) expect(readFileSync(f, 'utf8')).not.toMatch(/node:(net|tls|http)/);
  });
});

describe('the codec subpaths, as their doc comments show them', () => {
  const load = async (sub: string) => {
    const target = pkg.exports[`./${sub}`]!;
    return import(join(root, typeof target === 'string' ? target : target.default!));
  };
  it('covet/http1/parser parses a request and carries its errors', async () => {
    const { Http1Parser, Http1ParseError, HTTP1_ERRORS } = await load('http1/parser');
    const heads: string[] = [];
    const p = new Http1Parser('request', { onHeadersComplete: (h: { method: string; url: string }) => void heads.push(`${h.method} ${h.url}`), onBody() {}, onMessageComplete() {} });
    p.execute(Buffer.from('GET /a HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(heads).toEqual(['GET /a']);
    expect(() => p.execute(Buffer.from('G\x00T / HTTP/1.1\r\n\r\n'))).toThrow(Http1ParseError);
    expect(Object.keys(HTTP1_ERRORS).length).toBeGreaterThan(0);
  });
  it('covet/http2/frames: a PING through the parser; covet/http2/hpack round-trips a field', async () => {
    const { FrameParser, pingFrame, T_PING } = await load('http2/frames');
    const types: number[] = [];
    new FrameParser({ onFrame: (f: { type: number }) => void types.push(f.type), onStreamError() {} }).push(pingFrame(Buffer.alloc(8)));
    expect(types).toEqual([T_PING]);
    const { HpackEncoder, HpackDecoder } = await load('http2/hpack');
    const block = new HpackEncoder().encode([[':path', '/x']]);
    expect(new HpackDecoder().decode(block)).toEqual([[':path', '/x']]);
  });
  it('covet/ws/codec: a text frame through the receiver', async () => {
    const { Receiver, frameBytes, OP_TEXT } = await load('ws/codec');
    const got: string[] = [];
    const rx = new Receiver({ role: 'client' }, { onMessage: (d: Buffer, bin: boolean) => void got.push(`${bin} ${d.toString()}`), onPing() {}, onPong() {}, onClose() {} });
    rx.push(frameBytes(OP_TEXT, Buffer.from('hi')));
    expect(got).toEqual(['false hi']);
  });
});
