/**
 * `testClient(app)`: the app on an ephemeral loopback port, spoken to over real sockets — HTTP/1.1
 * (Node's fetch), HTTP/2 with prior knowledge (node:http2) and WebSocket (covet/ws client) — for tests
 * that must cover what `inject` cannot: framing, keep-alive, protocol negotiation, upgrades.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connectWebSocket, type ConnectOptions, type WebSocket } from '../ws/index.js';
import type { App } from './app.js';
import { encodeBody, testResponse, type InjectResponse } from './inject.js';

export interface TestRequest {
  method?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON. */
  body?: unknown;
}

/** The same shape as `inject`'s answers. */
export type TestResponse = InjectResponse;

export interface TestClient {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** A request over HTTP/1.1. */
  request(path: string, init?: TestRequest): Promise<TestResponse>;
  /** A request over HTTP/2 (h2c, one shared session). */
  h2(path: string, init?: TestRequest): Promise<TestResponse>;
  /** An open WebSocket to `path`. */
  ws(path: string, options?: ConnectOptions): Promise<WebSocket>;
  /** Closes the client's connections and the app's server. */
  close(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const client = await testClient(app);
 * expect((await client.request('/notes/1')).json()).toEqual({ id: 1, text: 'first' });
 * expect((await client.h2('/notes/1')).status).toBe(200);
 * const ws = await client.ws('/live');
 * await client.close();
 * ```
 */
export async function testClient(app: App): Promise<TestClient> {
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  let session: http2.ClientHttp2Session | null = null;
  const sockets = new Set<WebSocket>();

  const encode = (init: TestRequest): { headers: Record<string, string>; body: Buffer | undefined } => {
    const headers = { ...(init.headers ?? {}) };
    if (init.body === undefined) return { headers, body: undefined };
    const { bytes, json } = encodeBody(init.body);
    if (json) headers['content-type'] ??= 'application/json';
    return { headers, body: bytes };
  };

  return {
    url,
    async request(path, init = {}) {
      const { headers, body } = encode(init);
      const res = await fetch(url + path, { method: init.method ?? 'GET', headers, body });
      const h: Record<string, string> = {};
      res.headers.forEach((v, k) => (h[k] = v));
      return testResponse(res.status, h, Buffer.from(await res.arrayBuffer()));
    },
    h2(path, init = {}) {
      session ??= http2.connect(url);
      const s = session;
      const { headers, body } = encode(init);
      return new Promise((resolve, reject) => {
        const stream = s.request({ ':method': init.method ?? 'GET', ':path': path, ...headers });
        const chunks: Buffer[] = [];
        let status = 0;
        const h: Record<string, string> = {};
        stream.on('response', (head) => {
          status = Number(head[':status']);
          for (const [k, v] of Object.entries(head)) if (!k.startsWith(':') && v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : String(v);
        });
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve(testResponse(status, h, Buffer.concat(chunks))));
        stream.on('error', reject);
        stream.end(body);
      });
    },
    async ws(path, options) {
      const ws = await connectWebSocket(`ws://127.0.0.1:${port}${path}`, options);
      sockets.add(ws);
      return ws;
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      if (session !== null) await new Promise<void>((r) => session!.close(() => r()));
      await app.close(100);
    },
  };
}
