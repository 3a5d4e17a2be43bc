/**
 * gRPC on an app's own port (covet/app/grpc), called by @grpc/grpc-js: HTTP routes and gRPC methods side
 * by side, the app's middleware and auth deps in front of each call, and every failure — in a dep, in a
 * middleware, in the handler — answered as the gRPC status it means, never as problem+json or a stack.
 */
import { randomBytes } from 'node:crypto';
import * as grpcJs from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, HttpError, Type, type App } from '../../lib/app/index.js';
import { importKey, jwtAuth, MemoryLimiter, rateLimit, signJwt } from '../../lib/app/auth/index.js';
import { accessLog, cors, metrics } from '../../lib/app/index.js';
import { pino } from 'pino';
import { encodeEnvelope } from '../../lib/grpc/index.js';
import { contextOf, grpcErrorOf, statusForHttp } from '../../lib/app/grpc/index.js';
import { GrpcError, Status } from '../../lib/grpc/index.js';
import { PoolTimeoutError } from '../../lib/app/db/index.js';
import { health } from '../../lib/app/index.js';
import { join } from 'node:path';
import { interopServices, PROTO, testServiceImpl } from '../grpc/interop-service.js';
import type { ServerCall } from '../../lib/grpc/index.js';

type Callback = (err: grpcJs.ServiceError | null, value?: Record<string, unknown>) => void;
interface Client extends grpcJs.Client {
  UnaryCall(req: object, md: grpcJs.Metadata, cb: Callback): void;
  EmptyCall(req: object, md: grpcJs.Metadata, cb: Callback): void;
}
const testing = (grpcJs.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, defaults: true })) as unknown as { grpc: { testing: { TestService: new (a: string, c: grpcJs.ChannelCredentials) => Client } } }).grpc.testing;

interface HealthClient extends grpcJs.Client {
  Check(req: { service: string }, cb: (err: grpcJs.ServiceError | null, v?: { status: string }) => void): void;
  Watch(req: { service: string }): grpcJs.ClientReadableStream<{ status: string }>;
}
const healthPkg = grpcJs.loadPackageDefinition(protoLoader.loadSync(join(import.meta.dirname, '../grpc/health.proto'), { keepCase: true, enums: String })) as unknown as { grpc: { health: { v1: { Health: new (a: string, c: grpcJs.ChannelCredentials) => HealthClient } } } };
let dependencyUp = true;

const key = importKey(randomBytes(32), ['HS256']);
const auth = jwtAuth({ keys: [key], claims: Type.Object({ uid: Type.Integer() }) });
const logged: unknown[] = [];
const accessLines: Array<Record<string, unknown>> = [];

