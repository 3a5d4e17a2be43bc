/**
 * A request's header section as HTTP/2 (RFC 9113 §8.3) and HTTP/3 (RFC 9114 §4.3.1) define it — the same
 * rules: pseudo-header fields first, each once, known ones only; `:method`, and `:scheme` with `:path`
 * (origin-form, or `*` for OPTIONS) except for CONNECT (`:authority` only) and extended CONNECT (RFC 8441,
 * RFC 9220: `:protocol` with all three); no connection-specific field; `te` only `trailers`; one
 * content-length. The head it builds is the one HTTP/1.1's parser builds, so one `Http1Request` serves all.
 */
import type { MessageHead } from '../http1/index.js';

/**
 * The head of a request from its decoded fields, or why it is malformed (a string: the stream is reset
 * with PROTOCOL_ERROR / H3_MESSAGE_ERROR).
 *
 * @example
 * ```ts
 * const r = requestHead([[':method', 'GET'], [':scheme', 'https'], [':path', '/'], [':authority', 'a.example']], true, 3, false);
 * if (typeof r === 'string') resetStream(r); else serve(r.head);
 * ```
 */
export function requestHead(fields: ReadonlyArray<readonly [string, string, boolean?]>, endStream: boolean, versionMajor: 2 | 3, extendedConnect: boolean): { head: MessageHead; protocol: string } | string {
  const bad = (why: string): string => why;
  let method = '';
  let path = '';
  let scheme = '';
  let authority = '';
  let protocol = '';
  let seen = 0; // pseudo-headers present, one bit each: a repeat is malformed (§8.3), even with an empty value
  let regular = false;
  const headers: string[] = [];
  let contentLength = -1;
  let hasHost = false;
  for (const [n, v] of fields) {
    if (n.charCodeAt(0) === 58) {
      if (regular) return bad('pseudo-header after a regular field');
      const bit = n === ':method' ? 1 : n === ':path' ? 2 : n === ':scheme' ? 4 : n === ':authority' ? 8 : n === ':protocol' ? 16 : 0;
      if (bit === 0) return bad(`unknown pseudo-header ${n}`);
      if ((seen & bit) !== 0) return bad(`${n} repeated`);
      seen |= bit;
      if (bit === 1) method = v;
      else if (bit === 2) path = v;
      else if (bit === 4) scheme = v;
      else if (bit === 8) authority = v;
      else protocol = v;
      continue;
    }
    regular = true;
    if (n === 'connection' || n === 'keep-alive' || n === 'proxy-connection' || n === 'transfer-encoding' || n === 'upgrade') return bad(`connection-specific field ${n}`);
    if (n === 'te' && v !== 'trailers') return bad('te other than "trailers"');
    if (n === 'host') hasHost = true;
    if (n === 'content-length') {
      if (!/^\d{1,15}$/.test(v) || (contentLength >= 0 && Number(v) !== contentLength)) return bad('invalid content-length');
      contentLength = Number(v);
    }
    headers.push(n, v);
  }
  if (method === '') return bad(':method missing');
  if ((seen & 16) !== 0) {
    // RFC 8441 §4: only on CONNECT, only when we advertised SETTINGS_ENABLE_CONNECT_PROTOCOL.
    if (protocol === '') return bad('empty :protocol');
    if (method !== 'CONNECT' || !extendedConnect) return bad(':protocol without extended CONNECT');
    if (path === '' || scheme === '' || authority === '') return bad('extended CONNECT needs :scheme, :path and :authority');
  } else if (method === 'CONNECT') {
    if ((seen & 6) !== 0 || authority === '') return bad('CONNECT needs :authority only (§8.5)');
  } else if (path === '' || scheme === '') return bad(':path or :scheme missing');
  // §8.3.1: an origin-form path, or "*" for a server-wide OPTIONS only.
  else if (path.charCodeAt(0) !== 0x2f && !(path === '*' && method === 'OPTIONS')) return bad(':path is neither /... nor * (OPTIONS)');
  if (!hasHost && authority !== '') headers.unshift('host', authority);
  const head: MessageHead = {
    method,
    url: path || authority,
    versionMajor,
    versionMinor: 0,
    statusCode: 0,
    statusMessage: '',
    headers,
    keepAlive: true,
    upgrade: false,
    contentLength,
    chunked: protocol === '' && !endStream && contentLength < 0, // "a body of unknown length follows"
    expectContinue: false,
  };
  return { head, protocol };
}
