/**
 * Differential check of our HTTP/1.1 request parser against llhttp (WebAssembly). Both parse the same
 * bytes; they must reach the same verdict and, when both accept, the same events. Every place where we
 * deliberately differ is one entry of KNOWN_DIFFERENCES (mirrored in docs/http1-verdicts.md); anything
 * else is a finding.
 */
import { LlhttpWasmParser } from '../../wasm/llhttp.js';
import { ours, run, type RunResult } from './events.js';
import { Http1Parser } from '../../lib/http1/index.js';

export interface KnownDifference {
  id: string;
  /** Who rejects: `ours` (we are stricter) or `llhttp`. */
  stricter: 'ours' | 'llhttp';
  rule: string;
  /** Does this difference explain the two results on this input? */
  applies(input: string, ours: RunResult, llhttp: RunResult): boolean;
}


const LLHTTP_METHODS = new Set([
  'DELETE', 'GET', 'HEAD', 'POST', 'PUT', 'CONNECT', 'OPTIONS', 'TRACE', 'COPY', 'LOCK', 'MKCOL', 'MOVE',
  'PROPFIND', 'PROPPATCH', 'SEARCH', 'UNLOCK', 'BIND', 'REBIND', 'UNBIND', 'ACL', 'REPORT', 'MKACTIVITY',
  'CHECKOUT', 'MERGE', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PATCH', 'PURGE', 'MKCALENDAR',
  'LINK', 'UNLINK', 'SOURCE', 'QUERY',
]);

const oursIs = (r: RunResult, ...codes: string[]) => r.error !== null && codes.includes(r.error);

