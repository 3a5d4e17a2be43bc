import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MultipartError, MultipartParser, multipartBoundary, parseContentDisposition } from '../../lib/app/multipart/parser.js';

interface ParsedPart {
  headers: Array<[string, string]>;
  data: Buffer;
}

/** Runs the parser over `chunks`; the parts it reports, with their data joined. */
function parse(boundary: string, chunks: Buffer[], limits = {}): ParsedPart[] {
  const parts: ParsedPart[] = [];
  let cur: { headers: Array<[string, string]>; data: Buffer[] } | null = null;
  let ended = false;
  const p = new MultipartParser(
    boundary,
    {
      onPartBegin: (headers) => (cur = { headers, data: [] }),
      onPartData: (d) => cur!.data.push(Buffer.from(d)),
      onPartEnd: () => {
        parts.push({ headers: cur!.headers, data: Buffer.concat(cur!.data) });
        cur = null;
      },
      onEnd: () => (ended = true),
    },
    limits,
  );
  for (const c of chunks) p.execute(c);
  p.finish();
  expect(ended).toBe(true);
  return parts;
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** Contents that stress the delimiter search: CR, LF, dashes, and near-boundaries. */
const hostileBytes = fc
  .array(fc.oneof(fc.constantFrom('\r', '\n', '-', '--', '\r\n', '\r\n--', '\r\n--X', 'X', 'a'), fc.string({ maxLength: 5 })), { maxLength: 30 })
  .map((xs) => Buffer.from(xs.join(''), 'latin1'));

describe('multipart parser', () => {
  it('reads what undici\'s FormData encoder writes, and undici\'s parser agrees (differential), under any split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            name: fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom('a', 'é', '"', '\\', '\r', '\n', '%', ';', ' ', '=') }),
            file: fc.option(fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom('b', '€', '"', '\\', '/', '%', ';', '.') }), { nil: undefined }),
            content: hostileBytes,
          }),
          { maxLength: 6 },
        ),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (fields, cuts) => {
          const fd = new FormData();
          for (const f of fields) {
            if (f.file === undefined) fd.append(f.name, f.content.toString('latin1'));
            else fd.append(f.name, new Blob([f.content], { type: 'application/x-test' }), f.file);
          }
          const res = new Response(fd);
          const type = res.headers.get('content-type')!;
          const body = Buffer.from(await res.arrayBuffer());
          const boundary = multipartBoundary(type)!;
          const parts = parse(boundary, splitAt(body, cuts));
          expect(parse(boundary, [body])).toEqual(parts);
          // The oracle: undici parses the same bytes.
          const oracle = [...(await new Response(body, { headers: { 'content-type': type } }).formData()).entries()];
          expect(parts.length).toBe(oracle.length);
          for (let i = 0; i < parts.length; i++) {
            const cd = parseContentDisposition(parts[i]!.headers.find(([k]) => k === 'content-disposition')![1]);
            const [name, value] = oracle[i]!;
            expect(cd.name).toBe(name);
            if (typeof value === 'string') {
              expect(cd.filename).toBeUndefined();
              expect(parts[i]!.data.toString('utf8')).toBe(value);
            } else {
              expect(cd.filename).toBe(value.name);
              expect(parts[i]!.data.equals(Buffer.from(await value.arrayBuffer()))).toBe(true);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles preamble, epilogue, transport padding and parts without headers, byte by byte', () => {
    const body = Buffer.from(
      'This is the preamble.\r\n--b\t \r\n\r\nno headers\r\n--b\r\ncontent-disposition: form-data; name="x"\r\n\r\n\r\n--b--\r\nepilogue\r\n--b\r\n',
      'latin1',
    );
    const expected = [
      { headers: [], data: Buffer.from('no headers') },
      { headers: [['content-disposition', 'form-data; name="x"']], data: Buffer.alloc(0) },
    ];
    expect(parse('b', [body])).toEqual(expected);
    expect(parse('b', [...body].map((b) => Buffer.from([b])))).toEqual(expected);
  });

  it('keeps content that only looks like a delimiter, across any split', () => {
    fc.assert(
      fc.property(hostileBytes, fc.array(fc.nat(), { maxLength: 6 }), (content, cuts) => {
        const body = Buffer.concat([Buffer.from('--X\r\nContent-Disposition: form-data; name="f"\r\n\r\n'), content, Buffer.from('\r\n--X--')]);
        // Content containing the real delimiter is not representable; the encoder picks another boundary.
        fc.pre(!Buffer.concat([Buffer.from('\r\n'), content, Buffer.from('\r\n')]).includes('\r\n--X\r\n') && !content.includes('\r\n--X'));
        const parts = parse('X', splitAt(body, cuts));
        expect(parts).toHaveLength(1);
        expect(parts[0]!.data.equals(content)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects malformed bodies with a 400 and limits with a 413', () => {
    const err = (fn: () => unknown): MultipartError => {
      try {
        fn();
      } catch (e) {
        return e as MultipartError;
      }
      throw new Error('no error');
    };
    const truncated = err(() => parse('b', [Buffer.from('--b\r\ncontent-disposition: form-data; name="a"\r\n\r\nabc')]));
    expect([truncated.status, truncated.code]).toEqual([400, 'MALFORMED_MULTIPART']);
    expect(err(() => parse('b', [Buffer.from('--b\r\nno colon here\r\n\r\nx\r\n--b--')])).status).toBe(400);
    expect(err(() => parse('b', [Buffer.from('--bX\r\n\r\nx\r\n--b--')])).status).toBe(400);
    expect(err(() => parse('b', [Buffer.from('--b-x')])).status).toBe(400);
    const many = Buffer.from('--b\r\n\r\nx\r\n'.repeat(5) + '--b--');
    expect(err(() => parse('b', [many], { parts: 4 })).code).toBe('TOO_MANY_PARTS');
    expect(parse('b', [many], { parts: 5 })).toHaveLength(5);
    const bigHead = Buffer.from(`--b\r\nx-long: ${'a'.repeat(200)}\r\n\r\nx\r\n--b--`);
    const e = err(() => parse('b', [...bigHead].map((c) => Buffer.from([c])), { partHeaderSize: 100 }));
    expect([e.status, e.code]).toEqual([413, 'PART_HEADERS_TOO_LARGE']);
  });

  it('reads boundaries and Content-Disposition like browsers send them', () => {
    expect(multipartBoundary('multipart/form-data; boundary=----WebKitFormBoundaryx7')).toBe('----WebKitFormBoundaryx7');
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b:c"')).toBe('a b:c');
    expect(multipartBoundary('multipart/form-data')).toBeUndefined();
    expect(multipartBoundary('multipart/form-data; boundary=' + 'x'.repeat(71))).toBeUndefined();
    expect(multipartBoundary('application/json; boundary=x')).toBeUndefined();
    expect(parseContentDisposition('form-data; name="a%22b"; filename="C:\\x\\c;d.txt"')).toEqual({ type: 'form-data', name: 'a"b', filename: 'C:\\x\\c;d.txt' });
    expect(parseContentDisposition("form-data; name=f; filename=\"x.txt\"; filename*=UTF-8''%E2%82%AC.txt")).toEqual({ type: 'form-data', name: 'f', filename: '€.txt' });
  });
});
