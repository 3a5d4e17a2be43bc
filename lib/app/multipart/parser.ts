/**
 * An incremental `multipart/form-data` parser (RFC 7578 over RFC 2046 §5.1): bytes in, events out,
 * no I/O. Any split of the body across `execute` calls gives the same events as one call (property-
 * tested). Part data is handed out as views of the input chunks (no copy); only the few bytes that could
 * begin a delimiter at the end of a chunk are held back (copied) until the next chunk tells.
 *
 * Limits are enforced here (part count, part header size) or by the reader on top (sizes of fields and
 * files); a violation is a {@link MultipartError} carrying the HTTP status to answer.
 */

/**
 * A malformed body or an exceeded limit. `status` is the answer owed: 400 malformed, 413 too large.
 *
 * @example
 * ```ts
 * try {
 *   await ctx.multipart({ fileSize: 10 * 1024 * 1024 });
 * } catch (err) {
 *   if (err instanceof MultipartError) throw new HttpError(err.status, { detail: err.message }); // 400 or 413
 * }
 * ```
 */
export class MultipartError extends Error {
  readonly status: 400 | 413;
  readonly code: string;
  constructor(status: 400 | 413, code: string, message: string) {
    super(message);
    this.name = 'MultipartError';
    this.status = status;
    this.code = code;
  }
}

export interface MultipartHandler {
  /** A part begins; `headers` are its header fields, names lower-cased, in order. */
  onPartBegin(headers: Array<[string, string]>): void;
  /** Bytes of the current part's content (a view of the input; may be called many times per part). */
  onPartData(data: Buffer): void;
  onPartEnd(): void;
  /** The close delimiter was seen: the body is complete (an epilogue after it is ignored). */
  onEnd(): void;
}

export interface MultipartParserLimits {
  /** Most parts in one body. Default 1000. */
  parts?: number;
  /** Largest header block of one part, in bytes. Default 16 KiB. */
  partHeaderSize?: number;
}

// The parser's states (plain numbers: the library keeps to erasable TypeScript, which Node runs as is).
const State = {
  Preamble: 0, // before the first delimiter: discarded
  AfterDelimiter: 1, // "--" (close) or transport padding + CRLF (another part)
  AfterClose: 2, // epilogue: discarded
  Headers: 3,
  Body: 4,
  PaddingCR: 5, // saw LWSP after a delimiter, waiting for CR
  AfterCR: 6,
} as const;
type State = (typeof State)[keyof typeof State];

const CR = 13;
const LF = 10;
const DASH = 45;
const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF_BYTES = Buffer.from('\r\n');

/**
 * The boundary parameter of a `multipart/form-data` content type (RFC 2046 §5.1.1: 1–70 characters), or
 * `undefined` when the type is not multipart or has no valid boundary.
 *
 * @example
 * ```ts
 * multipartBoundary('multipart/form-data; boundary=----x'); // '----x'
 * multipartBoundary('application/json');                  // undefined
 * ```
 */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))\s*(?:;|$)/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  return b !== undefined && /^[0-9A-Za-z'()+_,\-./:=? ]*[0-9A-Za-z'()+_,\-./:=?]$/.test(b) ? b : undefined;
}

/**
 * @example
 * ```ts
 * const p = new MultipartParser(boundary, {
 *   onPartBegin: (h) => console.log('part', h),
 *   onPartData: (d) => sink.write(d),
 *   onPartEnd: () => {},
 *   onEnd: () => console.log('done'),
 * });
 * for await (const chunk of req) p.execute(chunk);
 * p.finish(); // throws if the body ended before the close delimiter
 * ```
 */
export class MultipartParser {
  #state: State = State.Preamble;
  /** `CRLF--boundary`: the delimiter as it appears before every part but the first. */
  readonly #delim: Buffer;
  /** Bytes at the end of the last chunk that may begin a delimiter (a proper prefix of it). */
  #held: Buffer | null;
  #header: Buffer[] = [];
  #tail: Buffer = Buffer.alloc(0);
  #headerSize = 0;
  #parts = 0;
  readonly #maxParts: number;
  readonly #maxHeader: number;
  readonly #h: MultipartHandler;

  constructor(boundary: string, handler: MultipartHandler, limits: MultipartParserLimits = {}) {
    this.#delim = Buffer.from(`\r\n--${boundary}`, 'latin1');
    // The first delimiter has no CRLF before it (RFC 2046 §5.1.1): pretend the body began with one.
    this.#held = Buffer.from('\r\n');
    this.#h = handler;
    this.#maxParts = limits.parts ?? 1000;
    this.#maxHeader = limits.partHeaderSize ?? 16 * 1024;
  }

