import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { accessLog, createApp, HttpError } from '../../lib/app/index.js';

function logged() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ base: null }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { lines, logger };
}

describe('accessLog', () => {
  it('logs one JSON line per request with the route pattern, status and time, at a level by status', async () => {
    const { lines, logger } = logged();
    const app = createApp();
    app.config.onError = () => {};
    app.use(accessLog({ logger }));
    app.get('/notes/{id:int}', (ctx) => {
      if (ctx.params.id === 0) throw new HttpError(404);
      if (ctx.params.id === 13) throw new Error('boom');
      return { id: ctx.params.id, reqId: ctx.state.requestId };
    });
    const ok = await app.inject({ url: '/notes/5' });
    await app.inject({ url: '/notes/0' });
    await app.inject({ url: '/notes/13' });
    await app.inject({ url: '/elsewhere' });
    expect(lines.map((l) => [l.level, l.route, l.status, l.msg])).toEqual([
      [30, '/notes/{id:int}', 200, 'request'],
      [40, '/notes/{id:int}', 404, 'request'],
      [50, '/notes/{id:int}', 500, 'request'],
      [40, null, 404, 'request'],
    ]);
    expect(lines[0]).toMatchObject({ method: 'GET', path: '/notes/5' });
    expect(typeof lines[0]!.ms).toBe('number');
    // The ID is generated, echoed, visible to the handler, and logged.
    const id = ok.headers['x-request-id']!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ok.json<{ reqId: string }>().reqId).toBe(id);
    expect(lines[0]!.reqId).toBe(id);
  });

  it('reuses a plausible client ID, replaces an implausible one, and ignores it when untrusted', async () => {
    const { lines, logger } = logged();
    const app = createApp();
    app.use(accessLog({ logger }));
    app.get('/', () => 'x');
    expect((await app.inject({ url: '/', headers: { 'x-request-id': 'lb-42.7' } })).headers['x-request-id']).toBe('lb-42.7');
    const bad = await app.inject({ url: '/', headers: { 'x-request-id': 'a b\u0000{"inject":1}' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const strict = createApp();
    strict.use(accessLog({ logger, trustClientId: false }));
    strict.get('/', () => 'x');
    expect((await strict.inject({ url: '/', headers: { 'x-request-id': 'lb-42.7' } })).headers['x-request-id']).not.toBe('lb-42.7');
    expect(lines).toHaveLength(3);
  });
});
