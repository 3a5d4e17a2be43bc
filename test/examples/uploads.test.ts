/**
 * examples/uploads.ts: uploads streamed to disk with their hash, downloads with ranges and validators, a
 * too-large upload refused with nothing left behind — through fetch and through curl.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testClient, type TestClient } from '../../lib/app/index.js';
import { uploadsApp } from '../../examples/uploads.js';

const dir = mkdtempSync(join(tmpdir(), 'covet-uploads-'));
let client: TestClient;
const content = randomBytes(3 * 1024 * 1024 + 17);
const sha = createHash('sha256').update(content).digest('hex');

beforeAll(async () => {
  client = await testClient(await uploadsApp({ dir, maxFileSize: 4 * 1024 * 1024 }));
});
afterAll(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Info {
  id: string;
  filename: string;
  size: number;
  sha256: string;
  mimeType: string;
  note?: string;
}

async function upload(bytes: Buffer, filename: string, note?: string): Promise<Response> {
  const form = new FormData();
  form.set('file', new Blob([bytes], { type: 'image/png' }), filename);
  if (note !== undefined) form.set('note', note);
  return fetch(`${client.url}/files`, { method: 'POST', body: form });
}

it('stores an upload with its size and SHA-256, and serves it back whole', async () => {
  const res = await upload(content, 'holiday.png', 'beach');
  expect(res.status).toBe(201);
  const info = (await res.json()) as Info;
  expect(info).toMatchObject({ filename: 'holiday.png', size: content.length, sha256: sha, mimeType: 'image/png', note: 'beach' });
  expect(res.headers.get('location')).toBe(`/files/${info.id}`);
  const got = await fetch(`${client.url}/files/${info.id}/content`);
  expect(got.status).toBe(200);
  expect(got.headers.get('content-type')).toBe('image/png');
  expect(got.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''holiday.png");
  expect(Buffer.from(await got.arrayBuffer()).equals(content)).toBe(true);
});

it('answers byte ranges (206), unsatisfiable ones (416), conditional requests (304) and If-Range', async () => {
  const info = (await (await upload(content, 'range.bin')).json()) as Info;
  const url = `${client.url}/files/${info.id}/content`;
  const part = await fetch(url, { headers: { range: 'bytes=1000-1999' } });
  expect(part.status).toBe(206);
  expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${content.length}`);
  expect(Buffer.from(await part.arrayBuffer()).equals(content.subarray(1000, 2000))).toBe(true);
  const tail = await fetch(url, { headers: { range: 'bytes=-10' } });
  expect(Buffer.from(await tail.arrayBuffer()).equals(content.subarray(-10))).toBe(true);
  const beyond = await fetch(url, { headers: { range: `bytes=${content.length + 5}-` } });
  expect(beyond.status).toBe(416);
  expect(beyond.headers.get('content-range')).toBe(`bytes */${content.length}`);
  const etag = part.headers.get('etag')!;
  expect((await fetch(url, { headers: { 'if-none-match': etag } })).status).toBe(304);
  // A stale If-Range: the whole file instead of the range.
  expect((await fetch(url, { headers: { range: 'bytes=0-9', 'if-range': 'W/"stale"' } })).status).toBe(200);
});

it('refuses a file over the limit with 413 and leaves nothing on disk', async () => {
  const before = readdirSync(join(dir, 'blobs')).length;
  const res = await upload(randomBytes(5 * 1024 * 1024), 'big.bin');
  expect(res.status).toBe(413);
  expect(readdirSync(join(dir, 'blobs')).length).toBe(before);
});

it('a form without a "file" part is a 422; an unknown id a 404; delete removes the file', async () => {
  const form = new FormData();
  form.set('note', 'no file');
  expect((await fetch(`${client.url}/files`, { method: 'POST', body: form })).status).toBe(422);
  expect((await fetch(`${client.url}/files/00000000-0000-4000-8000-000000000000/content`)).status).toBe(404);
  const info = (await (await upload(Buffer.from('bye'), 'bye.txt')).json()) as Info;
  expect((await fetch(`${client.url}/files/${info.id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await fetch(`${client.url}/files/${info.id}/content`)).status).toBe(404);
});

it('curl uploads with -F and resumes a download with -r', async () => {
  const file = join(dir, 'curl-src.bin');
  writeFileSync(file, content);
  const run = promisify(execFile);
  const { stdout } = await run('curl', ['-sS', '-F', `file=@${file};type=application/octet-stream`, '-F', 'note=from curl', `${client.url}/files`], { encoding: 'utf8' });
  const info = JSON.parse(stdout) as Info;
  expect(info).toMatchObject({ filename: 'curl-src.bin', size: content.length, sha256: sha, note: 'from curl' });
  const out = join(dir, 'curl-out.bin');
  writeFileSync(out, content.subarray(0, 1_000_000)); // a download cut short
  await run('curl', ['-sS', '-C', '-', '-o', out, `${client.url}/files/${info.id}/content`]);
  const { stdout: sum } = await run('sha256sum', [out], { encoding: 'utf8' });
  expect(sum.split(' ')[0]).toBe(sha);
});
