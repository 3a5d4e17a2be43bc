/**
 * OpenTelemetry tracing with the real SDK (BasicTracerProvider, AsyncLocalStorage context, W3C
 * propagator) and its in-memory exporter; then with an OTLP/HTTP exporter posting to a collector
 * stand-in on loopback. Real clients (fetch over HTTP/1.1, node:http2, the `ws` library), the real
 * PostgreSQL and Redis: the request's server span continues the caller's trace, and the router match,
 * database query, cache read, Redis commands and the job's enqueue are its children; the job's run, in
 * a worker, is a consumer span of the same trace.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Type } from '@sinclair/typebox';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, disableTracing, testClient, traceparentHeader, tracing, type TestClient } from '../../lib/app/index.js';
import { Cache, RedisBackend } from '../../lib/app/cache/index.js';
import { createJobs } from '../../lib/app/jobs/index.js';
import { testDb, testMysql, testSqlite, type TestDb } from './db/helpers.js';
import { REDIS_URL } from './auth/helpers.js';
import { waitFor } from '../helpers/wait-for.js';

import '../../lib/app/grpc/index.js';
import { GrpcClient, GrpcError, method, Status } from '../../lib/grpc/index.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const incoming = { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=opaque' };

const memory = new InMemorySpanExporter();
const collected: Array<{ path: string; type: string; body: unknown }> = [];
let collector: http.Server;
let provider: BasicTracerProvider;
let t: TestDb;
let redis: Redis;
let client: TestClient;
const prefix = `test:tracing:${process.pid}:`;

beforeAll(async () => {
  // The collector stand-in: OTLP/HTTP with JSON bodies, as the exporter sends them.
  collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      collected.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body: JSON.parse(body) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const otlp = new OTLPTraceExporter({ url: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces` });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory), new SimpleSpanProcessor(otlp)] });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());

  t = await testDb('postgres');
  redis = new Redis(REDIS_URL);
  const cache = new Cache({ backend: new RedisBackend(redis, { prefix: `${prefix}cache:` }) });
  const jobs = createJobs(redis, { prefix: `${prefix}jobs:` });
  const seen: string[] = [];
  const notify = jobs.define('notify', Type.Object({ id: Type.Integer() }), async (p) => {
    await t.db.query('select $1::int as id', [p.id]); // a child of the job's run
    seen.push(String(p.id));
  });
  const app = createApp({ logger: pino({ level: 'silent' }) }); // the 500 below is on purpose
  tracing(app, { traceResponse: true, ignore: (path) => path === '/health' });
  app.get('/health', () => 'ok');
  app.get('/notes/{id:int}', async (ctx) => {
    const note = await cache.getOrSet(`note:${ctx.params.id}`, async () => (await t.db.query<{ id: number; text: string }>("select $1::int as id, 'hello' as text", [ctx.params.id])).rows[0]!, { ttl: 60_000 });
    await notify.enqueue({ id: ctx.params.id });
    return { ...note, out: traceparentHeader() };
  });
  app.get('/boom', () => {
    throw new Error('kaput');
  });
  app.ws('/live', { open: (ws) => ws.on('message', (data) => ws.send(data)) });
  const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown };
  app.grpc({ Get: method('/notes.v1.Notes/Get', 'unary', json, json) }, { Get: (v: unknown) => ((v as { id: number }).id === 0 ? Promise.reject(new GrpcError(Status.UNAVAILABLE, 'down')) : v) });
  client = await testClient(app);
  const worker = jobs.work({ pollMs: 20, onError: () => {} });
  afterAll(async () => {
    await worker.stop();
    expect(seen.length).toBeGreaterThan(0);
  });
}, 30_000);

afterAll(async () => {
  await client.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await t.drop();
  disableTracing();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
  await new Promise((r) => collector.close(r));
});

beforeEach(() => memory.reset());

const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;
const byName = (name: string | RegExp): ReadableSpan[] => memory.getFinishedSpans().filter((s) => (typeof name === 'string' ? s.name === name : name.test(s.name)));

describe('tracing with the OpenTelemetry SDK', () => {
  it('gRPC: the server span follows the RPC conventions — named package.Service/Method, rpc.* attributes, the status code; server faults are errors', async () => {
    const grpc = new GrpcClient(client.url, { retry: false });
    try {
      const Get = method('/notes.v1.Notes/Get', 'unary', { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown }, { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown });
      expect(await grpc.unary(Get, { id: 1 })).toEqual({ id: 1 });
      await expect(grpc.unary(Get, { id: 0 })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
      await waitFor(() => byName('notes.v1.Notes/Get').length === 2);
      const [ok, failed] = byName('notes.v1.Notes/Get');
      expect(ok!.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'notes.v1.Notes', 'rpc.method': 'Get', 'rpc.grpc.status_code': 0, 'http.route': '/notes.v1.Notes/Get' });
      expect(ok!.status.code).toBe(0); // unset
      expect(failed!.attributes['rpc.grpc.status_code']).toBe(Status.UNAVAILABLE);
      expect([failed!.status.code, failed!.status.message]).toEqual([2, 'UNAVAILABLE']); // ERROR
    } finally {
      await grpc.close();
    }
  });

  it('HTTP/1.1: the server span continues the caller\'s trace; router, cache, query, Redis and enqueue are its children; the job runs in the same trace', async () => {
    const r = await fetch(`${client.url}/notes/7`, { headers: incoming });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { out: Record<string, string> };
    await waitFor(() => byName('process default').length === 1, 10_000, 'the job run span');
    const [server] = byName('GET /notes/{id:int}');
    expect(server).toBeDefined();
    expect(server!.kind).toBe(SpanKind.SERVER);
    expect(server!.spanContext().traceId).toBe(TRACE);
    expect(parentOf(server!)).toBe(PARENT);
    expect(server!.spanContext().traceState?.get('vendor')).toBe('opaque');
    expect(server!.attributes).toMatchObject({ 'http.request.method': 'GET', 'url.path': '/notes/7', 'http.route': '/notes/{id:int}', 'http.response.status_code': 200, 'network.protocol.version': '1.1', 'client.address': '127.0.0.1' });
    // The caller can find its trace: the response names it, and an outgoing call from the handler carries it.
    expect(r.headers.get('traceresponse')).toBe(`00-${TRACE}-${server!.spanContext().spanId}-01`);
    expect(body.out.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    expect(body.out.tracestate).toBe('vendor=opaque');
    const id = server!.spanContext().spanId;
    const [route] = byName('route');
    expect(parentOf(route!)).toBe(id);
    const [cacheSpan] = byName('cache get');
    expect(parentOf(cacheSpan!)).toBe(id);
    expect(cacheSpan!.attributes['cache.hit']).toBe(false);
    const query = byName(/^SELECT /).find((s) => parentOf(s) === cacheSpan!.spanContext().spanId);
    expect(query, 'the load\'s query is a child of the cache read').toBeDefined();
    expect(query!.kind).toBe(SpanKind.CLIENT);
    expect(query!.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', 'db.query.text': "select $1::int as id, 'hello' as text", 'db.namespace': t.name, 'server.port': 5432 });
    expect(byName('HMGET').every((s) => s.attributes['db.system.name'] === 'redis' && s.spanContext().traceId === TRACE)).toBe(true);
    expect(byName('MULTI')).toHaveLength(1);
    const [send] = byName('send default');
    expect(send!.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(send!)).toBe(id);
    expect(byName('EVALSHA jobs enqueue').map(parentOf)).toEqual([send!.spanContext().spanId]);
    const [run] = byName('process default');
    expect(run!.kind).toBe(SpanKind.CONSUMER);
    expect(run!.spanContext().traceId).toBe(TRACE);
    expect(parentOf(run!)).toBe(send!.spanContext().spanId);
    expect(run!.attributes).toMatchObject({ 'messaging.destination.name': 'default', 'covet.job.name': 'notify', 'covet.job.attempt': 1, 'messaging.message.id': send!.attributes['messaging.message.id'] });
    expect(byName(/^SELECT /).some((s) => parentOf(s) === run!.spanContext().spanId)).toBe(true);
    // A second read is a hit: no query under it.
    memory.reset();
    await fetch(`${client.url}/notes/7`);
    await waitFor(() => byName('GET /notes/{id:int}').length === 1);
    expect(byName('cache get')[0]!.attributes['cache.hit']).toBe(true);
    expect(byName('GET /notes/{id:int}')[0]!.spanContext().traceId).not.toBe(TRACE); // no traceparent: a new trace
  });

  it('HTTP/2 (node:http2): the same server span, protocol version 2', async () => {
    const r = await client.h2('/notes/8', { headers: incoming });
    expect(r.status).toBe(200);
    await waitFor(() => byName('GET /notes/{id:int}').length === 1);
    const [server] = byName('GET /notes/{id:int}');
    expect(server!.attributes['network.protocol.version']).toBe('2');
    expect(server!.spanContext().traceId).toBe(TRACE);
    expect(parentOf(server!)).toBe(PARENT);
  });

  it('a WebSocket upgrade (the ws library) is a span with status 101; a refused one carries its status', async () => {
    const ws = new WebSocket(`${client.url.replace('http', 'ws')}/live`, { headers: incoming });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.close();
    await waitFor(() => byName('GET /live').length === 1);
    const [up] = byName('GET /live');
    expect(up!.attributes).toMatchObject({ 'http.response.status_code': 101, 'network.protocol.name': 'websocket', 'http.route': '/live' });
    expect(up!.spanContext().traceId).toBe(TRACE);
    const refused = new WebSocket(`${client.url.replace('http', 'ws')}/nowhere`);
    await new Promise((resolve) => refused.once('error', resolve));
    await waitFor(() => byName('GET').length === 1);
    expect(byName('GET')[0]!.attributes['http.response.status_code']).toBe(404);
  });

  it('a 5xx marks the span as an error with the exception; a 404 keeps the method as its name; ignored paths make no span', async () => {
    expect((await fetch(`${client.url}/boom`)).status).toBe(500);
    expect((await fetch(`${client.url}/no/such`)).status).toBe(404);
    expect((await fetch(`${client.url}/health`)).status).toBe(200);
    await waitFor(() => byName('GET /boom').length === 1 && byName('GET').length === 1);
    const [boom] = byName('GET /boom');
    expect(boom!.status.code).toBe(SpanStatusCode.ERROR);
    expect(boom!.attributes['http.response.status_code']).toBe(500);
    const [miss] = byName('GET');
    expect(miss!.status.code).toBe(SpanStatusCode.UNSET);
    expect(miss!.attributes['http.route']).toBeUndefined();
    expect(byName('route').map((s) => s.attributes['http.route.matched'])).toEqual([true, false]);
    expect(memory.getFinishedSpans().filter((s) => s.attributes['url.path'] === '/health')).toEqual([]);
  });

  it('without a registered propagator, covet reads traceparent itself (W3C Trace Context); malformed ones start a new trace', async () => {
    propagation.disable();
    try {
      await fetch(`${client.url}/notes/9`, { headers: incoming });
      await fetch(`${client.url}/notes/9`, { headers: { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` } }); // all-zero trace id: invalid
      await fetch(`${client.url}/notes/9`, { headers: { traceparent: `ff-${TRACE}-${PARENT}-01` } }); // version ff: invalid
      await waitFor(() => byName('GET /notes/{id:int}').length === 3);
      const [a, b, c] = byName('GET /notes/{id:int}');
      expect([a!.spanContext().traceId, parentOf(a!)]).toEqual([TRACE, PARENT]);
      expect(b!.spanContext().traceId).not.toBe(TRACE);
      expect(parentOf(b!)).toBeUndefined();
      expect(parentOf(c!)).toBeUndefined();
    } finally {
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
  });

  it('the OTLP/HTTP exporter delivers the spans to a collector on loopback', async () => {
    collected.length = 0;
    await fetch(`${client.url}/notes/10`, { headers: incoming });
    await waitFor(() => byName('GET /notes/{id:int}').length === 1);
    await provider.forceFlush();
    await waitFor(() => collected.length > 0, 10_000, 'an OTLP export');
    const spans = collected.flatMap((c) => (c.body as { resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: Array<{ name: string; traceId: string; kind: number; attributes: Array<{ key: string; value: { stringValue?: string } }> }> }> }> }).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((sp) => ({ ...sp, scope: s.scope.name })))));
    expect(collected.every((c) => c.path === '/v1/traces' && c.type.startsWith('application/json'))).toBe(true);
    // This test's request (spans of earlier tests may still be arriving).
    const server = spans.find((s) => s.name === 'GET /notes/{id:int}' && s.attributes.some((a) => a.key === 'url.path' && a.value.stringValue === '/notes/10'));
    expect(server).toMatchObject({ traceId: TRACE, kind: 2, scope: 'covet' }); // 2: SPAN_KIND_SERVER
    expect(spans.some((s) => s.name === 'route' && s.traceId === TRACE)).toBe(true);
  });

  it('every database makes client spans under the active span: PGlite, SQLite, MariaDB', async () => {
    const pglite = await testDb('pglite');
    const sqlite = testSqlite();
    const mysql = await testMysql();
    const tracer = trace.getTracer('test');
    try {
      await tracer.startActiveSpan('work', async (span) => {
        await pglite.db.query('select 1 as x');
        await sqlite.db.query('select 2 as x');
        await mysql.db.query('select 3 as x');
        await expect(sqlite.db.query('select * from nowhere')).rejects.toThrow();
        span.end();
      });
      const [work] = byName('work');
      const children = memory.getFinishedSpans().filter((s) => parentOf(s) === work!.spanContext().spanId);
      expect(children.map((s) => [s.name, s.attributes['db.system.name'], s.attributes['db.query.text']])).toEqual([
        ['SELECT', 'postgresql', 'select 1 as x'],
        ['SELECT', 'sqlite', 'select 2 as x'],
        ['SELECT', 'mysql', 'select 3 as x'],
        ['SELECT', 'sqlite', 'select * from nowhere'],
      ]);
      expect(children[3]!.status.code).toBe(SpanStatusCode.ERROR);
      expect(children[3]!.events.map((e) => e.name)).toEqual(['exception']);
    } finally {
      await pglite.drop();
      await sqlite.drop();
      await mysql.drop();
    }
  });
});