let app: App;
let registry: ReturnType<typeof metrics>;
let port: number;
let client: Client;
beforeAll(async () => {
  const { TestService } = await interopServices();
  app = createApp({ onError: (err) => logged.push(err) });
  app.use(accessLog({ logger: pino({ base: null }, { write: (s: string) => void accessLines.push(JSON.parse(s) as Record<string, unknown>) }) }));
  app.use(cors({ origin: 'https://web.example', exposedHeaders: ['grpc-status', 'grpc-message'] }));
  registry = metrics(app, { defaultMetrics: false });
  // A clock that stands still: 1001 calls on a slow run must not straddle a window's end (they did once, under coverage).
  app.use(rateLimit({ limiter: new MemoryLimiter({ kind: 'fixed-window', limit: 1000, windowMs: 60_000 }, { now: () => 1_000_000 }), key: (ctx) => ctx.req.get('x-client') ?? 'anon' }));
  health(app, { checks: { dependency: () => { if (!dependencyUp) throw new Error('down'); } } });
  app.grpc(
    TestService,
    {
      ...testServiceImpl,
      // EmptyCall tells who called, through the app context the deps filled.
      EmptyCall: async (_req: unknown, call: ServerCall) => {
        const claims = await contextOf(call).use(auth);
        call.trailers.set('x-uid', String(claims.uid));
        return {};
      },
      UnaryCall: (req: { response_size: number }, call: ServerCall) => {
        if (req.response_size === 404) throw new HttpError(404, { detail: 'no such payload' });
        if (req.response_size === 500) throw new Error('database password is hunter2');
        return testServiceImpl.UnaryCall(req as Parameters<typeof testServiceImpl.UnaryCall>[0], call);
      },
    },
    { deps: [auth], reflection: true },
  );
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  port = (server.address() as { port: number }).port;
  client = new testing.TestService(`127.0.0.1:${port}`, grpcJs.credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  await app?.close(0);
});

const md = (token?: string, clientId?: string) => {
  const m = new grpcJs.Metadata();
  if (token !== undefined) m.set('authorization', `Bearer ${token}`);
  if (clientId !== undefined) m.set('x-client', clientId);
  return m;
};
const call = (name: 'UnaryCall' | 'EmptyCall', req: object, m: grpcJs.Metadata) =>
  new Promise<{ err: grpcJs.ServiceError | null; value?: Record<string, unknown>; trailers?: grpcJs.Metadata }>((resolve) => {
    let trailers: grpcJs.Metadata | undefined;
    const c = client[name](req, m, (err, value) => setImmediate(() => resolve({ err, value, trailers })));
    (c as unknown as grpcJs.ClientUnaryCall).on('status', (s: grpcJs.StatusObject) => (trailers = s.metadata));
  });

describe('gRPC in an app', () => {
  it('logs each call with its request id (the client\'s x-request-id echoed in the headers), method path and HTTP status', async () => {
    const m = md(signJwt({ uid: 7 }, key, { expiresIn: 60 }));
    m.set('x-request-id', 'grpc-req-42');
    let headers: grpcJs.Metadata | null = null;
    await new Promise<void>((resolve) => {
      const c = client.EmptyCall({}, m, () => setImmediate(resolve)) as unknown as grpcJs.ClientUnaryCall;
      c.on('metadata', (h: grpcJs.Metadata) => (headers = h));
    });
    expect(headers!.get('x-request-id')).toEqual(['grpc-req-42']);
    await expect.poll(() => accessLines.find((l) => l.reqId === 'grpc-req-42')).toMatchObject({ method: 'POST', path: '/grpc.testing.TestService/EmptyCall', status: 200, msg: 'request' });
  });

  it('serves gRPC and HTTP on one port', async () => {
    const token = signJwt({ uid: 7 }, key, { expiresIn: 60 });
    const r = await call('UnaryCall', { response_size: 10 }, md(token));
    expect(r.err).toBeNull();
    expect((r.value!.payload as { body: Buffer }).body.length).toBe(10);
    const live = await fetch(`http://127.0.0.1:${port}/health`);
    expect((await live.json()) as object).toMatchObject({ status: 'ok' });
  });

  it("the route's deps run first: no token is UNAUTHENTICATED, and the handler reads the claims through contextOf", async () => {
    const anon = await call('EmptyCall', {}, md());
    expect([anon.err?.code, anon.err?.details]).toEqual([grpcJs.status.UNAUTHENTICATED, 'authentication required']);
    const ok = await call('EmptyCall', {}, md(signJwt({ uid: 42 }, key, { expiresIn: 60 })));
    expect(ok.err).toBeNull();
    expect(ok.trailers?.get('x-uid')).toEqual(['42']);
  });

  it('errors mean their gRPC status: HttpError 404 → NOT_FOUND with its detail; a crash → INTERNAL without its text, logged', async () => {
    const token = signJwt({ uid: 7 }, key, { expiresIn: 60 });
    const nf = await call('UnaryCall', { response_size: 404 }, md(token));
    expect([nf.err?.code, nf.err?.details]).toEqual([grpcJs.status.NOT_FOUND, 'no such payload']);
    logged.length = 0;
    const crash = await call('UnaryCall', { response_size: 500 }, md(token));
    expect([crash.err?.code, crash.err?.details]).toEqual([grpcJs.status.INTERNAL, 'internal error']);
    expect(JSON.stringify(crash.err?.metadata.getMap())).not.toContain('hunter2');
    expect(logged).toEqual([new Error('database password is hunter2')]); // the app's onError has it
  });

  it("the app's middleware answers in gRPC too: a rate limit is RESOURCE_EXHAUSTED", async () => {
    const token = signJwt({ uid: 7 }, key, { expiresIn: 60 });
    let last: grpcJs.ServiceError | null = null;
    for (let i = 0; i < 1001; i++) last = (await call('UnaryCall', { response_size: 1 }, md(token, 'greedy'))).err;
    expect(last?.code).toBe(grpcJs.status.RESOURCE_EXHAUSTED);
  });
});

describe('the health service, wired to the readiness checks', () => {
  it('Check: SERVING while ready, NOT_SERVING when a check fails, NOT_FOUND for an unknown service — with no token', async () => {
    const h = new healthPkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpcJs.credentials.createInsecure());
    const check = (service: string) => new Promise<{ err: grpcJs.ServiceError | null; status?: string }>((resolve) => h.Check({ service }, (err, v) => resolve({ err, status: v?.status })));
    try {
      expect(await check('')).toEqual({ err: null, status: 'SERVING' });
      expect(await check('grpc.testing.TestService')).toEqual({ err: null, status: 'SERVING' });
      expect((await check('no.Such')).err?.code).toBe(grpcJs.status.NOT_FOUND);
      dependencyUp = false;
      expect(await check('')).toEqual({ err: null, status: 'NOT_SERVING' });
      expect(await check('grpc.testing.TestService')).toEqual({ err: null, status: 'NOT_SERVING' });
    } finally {
      dependencyUp = true;
      h.close();
    }
  });

  it('Watch: the status now, then each change', async () => {
    const h = new healthPkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpcJs.credentials.createInsecure());
    try {
      const stream = h.Watch({ service: '' });
      const seen: string[] = [];
      stream.on('data', (m: { status: string }) => seen.push(m.status));
      stream.on('error', () => {});
      await expect.poll(() => seen).toEqual(['SERVING']);
      dependencyUp = false;
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(['SERVING', 'NOT_SERVING']);
      stream.cancel();
    } finally {
      dependencyUp = true;
      h.close();
    }
  });
});

