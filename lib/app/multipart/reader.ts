/**
 * Streaming `multipart/form-data` uploads over a request body: parts arrive one by one, file contents as
 * Readable streams with backpressure (the socket is read only as fast as the file is consumed), fields as
 * strings. Memory stays bounded whatever the upload size: at most one file stream's high-water mark plus
 * the fields' limits. Every limit answers 413; a malformed body, 400.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MultipartError, MultipartParser, parseContentDisposition, type MultipartHandler, type MultipartParserLimits } from './parser.js';

export interface MultipartLimits extends MultipartParserLimits {
  /** Most non-file fields. Default 1000. */
  fields?: number;
  /** Largest field value, in bytes. Default 1 MiB. */
  fieldSize?: number;
  /** Longest field or file part name, in bytes. Default 200. */
  fieldNameSize?: number;
  /** Most file parts. Default 100. */
  files?: number;
  /** Largest file, in bytes. Default 128 MiB. */
  fileSize?: number;
}

/** A text field. */
export interface FieldPart {
  kind: 'field';
  name: string;
  value: string;
  /** The part's Content-Type (default `text/plain`). */
  mimeType: string;
}

/** A file part: its content is a stream; consume it (or `skip()` it) before asking for the next part. */
export interface FilePart {
  kind: 'file';
  name: string;
  /** As the client sent it: never use it as a path without sanitizing. */
  filename: string;
  mimeType: string;
  /** The file content, read from the socket as it is consumed. Fails with a 413 error past `fileSize`. */
  readonly stream: Readable;
  /** Collects the content in memory. */
  toBuffer(): Promise<Buffer>;
  /** Writes the content to `path`; resolves with the number of bytes written. */
  saveTo(path: string): Promise<number>;
  /** Discards the rest of the content. */
  skip(): void;
}

export type Part = FieldPart | FilePart;

/** The default limits, for documentation and reuse. */
export const DEFAULT_MULTIPART_LIMITS: Required<MultipartLimits> = {
  parts: 1000,
  partHeaderSize: 16 * 1024,
  fields: 1000,
  fieldSize: 1024 * 1024,
  fieldNameSize: 200,
  files: 100,
  fileSize: 128 * 1024 * 1024,
};

/** What the reader needs of a request body: pull-based chunks (Http1Request). */
export interface BodyChunks {
  next(): Promise<IteratorResult<Buffer>>;
}

type Waiter = { resolve: (r: IteratorResult<Part>) => void; reject: (e: unknown) => void };

/** The content stream of one file part; `_read` is the demand signal that lets the reader pull more. */
class FileStream extends Readable {
  /** The last push was refused: wait for `_read` before reading more from the socket. */
  blocked = false;
  /** Content from here on is dropped (skipped, or the consumer destroyed the stream). */
  discarded = false;
  size = 0;
  private readonly reader: MultipartReader;
  constructor(reader: MultipartReader) {
    super({ highWaterMark: 64 * 1024 });
    this.reader = reader;
  }
  override _read(): void {
    this.blocked = false;
    this.reader.wake();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.discarded = true;
    this.blocked = false;
    this.reader.wake();
    cb(err);
  }
}