  /** True once the close delimiter was seen. */
  get done(): boolean {
    return this.#state === State.AfterClose;
  }

  /** Consumes a chunk of the body. Throws {@link MultipartError} on malformed input or a limit. */
  execute(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      switch (this.#state) {
        case State.Preamble:
        case State.Body:
          i = this.#scanBody(chunk, i);
          break;
        case State.AfterDelimiter: {
          if (this.#held !== null) {
            // One byte of "--" or of padding/CR was held back across chunks.
            const first = this.#held[0]!;
            this.#held = null;
            if (first === DASH) {
              if (chunk[i] !== DASH) throw malformed('a delimiter followed by a single "-"');
              this.#close();
              i++;
            } else {
              this.#state = State.PaddingCR;
            }
            break;
          }
          const c = chunk[i]!;
          if (c === DASH) {
            if (i + 1 === chunk.length) {
              this.#held = Buffer.from([DASH]);
              return;
            }
            if (chunk[i + 1] !== DASH) throw malformed('a delimiter followed by a single "-"');
            this.#close();
            i += 2;
          } else {
            this.#state = State.PaddingCR;
          }
          break;
        }
        case State.PaddingCR: {
          const c = chunk[i]!;
          if (c === CR) this.#state = State.AfterCR;
          else if (c !== 32 && c !== 9) throw malformed('unexpected bytes after a boundary delimiter');
          i++;
          break;
        }
        case State.AfterCR:
          if (chunk[i] !== LF) throw malformed('a boundary delimiter not followed by CRLF');
          i++;
          this.#beginHeaders();
          break;
        case State.Headers:
          i = this.#scanHeaders(chunk, i);
          break;
        case State.AfterClose:
          return; // epilogue (RFC 2046 §5.1.1): ignored
      }
    }
  }

  /** The body has ended: throws unless the close delimiter was seen. */
  finish(): void {
    if (this.#state !== State.AfterClose) throw malformed('the body ended before the closing boundary');
  }

  #close(): void {
    this.#state = State.AfterClose;
    this.#h.onEnd();
  }

  #beginHeaders(): void {
    if (++this.#parts > this.#maxParts) throw new MultipartError(413, 'TOO_MANY_PARTS', `more than ${this.#maxParts} parts`);
    this.#state = State.Headers;
    // The delimiter line's CRLF counts as the start of the header block, so a part without header
    // fields (CRLF right away) ends its block like any other: at CRLFCRLF.
    this.#header = [CRLF_BYTES];
    this.#tail = CRLF_BYTES;
    this.#headerSize = 0;
  }

  /** Part content (or preamble) up to the next delimiter. Returns the offset to continue from. */
  #scanBody(chunk: Buffer, start: number): number {
    const d = this.#delim;
    const held = this.#held;
    if (held !== null) {
      // Does a delimiter start in the held bytes? Look at them plus enough of this chunk to decide.
      this.#held = null;
      const probe = Buffer.concat([held, chunk.subarray(start, start + d.length)]);
      const at = probe.indexOf(d);
      if (at !== -1 && at < held.length) {
        this.#emit(probe.subarray(0, at));
        this.#delimiter();
        return start + at + d.length - held.length;
      }
      if (probe.length < held.length + d.length && at === -1) {
        // Not enough of this chunk to decide: this chunk is all in the probe; hold its undecided tail.
        const keep = partialDelimiterAt(probe, 0, d);
        this.#emit(probe.subarray(0, probe.length - keep));
        this.#held = keep > 0 ? Buffer.from(probe.subarray(probe.length - keep)) : null;
        return chunk.length;
      }
      this.#emit(held); // not a delimiter: ordinary content
    }
    const at = chunk.indexOf(d, start);
    if (at !== -1) {
      this.#emit(chunk.subarray(start, at));
      this.#delimiter();
      return at + d.length;
    }
    const keep = partialDelimiterAt(chunk, start, d);
    this.#emit(chunk.subarray(start, chunk.length - keep));
    if (keep > 0) this.#held = Buffer.from(chunk.subarray(chunk.length - keep));
    return chunk.length;
  }

  #emit(data: Buffer): void {
    if (data.length > 0 && this.#state === State.Body) this.#h.onPartData(data);
  }

  #delimiter(): void {
    if (this.#state === State.Body) this.#h.onPartEnd();
    this.#state = State.AfterDelimiter;
  }

  /** A part's header block, up to the empty line. */
  #scanHeaders(chunk: Buffer, start: number): number {
    // The CRLFCRLF may straddle chunks: look at the last 3 header bytes so far plus this chunk's first 3.
    const tail = this.#tail;
    const at = Buffer.concat([tail, chunk.subarray(start, start + 3)]).indexOf(HEADER_END);
    let end = at !== -1 ? start + at + 4 - tail.length : chunk.indexOf(HEADER_END, start);
    if (at === -1 && end !== -1) end += 4;
    if (end === -1) {
      this.#countHeader(chunk.length - start);
      const rest = Buffer.from(chunk.subarray(start));
      this.#header.push(rest);
      this.#tail = Buffer.concat([tail, rest]).subarray(-3);
      return chunk.length;
    }
    this.#countHeader(end - start);
    const block = Buffer.concat([...this.#header, chunk.subarray(start, end)]).toString('latin1');
    this.#header = [];
    this.#h.onPartBegin(parsePartHeaders(block));
    this.#state = State.Body;
    return end;
  }

  #countHeader(n: number): void {
    this.#headerSize += n;
    if (this.#headerSize > this.#maxHeader) throw new MultipartError(413, 'PART_HEADERS_TOO_LARGE', `part headers larger than ${this.#maxHeader} bytes`);
  }
}

