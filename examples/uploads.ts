/**
 * A file-upload service on `covet/app`: multipart uploads streamed to disk (never held in memory; a file
 * over the size limit is a 413 and leaves nothing behind), a SHA-256 and size per file, and downloads with
 * byte ranges (206/416, If-Range), ETags and 304s — resumable downloads and video seeking work.
 *
 *   node dist/examples/uploads.js                       # UPLOAD_DIR (default ./uploads), PORT 3000
 *   curl -F file=@photo.jpg -F note=holiday localhost:3000/files
 *   curl -r 0-99 localhost:3000/files/<id>/content      # the first 100 bytes
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createApp, HttpError, serveStatic, Type } from '../lib/app/index.js';

export interface UploadsOptions {
  dir: string;
  /** Largest file, in bytes. Default 50 MiB. */
  maxFileSize?: number;
}

const FileInfo = Type.Object(
  { id: Type.String({ format: 'uuid' }), filename: Type.String(), mimeType: Type.String(), size: Type.Integer(), sha256: Type.String(), note: Type.Optional(Type.String()) },
  { $id: 'FileInfo' },
);
type FileInfo = { id: string; filename: string; mimeType: string; size: number; sha256: string; note?: string };

/** Builds the app (exported for tests and `covet routes`; started below when run directly). */
export async function uploadsApp(options: UploadsOptions) {
  const root = resolve(options.dir);
  const blobs = join(root, 'blobs');
  await mkdir(blobs, { recursive: true });
  const app = createApp({ openapi: { info: { title: 'Uploads example', version: '1.0.0' } } });

  app.post(
    '/files',
    { summary: 'Upload one file (field "file") and an optional "note"', schema: { multipart: Type.Object({ file: Type.String({ format: 'binary' }), note: Type.Optional(Type.String()) }), response: { 201: FileInfo } } },
    async (ctx) => {
      let info: FileInfo | undefined;
      let note: string | undefined;
      for await (const part of ctx.parts({ files: 1, fileSize: options.maxFileSize ?? 50 * 1024 * 1024 })) {
        if (part.kind === 'field') {
          if (part.name === 'note') note = part.value;
          continue;
        }
        if (part.name !== 'file') {
          part.skip();
          continue;
        }
        const id = randomUUID(); // the name on disk: never the client's filename
        const path = join(blobs, id);
        const hash = createHash('sha256');
        let size = 0;
        const count = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        });
        try {
          // Streamed: the request body is read as fast as the disk takes it (backpressure end to end).
          await pipeline(part.stream, count, createWriteStream(path, { flags: 'wx' }));
        } catch (err) {
          await rm(path, { force: true }); // too large, or the client went away: nothing half-written stays
          throw err;
        }
        info = { id, filename: part.filename.replace(/[\\/\0]/g, '_').slice(0, 255), mimeType: part.mimeType, size, sha256: hash.digest('hex') };
      }
      if (info === undefined) throw new HttpError(422, { detail: 'no part named "file" in the form' });
      if (note !== undefined) info.note = note;
      await writeFile(join(blobs, `${info.id}.json`), JSON.stringify(info));
      ctx.res.setHeader('location', `/files/${info.id}`);
      return info;
    },
  );

  app.get('/files/{id:uuid}', { summary: 'What is known of a file', schema: { response: { 200: FileInfo } } }, async (ctx) => {
    try {
      return JSON.parse(await readFile(join(blobs, `${ctx.params.id}.json`), 'utf8')) as FileInfo;
    } catch {
      throw new HttpError(404, { detail: `file ${ctx.params.id} does not exist` });
    }
  });

  // Downloads: serveStatic does ranges, validators and streaming; the stored name is the route param.
  const download = serveStatic(blobs, { param: 'id', index: false });
  app.get('/files/{id:uuid}/content', { summary: 'The content (byte ranges supported)' }, async (ctx) => {
    const meta = JSON.parse(await readFile(join(blobs, `${ctx.params.id}.json`), 'utf8').catch(() => 'null')) as FileInfo | null;
    if (meta === null) throw new HttpError(404, { detail: `file ${ctx.params.id} does not exist` });
    ctx.res.setHeader('content-type', meta.mimeType);
    ctx.res.setHeader('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(meta.filename)}`);
    return download(ctx);
  });

  app.delete('/files/{id:uuid}', { summary: 'Delete a file', status: 204 }, async (ctx) => {
    const meta = join(blobs, `${ctx.params.id}.json`);
    if ((await readFile(meta).catch(() => null)) === null) throw new HttpError(404, { detail: `file ${ctx.params.id} does not exist` });
    await rm(meta);
    await rm(join(blobs, ctx.params.id), { force: true });
  });
  return app;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const app = await uploadsApp({ dir: process.env.UPLOAD_DIR ?? 'uploads' });
  const port = Number(process.env.PORT ?? 3000);
  await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' });
  app.closeOnSignals();
  console.log(`uploads on http://localhost:${port} (docs: /docs)`);
}
