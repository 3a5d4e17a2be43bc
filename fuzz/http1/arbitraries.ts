/**
 * fast-check generators for HTTP/1.1 requests: a model (`RequestModel`) that serializes to valid bytes,
 * and byte-level mutations of those bytes for the invalid side of the differential fuzzer.
 */
import fc from 'fast-check';

export interface ChunkModel {
  data: string;
  ext: string;
}

export interface RequestModel {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  headers: Array<[string, string]>;
  body:
    | { kind: 'none' }
    | { kind: 'length'; data: string }
    | { kind: 'chunked'; chunks: ChunkModel[]; trailers: Array<[string, string]> };
}

/** Methods llhttp knows (it rejects others; we accept any token, see docs/http1-verdicts.md). */
export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%";
// field-vchar without obs-text for values that round-trip through any parser; inner SP/HTAB allowed.
const VCHAR = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');

const fromChars = (chars: string, min: number, max: number) =>
  fc.array(fc.constantFrom(...chars.split('')), { minLength: min, maxLength: max }).map((a) => a.join(''));

export const tokenArb = fromChars(TCHAR, 1, 12);

/** A field name that is not one the parser interprets (those are generated on purpose below). */
export const headerNameArb = tokenArb.filter(
  (n) => !['content-length', 'transfer-encoding', 'connection', 'upgrade', 'host', 'expect'].includes(n.toLowerCase()),
);

export const headerValueArb = fc
  .tuple(fromChars(VCHAR, 0, 16), fc.array(fc.tuple(fc.constantFrom(' ', '\t'), fromChars(VCHAR, 1, 8)), { maxLength: 3 }))
  .map(([first, rest]) => first + rest.map(([ws, w]) => ws + w).join(''))
  .map((v) => (v.length > 0 && v[0] !== ' ' && v[0] !== '\t' ? v : `v${v}`));

export const targetArb = fc
  .tuple(fc.array(fromChars(PCHAR.replace('%', ''), 0, 8), { minLength: 1, maxLength: 4 }), fc.option(fromChars(PCHAR + '/?', 0, 12)))
  .map(([segs, q]) => `/${segs.join('/')}${q === null ? '' : `?${q}`}`);

const bodyDataArb = fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e\r\n]/g, 'x'));

const chunkExtArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.tuple(tokenArb, fc.option(tokenArb)).map(([n, v]) => `;${n}${v === null ? '' : `=${v}`}`) },
);

export const requestArb: fc.Arbitrary<RequestModel> = fc
  .record({
    method: fc.constantFrom(...METHODS),
    target: targetArb,
    version: fc.constantFrom<'1.0' | '1.1'>('1.1', '1.1', '1.0'),
    extra: fc.array(fc.tuple(headerNameArb, headerValueArb), { maxLength: 8 }),
    connection: fc.constantFrom<string | null>(null, null, 'close', 'keep-alive', 'Keep-Alive', 'foo, close'),
    bodyKind: fc.constantFrom('none', 'length', 'chunked'),
    data: bodyDataArb,
    chunks: fc.array(fc.record({ data: bodyDataArb.filter((s) => s.length > 0), ext: chunkExtArb }), { maxLength: 4 }),
    trailers: fc.array(fc.tuple(headerNameArb, headerValueArb), { maxLength: 2 }),
  })
  .map((r) => {
    const headers: Array<[string, string]> = [['Host', 'example.com'], ...r.extra];
    if (r.connection !== null) headers.push(['Connection', r.connection]);
    let body: RequestModel['body'] = { kind: 'none' };
    if (r.bodyKind === 'length') {
      body = { kind: 'length', data: r.data };
      headers.push(['Content-Length', String(Buffer.byteLength(r.data, 'latin1'))]);
    } else if (r.bodyKind === 'chunked' && r.version === '1.1') {
      body = { kind: 'chunked', chunks: r.chunks, trailers: r.trailers };
      headers.push(['Transfer-Encoding', 'chunked']);
    }
    return { method: r.method, target: r.target, version: r.version, headers, body };
  });

export function serialize(m: RequestModel): Buffer {
  let s = `${m.method} ${m.target} HTTP/${m.version}\r\n`;
  for (const [n, v] of m.headers) s += `${n}: ${v}\r\n`;
  s += '\r\n';
  if (m.body.kind === 'length') s += m.body.data;
  else if (m.body.kind === 'chunked') {
    for (const c of m.body.chunks) s += `${Buffer.byteLength(c.data, 'latin1').toString(16)}${c.ext}\r\n${c.data}\r\n`;
    s += '0\r\n';
    for (const [n, v] of m.body.trailers) s += `${n}: ${v}\r\n`;
    s += '\r\n';
  }
  return Buffer.from(s, 'latin1');
}

/** Bytes that matter to HTTP/1 framing; mutations draw from these most of the time. */
const INTERESTING = [13, 10, 32, 9, 0, 58, 59, 0x7f, 0x80, 0xff, 0x2c, 0x22, 0x30, 0x61, 0x41, 0x2d];

export type Mutation =
  | { op: 'insert'; at: number; byte: number }
  | { op: 'delete'; at: number }
  | { op: 'replace'; at: number; byte: number }
  | { op: 'insertText'; at: number; text: string };

/** Smuggling-flavoured snippets inserted at line starts. */
const SNIPPETS = [
  'Content-Length: 0\r\n',
  'Content-Length: 5\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Transfer-Encoding: gzip\r\n',
  'Transfer-Encoding: chunked, identity\r\n',
  'Host: other\r\n',
  ' folded\r\n',
  'Connection: close\r\n',
  'Connection: upgrade\r\nUpgrade: websocket\r\n',
  '\r\n',
  '\n',
  '0\r\n\r\n',
];

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), byte: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ op: fc.constant('insertText' as const), at: fc.nat(), text: fc.constantFrom(...SNIPPETS) }),
);

export function mutate(input: Buffer, muts: Mutation[]): Buffer {
  let buf = input;
  for (const m of muts) {
    if (buf.length === 0) break;
    let at = m.at % (buf.length + 1);
    if (m.op === 'insertText') {
      // Snap to the start of a line so snippets look like field lines.
      const nl = buf.lastIndexOf(10, at - 1);
      at = nl < 0 ? at : nl + 1;
      buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.text, 'latin1'), buf.subarray(at)]);
    } else if (m.op === 'insert') {
      buf = Buffer.concat([buf.subarray(0, at), Buffer.from([m.byte]), buf.subarray(at)]);
    } else if (at < buf.length) {
      buf = m.op === 'delete'
        ? Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1)])
        : Buffer.concat([buf.subarray(0, at), Buffer.from([m.byte]), buf.subarray(at + 1)]);
    }
  }
  return buf;
}

/** Sorted distinct cut points inside `len`. */
export const splitsArb = (len: number): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: Math.max(1, len - 1) }), { maxLength: 8 }).map((a) => [...new Set(a)].sort((x, y) => x - y));