describe('gRPC-Web from another origin, through the app (CORS)', () => {
  it('the preflight is answered for the gRPC-Web headers, and the call carries the CORS headers', async () => {
    const pre = await fetch(`http://127.0.0.1:${port}/grpc.testing.TestService/EmptyCall`, {
      method: 'OPTIONS',
      headers: { origin: 'https://web.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-grpc-web,x-user-agent,authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://web.example');
    expect(pre.headers.get('access-control-allow-headers')).toContain('x-grpc-web');
    const token = signJwt({ uid: 5 }, key, { expiresIn: 60 });
    const r = await fetch(`http://127.0.0.1:${port}/grpc.testing.TestService/EmptyCall`, {
      method: 'POST',
      headers: { origin: 'https://web.example', 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', authorization: `Bearer ${token}` },
      body: encodeEnvelope(Buffer.alloc(0)),
    });
    expect(r.headers.get('access-control-allow-origin')).toBe('https://web.example');
    const body = Buffer.from(await r.arrayBuffer());
    expect(body.toString('latin1')).toContain('grpc-status:0\r\nx-uid:5\r\n');
    // Without the token, the dependency's 401 is UNAUTHENTICATED — in the gRPC-Web answer's headers, readable through exposedHeaders.
    const anon = await fetch(`http://127.0.0.1:${port}/grpc.testing.TestService/EmptyCall`, { method: 'POST', headers: { origin: 'https://web.example', 'content-type': 'application/grpc-web+proto' }, body: encodeEnvelope(Buffer.alloc(0)) });
    expect([anon.status, anon.headers.get('content-type'), anon.headers.get('grpc-status'), anon.headers.get('access-control-expose-headers')]).toEqual([200, 'application/grpc-web+proto', '16', 'grpc-status, grpc-message']);
  });
});

describe('metrics per gRPC method and status', () => {
  it('counts calls by service, method and status code, and times them (the HTTP status says 200 for all)', async () => {
    const token = signJwt({ uid: 7 }, key, { expiresIn: 60 });
    await call('UnaryCall', { response_size: 404 }, md(token));
    await call('UnaryCall', { response_size: 2 }, md(token));
    await call('EmptyCall', {}, md()); // refused by the dependency, before the handler
    const text = await registry.metrics();
    expect(text).toMatch(/grpc_server_handled_total\{grpc_service="grpc.testing.TestService",grpc_method="EmptyCall",grpc_code="UNAUTHENTICATED"\} [1-9]/);
    expect(text).toMatch(/grpc_server_handled_total\{grpc_service="grpc.testing.TestService",grpc_method="UnaryCall",grpc_code="NOT_FOUND"\} [1-9]/);
    expect(text).toMatch(/grpc_server_handled_total\{grpc_service="grpc.testing.TestService",grpc_method="UnaryCall",grpc_code="OK"\} [1-9]/);
    expect(text).toMatch(/grpc_server_handling_seconds_count\{grpc_service="grpc.testing.TestService",grpc_method="UnaryCall"\} [1-9]/);
  });
});

describe('reflection in an app', () => {
  it("lists the app's gRPC services (health and reflection included), without the services' deps", async () => {
    type Reflection = grpcJs.Client & { ServerReflectionInfo(): grpcJs.ClientDuplexStream<object, { list_services_response?: { service: Array<{ name: string }> } }> };
    const pkg = grpcJs.loadPackageDefinition(protoLoader.loadSync(join(import.meta.dirname, '../grpc/reflection.proto'), { keepCase: true, oneofs: true })) as unknown as { grpc: { reflection: { v1: { ServerReflection: new (a: string, c: grpcJs.ChannelCredentials) => Reflection } } } };
    const r = new pkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${port}`, grpcJs.credentials.createInsecure());
    try {
      const call = r.ServerReflectionInfo();
      const answer = new Promise<string[]>((resolve, reject) => {
        call.on('data', (m: { list_services_response?: { service: Array<{ name: string }> } }) => resolve(m.list_services_response!.service.map((x) => x.name)));
        call.on('error', reject);
      });
      call.write({ list_services: '' });
      call.end();
      expect(await answer).toEqual(['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection', 'grpc.testing.TestService']);
    } finally {
      r.close();
    }
  });
});

describe('the HTTP → gRPC status table', () => {
  it('maps each HTTP status an app error carries, and keeps client-facing text only', () => {
    const table: Array<[number, number]> = [[400, Status.INVALID_ARGUMENT], [422, Status.INVALID_ARGUMENT], [401, Status.UNAUTHENTICATED], [403, Status.PERMISSION_DENIED], [404, Status.NOT_FOUND], [408, Status.DEADLINE_EXCEEDED], [504, Status.DEADLINE_EXCEEDED], [409, Status.ALREADY_EXISTS], [412, Status.FAILED_PRECONDITION], [413, Status.RESOURCE_EXHAUSTED], [429, Status.RESOURCE_EXHAUSTED], [501, Status.UNIMPLEMENTED], [503, Status.UNAVAILABLE], [418, Status.FAILED_PRECONDITION], [500, Status.INTERNAL], [502, Status.INTERNAL]];
    for (const [http, code] of table) expect([http, statusForHttp(http)]).toEqual([http, code]);
    expect(grpcErrorOf(new HttpError(404, { detail: 'no note 7' }))).toEqual(new GrpcError(Status.NOT_FOUND, 'no note 7'));
    expect(grpcErrorOf(new HttpError(500, { detail: 'secret internals' }))).toEqual(new GrpcError(Status.INTERNAL, 'internal error'));
    expect(grpcErrorOf(new HttpError(409))?.message).toBe('Conflict'); // the status text when no detail
    const pool = grpcErrorOf(new PoolTimeoutError(2000, 10, 5)); // an error that says what to answer (toProblem)
    expect(pool?.code).toBe(Status.UNAVAILABLE);
    expect(grpcErrorOf(new Error('plain'))).toBeUndefined();
    const own = new GrpcError(Status.ABORTED, 'mine');
    expect(grpcErrorOf(own)).toBe(own);
  });

  it('contextOf a call not served by an app says so', () => {
    expect(() => contextOf({ request: {} } as unknown as Parameters<typeof contextOf>[0])).toThrow('contextOf: this call was not served by an app (createGrpcServer serves without one)');
  });
});