export const KNOWN_DIFFERENCES: KnownDifference[] = [
  {
    id: 'asterisk-form-options-only',
    stricter: 'ours',
    rule: 'RFC 9112 §3.2.4: the asterisk-form "*" is only used for a server-wide OPTIONS request; we answer 400 to "GET *", llhttp accepts "*" with any method.',
    applies: (s, o, l) => l.error === null && oursIs(o, 'INVALID_TARGET') && / \* HTTP\//.test(s.replace(/^(\r\n)+/, '').split('\r\n')[0] ?? '') && !/^OPTIONS /.test(s.replace(/^(\r\n)+/, '')),
  },
  {
    id: 'host-required',
    stricter: 'ours',
    rule: 'RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host, with several Host, or with an invalid Host. llhttp leaves Host to the application.',
    applies: (_s, o, l) => l.error === null && oursIs(o, 'MISSING_HOST', 'DUPLICATE_HOST', 'INVALID_HOST'),
  },
  {
    id: 'extension-methods',
    stricter: 'llhttp',
    rule: 'RFC 9110 §9.1: a method is any token (case-sensitive); unknown ones reach the application, which answers 501/405. llhttp accepts only its built-in list.',
    applies: (s, o, l) => {
      const m = s.replace(/^(\r\n)+/, '').split(/[ \r\n]/)[0] ?? '';
      return l.error === 'HPE_INVALID_METHOD' && o.error !== 'INVALID_METHOD' && !LLHTTP_METHODS.has(m) && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(m);
    },
  },
  {
    id: 'version',
    stricter: 'ours',
    rule: 'RFC 9110 §15.6.6: only HTTP/1.0 and HTTP/1.1 are served by this parser; other versions get 505 (llhttp accepts any DIGIT.DIGIT, e.g. 0.9 and 2.0, and reports 1.2 as invalid).',
    applies: (_s, o, l) => oursIs(o, 'VERSION_NOT_SUPPORTED') && (l.error === null || l.error === 'HPE_INVALID_VERSION' || l.error === 'HPE_PAUSED_H2_UPGRADE' || l.events.length > 0),
  },
  {
    id: 'chunk-ext-bws',
    stricter: 'llhttp',
    rule: 'RFC 9112 §7.1.1 allows BWS before ";" in chunk extensions ("5 ;a"); llhttp strict mode rejects it.',
    applies: (s, o, l) => o.error === null && (l.error === 'HPE_INVALID_CHUNK_SIZE' || l.error === 'HPE_STRICT') && /\r\n[0-9a-fA-F]+[ \t]+;/.test(s),
  },
  {
    id: 'chunk-ext-grammar',
    stricter: 'llhttp',
    rule: 'We check chunk extensions for forbidden bytes (CTLs, bare CR/LF) and length, not their token/quoted-string grammar, since we never interpret them; llhttp rejects malformed names/values.',
    applies: (s, o, l) => o.error === null && (l.error === 'HPE_STRICT' || l.error === 'HPE_INVALID_CHUNK_SIZE' || l.error === 'HPE_CB_CHUNK_EXTENSION_NAME_COMPLETE') && /\r\n[0-9a-fA-F]+[ \t]*;/.test(s),
  },
  {
    id: 'data-after-close',
    stricter: 'llhttp',
    rule: 'RFC 9112 §9.6: after a message with Connection: close nothing more is processed. We silently ignore the bytes; llhttp reports HPE_CLOSED_CONNECTION. Neither processes them.',
    applies: (_s, o, l) => o.error === null && l.error === 'HPE_CLOSED_CONNECTION',
  },
  {
    id: 'te-in-http10',
    stricter: 'ours',
    rule: 'RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing; we answer 400.',
    applies: (_s, o) => oursIs(o, 'TRANSFER_ENCODING_IN_HTTP10'),
  },
  {
    id: 'unsupported-coding',
    stricter: 'ours',
    rule: 'RFC 9112 §6.1: a server SHOULD answer 501 to a transfer coding it does not implement ("gzip, chunked"); llhttp passes the still-encoded body through.',
    applies: (_s, o) => oursIs(o, 'UNSUPPORTED_TRANSFER_CODING'),
  },
  {
    id: 'empty-te',
    stricter: 'ours',
    rule: 'RFC 9112 §6.1: Transfer-Encoding = #transfer-coding needs at least one coding; an empty field is invalid framing (llhttp ignores it).',
    applies: (_s, o) => oursIs(o, 'INVALID_TRANSFER_ENCODING'),
  },
  {
    id: 'request-line-spaces',
    stricter: 'ours',
    rule: 'RFC 9112 §3: request-line = method SP request-target SP HTTP-version, single SPs. llhttp tolerates extra spaces; we do not, since whitespace leniency is a smuggling vector.',
    applies: (s, o) => oursIs(o, 'INVALID_REQUEST_LINE', 'INVALID_VERSION', 'INVALID_METHOD', 'INVALID_TARGET') && /^[^\r\n]*(  |\t)/.test(s.replace(/^(\r\n)+/, '')),
  },
  {
    id: 'chunk-size-2^53',
    stricter: 'ours',
    rule: 'Chunk sizes must be exact JavaScript integers (< 2^53); larger sizes cannot be honest and are refused.',
    applies: (_s, o) => oursIs(o, 'CHUNK_SIZE_OVERFLOW'),
  },
  {
    id: 'http09-request-line',
    stricter: 'ours',
    rule: 'RFC 9112 §3: the request-line must carry an HTTP-version and end in CRLF; llhttp still parses an HTTP/0.9-style "METHOD target" line, even one ended by a bare LF (the smuggling primitive of llhttp#877).',
    applies: (s, o) => oursIs(o, 'INVALID_REQUEST_LINE', 'BARE_LF') && !/ HTTP\/\d\.\d$/.test(s.replace(/^(\r\n)+/, '').split(/[\r\n]/)[0] ?? ''),
  },
  {
    id: 'trailer-fields',
    stricter: 'ours',
    rule: 'RFC 9110 §6.5.1: framing and routing fields (Content-Length, Transfer-Encoding, Host) must not be sent as trailers; we reject them, llhttp passes them on.',
    applies: (_s, o) => oursIs(o, 'FORBIDDEN_TRAILER'),
  },
  {
    id: 'leading-bare-cr-lf',
    stricter: 'ours',
    rule: 'RFC 9112 §2.2: empty lines before the request-line are skipped only as full CRLFs; a lone CR or LF there is refused (llhttp skips them).',
    applies: (s, o) => oursIs(o, 'BARE_CR', 'BARE_LF') && /^(\r\n)*(\r(?!\n)|\n)/.test(s),
  },
  {
    id: 'framing-on-upgrade',
    stricter: 'ours',
    rule: 'RFC 9112 §6.3: Transfer-Encoding rules apply to every request, Upgrade or not; llhttp skips them when the request asks for an upgrade.',
    applies: (s, o, l) => l.error === null && oursIs(o, 'CHUNKED_NOT_LAST', 'INVALID_TRANSFER_ENCODING', 'UNSUPPORTED_TRANSFER_CODING', 'CHUNKED_TWICE') && /\r\nupgrade:/i.test(s),
  },
  {
    id: 'ows-htab',
    stricter: 'llhttp',
    rule: 'RFC 9110 §5.5: OWS (SP or HTAB) around a field value is not part of it, so "Content-Length: 4<HTAB>" is 4 and "Connection: close<HTAB>" is close; llhttp does not trim HTAB in those fields.',
    applies: (s, o) => o.error === null && /\n(content-length|connection|transfer-encoding|upgrade):[^\r\n]*\t/i.test(s),
  },
  {
    id: 'empty-list-elements',
    stricter: 'llhttp',
    rule: 'RFC 9110 §5.6.1: a recipient MUST accept and ignore empty elements of a list ("chunked," is chunked); llhttp rejects them in Transfer-Encoding.',
    applies: (s, o, l) => o.error === null && l.error === 'HPE_INVALID_TRANSFER_ENCODING' && /transfer-encoding:[ \t]*(,|[^\r\n]*,[ \t]*(,|\r\n))/i.test(s),
  },
  {
    id: 'target-form',
    stricter: 'ours',
    rule: 'RFC 9112 §3.2: the request-target is origin-form ("/..."), absolute-form ("scheme://..."), authority-form (CONNECT) or exactly "*"; llhttp accepts targets such as "*/a".',
    applies: (_s, o, l) => l.error === null && oursIs(o, 'INVALID_TARGET'),
  },
  {
    id: 'judged-at-end-of-head',
    stricter: 'ours',
    rule: 'Timing only: llhttp judges some fields as it reads them, we at the end of the head. On a cut-short head the fuzzer completes it and checks that we reject it too (see differential()).',
    applies: () => false,
  },
  {
    id: 'upgrade-http10',
    stricter: 'ours',
    rule: 'RFC 9110 §7.8: a server MUST ignore Upgrade in an HTTP/1.0 request; llhttp reports it as an upgrade.',
    applies: (s, o, l) => {
      const d = firstHeadDifference(o, l);
      return d !== null && / HTTP\/1\.0\r\n/.test(s) && d.ours.upgrade === false && d.llhttp.upgrade === true;
    },
  },
  {
    id: 'close-wins',
    stricter: 'ours',
    rule: 'RFC 9112 §9.6: when Connection carries both "close" and "keep-alive", close wins (llhttp keeps an HTTP/1.0 connection alive).',
    applies: (s, o, l) => {
      const d = firstHeadDifference(o, l);
      return d !== null && /close/i.test(s) && /keep-alive/i.test(s) && d.ours.keepAlive === false && d.llhttp.keepAlive === true;
    },
  },
];

