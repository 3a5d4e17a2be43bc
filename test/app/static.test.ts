import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, parseRange, serveStatic, testClient, type TestClient } from '../../lib/app/index.js';

describe('parseRange', () => {
  it('reads one bytes range, refuses what cannot be satisfied, ignores what it does not understand', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual([0, 9]);
    expect(parseRange('bytes=90-', 100)).toEqual([90, 99]);
    expect(parseRange('bytes=-10', 100)).toEqual([90, 99]);
    expect(parseRange('bytes=50-500', 100)).toEqual([50, 99]);
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(parseRange('items=0-1', 100)).toBeUndefined();
    expect(parseRange('bytes=9-3', 100)).toBeUndefined();
  });
});

describe('serveStatic', () => {
  let dir: string;
  let client: TestClient;
  const text = 'hello static world\n'.repeat(100);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'covet-static-'));
    const pub = path.join(dir, 'public');
    mkdirSync(path.join(pub, 'docs'), { recursive: true });
    writeFileSync(path.join(pub, 'a.txt'), text);
    writeFileSync(path.join(pub, 'app.js'), 'console.log(1)'.repeat(50));
    writeFileSync(path.join(pub, 'app.js.br'), zlib.brotliCompressSync('console.log(1)'.repeat(50)));
    writeFileSync(path.join(pub, 'docs', 'index.html'), '<h1>docs</h1>');
    writeFileSync(path.join(pub, '.env'), 'SECRET=1');
    writeFileSync(path.join(dir, 'outside.txt'), 'outside');
    symlinkSync(path.join(dir, 'outside.txt'), path.join(pub, 'escape.txt'));
    const app = createApp();
    app.get('/static/{path:path}', serveStatic(pub, { maxAge: 60 }));
    client = await testClient(app);
  });
  afterAll(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a file with type, length, validators and cache policy, and 304s on revalidation', async () => {
    const r = await client.request('/static/a.txt');
    expect([r.status, r.text(), r.headers['content-type'], r.headers['content-length'], r.headers['cache-control'], r.headers['accept-ranges']]).toEqual([
      200, text, 'text/plain; charset=utf-8', String(text.length), 'public, max-age=60', 'bytes',
    ]);
    expect((await client.request('/static/a.txt', { headers: { 'if-none-match': r.headers.etag! } })).status).toBe(304);
    expect((await client.request('/static/a.txt', { headers: { 'if-modified-since': r.headers['last-modified']! } })).status).toBe(304);
    expect((await client.request('/static/a.txt', { headers: { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' } })).status).toBe(200);
    expect((await client.request('/static/docs')).text()).toBe('<h1>docs</h1>');
    expect((await client.h2('/static/a.txt')).text()).toBe(text);
  });

  it('answers byte ranges with 206, 416 when unsatisfiable, and the whole file when If-Range no longer holds', async () => {
    const part = await client.request('/static/a.txt', { headers: { range: 'bytes=6-11' } });
    expect([part.status, part.text(), part.headers['content-range']]).toEqual([206, 'static', `bytes 6-11/${text.length}`]);
    const tail = await client.request('/static/a.txt', { headers: { range: 'bytes=-6' } });
    expect(tail.text()).toBe('world\n');
    const bad = await client.request('/static/a.txt', { headers: { range: `bytes=${text.length}-` } });
    expect([bad.status, bad.headers['content-range']]).toEqual([416, `bytes */${text.length}`]);
    const stale = await client.request('/static/a.txt', { headers: { range: 'bytes=0-1', 'if-range': 'Thu, 01 Jan 1970 00:00:00 GMT' } });
    expect([stale.status, stale.body.length]).toEqual([200, text.length]);
  });

  it('serves a precompressed sibling when accepted, the original otherwise', async () => {
    const br = await client.request('/static/app.js', { headers: { 'accept-encoding': 'br' } });
    expect([br.headers['content-encoding'], br.headers.vary, br.headers['content-type']]).toEqual(['br', 'Accept-Encoding', 'text/javascript; charset=utf-8']);
    expect(br.text()).toBe('console.log(1)'.repeat(50)); // fetch decoded it
    const plain = await client.request('/static/app.js', { headers: { 'accept-encoding': 'identity' } });
    expect([plain.headers['content-encoding'], plain.text()]).toEqual([undefined, 'console.log(1)'.repeat(50)]);
  });

  it('never leaves the root: dot segments, encoded traversal, dotfiles and escaping symlinks are 404', async () => {
    const port = Number(new URL(client.url).port);
    for (const target of ['/static/../outside.txt', '/static/%2e%2e/outside.txt', '/static/docs/..%2f..%2foutside.txt', '/static/.env', '/static/escape.txt', '/static/nope.txt']) {
      // Raw bytes on the wire: a client library would normalise the dot segments away.
      const status = await new Promise<number>((resolve, reject) => {
        const so = net.connect(port, '127.0.0.1', () => so.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        let buf = '';
        so.on('data', (d) => (buf += d.toString('latin1')));
        so.on('end', () => resolve(Number(buf.slice(9, 12))));
        so.on('error', reject);
      });
      expect([target, status]).toEqual([target, 404]);
    }
  });
});