class FilePartImpl implements FilePart {
  readonly kind = 'file' as const;
  touched = false;
  readonly #stream: FileStream;
  readonly name: string;
  readonly filename: string;
  readonly mimeType: string;
  constructor(name: string, filename: string, mimeType: string, stream: FileStream) {
    this.name = name;
    this.filename = filename;
    this.mimeType = mimeType;
    this.#stream = stream;
  }
  get stream(): Readable {
    this.touched = true;
    return this.#stream;
  }
  get ended(): boolean {
    return this.#stream.readableEnded || this.#stream.discarded;
  }
  async toBuffer(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
  async saveTo(path: string): Promise<number> {
    const out = createWriteStream(path);
    await pipeline(this.stream, out);
    return out.bytesWritten;
  }
  skip(): void {
    this.touched = true;
    const s = this.#stream;
    s.discarded = true;
    s.blocked = false;
    s.resume(); // drop what is buffered
    this.wakeReader();
  }
  wakeReader = (): void => {};
}

/**
 * Iterates the parts of a multipart body.
 *
 * @example
 * ```ts
 * for await (const part of ctx.parts({ fileSize: 200 * 1024 * 1024 })) {
 *   if (part.kind === 'file') await part.saveTo(`/uploads/${randomUUID()}`);
 *   else console.log(part.name, part.value);
 * }
 * ```
 */
export class MultipartReader implements AsyncIterableIterator<Part>, MultipartHandler {
  readonly #body: BodyChunks;
  readonly #parser: MultipartParser;
  readonly #limits: Required<MultipartLimits>;
  #queue: Part[] = [];
  #waiter: Waiter | null = null;
  #error: unknown = null;
  #done = false;
  #pumping = false;
  #fields = 0;
  #files = 0;
  /** The part being parsed. */
  #field: { name: string; mimeType: string; chunks: Buffer[]; size: number } | null = null;
  #file: FileStream | null = null;
  /** The file part handed out last, which must be finished before the reader moves past its end. */
  #delivered: FilePartImpl | null = null;