type Head = Extract<RunResult['events'][number], { type: 'head' }>;

/** The first pair of heads that differ, when the events before them agree. */
function firstHeadDifference(o: RunResult, l: RunResult): { ours: Head; llhttp: Head } | null {
  const n = Math.min(o.events.length, l.events.length);
  for (let i = 0; i < n; i++) {
    const a = o.events[i]!;
    const b = l.events[i]!;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    return a.type === 'head' && b.type === 'head' ? { ours: a, llhttp: b } : null;
  }
  return null;
}

export interface DiffOutcome {
  ok: boolean;
  /** Id of the known difference that explains a verdict mismatch, if any. */
  known?: string;
  reason?: string;
  ours: RunResult;
  llhttp: RunResult;
}

/** Parses `input` with both parsers and judges the outcome. */
export function differential(input: Buffer, splits: number[] = []): DiffOutcome {
  const o = run(input, splits, 'request', ours());
  let wasm: LlhttpWasmParser | null = null;
  const l = run(input, [], 'request', (kind, handler) => (wasm = new LlhttpWasmParser(kind, handler)));
  (wasm as LlhttpWasmParser | null)?.destroy();
  const s = input.toString('latin1');

  const oursOk = o.error === null;
  const llOk = l.error === null;
  if (oursOk && llOk) {
    // Both accept: every event must agree.
    const a = JSON.stringify(o.events);
    const b = JSON.stringify(l.events);
    if (a !== b) {
      for (const d of KNOWN_DIFFERENCES) if (d.applies(s, o, l)) return { ok: true, known: d.id, ours: o, llhttp: l };
      return { ok: false, reason: 'both accepted but events differ', ours: o, llhttp: l };
    }
    if (o.consumed !== l.consumed) return { ok: false, reason: `consumed ${o.consumed} vs ${l.consumed}`, ours: o, llhttp: l };
    return { ok: true, ours: o, llhttp: l };
  }
  if (!oursOk && !llOk) {
    // Both reject. The messages completed before the error must agree (a prefix check).
    const n = Math.min(completed(o), completed(l));
    if (JSON.stringify(prefix(o, n)) !== JSON.stringify(prefix(l, n))) {
      return { ok: false, reason: 'both rejected but earlier messages differ', ours: o, llhttp: l };
    }
    return { ok: true, ours: o, llhttp: l };
  }
  // Verdicts differ: the earlier messages must agree, and a known difference must explain it.
  const n = Math.min(completed(o), completed(l));
  if (JSON.stringify(prefix(o, n)) !== JSON.stringify(prefix(l, n))) {
    // An explained difference in an earlier head (keep-alive, upgrade) changes what follows it.
    for (const d of KNOWN_DIFFERENCES) if (d.applies(s, o, l)) return { ok: true, known: d.id, ours: o, llhttp: l };
    return { ok: false, reason: 'verdicts differ and earlier messages differ', ours: o, llhttp: l };
  }
  // llhttp judges some fields as soon as it reads them, we at the end of the head: on a cut-short
  // head, finish it and see whether we reject it too.
  if (oursOk && !o.idle) {
    const done = run(Buffer.concat([input, Buffer.from('\r\n\r\n')]), [], 'request', ours());
    if (done.error !== null) return { ok: true, known: 'judged-at-end-of-head', ours: o, llhttp: l };
  }
  // Judge the message where they part ways: cut the input to start there.
  for (const d of KNOWN_DIFFERENCES) {
    if (d.applies(messageAt(s, n), o, l)) return { ok: true, known: d.id, ours: o, llhttp: l };
  }
  return { ok: false, reason: `unexplained verdicts: ours ${o.error ?? 'accept'}, llhttp ${l.error ?? 'accept'}`, ours: o, llhttp: l };
}

function completed(r: RunResult): number {
  return r.events.filter((e) => e.type === 'complete').length;
}

function prefix(r: RunResult, messages: number) {
  const out = [];
  let seen = 0;
  for (const e of r.events) {
    if (seen === messages) break;
    out.push(e);
    if (e.type === 'complete') seen++;
  }
  return out;
}

/** The input from the start of message number `n`, located with our parser paused at each message end. */
function messageAt(s: string, n: number): string {
  if (n === 0) return s;
  const input = Buffer.from(s, 'latin1');
  let offset = 0;
  const p: Http1Parser = new Http1Parser('request', { onHeadersComplete() {}, onBody() {}, onMessageComplete: () => p.pause() });
  for (let k = 0; k < n && offset < input.length; k++) {
    offset += p.execute(input.subarray(offset));
    p.resume();
  }
  return s.slice(offset);
}