/**
 * How many bytes at the end of `buf` (from `start`) form a proper prefix of `d` — the bytes that must be
 * held back because the next chunk may complete a delimiter. Candidates start at a CR, as `d` does.
 */
function partialDelimiterAt(buf: Buffer, start: number, d: Buffer): number {
  const from = Math.max(start, buf.length - d.length + 1);
  for (let i = from; i < buf.length; i++) {
    if (buf[i] !== CR) continue;
    let j = 1;
    while (i + j < buf.length && buf[i + j] === d[j]) j++;
    if (i + j === buf.length) return buf.length - i;
  }
  return 0;
}

function malformed(what: string): MultipartError {
  return new MultipartError(400, 'MALFORMED_MULTIPART', `malformed multipart body: ${what}`);
}

/** A part's header block (without the final empty line) as `[name, value]` pairs. */
function parsePartHeaders(block: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of block.split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed(`part header line without a name: ${JSON.stringify(line.slice(0, 40))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) throw malformed(`invalid part header name ${JSON.stringify(name.slice(0, 40))}`);
    // Field values are UTF-8 in practice (RFC 7578 §5.1.1: filenames are sent raw by browsers).
    out.push([name, Buffer.from(line.slice(colon + 1).trim(), 'latin1').toString('utf8')]);
  }
  return out;
}

export interface ContentDisposition {
  type: string;
  name?: string;
  filename?: string;
}

/**
 * Parses `Content-Disposition: form-data; name="x"; filename="y"` (RFC 7578 §4.2) as browsers write it
 * (WHATWG HTML "multipart/form-data encoding"): a quoted value ends at the next `"` — browsers send `"`,
 * CR and LF as `%22`, `%0D`, `%0A` (decoded here, as undici does) and never backslash-escape, so a
 * backslash is an ordinary character (a Windows path). A
 * `filename*=UTF-8''...` (RFC 8187) wins over `filename`.
 *
 * @example
 * ```ts
 * parseContentDisposition('form-data; name="f"; filename="a.txt"'); // { type: 'form-data', name: 'f', filename: 'a.txt' }
 * ```
 */
export function parseContentDisposition(value: string): ContentDisposition {
  const semi = value.indexOf(';');
  const out: ContentDisposition = { type: (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase() };
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"([^"]*)"|([^;]*))/g;
  let m: RegExpExecArray | null;
  let star: string | undefined;
  while ((m = re.exec(value)) !== null) {
    const key = m[1]!.toLowerCase();
    const v = m[2] !== undefined ? m[2].replace(/%(22|0D|0A)/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))) : m[3]!.trim();
    if (key === 'name') out.name = v;
    else if (key === 'filename') out.filename = v;
    else if (key === 'filename*') {
      const ext = /^([\w!#$&+.^`{}~-]+)'[^']*'(.*)$/.exec(v);
      if (ext !== null && /^utf-8$/i.test(ext[1]!)) {
        try {
          star = decodeURIComponent(ext[2]!);
        } catch {
          // an invalid encoding leaves the plain filename
        }
      }
    }
  }
  if (star !== undefined) out.filename = star;
  return out;
}
