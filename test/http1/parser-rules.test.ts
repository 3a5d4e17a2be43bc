/**
 * The HTTP/1.1 parser's rules at their edges (#28, from parser.ts's surviving mutants), each input parsed
 * whole (the fast path, for requests) and a byte at a time (the state machine), which must agree: every
 * byte in the places whose character set is a rule (Host, transfer codings, the scheme of an absolute-form
 * target), every limit at the limit and one past, status-lines, framing and persistence, Expect, pause and
 * resume, finish(), declined upgrades, trailers, the optional events and the scratch allocator.
 */
import { describe, expect, it } from 'vitest';
import { Http1Parser, Http1ParseError, type Http1ParserHandler, type Http1ParserOptions, type MessageHead } from '../../lib/http1/index.js';

type Kind = 'request' | 'response';
interface Outcome {
  heads: Array<Omit<MessageHead, 'headers'> & { headers: string[] }>;
  body: string;
  complete: number;
  trailers: string[][];
  error: string | null;
  message: string | null;
}

function parseWith(kind: Kind, options: Http1ParserOptions, pieces: string[], eof: boolean, onHead?: (h: MessageHead) => boolean | void): Outcome {
  const out: Outcome = { heads: [], body: '', complete: 0, trailers: [], error: null, message: null };
  const handler: Http1ParserHandler = {
    onHeadersComplete: (h) => {
      out.heads.push({ ...h, headers: [...h.headers] });
      return onHead?.(h);
    },
    onBody: (b) => void (out.body += b.toString('latin1')),
    onTrailers: (t) => void out.trailers.push([...t]),
    onMessageComplete: () => void out.complete++,
  };
  const p = new Http1Parser(kind, handler, options);
  try {
    for (const piece of pieces) p.execute(Buffer.from(piece, 'latin1'));
    if (eof) p.finish();
  } catch (e) {
    if (!(e instanceof Http1ParseError)) throw e;
    out.error = e.code;
    out.message = e.message;
  }
  return out;
}

