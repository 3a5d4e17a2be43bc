/**
 * `app.inject()`: a request through the whole pipeline with no socket. The request is a real
 * `Http1Request` fed from memory; the response is a real `Http1Response` whose bytes are parsed back with
 * the HTTP/1.1 response parser — so serialization is exercised too.
 */
import { Http1Parser, Http1Request, Http1Response, type MessageHead, type ResponseSink } from '../http1/index.js';

export interface InjectOptions {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  /** A string, bytes, or an object sent as JSON. */
  body?: string | Buffer | object;
}

export interface InjectResponse {
  status: number;
  /** Lowercase names; repeated fields joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

/** A request body as bytes: strings and bytes as given, anything else as JSON (`json` tells which). */
export function encodeBody(body: unknown): { bytes: Buffer; json: boolean } {
  if (typeof body === 'string') return { bytes: Buffer.from(body), json: false };
  if (body instanceof Uint8Array) return { bytes: Buffer.from(body), json: false };
  return { bytes: Buffer.from(JSON.stringify(body)), json: true };
}

/** A response record with its text/JSON readers. */
export function testResponse(status: number, headers: Record<string, string>, body: Buffer): InjectResponse {
  return { status, headers, body, text: () => body.toString('utf8'), json: <T>() => JSON.parse(body.toString('utf8')) as T };
}

/**
 * One request through `handle` with no socket (what `app.inject()` runs): the response as the client would read it.
 *
 * @example
 * ```ts
 * const res = await inject((req, res) => res.end('hi'), { method: 'GET', url: '/' });
 * res.status; // 200
 * res.text(); // 'hi'
 * ```
 */
export function inject(handle: (req: Http1Request, res: Http1Response) => void | Promise<void>, options: InjectOptions): Promise<InjectResponse> {
  const method = options.method ?? 'GET';
  // `localhost` unless the test gives its own Host (one Host field, as a client sends).
  const headers: string[] = Object.keys(options.headers ?? {}).some((k) => k.toLowerCase() === 'host') ? [] : ['host', 'localhost'];
  let body: Buffer | null = null;
  if (options.body !== undefined) {
    const encoded = encodeBody(options.body);
    body = encoded.bytes;
    if (encoded.json) headers.push('content-type', 'application/json');
    headers.push('content-length', String(body.length));
  }
  for (const [k, v] of Object.entries(options.headers ?? {})) headers.push(k.toLowerCase(), v);
  const head: MessageHead = {
    method,
    url: options.url,
    versionMajor: 1,
    versionMinor: 1,
    statusCode: 0,
    statusMessage: '',
    headers,
    keepAlive: true,
    upgrade: false,
    contentLength: body === null ? -1 : body.length,
    chunked: false,
    expectContinue: false,
  };
  const req = new Http1Request(head, { bodyWanted() {}, bodyFull() {} }, '127.0.0.1');
  if (body !== null) {
    req._push(body);
    req._end(null);
  }
  return new Promise((resolve, reject) => {
    const captured = captureResponse(method === 'HEAD', reject);
    // Resolved once the whole chain has run (middleware after `next()` included), not at `end()`.
    // A handler that finishes synchronously returns nothing; a thrown error is the handler's failure.
    new Promise<void>((done) => done(handle(req, captured.res))).then(() => resolve(captured.result()), reject);
  });
}

/**
 * A response with no socket: what is written to it is kept, and `result()` parses it. For `inject`, and
 * for the app's WebSocket upgrades, whose middleware may answer instead of letting the upgrade happen.
 */
export function captureResponse(head: boolean, onAbort: (err: Error) => void = () => {}): { res: Http1Response; result(): InjectResponse } {
  const chunks: Buffer[] = [];
  const sink: ResponseSink = {
    send(_res, data, encoding) {
      chunks.push(typeof data === 'string' ? Buffer.from(data, encoding) : data);
      return true;
    },
    finished() {},
    mustClose: () => false,
    abort: (_res, error) => onAbort(error),
    httpDate: new Date().toUTCString(),
    keepAliveLine: '',
  };
  return { res: new Http1Response(sink, head, 1, false), result: () => parseResponse(Buffer.concat(chunks), head) };
}

function parseResponse(bytes: Buffer, head: boolean): InjectResponse {
  let status = 0;
  const headers: Record<string, string> = {};
  const parts: Buffer[] = [];
  const p = new Http1Parser('response', {
    onHeadersComplete(h) {
      status = h.statusCode;
      for (let i = 0; i < h.headers.length; i += 2) {
        const k = h.headers[i]!.toLowerCase();
        headers[k] = headers[k] === undefined ? h.headers[i + 1]! : `${headers[k]}, ${h.headers[i + 1]!}`;
      }
      return head;
    },
    onBody: (b) => void parts.push(Buffer.from(b)),
    onMessageComplete() {},
  });
  p.execute(bytes);
  const body = Buffer.concat(parts);
  return testResponse(status, headers, body);
}
