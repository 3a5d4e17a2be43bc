import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accessLog, createApp } from '../../lib/app/index.js';

/** A pino logger whose JSON lines are collected. */
function capture(): { logger: ReturnType<typeof pino>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const out = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, out), lines };
}

afterEach(() => vi.restoreAllMocks());

describe('logging', () => {
  it('ctx.log is a child logger carrying the request id; the access log line has the same id', async () => {
    const { logger, lines } = capture();
    const app = createApp({ logger });
    app.use(accessLog());
    app.get('/hello', (ctx) => {
      ctx.log.info({ who: 'ann' }, 'saying hello');
      return 'hi';
    });
    const r = await app.inject({ url: '/hello', headers: { 'x-request-id': 'req-42' } });
    expect(r.headers['x-request-id']).toBe('req-42');
    await new Promise((res) => setImmediate(res));
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([['saying hello', 'req-42'], ['request', 'req-42']]);
    expect(lines[0]).toMatchObject({ level: 30, who: 'ann' });
    expect(lines[1]).toMatchObject({ status: 200, route: '/hello' });
  });

  it('a 5xx is logged once, as JSON with err (stack and cause) and the request id — nothing on the console', async () => {
    const { logger, lines } = capture();
    const consoleError = vi.spyOn(console, 'error');
    const app = createApp({ logger });
    app.get('/boom/{id:int}', () => {
      throw new Error('the database said no', { cause: new Error('connection reset') });
    });
    const r = await app.inject({ url: '/boom/7' });
    expect(r.status).toBe(500);
    await new Promise((res) => setImmediate(res));
    expect(lines).toHaveLength(1);
    const line = lines[0]! as { level: number; reqId: string; msg: string; method: string; path: string; route: string; err: { message: string; stack: string; cause?: { message: string } } };
    expect(line).toMatchObject({ level: 50, msg: 'request failed', method: 'GET', path: '/boom/7', route: '/boom/{id:int}' });
    expect(line.reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(line.err.message).toMatch(/^the database said no/); // pino appends the causes' messages
    expect(line.err.stack).toMatch(/the database said no\n\s+at /);
    expect(JSON.stringify(line.err)).toContain('connection reset');
    expect(consoleError).not.toHaveBeenCalled();
  });

  it('logger: false (as in Fastify) logs nothing and still answers: ctx.log works, a 5xx is a 500, onError still hears it', async () => {
    const seen: unknown[] = [];
    const quiet = createApp({ logger: false });
    const told = createApp({ logger: false, onError: (err) => seen.push(err) });
    let enabled: boolean | undefined;
    for (const app of [quiet, told]) {
      app.get('/boom', (ctx) => {
        ctx.log.info('not written');
        enabled = (ctx.log as ReturnType<typeof pino>).isLevelEnabled('fatal');
        throw new Error('secret detail');
      });
      const r = await app.inject({ url: '/boom' });
      expect(r.status).toBe(500);
      expect(r.text()).not.toContain('secret detail');
      expect(enabled).toBe(false);
    }
    expect(seen).toHaveLength(1);
  });
});