/** Parses `input` whole and a byte at a time; the two must agree. */
function parse(input: string, o: { kind?: Kind; options?: Http1ParserOptions; eof?: boolean; onHead?: (h: MessageHead) => boolean | void } = {}): Outcome {
  const kind = o.kind ?? 'request';
  const whole = parseWith(kind, o.options ?? {}, [input], o.eof ?? false, o.onHead);
  const bytes = parseWith(kind, o.options ?? {}, [...input], o.eof ?? false, o.onHead);
  // Before an error, how much of a body was delivered depends on where the input was cut; nothing else does.
  const same = (r: Outcome) => (r.error === null ? r : { ...r, body: '' });
  expect(same(bytes), `byte by byte: ${JSON.stringify(input.slice(0, 80))}`).toEqual(same(whole));
  return whole;
}
const err = (input: string, o: Parameters<typeof parse>[1] = {}) => parse(input, o).error;
/** The error's message (its text, the detail, the RFC) — the same whole, byte by byte and cut anywhere in two. */
function message(input: string, o: { kind?: Kind; options?: Http1ParserOptions } = {}): string | null {
  const kind = o.kind ?? 'request';
  const whole = parse(input, o).message;
  for (let k = 1; k < input.length; k++) {
    const two = parseWith(kind, o.options ?? {}, [input.slice(0, k), input.slice(k)], false);
    expect(two.message, `cut at ${k}`).toBe(whole);
  }
  return whole;
}
const req = (head: string, body = '') => `${head}\r\n\r\n${body}`;

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const HOST_CHAR = /^[A-Za-z0-9\-._~%!$&'()*+,;=:[\]]$/;

describe('character sets', () => {
  it('Host: RFC 3986 host characters only, byte by byte through every printable byte and obs-text', () => {
    for (let c = 0x21; c <= 0xff; c++) {
      if (c === 0x7f) continue;
      const ch = String.fromCharCode(c);
      const e = err(req(`GET / HTTP/1.1\r\nHost: a${ch}b`));
      expect(e, `Host byte 0x${c.toString(16)}`).toBe(HOST_CHAR.test(ch) ? null : 'INVALID_HOST');
    }
    expect(err(req('GET / HTTP/1.1\r\nHost: '))).toBeNull(); // empty: no authority
  });

  it('transfer codings are tokens: every printable byte and obs-text inside a coding name', () => {
    for (let c = 0x21; c <= 0xff; c++) {
      if (c === 0x7f || c === 0x2c) continue; // "," separates codings
      const ch = String.fromCharCode(c);
      const e = err(`HTTP/1.1 200 OK\r\nTransfer-Encoding: a${ch}b, chunked\r\n\r\n0\r\n\r\n`, { kind: 'response' });
      expect(e, `coding byte 0x${c.toString(16)}`).toBe(TCHAR.test(ch) ? null : 'INVALID_TRANSFER_ENCODING');
    }
    expect(err('HTTP/1.1 200 OK\r\nTransfer-Encoding: , \r\n\r\n', { kind: 'response' })).toBe('INVALID_TRANSFER_ENCODING');
  });

  it('absolute-form: a scheme of ALPHA *( ALPHA / DIGIT / + / - / . ), then "://" and an authority', () => {
    const valid = (url: string) => /^\//.test(url) || /^[A-Za-z][A-Za-z0-9+\-.]*:\/\/./.test(url);
    for (let c = 0x21; c <= 0x7e; c++) {
      const ch = String.fromCharCode(c);
      for (const url of [`${ch}x://h/`, `a${ch}b://h/`, `ab${ch}://h/`]) {
        const e = err(req(`GET ${url} HTTP/1.1\r\nHost: h`));
        expect(e, url).toBe(valid(url) ? null : 'INVALID_TARGET');
      }
    }
    expect(err(req('GET http:// HTTP/1.1\r\nHost: h'))).toBe('INVALID_TARGET');
    expect(err(req('GET http://h HTTP/1.1\r\nHost: h'))).toBeNull();
    expect(err(req('GET http:/h/x HTTP/1.1\r\nHost: h'))).toBe('INVALID_TARGET');
    expect(err(req('GET http HTTP/1.1\r\nHost: h'))).toBe('INVALID_TARGET');
    expect(err(req('GET urn:x:y HTTP/1.1\r\nHost: h'))).toBe('INVALID_TARGET');
    expect(err(req('GET ** HTTP/1.1\r\nHost: h'))).toBe('INVALID_TARGET');
    expect(err(req('OPTIONS ** HTTP/1.1\r\nHost: h'))).toBe('INVALID_TARGET');
    expect(err(req('OPTIONS * HTTP/1.1\r\nHost: h'))).toBeNull();
  });

  it('CONNECT: authority-form only (a host and a port, no path)', () => {
    expect(parse(req('CONNECT h:443 HTTP/1.1\r\nHost: h:443')).heads[0]).toMatchObject({ method: 'CONNECT', url: 'h:443', upgrade: true });
    for (const url of ['h', ':443', 'h:443/x', '/x', '/h:443', 'http://h:443/']) expect(err(req(`CONNECT ${url} HTTP/1.1\r\nHost: h`)), url).toBe('INVALID_TARGET');
    // A CONNECT request has no body whatever it says: what follows its head is the tunnel's.
    const tunnel = parse(req('CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 5', 'hello'));
    expect(tunnel).toMatchObject({ error: null, body: '', complete: 1 });
  });

  it('methods: every known one and an extension; a method is a token', () => {
    for (const m of ['GET', 'PUT', 'POST', 'HEAD', 'PATCH', 'TRACE', 'DELETE', 'OPTIONS', 'GETX', 'PUTS', 'POSTS', 'HEADS', 'PATCHY', 'TRACER', 'DELETES', 'OPTIONZ', 'CONNECTS', 'M-SEARCH']) {
      const r = parse(req(`${m} / HTTP/1.1\r\nHost: h`));
      expect(r.error, m).toBeNull();
      expect(r.heads[0]!.method, m).toBe(m);
    }
    for (const bad of ['GE(T', 'G{T', 'GET"']) expect(err(req(`${bad} / HTTP/1.1\r\nHost: h`)), bad).toBe('INVALID_METHOD');
  });
});

describe('limits at the limit and one past', () => {
  it('maxMethodLength', () => {
    expect(err(req('PATCH / HTTP/1.1\r\nHost: h'), { options: { maxMethodLength: 5 } })).toBeNull();
    expect(err(req('PATCHX / HTTP/1.1\r\nHost: h'), { options: { maxMethodLength: 5 } })).toBe('INVALID_METHOD');
  });

  it('maxUrlLength', () => {
    const url = `/${'a'.repeat(9)}`;
    expect(err(req(`GET ${url} HTTP/1.1\r\nHost: h`), { options: { maxUrlLength: 10 } })).toBeNull();
    expect(err(req(`GET ${url}b HTTP/1.1\r\nHost: h`), { options: { maxUrlLength: 10 } })).toBe('URI_TOO_LONG');
  });

  it('maxHeaderSize: start-line and fields together, and the trailer section separately', () => {
    const head = req('GET / HTTP/1.1\r\nHost: h\r\nX: 12345');
    const size = head.length;
    expect(err(head, { options: { maxHeaderSize: size } })).toBeNull();
    expect(err(head, { options: { maxHeaderSize: size - 1 } })).toBe('HEADERS_TOO_LARGE');
    const chunked = `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ${'v'.repeat(20)}\r\n\r\n`;
    expect(err(chunked, { options: { maxHeaderSize: 60 } })).toBeNull();
    expect(err(chunked, { options: { maxHeaderSize: 25 } })).toBe('HEADERS_TOO_LARGE');
  });

  it('maxBodySize: by Content-Length, chunked and until close, and 0', () => {
    const cl = (n: number) => req(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${n}`, 'x'.repeat(n));
    expect(err(cl(5), { options: { maxBodySize: 5 } })).toBeNull();
    expect(err(cl(6), { options: { maxBodySize: 5 } })).toBe('BODY_TOO_LARGE');
    expect(err(cl(0), { options: { maxBodySize: 0 } })).toBeNull();
    expect(err(cl(1), { options: { maxBodySize: 0 } })).toBe('BODY_TOO_LARGE');
    const ch = (sizes: number[]) => req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked', `${sizes.map((n) => `${n.toString(16)}\r\n${'y'.repeat(n)}\r\n`).join('')}0\r\n\r\n`);
    expect(err(ch([3, 2]), { options: { maxBodySize: 5 } })).toBeNull();
    expect(err(ch([3, 3]), { options: { maxBodySize: 5 } })).toBe('BODY_TOO_LARGE');
    expect(err(ch([1]), { options: { maxBodySize: 0 } })).toBe('BODY_TOO_LARGE');
    const eof = (n: number) => `HTTP/1.1 200 OK\r\n\r\n${'z'.repeat(n)}`;
    expect(parse(eof(5), { kind: 'response', options: { maxBodySize: 5 }, eof: true })).toMatchObject({ error: null, body: 'zzzzz', complete: 1 });
    expect(err(eof(6), { kind: 'response', options: { maxBodySize: 5 } })).toBe('BODY_TOO_LARGE');
    expect(parse(eof(50), { kind: 'response', eof: true })).toMatchObject({ error: null, complete: 1 });
    expect(parse(eof(0), { kind: 'response', options: { maxBodySize: 0 }, eof: true })).toMatchObject({ error: null, complete: 1 });
    expect(err(eof(1), { kind: 'response', options: { maxBodySize: 0 } })).toBe('BODY_TOO_LARGE');
  });

  it('maxChunkExtensionsSize counts the extension bytes of a message', () => {
    const ext = (e: string) => req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked', `1;${e}\r\na\r\n0\r\n\r\n`);
    expect(err(ext('abcd'), { options: { maxChunkExtensionsSize: 5 } })).toBeNull(); // ";abcd"
    expect(err(ext('abcde'), { options: { maxChunkExtensionsSize: 5 } })).toBe('CHUNK_EXTENSIONS_TOO_LARGE');
  });

  it('chunk sizes: up to 16 hex digits, and never past 2^53 − 1', () => {
    const size = (s: string) => req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked', `${s}\r\n`);
    expect(err(size('0000000000000001'))).toBeNull();
    expect(err(size('00000000000000001'))).toBe('CHUNK_SIZE_OVERFLOW');
    expect(err(size('1fffffffffffff'))).toBeNull();
    expect(err(size('20000000000000'))).toBe('CHUNK_SIZE_OVERFLOW');
    expect(err(size('1g'))).toBe('INVALID_CHUNK_SIZE');
    expect(err(size(';x'))).toBe('INVALID_CHUNK_SIZE');
  });

  it('chunk size followed by whitespace, then an extension or nothing', () => {
    const line = (s: string) => req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked', `${s}\r\nab\r\n0\r\n\r\n`);
    expect(parse(line('2 ;x=1')).body).toBe('ab');
    expect(parse(line('2\t;x=1')).body).toBe('ab');
    expect(err(line('2 x'))).toBe('INVALID_CHUNK_SIZE');
    expect(err(line('2 \tx'))).toBe('INVALID_CHUNK_SIZE');
    expect(err(line('2 '))).toBe('INVALID_CHUNK_SIZE'); // whitespace only before an extension (§7.1.1 BWS)
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked', '2\r\nabX\r\n0\r\n\r\n'))).toBe('INVALID_CHUNK_END');
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked', '2\r\nab\rX0\r\n\r\n'))).toBe('INVALID_CHUNK_END');
  });

  it('Content-Length: 1 to 15 digits', () => {
    expect(parse(req(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${'0'.repeat(14)}1`, 'x')).heads[0]!.contentLength).toBe(1);
    expect(err(req(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${'0'.repeat(15)}1`))).toBe('INVALID_CONTENT_LENGTH');
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: '))).toBe('INVALID_CONTENT_LENGTH');
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1a'))).toBe('INVALID_CONTENT_LENGTH');
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: /'))).toBe('INVALID_CONTENT_LENGTH');
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: :'))).toBe('INVALID_CONTENT_LENGTH');
  });
});

describe('status-lines', () => {
  const res = (line: string, rest = '\r\n') => `${line}\r\n${rest}`;
  it('three digits, a space, a reason of visible characters, spaces, tabs and obs-text', () => {
    expect(parse(res('HTTP/1.1 200 OK', 'Content-Length: 0\r\n\r\n'), { kind: 'response' }).heads[0]).toMatchObject({ statusCode: 200, statusMessage: 'OK', versionMinor: 1 });
    expect(parse(res('HTTP/1.0 404 Not\tFound \xe9', 'Content-Length: 0\r\n\r\n'), { kind: 'response' }).heads[0]).toMatchObject({ statusCode: 404, statusMessage: 'Not\tFound \xe9', versionMinor: 0 });
    expect(parse(res('HTTP/1.1 204 ', '\r\n'), { kind: 'response' }).heads[0]).toMatchObject({ statusCode: 204, statusMessage: '' });
    expect(parse(res('HTTP/1.1 999 X', 'Content-Length: 0\r\n\r\n'), { kind: 'response' }).heads[0]!.statusCode).toBe(999);
    expect(parse(res('HTTP/1.1 100 Continue', '\r\n'), { kind: 'response' }).heads[0]!.statusCode).toBe(100);
    for (const [line, code] of [
      ['HTTP/1.1 20 OK', 'INVALID_STATUS'],
      ['HTTP/1.1 2000 OK', 'INVALID_STATUS'],
      ['HTTP/1.1 2x0 OK', 'INVALID_STATUS'],
      ['HTTP/1.1 /00 OK', 'INVALID_STATUS'],
      ['HTTP/1.1 :00 OK', 'INVALID_STATUS'],
      ['HTTP/1.1  200 OK', 'INVALID_STATUS'],
      ['HTTP/1.1\t200 OK', 'INVALID_STATUS'],
      ['HTTP/1.1 200 O\x01K', 'INVALID_STATUS'],
      ['HTTP/1.1 200 O\x7fK', 'INVALID_STATUS'],
      ['HTTP/2.0 200 OK', 'INVALID_STATUS'],
      ['HTTP/1.2 200 OK', 'INVALID_STATUS'],
      ['HTTP/1,1 200 OK', 'INVALID_STATUS'],
      ['HTTP/x.1 200 OK', 'INVALID_STATUS'],
      ['HTTP/1.x 200 OK', 'INVALID_STATUS'],
      ['HTTX/1.1 200 OK', 'INVALID_STATUS'],
      ['HTTP/1.10 200 OK', 'INVALID_STATUS'],
    ] as const) {
      expect(err(res(line, 'Content-Length: 0\r\n\r\n'), { kind: 'response' }), line).toBe(code);
    }
    expect(err('HTTP/1.1 200\nContent-Length: 0\r\n\r\n', { kind: 'response' })).toBe('BARE_LF');
    expect(err('HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', { kind: 'response' })).toBe('BARE_LF');
    expect(err('HTTP/1.1 200\rX', { kind: 'response' })).toBe('BARE_CR');
    expect(err('HTTP/1.1 200 OK\rX', { kind: 'response' })).toBe('BARE_CR');
  });

  it('request versions: 1.0 and 1.1 only; others are 505 or malformed', () => {
    expect(err(req('GET / HTTP/1.0'))).toBeNull();
    expect(err(req('GET / HTTP/2.0\r\nHost: h'))).toBe('VERSION_NOT_SUPPORTED');
    expect(err(req('GET / HTTP/1.2\r\nHost: h'))).toBe('VERSION_NOT_SUPPORTED');
    expect(err(req('GET / HTTP/0.9\r\nHost: h'))).toBe('VERSION_NOT_SUPPORTED');
    for (const v of ['HTTP/1,1', 'HTTP/11', 'HTTP/1.1x', 'HTTQ/1.1', 'HTTP/a.1', 'HTTP/1.a']) expect(err(req(`GET / ${v}\r\nHost: h`)), v).toBe('INVALID_VERSION');
    expect(err('GET / HTTP/1.1\rX')).toBe('BARE_CR');
    expect(err('GET / HTTP/1.1\n\r\n')).toBe('BARE_LF');
    expect(err('GET /\r\n')).toBe('INVALID_REQUEST_LINE');
    expect(err('GET  / HTTP/1.1\r\n')).toBe('INVALID_REQUEST_LINE');
  });
});

describe('field names the parser acts on', () => {
  it('are found in any case, and names that only look like them are not', () => {
    const cl = (name: string) => parse(req(`POST / HTTP/1.1\r\nHost: h\r\n${name}: 2`, 'ab')).heads[0]!.contentLength;
    for (const n of ['Content-Length', 'content-length', 'CONTENT-LENGTH', 'cOnTeNt-LeNgTh']) expect(cl(n), n).toBe(2);
    for (const n of ['Content-Lengtx', 'Xontent-Length', 'Content_Length', 'Content-Lengt']) expect(cl(n), n).toBe(-1);
    const host = (name: string) => err(req(`GET / HTTP/1.1\r\n${name}: h`));
    for (const n of ['Host', 'host', 'HOST', 'hOsT']) expect(host(n), n).toBeNull();
    for (const n of ['Hosx', 'Xost', 'Hos', 'Hostt']) expect(host(n), n).toBe('MISSING_HOST');
    const te = (name: string) => parse(`HTTP/1.1 200 OK\r\n${name}: chunked\r\n\r\n0\r\n\r\n`, { kind: 'response', eof: true }).heads[0]!.chunked;
    for (const n of ['Transfer-Encoding', 'transfer-encoding', 'TRANSFER-ENCODING']) expect(te(n), n).toBe(true);
    for (const n of ['Transfer-Encodinx', 'Xransfer-Encoding']) expect(te(n), n).toBe(false);
    const conn = (name: string) => parse(req(`GET / HTTP/1.1\r\nHost: h\r\n${name}: close`)).heads[0]!.keepAlive;
    for (const n of ['Connection', 'connection', 'CONNECTION']) expect(conn(n), n).toBe(false);
    for (const n of ['Connectiox', 'Xonnection']) expect(conn(n), n).toBe(true);
    const ex = (name: string) => parse(req(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n${name}: 100-continue`)).heads[0]!.expectContinue;
    for (const n of ['Expect', 'expect', 'EXPECT']) expect(ex(n), n).toBe(true);
    for (const n of ['Expecx', 'Xxpect']) expect(ex(n), n).toBe(false);
    const up = (name: string) => parse(req(`GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n${name}: websocket`)).heads[0]!.upgrade;
    for (const n of ['Upgrade', 'upgrade', 'UPGRADE']) expect(up(n), n).toBe(true);
    for (const n of ['Upgradx', 'Xpgrade']) expect(up(n), n).toBe(false);
  });
});

