import { describe, expect, it } from 'vitest';
import { Http1Parser, Http1ParseError, HTTP1_ERRORS } from '../../lib/http1/index.js';
import { allSplits, b, ours, run, type Event } from '../../fuzz/http1/events.js';

/** Asserts that every split of `input` gives the same result as one chunk, and returns that result. */
function parseEverySplit(input: string, kind: 'request' | 'response' = 'request', options = {}, eof = false) {
  const buf = b(input);
  const make = ours(options);
  const whole = run(buf, [], kind, make, eof);
  for (const splits of allSplits(buf)) {
    const r = run(buf, splits, kind, make, eof);
    // Bytes consumed before an error depend on where the input was cut; everything else must not.
    expect({ splits, events: r.events, error: r.error, consumed: r.error ? 0 : r.consumed }).toEqual({
      splits,
      events: whole.events,
      error: whole.error,
      consumed: whole.error ? 0 : whole.consumed,
    });
  }
  return whole;
}

const heads = (events: Event[]) => events.filter((e) => e.type === 'head');

describe('request-line', () => {
  it('parses a simple GET with every split', () => {
    const r = parseEverySplit('GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\n\r\n');
    expect(r.error).toBeNull();
    expect(r.events).toEqual([
      {
        type: 'head', method: 'GET', url: '/a/b?c=d', version: '1.1', status: 0, reason: '',
        headers: ['Host', 'example.com'], keepAlive: true, upgrade: false, contentLength: -1, chunked: false,
      },
      { type: 'complete' },
    ]);
  });

  it('accepts extension methods (any token) and absolute-form / asterisk-form targets', () => {
    expect(heads(parseEverySplit('PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n').events)[0]).toMatchObject({ method: 'PURGE' });
    expect(heads(parseEverySplit('GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n').events)[0]).toMatchObject({ url: 'http://a/x' });
    expect(heads(parseEverySplit('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n').events)[0]).toMatchObject({ url: '*' });
  });

  it('ignores empty lines before the request-line (RFC 9112 §2.2)', () => {
    const r = parseEverySplit('\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.error).toBeNull();
    expect(heads(r.events)).toHaveLength(1);
  });

  const bad: Array<[string, string, string, number]> = [
    ['lowercase-only method with a bad char', 'G@T / HTTP/1.1\r\n\r\n', 'INVALID_METHOD', 400],
    ['empty method', ' / HTTP/1.1\r\n\r\n', 'INVALID_METHOD', 400],
    ['method longer than the limit', `${'A'.repeat(40)} / HTTP/1.1\r\n\r\n`, 'INVALID_METHOD', 400],
    ['two spaces after the method', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 'INVALID_REQUEST_LINE', 400],
    ['two spaces before the version', 'GET /  HTTP/1.1\r\nHost: a\r\n\r\n', 'INVALID_VERSION', 400],
    ['missing version', 'GET /\r\n\r\n', 'INVALID_REQUEST_LINE', 400],
    ['control char in target', 'GET /a\x01b HTTP/1.1\r\n\r\n', 'INVALID_TARGET', 400],
    ['non-ASCII in target', 'GET /caf\xe9 HTTP/1.1\r\n\r\n', 'INVALID_TARGET', 400],
    ['asterisk-form with GET (only OPTIONS may use *)', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', 'INVALID_TARGET', 400],
    ['malformed version', 'GET / HTTP/1.x\r\n\r\n', 'INVALID_VERSION', 400],
    ['lowercase protocol name', 'GET / http/1.1\r\n\r\n', 'INVALID_VERSION', 400],
    ['trailing space after version', 'GET / HTTP/1.1 \r\n\r\n', 'INVALID_VERSION', 400],
    ['HTTP/2.0 on the HTTP/1 parser', 'GET / HTTP/2.0\r\n\r\n', 'VERSION_NOT_SUPPORTED', 505],
    ['HTTP/0.9', 'GET / HTTP/0.9\r\n\r\n', 'VERSION_NOT_SUPPORTED', 505],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n', 'VERSION_NOT_SUPPORTED', 505],
    ['bare LF ending the request-line', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 'BARE_LF', 400],
    ['bare CR ending the request-line', 'GET / HTTP/1.1\rHost: a\r\n\r\n', 'BARE_CR', 400],
    ['bare LF before the request-line', '\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', 'BARE_LF', 400],
    ['bare CR before the request-line', '\rGET / HTTP/1.1\r\nHost: a\r\n\r\n', 'BARE_CR', 400],
  ];
  for (const [name, input, code, status] of bad) {
    it(`rejects ${name} → ${status} ${code}`, () => {
      const r = parseEverySplit(input);
      expect(r.error).toBe(code);
      expect(r.status).toBe(status);
      expect(r.events).toEqual([]);
    });
  }

  it('answers 414 for a target longer than maxUrlLength, whatever the split', () => {
    const r = parseEverySplit(`GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`, 'request', { maxUrlLength: 50 });
    expect(r.error).toBe('URI_TOO_LONG');
    expect(r.status).toBe(414);
  });
});

describe('header section', () => {
  it('trims OWS around values and keeps names as sent', () => {
    const r = parseEverySplit('GET / HTTP/1.1\r\nHost:a\r\nX-Foo: \t bar baz \t \r\nx-empty:\r\nX-Empty2:   \r\n\r\n');
    expect(heads(r.events)[0]!.headers).toEqual(['Host', 'a', 'X-Foo', 'bar baz', 'x-empty', '', 'X-Empty2', '']);
  });

  it('trims spaces around values when the head has no tab (the whole-head path trims SP only)', () => {
    const r = parseEverySplit('GET / HTTP/1.0\r\nHost:a\r\nX-Foo:   bar baz   \r\nX-Empty:   \r\nConnection: keep-alive\r\n\r\n');
    expect(heads(r.events)[0]).toMatchObject({
      headers: ['Host', 'a', 'X-Foo', 'bar baz', 'X-Empty', '', 'Connection', 'keep-alive'],
      version: '1.0',
      keepAlive: true,
    });
  });

  it('keeps obs-text (bytes 0x80-0xFF) in values as latin1', () => {
    const r = parseEverySplit('GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\xe9\r\n\r\n');
    expect(heads(r.events)[0]!.headers[3]).toBe('café');
  });

  const bad: Array<[string, string, string, number]> = [
    ['obs-fold (RFC 9112 §5.2)', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n', 'OBS_FOLD', 400],
    ['obs-fold with HTAB', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n', 'OBS_FOLD', 400],
    ['whitespace before the colon (RFC 9112 §5.1)', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'WHITESPACE_BEFORE_COLON', 400],
    ['empty field name', 'GET / HTTP/1.1\r\n: a\r\n\r\n', 'INVALID_HEADER_NAME', 400],
    ['non-token char in a field name', 'GET / HTTP/1.1\r\nX(A): a\r\n\r\n', 'INVALID_HEADER_NAME', 400],
    ['field line without a colon', 'GET / HTTP/1.1\r\nHost a\r\n\r\n', 'WHITESPACE_BEFORE_COLON', 400],
    ['field line without colon or space', 'GET / HTTP/1.1\r\nHosta\r\n\r\n', 'INVALID_HEADER_NAME', 400],
    ['NUL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n', 'INVALID_HEADER_VALUE', 400],
    ['DEL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7fc\r\n\r\n', 'INVALID_HEADER_VALUE', 400],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n', 'BARE_CR', 400],
    ['bare LF ending a field line', 'GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n', 'BARE_LF', 400],
    ['bare LF ending the header section', 'GET / HTTP/1.1\r\nHost: a\r\n\n', 'BARE_LF', 400],
    ['CR not followed by LF ending the section', 'GET / HTTP/1.1\r\nHost: a\r\n\rX', 'BARE_CR', 400],
    ['missing Host in HTTP/1.1 (RFC 9112 §3.2)', 'GET / HTTP/1.1\r\nX-A: b\r\n\r\n', 'MISSING_HOST', 400],
    ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'DUPLICATE_HOST', 400],
    ['two Host fields in HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n', 'DUPLICATE_HOST', 400],
    ['Host with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 'INVALID_HOST', 400],
    ['Host with a slash', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 'INVALID_HOST', 400],
  ];
  for (const [name, input, code, status] of bad) {
    it(`rejects ${name} → ${status} ${code}`, () => {
      const r = parseEverySplit(input);
      expect(r.error).toBe(code);
      expect(r.status).toBe(status);
    });
  }

  it('accepts HTTP/1.0 without Host, and an empty Host', () => {
    expect(parseEverySplit('GET / HTTP/1.0\r\n\r\n').error).toBeNull();
    expect(parseEverySplit('GET / HTTP/1.1\r\nHost:\r\n\r\n').error).toBeNull();
    expect(parseEverySplit('GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n').error).toBeNull();
  });

  it('requireHost: false turns the Host check off', () => {
    expect(parseEverySplit('GET / HTTP/1.1\r\n\r\n', 'request', { requireHost: false }).error).toBeNull();
  });

  it('answers 431 past maxHeaderSize and maxHeaderCount, whatever the split', () => {
    const big = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'v'.repeat(300)}\r\n\r\n`;
    const r = parseEverySplit(big, 'request', { maxHeaderSize: 200 });
    expect(r.error).toBe('HEADERS_TOO_LARGE');
    expect(r.status).toBe(431);
    const many = `GET / HTTP/1.1\r\nHost: a\r\n${'X: 1\r\n'.repeat(10)}\r\n`;
    const r2 = parseEverySplit(many, 'request', { maxHeaderCount: 5 });
    expect(r2.error).toBe('TOO_MANY_HEADERS');
    expect(r2.status).toBe(431);
    expect(parseEverySplit(many, 'request', { maxHeaderCount: 11 }).error).toBeNull();
    // At the limit and one past it (11 fields: Host and ten X), on the whole-head path and byte by byte
    // (parseEverySplit compares every split with the whole, so a limit off by one on either path shows).
    expect(parseEverySplit(many, 'request', { maxHeaderCount: 10 }).error).toBe('TOO_MANY_HEADERS');
    const whole = run(b(many), [], 'request', ours({ maxHeaderCount: 10 }));
    const bytes = run(b(many), Array.from({ length: many.length }, (_, i) => i), 'request', ours({ maxHeaderCount: 10 }));
    expect([whole.error, bytes.error]).toEqual(['TOO_MANY_HEADERS', 'TOO_MANY_HEADERS']);
    expect([run(b(many), [], 'request', ours({ maxHeaderCount: 11 })).error, run(b(many), Array.from({ length: many.length }, (_, i) => i), 'request', ours({ maxHeaderCount: 11 })).error]).toEqual([null, null]);
  });

  it('says which rule a bad request-target breaks (#27): asterisk-form is for OPTIONS only', () => {
    const reason = (input: string): string => {
      const p = new Http1Parser('request', { onHeadersComplete() {}, onBody() {}, onMessageComplete() {} });
      try {
        p.execute(b(input));
      } catch (e) {
        return (e as Http1ParseError).message;
      }
      return '';
    };
    expect(reason('GET * HTTP/1.1\r\nHost: a\r\n\r\n')).toMatch(/asterisk-form \(\*\) is for OPTIONS only/);
    expect(reason('GET foo HTTP/1.1\r\nHost: a\r\n\r\n')).toMatch(/not origin-form \(\/path\) or absolute-form/);
    expect(reason('CONNECT foo HTTP/1.1\r\nHost: a\r\n\r\n')).toMatch(/CONNECT takes authority-form/);
  });

  it('counts the header limit across chunks (a head that never ends is bounded)', () => {
    const p = new Http1Parser('request', { onHeadersComplete() {}, onBody() {}, onMessageComplete() {} }, { maxHeaderSize: 1024 });
    p.execute(b('GET / HTTP/1.1\r\nHost: a\r\nX: '));
    let thrown: unknown;
    try {
      for (let i = 0; i < 100; i++) p.execute(b('aaaaaaaaaaaaaaaaaaaa'));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Http1ParseError);
    expect((thrown as Http1ParseError).status).toBe(431);
  });
});

describe('message body length (RFC 9112 §6.3)', () => {
  it('reads a Content-Length body', () => {
    const r = parseEverySplit('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.events.map((e) => e.type)).toEqual(['head', 'body', 'complete', 'head', 'complete']);
    expect(r.events[1]).toEqual({ type: 'body', data: 'hello' });
  });

  it('reads a chunked body with extensions and trailers', () => {
    const r = parseEverySplit(
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5;name=value\r\nhello\r\n6 ; a ; b="q"\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Checksum: abc\r\nX-B: 1\r\n\r\n',
    );
    expect(r.error).toBeNull();
    expect(r.events).toEqual([
      expect.objectContaining({ type: 'head', chunked: true, contentLength: -1 }),
      { type: 'body', data: 'hello world0123456789' },
      { type: 'trailers', trailers: ['X-Checksum', 'abc', 'X-B', '1'] },
      { type: 'complete' },
    ]);
  });

  it('treats Transfer-Encoding case-insensitively and as a list', () => {
    expect(parseEverySplit('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n').error).toBeNull();
    expect(parseEverySplit('POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: ,chunked,\r\n\r\n0\r\n\r\n').error).toBeNull();
  });

  it('has no body for a request without framing, even with bytes following', () => {
    const r = parseEverySplit('POST / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.events.map((e) => e.type)).toEqual(['head', 'complete', 'head', 'complete']);
  });

  const bad: Array<[string, string, string, number]> = [
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'CONTENT_LENGTH_WITH_TRANSFER_ENCODING', 400],
    ['Transfer-Encoding with Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n', 'CONTENT_LENGTH_WITH_TRANSFER_ENCODING', 400],
    ['two different Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 'DUPLICATE_CONTENT_LENGTH', 400],
    ['two identical Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc', 'DUPLICATE_CONTENT_LENGTH', 400],
    ['list-valued Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc', 'INVALID_CONTENT_LENGTH', 400],
    ['signed Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc', 'INVALID_CONTENT_LENGTH', 400],
    ['negative Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 'INVALID_CONTENT_LENGTH', 400],
    ['empty Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n', 'INVALID_CONTENT_LENGTH', 400],
    ['hex Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n', 'INVALID_CONTENT_LENGTH', 400],
    ['overflowing Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n', 'INVALID_CONTENT_LENGTH', 400],
    ['chunked not last (RFC 9112 §6.3 ¶4)', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 'CHUNKED_NOT_LAST', 400],
    ['unknown coding only', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 'CHUNKED_NOT_LAST', 400],
    ['chunked twice', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 'CHUNKED_TWICE', 400],
    ['chunked twice across fields', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 'CHUNKED_TWICE', 400],
    ['a coding we do not implement before chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 'UNSUPPORTED_TRANSFER_CODING', 501],
    ['"xchunked" (not chunked)', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n', 'CHUNKED_NOT_LAST', 400],
    ['empty Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n', 'INVALID_TRANSFER_ENCODING', 400],
    ['Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1)', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'TRANSFER_ENCODING_IN_HTTP10', 400],
  ];
  for (const [name, input, code, status] of bad) {
    it(`rejects ${name} → ${status} ${code}`, () => {
      const r = parseEverySplit(input);
      expect(r.error).toBe(code);
      expect(r.status).toBe(status);
    });
  }

  it('enforces maxBodySize by Content-Length before reading, and on chunked bodies as they arrive', () => {
    const r = parseEverySplit('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n', 'request', { maxBodySize: 10 });
    expect([r.error, r.status]).toEqual(['BODY_TOO_LARGE', 413]);
    const r2 = parseEverySplit('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n', 'request', { maxBodySize: 10 });
    expect([r2.error, r2.status]).toEqual(['BODY_TOO_LARGE', 413]);
  });
});

describe('chunked coding (RFC 9112 §7.1)', () => {
  const pre = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
  const bad: Array<[string, string, string]> = [
    ['empty chunk size', '\r\nabc\r\n0\r\n\r\n', 'INVALID_CHUNK_SIZE'],
    ['non-hex chunk size', 'g\r\n', 'INVALID_CHUNK_SIZE'],
    ['negative chunk size', '-1\r\n', 'INVALID_CHUNK_SIZE'],
    ['0x prefix', '0x5\r\nhello\r\n0\r\n\r\n', 'INVALID_CHUNK_SIZE'],
    ['chunk size overflow', 'fffffffffffffffff\r\n', 'CHUNK_SIZE_OVERFLOW'],
    ['chunk size beyond 2^53', '20000000000000\r\n', 'CHUNK_SIZE_OVERFLOW'],
    ['whitespace after size without extension', '3 \r\nabc\r\n0\r\n\r\n', 'INVALID_CHUNK_SIZE'],
    ['bare LF after size', '3\nabc\r\n0\r\n\r\n', 'BARE_LF'],
    ['bare CR after size', '3\rabc\r\n0\r\n\r\n', 'BARE_CR'],
    ['data longer than the size', '3\r\nabcd\r\n0\r\n\r\n', 'INVALID_CHUNK_END'],
    ['data not followed by CRLF', '3\r\nabc\n0\r\n\r\n', 'INVALID_CHUNK_END'],
    ['LF inside an extension', '3;a\nb\r\nabc\r\n0\r\n\r\n', 'BARE_LF'],
    ['NUL inside an extension', '3;a\x00\r\nabc\r\n0\r\n\r\n', 'INVALID_CHUNK_EXTENSION'],
    ['obs-fold in trailers', '0\r\nX-A: b\r\n c\r\n\r\n', 'OBS_FOLD'],
  ];
  for (const [name, body, code] of bad) {
    it(`rejects ${name} → ${code}`, () => {
      const r = parseEverySplit(pre + body);
      expect(r.error).toBe(code);
      expect(r.status).toBe(400);
    });
  }

  it('limits chunk-extension bytes per message', () => {
    const ext = `;${'e'.repeat(60)}`;
    const r = parseEverySplit(`${pre}1${ext}\r\na\r\n1${ext}\r\na\r\n0\r\n\r\n`, 'request', { maxChunkExtensionsSize: 100 });
    expect(r.error).toBe('CHUNK_EXTENSIONS_TOO_LARGE');
  });

  it('accepts leading zeros and uppercase hex', () => {
    const r = parseEverySplit(`${pre}000A\r\n0123456789\r\n0000\r\n\r\n`);
    expect(r.error).toBeNull();
    expect(r.events[1]).toEqual({ type: 'body', data: '0123456789' });
  });
});

describe('persistence, upgrade, pipelining', () => {
  it('computes keep-alive from version and Connection tokens (RFC 9112 §9.3)', () => {
    const ka = (s: string) => (heads(parseEverySplit(s).events)[0] as { keepAlive: boolean }).keepAlive;
    expect(ka('GET / HTTP/1.1\r\nHost: a\r\n\r\n')).toBe(true);
    expect(ka('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).toBe(false);
    expect(ka('GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n')).toBe(false);
    expect(ka('GET / HTTP/1.0\r\n\r\n')).toBe(false);
    expect(ka('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')).toBe(true);
    expect(ka('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')).toBe(true);
  });

  it('ignores everything after a message that closes the connection (RFC 9112 §9.6)', () => {
    const r = parseEverySplit('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\ngarbage\x00');
    expect(r.error).toBeNull();
    expect(heads(r.events)).toHaveLength(1);
  });

  it('stops at an Upgrade and reports where the other protocol starts', () => {
    const input = 'GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello';
    const r = parseEverySplit(input);
    expect(r.upgraded).toBe(true);
    expect(r.consumed).toBe(input.length - 7);
    expect(heads(r.events)[0]).toMatchObject({ upgrade: true });
  });

  it('reads the body of an Upgrade request before stopping', () => {
    const input = 'POST / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nContent-Length: 3\r\n\r\nabcPRI';
    const r = parseEverySplit(input);
    expect(r.events.map((e) => e.type)).toEqual(['head', 'body', 'complete']);
    expect(r.consumed).toBe(input.length - 3);
  });

  it('treats Upgrade without Connection: upgrade, and Upgrade in HTTP/1.0, as plain requests', () => {
    expect(parseEverySplit('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n').upgraded).toBe(false);
    expect(parseEverySplit('GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n').upgraded).toBe(false);
  });

  it('stops after CONNECT', () => {
    const r = parseEverySplit('CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\ntunnel');
    expect(r.upgraded).toBe(true);
    expect(r.consumed).toBe(r.consumed); // offset asserted below
    expect(b('CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\ntunnel').length - r.consumed).toBe(6);
  });

  it('parses many pipelined messages in one chunk', () => {
    const one = 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n';
    const r = run(b(one.repeat(50)));
    expect(heads(r.events)).toHaveLength(50);
  });

  it('pipelined heads in one chunk: heads across the fast path window and a buffer reused with other bytes', () => {
    // 40 requests of varying size in one 5 KB chunk: some heads cross the 2 KiB latin1 window.
    const reqs = Array.from({ length: 40 }, (_, k) => `GET /item/${k} HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat((k * 37) % 90)}\r\n\r\n`);
    const urls: string[] = [];
    const pads: number[] = [];
    const p = new Http1Parser('request', {
      onHeadersComplete: (h) => {
        urls.push(h.url);
        pads.push(h.headers[3]?.length ?? -1);
      },
      onBody() {},
      onMessageComplete() {},
    });
    const chunk = b(reqs.join(''));
    expect(p.execute(chunk)).toBe(chunk.length);
    expect(urls).toEqual(reqs.map((_, k) => `/item/${k}`));
    expect(pads).toEqual(reqs.map((_, k) => (k * 37) % 90));
    // The same Buffer object refilled with other bytes: nothing of the last call's window may be reused.
    const two = b('GET /refill HTTP/1.1\r\nHost: b\r\n\r\n');
    expect(p.execute(two)).toBe(two.length);
    two.write('GET /second', 0, 'latin1'); // same length as "GET /refill": same offsets, other bytes
    expect(p.execute(two)).toBe(two.length);
    expect(urls.slice(-2)).toEqual(['/refill', '/second']);
  });

  it('pause() stops at the next message boundary and resumes where it left off', () => {
    const input = b('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
    const urls: string[] = [];
    const p: Http1Parser = new Http1Parser('request', {
      onHeadersComplete(h) {
        urls.push(h.url);
        p.pause();
      },
      onBody() {},
      onMessageComplete() {},
    });
    const n = p.execute(input);
    expect(urls).toEqual(['/1']);
    expect(n).toBe(input.length / 2);
    p.resume();
    expect(p.execute(input.subarray(n))).toBe(input.length / 2);
    expect(urls).toEqual(['/1', '/2']);
  });
});

describe('responses', () => {
  it('parses status, reason and a Content-Length body', () => {
    const r = parseEverySplit('HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc', 'response');
    expect(r.events).toEqual([
      expect.objectContaining({ type: 'head', status: 404, reason: 'Not Found', contentLength: 3 }),
      { type: 'body', data: 'abc' },
      { type: 'complete' },
    ]);
  });

  it('reads to EOF without framing, and finish() completes it', () => {
    const r = parseEverySplit('HTTP/1.1 200 OK\r\n\r\nabcdef', 'response', {}, true);
    expect(r.events.map((e) => e.type)).toEqual(['head', 'body', 'complete']);
    expect(heads(r.events)[0]).toMatchObject({ keepAlive: false });
  });

  it('treats 1xx as interim, 204/304 as bodiless, and tolerates a missing reason', () => {
    const r = parseEverySplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204\r\nContent-Length: 5\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n', 'response');
    expect(r.error).toBeNull();
    expect(r.events.map((e) => (e.type === 'head' ? e.status : e.type))).toEqual([100, 'complete', 204, 'complete', 304, 'complete']);
  });

  it('skips the body of a HEAD response when told (expectNoBody)', () => {
    const events: string[] = [];
    const p = new Http1Parser('response', {
      onHeadersComplete: () => void events.push('head'),
      onBody: () => void events.push('body'),
      onMessageComplete: () => void events.push('done'),
    });
    p.expectNoBody();
    p.execute(b('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'));
    expect(events).toEqual(['head', 'done', 'head', 'body', 'done']);
  });

  it('stops at 101 Switching Protocols', () => {
    const r = parseEverySplit('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00', 'response');
    expect(r.upgraded).toBe(true);
  });

  it('rejects malformed status lines with 502', () => {
    for (const s of ['HTTP/1.1 20 OK\r\n\r\n', 'HTTP/1.1 2000 OK\r\n\r\n', 'HTTP/1.1 abc OK\r\n\r\n', 'HTTP/1.1  200 OK\r\n\r\n', 'HTTP/2 200 OK\r\n\r\n']) {
      const r = parseEverySplit(s, 'response');
      expect([s, r.status]).toEqual([s, 502]);
    }
  });

  it('lets Transfer-Encoding override Content-Length in a response (RFC 9112 §6.3 ¶3)', () => {
    const r = parseEverySplit('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 'response');
    expect(r.error).toBeNull();
    expect(r.events[1]).toEqual({ type: 'body', data: 'abc' });
  });

  it('reports INCOMPLETE_MESSAGE when EOF cuts a framed body', () => {
    const r = parseEverySplit('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 'response', {}, true);
    expect(r.error).toBe('INCOMPLETE_MESSAGE');
  });
});

describe('scratch buffers', () => {
  it('takes the buffer for split tokens from the given allocator and gives it back on dispose', () => {
    let out = 0;
    const alloc = { acquire: (n: number) => (out++, Buffer.allocUnsafe(n)), release: () => void out-- };
    const p = new Http1Parser('request', { onHeadersComplete() {}, onBody() {}, onMessageComplete() {} }, { scratch: alloc });
    const input = b(`GET /${'x'.repeat(600)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    for (let i = 0; i < input.length; i += 7) p.execute(input.subarray(i, i + 7));
    expect(out).toBe(1); // grown as needed, the old buffer released each time
    p.dispose();
    expect(out).toBe(0);
  });
});

describe('errors', () => {
  it('every catalogue entry has a status and an RFC reference', () => {
    for (const [code, [status, rfc]] of Object.entries(HTTP1_ERRORS)) {
      expect([code, status >= 400 && status < 600]).toEqual([code, true]);
      expect(rfc).toMatch(/^RFC \d+ §/);
    }
  });

  it('stays failed after an error', () => {
    const p = new Http1Parser('request', { onHeadersComplete() {}, onBody() {}, onMessageComplete() {} });
    expect(() => p.execute(b('BAD\x01'))).toThrow(Http1ParseError);
    expect(() => p.execute(b('GET / HTTP/1.1\r\nHost: a\r\n\r\n'))).toThrow(Http1ParseError);
    expect(p.error?.code).toBe('INVALID_METHOD');
  });

  it('emits the optional span events with whole strings', () => {
    const seen: string[] = [];
    const input = b('GET /path HTTP/1.1\r\nHost: a\r\nX-Y: z\r\n\r\n');
    for (const splits of allSplits(input)) {
      seen.length = 0;
      const p = new Http1Parser('request', {
        onMessageBegin: () => void seen.push('begin'),
        onMethod: (m) => void seen.push(`method ${m}`),
        onUrl: (u) => void seen.push(`url ${u}`),
        onHeader: (n, v) => void seen.push(`${n}=${v}`),
        onHeadersComplete() {},
        onBody() {},
        onMessageComplete: () => void seen.push('done'),
      });
      let last = 0;
      for (const s of [...splits, input.length]) {
        p.execute(input.subarray(last, s));
        last = s;
      }
      expect(seen).toEqual(['begin', 'method GET', 'url /path', 'Host=a', 'X-Y=z', 'done']);
    }
  });
});