  constructor(body: BodyChunks, boundary: string, limits: MultipartLimits = {}) {
    this.#body = body;
    this.#limits = { ...DEFAULT_MULTIPART_LIMITS, ...limits };
    this.#parser = new MultipartParser(boundary, this, this.#limits);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Part>> {
    // A file handed out but never looked at is skipped; one being read is left to its reader.
    const prev = this.#delivered;
    if (prev !== null && !prev.touched && !prev.ended) prev.skip();
    if (this.#queue.length > 0) return Promise.resolve(this.#deliver(this.#queue.shift()!));
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter !== null) return Promise.reject(new Error('concurrent next() on a multipart reader'));
    const p = new Promise<IteratorResult<Part>>((resolve, reject) => (this.#waiter = { resolve, reject }));
    this.wake();
    return p;
  }

  async return(): Promise<IteratorResult<Part>> {
    // Leaving a for-await loop early: stop; the rest of the body is discarded with the response.
    this.#done = true;
    this.#queue = [];
    if (this.#file !== null && !this.#file.readableEnded) this.#file.destroy();
    return { value: undefined, done: true };
  }

  #deliver(part: Part): IteratorResult<Part> {
    if (part.kind === 'file') this.#delivered = part as FilePartImpl;
    return { value: part, done: false };
  }

  /** @internal Something changed that may let reading go on. */
  wake(): void {
    if (!this.#pumping) void this.#pump();
  }

  #wantsMore(): boolean {
    if (this.#done || this.#error !== null) return false;
    const f = this.#file;
    if (f !== null && f.blocked && !f.discarded) return false; // the file's consumer is behind
    return this.#queue.length === 0 || this.#waiter !== null; // parts ready that nobody asked for yet
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#wantsMore()) {
        const r = await this.#body.next();
        if (r.done === true) {
          this.#parser.finish();
          break;
        }
        this.#parser.execute(r.value);
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#pumping = false;
    }
  }

  #fail(err: unknown): void {
    if (this.#error !== null) return;
    this.#error = err;
    const f = this.#file;
    if (f !== null && !f.readableEnded && !f.destroyed) f.destroy(err as Error);
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.reject(err);
    }
  }

  #push(part: Part): void {
    const w = this.#waiter;
    if (w !== null && this.#queue.length === 0) {
      this.#waiter = null;
      w.resolve(this.#deliver(part));
    } else {
      this.#queue.push(part);
    }
  }

  // ---- MultipartHandler (called by the parser, inside #pump) ------------------------------------------

  /** @internal */
  onPartBegin(headers: Array<[string, string]>): void {
    let disposition: string | undefined;
    let mimeType: string | undefined;
    for (const [k, v] of headers) {
      if (k === 'content-disposition') disposition = v;
      else if (k === 'content-type') mimeType = v;
    }
    const cd = disposition === undefined ? undefined : parseContentDisposition(disposition);
    if (cd === undefined || cd.type !== 'form-data' || cd.name === undefined) {
      throw new MultipartError(400, 'MALFORMED_MULTIPART', 'malformed multipart body: a part without Content-Disposition: form-data; name=...');
    }
    const l = this.#limits;
    if (Buffer.byteLength(cd.name) > l.fieldNameSize) throw new MultipartError(413, 'FIELD_NAME_TOO_LARGE', `a part name is longer than ${l.fieldNameSize} bytes`);
    if (cd.filename === undefined) {
      if (++this.#fields > l.fields) throw new MultipartError(413, 'TOO_MANY_FIELDS', `more than ${l.fields} fields`);
      this.#field = { name: cd.name, mimeType: mimeType ?? 'text/plain', chunks: [], size: 0 };
      return;
    }
    if (++this.#files > l.files) throw new MultipartError(413, 'TOO_MANY_FILES', `more than ${l.files} files`);
    const stream = new FileStream(this);
    const part = new FilePartImpl(cd.name, cd.filename, mimeType ?? 'application/octet-stream', stream);
    part.wakeReader = () => this.wake();
    this.#file = stream;
    this.#push(part);
  }

  /** @internal */
  onPartData(data: Buffer): void {
    const field = this.#field;
    if (field !== null) {
      field.size += data.length;
      if (field.size > this.#limits.fieldSize) throw new MultipartError(413, 'FIELD_TOO_LARGE', `field "${field.name}" is larger than ${this.#limits.fieldSize} bytes`);
      field.chunks.push(data);
      return;
    }
    const f = this.#file!;
    f.size += data.length;
    if (f.size > this.#limits.fileSize) throw new MultipartError(413, 'FILE_TOO_LARGE', `a file is larger than ${this.#limits.fileSize} bytes`);
    if (f.discarded) return;
    if (!f.push(data)) f.blocked = true;
  }

  /** @internal */
  onPartEnd(): void {
    const field = this.#field;
    if (field !== null) {
      this.#field = null;
      this.#push({ kind: 'field', name: field.name, value: Buffer.concat(field.chunks, field.size).toString('utf8'), mimeType: field.mimeType });
      return;
    }
    const f = this.#file!;
    this.#file = null;
    if (!f.discarded) f.push(null);
  }

  /** @internal */
  onEnd(): void {
    this.#done = true;
    const w = this.#waiter;
    if (w !== null && this.#queue.length === 0) {
      this.#waiter = null;
      w.resolve({ value: undefined, done: true });
    }
  }
}

/** A file saved by {@link readMultipart}. */
export interface SavedFile {
  name: string;
  filename: string;
  mimeType: string;
  /** Where the content was written (a temporary file, removed after the response unless moved). */
  path: string;
  size: number;
}

export interface MultipartResult {
  /** Text fields; repeated names give arrays. */
  fields: Record<string, string | string[]>;
  files: SavedFile[];
}

/**
 * Reads a whole multipart body: fields into a record, each file to its own temporary file under
 * `dir` (default: a new directory in the OS temp dir). Returns the directory too, for cleanup.
 *
 * @example
 * ```ts
 * const { fields, files, dir } = await readMultipart(ctx.parts({ fileSize: 50 * 1024 * 1024 }));
 * try {
 *   for (const f of files) console.log(f.filename, f.size, f.path);
 * } finally {
 *   await rm(dir, { recursive: true, force: true });
 * }
 * ```
 */
export async function readMultipart(parts: AsyncIterable<Part>, dir?: string): Promise<MultipartResult & { dir: string }> {
  const fields: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  const files: SavedFile[] = [];
  const where = dir ?? (await mkdtemp(join(tmpdir(), 'covet-upload-')));
  try {
    for await (const part of parts) {
      if (part.kind === 'field') {
        const prev = fields[part.name];
        fields[part.name] = prev === undefined ? part.value : Array.isArray(prev) ? [...prev, part.value] : [prev, part.value];
        continue;
      }
      const path = join(where, `${files.length}`);
      const size = await part.saveTo(path);
      files.push({ name: part.name, filename: part.filename, mimeType: part.mimeType, path, size });
    }
  } catch (err) {
    if (dir === undefined) await rm(where, { recursive: true, force: true });
    throw err;
  }
  return { fields, files, dir: where };
}