describe('framing and persistence', () => {
  const head = (r: Outcome) => r.heads[0]!;
  it('keep-alive: HTTP/1.1 unless close; HTTP/1.0 only with keep-alive; any case, in lists', () => {
    const ka = (v: string, c: string) => head(parse(req(`GET / HTTP/${v}\r\nHost: h${c === '' ? '' : `\r\nConnection: ${c}`}`))).keepAlive;
    expect(ka('1.1', '')).toBe(true);
    expect(ka('1.1', 'close')).toBe(false);
    expect(ka('1.1', 'Close')).toBe(false);
    expect(ka('1.1', 'foo, close')).toBe(false);
    expect(ka('1.1', 'keep-alive')).toBe(true);
    expect(ka('1.0', '')).toBe(false);
    expect(ka('1.0', 'keep-alive')).toBe(true);
    expect(ka('1.0', 'Keep-Alive')).toBe(true);
    expect(ka('1.0', 'foo, keep-alive')).toBe(true);
    expect(ka('1.0', 'keep-alive, close')).toBe(false);
    expect(ka('1.0', 'close')).toBe(false);
    expect(ka('1.0', 'keep-alivex')).toBe(false);
  });

  it('upgrade: Upgrade with Connection: upgrade, in HTTP/1.1 only; CONNECT; a 101 response', () => {
    const up = (v: string, h: string) => head(parse(req(`GET / HTTP/${v}\r\nHost: h\r\n${h}`))).upgrade;
    expect(up('1.1', 'Upgrade: websocket\r\nConnection: Upgrade')).toBe(true);
    expect(up('1.1', 'Upgrade: websocket\r\nConnection: keep-alive, upgrade')).toBe(true);
    expect(up('1.1', 'Upgrade: websocket\r\nConnection: keep-alive')).toBe(false);
    expect(up('1.1', 'Connection: upgrade')).toBe(false);
    expect(up('1.0', 'Upgrade: websocket\r\nConnection: upgrade')).toBe(false);
    const r = parse('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', { kind: 'response' });
    expect(head(r)).toMatchObject({ upgrade: true });
    expect(r.complete).toBe(1);
  });

  it('Expect: 100-continue (any case, exactly) in HTTP/1.1 requests only', () => {
    const ex = (v: string, e: string, kind: Kind = 'request') =>
      head(parse(kind === 'request' ? req(`POST / HTTP/${v}\r\nHost: h\r\nContent-Length: 0\r\nExpect: ${e}`) : `HTTP/${v} 200 OK\r\nContent-Length: 0\r\nExpect: ${e}\r\n\r\n`, { kind })).expectContinue;
    expect(ex('1.1', '100-continue')).toBe(true);
    expect(ex('1.1', '100-Continue')).toBe(true);
    expect(ex('1.1', '100-continuex')).toBe(false);
    expect(ex('1.1', '100-continu')).toBe(false);
    expect(ex('1.1', '200-continue')).toBe(false);
    expect(ex('1.0', '100-continue')).toBe(false);
    expect(ex('1.1', '100-continue', 'response')).toBe(false);
    expect(head(parse(req('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0'))).expectContinue).toBe(false);
  });

  it('Transfer-Encoding with Content-Length: refused in requests, overrides it in responses', () => {
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked'))).toBe('CONTENT_LENGTH_WITH_TRANSFER_ENCODING');
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nTransfer-Encoding: chunked'))).toBe('CONTENT_LENGTH_WITH_TRANSFER_ENCODING');
    const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n', { kind: 'response' });
    expect(r).toMatchObject({ error: null, body: 'ab', complete: 1 });
    expect(head(r)).toMatchObject({ contentLength: -1, chunked: true, keepAlive: true });
    expect(err(req('POST / HTTP/1.0\r\nTransfer-Encoding: chunked'))).toBe('TRANSFER_ENCODING_IN_HTTP10');
    expect(parse('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n', { kind: 'response' })).toMatchObject({ error: null, body: 'a' });
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip'))).toBe('CHUNKED_NOT_LAST');
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked'))).toBe('UNSUPPORTED_TRANSFER_CODING');
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked'))).toBe('CHUNKED_TWICE');
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked'))).toBe('CHUNKED_TWICE');
    const gz = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz', { kind: 'response', eof: true });
    expect(gz).toMatchObject({ error: null, body: 'zz', complete: 1 });
    expect(head(gz)).toMatchObject({ keepAlive: false, chunked: false });
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nq\r\n0\r\n\r\n', { kind: 'response' })).toMatchObject({ error: null, body: 'q' });
  });

  it('responses without a body: 1xx (then the final one), 204, 304, HEAD answers; others without framing run until close', () => {
    const r = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { kind: 'response' });
    expect(r).toMatchObject({ error: null, body: 'ok', complete: 3 });
    expect(r.heads.map((h) => [h.statusCode, h.keepAlive])).toEqual([[100, true], [103, true], [200, true]]);
    for (const st of [204, 304]) {
      const n = parse(`HTTP/1.1 ${st} X\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`, { kind: 'response' });
      expect(n, String(st)).toMatchObject({ error: null, body: '', complete: 2 });
      const bare = parse(`HTTP/1.1 ${st} X\r\n\r\n`, { kind: 'response' });
      expect(bare.heads[0]!.keepAlive, String(st)).toBe(true);
    }
    expect(parse('HTTP/1.1 199 X\r\n\r\n', { kind: 'response' }).heads[0]!.keepAlive).toBe(true);
    expect(parse('HTTP/1.1 200 X\r\n\r\n', { kind: 'response' }).heads[0]!.keepAlive).toBe(false);
    expect(parse('HTTP/1.1 205 X\r\n\r\n', { kind: 'response' }).heads[0]!.keepAlive).toBe(false);
    expect(parse('HTTP/1.1 099 X\r\n\r\n', { kind: 'response' }).heads[0]!.keepAlive).toBe(false);
    // Below 100 is not interim: without framing the body runs until close.
    expect(parse('HTTP/1.1 099 X\r\n\r\nzz', { kind: 'response', eof: true })).toMatchObject({ error: null, body: 'zz', complete: 1 });
    // A coding other than chunked last: the body runs until close, whatever the status says.
    expect(parse('HTTP/1.1 204 X\r\nTransfer-Encoding: gzip\r\n\r\n', { kind: 'response' }).heads[0]!.keepAlive).toBe(false);
    const head = parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx', { kind: 'response', onHead: (h) => h.contentLength === 5 });
    expect(head).toMatchObject({ error: null, body: 'x', complete: 2 });
  });

  it('expectNoBody(): the next response answers HEAD', () => {
    const out: string[] = [];
    const p = new Http1Parser('response', { onHeadersComplete: (h) => void out.push(`head ${h.contentLength}`), onBody: (b) => void out.push(`body ${b}`), onMessageComplete: () => void out.push('done') });
    p.expectNoBody();
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'));
    expect(out).toEqual(['head 3', 'done', 'head 3', 'body abc', 'done']);
    const q = new Http1Parser('response', { onHeadersComplete: () => undefined, onBody: () => undefined, onMessageComplete: () => void out.push('q done') });
    q.expectNoBody();
    q.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
    expect(out.at(-1)).toBe('q done');
  });

  it('requests: no framing is no body; a Content-Length of 0 completes at once; Host rules', () => {
    expect(parse(req('POST / HTTP/1.1\r\nHost: h', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'))).toMatchObject({ error: null, complete: 2, body: '' });
    expect(parse(req('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0'))).toMatchObject({ error: null, complete: 1 });
    expect(err(req('GET / HTTP/1.1'))).toBe('MISSING_HOST');
    expect(err(req('GET / HTTP/1.1'), { options: { requireHost: false } })).toBeNull();
    expect(err(req('GET / HTTP/1.0'))).toBeNull();
    expect(err(req('GET / HTTP/1.0\r\nHost: a\r\nHost: b'))).toBe('DUPLICATE_HOST');
    expect(err(req('GET / HTTP/1.1\r\nHost: a\r\nHost: a'), { options: { requireHost: false } })).toBe('DUPLICATE_HOST');
    expect(parse('HTTP/1.1 200 OK\r\nHost: a b\r\nHost: c\r\nContent-Length: 0\r\n\r\n', { kind: 'response' }).error).toBeNull();
    expect(err(req('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1'))).toBe('DUPLICATE_CONTENT_LENGTH');
  });

  it('field lines: a colon is required; no whitespace before it; no folding; values trimmed of spaces and tabs', () => {
    expect(err(req('GET / HTTP/1.1\r\nHost: h\r\nNoColon'))).toBe('INVALID_HEADER_NAME');
    expect(err('GET / HTTP/1.1\r\nHost: h\r\nNoColon\r'.concat('\n\r\n'))).toBe('INVALID_HEADER_NAME');
    expect(err(req('GET / HTTP/1.1\r\nHost : h'))).toBe('WHITESPACE_BEFORE_COLON');
    expect(err(req('GET / HTTP/1.1\r\nHost\t: h'))).toBe('WHITESPACE_BEFORE_COLON');
    expect(err(req('GET / HTTP/1.1\r\nHost: h\r\n folded'))).toBe('OBS_FOLD');
    expect(err(req('GET / HTTP/1.1\r\nHost: h\r\n\tfolded'))).toBe('OBS_FOLD');
    const r = parse(req('GET / HTTP/1.1\r\nHost: h\r\nA: \t x \t \r\nB:\r\nC:\t\r\nD:  y z  '));
    expect(r.heads[0]!.headers).toEqual(['Host', 'h', 'A', 'x', 'B', '', 'C', '', 'D', 'y z']);
    expect(err('GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n')).toBe('BARE_LF');
    expect(err('GET / HTTP/1.1\r\nHost: h\r\nX: y\rz\r\n\r\n')).toBe('BARE_CR');
    expect(err('GET / HTTP/1.1\r\nHost: h\r\nX: y\x00z\r\n\r\n')).toBe('INVALID_HEADER_VALUE');
    expect(err('GET / HTTP/1.1\r\nHost: h\r\n\rX')).toBe('BARE_CR');
  });

  it('trailers: kept and reported, never framing or routing fields', () => {
    const t = (trailer: string) => req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked', `1\r\na\r\n0\r\n${trailer}\r\n\r\n`);
    expect(parse(t('X-Sum: 1'))).toMatchObject({ error: null, body: 'a', trailers: [['X-Sum', '1']], complete: 1 });
    for (const f of ['Content-Length: 1', 'Transfer-Encoding: chunked', 'Host: h']) expect(err(t(f)), f).toBe('FORBIDDEN_TRAILER');
    expect(parse(req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked', '0\r\n\r\n'))).toMatchObject({ trailers: [], complete: 1 });
    expect(parse(t('Connection: close')).heads[0]!.keepAlive).toBe(true); // trailers never change framing or persistence
  });
});

describe('errors name what was wrong', () => {
  it('the detail of each refusal, wherever the input is cut', () => {
    expect(message(req('PATCHX / HTTP/1.1\r\nHost: h'), { options: { maxMethodLength: 5 } })).toBe('invalid method: too long (RFC 9112 §3.1)');
    expect(message('GET /\r\n\r\n')).toBe('malformed request-line: missing HTTP-version (RFC 9112 §3)');
    expect(message('GET  / HTTP/1.1\r\n\r\n')).toBe('malformed request-line: empty request-target (RFC 9112 §3)');
    expect(message('HTTP/1.1X200 OK\r\n\r\n', { kind: 'response' })).toBe('malformed status-line: expected SP after HTTP-version (RFC 9112 §4)');
    expect(message('HTTP/1.1 2000 OK\r\n\r\n', { kind: 'response' })).toBe('malformed status-line: status code must be 3 digits (RFC 9112 §4)');
    expect(message('HTTP/1.1 200X OK\r\n\r\n', { kind: 'response' })).toMatch(/^malformed status-line/);
    expect(message('HTTP/1.1 200 O\x01K\r\n\r\n', { kind: 'response' })).toBe('malformed status-line: invalid character in reason-phrase (RFC 9112 §4)');
    expect(message('GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n')).toBe('invalid character in field name: field line without colon (RFC 9110 §5.1)');
    expect(message('GET / HTTP/1.1\r\nHost: h\r\nNoColon\n\r\n')).toBe('invalid character in field name: field line without colon (RFC 9110 §5.1)');
    const chunk = (line: string) => req('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked', `${line}\r\nab\r\n0\r\n\r\n`);
    expect(message(chunk('2 '))).toBe('invalid chunk size: whitespace after chunk size (RFC 9112 §7.1)');
    expect(message(chunk('2 x'))).toBe('invalid chunk size (RFC 9112 §7.1)');
    expect(message(chunk('2x'))).toBe('invalid chunk size (RFC 9112 §7.1)');
    expect(message(chunk('2;x'))).toBeNull();
    expect(message(chunk('2\t;x'))).toBeNull();
    expect(message(req('GET / HTTP/1.1\r\nHost: h', '\r'))).toBeNull();
  });

  it('the head-size limit counts the request-line too: 431 wherever the input is cut (414 is maxUrlLength\'s)', () => {
    const long = `GET /${'a'.repeat(40)} HTTP/1.1\r\nHost: h\r\n\r\n`;
    expect(message(long, { options: { maxHeaderSize: 20, maxUrlLength: 100 } })).toBe('header section larger than the limit (RFC 6585 §5)');
    expect(message(`${'GET'.padEnd(25, 'T')} / HTTP/1.1\r\nHost: h\r\n\r\n`, { options: { maxHeaderSize: 20 } })).toBe('header section larger than the limit (RFC 6585 §5)');
    expect(message(`GET / HTTP/1.1\r\nHost: h\r\nX: ${'v'.repeat(40)}\r\n\r\n`, { options: { maxHeaderSize: 30 } })).toBe('header section larger than the limit (RFC 6585 §5)');
    expect(message(long, { options: { maxUrlLength: 20 } })).toBe('request-target longer than the limit (RFC 9110 §15.5.15)');
  });

  it('the head-size limit counts each head from where it starts, across chunks and after a body', () => {
    const head = 'GET /b HTTP/1.1\r\nHost: h\r\n\r\n';
    const first = `POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 30\r\n\r\n${'x'.repeat(30)}`;
    const all = first + head;
    const max = first.length - 30; // the larger head
    for (let k = 1; k < all.length; k++) {
      const r = parseWith('request', { maxHeaderSize: max }, [all.slice(0, k), all.slice(k)], false);
      expect(r.error, `cut at ${k}`).toBeNull();
      expect(r.complete, `cut at ${k}`).toBe(2);
    }
    const r = parseWith('request', { maxHeaderSize: head.length - 1 }, [first + head.slice(0, 10), head.slice(10)], false);
    expect(r.error).toBe('HEADERS_TOO_LARGE');
  });
});

describe('the parser object', () => {
  const noop = { onHeadersComplete: () => undefined, onBody: () => undefined, onMessageComplete: () => undefined };

  it('pause() stops after the head or the message and execute returns where; resume() goes on', () => {
    const urls: string[] = [];
    const two = Buffer.from('GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n');
    const p = new Http1Parser('request', { ...noop, onHeadersComplete: (h) => void urls.push(h.url), onMessageComplete: () => p.pause() });
    const n = p.execute(two);
    expect(n).toBe(two.indexOf('GET /b'));
    expect(p.paused).toBe(true);
    expect(urls).toEqual(['/a']);
    expect(p.execute(two.subarray(n))).toBe(0);
    p.resume();
    expect(p.paused).toBe(false);
    expect(p.execute(two.subarray(n))).toBe(two.length - n);
    expect(urls).toEqual(['/a', '/b']);
    // Paused in onHeadersComplete: execute stops before the body (fast path and state machine alike).
    const body = Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nabGET /c HTTP/1.1\r\nHost: h\r\n\r\n');
    const bodies: string[] = [];
    const q = new Http1Parser('request', { ...noop, onBody: (b) => void bodies.push(String(b)), onHeadersComplete: () => q.pause() });
    expect(q.execute(body)).toBe(body.indexOf('ab'));
    expect(bodies).toEqual([]);
    q.resume();
    const rest = body.subarray(body.indexOf('ab'));
    expect(q.execute(rest)).toBe(rest.length); // the body, then the next head, which pauses again
    expect(bodies).toEqual(['ab']);
    expect(q.paused).toBe(true);
    const chunked = Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nGET /d HTTP/1.1\r\nHost: h\r\n\r\n');
    const r = new Http1Parser('request', { ...noop, onMessageComplete: () => r.pause() });
    expect(r.execute(chunked)).toBe(chunked.indexOf('GET /d'));
    const cl = new Http1Parser('request', { ...noop, onMessageComplete: () => cl.pause() });
    expect(cl.execute(body)).toBe(body.indexOf('GET /c'));
    const split = new Http1Parser('request', { ...noop, onHeadersComplete: () => split.pause() });
    expect(split.execute(Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nContent-Le'))).toBe(36);
    expect(split.execute(Buffer.from('ngth: 1\r\n\r\nx'))).toBe(11); // up to the body
  });

  it('idle between messages; finish() mid-message is INCOMPLETE_MESSAGE, between messages nothing', () => {
    const p = new Http1Parser('request', noop);
    expect(p.idle).toBe(true);
    p.execute(Buffer.from('GET / HTTP/1.1\r\nHost: h\r\n\r\n'));
    expect(p.idle).toBe(true);
    expect(() => p.finish()).not.toThrow();
    p.execute(Buffer.from('G'));
    expect(p.idle).toBe(false);
    expect(() => p.finish()).toThrow(expect.objectContaining({ code: 'INCOMPLETE_MESSAGE', status: 400 }));
    for (const partial of ['GET / HTTP/1.1\r\nHo', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\na', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n']) {
      const q = new Http1Parser('request', noop);
      q.execute(Buffer.from(partial));
      expect(() => q.finish(), partial).toThrow(expect.objectContaining({ code: 'INCOMPLETE_MESSAGE' }));
    }
    const cr = new Http1Parser('request', noop);
    cr.execute(Buffer.from('\r'));
    expect(cr.idle).toBe(false); // half an empty line
    expect(() => cr.finish()).toThrow(expect.objectContaining({ code: 'INCOMPLETE_MESSAGE' }));
    const mid = new Http1Parser('request', noop);
    mid.execute(Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\na'));
    expect(mid.idle).toBe(false); // in a body: nothing saved, but not between messages
    const blank = new Http1Parser('request', noop);
    blank.execute(Buffer.from('\r\n'));
    expect(blank.idle).toBe(true);
    expect(() => blank.finish()).not.toThrow();
    const closed = new Http1Parser('request', noop);
    closed.execute(Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nignored'));
    expect(() => closed.finish()).not.toThrow();
    const failed = new Http1Parser('request', noop);
    expect(() => failed.execute(Buffer.from('G@T'))).toThrow(Http1ParseError);
    expect(() => failed.finish()).not.toThrow();
    expect(() => failed.execute(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(expect.objectContaining({ code: 'INVALID_METHOD' }));
  });

  it('an upgrade stops the parser; a declined one goes back to HTTP (or to closed without keep-alive)', () => {
    const urls: string[] = [];
    const input = Buffer.from('GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n');
    const p = new Http1Parser('request', { ...noop, onHeadersComplete: (h) => void urls.push(h.url) });
    const n = p.execute(input);
    expect(n).toBe(input.indexOf('GET /next'));
    expect(p.upgraded).toBe(true);
    expect(p.execute(input.subarray(n))).toBe(0);
    expect(() => p.finish()).not.toThrow();
    p.resumeAfterUpgrade();
    expect(p.upgraded).toBe(false);
    expect(p.execute(input.subarray(n))).toBe(input.length - n);
    expect(urls).toEqual(['/ws', '/next']);
    p.resumeAfterUpgrade(); // not upgraded: nothing changes
    expect(p.idle).toBe(true);
    const half = new Http1Parser('request', { ...noop, onHeadersComplete: (h) => void urls.push(h.url) });
    half.execute(Buffer.from('GET /half HT'));
    half.resumeAfterUpgrade(); // mid-message: nothing changes either
    half.execute(Buffer.from('TP/1.1\r\nHost: h\r\n\r\n'));
    expect(urls.at(-1)).toBe('/half');
    const close = new Http1Parser('request', { ...noop, onHeadersComplete: (h) => void urls.push(h.url) });
    const c = Buffer.from('GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade, close\r\n\r\nGET /never HTTP/1.1\r\nHost: h\r\n\r\n');
    const m = close.execute(c);
    close.resumeAfterUpgrade();
    expect(close.execute(c.subarray(m))).toBe(c.length - m);
    expect(urls).not.toContain('/never');
  });

  it('the optional events, in order, with whole strings', () => {
    const log: string[] = [];
    const p = new Http1Parser('request', {
      onMessageBegin: () => void log.push('begin'),
      onMethod: (m) => void log.push(`method ${m}`),
      onUrl: (u) => void log.push(`url ${u}`),
      onHeader: (n, v) => void log.push(`header ${n}=${v}`),
      onHeadersComplete: () => void log.push('head'),
      onBody: (b) => void log.push(`body ${b}`),
      onMessageComplete: () => void log.push('complete'),
    });
    const input = 'POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx';
    for (const split of [[input], [...input]]) {
      log.length = 0;
      const q = new Http1Parser('request', (p as unknown as { handler: Http1ParserHandler }).handler);
      for (const piece of split) q.execute(Buffer.from(piece));
      expect(log).toEqual(['begin', 'method POST', 'url /u', 'header Host=h', 'header Content-Length=1', 'head', 'body x', 'complete']);
    }
  });

  it('a token split across chunks is kept in scratch space from the allocator, given back by dispose()', () => {
    const acquired: number[] = [];
    let released = 0;
    const scratch = { acquire: (n: number) => (acquired.push(n), Buffer.alloc(n)), release: () => void released++ };
    const p = new Http1Parser('request', noop, { scratch });
    p.execute(Buffer.from('GET /long-path'));
    p.execute(Buffer.from('-continues HTTP/1.1\r\nHost: h\r\n\r\n'));
    expect(acquired.length).toBe(1);
    expect(acquired[0]).toBeGreaterThanOrEqual('/long-path-continues'.length);
    p.dispose();
    expect(released).toBe(1);
    p.dispose();
    expect(released).toBe(1);
    const fresh = new Http1Parser('request', noop, { scratch });
    fresh.dispose();
    expect(released).toBe(1);
    const plain = new Http1Parser('request', noop);
    plain.execute(Buffer.from('GET /a'));
    plain.execute(Buffer.from('b HTTP/1.1\r\nHost: h\r\n\r\n'));
    plain.dispose();
  });

  it('the defaults', () => {
    const p = new Http1Parser('request', noop);
    expect([p.maxUrlLength, p.maxMethodLength, p.maxHeaderSize, p.maxHeaderCount, p.maxChunkExtensionsSize, p.maxBodySize, p.requireHost]).toEqual([8192, 32, 16384, 100, 16384, -1, true]);
  });

  it('a handler that throws leaves the error to the caller; the parser is not marked failed by it', () => {
    const p = new Http1Parser('request', { ...noop, onHeadersComplete: () => {
      throw new Error('handler');
    } });
    expect(() => p.execute(Buffer.from('GET / HTTP/1.1\r\nHost: h\r\n\r\n'))).toThrow('handler');
    expect(p.error).toBeNull();
  });
});

describe('error offsets on the whole-head path', () => {
  /** The error of parsing `input` as one chunk (the whole-head path), with its offset. */
  const failAt = (input: string, options: Http1ParserOptions = {}): [string, number] => {
    const p = new Http1Parser('request', { onHeadersComplete() {}, onBody() {}, onMessageComplete() {} }, options);
    try {
      p.execute(Buffer.from(input, 'latin1'));
    } catch (e) {
      if (e instanceof Http1ParseError) return [e.code, e.offset];
      throw e;
    }
    return ['none', -1];
  };
  const first = 'GET /a HTTP/1.1\r\nHost: a\r\n\r\n';

  it("name the chunk's byte, for the first request and for one pipelined behind it", () => {
    for (const before of ['', first, first + first]) {
      const bad = `${before}GET /b HTTP/1.1\r\nX: 1\r\nHost: a b\r\n\r\n`;
      expect([before.length, ...failAt(bad)]).toEqual([before.length, 'INVALID_HOST', bad.indexOf('\r', bad.indexOf('Host: a b'))]);
      const many = `${before}GET /b HTTP/1.1\r\nHost: a\r\nX: 1\r\nY: 2\r\n\r\n`;
      expect([before.length, ...failAt(many, { maxHeaderCount: 2 })]).toEqual([before.length, 'TOO_MANY_HEADERS', many.indexOf('Y: 2')]);
    }
  });
});
